package main

import (
	"context"
	"fmt"
)

func cmdScan(_ context.Context, e *env) int {
	fmt.Fprintln(e.stderr, "fluxhunt scan: not built yet: offline scan (issue 5)")
	return exitFail
}
