package prober

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/detect/fastflux"
	"github.com/fluxhunt/fluxhunt/enrich/asn"
	"github.com/fluxhunt/fluxhunt/enrich/obsstore"
	"github.com/fluxhunt/fluxhunt/lab/dnslab"
)

func startLab(t testing.TB, seed int64) (*dnslab.World, *dnslab.Server) {
	t.Helper()
	w := dnslab.NewWorld(seed)
	s := dnslab.New(w, dnslab.Options{})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return w, s
}

// labOptions probes through resolver (host:port) with the lab's
// authoritative servers at authPort.
func labOptions(resolver string, authPort int) Options {
	cfg := config.Default()
	cfg.DNS.Resolvers = []string{resolver}
	cfg.DNS.AllowPrivateNS = true
	cfg.DNS.AuthoritativePort = authPort
	cfg.DNS.Timeout = config.Duration(time.Second)
	cfg.Probe.RateTotal = 100000
	cfg.Probe.RatePerServer = 100000
	cfg.Probe.Concurrency = 16
	return Options{DNS: cfg.DNS, Probe: cfg.Probe, Instance: "test", ASN: asn.Embedded(), Interval: 20 * time.Millisecond}
}

type collector struct {
	mu     sync.Mutex
	final  map[string]Result
	rounds map[string]int
	done   chan struct{}
	want   int
}

func newCollector(want int) *collector {
	return &collector{final: map[string]Result{}, rounds: map[string]int{}, done: make(chan struct{}), want: want}
}

func (c *collector) on(r Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rounds[r.Domain.ASCII]++
	if r.Event.Round != r.Round || r.Event.Domain != r.Domain.ASCII {
		panic(fmt.Sprintf("event %+v for round %d", r.Event, r.Round))
	}
	if r.Final {
		c.final[r.Domain.ASCII] = r
		if len(c.final) == c.want {
			close(c.done)
		}
	}
}

func (c *collector) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d of %d domains finished", len(c.final), c.want)
	}
}

func runProber(t *testing.T, opts Options, names []string) (*collector, *Prober) {
	t.Helper()
	col := newCollector(len(names))
	opts.OnResult = col.on
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := p.Submit(Candidate{Name: n, Reason: "test", Priority: PriorityWatchlist}); err != nil {
			t.Fatal(err)
		}
	}
	col.wait(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Error(err)
	}
	return col, p
}

// checkWorld asserts the acceptance: every flux domain fast_flux
// within 3 probes, nothing benign fast_flux, authoritative TTLs equal the
// zone's.
func checkWorld(t *testing.T, w *dnslab.World, col *collector, authoritative bool) {
	t.Helper()
	doubles, churned := 0, 0
	defer func() {
		// two rounds may by chance see the same NS pair (1 in 66); never all
		if authoritative && doubles > 0 && churned == 0 {
			t.Errorf("no double-flux domain showed NS churn")
		}
	}()
	for _, d := range w.Domains() {
		r, ok := col.final[d.Name]
		if !ok {
			t.Errorf("%s: no verdict", d.Name)
			continue
		}
		v := r.Verdict
		want := map[dnslab.Kind]string{dnslab.KindFastFlux: "fast_flux", dnslab.KindDoubleFlux: "fast_flux", dnslab.KindCDN: "cdn", dnslab.KindRoundRobin: "round_robin", dnslab.KindStatic: "static"}[d.Kind]
		if v.Verdict != want {
			t.Errorf("%s (%s): verdict %s, want %s; reasons %q", d.Name, d.Kind, v.Verdict, want, v.Reasons)
		}
		if r.Round > 3 {
			t.Errorf("%s: %d rounds", d.Name, r.Round)
		}
		if authoritative {
			if !v.Features.Authoritative {
				t.Errorf("%s: no authoritative answer", d.Name)
			} else if v.Features.TTLMin != int64(d.TTL) || v.Features.TTLMax != int64(d.TTL) {
				t.Errorf("%s: TTL %d-%d measured, zone says %d", d.Name, v.Features.TTLMin, v.Features.TTLMax, d.TTL)
			}
		}
		if (v.Verdict == "fast_flux") != (r.Detection != nil) {
			t.Errorf("%s: verdict %s with detection %v", d.Name, v.Verdict, r.Detection != nil)
		}
		if d.Kind == dnslab.KindDoubleFlux {
			doubles++
			if v.Features.NSChanges > 0 {
				churned++
			}
		}
		if r.Detection != nil && (r.Detection.Domain != d.Name || r.Detection.SignatureID != "FH-FF" || len(r.Detection.Reasons) == 0) {
			t.Errorf("%s: detection %+v", d.Name, r.Detection)
		}
	}
}

