package nxdomain

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/detect/allowlist"
	"github.com/fluxhunt/fluxhunt/schema"
)

// mapScorer scores listed names high and everything else low.
type mapScorer map[string]float64

func (m mapScorer) ScoreName(n schema.Name) (float64, bool) {
	if n.NumLabels() < 2 {
		return 0, false
	}
	if s, ok := m[n.ASCII]; ok {
		return s, true
	}
	return 0.1, true
}
func (m mapScorer) Threshold() float64 { return 0.5 }
func (m mapScorer) Version() string    { return "test-1" }

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func row(t time.Time, src, q, rt string, rc schema.RCode) schema.DNSRow {
	n, err := schema.NormalizeName(q)
	if err != nil {
		panic(err)
	}
	return schema.DNSRow{Time: t, Src: src, Query: n, RecordType: rt, ReplyCode: rc, TTL: -1, Count: 1}
}

func nx(t time.Time, src, q string) schema.DNSRow { return row(t, src, q, "A", schema.RCodeNXDomain) }

func newDet(t *testing.T, cfg Config, sc NameScorer, al *allowlist.List) *Detector {
	t.Helper()
	d, err := New(cfg, sc, al)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestClassify(t *testing.T) {
	al, err := allowlist.Parse(strings.NewReader("allowed.example.net\n"), "al")
	if err != nil {
		t.Fatal(err)
	}
	d := newDet(t, Config{InternalSuffixes: []string{"corp.example.com"}}, nil, al)
	cases := []struct {
		q, rt string
		want  Noise
	}{
		{"xkqwjfhz.com", "A", NoiseNone},
		{"xkqwjfhz.duckdns.org", "AAAA", NoiseNone},
		{"qwertyuio", "A", NoiseSingleLabel},
		{"wpad", "A", NoiseSingleLabel},
		{"qwertyuio.corp.example.com", "A", NoiseInternal},
		{"www.google.com.corp.example.com", "A", NoiseInternal},
		{"4.3.2.1.in-addr.arpa", "PTR", NoiseReverse},
		{"macbook-pro.local", "A", NoiseLocal},
		{"nas.lan", "A", NoiseLocal},
		{"_ldap._tcp.dc._msdcs.other.example", "SRV", NoiseLocal},
		{"_ldap._tcp.example.org", "SRV", NoiseService},
		{"spamsender.xyz", "MX", NoiseNonAddress},
		{"spamsender.xyz", "TXT", NoiseNonAddress},
		{"x.allowed.example.net", "A", NoiseAllowlisted},
		{"co.uk", "A", NoiseSuffixOnly},
	}
	for _, c := range cases {
		n, err := schema.NormalizeName(c.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.classify(n, c.rt); got != c.want {
			t.Errorf("classify(%s %s) = %v, want %v", c.q, c.rt, got, c.want)
		}
	}
}

func genNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%sq%dzx%d.com", prefix, i*7919%1000, i)
	}
	return out
}

func TestDGAThresholds(t *testing.T) {
	names := genNames("kvw", 6)
	sc := mapScorer{}
	for _, n := range names {
		sc[n] = 0.9
	}
	cases := []struct {
		name     string
		high     int
		benignNX int
		want     int // dga detections
	}{
		{"three generated names", 3, 0, 0},
		{"four generated names", 4, 0, 1},
		{"four generated among six benign", 4, 6, 0},
		{"six generated among four benign", 6, 4, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDet(t, Config{}, sc, nil)
			var got []schema.Detection
			tt := t0
			for i := 0; i < c.benignNX; i++ {
				tt = tt.Add(time.Minute)
				got = append(got, d.Observe(nx(tt, "10.1.1.1", fmt.Sprintf("typo%d.com", i)))...)
			}
			for i := 0; i < c.high; i++ {
				tt = tt.Add(10 * time.Minute)
				got = append(got, d.Observe(nx(tt, "10.1.1.1", names[i]))...)
			}
			n := 0
			for _, g := range got {
				if g.DetectionType == schema.TypeDGA {
					n++
					if g.Src != "10.1.1.1" || g.Revision != 1 || g.CampaignSize != 1 || g.ModelVersion != "test-1" || g.SignatureID != "FH-DGA" {
						t.Errorf("detection %+v", g)
					}
					if g.DetectionID != schema.DetectionID(schema.TypeDGA, "10.1.1.1", time.Unix(g.FirstSeen, 0)) {
						t.Errorf("detection id")
					}
					if len(g.Reasons) == 0 || g.Evidence["generated"].(int) < 4 {
						t.Errorf("reasons %v evidence %v", g.Reasons, g.Evidence)
					}
				}
			}
			if n != c.want {
				t.Fatalf("%d dga detections, want %d: %+v", n, c.want, got)
			}
		})
	}
}

