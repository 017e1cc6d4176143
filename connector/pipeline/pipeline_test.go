package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

type fakeSender struct {
	mu  sync.Mutex
	evs []schema.Envelope
}

func (f *fakeSender) Send(_ context.Context, ev schema.Envelope) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evs = append(f.evs, ev)
	return nil
}

func (f *fakeSender) SendBatch(ctx context.Context, evs []schema.Envelope) error {
	for _, ev := range evs {
		f.Send(ctx, ev)
	}
	return nil
}

func (f *fakeSender) detections() []schema.Detection {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []schema.Detection
	for _, e := range f.evs {
		if d, ok := e.Event.(schema.Detection); ok {
			out = append(out, d)
		}
	}
	return out
}

// countHosts flags any host with 3+ NXDOMAIN rows so far.
type countHosts struct {
	Counts map[string]int `json:"counts"`
	First  map[string]int64
}

func (c *countHosts) Observe(rows []schema.DNSRow, now time.Time) []schema.Detection {
	if c.Counts == nil {
		c.Counts, c.First = map[string]int{}, map[string]int64{}
	}
	var out []schema.Detection
	for _, r := range rows {
		if r.ReplyCode == schema.RCodeNXDomain {
			c.Counts[r.Src]++
			if c.First[r.Src] == 0 {
				c.First[r.Src] = r.Time.Unix()
			}
		}
	}
	for src, n := range c.Counts {
		if n >= 3 {
			d := schema.NewDetection(schema.TypeNXDomainStorm, src, time.Unix(c.First[src], 0))
			d.Src, d.Severity, d.Reasons = src, "medium", []string{"3 or more NXDOMAIN names"}
			out = append(out, d)
		}
	}
	return out
}
func (c *countHosts) MarshalJSON() ([]byte, error) {
	type plain countHosts
	return json.Marshal((*plain)(c))
}
func (c *countHosts) UnmarshalJSON(b []byte) error {
	type plain countHosts
	return json.Unmarshal(b, (*plain)(c))
}

type fakeProber struct{ got []string }

func (f *fakeProber) Submit(d, reason string, _ float64) bool {
	f.got = append(f.got, d+": "+reason)
	return true
}

type fakeLookback struct {
	answers map[string][]string
	rows    []schema.FlowRow
}

func (f *fakeLookback) LookbackAnswers(context.Context, string, time.Time, time.Time) (map[string][]string, error) {
	return f.answers, nil
}

func (f *fakeLookback) LookbackFlows(_ context.Context, addrs []netip.Addr, _, _ time.Time) ([]schema.FlowRow, error) {
	return f.rows, nil
}

type allowSuffix string

func (a allowSuffix) MatchName(n string) bool { return strings.HasSuffix(n, string(a)) }
func (a allowSuffix) MatchHost(string) bool   { return false }

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func row(src, q string, rc schema.RCode, ttl int64, answers ...string) schema.DNSRow {
	n, _ := schema.NormalizeName(q)
	return schema.DNSRow{Time: t0, Src: src, Query: n, RecordType: "A", ReplyCode: rc, TTL: ttl, Answers: answers, Count: 1}
}