func names(w *dnslab.World, extra ...string) []string {
	var out []string
	for _, d := range w.Domains() {
		out = append(out, d.Name)
	}
	return append(out, extra...)
}

func TestLabDirect(t *testing.T) {
	w, s := startLab(t, 1)
	opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	store, err := obsstore.Open(filepath.Join(t.TempDir(), "state.db"), obsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts.Store = store
	col, p := runProber(t, opts, names(w, "nope-not-there.biz", "www."+w.Domains()[0].Name))
	checkWorld(t, w, col, true)
	if r := col.final["nope-not-there.biz"]; r.Verdict.Verdict != fastflux.VerdictNXDomain {
		t.Errorf("nonexistent: %s %q", r.Verdict.Verdict, r.Verdict.Reasons)
	}
	www := col.final["www."+w.Domains()[0].Name]
	if www.Verdict.Verdict != fastflux.VerdictFastFlux || len(www.Rounds[0].CNAMEs) != 1 {
		t.Errorf("www CNAME: %s, chain %v", www.Verdict.Verdict, www.Rounds[0].CNAMEs)
	}
	c := p.Counters()
	if c.StrayID.Load()+c.WrongSource.Load()+c.Malformed.Load()+c.WrongQuestion.Load() != 0 {
		t.Errorf("clean lab produced dropped replies: %+v", c)
	}
	if h, ok, err := store.History(w.Domains()[0].Name); err != nil || !ok || len(h.Rounds) == 0 || h.Verdict != "fast_flux" {
		t.Errorf("stored history %+v %v %v", h, ok, err)
	}
	mf, err := reg.Gather()
	if err != nil || len(mf) < 5 {
		t.Errorf("metrics: %d families, %v", len(mf), err)
	}
}

func TestResolverOnly(t *testing.T) {
	// The lab answers every query with a fresh pick, so even without the
	// authoritative step the flux shows.
	w, s := startLab(t, 2)
	opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
	opts.DNS.Authoritative = false
	col, _ := runProber(t, opts, names(w))
	checkWorld(t, w, col, false)
}

// TestPrivateNSRefused: outside the lab the loopback NS addresses are
// refused, nothing is sent to them, and the verdict comes from the
// resolver alone.
func TestPrivateNSRefused(t *testing.T) {
	w, s := startLab(t, 1)
	// the "authoritative port" is a socket of ours: it must receive nothing
	trap, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer trap.Close()
	opts := labOptions(s.Addr().String(), trap.LocalAddr().(*net.UDPAddr).Port)
	opts.DNS.AllowPrivateNS = false
	var d dnslab.Domain
	for _, x := range w.Domains() {
		if x.Kind == dnslab.KindFastFlux {
			d = x
			break
		}
	}
	col, p := runProber(t, opts, []string{d.Name})
	r := col.final[d.Name]
	if p.RefusedNS() == 0 {
		t.Error("no NS address refused")
	}
	if r.Verdict.Features.Authoritative {
		t.Error("authoritative answer obtained from a refused server")
	}
	trap.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, from, err := trap.ReadFrom(make([]byte, 512)); err == nil {
		t.Errorf("a refused server got a %d-byte packet from %v", n, from)
	}
	for _, o := range r.Rounds {
		if len(o.Servers) != 1 {
			t.Errorf("round %d asked %v", o.Round, o.Servers)
		}
	}
}

func TestSubmitPolicy(t *testing.T) {
	cfg := config.Default()
	cfg.DNS.InternalSuffixes = []string{"corp.example.com"}
	cfg.Probe.QueueSize = 2
	p, err := New(Options{DNS: cfg.DNS, Probe: cfg.Probe})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		want error
	}{
		{"host.corp.example.com", ErrRefused},
		{"printer.local", ErrRefused},
		{"db.internal", ErrRefused},
		{"nas.home.arpa", ErrRefused},
		{"4.3.168.192.in-addr.arpa", ErrRefused},
		{"10.in-addr.arpa", ErrRefused},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", ErrRefused},
		{"bad..name", ErrInvalid},
		{"192.0.2.1", ErrInvalid},
		{"wpad", ErrInvalid},
		{"", ErrInvalid},
		{"Example.BIZ.", nil},
		{"example.biz", nil}, // merged
		{"8.8.8.8.in-addr.arpa", nil},
		{"third.biz", ErrQueueFull},
	}
	for _, c := range cases {
		err := p.Submit(Candidate{Name: c.name, Priority: 1})
		if c.want == nil && err != nil || c.want != nil && !errorsIs(err, c.want) {
			t.Errorf("Submit(%q) = %v, want %v", c.name, err, c.want)
		}
	}
	if q, _ := p.Pending(); q != 2 {
		t.Errorf("%d queued, want 2", q)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown without start: %v", err)
	}
}

