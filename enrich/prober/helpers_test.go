package prober

import (
	"errors"
	"net/netip"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }
func mustAddr(s string) netip.Addr    { return netip.MustParseAddr(s) }
