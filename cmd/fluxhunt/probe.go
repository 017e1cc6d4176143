package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/detect/fastflux"
	"github.com/fluxhunt/fluxhunt/enrich/asn"
	"github.com/fluxhunt/fluxhunt/enrich/prober"
	"github.com/fluxhunt/fluxhunt/schema"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// probeOutput is one line of `fluxhunt probe` (DESIGN.md).
type probeOutput struct {
	Domain        string   `json:"domain"`
	Verdict       string   `json:"verdict"`
	Reasons       []string `json:"reasons"`
	Probes        int      `json:"probes"`
	NA            int      `json:"n_a"`
	NASN          int      `json:"n_asn"`
	NPrefix24     int      `json:"n_prefix24"`
	NPrefix16     int      `json:"n_prefix16"`
	NNS           int      `json:"n_ns"`
	TTLMin        int64    `json:"ttl_min"`
	TTLMax        int64    `json:"ttl_max"`
	Authoritative bool     `json:"authoritative"`
	HolzScore     float64  `json:"holz_score"`
	failed        bool     // could not be probed at all
}

func cmdProbe(ctx context.Context, e *env) int {
	fs := newFlagSet(e, "probe", "[--config F] [--resolver ADDR] [--asn-db FILE]... [--probes N] [--interval D] [--no-authoritative] DOMAIN...")
	file := fs.String("config", "", "configuration file (YAML)")
	var resolvers, asnDBs listFlag
	fs.Var(&resolvers, "resolver", "resolver `ADDR` (host:port; repeatable; default dns.resolvers)")
	fs.Var(&asnDBs, "asn-db", "ip-location-db CSV (plain or gzip, IPv4 or IPv6) or MaxMind ASN .mmdb `FILE` (repeatable; default asn.db)")
	probes := fs.Int("probes", 0, "probes per domain (default probe.max_probes, 3)")
	interval := fs.Duration("interval", 0, "time between probes (default: the TTL, at least 1s)")
	noAuth := fs.Bool("no-authoritative", false, "ask only the resolver, never the zone's own servers")
	if rc := parseFlags(fs, e.args); rc >= 0 {
		return rc
	}
	domains := fs.Args()
	if len(domains) == 0 {
		fs.Usage()
		return exitConfig
	}
	if *interval < 0 {
		fmt.Fprintf(e.stderr, "fluxhunt probe: --interval %s: want a positive duration, e.g. 30s\n", *interval)
		return exitConfig
	}
	log := newLogger(e.stderr, "warn", "text")
	ov := map[string]string{}
	if len(resolvers) > 0 {
		ov["dns.resolvers"] = resolvers.String()
	}
	if len(asnDBs) > 0 {
		ov["asn.db"] = asnDBs.String()
	}
	if *probes != 0 {
		ov["probe.max_probes"] = strconv.Itoa(*probes)
	}
	if *noAuth {
		ov["dns.authoritative"] = "false"
	}
	cfg := loadConfig(e, *file, ov, log)
	if cfg == nil {
		return exitConfig
	}
	var table *asn.Table
	if len(cfg.ASN.DB) > 0 {
		t, err := asn.Load(cfg.ASN.DB...)
		if err != nil {
			fmt.Fprintf(e.stderr, "fluxhunt probe: key asn.db: %v\n", err)
			return exitConfig
		}
		for _, w := range t.Warnings {
			log.Warn("asn database row skipped", "where", w)
		}
		table = t
	}
	pc := cfg.Probe
	pc.MinInterval = config.Duration(time.Second)
	pc.QueueSize = max(pc.QueueSize, len(domains))

	results := make([]*probeOutput, len(domains))
	idx := map[string][]int{}
	var mu sync.Mutex
	next := 0
	emit := func() { // print the finished prefix, in argument order
		for next < len(results) && results[next] != nil {
			b, _ := json.Marshal(results[next])
			fmt.Fprintln(e.stdout, string(b))
			next++
		}
	}
	done := make(chan struct{})
	remaining := len(domains)
	finish := func(i int, out *probeOutput) {
		results[i] = out
		remaining--
		emit()
		if remaining == 0 {
			close(done)
		}
	}
	onResult := func(r prober.Result) {
		if !r.Final {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, i := range idx[r.Domain.ASCII] {
			if results[i] == nil {
				finish(i, outputOf(r.Domain.ASCII, r.Verdict))
			}
		}
	}
	var asnLookup prober.ASNLookup
	if table != nil {
		asnLookup = table
	}
	p, err := prober.New(prober.Options{DNS: cfg.DNS, Probe: pc, Instance: cfg.Instance, ASN: asnLookup, Cymru: cfg.ASN.Cymru, OnResult: onResult, Interval: *interval, Logger: log})
	if err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt probe: %v\n", err)
		return exitConfig
	}
	if err := p.Start(ctx); err != nil {
		fmt.Fprintf(e.stderr, "fluxhunt probe: %v\n", err)
		return exitFail
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.Shutdown(sctx)
	}()
	mu.Lock()
	for i, d := range domains {
		n, err := schema.CanonicalName(d)
		if err == nil {
			idx[n] = append(idx[n], i)
			if len(idx[n]) > 1 {
				continue // probed once, printed at each position
			}
			err = p.Submit(prober.Candidate{Name: n, Reason: "command line", Priority: prober.PriorityWatchlist})
			if err == nil {
				continue
			}
			delete(idx, n)
			// a duplicate of this name still pending is left for onResult
		} else {
			n = schema.EscapeDisplay(strings.TrimSpace(d))
		}
		reason := err.Error()
		switch {
		case errors.Is(err, prober.ErrRefused):
			reason = "refused: " + strings.TrimPrefix(err.Error(), "prober: submit ")
		case errors.Is(err, schema.ErrInvalidName), errors.Is(err, prober.ErrInvalid):
			reason = "invalid domain name: " + err.Error()
		}
		finish(i, &probeOutput{Domain: n, Verdict: fastflux.VerdictUnresolved, Reasons: []string{reason}, failed: true})
	}
	mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		fmt.Fprintln(e.stderr, "fluxhunt probe: interrupted")
		return exitFail
	}
	for _, r := range results {
		if r.failed {
			return exitFail
		}
	}
	return exitOK
}

func outputOf(domain string, r fastflux.Result) *probeOutput {
	f := r.Features
	return &probeOutput{
		Domain: domain, Verdict: r.Verdict, Reasons: r.Reasons, Probes: f.Rounds,
		NA: f.NA, NASN: f.NASN, NPrefix24: f.NPrefix24, NPrefix16: f.NPrefix16, NNS: f.NNS,
		TTLMin: max(f.TTLMin, 0), TTLMax: f.TTLMax, Authoritative: f.Authoritative,
		HolzScore: math.Round(f.Holz*100) / 100,
		failed:    f.Probes == 0 && f.NXDomain == 0,
	}
}
