package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/igemoji/igemoji/server"
	"github.com/igemoji/igemoji/shared/builtin"
	"github.com/igemoji/igemoji/shared/config"
	"github.com/igemoji/igemoji/shared/disk"
	"github.com/igemoji/igemoji/shared/store"
	"github.com/igemoji/igemoji/web"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load("igemoji serve", args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	} else if err != nil {
		return usageError{err}
	}
	log := cfg.Logger(stderr)

	secret, err := cfg.Secret()
	if err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := store.Open(openCtx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	blobs, err := disk.New(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		return err
	}
	srv := server.New(cfg, log, db, blobs, secret, web.Handler())

	if missing, err := srv.BuiltinsMissing(openCtx, builtin.Keys()); err != nil {
		return err
	} else if missing {
		sets, err := builtin.ReadRendered(filepath.Join(cfg.AssetsDir, "emoji"))
		if err != nil {
			return err
		}
		if err := srv.SeedBuiltins(openCtx, sets); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	// Tests and scripts that ask for port 0 read the real address here.
	log.Info("listening", "addr", ln.Addr().String(), "url", "http://"+displayAddr(ln.Addr()),
		"database", string(db.Dialect()), "data", cfg.DataDir)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func displayAddr(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok && (t.IP == nil || t.IP.IsUnspecified()) {
		return fmt.Sprintf("localhost:%d", t.Port)
	}
	return a.String()
}
