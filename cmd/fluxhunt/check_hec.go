package main

import (
	"context"
	"log/slog"

	"github.com/fluxhunt/fluxhunt/config"
)

// checkHEC is filled by the issue that builds this part.
func checkHEC(ctx context.Context, cfg *config.Config, log *slog.Logger) []checkResult {
	return nil
}
