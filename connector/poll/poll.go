// Package poll pulls aggregated DNS and flow rows out of Splunk in
// contiguous index-time windows [checkpoint, now − lag), exactly once: the
// checkpoint lives in bbolt and advances only after the consumer accepted
// the whole window (and, for a consumer that implements TxCommitter, in the
// same transaction as the consumer's own state).
//
// Each window runs the DNS search (and the flow search when poll.flows is
// on) with index_earliest = window start, index_latest = window end and
// earliest_time = window start − poll.max_event_age. An event indexed late
// falls into a later window; an event whose own _time is older than
// max_event_age when it is indexed is skipped (documented in DESIGN.md).
package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/search"
	"github.com/fluxhunt/fluxhunt/schema"
)

// Window is one poll window of index time [Start, End).
type Window struct {
	Start, End time.Time // _indextime bounds: index_earliest, index_latest
	Earliest   time.Time // earliest_time: Start − max_event_age
	Backfill   bool      // part of a catch-up over more than one window
}

func (w Window) String() string {
	return w.Start.UTC().Format(time.RFC3339) + "/" + w.End.UTC().Format(time.RFC3339)
}

// Consumer takes the rows of one window. Returning nil accepts the whole
// window: the checkpoint then moves past it. Returning an error (or a
// cancelled ctx) leaves the checkpoint where it was, and the same index
// time is searched again later (the window may then end later).
type Consumer interface {
	ConsumeWindow(ctx context.Context, w Window, dns []schema.DNSRow, flows []schema.FlowRow) error
}

// TxCommitter is implemented by a consumer that keeps its own state in the
// same bbolt file: CommitWindow runs inside the transaction that advances
// the checkpoint, so the state of a window and the checkpoint past it are
// written together or not at all (exactly once across crashes). A consumer
// without it is at-least-once for the window during which the process died
// between ConsumeWindow returning and the checkpoint commit.
type TxCommitter interface {
	CommitWindow(tx *bolt.Tx, w Window) error
}

// Searcher runs one search; *search.Client implements it.
type Searcher interface {
	Search(ctx context.Context, q search.Query, fn func(schema.Fields) error) (search.Result, error)
}

// Clock gives the time; tests inject a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configures a Poller.
type Options struct {
	Searcher Searcher
	DB       *bolt.DB // the state file under state_dir; the poller uses bucket "poll"
	Poll     config.Poll
	Consumer Consumer
	// Since, when set (`run --since`), starts at this index time instead of
	// the checkpoint.
	Since      time.Time
	Clock      Clock // nil: the real clock
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered
	// RetryMin and RetryMax bound the wait after a failed window (default
	// 1 s and min(poll.interval, 1 min)).
	RetryMin, RetryMax time.Duration
}

// Poller runs the poll loop.
type Poller struct {
	o          Options
	log        *slog.Logger
	clock      Clock
	dnsSearch  string
	flowSearch string
	key        []byte
	m          *metrics

	mu      sync.Mutex
	since   time.Time // pending --since, cleared once a window commits
	cancel  context.CancelFunc
	done    chan struct{}
	running bool
}

var bucket = []byte("poll")

// New checks the options and renders the searches; it does no I/O besides
// creating the bucket.
func New(o Options) (*Poller, error) {
	if o.Searcher == nil || o.DB == nil || o.Consumer == nil {
		return nil, errors.New("poll: Searcher, DB and Consumer are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Poll.MaxWindow <= 0 {
		o.Poll.MaxWindow = config.Duration(time.Hour)
	}
	if o.Poll.Interval <= 0 {
		o.Poll.Interval = config.Duration(time.Minute)
	}
	if o.Poll.Shard.Count < 1 {
		o.Poll.Shard = config.Shard{Index: 0, Count: 1}
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = min(o.Poll.Interval.D(), time.Minute)
	}
	vars := config.SearchVars{Shard: o.Poll.Shard.Index, Shards: o.Poll.Shard.Count, Limit: o.Poll.Limit}
	dns, err := config.RenderSearch(o.Poll.DNSSearch, vars)
	if err != nil {
		return nil, fmt.Errorf("poll: poll.dns_search: %w", err)
	}
	p := &Poller{o: o, log: o.Logger, clock: o.Clock, dnsSearch: dns, since: o.Since}
	if o.Poll.Flows {
		if p.flowSearch, err = config.RenderSearch(o.Poll.FlowSearch, vars); err != nil {
			return nil, fmt.Errorf("poll: poll.flow_search: %w", err)
		}
	}
	// One checkpoint per shard: instances of different shards may share a
	// state file only in tests, never in production, but keep them apart.
	p.key = []byte("checkpoint/" + o.Poll.Shard.String())
	if err := o.DB.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return nil, fmt.Errorf("poll: state: %w", err)
	}
	p.m = newMetrics(o.Registerer)
	return p, nil
}

