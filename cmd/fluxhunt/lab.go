package main

import (
	"context"
	"fmt"
)

func cmdLab(_ context.Context, e *env) int {
	fmt.Fprintln(e.stderr, "fluxhunt lab: not built yet: the lab (issue 7)")
	return exitFail
}
