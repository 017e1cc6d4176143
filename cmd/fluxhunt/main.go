// Command fluxhunt hunts botnet command-and-control hidden behind DNS
// (fast flux, DGAs, NXDOMAIN storms) in a Splunk deployment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/fluxhunt/fluxhunt/config"
)

// Exit codes (DESIGN.md).
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

// env is what a command gets from main: its arguments and streams. Tests
// call commands through it without a process.
type env struct {
	args    []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env) int
}

func commands() []command {
	return []command{
		{"run", "the daemon: poll Splunk, detect, probe, write detections through HEC", cmdRun},
		{"check", "validate the config, then check Splunk search, HEC and DNS resolvers", cmdCheck},
		{"score", "score domain names for being algorithmically generated (DGA)", cmdScore},
		{"probe", "re-resolve domains and classify fast flux", cmdProbe},
		{"scan", "offline: detect DGA and NXDOMAIN storms in Zeek dns.log or DNS rows", cmdScan},
		{"hec", "hec send: send JSON events through the spool and HEC writer", cmdHEC},
		{"lab", "the embedded demo world: Splunk emulator, DNS lab, the real pipeline", cmdLab},
		{"version", "print version, commit, schema version, model version", cmdVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(dispatch(ctx, &env{args: os.Args[1:], stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()}))
}

func dispatch(ctx context.Context, e *env) int {
	if len(e.args) == 0 || e.args[0] == "-h" || e.args[0] == "--help" || e.args[0] == "help" {
		usage(e.stderr)
		if len(e.args) == 0 {
			return exitConfig
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == e.args[0] {
			sub := *e
			sub.args = e.args[1:]
			return c.run(ctx, &sub)
		}
	}
	fmt.Fprintf(e.stderr, "fluxhunt: unknown command %q\n", e.args[0])
	usage(e.stderr)
	return exitConfig
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: fluxhunt COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'fluxhunt COMMAND -h' for a command's flags.")
}

// newFlagSet makes a flag set that reports errors on e.stderr and never exits.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("fluxhunt "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: fluxhunt %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses and maps errors to exit codes: -1 means go on.
func parseFlags(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig
	}
	return -1
}

// loadConfig loads FILE (may be empty: defaults and environment only) with
// flag overrides, logging warnings. On error it prints the error and returns
// nil.
func loadConfig(e *env, file string, overrides map[string]string, log *slog.Logger) *config.Config {
	res, err := config.Load(config.Options{File: file, Environ: e.environ, Overrides: overrides})
	if err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt: %v\n", err)
		return nil
	}
	for _, w := range res.Warnings {
		log.Warn(w)
	}
	return &res.Config
}

// newLogger makes the process logger on stderr.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
