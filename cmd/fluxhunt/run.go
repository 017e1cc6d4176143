package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fluxhunt/fluxhunt/connector/daemon"
	"github.com/fluxhunt/fluxhunt/connector/poll"
)

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
	var sinceT time.Time
	if *since != "" {
		t, err := poll.ParseSince(*since, time.Now())
		if err != nil {
			fmt.Fprintf(e.stderr, "fluxhunt run: %v\n", err)
			return exitConfig
		}
		sinceT = t
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
