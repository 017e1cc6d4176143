package main

import (
	"context"
	"fmt"
)

func cmdScore(_ context.Context, e *env) int {
	fmt.Fprintln(e.stderr, "fluxhunt score: not built yet: DGA scoring (issue 4)")
	return exitFail
}