func TestWindowsRestartAndFlux(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenBoltState(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	send := &fakeSender{}
	prober := &fakeProber{}
	// 10.9.9.9 resolved the domain (to an address never probed) before it
	// was a candidate; the DNS look-back finds it, the flow look-back its
	// traffic.
	look := &fakeLookback{answers: map[string][]string{"10.9.9.9": {"198.51.100.44"}},
		rows: []schema.FlowRow{{Time: t0.Add(-time.Hour), Src: "10.9.9.9", Dest: "198.51.100.44", DestPort: 443, Transport: "tcp", Bytes: 4000, Count: 1}}}
	mk := func(st StateStore) *Pipeline {
		p, err := New(Config{Instance: "fh-test", Index: "fluxhunt"}, Deps{Sender: send, Hosts: &countHosts{}, Prober: prober, Lookback: look, State: st,
			Candidate: func(r schema.DNSRow) (string, bool) {
				return fmt.Sprintf("TTL %d s with %d addresses", r.TTL, len(r.Answers)), r.TTL >= 0 && r.TTL <= 300 && len(r.Answers) >= 3
			},
			Allow: func() Allowlist { return allowSuffix(".allowed.example") }})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := mk(st)
	ctx := context.Background()
	w1 := []schema.DNSRow{
		row("10.0.0.1", "a.bad", schema.RCodeNXDomain, -1),
		row("10.0.0.1", "b.bad", schema.RCodeNXDomain, -1),
		row("10.0.0.1", "c.bad", schema.RCodeNXDomain, -1),
		row("10.0.0.2", "x.allowed.example", schema.RCodeNXDomain, -1),
		row("10.0.0.2", "y.allowed.example", schema.RCodeNXDomain, -1),
		row("10.0.0.2", "z.allowed.example", schema.RCodeNXDomain, -1),
		row("10.0.0.3", "flux.example.biz", schema.RCodeNoError, 60, "198.51.100.4", "203.0.113.5", "192.0.2.9"),
		row("10.0.0.3", "www.example.com", schema.RCodeNoError, 3600, "93.184.216.34"),
	}
	if err := p.ConsumeWindow(ctx, t0, t0.Add(time.Minute), w1, nil); err != nil {
		t.Fatal(err)
	}
	dets := send.detections()
	if len(dets) != 1 || dets[0].Src != "10.0.0.1" || dets[0].Revision != 1 {
		t.Fatalf("window 1 detections: %+v", dets)
	}
	if len(prober.got) != 1 || !strings.HasPrefix(prober.got[0], "flux.example.biz: TTL 60 s with 3 addresses") {
		t.Fatalf("candidates %v", prober.got)
	}
	// Restart: a new pipeline on the same state emits nothing new for the
	// same finding.
	p = mk(st)
	if err := p.ConsumeWindow(ctx, t0.Add(time.Minute), t0.Add(2*time.Minute), []schema.DNSRow{row("10.0.0.1", "d.bad", schema.RCodeNXDomain, -1)}, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(send.detections()); n != 1 {
		t.Fatalf("after restart %d detections, want still 1", n)
	}
	// A fast-flux verdict: detection, then the look-back finds an earlier contact.
	ff := schema.NewDetection(schema.TypeFastFlux, "flux.example.biz", t0)
	ff.Domain, ff.Severity, ff.Reasons = "flux.example.biz", "high", []string{"14 addresses in 11 ASNs"}
	if err := p.FastFlux(ctx, ff, []netip.Addr{netip.MustParseAddr("203.0.113.5")}, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Live flows to a passive answer of the domain.
	if err := p.ConsumeWindow(ctx, t0.Add(2*time.Minute), t0.Add(4*time.Minute), nil, []schema.FlowRow{
		{Time: t0.Add(3 * time.Minute), Src: "10.0.0.3", Dest: "192.0.2.9", DestPort: 80, Transport: "tcp", Bytes: 100, Count: 1}}); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, d := range send.detections() {
		types = append(types, d.DetectionType+":"+d.Src+":"+d.Domain)
	}
	want := "nxdomain_storm:10.0.0.1: fast_flux::flux.example.biz flux_contact:10.9.9.9:flux.example.biz flux_contact:10.0.0.3:flux.example.biz"
	if strings.Join(types, " ") != want {
		t.Errorf("detections\n got: %s\nwant: %s", strings.Join(types, " "), want)
	}
	for _, e := range send.evs {
		if e.Host != "fh-test" || e.Index != "fluxhunt" || e.Time == 0 || e.Sourcetype != schema.SourcetypeDetection {
			t.Errorf("envelope %+v", e)
		}
	}
	st.Close()
}
