// Package pipeline joins fluxhunt's parts: it takes each poll window's DNS
// and flow rows, runs the host detectors, picks probe candidates, confirms
// fast flux with flows, gives every finding its identity (detection_id,
// revision) and suppression, and hands what is news to the HEC writer. A
// window is accepted (and the poller's checkpoint may advance) only after
// every detection it caused is durably spooled and the detector state is
// saved, so a restart neither forgets nor re-emits.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/fluxhunt/fluxhunt/connector/hec"
	"github.com/fluxhunt/fluxhunt/detect/fluxcontact"
	"github.com/fluxhunt/fluxhunt/detect/suppress"
	"github.com/fluxhunt/fluxhunt/schema"
)

// Sender takes events for delivery; it returns once they are durable
// (spooled), or an error. SendBatch spools several in one disk commit.
type Sender interface {
	Send(ctx context.Context, ev schema.Envelope) error
	SendBatch(ctx context.Context, evs []schema.Envelope) error
}

// HostDetector is the per-host NXDOMAIN/DGA detector: it takes a window's
// DNS rows and returns detections; its state is a JSON snapshot.
type HostDetector interface {
	Observe(rows []schema.DNSRow, now time.Time) []schema.Detection
	json.Marshaler
	json.Unmarshaler
}

// NameScorer scores one normalised name for being generated.
type NameScorer interface {
	ScoreName(n schema.Name) (float64, bool)
	Threshold() float64
}

// ProbeQueue takes probe candidates. Submit reports whether the domain was
// queued (false: already queued, refused, or the queue is full).
type ProbeQueue interface {
	Submit(domain, reason string, priority float64) bool
}

// FlowLookback finds flows to addresses in the past (a pushed-down search
// in Splunk), for contacts made before a domain was classified.
type FlowLookback interface {
	// LookbackAnswers finds which hosts resolved domain, to which
	// addresses (host -> answers).
	LookbackAnswers(ctx context.Context, domain string, earliest, latest time.Time) (map[string][]string, error)
	// LookbackFlows finds flows to the addresses.
	LookbackFlows(ctx context.Context, addrs []netip.Addr, earliest, latest time.Time) ([]schema.FlowRow, error)
}

// Allowlist says which names and hosts are never news.
type Allowlist interface {
	MatchName(ascii string) bool
	MatchHost(src string) bool
}

// StateStore persists the detector snapshots.
type StateStore interface {
	Put(key string, value []byte) error
	Get(key string) ([]byte, error) // nil, nil when absent
}

// CandidateFunc says whether a resolved DNS row is worth probing (low TTL,
// many addresses), with the reason; enrich/prober.CandidateFromRow is the
// one fluxhunt uses.
type CandidateFunc func(schema.DNSRow) (reason string, ok bool)

// Config tunes the pipeline.
type Config struct {
	Instance       string
	Index          string
	SuppressWindow time.Duration
	DGAThreshold   float64
	Lookback       time.Duration // flow look-back on a new fast-flux domain (default 24 h; unused with a nil FlowLookback)
	ProbeSample    float64       // share of probe rounds written as fluxhunt:probe (default 1)
	// SaveInCommit: ConsumeWindow does not save the state; the caller
	// saves it with SaveTx inside the transaction that advances the poll
	// checkpoint, so a window's state and the checkpoint past it are
	// written together (exactly once across crashes).
	SaveInCommit bool
}

// Deps are the parts the pipeline drives. Scorer, Prober, Lookback, Allow
// and State may be nil.
type Deps struct {
	Sender Sender
	Hosts  HostDetector
	Scorer NameScorer
	Prober ProbeQueue
	// Candidate picks probe candidates among resolved rows; nil: only the
	// watchlist and DGA-looking names that resolved are probed.
	Candidate CandidateFunc
	Lookback  FlowLookback
	Allow     func() Allowlist // the current allowlist (file + Splunk lookup), read each window
	Watch     func() Allowlist // the current watchlist: names always probed
	State     StateStore
	Logger    *slog.Logger
	Registry  prometheus.Registerer
}

