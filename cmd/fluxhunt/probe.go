package main

import (
	"context"
	"fmt"
)

func cmdProbe(_ context.Context, e *env) int {
	fmt.Fprintln(e.stderr, "fluxhunt probe: not built yet: active probing (issue 6)")
	return exitFail
}