func TestStormAndNoise(t *testing.T) {
	d := newDet(t, Config{InternalSuffixes: []string{"corp.example.com"}}, mapScorer{}, nil)
	var got []schema.Detection
	tt := t0
	// a mail server: thousands of DNSBL and sender lookups
	for i := 0; i < 3000; i++ {
		tt = tt.Add(100 * time.Millisecond)
		got = append(got, d.Observe(nx(tt, "10.0.1.10", fmt.Sprintf("%d.%d.3.4.zen.spamhaus.org", i%250, i/250)))...)
		got = append(got, d.Observe(row(tt, "10.0.1.10", fmt.Sprintf("spam%dxq.top", i), "MX", schema.RCodeNXDomain))...)
		got = append(got, d.Observe(nx(tt, "10.0.1.11", fmt.Sprintf("%x.avqs.mcafee.com", i*7777)))...)
		got = append(got, d.Observe(nx(tt, "10.0.1.12", fmt.Sprintf("chrome%dprobe", i)))...)
		got = append(got, d.Observe(nx(tt, "10.0.1.12", fmt.Sprintf("chrome%dprobe.corp.example.com", i)))...)
	}
	if len(got) != 0 {
		t.Fatalf("noise made detections: %+v", got[0])
	}
	// a loud bot: 40 distinct NXDOMAIN sites in five minutes, benign-scored
	for i := 0; i < 40; i++ {
		tt = tt.Add(7 * time.Second)
		got = append(got, d.Observe(nx(tt, "10.2.2.2", fmt.Sprintf("wordy%dthing.net", i)))...)
	}
	if len(got) != 2 {
		t.Fatalf("want a storm and its update at twice the count, got %+v", got)
	}
	for i, g := range got {
		if g.DetectionType != schema.TypeNXDomainStorm || g.Src != "10.2.2.2" || g.Revision != i+1 || g.DetectionID != got[0].DetectionID {
			t.Fatalf("detection %d: %+v", i, g)
		}
	}
	if !strings.Contains(got[0].Reasons[0], "20 distinct NXDOMAIN domains in 5m (threshold 20)") {
		t.Errorf("reasons %q", got[0].Reasons)
	}
	st := d.Stats()
	if st.Noise[NoiseNonAddress] != 3000 || st.Noise[NoiseInternal] != 3000 || st.Noise[NoiseSingleLabel] != 3000 {
		t.Errorf("noise counts %v", st.Noise)
	}
}

