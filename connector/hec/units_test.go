package hec

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status, code int
		err          error
		want         outcome
	}{
		{200, 0, nil, outOK},
		{200, -1, nil, outConfig}, // a 200 without HEC's answer: a proxy, not delivery
		{200, 24, nil, outOKSlow},
		{200, 25, nil, outOKSlow},
		{0, -1, errors.New("connection reset"), outRetry},
		{429, -1, nil, outRetry},
		{429, 26, nil, outRetry},
		{429, 27, nil, outRetry},
		{500, 8, nil, outRetry},
		{503, 9, nil, outRetry},
		{503, 18, nil, outRetry},
		{503, 19, nil, outRetry},
		{503, 20, nil, outRetry},
		{503, 23, nil, outRetry},
		{502, -1, nil, outRetry},
		{403, 1, nil, outConfig},
		{401, 2, nil, outConfig},
		{401, 3, nil, outConfig},
		{403, 4, nil, outConfig},
		{400, 7, nil, outConfig},
		{400, 14, nil, outConfig},
		{400, 16, nil, outConfig},
		{404, -1, nil, outConfig},
		{400, 5, nil, outEvent},
		{400, 6, nil, outEvent},
		{400, 12, nil, outEvent},
		{400, 13, nil, outEvent},
		{400, 15, nil, outEvent},
		{400, 10, nil, outChannel},
		{400, 11, nil, outChannel},
		{413, -1, nil, outTooLarge},
	} {
		r := &result{status: tc.status, code: tc.code, err: tc.err, invalid: -1}
		if got := classify(r); got != tc.want {
			t.Errorf("status %d code %d err %v: %d, want %d", tc.status, tc.code, tc.err, got, tc.want)
		}
	}
}

