// Package hec writes events to Splunk's HTTP Event Collector without losing
// any: a durable bbolt spool (an event is on disk before Send returns and
// leaves only when delivered, acknowledged where indexer acknowledgement is
// on), batching with gzip, round-robin and failover over several HEC URLs,
// handling by HEC code (retry, slow down, stop on configuration errors,
// dead-letter bad events), and indexer acknowledgement per channel.
package hec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/splunkhttp"
	"github.com/fluxhunt/fluxhunt/schema"
)

// Errors Send returns for events it refuses up front (they are also written
// to the dead-letter file).
var (
	ErrEventTooLarge = errors.New("event exceeds splunk.hec.max_event_bytes")
	ErrInvalidEvent  = errors.New("invalid event")
)

// SpoolFile is the bbolt file the writer opens under state_dir when it is
// not given a database.
const SpoolFile = "hec-spool.db"

// Options configures a Writer.
type Options struct {
	HEC      config.HEC
	Spool    config.Spool
	StateDir string
	Instance string // host of events that carry none
	// DB is an open bbolt database to keep the spool in (bucket "hec_spool");
	// nil: the writer opens StateDir/hec-spool.db and closes it on Shutdown.
	DB         *bolt.DB
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered

	Workers      int           // concurrent requests; 0: 2 per URL, at least 4
	RetryWaitMin time.Duration // back-off after a retryable failure; default 250ms
	RetryWaitMax time.Duration // default 30s
	ConfigRetry  time.Duration // retry interval after a configuration error; default 30s
	MaxAckWait   int           // requests awaiting acknowledgement, at most; default 4096
	Now          func() time.Time
}

// Status says whether HEC takes fluxhunt's events: OK, or Splunk's error
// text for a configuration error (bad token, index, ack disabled...).
type Status struct {
	OK         bool
	Code       int // HEC code of the failure (-1: none in the answer)
	HTTPStatus int
	Text       string // Splunk's text with code and URL; never the token
	Since      time.Time
}

func (s Status) String() string {
	if s.OK {
		return "OK"
	}
	return s.Text
}

// Stats are the writer's cumulative counters, for the health event.
type Stats struct {
	Spooled      int64 // events accepted into the spool
	Sent         int64 // events in requests HEC answered with success
	Acked        int64 // events whose request was acknowledged (ack on)
	Delivered    int64 // events removed from the spool as delivered
	DeadLettered int64
	Dropped      int64 // removed by overflow: drop_oldest
	Resent       int64 // events sent again (retries, ack timeouts, channel loss)
	SpoolEvents  int64
	SpoolBytes   int64
	Status       Status
	// LastError is the last retryable failure (network, 5xx, 429, busy
	// codes) while it lasts; "" once a request succeeds again.
	LastError string
}

