package poll_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/poll"
	"github.com/fluxhunt/fluxhunt/connector/search"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
	"github.com/fluxhunt/fluxhunt/schema"
)

const token = "poll-test-token-secret"

var t0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// fakeClock is a settable clock; After fires at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
func (c *fakeClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

func startEmu(t *testing.T) *splunkemu.Server {
	t.Helper()
	s := splunkemu.New(splunkemu.Options{SearchListen: "127.0.0.1:0", SearchToken: token, Username: "fh", Password: "fh-pass-secret"})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func client(t *testing.T, s *splunkemu.Server, login bool) *search.Client {
	t.Helper()
	cfg := config.Search{URL: s.SearchURL(), Token: config.NewSecret(token)}
	if login {
		cfg.Token = config.Secret{}
		cfg.Username, cfg.Password = "fh", config.NewSecret("fh-pass-secret")
	}
	c, err := search.New(cfg, search.Options{RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond, JobPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func openDB(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func pollConfig() config.Poll {
	p := config.Default().Poll
	p.MaxWindow = config.Duration(10 * time.Minute)
	p.Lag = config.Duration(30 * time.Second)
	return p
}

// memConsumer records windows and rows.
type memConsumer struct {
	mu      sync.Mutex
	windows []poll.Window
	dns     []schema.DNSRow
	flows   []schema.FlowRow
}

func (m *memConsumer) ConsumeWindow(_ context.Context, w poll.Window, dns []schema.DNSRow, flows []schema.FlowRow) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.windows = append(m.windows, w)
	m.dns = append(m.dns, dns...)
	m.flows = append(m.flows, flows...)
	return nil
}

func TestWindowsCheckpointLookbackAndBackfill(t *testing.T) {
	s := startEmu(t)
	// One DNS and one flow event a minute for 5 hours, indexed 5 s later.
	for i := 0; i < 300; i++ {
		ts := t0.Add(time.Duration(i) * time.Minute)
		s.AddDNSEvents(splunkemu.DNSEvent{Time: ts, IndexTime: ts.Add(5 * time.Second), Src: "10.0.0.1", Query: "a.example.com", TTL: -1})
		s.AddFlowEvents(splunkemu.FlowEvent{Time: ts, IndexTime: ts.Add(5 * time.Second), Src: "10.0.0.1", Dest: "192.0.2.1", DestPort: 443, Transport: "tcp", Bytes: 100, Packets: 2})
	}
	clock := &fakeClock{now: t0.Add(2 * time.Hour)}
	db := openDB(t, filepath.Join(t.TempDir(), "state.db"))
	defer db.Close()
	var logs bytes.Buffer
	cons := &memConsumer{}
	cfg := pollConfig()
	cfg.InitialLookback = config.Duration(time.Hour)
	p, err := poll.New(poll.Options{Searcher: client(t, s, false), DB: db, Poll: cfg, Consumer: cons, Clock: clock,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// No checkpoint: start at now − initial_lookback = t0+1h, up to now − lag.
	n, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 || !cons.windows[0].Start.Equal(t0.Add(time.Hour)) || !cons.windows[5].End.Equal(t0.Add(2*time.Hour-30*time.Second)) {
		t.Fatalf("%d windows: %v", n, cons.windows)
	}
	for i, w := range cons.windows {
		if i > 0 && !w.Start.Equal(cons.windows[i-1].End) {
			t.Fatalf("windows not contiguous at %d: %v", i, cons.windows)
		}
		if !w.Earliest.Equal(w.Start.Add(-24 * time.Hour)) {
			t.Fatalf("earliest_time %v for window %v", w.Earliest, w)
		}
	}
	// Events indexed in [t0+1h, t0+2h−30s): minutes 60..119 indexed at :05,
	// except minute 119 (indexed 5 s before 2h: inside) — 60 events.
	if got := sumDNS(cons.dns); got != 60 {
		t.Fatalf("dns count %d, want 60", got)
	}
	if sumFlows(cons.flows) != 60 || len(cons.flows) != 6 || cons.flows[0].Bytes != 1000 || cons.flows[0].DestPort != 443 {
		t.Fatalf("flows %d %+v", len(cons.flows), cons.flows[:1])
	}
	cp, ok, err := p.Checkpoint()
	if err != nil || !ok || !cp.Equal(t0.Add(2*time.Hour-30*time.Second)) {
		t.Fatalf("checkpoint %v %v %v", cp, ok, err)
	}
	// Nothing new before the clock moves.
	if n, err := p.RunOnce(context.Background()); n != 0 || err != nil {
		t.Fatalf("second run: %d %v", n, err)
	}
	// A new poller over the same state continues from the checkpoint.
	clock.Set(t0.Add(2*time.Hour + 5*time.Minute))
	cons2 := &memConsumer{}
	p2, _ := poll.New(poll.Options{Searcher: client(t, s, false), DB: db, Poll: cfg, Consumer: cons2, Clock: clock})
	if n, err := p2.RunOnce(context.Background()); n != 1 || err != nil || !cons2.windows[0].Start.Equal(cp) {
		t.Fatalf("continue: %d %v %v", n, err, cons2.windows)
	}
	// --since backfills the whole history in bounded windows with progress.
	clock.Set(t0.Add(6 * time.Hour))
	logs.Reset()
	cons3 := &memConsumer{}
	p3, _ := poll.New(poll.Options{Searcher: client(t, s, false), DB: openDB(t, filepath.Join(t.TempDir(), "b.db")), Poll: cfg, Consumer: cons3, Clock: clock,
		Since: t0.Add(-time.Minute), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	n, err = p3.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 37 || sumDNS(cons3.dns) != 300 || sumFlows(cons3.flows) != 300 {
		t.Fatalf("backfill: %d windows, %d dns, %d flows", n, sumDNS(cons3.dns), sumFlows(cons3.flows))
	}
	for _, w := range cons3.windows {
		if w.End.Sub(w.Start) > 10*time.Minute || !w.Backfill {
			t.Fatalf("window %v exceeds poll.max_window or is not marked backfill", w)
		}
	}
	if c := strings.Count(logs.String(), "backfill progress"); c != 37 || !strings.Contains(logs.String(), "done_percent=100.0") {
		t.Fatalf("progress lines %d:\n%s", c, logs.String())
	}
}

func sumFlows(rows []schema.FlowRow) int64 {
	var n int64
	for _, r := range rows {
		n += r.Count
	}
	return n
}

func sumDNS(rows []schema.DNSRow) int64 {
	var n int64
	for _, r := range rows {
		n += r.Count
	}
	return n
}

// rowsSearcher answers every search with fixed rows.
type rowsSearcher struct{ rows []schema.Fields }

func (r rowsSearcher) Search(_ context.Context, q search.Query, fn func(schema.Fields) error) (search.Result, error) {
	if q.OnBadRow != nil {
		q.OnBadRow(&search.BadRowError{Line: 3, Reason: "not a JSON object"})
		q.OnBadRow(&search.BadRowError{Line: 4, Field: "attacker-chosen-\x00-name", Reason: "nested object"})
	}
	for _, f := range r.rows {
		if err := fn(f); err != nil {
			return search.Result{}, err
		}
	}
	return search.Result{Rows: len(r.rows)}, nil
}

func TestBadRowsCountedAndSkipped(t *testing.T) {
	row := func(kv ...string) schema.Fields {
		f := schema.Fields{"_time": {"1764115200"}, "src": {"10.0.0.1"}, "record_type": {"A"}, "reply_code": {"NoError"}, "count": {"2"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<nil>" {
				delete(f, kv[i])
				continue
			}
			f[kv[i]] = strings.Split(kv[i+1], "|")
		}
		return f
	}
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + "." + strings.Repeat("e", 60) + ".com"
	rows := []schema.Fields{
		row("query", "WWW.Example.COM."),             // mixed case, trailing dot: normalised
		row("query", "bücher.example"),               // IDN in Unicode: normalised to punycode
		row("query", "xn--bcher-kva.example"),        // IDN in punycode
		row("query", "<nil>"),                        // missing field
		row("query", "a.example|b.example"),          // multivalue where single is expected
		row("query", "bad\xff.example"),              // invalid UTF-8
		row("query", long),                           // over 253 bytes
		row("query", strings.Repeat("x", 64)+".com"), // label over 63
		row("query", "ok.example", "count", "many"),  // bad number
		row("query", "fine.example"),
	}
	reg := prometheus.NewRegistry()
	cons := &memConsumer{}
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	cfg := pollConfig()
	cfg.Flows = false
	clock := &fakeClock{now: t0.Add(5 * time.Minute)}
	p, err := poll.New(poll.Options{Searcher: rowsSearcher{rows}, DB: db, Poll: cfg, Consumer: cons, Clock: clock, Since: t0, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range cons.dns {
		names = append(names, r.Query.ASCII)
	}
	if got := strings.Join(names, " "); got != "www.example.com xn--bcher-kva.example xn--bcher-kva.example fine.example" {
		t.Fatalf("accepted rows: %s", got)
	}
	if cons.dns[1].Query.Unicode != "bücher.example" {
		t.Fatalf("unicode form %q", cons.dns[1].Query.Unicode)
	}
	got := gather(t, reg, "fluxhunt_poll_bad_rows_total")
	want := map[string]float64{
		"reason=decode,search=dns,field=":       1,
		"reason=decode,search=dns,field=other":  1,
		"reason=invalid,search=dns,field=query": 5,
		"reason=invalid,search=dns,field=count": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("bad row metric\n got %v\nwant %v", got, want)
	}
	if rows := gather(t, reg, "fluxhunt_poll_rows_total"); rows["search=dns"] != 4 {
		t.Fatalf("rows metric %v", rows)
	}
}

// gather returns a metric's values keyed by "label=value,..." (labels in
// the order reason, search, field, stage as present).
func gather(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			lv := map[string]string{}
			for _, l := range m.GetLabel() {
				lv[l.GetName()] = l.GetValue()
			}
			var parts []string
			for _, k := range []string{"reason", "search", "field", "stage"} {
				if v, ok := lv[k]; ok {
					parts = append(parts, k+"="+v)
				}
			}
			v := m.GetCounter().GetValue()
			if m.GetGauge() != nil {
				v = m.GetGauge().GetValue()
			}
			out[strings.Join(parts, ",")] = v
		}
	}
	return out
}

func TestStartShutdown(t *testing.T) {
	s := startEmu(t)
	now := time.Now().UTC()
	s.AddDNSEvents(splunkemu.DNSEvent{Time: now.Add(-10 * time.Minute), IndexTime: now.Add(-10 * time.Minute), Src: "10.0.0.9", Query: "x.example.com", TTL: -1})
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	cfg := pollConfig()
	cfg.Interval = config.Duration(20 * time.Millisecond)
	got := make(chan struct{}, 1)
	cons := consumerFunc(func(_ context.Context, _ poll.Window, dns []schema.DNSRow, _ []schema.FlowRow) error {
		if len(dns) > 0 {
			select {
			case got <- struct{}{}:
			default:
			}
		}
		return nil
	})
	p, err := poll.New(poll.Options{Searcher: client(t, s, false), DB: db, Poll: cfg, Consumer: cons})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil { // safe without Start
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no rows within 20 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

type consumerFunc func(context.Context, poll.Window, []schema.DNSRow, []schema.FlowRow) error

func (f consumerFunc) ConsumeWindow(ctx context.Context, w poll.Window, d []schema.DNSRow, fl []schema.FlowRow) error {
	return f(ctx, w, d, fl)
}

func TestConsumerErrorKeepsCheckpoint(t *testing.T) {
	s := startEmu(t)
	s.AddDNSEvents(splunkemu.DNSEvent{Time: t0, IndexTime: t0, Src: "10.0.0.9", Query: "x.example.com", TTL: -1})
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	clock := &fakeClock{now: t0.Add(time.Hour)}
	fail := true
	reg := prometheus.NewRegistry()
	cons := consumerFunc(func(context.Context, poll.Window, []schema.DNSRow, []schema.FlowRow) error {
		if fail {
			return errors.New("pipeline full")
		}
		return nil
	})
	p, _ := poll.New(poll.Options{Searcher: client(t, s, false), DB: db, Poll: pollConfig(), Consumer: cons, Clock: clock, Since: t0, Registerer: reg})
	if _, err := p.RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "pipeline full") {
		t.Fatalf("err = %v", err)
	}
	if _, ok, _ := p.Checkpoint(); ok {
		t.Fatal("checkpoint advanced past a refused window")
	}
	if e := gather(t, reg, "fluxhunt_poll_errors_total"); e["stage=consume"] != 1 {
		t.Fatalf("errors metric %v", e)
	}
	fail = false
	if n, err := p.RunOnce(context.Background()); err != nil || n != 6 {
		t.Fatalf("%d %v", n, err)
	}
}