// Checkpoint returns the stored checkpoint (the index time up to which
// every window was accepted).
func (p *Poller) Checkpoint() (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := p.o.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		v := b.Get(p.key)
		if v == nil {
			return nil
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return fmt.Errorf("poll: checkpoint %q is corrupt: %w", v, err)
		}
		t, ok = time.Unix(n, 0).UTC(), true
		return nil
	})
	return t, ok, err
}

// start returns where the next window begins.
func (p *Poller) start(now time.Time) (time.Time, error) {
	p.mu.Lock()
	since := p.since
	p.mu.Unlock()
	if !since.IsZero() {
		return since.Truncate(time.Second), nil
	}
	cp, ok, err := p.Checkpoint()
	if err != nil {
		return time.Time{}, err
	}
	if ok {
		return cp, nil
	}
	return now.Add(-p.o.Poll.InitialLookback.D()).Truncate(time.Second), nil
}

// RunOnce polls every window from the checkpoint up to now − lag and
// returns how many windows it committed. It stops at the first window that
// fails, leaving the checkpoint before it.
func (p *Poller) RunOnce(ctx context.Context) (int, error) {
	now := p.clock.Now()
	target := now.Add(-p.o.Poll.Lag.D()).Truncate(time.Second)
	start, err := p.start(now)
	if err != nil {
		return 0, err
	}
	p.m.lag.Set(now.Sub(start).Seconds())
	if !start.Before(target) {
		return 0, nil
	}
	maxW := p.o.Poll.MaxWindow.D()
	span := target.Sub(start)
	backfill := span > maxW
	if backfill {
		p.log.Info("poll: catching up", "from", start.UTC(), "to", target.UTC(), "windows", int((span+maxW-1)/maxW))
	}
	n := 0
	for start.Before(target) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		end := start.Add(maxW)
		if end.After(target) {
			end = target
		}
		w := Window{Start: start, End: end, Earliest: start.Add(-p.o.Poll.MaxEventAge.D()), Backfill: backfill}
		dnsN, flowN, err := p.runWindow(ctx, w)
		if err != nil {
			return n, err
		}
		n++
		if backfill {
			done := end.Sub(target.Add(-span)).Seconds() / span.Seconds() * 100
			p.log.Info("poll: backfill progress", "window", w.String(), "dns_rows", dnsN, "flow_rows", flowN, "done_percent", fmt.Sprintf("%.1f", done))
		} else {
			p.log.Debug("poll: window done", "window", w.String(), "dns_rows", dnsN, "flow_rows", flowN)
		}
		start = end
		p.m.lag.Set(p.clock.Now().Sub(start).Seconds())
	}
	return n, nil
}