// Writer is the HEC writer. Send may be called before Start (events wait in
// the spool) and concurrently.
type Writer struct {
	o       Options
	log     *slog.Logger
	client  *retryablehttp.Client
	token   string
	eps     []*endpoint
	sp      *spool
	first   uint64
	db      *bolt.DB
	ownDB   bool
	dead    *deadLetters
	m       *metrics
	workers int

	gz          sync.Pool // *gzip.Writer at the configured level
	rr          atomic.Uint64
	slowNano    atomic.Int64 // pause before each request while HEC says "near capacity"
	flushing    atomic.Int32
	noAckWarned atomic.Bool

	resendMu sync.Mutex
	resend   [][]uint64
	resendCh chan struct{}
	ackSlots chan struct{}

	c struct {
		spooled, sent, acked, delivered, dead, dropped, resent atomic.Int64
	}

	stMu    sync.Mutex
	status  Status
	lastErr string

	life    sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New validates the options, opens the spool and prepares the client. It
// sends nothing until Start.
func New(o Options) (*Writer, error) {
	if len(o.HEC.URLs) == 0 {
		return nil, errors.New("hec: splunk.hec.urls: at least one URL is required")
	}
	if o.HEC.Token.Reveal() == "" {
		return nil, errors.New("hec: splunk.hec.token is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = 250 * time.Millisecond
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = 30 * time.Second
	}
	if o.ConfigRetry <= 0 {
		o.ConfigRetry = 30 * time.Second
	}
	if o.MaxAckWait <= 0 {
		o.MaxAckWait = 4096
	}
	if o.HEC.BatchEvents <= 0 {
		o.HEC.BatchEvents = 1000
	}
	if o.HEC.BatchBytes <= 0 {
		o.HEC.BatchBytes = 1 << 20
	}
	if o.HEC.MaxEventBytes <= 0 {
		o.HEC.MaxEventBytes = 5 << 20
	}
	if o.HEC.AckTimeout.D() <= 0 {
		o.HEC.AckTimeout = config.Duration(5 * time.Minute)
	}
	if o.HEC.AckPoll.D() <= 0 {
		o.HEC.AckPoll = config.Duration(10 * time.Second)
	}
	if o.HEC.Timeout.D() <= 0 {
		o.HEC.Timeout = config.Duration(30 * time.Second)
	}
	if o.Spool.MaxBytes <= 0 {
		o.Spool.MaxBytes = 1 << 30
	}
	if o.Spool.Overflow == "" {
		o.Spool.Overflow = "block"
	}
	if o.Spool.Overflow != "block" && o.Spool.Overflow != "drop_oldest" {
		return nil, fmt.Errorf("hec: splunk.spool.overflow: invalid policy %q: want block or drop_oldest", o.Spool.Overflow)
	}
	if o.Instance == "" {
		o.Instance = "fluxhunt"
	}
	w := &Writer{o: o, log: o.Logger.With("component", "hec"), token: o.HEC.Token.Reveal(),
		resendCh: make(chan struct{}, 1), ackSlots: make(chan struct{}, o.MaxAckWait)}
	w.status = Status{OK: true, Code: -1}
	for i, raw := range o.HEC.URLs {
		ep, err := newEndpoint(raw)
		if err != nil {
			return nil, fmt.Errorf("hec: splunk.hec.urls[%d]: %w", i, err)
		}
		w.eps = append(w.eps, ep)
	}
	w.workers = o.Workers
	if w.workers <= 0 {
		w.workers = max(4, 2*len(w.eps))
	}
	client, err := splunkhttp.New(splunkhttp.Options{
		TLS: o.HEC.TLS, ProxyURL: o.HEC.ProxyURL, Timeout: o.HEC.Timeout.D(),
		RetryMax: 0, // the writer retries itself: failover and HEC codes
		Logger:   w.log,
	})
	if err != nil {
		return nil, fmt.Errorf("hec: %w", err)
	}
	w.client = client
	w.m, err = newMetrics(w, o.Registerer)
	if err != nil {
		return nil, err
	}
	dlf := o.Spool.DeadLetterFile
	if dlf == "" {
		dlf = filepath.Join(o.StateDir, "dead-letters.jsonl")
	}
	w.dead = &deadLetters{path: dlf}
	w.db = o.DB
	if w.db == nil {
		if o.StateDir == "" {
			w.m.unregister()
			return nil, errors.New("hec: state_dir is required for the spool")
		}
		if err := os.MkdirAll(o.StateDir, 0o750); err != nil {
			w.m.unregister()
			return nil, fmt.Errorf("hec: state_dir: %w", err)
		}
		p := filepath.Join(o.StateDir, SpoolFile)
		db, err := bolt.Open(p, 0o600, &bolt.Options{Timeout: 5 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
		if err != nil {
			w.m.unregister()
			if errors.Is(err, bolt.ErrTimeout) {
				return nil, fmt.Errorf("hec: open spool %s: in use by another fluxhunt process", p)
			}
			return nil, fmt.Errorf("hec: open spool %s: %w", p, err)
		}
		w.db, w.ownDB = db, true
	}
	w.sp, w.first, err = openSpool(w.db, int64(o.Spool.MaxBytes), o.Spool.Overflow == "drop_oldest", w.onDrop)
	if err != nil {
		w.m.unregister()
		if w.ownDB {
			_ = w.db.Close()
		}
		return nil, err
	}
	if n := w.sp.count.Load(); n > 0 {
		w.log.Info("hec: spool holds events from a previous run; they will be sent", "events", n, "bytes", w.sp.bytes.Load())
	}
	return w, nil
}

func (w *Writer) onDrop(n int, bytes int64) {
	w.c.dropped.Add(int64(n))
	w.log.Error("hec: spool full (splunk.spool.max_bytes): dropped the oldest events (overflow: drop_oldest)",
		"events", n, "bytes", bytes)
}

// Start launches delivery. Delivery runs until Shutdown, independent of ctx's
// cancellation, so that Shutdown can still flush.
func (w *Writer) Start(ctx context.Context) error {
	w.life.Lock()
	defer w.life.Unlock()
	if w.stopped {
		return errors.New("hec: start: writer is shut down")
	}
	if w.started {
		return errors.New("hec: start: already started")
	}
	w.started = true
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel = cancel
	work := make(chan *batch)
	w.wg.Add(1)
	go func() { defer w.wg.Done(); defer close(work); w.dispatch(rctx, work) }()
	for i := 0; i < w.workers; i++ {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for b := range work {
				w.deliver(rctx, b)
			}
		}()
	}
	if w.o.HEC.Ack {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); w.pollAcks(rctx) }()
	}
	return nil
}

// Send spools one event; it returns once the event is on disk. Events with
// no time, host, source or index get now, the instance, "fluxhunt" and
// splunk.hec.index.
func (w *Writer) Send(ctx context.Context, env schema.Envelope) error {
	return w.SendBatch(ctx, []schema.Envelope{env})
}

// SendBatch spools several events in one disk commit. Events refused up
// front (too large, no event) are dead-lettered and reported in the error
// (errors.Is ErrEventTooLarge / ErrInvalidEvent); the others are spooled.
func (w *Writer) SendBatch(ctx context.Context, envs []schema.Envelope) error {
	recs := make([][]byte, 0, len(envs))
	var errs []error
	for i, env := range envs {
		rec, err := w.encode(env)
		if err != nil {
			if len(envs) > 1 {
				err = fmt.Errorf("event %d: %w", i, err)
			}
			errs = append(errs, fmt.Errorf("hec: send: %w", err))
			continue
		}
		recs = append(recs, rec)
	}
	if len(recs) > 0 {
		if err := w.sp.append(ctx, recs); err != nil {
			return errors.Join(append([]error{err}, errs...)...)
		}
		w.c.spooled.Add(int64(len(recs)))
	}
	return errors.Join(errs...)
}

// encode fills the envelope defaults and checks the event before spooling.
func (w *Writer) encode(env schema.Envelope) ([]byte, error) {
	if env.Time == 0 {
		env.Time = schema.EpochSeconds(w.o.Now())
	}
	if env.Host == "" {
		env.Host = w.o.Instance
	}
	if env.Source == "" {
		env.Source = "fluxhunt"
	}
	if env.Index == "" {
		env.Index = w.o.HEC.Index
	}
	rec, err := marshalEnvelope(env)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot encode as JSON: %v", ErrInvalidEvent, err)
	}
	var reason error
	switch ev := env.Event.(type) {
	case nil:
		reason = fmt.Errorf("%w: the event field is required (HEC code 12)", ErrInvalidEvent)
	case string:
		if strings.TrimSpace(ev) == "" {
			reason = fmt.Errorf("%w: the event field cannot be blank (HEC code 13)", ErrInvalidEvent)
		}
	}
	if reason == nil && int64(len(rec)) > int64(w.o.HEC.MaxEventBytes) {
		reason = fmt.Errorf("%w: %d bytes encoded, max_event_bytes is %d", ErrEventTooLarge, len(rec), int64(w.o.HEC.MaxEventBytes))
	}
	if reason != nil {
		if err := w.dead.write(rec, reason.Error(), -1, w.o.Now()); err != nil {
			w.log.Error("hec: cannot write dead letter", "error", err)
			return nil, fmt.Errorf("%w (and the dead-letter file failed: %v)", reason, err)
		}
		w.c.dead.Add(1)
		w.log.Warn("hec: event refused and dead-lettered", "reason", reason.Error(), "sourcetype", env.Sourcetype, "file", w.dead.path)
		return nil, reason
	}
	return rec, nil
}

