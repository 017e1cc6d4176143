package main

import (
	"context"
	"log/slog"

	"github.com/fluxhunt/fluxhunt/config"
)

// checkDNS is filled by the issue that builds this part.
func checkDNS(ctx context.Context, cfg *config.Config, log *slog.Logger) []checkResult {
	return nil
}
