package prober

import "testing"

// TestLabSeeds runs the acceptance over several lab worlds.
func TestLabSeeds(t *testing.T) {
	for seed := int64(10); seed < 20; seed++ {
		w, s := startLab(t, seed)
		opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
		opts.DNS.Authoritative = seed%2 == 0
		col, _ := runProber(t, opts, names(w))
		checkWorld(t, w, col, opts.DNS.Authoritative)
	}
}