// Flush waits until the spool is empty (everything delivered or
// dead-lettered) or ctx ends. Linger is skipped meanwhile.
func (w *Writer) Flush(ctx context.Context) error {
	w.flushing.Add(1)
	defer w.flushing.Add(-1)
	tick(w.sp.notify)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if w.sp.count.Load() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hec: flush: %d events still spooled: %w", w.sp.count.Load(), ctx.Err())
		case <-t.C:
		}
	}
}

// Shutdown flushes what HEC takes before ctx ends, stops delivery and closes
// the spool; what is left stays on disk for the next run. Safe without Start
// and more than once.
func (w *Writer) Shutdown(ctx context.Context) error {
	w.life.Lock()
	defer w.life.Unlock()
	if w.stopped {
		return nil
	}
	w.stopped = true
	var ferr error
	if w.started && w.sp.count.Load() > 0 {
		if err := w.Flush(ctx); err != nil {
			ferr = err
			w.log.Warn("hec: shutdown before the spool was empty; the rest is sent on the next start",
				"events", w.sp.count.Load(), "bytes", w.sp.bytes.Load())
		}
	}
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
	w.sp.close()
	w.m.unregister()
	if w.ownDB {
		if err := w.db.Close(); err != nil && ferr == nil {
			ferr = fmt.Errorf("hec: close spool: %w", err)
		}
	}
	if errors.Is(ferr, context.DeadlineExceeded) || errors.Is(ferr, context.Canceled) {
		return nil // not an error: the spool keeps the rest
	}
	return ferr
}

