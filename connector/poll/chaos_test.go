package poll_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/poll"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
	"github.com/fluxhunt/fluxhunt/schema"
)

// boltConsumer keeps its totals in the poller's bbolt file: ConsumeWindow
// stages a window's sums, CommitWindow adds them inside the checkpoint's
// transaction. It fails or "crashes" (cancels the run) at random.
type boltConsumer struct {
	rng    *rand.Rand
	cancel context.CancelFunc

	mu        sync.Mutex
	stagedFor poll.Window
	dns       map[string]int64
	flows     map[string][2]int64 // count, bytes
	failRate  float64
}

var (
	totalsBucket  = []byte("test_totals")
	windowsBucket = []byte("test_windows")
)

func dnsKey(r schema.DNSRow) string {
	return r.Src + "|" + r.Query.ASCII + "|" + r.RecordType + "|" + r.ReplyCode.String()
}

func flowKey(r schema.FlowRow) string {
	return fmt.Sprintf("%s|%s|%d|%s", r.Src, r.Dest, r.DestPort, r.Transport)
}

func (c *boltConsumer) ConsumeWindow(ctx context.Context, w poll.Window, dns []schema.DNSRow, flows []schema.FlowRow) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stagedFor = w
	c.dns = map[string]int64{}
	c.flows = map[string][2]int64{}
	for _, r := range dns {
		c.dns[dnsKey(r)] += r.Count
	}
	for _, r := range flows {
		v := c.flows[flowKey(r)]
		c.flows[flowKey(r)] = [2]int64{v[0] + r.Count, v[1] + r.Bytes}
	}
	switch x := c.rng.Float64(); {
	case x < c.failRate:
		return errors.New("consumer refused the window (chaos)")
	case x < 2*c.failRate:
		c.cancel() // killed after the consumer accepted, before the commit
	}
	return nil
}

func (c *boltConsumer) CommitWindow(tx *bolt.Tx, w poll.Window) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stagedFor != w {
		return fmt.Errorf("commit of %v but staged %v", w, c.stagedFor)
	}
	if c.rng.Float64() < c.failRate {
		return errors.New("disk full (chaos)") // the transaction rolls back
	}
	b, err := tx.CreateBucketIfNotExists(totalsBucket)
	if err != nil {
		return err
	}
	add := func(k string, n int64) error {
		old := int64(0)
		if v := b.Get([]byte(k)); v != nil {
			old, _ = strconv.ParseInt(string(v), 10, 64)
		}
		return b.Put([]byte(k), []byte(strconv.FormatInt(old+n, 10)))
	}
	for k, n := range c.dns {
		if err := add("dns|"+k, n); err != nil {
			return err
		}
	}
	for k, v := range c.flows {
		if err := add("flow|"+k, v[0]); err != nil {
			return err
		}
		if err := add("bytes|"+k, v[1]); err != nil {
			return err
		}
	}
	wb, err := tx.CreateBucketIfNotExists(windowsBucket)
	if err != nil {
		return err
	}
	var kb [8]byte
	for i, x := 0, w.Start.Unix(); i < 8; i++ {
		kb[7-i] = byte(x >> (8 * i))
	}
	return wb.Put(kb[:], []byte(strconv.FormatInt(w.End.Unix(), 10)))
}

