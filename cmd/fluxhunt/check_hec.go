package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/hec"
	"github.com/fluxhunt/fluxhunt/schema"
)

// checkHEC sends one real fluxhunt:health event with the configured token
// and index to each HEC URL (the health endpoint proves neither). No result
// when HEC is not configured.
func checkHEC(ctx context.Context, cfg *config.Config, log *slog.Logger) []checkResult {
	if len(cfg.Splunk.HEC.URLs) == 0 {
		return nil
	}
	if err := cfg.NeedHEC(); err != nil {
		return []checkResult{{Name: "hec", Detail: err.Error()}}
	}
	now := time.Now()
	ev := schema.Envelope{
		Time: schema.EpochSeconds(now), Host: cfg.Instance, Source: "fluxhunt",
		Sourcetype: schema.SourcetypeHealth, Index: cfg.Splunk.HEC.Index,
		Event: schema.HealthEvent{
			SchemaVersion: schema.SchemaVersion, Instance: cfg.Instance, Version: version,
			Status: "ok", Checks: map[string]string{"hec": "fluxhunt check"},
		},
	}
	var out []checkResult
	for _, r := range hec.Check(ctx, cfg.Splunk.HEC, ev, log) {
		out = append(out, checkResult{Name: "hec", OK: r.OK, Detail: r.Detail})
	}
	return out
}
