// Package prober re-resolves candidate domains repeatedly, through the
// configured resolvers and directly at their authoritative servers, and
// classifies them with detect/fastflux. It owns fluxhunt's DNS I/O: a
// worker pool over long-lived UDP sockets (EDNS0 1232, TCP on truncation,
// replies validated by ID, question and source address), polite rate
// limits, and safety rules (internal names never probed, private NS
// addresses refused outside the lab).
package prober

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/detect/fastflux"
	"github.com/fluxhunt/fluxhunt/enrich/obsstore"
	"github.com/fluxhunt/fluxhunt/schema"
)

// Candidate is a domain to probe; Priority orders the queue (higher
// first), Reason is kept for the log and the detection's context.
type Candidate = obsstore.Candidate

// Priorities the pipeline uses.
const (
	PriorityWatchlist = 100
	PriorityDGA       = 50 // DGA-scored names that resolved
	PriorityLowTTL    = 20 // low TTLs or many answers in the DNS rows
)

// Errors of Submit.
var (
	ErrRefused      = errors.New("name must not be probed")
	ErrInvalid      = errors.New("not a probeable domain name")
	ErrQueueFull    = errors.New("probe queue full")
	ErrRecentlyDone = errors.New("probed recently")
	ErrShuttingDown = errors.New("prober shutting down")
)

// ASNLookup maps an address to its AS (enrich/asn.Table).
type ASNLookup interface {
	Lookup(netip.Addr) (uint32, bool)
	Name(uint32) string
	Len() int
}

// Store keeps probe history and the queue (enrich/obsstore.Store).
type Store interface {
	Append(domain string, o fastflux.Observation, verdict string, now time.Time) error
	SaveQueue([]obsstore.Candidate) error
	UpdateQueue(put []obsstore.Candidate, del []string) error
	LoadQueue() ([]obsstore.Candidate, error)
	History(domain string) (obsstore.History, bool, error)
}

// Result is reported after every round of a domain.
type Result struct {
	Domain    schema.Name
	Candidate Candidate
	Round     int
	Event     schema.ProbeEvent      // this round's fluxhunt:probe summary
	Verdict   fastflux.Result        // the verdict after this round
	Final     bool                   // the domain's plan is over
	Detection *schema.Detection      // Final and fast_flux
	Rounds    []fastflux.Observation // every round so far (shared: do not modify)
}

