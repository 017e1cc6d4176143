package main

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/enrich/asn"
	"github.com/fluxhunt/fluxhunt/enrich/prober"
	"github.com/fluxhunt/fluxhunt/schema"
)

// Fast-flux candidates of a scan (FluxBuster's filter, Perdisci et al.):
// answers with a TTL of at most 3 h and at least 3 distinct addresses over
// the log. Memory is bounded: at most maxFluxDomains domains, each with at
// most maxFluxAddrs addresses remembered.
const (
	maxFluxDomains = 20_000
	maxFluxAddrs   = 16
	maxFluxTTL     = 3 * 3600
	maxProbed      = 500
)

type fluxCand struct {
	addrs map[netip.Addr]struct{}
	ttl   int64
	why   string
}

type fluxTracker struct {
	m       map[string]*fluxCand
	dropped int64
}

func newFluxTracker() *fluxTracker { return &fluxTracker{m: map[string]*fluxCand{}} }

func (f *fluxTracker) observe(r *schema.DNSRow) {
	if r.ReplyCode != schema.RCodeNoError || len(r.Answers) == 0 || r.TTL < 0 || r.TTL > maxFluxTTL ||
		(r.RecordType != "A" && r.RecordType != "AAAA") {
		return
	}
	c := f.m[r.Query.ASCII]
	if c == nil {
		if len(f.m) >= maxFluxDomains {
			f.dropped++
			return
		}
		c = &fluxCand{addrs: map[netip.Addr]struct{}{}, ttl: r.TTL}
		f.m[r.Query.ASCII] = c
	}
	c.ttl = min(c.ttl, r.TTL)
	for _, a := range r.Answers {
		if len(c.addrs) >= maxFluxAddrs {
			break
		}
		if ip, err := netip.ParseAddr(a); err == nil {
			c.addrs[ip.Unmap()] = struct{}{}
		}
	}
}

// candidates gives the domains worth probing, the most addresses first,
// with the generated-looking names that resolved (from dga detections).
func (f *fluxTracker) candidates(resolved []string) []prober.Candidate {
	type kv struct {
		name string
		n    int
	}
	var l []kv
	for n, c := range f.m {
		if len(c.addrs) >= 3 {
			l = append(l, kv{n, len(c.addrs)})
		}
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].name < l[j].name
	})
	var out []prober.Candidate
	seen := map[string]bool{}
	for _, r := range resolved {
		if !seen[r] {
			seen[r] = true
			out = append(out, prober.Candidate{Name: r, Reason: "generated-looking name that resolved", Priority: prober.PriorityWatchlist})
		}
	}
	for _, x := range l {
		if len(out) >= maxProbed {
			break
		}
		if !seen[x.name] {
			seen[x.name] = true
			out = append(out, prober.Candidate{Name: x.name, Reason: fmt.Sprintf("%d addresses, TTL <= 3h in the log", x.n)})
		}
	}
	return out
}

// probeCandidates re-resolves the candidates with the prober and returns
// the fast_flux detections, in candidate order.
func probeCandidates(ctx context.Context, e *env, cfg *config.Config, interval time.Duration, cands []prober.Candidate) ([]schema.Detection, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	log := newLogger(e.stderr, "warn", "text")
	var lookup prober.ASNLookup
	if len(cfg.ASN.DB) > 0 {
		t, err := asn.Load(cfg.ASN.DB...)
		if err != nil {
			return nil, fmt.Errorf("key asn.db: %w", err)
		}
		lookup = t
	}
	pc := cfg.Probe
	pc.QueueSize = max(pc.QueueSize, len(cands))
	if interval > 0 {
		pc.MinInterval = config.Duration(min(interval, time.Second))
	}
	var mu sync.Mutex
	results := map[string]*schema.Detection{}
	pending := map[string]bool{}
	done := make(chan struct{})
	onResult := func(r prober.Result) {
		if !r.Final {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !pending[r.Domain.ASCII] {
			return
		}
		delete(pending, r.Domain.ASCII)
		results[r.Domain.ASCII] = r.Detection
		if len(pending) == 0 {
			close(done)
		}
	}
	p, err := prober.New(prober.Options{DNS: cfg.DNS, Probe: pc, Instance: cfg.Instance, ASN: lookup, OnResult: onResult, Interval: interval, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.Shutdown(sctx)
	}()
	mu.Lock()
	var order []string
	for _, c := range cands {
		pending[c.Name] = true
		if err := p.Submit(c); err != nil {
			delete(pending, c.Name)
			fmt.Fprintf(e.stderr, "fluxhunt scan: probe %s: %v\n", c.Name, err)
			continue
		}
		order = append(order, c.Name)
	}
	if len(pending) == 0 {
		close(done)
	}
	mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("probing interrupted: %w", ctx.Err())
	}
	mu.Lock()
	defer mu.Unlock()
	var out []schema.Detection
	for _, n := range order {
		if d := results[n]; d != nil && d.DetectionType == schema.TypeFastFlux {
			out = append(out, *d)
		}
	}
	return out, nil
}
