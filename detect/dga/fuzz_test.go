package dga

import (
	"math"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/schema"
)

// FuzzScore: any input gives a skip or a score in [0,1], never a panic, and
// agrees with the shared normaliser about what is a name.
func FuzzScore(f *testing.F) {
	for _, s := range append(benchNames, "", "1.2.3.4", "::1", "a..b", "\xff.com", "x\x00y.com",
		"xn--80ak6aa92e.com", "Foo.Example.COM.", "4.3.2.1.in-addr.arpa", strings.Repeat("ab.", 90)+"com") {
		f.Add(s)
	}
	m := Default()
	f.Fuzz(func(t *testing.T, in string) {
		r := m.Score(in)
		if r.Reason == "" {
			t.Fatalf("Score(%q): no reason", in)
		}
		if r.Skip {
			if r.Score != 0 {
				t.Fatalf("Score(%q): skipped with score %v", in, r.Score)
			}
		} else if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
			t.Fatalf("Score(%q) = %v", in, r.Score)
		}
		if fc, ok := fastCanonical(strings.TrimSpace(in)); ok {
			if c, err := schema.CanonicalName(strings.TrimSpace(in)); err != nil || c != fc {
				t.Fatalf("fastCanonical(%q) = %q, normaliser %q, %v", in, fc, c, err)
			}
		}
		n, err := schema.NormalizeName(in)
		if err != nil && !r.Skip {
			t.Fatalf("Score(%q) scored a name the normaliser rejects: %v", in, err)
		}
		if err == nil {
			// the fast paths agree with their references
			ps, psICANN := embeddedPSL().publicSuffix(n.ASCII)
			if hs, hsICANN := pslPublicSuffix(embeddedPSLTable(), n.ASCII); hs != ps || hsICANN != psICANN {
				t.Fatalf("%q: hashed suffix walk %q %v, map walk %q %v", n.ASCII, hs, hsICANN, ps, psICANN)
			}
			if q, skip := split(n.ASCII); skip == "" {
				if q.siteLabel() != q.findSiteLabel() {
					t.Fatalf("%q: site label %q, computed %q", n.ASCII, q.siteLabel(), q.findSiteLabel())
				}
				var f [numFeatures]float64
				m.features(q.siteLabel(), q.icann, q.ddns, &f)
				if a, b := m.forest.margin(&f), m.forest.marginRef(&f); a != b {
					t.Fatalf("%q: margin %v, marginRef %v", n.ASCII, a, b)
				}
			}
			p, skip := split(n.ASCII)
			if skip == "" && p.suffix == n.Suffix && !looksIP(strings.TrimSpace(in)) {
				s, ok := m.ScoreName(n)
				if !ok || s != r.Score {
					t.Fatalf("Score(%q) = %+v but ScoreName = %v, %v", in, r, s, ok)
				}
			}
		}
	})
}
