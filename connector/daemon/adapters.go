package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fluxhunt/fluxhunt/connector/poll"
	"github.com/fluxhunt/fluxhunt/connector/search"
	"github.com/fluxhunt/fluxhunt/detect/nxdomain"
	"github.com/fluxhunt/fluxhunt/enrich/prober"
	"github.com/fluxhunt/fluxhunt/schema"
)

// hostDetector adapts the NXDOMAIN detector (row at a time, binary state)
// to the pipeline (window at a time, JSON state).
type hostDetector struct{ d *nxdomain.Detector }

func (h hostDetector) Observe(rows []schema.DNSRow, _ time.Time) []schema.Detection {
	var out []schema.Detection
	for _, r := range rows {
		out = append(out, h.d.Observe(r)...)
	}
	return out
}

func (h hostDetector) MarshalJSON() ([]byte, error) {
	b, err := h.d.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf("%q", b)), nil
}

func (h hostDetector) UnmarshalJSON(b []byte) error {
	var s string
	if _, err := fmt.Sscanf(string(b), "%q", &s); err != nil {
		return fmt.Errorf("nxdomain state: %w", err)
	}
	return h.d.UnmarshalBinary([]byte(s))
}

// probeQueue adapts the prober's Submit.
type probeQueue struct{ p *prober.Prober }

func (q probeQueue) Submit(domain, reason string, priority float64) bool {
	prio := prober.PriorityLowTTL
	switch {
	case priority >= 1:
		prio = prober.PriorityWatchlist
	case priority >= 0.8:
		prio = prober.PriorityDGA
	}
	err := q.p.Submit(prober.Candidate{Name: domain, Reason: reason, Priority: prio})
	return err == nil
}

// candidateFromRow is the prober's intake filter of passive DNS rows.
func candidateFromRow(r schema.DNSRow) (string, bool) {
	c, ok := prober.CandidateFromRow(r)
	return c.Reason, ok
}

// lookback searches Splunk for flows to a fast-flux domain's addresses
// before the domain was classified, pushed down to the indexers.
type lookback struct{ c *search.Client }

func (l lookback) LookbackFlows(ctx context.Context, addrs []netip.Addr, earliest, latest time.Time) ([]schema.FlowRow, error) {
	if len(addrs) > 500 {
		addrs = addrs[:500]
	}
	terms := make([]string, len(addrs))
	for i, a := range addrs {
		terms[i] = fmt.Sprintf("dest=%q", a.String())
	}
	q := search.Query{
		Search: "search `fluxhunt_flow_source` (" + strings.Join(terms, " OR ") + ")" +
			" | stats min(_time) as _time sum(bytes) as bytes sum(packets) as packets count by src dest dest_port transport",
		EarliestTime: earliest, LatestTime: latest,
	}
	var rows []schema.FlowRow
	_, err := l.c.Search(ctx, q, func(f schema.Fields) error {
		if r, err := schema.ParseFlowRow(f); err == nil {
			rows = append(rows, r)
		}
		return nil
	})
	return rows, err
}

func (l lookback) LookbackAnswers(ctx context.Context, domain string, earliest, latest time.Time) (map[string][]string, error) {
	q := search.Query{
		Search:       fmt.Sprintf("search `fluxhunt_dns_source` query=%q | stats values(answer) as answer by src", domain),
		EarliestTime: earliest, LatestTime: latest,
	}
	out := map[string][]string{}
	_, err := l.c.Search(ctx, q, func(f schema.Fields) error {
		src, ok := f.Get("src")
		if ok && len(out) < 10000 {
			out[src] = append(out[src], f["answer"]...)
		}
		return nil
	})
	return out, err
}

// consumer hands poll windows to the pipeline.
type consumer struct{ d *Daemon }

// CommitWindow saves the pipeline's state in the transaction that moves the
// checkpoint past w.
func (c consumer) CommitWindow(tx *bolt.Tx, _ poll.Window) error { return c.d.pl.SaveTx(tx) }

func (c consumer) ConsumeWindow(ctx context.Context, w poll.Window, dns []schema.DNSRow, flows []schema.FlowRow) error {
	if err := c.d.pl.ConsumeWindow(ctx, w.Start, w.End, dns, flows); err != nil {
		return err
	}
	// The candidates this window queued are on disk before the checkpoint
	// moves past it.
	if err := c.d.pr.Flush(); err != nil {
		return fmt.Errorf("daemon: save probe queue: %w", err)
	}
	return nil
}