// Options configure a Prober.
type Options struct {
	DNS   config.DNS
	Probe config.Probe
	// Instance is written as src of probe events.
	Instance string
	// ASN maps answers to ASNs; nil or empty: /16 diversity stands in.
	ASN ASNLookup
	// Cymru looks up addresses ASN does not know with Team Cymru's DNS
	// service through the first resolver (config asn.cymru).
	Cymru bool
	// Store is optional.
	Store Store
	// OnResult receives every round's result, from worker goroutines
	// (concurrently); it must not block for long.
	OnResult func(Result)
	// Interval fixes the spacing of rounds (fluxhunt probe --interval);
	// 0: max(TTL, Probe.MinInterval).
	Interval time.Duration
	// Cooldown: a domain whose plan ended is not probed again for this
	// long (default 1 h).
	Cooldown time.Duration
	// PruneInterval: how often the store's Prune (retention and size bound)
	// runs when the store has one (default 10 min).
	PruneInterval time.Duration
	// Sockets is the number of UDP sockets (default 4).
	Sockets    int
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Prober is the active re-resolution component.
type Prober struct {
	opts      Options
	log       *slog.Logger
	now       func() time.Time
	resolvers []netip.AddrPort
	asn       ASNLookup
	asnKnown  bool
	cymru     *cymru
	limits    *limits
	t         *Transport
	refusedNS atomic.Uint64
	m         *metrics

	mu        sync.Mutex
	queue     candHeap
	queued    map[string]*qItem
	active    map[string]*tracked
	due       dueHeap
	recent    map[string]time.Time
	dirty     map[string]*Candidate // queue changes not yet in the store (nil: delete)
	flushMu   sync.Mutex
	maxActive int
	wake      chan struct{}
	work      chan *tracked
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	running   bool
	stopped   bool
}

type qItem struct {
	c     Candidate
	index int
}

type tracked struct {
	name   schema.Name
	c      Candidate
	obs    []fastflux.Observation
	first  time.Time
	nextAt time.Time
	index  int
}

type noASN struct{}

func (noASN) Lookup(netip.Addr) (uint32, bool) { return 0, false }
func (noASN) Name(uint32) string               { return "" }
func (noASN) Len() int                         { return 0 }

// New validates the options and builds a prober; Start begins probing.
func New(opts Options) (*Prober, error) {
	if len(opts.DNS.Resolvers) == 0 {
		return nil, fmt.Errorf("prober: new: dns.resolvers is empty")
	}
	p := &Prober{opts: opts, queued: map[string]*qItem{}, active: map[string]*tracked{}, recent: map[string]time.Time{}, dirty: map[string]*Candidate{}, wake: make(chan struct{}, 1)}
	for i, r := range opts.DNS.Resolvers {
		hp, err := config.HostPort(r, 53)
		if err != nil {
			return nil, fmt.Errorf("prober: new: dns.resolvers[%d]: %w", i, err)
		}
		ap, err := netip.ParseAddrPort(hp)
		if err != nil {
			return nil, fmt.Errorf("prober: new: dns.resolvers[%d]: %q is not an IP address and port: %w", i, r, err)
		}
		p.resolvers = append(p.resolvers, ap)
	}
	if opts.DNS.AuthoritativePort == 0 {
		p.opts.DNS.AuthoritativePort = 53
	}
	if opts.DNS.Timeout <= 0 {
		p.opts.DNS.Timeout = config.Duration(2 * time.Second)
	}
	pr := &p.opts.Probe
	if pr.Concurrency <= 0 {
		pr.Concurrency = 64
	}
	if pr.RateTotal <= 0 {
		pr.RateTotal = 200
	}
	if pr.RatePerServer <= 0 {
		pr.RatePerServer = 10
	}
	if pr.MaxProbes <= 0 {
		pr.MaxProbes = 3
	}
	if pr.MinInterval <= 0 {
		pr.MinInterval = config.Duration(30 * time.Second)
	}
	if pr.QueueSize <= 0 {
		pr.QueueSize = 10000
	}
	if p.opts.Cooldown <= 0 {
		p.opts.Cooldown = time.Hour
	}
	if p.opts.PruneInterval <= 0 {
		p.opts.PruneInterval = 10 * time.Minute
	}
	if p.opts.Sockets <= 0 {
		p.opts.Sockets = 4
	}
	p.maxActive = min(max(pr.Concurrency*16, 256), pr.QueueSize)
	p.log = opts.Logger
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.now = opts.Now
	if p.now == nil {
		p.now = time.Now
	}
	p.asn = opts.ASN
	if p.asn == nil {
		p.asn = noASN{}
	}
	p.asnKnown = p.asn.Len() > 0 || opts.Cymru
	if opts.Cymru {
		p.cymru = newCymru()
	}
	p.limits = newLimits(float64(pr.RateTotal), float64(pr.RatePerServer))
	p.m = newMetrics(p)
	if opts.Registerer != nil {
		if err := p.m.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("prober: new: metrics: %w", err)
		}
	}
	return p, nil
}

// Start opens the sockets, reloads the stored queue and starts the
// scheduler and workers.
func (p *Prober) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running || p.stopped {
		return errors.New("prober: start: already started")
	}
	t, err := NewTransport(p.opts.Sockets, p.opts.DNS.Timeout.D(), p.opts.DNS.Retries)
	if err != nil {
		return err
	}
	p.t = t
	if p.opts.Store != nil {
		items, err := p.opts.Store.LoadQueue()
		if err != nil {
			p.log.Warn("prober: stored queue unreadable", "err", err)
		}
		for _, c := range items {
			p.enqueueLocked(c)
		}
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.work = make(chan *tracked)
	p.running = true
	p.wg.Add(1)
	go p.schedule(ctx)
	for i := 0; i < p.opts.Probe.Concurrency; i++ {
		p.wg.Add(1)
		go p.worker(ctx)
	}
	if p.opts.Store != nil {
		p.wg.Add(1)
		go p.flusher(ctx)
	}
	return nil
}

// flushEvery bounds what a crash (SIGKILL) can lose of the queue when the
// caller does not Flush itself.
const flushEvery = 500 * time.Millisecond

