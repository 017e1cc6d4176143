package fastflux

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// addr builds a distinct address in its own /16 and AS for flux pools:
// n-th address -> 10+n.(n*7).1.1 style spread.
func spread(n, asnBase int) []Answer {
	out := make([]Answer, 0)
	for i := 0; i < n; i++ {
		k := asnBase + i
		out = append(out, Answer{netip.AddrFrom4([4]byte{byte(20 + k%200), byte(k * 7), 3, byte(k)}), uint32(64000 + k)})
	}
	return out
}

func oneAS(n, base int, asn uint32) []Answer {
	out := make([]Answer, 0)
	for i := 0; i < n; i++ {
		out = append(out, Answer{netip.AddrFrom4([4]byte{23, 45, byte((base + i) / 200), byte(base + i)}), asn})
	}
	return out
}

func round(i int, ans []Answer, ttl uint32, ns ...string) Observation {
	return Observation{Time: t0.Add(time.Duration(i) * time.Minute), Round: i, Answers: ans, TTLMin: ttl, TTLMax: ttl, Authoritative: true, ASNKnown: true, NS: ns, Servers: []string{"127.0.0.1:53"}, RTT: 1500 * time.Microsecond}
}

func TestClassify(t *testing.T) {
	fixed := spread(4, 100)
	cases := []struct {
		name    string
		obs     []Observation
		verdict string
		certain bool
		reason  string
	}{
		{"fast flux 3 rounds", []Observation{round(1, spread(5, 0), 120), round(2, spread(5, 5), 120), round(3, spread(5, 10), 120)}, VerdictFastFlux, true, "15 addresses in 15 ASNs over 3 probes"},
		{"fast flux 2 rounds", []Observation{round(1, spread(4, 0), 60), round(2, spread(4, 4), 60)}, VerdictFastFlux, true, "Holz score"},
		{"double flux", []Observation{round(1, spread(4, 0), 60, "ns1.x"), round(2, spread(4, 4), 60, "ns7.x")}, VerdictFastFlux, true, "NS set changed"},
		{"one probe small", []Observation{round(1, spread(4, 0), 60)}, VerdictRoundRobin, false, "the same 4 addresses"},
		{"cdn", []Observation{round(1, oneAS(4, 0, 20940), 20), round(2, oneAS(4, 4, 20940), 20), round(3, oneAS(4, 8, 20940), 20)}, VerdictCDN, false, "inside 1 ASN"},
		{"round robin", []Observation{round(1, fixed, 300), round(2, fixed, 300), round(3, fixed, 300)}, VerdictRoundRobin, false, "the same 4 addresses over 3 probes"},
		{"static", []Observation{round(1, spread(1, 0), 3600), round(2, spread(1, 0), 3600)}, VerdictStatic, false, "one address"},
		{"long ttl many asns", []Observation{round(1, spread(5, 0), 86400), round(2, spread(5, 5), 86400)}, VerdictRoundRobin, true, "above FluxBuster's 3 h"},
		{"nxdomain", []Observation{{Round: 1, RCode: 3}, {Round: 2, RCode: 3}}, VerdictNXDomain, true, "NXDOMAIN in 2 rounds"},
		{"no reply", []Observation{{Round: 1, RCode: RCodeNoReply}}, VerdictUnresolved, false, "no usable reply"},
		{"nodata", []Observation{{Round: 1, RCode: 0}}, VerdictUnresolved, false, "no addresses"},
		{"none", nil, VerdictUnresolved, false, "not probed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Classify(c.obs)
			if r.Verdict != c.verdict || r.Certain != c.certain {
				t.Fatalf("verdict %s certain %v, want %s %v (reasons %q, features %+v)", r.Verdict, r.Certain, c.verdict, c.certain, r.Reasons, r.Features)
			}
			if !strings.Contains(strings.Join(r.Reasons, "; "), c.reason) {
				t.Errorf("reasons %q lack %q", r.Reasons, c.reason)
			}
		})
	}
}

