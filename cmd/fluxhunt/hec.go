package main

import (
	"context"
	"fmt"
)

func cmdHEC(_ context.Context, e *env) int {
	fmt.Fprintln(e.stderr, "fluxhunt hec: not built yet: hec send (issue 3)")
	return exitFail
}