// pruner is a store that bounds itself (obsstore.Store).
type pruner interface {
	Prune(now time.Time) (int, error)
}

func (p *Prober) flusher(ctx context.Context) {
	defer p.wg.Done()
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	prune := time.NewTicker(p.opts.PruneInterval)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := p.Flush(); err != nil {
				p.log.Warn("prober: queue not persisted", "err", err)
			}
		case <-prune.C:
			if pr, ok := p.opts.Store.(pruner); ok {
				if n, err := pr.Prune(p.now()); err != nil {
					p.log.Warn("prober: pruning probe history", "err", err)
				} else if n > 0 {
					p.log.Debug("prober: pruned probe history", "domains", n)
				}
			}
		}
	}
}

// Flush writes the queue changes since the last flush (submitted and
// finished domains) to the store. The pipeline calls it before it commits
// a poll checkpoint, so that a crash loses no accepted candidate; it also
// runs every 500 ms after Start. No-op without a store.
func (p *Prober) Flush() error {
	if p.opts.Store == nil {
		return nil
	}
	p.flushMu.Lock() // one flush at a time, in order
	defer p.flushMu.Unlock()
	p.mu.Lock()
	if len(p.dirty) == 0 {
		p.mu.Unlock()
		return nil
	}
	var put []Candidate
	var del []string
	for n, c := range p.dirty {
		if c == nil {
			del = append(del, n)
		} else {
			put = append(put, *c)
		}
	}
	dirty := p.dirty
	p.dirty = map[string]*Candidate{}
	p.mu.Unlock()
	if err := p.opts.Store.UpdateQueue(put, del); err != nil {
		p.mu.Lock()
		for n, c := range dirty { // keep for the next try unless superseded
			if _, newer := p.dirty[n]; !newer {
				p.dirty[n] = c
			}
		}
		if len(p.dirty) > 4*p.opts.Probe.QueueSize { // store broken for long: stay bounded
			for n, c := range p.dirty {
				if c == nil { // a stale entry costs one extra probe after a restart
					delete(p.dirty, n)
				}
			}
		}
		p.mu.Unlock()
		return fmt.Errorf("prober: flush: %w", err)
	}
	return nil
}