func TestNoASNData(t *testing.T) {
	obs := []Observation{round(1, spread(5, 0), 120), round(2, spread(5, 5), 120)}
	for i := range obs {
		obs[i].ASNKnown = false
		for j := range obs[i].Answers {
			obs[i].Answers[j].ASN = 0
		}
	}
	r := Classify(obs)
	if r.Verdict != VerdictFastFlux || !strings.Contains(r.Reasons[0], "no ASN data") || !strings.Contains(strings.Join(r.Reasons, ";"), "/16 prefixes over 2 probes") {
		t.Fatalf("got %s %q", r.Verdict, r.Reasons)
	}
}

func TestFeatures(t *testing.T) {
	a := spread(3, 0)
	b := append(spread(2, 0), spread(1, 50)...)
	f := Extract([]Observation{round(2, b, 100), round(1, a, 60)})
	want := Features{Rounds: 2, Probes: 2, NA: 4, NASN: 4, NPrefix24: 4, NPrefix16: 4, TTLMin: 60, TTLMax: 100, MinAnswer: 3, MaxAnswer: 3, SetChanges: 1, ASNKnown: true, Authoritative: true}
	if f.NA != want.NA || f.NASN != want.NASN || f.NPrefix24 != want.NPrefix24 || f.TTLMin != want.TTLMin || f.TTLMax != want.TTLMax ||
		f.SetChanges != 1 || f.MinAnswer != 3 || f.MaxAnswer != 3 || f.Probes != 2 {
		t.Errorf("features %+v", f)
	}
	if f.Turnover < 0.33 || f.Turnover > 0.34 {
		t.Errorf("turnover %v, want 1/3", f.Turnover)
	}
	if f.Entropy16 != 1 {
		t.Errorf("entropy16 %v, want 1", f.Entropy16)
	}
	if wantH := 1.32*4 + 18.54*4 - 142.38; f.Holz != wantH {
		t.Errorf("holz %v want %v", f.Holz, wantH)
	}
}

func TestGoldenEvents(t *testing.T) {
	name, _ := schema.NormalizeName("Login-Secure.Example.BIZ.")
	obs := []Observation{round(1, spread(5, 0), 120, "ns1.example.biz"), round(2, spread(5, 5), 120, "ns2.example.biz")}
	r := Classify(obs)
	det := NewDetection(name, r, obs[0].Time, obs[1].Time, func(a uint32) string { return "AS-" + string(rune('A'+a%26)) })
	ev := NewProbeEvent(name, obs[1], "fluxhunt-1", r.Verdict)
	got, err := json.MarshalIndent(map[string]any{"detection": det, "probe": ev}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "events.golden.json")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("events differ from %s (go test -update):\n%s", path, got)
	}
}

// FuzzExtract feeds arbitrary observations to the classifier: it must not
// panic and must keep its invariants.
func FuzzExtract(f *testing.F) {
	f.Add([]byte{1, 0, 60, 4, 10, 20, 30, 40, 2, 0, 60, 4, 11, 21, 31, 41})
	f.Add([]byte{1, 3, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var obs []Observation
		for len(data) >= 4 && len(obs) < 50 {
			o := Observation{Round: int(data[0]), RCode: int(int8(data[1])), TTLMin: uint32(data[2]) * 60, ASNKnown: data[0]&1 == 0}
			o.TTLMax = o.TTLMin + uint32(data[3])
			n := int(data[3] % 16)
			data = data[4:]
			for i := 0; i < n && len(data) >= 2; i++ {
				var b [4]byte
				binary.BigEndian.PutUint16(b[:2], uint16(data[0])<<8|uint16(data[1]))
				o.Answers = append(o.Answers, Answer{netip.AddrFrom4(b), uint32(data[1])})
				data = data[2:]
			}
			obs = append(obs, o)
		}
		r := Classify(obs)
		ft := r.Features
		if ft.NA < ft.NPrefix24 || ft.NPrefix24 < ft.NPrefix16 || ft.NA < ft.NASN || ft.Probes > ft.Rounds {
			t.Fatalf("inconsistent features %+v", ft)
		}
		if r.Verdict == "" || len(r.Reasons) == 0 {
			t.Fatalf("no verdict or reasons: %+v", r)
		}
		if r.Verdict == VerdictFastFlux && ft.Holz <= 0 {
			t.Fatalf("fast_flux with Holz %v", ft.Holz)
		}
	})
}
