package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/fluxhunt/fluxhunt/schema"
)

// Set by the linker: -X main.version=... -X main.commit=...
var (
	version = "0.1.0-dev"
	commit  = ""
)

func buildCommit() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

func cmdVersion(_ context.Context, e *env) int {
	fmt.Fprintf(e.stdout, "fluxhunt %s\ncommit %s\nschema_version %d\nmodel_version %s\n", version, buildCommit(), schema.SchemaVersion, modelVersion())
	return exitOK
}