// Shutdown stops probing, waits for rounds in flight (or ctx), and saves
// the queue (waiting and in-progress domains) to the store. Safe without
// Start and more than once.
func (p *Prober) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil
	}
	p.stopped = true
	running := p.running
	if p.cancel != nil {
		p.cancel()
	}
	p.mu.Unlock()
	var errs []error
	if running {
		done := make(chan struct{})
		go func() { p.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("prober: shutdown: %w", ctx.Err()))
		}
		p.t.Close()
	}
	if p.opts.Store != nil {
		p.flushMu.Lock()
		defer p.flushMu.Unlock()
		p.mu.Lock()
		p.dirty = map[string]*Candidate{} // the full save below supersedes them
		items := make([]Candidate, 0, len(p.queued)+len(p.active))
		for _, q := range p.queued {
			items = append(items, q.c)
		}
		for _, t := range p.active {
			items = append(items, t.c)
		}
		p.mu.Unlock()
		if err := p.opts.Store.SaveQueue(items); err != nil {
			errs = append(errs, fmt.Errorf("prober: shutdown: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Submit queues a candidate. A domain already queued or in progress is
// merged (its priority raised); a domain whose plan ended within the
// cooldown is ErrRecentlyDone; internal names are ErrRefused.
func (p *Prober) Submit(c Candidate) error {
	n, err := schema.CanonicalName(c.Name)
	if err != nil || len(n) == 0 {
		p.m.submitted.WithLabelValues("invalid").Inc()
		return fmt.Errorf("prober: submit: %w: %v", ErrInvalid, err)
	}
	if _, err := netip.ParseAddr(n); err == nil || !strings.Contains(n, ".") {
		p.m.submitted.WithLabelValues("invalid").Inc()
		return fmt.Errorf("prober: submit %s: %w: an IP address or a single label", n, ErrInvalid)
	}
	if why := nameRefused(n, p.opts.DNS.InternalSuffixes); why != "" {
		p.m.submitted.WithLabelValues("refused").Inc()
		return fmt.Errorf("prober: submit %s: %w: %s", n, ErrRefused, why)
	}
	c.Name = n
	if c.Added.IsZero() {
		c.Added = p.now()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return ErrShuttingDown
	}
	if at, ok := p.recent[n]; ok && p.now().Sub(at) < p.opts.Cooldown {
		p.m.submitted.WithLabelValues("recent").Inc()
		return fmt.Errorf("prober: submit %s: %w", n, ErrRecentlyDone)
	}
	if err := p.enqueueLocked(c); err != nil {
		p.m.submitted.WithLabelValues("full").Inc()
		return err
	}
	p.m.submitted.WithLabelValues("accepted").Inc()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

func (p *Prober) enqueueLocked(c Candidate) error {
	if q, ok := p.queued[c.Name]; ok {
		if c.Priority > q.c.Priority {
			q.c.Priority = c.Priority
			q.c.Reason = c.Reason
			heap.Fix(&p.queue, q.index)
			qc := q.c
			p.dirty[c.Name] = &qc
		}
		return nil
	}
	if _, ok := p.active[c.Name]; ok {
		return nil
	}
	if len(p.queue) >= p.opts.Probe.QueueSize {
		return fmt.Errorf("prober: submit %s: %w (%d waiting)", c.Name, ErrQueueFull, len(p.queue))
	}
	q := &qItem{c: c}
	heap.Push(&p.queue, q)
	p.queued[c.Name] = q
	p.dirty[c.Name] = &c
	return nil
}

// Pending counts domains waiting and in progress.
func (p *Prober) Pending() (queued, active int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue), len(p.active)
}

// Counters exposes the transport counters (nil before Start).
func (p *Prober) Counters() *Counters {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.t == nil {
		return nil
	}
	return p.t.C
}

// RefusedNS counts authoritative server addresses refused by the
// private-address rule.
func (p *Prober) RefusedNS() uint64 { return p.refusedNS.Load() }

func (p *Prober) schedule(ctx context.Context) {
	defer p.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		now := p.now()
		for len(p.active) < p.maxActive && len(p.queue) > 0 {
			q := heap.Pop(&p.queue).(*qItem)
			delete(p.queued, q.c.Name)
			name, err := schema.NormalizeName(q.c.Name)
			if err != nil {
				continue
			}
			t := &tracked{name: name, c: q.c, nextAt: now}
			p.active[q.c.Name] = t
			heap.Push(&p.due, t)
		}
		var ready []*tracked
		wait := time.Hour
		for len(p.due) > 0 {
			t := p.due[0]
			if d := t.nextAt.Sub(now); d > 0 {
				wait = d
				break
			}
			heap.Pop(&p.due)
			ready = append(ready, t)
		}
		p.m.queued.Set(float64(len(p.queue)))
		p.m.active.Set(float64(len(p.active)))
		p.mu.Unlock()
		for _, t := range ready {
			select {
			case p.work <- t:
			case <-ctx.Done():
				return
			}
		}
		if len(ready) > 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-timer.C:
		}
	}
}

func (p *Prober) worker(ctx context.Context) {
	defer p.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-p.work:
			p.runRound(ctx, t)
		}
	}
}

// resumeWindow: a plan interrupted by a restart continues when its last
// round is at most this old; otherwise it starts again.
const resumeWindow = time.Hour

// resume loads the open plan of a domain from the store (a restart
// continues, keeping first_seen and so the detection ID).
func (p *Prober) resume(t *tracked) {
	if p.opts.Store == nil {
		return
	}
	h, ok, err := p.opts.Store.History(t.name.ASCII)
	if err != nil || !ok {
		return
	}
	plan := h.OpenPlan()
	if len(plan) == 0 || len(plan) >= p.opts.Probe.MaxProbes || p.now().Sub(h.Updated) > resumeWindow {
		return
	}
	t.obs = append(t.obs[:0], plan...)
	t.first = plan[0].Time
}