func TestNSAddrPolicy(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1": true, "10.1.2.3": true, "192.168.1.1": true, "172.16.5.5": true, "100.64.0.1": true,
		"169.254.1.1": true, "0.0.0.0": true, "224.0.0.1": true, "::1": true, "fe80::1": true, "fd00::1": true,
		"::ffff:10.0.0.1": true, "8.8.8.8": false, "2001:4860::8888": false, "193.0.14.129": false,
	}
	for ip, refused := range cases {
		if got := nsAddrRefused(mustAddr(ip), false); got != refused {
			t.Errorf("nsAddrRefused(%s) = %v, want %v", ip, got, refused)
		}
		if nsAddrRefused(mustAddr(ip), true) && ip == "127.0.0.1" {
			t.Errorf("lab mode refuses %s", ip)
		}
	}
}

// TestQueueSurvivesRestart: candidates waiting at shutdown are saved to the
// store and probed by the next prober.
func TestQueueSurvivesRestart(t *testing.T) {
	w, s := startLab(t, 4)
	path := filepath.Join(t.TempDir(), "state.db")
	store, err := obsstore.Open(path, obsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
	opts.Store = store
	first, err := New(opts) // never started: everything stays queued
	if err != nil {
		t.Fatal(err)
	}
	all := names(w)
	for _, n := range all {
		if err := first.Submit(Candidate{Name: n, Reason: "restart test", Priority: 7}); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	store.Close()
	store, err = obsstore.Open(path, obsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts.Store = store
	col := newCollector(len(all))
	opts.OnResult = col.on
	second, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	col.wait(t)
	second.Shutdown(context.Background())
	checkWorld(t, w, col, true)
	for _, r := range col.final {
		if r.Candidate.Reason != "restart test" || r.Candidate.Priority != 7 {
			t.Errorf("%s: candidate %+v after restart", r.Domain.ASCII, r.Candidate)
		}
	}
	if q, _ := store.LoadQueue(); len(q) != 0 {
		t.Errorf("%d candidates left in the stored queue after all finished", len(q))
	}
}

// TestQueueWriteThrough: accepted candidates reach the store without a
// Shutdown (a SIGKILL loses nothing flushed), and finished ones leave it.
func TestQueueWriteThrough(t *testing.T) {
	w, s := startLab(t, 6)
	store, err := obsstore.Open(filepath.Join(t.TempDir(), "state.db"), obsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
	opts.Store = store
	opts.Interval = time.Hour // nothing finishes before we look
	opts.Probe.MaxProbes = 2
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	all := names(w)
	for _, n := range all {
		if err := p.Submit(Candidate{Name: n, Reason: "wt", Priority: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if q, err := store.LoadQueue(); err != nil || len(q) != len(all) {
		t.Fatalf("stored queue %d entries (%v), want %d", len(q), err, len(all))
	}
	// raise one domain's priority: the store follows after a flush
	// (it may already be in progress: then nothing changes, also fine)
	p.Submit(Candidate{Name: all[0], Reason: "watchlist", Priority: 99})
	p.Flush()
	q, _ := store.LoadQueue()
	for _, c := range q {
		if c.Name == all[0] && c.Priority != 99 && c.Priority != 3 {
			t.Errorf("priority %d stored", c.Priority)
		}
	}
}

func TestQueueDeletedWhenDone(t *testing.T) {
	w, s := startLab(t, 6)
	store, err := obsstore.Open(filepath.Join(t.TempDir(), "state.db"), obsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
	opts.Store = store
	_, p := runProberNoShutdown(t, opts, names(w))
	// the last result is reported just before its domain leaves the plan
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if q, a := p.Pending(); q == 0 && a == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("domains still pending")
		}
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if q, _ := store.LoadQueue(); len(q) != 0 {
		t.Errorf("%d finished domains still in the stored queue", len(q))
	}
	p.Shutdown(context.Background())
}

func runProberNoShutdown(t *testing.T, opts Options, names []string) (*collector, *Prober) {
	t.Helper()
	col := newCollector(len(names))
	opts.OnResult = col.on
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := p.Submit(Candidate{Name: n, Reason: "test", Priority: 1}); err != nil {
			t.Fatal(err)
		}
	}
	col.wait(t)
	return col, p
}

// TestPlanResumesAfterRestart: a domain interrupted after round 1 continues
// with round 2 after a restart, keeping first_seen (and the detection ID).
func TestPlanResumesAfterRestart(t *testing.T) {
	w, s := startLab(t, 8)
	path := filepath.Join(t.TempDir(), "state.db")
	store, err := obsstore.Open(path, obsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var d dnslab.Domain
	for _, x := range w.Domains() {
		if x.Kind == dnslab.KindFastFlux {
			d = x
			break
		}
	}
	opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
	opts.Store = store
	opts.Interval = time.Hour
	first := make(chan Result, 1)
	opts.OnResult = func(r Result) { first <- r }
	p1, _ := New(opts)
	if err := p1.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	p1.Submit(Candidate{Name: d.Name, Reason: "resume", Priority: 5})
	r1 := <-first
	if r1.Round != 1 || r1.Final {
		t.Fatalf("first run: round %d final %v", r1.Round, r1.Final)
	}
	if err := p1.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	opts.Interval = 20 * time.Millisecond
	col := newCollector(1)
	var rounds []int
	var mu sync.Mutex
	opts.OnResult = func(r Result) {
		mu.Lock()
		rounds = append(rounds, r.Round)
		mu.Unlock()
		col.on(r)
	}
	p2, _ := New(opts)
	if err := p2.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	col.wait(t)
	p2.Shutdown(context.Background())
	r := col.final[d.Name]
	if rounds[0] != 2 {
		t.Errorf("after restart the rounds were %v, want to continue at 2", rounds)
	}
	if r.Detection == nil || r.Detection.FirstSeen != r1.Rounds[0].Time.Unix() {
		t.Errorf("detection %+v, want first_seen of the first run's round", r.Detection)
	}
}

// TestCymru: without an ASN database, Team Cymru's TXT service (played by
// the lab from its embedded table) supplies the ASNs.
func TestCymru(t *testing.T) {
	w, s := startLab(t, 9)
	opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
	opts.ASN = nil
	opts.Cymru = true
	col, p := runProber(t, opts, names(w))
	checkWorld(t, w, col, true)
	table := w.ASNTable()
	for _, r := range col.final {
		if r.Verdict.Features.NA > 0 && r.Verdict.Features.NASN == 0 {
			t.Errorf("%s: no ASNs through Cymru", r.Domain.ASCII)
		}
		for _, o := range r.Rounds {
			for _, a := range o.Answers {
				if want, _ := table.Lookup(a.Addr); a.ASN != want {
					t.Errorf("%s: AS%d via Cymru, table says AS%d", a.Addr, a.ASN, want)
				}
			}
		}
		if strings.Contains(strings.Join(r.Verdict.Reasons, ";"), "no ASN data") {
			t.Errorf("%s: %q", r.Domain.ASCII, r.Verdict.Reasons)
		}
	}
	_ = p
}

func TestCymruParse(t *testing.T) {
	cases := map[string]uint32{"7922 | 24.0.0.0/12 | US | arin | 2001-01-01": 7922, "23028 7018 | 216.90.108.0/24 | US | arin |": 23028, "NA | x": 0, "": 0}
	for in, want := range cases {
		if got, ok := ParseCymruTXT(in); got != want || ok != (want != 0) {
			t.Errorf("ParseCymruTXT(%q) = %d %v", in, got, ok)
		}
	}
	if n := CymruName(mustAddr("24.1.2.3")); n != "3.2.1.24.origin.asn.cymru.com" {
		t.Errorf("v4 name %s", n)
	}
	if n := CymruName(mustAddr("2001:db8::1")); n != "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.origin6.asn.cymru.com" {
		t.Errorf("v6 name %s", n)
	}
}

// TestStoreBounded: the prober prunes its store, so the history stays within
// max_domains without pipeline glue.
func TestStoreBounded(t *testing.T) {
	w, s := startLab(t, 11)
	store, err := obsstore.Open(filepath.Join(t.TempDir(), "state.db"), obsstore.Options{MaxDomains: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
	opts.Store = store
	opts.PruneInterval = 20 * time.Millisecond
	_, p := runProberNoShutdown(t, opts, names(w))
	defer p.Shutdown(context.Background())
	for deadline := time.Now().Add(10 * time.Second); store.Len() > 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d histories stored, bound 3", store.Len())
		}
	}
}