func openTestSpool(t *testing.T, path string, max int64, drop bool) (*spool, uint64, *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp, first, err := openSpool(db, max, drop, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sp, first, db
}

func TestSpoolPersistsAndOrders(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.db")
	sp, first, db := openTestSpool(t, p, 1<<20, false)
	if first != 1 {
		t.Fatalf("first %d", first)
	}
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		if err := sp.append(ctx, [][]byte{[]byte{'a' + byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	sp.remove([]uint64{1, 2, 5, 99})
	sp.close()
	db.Close()
	sp, first, db = openTestSpool(t, p, 1<<20, false)
	defer db.Close()
	defer sp.close()
	if sp.count.Load() != 7 || sp.bytes.Load() != 7 || first != 3 || sp.lastSeq.Load() != 10 {
		t.Fatalf("after reopen: count %d bytes %d first %d last %d", sp.count.Load(), sp.bytes.Load(), first, sp.lastSeq.Load())
	}
	keys, vals, err := sp.scan(first, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, v := range vals {
		got += string(v)
	}
	if got != "cdfghij" || keys[0] != 3 || keys[len(keys)-1] != 10 {
		t.Fatalf("scan %v %q", keys, got)
	}
	// New records continue the sequence.
	if err := sp.append(ctx, [][]byte{[]byte("k")}); err != nil {
		t.Fatal(err)
	}
	if sp.lastSeq.Load() != 11 {
		t.Fatalf("last %d", sp.lastSeq.Load())
	}
}

func TestSpoolOverflowDropOldest(t *testing.T) {
	sp, _, db := openTestSpool(t, filepath.Join(t.TempDir(), "s.db"), 100, true)
	defer db.Close()
	var dropped atomic.Int64
	sp.onDrop = func(n int, _ int64) { dropped.Add(int64(n)) }
	defer sp.close()
	rec := []byte(strings.Repeat("x", 10))
	for i := 0; i < 25; i++ {
		if err := sp.append(context.Background(), [][]byte{rec}); err != nil {
			t.Fatal(err)
		}
	}
	if sp.bytes.Load() != 100 || sp.count.Load() != 10 || dropped.Load() != 15 {
		t.Fatalf("bytes %d count %d dropped %d", sp.bytes.Load(), sp.count.Load(), dropped.Load())
	}
	keys, _, _ := sp.scan(1, 100, 1<<20)
	if keys[0] != 16 || keys[9] != 25 {
		t.Fatalf("kept %v, want the newest 16..25", keys)
	}
}

func TestSpoolOverflowBlocks(t *testing.T) {
	sp, _, db := openTestSpool(t, filepath.Join(t.TempDir(), "s.db"), 100, false)
	defer db.Close()
	defer sp.close()
	rec := []byte(strings.Repeat("x", 50))
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := sp.append(ctx, [][]byte{rec}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- sp.append(ctx, [][]byte{rec}) }()
	select {
	case err := <-done:
		t.Fatalf("append into a full spool returned %v; it must block", err)
	case <-time.After(200 * time.Millisecond):
	}
	// A short deadline gives up without losing anything already spooled.
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := sp.append(tctx, [][]byte{rec}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append with deadline: %v", err)
	}
	sp.remove([]uint64{1})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("append still blocked after room was freed")
	}
	if err := sp.append(ctx, [][]byte{make([]byte, 101)}); err == nil {
		t.Fatal("a record larger than the spool was accepted")
	}
}

// fakeHEC is a scripted HEC for paths the emulator does not produce on
// demand (413, lost channels, near capacity).
type fakeHEC struct {
	mu      sync.Mutex
	handler func(n int, events []map[string]any, r *http.Request) (int, string)
	n       int
	got     []map[string]any
}

func (f *fakeHEC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		rd = zr
	}
	dec := json.NewDecoder(rd)
	var evs []map[string]any
	for {
		var e map[string]any
		if dec.Decode(&e) != nil {
			break
		}
		evs = append(evs, e)
	}
	f.mu.Lock()
	f.n++
	status, body := f.handler(f.n, evs, r)
	if status == 200 {
		f.got = append(f.got, evs...)
	}
	f.mu.Unlock()
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (f *fakeHEC) stored() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.got) }

func runFake(t *testing.T, f *fakeHEC, n int) *Writer {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	o := testOptions(t, t.TempDir(), goodToken, srv.URL)
	w := mustWriter(t, o)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := w.Send(context.Background(), testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestSplitOn413(t *testing.T) {
	f := &fakeHEC{handler: func(_ int, evs []map[string]any, _ *http.Request) (int, string) {
		if len(evs) > 16 {
			return 413, "Content-Length of request exceeds max_content_length"
		}
		return 200, `{"text":"Success","code":0}`
	}}
	w := runFake(t, f, 100)
	if f.stored() != 100 || w.Stats().DeadLettered != 0 {
		t.Fatalf("stored %d, dead %d", f.stored(), w.Stats().DeadLettered)
	}
}

func TestNewChannelOnInvalidChannel(t *testing.T) {
	var channels sync.Map
	f := &fakeHEC{handler: func(n int, _ []map[string]any, r *http.Request) (int, string) {
		ch := r.Header.Get("X-Splunk-Request-Channel")
		channels.Store(ch, true)
		if n == 1 {
			return 400, `{"text":"Invalid data channel","code":11}`
		}
		return 200, `{"text":"Success","code":0}`
	}}
	runFake(t, f, 10)
	count := 0
	channels.Range(func(any, any) bool { count++; return true })
	if f.stored() != 10 || count != 2 {
		t.Fatalf("stored %d over %d channels, want 10 over 2", f.stored(), count)
	}
}

func TestNearCapacitySlowsDown(t *testing.T) {
	f := &fakeHEC{handler: func(int, []map[string]any, *http.Request) (int, string) {
		return 200, `{"text":"HEC is healthy, queues are near capacity","code":24}`
	}}
	w := runFake(t, f, 50)
	if f.stored() != 50 || w.slowNano.Load() == 0 {
		t.Fatalf("stored %d, slow-down %v", f.stored(), time.Duration(w.slowNano.Load()))
	}
}

func TestEventErrorWithoutNumberBisects(t *testing.T) {
	// HEC refuses any request holding seq 13, without saying which event.
	f := &fakeHEC{handler: func(_ int, evs []map[string]any, _ *http.Request) (int, string) {
		for _, e := range evs {
			if ev, _ := e["event"].(map[string]any); ev["seq"] == float64(13) {
				return 400, `{"text":"Invalid data format","code":6}`
			}
		}
		return 200, `{"text":"Success","code":0}`
	}}
	w := runFake(t, f, 40)
	if f.stored() != 39 || w.Stats().DeadLettered != 1 {
		t.Fatalf("stored %d, dead %d; want 39 and 1", f.stored(), w.Stats().DeadLettered)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	var first time.Time
	var second time.Duration
	f := &fakeHEC{handler: func(n int, _ []map[string]any, _ *http.Request) (int, string) {
		if n == 1 {
			first = time.Now()
			return 503, `{"text":"Server is busy","code":9}`
		}
		if n == 2 {
			second = time.Since(first)
		}
		return 200, `{"text":"Success","code":0}`
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		f.ServeHTTP(w, r)
	}))
	defer srv.Close()
	o := testOptions(t, t.TempDir(), goodToken, srv.URL)
	w := mustWriter(t, o)
	_ = w.Start(context.Background())
	_ = w.Send(context.Background(), testEvent(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Back-off alone would wait at most RetryWaitMax (100ms) here.
	if second < 900*time.Millisecond {
		t.Fatalf("retried after %s despite Retry-After: 1", second)
	}
}

// TestCAFile: HEC serving a self-signed certificate is trusted through
// ca_file, and refused without it.
func TestCAFile(t *testing.T) {
	f := &fakeHEC{handler: func(int, []map[string]any, *http.Request) (int, string) {
		return 200, `{"text":"Success","code":0}`
	}}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, dir, goodToken, srv.URL)
	o.HEC.CAFile = ca
	w := mustWriter(t, o)
	_ = w.Start(context.Background())
	_ = w.Send(context.Background(), testEvent(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Without the CA the certificate is refused (never delivered).
	res := Check(context.Background(), testOptions(t, t.TempDir(), goodToken, srv.URL).HEC, testEvent(2), nil)
	if len(res) != 1 || res[0].OK || !strings.Contains(res[0].Detail, "certificate") {
		t.Fatalf("check without ca_file: %+v", res)
	}
}

// TestConfigErrorFailsOver: one indexer refuses the token, the other takes
// everything; nothing waits for the bad one.
func TestConfigErrorFailsOver(t *testing.T) {
	bad := &fakeHEC{handler: func(int, []map[string]any, *http.Request) (int, string) {
		return 403, `{"text":"Invalid token","code":4}`
	}}
	badSrv := httptest.NewServer(bad)
	defer badSrv.Close()
	emu := startEmu(t)
	o := testOptions(t, t.TempDir(), goodToken, badSrv.URL, emu.HECURL())
	o.ConfigRetry = time.Hour // waiting for the bad URL would time the test out
	w := mustWriter(t, o)
	_ = w.Start(context.Background())
	for i := 0; i < 500; i++ {
		if err := w.Send(context.Background(), testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if m := missing(seqCounts(emu), 500); len(m) > 0 {
		t.Fatalf("missing %s", fmtFirst(m))
	}
}

// TestProxy200IsNotDelivery: a 200 that is not HEC's answer (a proxy's
// page) keeps the events and fails the status.
func TestProxy200IsNotDelivery(t *testing.T) {
	f := &fakeHEC{handler: func(int, []map[string]any, *http.Request) (int, string) {
		return 200, `<html>Welcome to the proxy</html>`
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	w := mustWriter(t, testOptions(t, t.TempDir(), goodToken, srv.URL))
	_ = w.Start(context.Background())
	_ = w.Send(context.Background(), testEvent(1))
	waitFor(t, 10*time.Second, "status FAIL", func() bool { return !w.Status().OK })
	if st := w.Stats(); st.SpoolEvents != 1 || st.Delivered != 0 || !strings.Contains(st.Status.Text, "without an HEC answer") {
		t.Fatalf("stats %+v", st)
	}
}