// Pipeline is safe for concurrent use: windows from the poller and results
// from the prober are serialised.
type Pipeline struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	mu      sync.Mutex // the detector state
	tracker *suppress.Tracker

	pmu     sync.Mutex // the pending snapshot; never held across I/O
	pending map[string][]byte
	flux    *fluxcontact.Table

	m metrics
}

type metrics struct {
	windows    prometheus.Counter
	rowsDNS    prometheus.Counter
	rowsFlow   prometheus.Counter
	allowed    prometheus.Counter
	candidates prometheus.Counter
	detections *prometheus.CounterVec // by detection_type
	suppressed *prometheus.CounterVec
	errors     *prometheus.CounterVec // by stage
}

const (
	stateTracker = "suppress"
	stateFlux    = "fluxcontact"
	stateHosts   = "hosts"
)

// New builds a pipeline and restores its state.
func New(cfg Config, deps Deps) (*Pipeline, error) {
	if deps.Sender == nil || deps.Hosts == nil {
		return nil, errors.New("pipeline: Sender and Hosts are required")
	}
	if cfg.SuppressWindow <= 0 {
		cfg.SuppressWindow = 6 * time.Hour
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = 24 * time.Hour
	}
	if cfg.ProbeSample <= 0 {
		cfg.ProbeSample = 1
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	p := &Pipeline{
		cfg: cfg, deps: deps, log: deps.Logger,
		tracker: suppress.New(suppress.Config{Window: cfg.SuppressWindow}),
		flux:    fluxcontact.New(fluxcontact.Config{}),
	}
	f := prometheus.WrapRegistererWithPrefix("fluxhunt_pipeline_", deps.Registry)
	p.m = metrics{
		windows:    prometheus.NewCounter(prometheus.CounterOpts{Name: "windows_total", Help: "Poll windows accepted."}),
		rowsDNS:    prometheus.NewCounter(prometheus.CounterOpts{Name: "dns_rows_total", Help: "DNS rows processed."}),
		rowsFlow:   prometheus.NewCounter(prometheus.CounterOpts{Name: "flow_rows_total", Help: "Flow rows processed."}),
		allowed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "allowlisted_rows_total", Help: "DNS rows dropped by the allowlist."}),
		candidates: prometheus.NewCounter(prometheus.CounterOpts{Name: "probe_candidates_total", Help: "Domains queued for probing."}),
		detections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "detections_total", Help: "Detections emitted, by type."}, []string{"detection_type"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "suppressed_total", Help: "Detections suppressed (unchanged within the window or allowlisted), by type."}, []string{"detection_type"}),
		errors:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "errors_total", Help: "Errors, by stage."}, []string{"stage"}),
	}
	for _, c := range []prometheus.Collector{p.m.windows, p.m.rowsDNS, p.m.rowsFlow, p.m.allowed, p.m.candidates, p.m.detections, p.m.suppressed, p.m.errors} {
		if err := f.Register(c); err != nil {
			return nil, fmt.Errorf("pipeline: register metrics: %w", err)
		}
	}
	if err := p.restore(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Pipeline) restore() error {
	if p.deps.State == nil {
		return nil
	}
	for _, s := range []struct {
		key string
		v   json.Unmarshaler
	}{{stateTracker, p.tracker}, {stateFlux, p.flux}, {stateHosts, p.deps.Hosts}} {
		b, err := p.deps.State.Get(s.key)
		if err != nil {
			return fmt.Errorf("pipeline: restore %s: %w", s.key, err)
		}
		if b == nil {
			continue
		}
		if err := s.v.UnmarshalJSON(b); err != nil {
			return fmt.Errorf("pipeline: restore %s: %w", s.key, err)
		}
	}
	return nil
}

