package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/igemoji/igemoji/server"
	"github.com/igemoji/igemoji/shared/builtin"
)

// assets renders what the binary needs from the fetched npm packages.
func assets(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("igemoji assets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("assets", "./.cache", "assets folder: reads npm/, writes emoji/")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err}
	}
	out := filepath.Join(*dir, "emoji")
	if err := builtin.Render(filepath.Join(*dir, "npm"), out, server.EmojiSize); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rendered %d built-in templates into %s\n", len(builtin.Keys()), out)
	return nil
}
