package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
)

// checkResult is one line of `fluxhunt check`.
type checkResult struct {
	Name   string
	OK     bool
	Detail string // OK: detail; FAIL: reason. Never a secret.
}

// checker runs the checks of one part; it returns no result when the part is
// not configured.
type checker func(ctx context.Context, cfg *config.Config, log *slog.Logger) []checkResult

// checkers lists the checks in order. Each lives in its own file.
func checkers() []checker {
	return []checker{checkSearch, checkHEC, checkDNS}
}

func cmdCheck(ctx context.Context, e *env) int {
	fs := newFlagSet(e, "check", "--config FILE")
	file := fs.String("config", "", "configuration file (YAML)")
	timeout := fs.Duration("timeout", 30*time.Second, "time allowed for each check")
	if rc := parseFlags(fs, e.args); rc >= 0 {
		return rc
	}
	log := newLogger(e.stderr, "warn", "text")
	cfg := loadConfig(e, *file, nil, log)
	if cfg == nil {
		printCheck(e.stdout, checkResult{Name: "config", Detail: "invalid (see the error above)"})
		return exitConfig
	}
	src := *file
	if src == "" {
		src = "defaults and environment"
	}
	printCheck(e.stdout, checkResult{Name: "config", OK: true, Detail: src})
	failed := false
	for _, c := range checkers() {
		cctx, cancel := context.WithTimeout(ctx, *timeout)
		for _, r := range c(cctx, cfg, log) {
			printCheck(e.stdout, r)
			if !r.OK {
				failed = true
			}
		}
		cancel()
	}
	if failed {
		return exitFail
	}
	return exitOK
}

func printCheck(w io.Writer, r checkResult) {
	status := "OK  "
	if !r.OK {
		status = "FAIL"
	}
	fmt.Fprintf(w, "%s %-14s %s\n", status, r.Name, r.Detail)
}