// snapshot marshals the state; the caller holds p.mu. It becomes the
// pending snapshot, written by SaveTx (in the poller's checkpoint
// transaction) or by Flush.
func (p *Pipeline) snapshot() error {
	snap := map[string][]byte{}
	for _, s := range []struct {
		key string
		v   json.Marshaler
	}{{stateTracker, p.tracker}, {stateFlux, p.flux}, {stateHosts, p.deps.Hosts}} {
		b, err := s.v.MarshalJSON()
		if err != nil {
			p.m.errors.WithLabelValues("state").Inc()
			return fmt.Errorf("pipeline: save %s: %w", s.key, err)
		}
		snap[s.key] = b
	}
	p.pmu.Lock()
	p.pending = snap
	p.pmu.Unlock()
	return nil
}

func (p *Pipeline) takePending() map[string][]byte {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	snap := p.pending
	p.pending = nil
	return snap
}

// Flush writes the pending snapshot to the StateStore. It must not be
// called inside a transaction of the same database.
func (p *Pipeline) Flush() error {
	snap := p.takePending()
	if snap == nil || p.deps.State == nil {
		return nil
	}
	for _, k := range []string{stateTracker, stateFlux, stateHosts} {
		if err := p.deps.State.Put(k, snap[k]); err != nil {
			p.m.errors.WithLabelValues("state").Inc()
			// Keep it pending for the next try.
			p.pmu.Lock()
			if p.pending == nil {
				p.pending = snap
			}
			p.pmu.Unlock()
			return fmt.Errorf("pipeline: save %s: %w", k, err)
		}
	}
	return nil
}

// SaveTx writes the pending snapshot inside tx (the poller's checkpoint
// transaction). It takes no lock that a holder could keep while waiting for
// the database, so it cannot deadlock with Send or Flush.
func (p *Pipeline) SaveTx(tx *bolt.Tx) error {
	snap := p.takePending()
	if snap == nil {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(stateBucket)
	if err != nil {
		return fmt.Errorf("pipeline: save: %w", err)
	}
	for _, k := range []string{stateTracker, stateFlux, stateHosts} {
		if err := b.Put([]byte(k), snap[k]); err != nil {
			return fmt.Errorf("pipeline: save %s: %w", k, err)
		}
	}
	return nil
}

// ConsumeWindow processes one poll window [start, end). It returns nil only
// when every resulting detection is spooled and the state saved: then the
// poller may advance its checkpoint.
func (p *Pipeline) ConsumeWindow(ctx context.Context, start, end time.Time, dns []schema.DNSRow, flows []schema.FlowRow) error {
	if err := p.consume(ctx, end, dns, flows); err != nil {
		return err
	}
	if err := p.lookbackFresh(ctx, end); err != nil {
		return err
	}
	p.m.windows.Inc()
	if p.cfg.SaveInCommit {
		return nil
	}
	return p.Flush()
}

func (p *Pipeline) consume(ctx context.Context, end time.Time, dns []schema.DNSRow, flows []schema.FlowRow) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	allow := p.allow()
	kept := dns[:0:0]
	for i := range dns {
		r := &dns[i]
		if allow != nil && (allow.MatchHost(r.Src) || allow.MatchName(r.Query.ASCII)) {
			p.m.allowed.Inc()
			continue
		}
		kept = append(kept, *r)
	}
	p.m.rowsDNS.Add(float64(len(dns)))
	p.m.rowsFlow.Add(float64(len(flows)))
	dets := p.deps.Hosts.Observe(kept, end)
	p.pickCandidates(kept, end)
	var keptFlows []schema.FlowRow
	for _, f := range flows {
		if allow != nil && allow.MatchHost(f.Src) {
			continue
		}
		keptFlows = append(keptFlows, f)
	}
	dets = append(dets, p.flux.Observe(keptFlows, end)...)
	if err := p.emit(ctx, dets, end, allow); err != nil {
		return err
	}
	return p.snapshot()
}

func (p *Pipeline) allow() Allowlist {
	if p.deps.Allow == nil {
		return nil
	}
	return p.deps.Allow()
}

