package main

import (
	"context"
	"log/slog"

	"github.com/fluxhunt/fluxhunt/config"
)

// checkSearch is filled by the issue that builds this part.
func checkSearch(ctx context.Context, cfg *config.Config, log *slog.Logger) []checkResult {
	return nil
}
