// Command igemoji runs IGE MOJI. main only wires: configuration and the
// logger are built once here and passed down.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal asks for a clean stop; a second one kills, as
		// it would without this handler.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "igemoji: interrupted")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "igemoji:", err)
		os.Exit(exitCode(err))
	}
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ error }

// parseFlags parses a subcommand's flags, before or after its other
// arguments (`igemoji analyze photo.jpg --json`; after "--" everything is an
// argument): --help passes through as flag.ErrHelp (exit 0), any other
// mistake is a usage error (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err}
		}
		left := fs.Args()
		if len(left) == 0 {
			break
		}
		if n := len(args) - len(left); n > 0 && args[n-1] == "--" {
			rest = append(rest, left...)
			break
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
	return fs.Parse(append([]string{"--"}, rest...))
}

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

const usage = `igemoji: paste the matching emoji on every face in a photo.

Usage:
  igemoji serve [flags]     run the web service (igemoji serve --help for flags)
  igemoji worker [flags]    run task workers against MySQL and Redis (same flags)
  igemoji analyze [--json] [--face-crop] IMAGE...
                            find the faces and read their expressions
  igemoji emojify --template NAME|ID -o OUT IMAGE
                            paste the template's emoji on every face
  igemoji eval-expressions [flags] MANIFEST.csv
                            accuracy, macro recall and confusion on labelled faces
  igemoji assets [--assets DIR]
                            build derived assets from the fetched npm packages
                            (the built-in templates' PNGs); run by make assets
  igemoji version           print the version
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr)
	case "worker":
		return worker(ctx, args[1:], getenv, stderr)
	case "analyze":
		return analyze(ctx, args[1:], getenv, stdout, stderr)
	case "emojify":
		return emojify(ctx, args[1:], getenv, stdout, stderr)
	case "bench-vision":
		return benchVision(ctx, args[1:], getenv, stdout, stderr)
	case "eval-expressions":
		return evalExpressions(ctx, args[1:], getenv, stdout, stderr)
	case "assets":
		return buildAssets(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "igemoji", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Errorf("unknown command %q", args[0])}
	}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"