func TestBaselineAbsorbsHabitualNoise(t *testing.T) {
	d := newDet(t, Config{}, nil, nil)
	tt := t0
	var got []schema.Detection
	// a crawler: 70 distinct NXDOMAIN sites every hour, for two days
	i := 0
	for h := 0; h < 48; h++ {
		for k := 0; k < 70; k++ {
			tt = t0.Add(time.Duration(h)*time.Hour + time.Duration(k*50)*time.Second)
			got = append(got, d.Observe(nx(tt, "10.3.3.3", fmt.Sprintf("site%d.org", i)))...)
			got = append(got, d.Observe(row(tt, "10.3.3.3", "ok.example.org", "A", schema.RCodeNoError))...)
			i++
		}
	}
	first := len(got)
	if first == 0 {
		t.Fatal("the first hours (no baseline yet) should storm at 70/h")
	}
	for _, g := range got {
		if g.LastSeen > t0.Add(12*time.Hour).Unix() {
			t.Fatalf("still storming after the baseline learned: %+v", g.Reasons)
		}
	}
	// then ten times its usual
	got = nil
	for k := 0; k < 700; k++ {
		tt = t0.Add(48*time.Hour + time.Duration(k*5)*time.Second)
		got = append(got, d.Observe(nx(tt, "10.3.3.3", fmt.Sprintf("burst%d.org", k)))...)
	}
	if len(got) == 0 {
		t.Fatal("ten times the baseline made no storm")
	}
}

func TestCampaignAndResolved(t *testing.T) {
	names := genNames("cmp", 12)
	sc := mapScorer{}
	for _, n := range names {
		sc[n] = 0.95
	}
	sc["other1zq.biz"], sc["other2zq.biz"], sc["other3zq.biz"], sc["other4zq.biz"] = 0.9, 0.9, 0.9, 0.9
	d := newDet(t, Config{}, sc, nil)
	var got []schema.Detection
	tt := t0
	obs := func(r schema.DNSRow) { got = append(got, d.Observe(r)...) }
	for i := 0; i < 6; i++ {
		tt = tt.Add(time.Minute)
		obs(nx(tt, "10.5.0.1", names[i]))
	}
	// a second bot of the family walks the same list: two names suffice
	for i := 0; i < 2; i++ {
		tt = tt.Add(time.Minute)
		obs(nx(tt, "10.5.0.2", names[i]))
	}
	// an unrelated bot
	for _, n := range []string{"other1zq.biz", "other2zq.biz", "other3zq.biz", "other4zq.biz"} {
		tt = tt.Add(time.Minute)
		obs(nx(tt, "10.6.0.1", n))
	}
	// the first bot finds its C2
	r := row(tt.Add(time.Minute), "10.5.0.1", names[8], "A", schema.RCodeNoError)
	r.Answers = []string{"203.0.113.9"}
	obs(r)
	last := map[string]schema.Detection{}
	for _, g := range got {
		if g.DetectionType == schema.TypeDGA {
			if p, ok := last[g.Src]; ok && g.Revision <= p.Revision {
				t.Errorf("revision of %s did not rise: %d after %d", g.Src, g.Revision, p.Revision)
			}
			last[g.Src] = g
		}
	}
	a, b, c := last["10.5.0.1"], last["10.5.0.2"], last["10.6.0.1"]
	if a.CampaignID == "" || a.CampaignID != b.CampaignID || a.CampaignSize != 2 || b.CampaignSize != 2 ||
		strings.Join(a.CampaignHosts, ",") != "10.5.0.1,10.5.0.2" {
		t.Errorf("campaign: a=%s/%d b=%s/%d %v", a.CampaignID, a.CampaignSize, b.CampaignID, b.CampaignSize, a.CampaignHosts)
	}
	if c.CampaignID == "" || c.CampaignID == a.CampaignID || c.CampaignSize != 1 {
		t.Errorf("unrelated bot in campaign %s size %d", c.CampaignID, c.CampaignSize)
	}
	if a.Domain != names[8] || a.Severity != "critical" {
		t.Errorf("resolved C2 not reported: domain %q severity %s", a.Domain, a.Severity)
	}
}