// TestExactnessUnderChaos is the exactness proof: tens of thousands of DNS
// and flow events with late index times, aggregated by the real default
// searches; the poller is killed at random points (run cancelled, state
// file closed and reopened, a new poller and client made) while the
// emulator injects latency, 5xx, session expiry, cut streams, malformed
// rows and ERROR messages; at the end every event was counted in exactly
// one window. Bounded: at most 600 runs and 3 minutes.
func TestExactnessUnderChaos(t *testing.T) {
	nDNS, nFlow := 30000, 6000
	if testing.Short() {
		nDNS, nFlow = 5000, 1000
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("FLUXHUNT_CHAOS_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (FLUXHUNT_CHAOS_SEED reproduces)", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	s := startEmu(t)

	truth, maxIndex := chaosWorld(t, rng, s, nDNS, nFlow)
	s.SetSearchSettings(splunkemu.SearchSettings{PreviewSets: true, MaxResultRows: 500})

	dbPath := filepath.Join(t.TempDir(), "state.db")
	clock := &fakeClock{now: t0}
	final := maxIndex.Add(2 * time.Minute) // now at the end: every event indexed before now − lag
	reg := prometheus.NewRegistry()
	deadline := time.Now().Add(3 * time.Minute)
	runs, kills, refusals := 0, 0, 0
	cfg := pollConfig()
	cfg.MaxWindow = config.Duration(15 * time.Minute)
	committed := false
	for {
		if runs >= 600 || time.Now().After(deadline) {
			t.Fatalf("not caught up after %d runs (bound reached)", runs)
		}
		runs++
		// Time moves on by 1–30 minutes per run until the end.
		if now := clock.Now(); now.Before(final) {
			next := now.Add(time.Duration(1+rng.IntN(30)) * time.Minute)
			if next.After(final) {
				next = final
			}
			clock.Set(next)
		}
		db := openDB(t, dbPath)
		ctx, cancel := context.WithCancel(context.Background())
		cons := &boltConsumer{rng: rand.New(rand.NewPCG(seed, uint64(runs))), cancel: cancel, failRate: 0.04}
		// Every other run is a fresh process: new client (new session, new
		// version probe), login auth to meet session expiry.
		p, err := poll.New(poll.Options{Searcher: client(t, s, runs%2 == 0), DB: db, Poll: cfg, Consumer: cons, Clock: clock, Registerer: reg,
			Since: map[bool]time.Time{true: t0.Add(-time.Minute)}[!committed]})
		if err != nil {
			t.Fatal(err)
		}
		// Half the runs are killed at a random point (0–100 ms in).
		killer := time.AfterFunc(time.Hour, cancel)
		if rng.IntN(2) == 0 {
			killer.Reset(time.Duration(rng.IntN(100)) * time.Millisecond)
		}
		// Every fifth run meets a search head that refuses export: the job
		// API answers (paged by 500 rows).
		s.SetSearchFaults(splunkemu.SearchFaults{
			Latency: time.Millisecond, Status5xxRate: 0.05, SessionExpiryRate: 0.05, CutStreamRate: 0.1,
			MalformedRowRate: 0.1, ErrorMessageRate: 0.05, Seed: seed + uint64(runs), RefuseExport: runs%5 == 0,
		})
		runStart := time.Now()
		nw, err := p.RunOnce(ctx)
		killed := ctx.Err() != nil
		killer.Stop()
		if testing.Verbose() && runs%10 == 0 {
			t.Logf("run %d: %d windows in %v, err %v", runs, nw, time.Since(runStart), err)
		}
		cancel()
		if err != nil {
			if killed {
				kills++
			} else {
				refusals++
			}
		}
		cp, ok, cerr := p.Checkpoint()
		committed = committed || ok
		if cerr != nil {
			t.Fatal(cerr)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err == nil && clock.Now().Equal(final) && cp.Equal(final.Add(-cfg.Lag.D())) {
			break
		}
	}
	st := s.SearchStats()
	t.Logf("%d runs, %d killed, %d failed on faults; emulator: %+v", runs, kills, refusals, st)
	if !testing.Short() && (kills == 0 || refusals == 0 || st.Cuts == 0 || st.Malformed == 0 || st.ErrorMessages == 0 || st.Faults5xx == 0 || st.Expired401 == 0 || st.JobsCreated == 0) {
		t.Fatalf("chaos did not exercise every fault: kills %d, failures %d, %+v", kills, refusals, st)
	}

	windows := verifyTotals(t, dbPath, truth, t0.Add(-time.Minute), nDNS)
	bad := gather(t, reg, "fluxhunt_poll_bad_rows_total")
	sum := 0.0
	for _, v := range bad {
		sum += v
	}
	if sum == 0 {
		t.Fatalf("malformed rows were injected but none counted: %v", bad)
	}
	b, _ := json.Marshal(bad)
	t.Logf("%d windows tile [%s, %s); %d DNS and %d flow events counted exactly once; bad rows skipped: %s",
		len(windows), time.Unix(windows[0][0], 0).UTC().Format(time.RFC3339), time.Unix(windows[len(windows)-1][1], 0).UTC().Format(time.RFC3339), nDNS, nFlow, b)
}

// chaosWorld loads nDNS DNS and nFlow flow events into the emulator and
// returns the truth: per (src, normalised query, record_type, reply_code)
// the DNS event count, per flow key the count and bytes; and the latest
// index time. Six hours of traffic; index delays mostly seconds, some
// minutes, some hours (late arrivals that land in much later windows).
func chaosWorld(t *testing.T, rng *rand.Rand, s *splunkemu.Server, nDNS, nFlow int) (map[string]int64, time.Time) {
	t.Helper()
	span := 6 * time.Hour
	delay := func() time.Duration {
		switch x := rng.Float64(); {
		case x < 0.80:
			return time.Duration(rng.IntN(30)) * time.Second
		case x < 0.95:
			return time.Duration(60+rng.IntN(540)) * time.Second
		default:
			return time.Duration(3600+rng.IntN(7200)) * time.Second
		}
	}
	truth := map[string]int64{}
	var maxIndex time.Time
	names := []string{"www.example.com", "WWW.Example.COM.", "api.example.net", "cdn.example.org", "bücher.example", "xn--bcher-kva.example", "mail.example.com"}
	rcodes := []string{"", "NoError", "NXDomain", "ServFail"}
	rtypes := []string{"", "A", "AAAA", "TXT"}
	dns := make([]splunkemu.DNSEvent, 0, nDNS)
	for i := 0; i < nDNS; i++ {
		ts := t0.Add(time.Duration(rng.Int64N(int64(span))))
		it := ts.Add(delay()).Truncate(time.Second)
		if it.After(maxIndex) {
			maxIndex = it
		}
		q := names[rng.IntN(len(names))]
		if rng.IntN(3) == 0 {
			q = fmt.Sprintf("h%d.dga%d.example", rng.IntN(200), rng.IntN(50))
		}
		ev := splunkemu.DNSEvent{
			Time: ts, IndexTime: it, Src: fmt.Sprintf("10.1.%d.%d", rng.IntN(4), rng.IntN(60)), Query: q,
			RecordType: rtypes[rng.IntN(len(rtypes))], ReplyCode: rcodes[rng.IntN(len(rcodes))],
			Answer: []string{fmt.Sprintf("192.0.2.%d", rng.IntN(250))}, TTL: int64(rng.IntN(600)), Dest: "10.53.0.1",
		}
		dns = append(dns, ev)
		n, err := schema.NormalizeName(q)
		if err != nil {
			t.Fatal(err)
		}
		rt, rc := ev.RecordType, ev.ReplyCode
		if rt == "" {
			rt = "A"
		}
		if rc == "" {
			rc = "NoError"
		}
		code, _ := schema.ParseRCode(rc)
		truth["dns|"+ev.Src+"|"+n.ASCII+"|"+rt+"|"+code.String()]++
	}
	flows := make([]splunkemu.FlowEvent, 0, nFlow)
	for i := 0; i < nFlow; i++ {
		ts := t0.Add(time.Duration(rng.Int64N(int64(span))))
		it := ts.Add(delay()).Truncate(time.Second)
		if it.After(maxIndex) {
			maxIndex = it
		}
		ev := splunkemu.FlowEvent{Time: ts, IndexTime: it, Src: fmt.Sprintf("10.1.%d.%d", rng.IntN(4), rng.IntN(60)),
			Dest: fmt.Sprintf("198.51.100.%d", rng.IntN(20)), DestPort: []int{53, 443, 8080}[rng.IntN(3)], Transport: "tcp",
			Bytes: int64(40 + rng.IntN(5000)), Packets: int64(1 + rng.IntN(10))}
		flows = append(flows, ev)
		k := fmt.Sprintf("%s|%s|%d|%s", ev.Src, ev.Dest, ev.DestPort, ev.Transport)
		truth["flow|"+k]++
		truth["bytes|"+k] += ev.Bytes
	}
	s.AddDNSEvents(dns...)
	s.AddFlowEvents(flows...)
	return truth, maxIndex
}

// verifyTotals compares the consumer's committed totals in the state file
// with the truth and checks that the committed windows tile index time from
// start without gap or overlap. It returns the windows.
func verifyTotals(t *testing.T, dbPath string, truth map[string]int64, start time.Time, nDNS int) [][2]int64 {
	t.Helper()
	db := openDB(t, dbPath)
	defer db.Close()
	got := map[string]int64{}
	var windows [][2]int64
	if err := db.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket(totalsBucket).ForEach(func(k, v []byte) error {
			n, _ := strconv.ParseInt(string(v), 10, 64)
			got[string(k)] = n
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(windowsBucket).ForEach(func(k, v []byte) error {
			var start int64
			for _, b := range k {
				start = start<<8 | int64(b)
			}
			end, _ := strconv.ParseInt(string(v), 10, 64)
			windows = append(windows, [2]int64{start, end})
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if windows[0][0] != start.Unix() {
		t.Fatalf("first window starts at %d", windows[0][0])
	}
	for i := 1; i < len(windows); i++ {
		if windows[i][0] != windows[i-1][1] {
			t.Fatalf("windows %v and %v are not contiguous", windows[i-1], windows[i])
		}
	}
	var diffs []string
	for k, want := range truth {
		if got[k] != want {
			diffs = append(diffs, fmt.Sprintf("%s: got %d want %d", k, got[k], want))
		}
	}
	for k, n := range got {
		if _, ok := truth[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: got %d, not in the truth", k, n))
		}
	}
	if len(diffs) > 0 {
		if len(diffs) > 20 {
			diffs = diffs[:20]
		}
		t.Fatalf("%d keys differ:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
	var dnsTotal int64
	for k, n := range got {
		if strings.HasPrefix(k, "dns|") {
			dnsTotal += n
		}
	}
	if dnsTotal != int64(nDNS) {
		t.Fatalf("dns total %d, want %d", dnsTotal, nDNS)
	}
	return windows
}
