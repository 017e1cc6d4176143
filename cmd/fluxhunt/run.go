package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/daemon"
)

// parseSince reads --since: RFC 3339, or a negative duration relative to now
// ("-72h", "-3d").
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if t.After(now) {
			return time.Time{}, fmt.Errorf("--since %q is in the future", s)
		}
		return t, nil
	}
	if strings.HasPrefix(s, "-") {
		if d, err := config.ParseDuration(s[1:]); err == nil && d > 0 {
			return now.Add(-d), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid --since %q: want RFC 3339 (2026-11-26T00:00:00Z) or a relative time (-72h, -3d)", s)
}

func cmdRun(ctx context.Context, e *env) int {
	fs := newFlagSet(e, "run", "--config FILE [--since TIME]")
	file := fs.String("config", "", "configuration file (YAML)")
	since := fs.String("since", "", "backfill from this index time: RFC 3339 or relative (-72h)")
	if rc := parseFlags(fs, e.args); rc >= 0 {
		return rc
	}
	boot := newLogger(e.stderr, "info", "text")
	cfg := loadConfig(e, *file, nil, boot)
	if cfg == nil {
		return exitConfig
	}
	log := newLogger(e.stderr, cfg.Log.Level, cfg.Log.Format)
	sinceT, err := parseSince(*since, time.Now())
	if err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt run: %v\n", err)
		return exitConfig
	}
	d, err := daemon.New(daemon.Options{Config: cfg, Since: sinceT, Logger: log, Version: version})
	if err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt run: %v\n", err)
		return exitConfig
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := d.Reload(); err != nil {
					log.Warn("reload: some list entries were refused", "err", err)
				} else {
					log.Info("reloaded allow- and watchlists")
				}
			}
		}
	}()
	if err := d.Run(ctx); err != nil {
		log.Error("fluxhunt run failed", "err", err)
		return exitFail
	}
	return exitOK
}