// Status is OK, or the configuration error HEC answered last.
func (w *Writer) Status() Status {
	w.stMu.Lock()
	defer w.stMu.Unlock()
	return w.status
}

// Stats returns the counters.
func (w *Writer) Stats() Stats {
	return Stats{
		Spooled: w.c.spooled.Load(), Sent: w.c.sent.Load(), Acked: w.c.acked.Load(),
		Delivered: w.c.delivered.Load(), DeadLettered: w.c.dead.Load(), Dropped: w.c.dropped.Load(),
		Resent: w.c.resent.Load(), SpoolEvents: w.sp.count.Load(), SpoolBytes: w.sp.bytes.Load(),
		Status: w.Status(), LastError: w.lastError(),
	}
}

func (w *Writer) lastError() string {
	w.stMu.Lock()
	defer w.stMu.Unlock()
	return w.lastErr
}

func (w *Writer) setLastError(s string) {
	w.stMu.Lock()
	w.lastErr = s
	w.stMu.Unlock()
}

func (w *Writer) setOK() {
	w.stMu.Lock()
	w.lastErr = ""
	was := w.status
	if !was.OK {
		w.status = Status{OK: true, Code: -1, Since: w.o.Now()}
	}
	w.stMu.Unlock()
	if !was.OK {
		w.log.Info("hec: HEC accepts events again", "after", was.Text)
	}
}

func (w *Writer) setFail(r *result, ep *endpoint) {
	text := r.describe(ep)
	w.stMu.Lock()
	changed := w.status.OK || w.status.Text != text
	if changed {
		w.status = Status{OK: false, Code: r.code, HTTPStatus: r.status, Text: text, Since: w.o.Now()}
	}
	w.stMu.Unlock()
	if changed {
		w.log.Error("hec: HEC refuses fluxhunt's configuration; events stay in the spool and are retried",
			"error", text, "retry_every", w.o.ConfigRetry, "spooled_events", w.sp.count.Load())
	}
}

// endpoint is one HEC URL with its channel and pending acknowledgements.
type endpoint struct {
	base    string // scheme://host[:port][/prefix]
	display string
	mu      sync.Mutex
	channel string
	down    time.Time
	pending map[int64]*pendingAck
}

type pendingAck struct {
	keys []uint64
	sent time.Time
}

func newEndpoint(raw string) (*endpoint, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("invalid HEC URL %q: want https://host:8088", splunkhttp.Scrub(raw))
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	p := strings.TrimRight(u.Path, "/")
	for _, suf := range []string{"/services/collector/event/1.0", "/services/collector/event", "/services/collector"} {
		if strings.HasSuffix(p, suf) {
			p = strings.TrimSuffix(p, suf)
			break
		}
	}
	u.Path = p
	return &endpoint{base: u.String(), display: u.String(), channel: newGUID(), pending: map[int64]*pendingAck{}}, nil
}

// pick chooses the next URL: round robin over those not backing off, else
// the one that recovers first.
func (w *Writer) pick() *endpoint {
	n := len(w.eps)
	start := int(w.rr.Add(1) % uint64(n))
	now := time.Now()
	var best *endpoint
	var bestT time.Time
	for i := 0; i < n; i++ {
		ep := w.eps[(start+i)%n]
		ep.mu.Lock()
		d := ep.down
		ep.mu.Unlock()
		if !d.After(now) {
			return ep
		}
		if best == nil || d.Before(bestT) {
			best, bestT = ep, d
		}
	}
	return best
}

// backoff is full-jitter exponential back-off, at least retryAfter.
func (w *Writer) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := float64(w.o.RetryWaitMin) * math.Pow(2, float64(min(attempt, 30)))
	if d > float64(w.o.RetryWaitMax) {
		d = float64(w.o.RetryWaitMax)
	}
	j := time.Duration(d/2 + jitter()*d/2)
	if retryAfter > j {
		j = retryAfter
	}
	return j
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