// pickCandidates queues resolved names worth probing: low TTL with many
// addresses (FluxBuster's filter), DGA-looking names that resolved, and the
// watchlist; it records their passive answers for flow confirmation.
func (p *Pipeline) pickCandidates(rows []schema.DNSRow, now time.Time) {
	var watch Allowlist
	if p.deps.Watch != nil {
		watch = p.deps.Watch()
	}
	threshold := p.cfg.DGAThreshold
	if threshold == 0 && p.deps.Scorer != nil {
		threshold = p.deps.Scorer.Threshold()
	}
	for i := range rows {
		r := &rows[i]
		if r.ReplyCode != schema.RCodeNoError || len(r.Answers) == 0 {
			continue
		}
		if r.RecordType != "" && r.RecordType != "A" && r.RecordType != "AAAA" {
			continue
		}
		name := r.Query.ASCII
		reason, prio := "", 0.0
		if watch != nil && watch.MatchName(name) {
			reason, prio = "on the watchlist", 1
		} else if p.deps.Candidate != nil {
			if why, ok := p.deps.Candidate(*r); ok {
				reason, prio = why, 0.5
			}
		}
		if reason == "" && p.deps.Scorer != nil {
			if s, ok := p.deps.Scorer.ScoreName(r.Query); ok && s >= threshold {
				reason, prio = fmt.Sprintf("generated-looking name (DGA score %.2f) that resolved", s), 0.8
			}
		}
		if reason == "" {
			if p.flux.IsFlux(name) {
				p.flux.NotePassive(r.Src, name, r.Answers, now)
			}
			continue
		}
		p.flux.NotePassive(r.Src, name, r.Answers, now)
		if p.deps.Prober != nil && p.deps.Prober.Submit(name, reason, prio) {
			p.m.candidates.Inc()
		}
	}
}

// emit admits detections through the tracker and spools what is news.
func (p *Pipeline) emit(ctx context.Context, dets []schema.Detection, now time.Time, allow Allowlist) error {
	sort.SliceStable(dets, func(i, j int) bool {
		if dets[i].DetectionType != dets[j].DetectionType {
			return dets[i].DetectionType < dets[j].DetectionType
		}
		return suppress.Subject(&dets[i]) < suppress.Subject(&dets[j])
	})
	var evs []schema.Envelope
	var outs []schema.Detection
	for _, d := range dets {
		if allow != nil && ((d.Domain != "" && allow.MatchName(d.Domain)) || (d.Src != "" && allow.MatchHost(d.Src))) {
			p.m.suppressed.WithLabelValues(d.DetectionType).Inc()
			continue
		}
		out, ok := p.tracker.Admit(d, now)
		if !ok {
			p.m.suppressed.WithLabelValues(d.DetectionType).Inc()
			continue
		}
		ev := schema.Envelope{
			Time:       float64(max(out.LastSeen, out.FirstSeen)),
			Host:       p.cfg.Instance,
			Source:     schema.Source,
			Sourcetype: schema.SourcetypeDetection,
			Index:      p.cfg.Index,
			Event:      out,
		}
		evs = append(evs, ev)
		outs = append(outs, out)
	}
	if len(evs) == 0 {
		return nil
	}
	if err := p.deps.Sender.SendBatch(ctx, evs); err != nil {
		p.m.errors.WithLabelValues("send").Inc()
		if ctx.Err() != nil || !(errors.Is(err, hec.ErrEventTooLarge) || errors.Is(err, hec.ErrInvalidEvent)) {
			return fmt.Errorf("pipeline: spool %d detections: %w", len(evs), err)
		}
		// Refused up front and dead-lettered by the writer; the others
		// were spooled.
		p.log.Error("detections refused by the HEC writer (dead-lettered)", "err", err)
	}
	for _, out := range outs {
		p.m.detections.WithLabelValues(out.DetectionType).Inc()
		p.log.Info("detection", "type", out.DetectionType, "src", out.Src, "domain", out.Domain, "severity", out.Severity, "revision", out.Revision)
	}
	return nil
}