func (p *Prober) runRound(ctx context.Context, t *tracked) {
	if len(t.obs) == 0 {
		p.resume(t)
	}
	round := len(t.obs) + 1
	o := p.probeRound(ctx, t.name.ASCII, round)
	if ctx.Err() != nil {
		return // shutting down: the domain is saved with the queue
	}
	if round == 1 {
		t.first = o.Time
	}
	t.obs = append(t.obs, o)
	res := fastflux.Classify(t.obs)
	final := res.Certain || round >= p.opts.Probe.MaxProbes
	p.m.rounds.Inc()
	ev := fastflux.NewProbeEvent(t.name, o, p.opts.Instance, res.Verdict)
	if p.opts.Store != nil {
		v := ""
		if final {
			v = res.Verdict
		}
		if err := p.opts.Store.Append(t.name.ASCII, o, v, o.Time); err != nil {
			p.log.Warn("prober: store", "err", err)
		}
	}
	r := Result{Domain: t.name, Candidate: t.c, Round: round, Event: ev, Verdict: res, Final: final, Rounds: t.obs}
	if final {
		p.m.verdicts.WithLabelValues(res.Verdict).Inc()
		if res.Verdict == fastflux.VerdictFastFlux {
			d := fastflux.NewDetection(t.name, res, t.first, o.Time, p.asn.Name)
			r.Detection = &d
		}
		p.log.Debug("prober: verdict", "domain", t.name.ASCII, "verdict", res.Verdict, "rounds", round)
	}
	if p.opts.OnResult != nil {
		p.opts.OnResult(r)
	}
	p.mu.Lock()
	if final {
		delete(p.active, t.name.ASCII)
		p.dirty[t.name.ASCII] = nil
		p.rememberLocked(t.name.ASCII, o.Time)
	} else {
		t.nextAt = p.now().Add(p.interval(o))
		heap.Push(&p.due, t)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// rememberLocked records a finished domain, keeping the table bounded.
func (p *Prober) rememberLocked(name string, at time.Time) {
	if len(p.recent) >= p.opts.Probe.QueueSize {
		cut := at.Add(-p.opts.Cooldown)
		for n, t := range p.recent {
			if t.Before(cut) {
				delete(p.recent, n)
			}
		}
		for n := range p.recent { // still full: forget an arbitrary one
			if len(p.recent) < p.opts.Probe.QueueSize {
				break
			}
			delete(p.recent, n)
		}
	}
	p.recent[name] = at
}

func (p *Prober) interval(o fastflux.Observation) time.Duration {
	if p.opts.Interval > 0 {
		return p.opts.Interval
	}
	d := time.Duration(o.TTLMax) * time.Second
	return max(d, p.opts.Probe.MinInterval.D())
}

// limits holds the total and per-server rate limiters.
type limits struct {
	total  *rate.Limiter
	per    float64
	mu     sync.Mutex
	server map[netip.Addr]*rate.Limiter
}

const maxServerLimiters = 4096

func newLimits(total, per float64) *limits {
	return &limits{total: rate.NewLimiter(rate.Limit(total), max(1, int(total/10))), per: per, server: map[netip.Addr]*rate.Limiter{}}
}

// wait takes a token from the total limiter and, unless the server is one
// of the configured resolvers (ours to load), from the server's own.
func (l *limits) wait(ctx context.Context, server netip.Addr, resolver bool) error {
	if resolver {
		return l.total.Wait(ctx)
	}
	l.mu.Lock()
	lim, ok := l.server[server]
	if !ok {
		if len(l.server) >= maxServerLimiters {
			for k := range l.server { // bounded: forget one
				delete(l.server, k)
				break
			}
		}
		lim = rate.NewLimiter(rate.Limit(l.per), max(1, int(l.per/10)))
		l.server[server] = lim
	}
	l.mu.Unlock()
	if err := lim.Wait(ctx); err != nil {
		return err
	}
	return l.total.Wait(ctx)
}

type candHeap []*qItem

func (h candHeap) Len() int { return len(h) }
func (h candHeap) Less(i, j int) bool {
	if h[i].c.Priority != h[j].c.Priority {
		return h[i].c.Priority > h[j].c.Priority
	}
	return h[i].c.Added.Before(h[j].c.Added)
}
func (h candHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *candHeap) Push(x any)   { q := x.(*qItem); q.index = len(*h); *h = append(*h, q) }
func (h *candHeap) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return q
}

type dueHeap []*tracked

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].nextAt.Before(h[j].nextAt) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *dueHeap) Push(x any)        { t := x.(*tracked); t.index = len(*h); *h = append(*h, t) }
func (h *dueHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return t
}
