package main

import (
	"context"
	"fmt"
)

func cmdRun(_ context.Context, e *env) int {
	fmt.Fprintln(e.stderr, "fluxhunt run: not built yet: the daemon (issue 7)")
	return exitFail
}