// FastFlux takes a fast_flux verdict from the prober: the detection, the
// addresses probed, and the time of the verdict. It records the addresses
// for flow confirmation, emits the detection, and, the first time the domain
// is classified, looks back in Splunk for flows made before.
func (p *Pipeline) FastFlux(ctx context.Context, det schema.Detection, addrs []netip.Addr, at time.Time) error {
	p.mu.Lock()
	isNew := !p.flux.IsFlux(det.Domain)
	all := p.flux.AddFlux(det.Domain, addrs, at)
	err := p.emit(ctx, []schema.Detection{det}, at, p.allow())
	if err == nil {
		err = p.snapshot()
	}
	p.mu.Unlock()
	if err == nil && !p.cfg.SaveInCommit {
		err = p.Flush()
	}
	if err != nil || !isNew || p.deps.Lookback == nil {
		return err
	}
	earliest := at.Add(-p.cfg.Lookback)
	// Who resolved the domain before it was known, to what: their answers
	// join the domain's addresses, and each host's own lookups attribute
	// its flows.
	answers, lerr := p.deps.Lookback.LookbackAnswers(ctx, det.Domain, earliest, at)
	if lerr != nil {
		p.m.errors.WithLabelValues("lookback").Inc()
		p.log.Warn("DNS look-back search failed", "domain", det.Domain, "err", lerr)
	}
	p.mu.Lock()
	srcs := make([]string, 0, len(answers))
	for src := range answers {
		srcs = append(srcs, src)
	}
	sort.Strings(srcs)
	for _, src := range srcs {
		p.flux.NotePassive(src, det.Domain, answers[src], at)
	}
	all = append(p.flux.AddFlux(det.Domain, nil, at), p.flux.TakeFresh()...)
	p.mu.Unlock()
	if len(all) == 0 {
		return nil
	}
	rows, lerr := p.deps.Lookback.LookbackFlows(ctx, all, earliest, at)
	if lerr != nil {
		p.m.errors.WithLabelValues("lookback").Inc()
		p.log.Warn("flow look-back search failed", "domain", det.Domain, "err", lerr)
		return nil
	}
	p.mu.Lock()
	err = p.emit(ctx, p.flux.Observe(rows, at), at, p.allow())
	if err == nil {
		err = p.snapshot()
	}
	p.mu.Unlock()
	if err == nil && !p.cfg.SaveInCommit {
		err = p.Flush()
	}
	return err
}

// lookbackFresh searches flows to addresses that this window's passive
// answers added to known flux domains: contacts made before the address was
// known (a flow indexed before the lookup that led to it).
func (p *Pipeline) lookbackFresh(ctx context.Context, at time.Time) error {
	if p.deps.Lookback == nil {
		return nil
	}
	p.mu.Lock()
	fresh := p.flux.TakeFresh()
	p.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	rows, err := p.deps.Lookback.LookbackFlows(ctx, fresh, at.Add(-p.cfg.Lookback), at)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		p.m.errors.WithLabelValues("lookback").Inc()
		p.log.Warn("flow look-back search failed", "addresses", len(fresh), "err", err)
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.emit(ctx, p.flux.Observe(rows, at), at, p.allow()); err != nil {
		return err
	}
	return p.snapshot()
}

// Probe spools a fluxhunt:probe summary (sampled per Config.ProbeSample by
// round number, deterministically).
func (p *Pipeline) Probe(ctx context.Context, ev schema.ProbeEvent, at time.Time) error {
	if p.cfg.ProbeSample < 1 && float64(ev.Round%100)/100 >= p.cfg.ProbeSample {
		return nil
	}
	return p.deps.Sender.Send(ctx, schema.Envelope{Time: schema.EpochSeconds(at), Host: p.cfg.Instance, Source: schema.Source,
		Sourcetype: schema.SourcetypeProbe, Index: p.cfg.Index, Event: ev})
}

// IsFlux reports whether a domain is known fast flux.
func (p *Pipeline) IsFlux(domain string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flux.IsFlux(domain)
}