// runWindow searches, hands the rows to the consumer and commits.
func (p *Poller) runWindow(ctx context.Context, w Window) (int, int, error) {
	var dns []schema.DNSRow
	if err := p.search(ctx, "dns", p.dnsSearch, w, func(f schema.Fields) error {
		r, err := schema.ParseDNSRow(f)
		if err != nil {
			p.badRow("dns", err)
			return nil
		}
		dns = append(dns, r)
		return nil
	}); err != nil {
		return 0, 0, err
	}
	var flows []schema.FlowRow
	if p.flowSearch != "" {
		if err := p.search(ctx, "flow", p.flowSearch, w, func(f schema.Fields) error {
			r, err := schema.ParseFlowRow(f)
			if err != nil {
				p.badRow("flow", err)
				return nil
			}
			flows = append(flows, r)
			return nil
		}); err != nil {
			return 0, 0, err
		}
	}
	if err := p.o.Consumer.ConsumeWindow(ctx, w, dns, flows); err != nil {
		p.m.errors.WithLabelValues("consume").Inc()
		return 0, 0, fmt.Errorf("poll: window %s: consumer: %w", w, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("poll: window %s: %w", w, err)
	}
	err := p.o.DB.Update(func(tx *bolt.Tx) error {
		if c, ok := p.o.Consumer.(TxCommitter); ok {
			if err := c.CommitWindow(tx, w); err != nil {
				return fmt.Errorf("consumer commit: %w", err)
			}
		}
		return tx.Bucket(bucket).Put(p.key, []byte(strconv.FormatInt(w.End.Unix(), 10)))
	})
	if err != nil {
		p.m.errors.WithLabelValues("commit").Inc()
		return 0, 0, fmt.Errorf("poll: window %s: commit: %w", w, err)
	}
	p.mu.Lock()
	p.since = time.Time{}
	p.mu.Unlock()
	p.m.windows.Inc()
	p.m.rows.WithLabelValues("dns").Add(float64(len(dns)))
	p.m.rows.WithLabelValues("flow").Add(float64(len(flows)))
	p.m.checkpoint.Set(float64(w.End.Unix()))
	return len(dns), len(flows), nil
}

func (p *Poller) search(ctx context.Context, kind, text string, w Window, fn func(schema.Fields) error) error {
	q := search.Query{
		Search: text, EarliestTime: w.Earliest, IndexEarliest: w.Start, IndexLatest: w.End,
		OnBadRow: func(b *search.BadRowError) {
			p.m.badRows.WithLabelValues(kind, "decode", fieldLabel(b.Field)).Inc()
			p.log.Debug("poll: undecodable row skipped", "search", kind, "err", b.Error())
		},
	}
	res, err := p.o.Searcher.Search(ctx, q, fn)
	if err != nil {
		p.m.errors.WithLabelValues("search_" + kind).Inc()
		return fmt.Errorf("poll: window %s: %s search: %w", w, kind, err)
	}
	if p.o.Poll.Limit > 0 && res.Rows >= p.o.Poll.Limit {
		p.log.Warn("poll: a search returned poll.limit rows: the window was truncated; raise poll.limit or shorten poll.max_window", "search", kind, "limit", p.o.Poll.Limit)
	}
	for _, m := range res.Warnings {
		p.log.Debug("poll: search message", "search", kind, "type", m.Type, "text", m.Text)
	}
	return nil
}

// knownFields are the row fields a metric label may name; any other name
// (rows are untrusted) is "other".
var knownFields = map[string]bool{
	"": true, "_time": true, "src": true, "query": true, "record_type": true, "reply_code": true,
	"answer": true, "ttl": true, "count": true, "dest": true, "dest_port": true, "transport": true,
	"bytes": true, "packets": true, "result": true, "results": true,
}

func fieldLabel(f string) string {
	if knownFields[f] {
		return f
	}
	return "other"
}

func (p *Poller) badRow(kind string, err error) {
	field := ""
	var re *schema.RowError
	if errors.As(err, &re) {
		field = re.Field
	}
	p.m.badRows.WithLabelValues(kind, "invalid", fieldLabel(field)).Inc()
	p.log.Debug("poll: row skipped", "search", kind, "err", err.Error())
}

// Start runs the poll loop until Shutdown or ctx ends. Failed windows are
// retried with a growing wait.
func (p *Poller) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return errors.New("poll: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	p.cancel, p.done, p.running = cancel, make(chan struct{}), true
	go p.loop(ctx, p.done)
	return nil
}

func (p *Poller) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	backoff := p.o.RetryMin
	for {
		wait := p.o.Poll.Interval.D()
		if _, err := p.RunOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("poll: window failed; retrying", "err", err.Error(), "in", backoff)
			wait = backoff
			backoff = min(backoff*2, p.o.RetryMax)
		} else {
			backoff = p.o.RetryMin
		}
		select {
		case <-ctx.Done():
			return
		case <-p.clock.After(wait):
		}
	}
}

// Shutdown stops the loop and waits for the window in flight to stop (its
// checkpoint is not advanced). Safe without Start and more than once.
func (p *Poller) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.running = false
	p.cancel = nil
	p.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("poll: shutdown: %w", ctx.Err())
	}
}

type metrics struct {
	rows       *prometheus.CounterVec
	badRows    *prometheus.CounterVec
	errors     *prometheus.CounterVec
	windows    prometheus.Counter
	checkpoint prometheus.Gauge
	lag        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fluxhunt_poll_rows_total",
			Help: "Rows read by the poll searches and handed to the pipeline."}, []string{"search"}),
		badRows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fluxhunt_poll_bad_rows_total",
			Help: "Rows skipped: undecodable (reason=decode) or with an unusable field (reason=invalid)."}, []string{"search", "reason", "field"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fluxhunt_poll_errors_total",
			Help: "Failed poll windows by stage (search_dns, search_flow, consume, commit); each is retried."}, []string{"stage"}),
		windows: prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxhunt_poll_windows_total",
			Help: "Poll windows committed."}),
		checkpoint: prometheus.NewGauge(prometheus.GaugeOpts{Name: "fluxhunt_poll_checkpoint_seconds",
			Help: "Index time (Unix seconds) up to which every window was accepted."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "fluxhunt_poll_lag_seconds",
			Help: "Seconds between now and the checkpoint."}),
	}
	if reg == nil {
		return m
	}
	m.rows = register(reg, m.rows)
	m.badRows = register(reg, m.badRows)
	m.errors = register(reg, m.errors)
	m.windows = register(reg, m.windows)
	m.checkpoint = register(reg, m.checkpoint)
	m.lag = register(reg, m.lag)
	return m
}

// register registers c, or reuses the collector already registered under
// its name (a poller made again with the same registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