func TestStatePersists(t *testing.T) {
	names := genNames("per", 40)
	sc := mapScorer{}
	for _, n := range names[:20] {
		sc[n] = 0.9
	}
	var rows []schema.DNSRow
	for i, n := range names {
		rows = append(rows, nx(t0.Add(time.Duration(i)*20*time.Second), fmt.Sprintf("10.7.0.%d", i%3), n))
		rows = append(rows, row(t0.Add(time.Duration(i)*20*time.Second), "10.7.0.9", "www.example.com", "A", schema.RCodeNoError))
	}
	run := func(split int) []string {
		d := newDet(t, Config{}, sc, nil)
		var out []string
		for i, r := range rows {
			if i == split {
				b, err := d.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				d = newDet(t, Config{}, sc, nil)
				if err := d.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
			}
			for _, g := range d.Observe(r) {
				out = append(out, fmt.Sprintf("%s %s %s r%d c%d %v", g.DetectionType, g.Src, g.DetectionID[:8], g.Revision, g.CampaignSize, g.Reasons))
			}
		}
		return out
	}
	want := run(-1)
	if len(want) == 0 {
		t.Fatal("no detections to compare")
	}
	for _, split := range []int{1, 17, 40, 79} {
		if got := run(split); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("restart at row %d changed the output:\n%s\nwant\n%s", split, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	d := newDet(t, Config{}, sc, nil)
	if err := d.UnmarshalBinary([]byte(`{"version":99}`)); err == nil {
		t.Error("accepted a future state version")
	}
	if err := d.UnmarshalBinary([]byte(`{`)); err == nil {
		t.Error("accepted broken state")
	}
}

func TestMemoryBounds(t *testing.T) {
	d := newDet(t, Config{MaxHosts: 100, MaxGroup: 8, MaxSeen: 64}, mapScorer{}, nil)
	for i := 0; i < 5000; i++ {
		tt := t0.Add(time.Duration(i) * time.Second)
		d.Observe(nx(tt, fmt.Sprintf("10.9.%d.%d", i/250%250, i%250), fmt.Sprintf("n%d.com", i)))
		d.Observe(nx(tt, "10.8.8.8", fmt.Sprintf("m%d.com", i)))
	}
	if d.Hosts() > 100 {
		t.Errorf("%d hosts kept, MaxHosts 100", d.Hosts())
	}
	h := d.st.Hosts["10.8.8.8"]
	if h == nil || len(h.Group) > 8 || len(h.Seen) > 64 {
		t.Fatalf("per-host bounds broken: %+v", h)
	}
	if d.Stats().Evicted == 0 {
		t.Error("nothing evicted")
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := New(Config{Windows: []time.Duration{90 * time.Second}}, nil, nil); err == nil {
		t.Error("accepted a window of 90s")
	}
	if _, err := New(Config{InternalSuffixes: []string{"bad..suffix"}}, nil, nil); err == nil {
		t.Error("accepted a bad internal suffix")
	}
	for w, want := range map[time.Duration]int{5 * time.Minute: 20, time.Hour: 50, 2 * time.Hour: 60, 30 * time.Minute: 34} {
		if got := DefaultStormFloor(w); got != want {
			t.Errorf("floor(%v) = %d, want %d", w, got, want)
		}
	}
}

// FuzzRestore: a damaged state snapshot is refused or restored into a
// detector that keeps working.
func FuzzRestore(f *testing.F) {
	names := genNames("fz", 8)
	sc := mapScorer{}
	for _, n := range names {
		sc[n] = 0.9
	}
	d, _ := New(Config{}, sc, nil)
	for i, n := range names {
		d.Observe(nx(t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("10.0.0.%d", i%2), n))
	}
	good, _ := d.MarshalBinary()
	f.Add(good)
	f.Add([]byte(`{"version":1,"hosts":{"a":null,"b":{"ring":[{}],"group":[{"site":"x.com","high":true}]}},"sites":{"x.com":null},"campaigns":{"c":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, _ := New(Config{}, sc, nil)
		if err := d.UnmarshalBinary(b); err != nil {
			return
		}
		for i, n := range names {
			d.Observe(nx(t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("10.0.0.%d", i%3), n))
			d.Observe(row(t0.Add(time.Duration(i)*time.Minute), "b", n, "A", schema.RCodeNoError))
		}
	})
}
