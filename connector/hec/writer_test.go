package hec

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
	"github.com/fluxhunt/fluxhunt/schema"
)

func TestDeliverExactlyOnceWithoutFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
		gzip  int
	}{
		{"plain", goodToken, 0},
		{"gzip", goodToken, 1},
		{"ack+gzip", ackToken, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t)
			o := testOptions(t, t.TempDir(), tc.token, emu.HECURL())
			o.HEC.GzipLevel = tc.gzip
			reg := prometheus.NewRegistry()
			o.Registerer = reg
			w := mustWriter(t, o)
			ctx := context.Background()
			if err := w.Start(ctx); err != nil {
				t.Fatal(err)
			}
			const n = 1500
			for i := 0; i < n; i++ {
				if err := w.Send(ctx, testEvent(i)); err != nil {
					t.Fatal(err)
				}
			}
			fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := w.Flush(fctx); err != nil {
				t.Fatal(err)
			}
			counts := seqCounts(emu)
			for i := 0; i < n; i++ {
				if counts[i] != 1 {
					t.Fatalf("event %d stored %d times, want 1", i, counts[i])
				}
			}
			st := w.Stats()
			if st.Spooled != n || st.Sent != n || st.Delivered != n || st.SpoolEvents != 0 || st.SpoolBytes != 0 {
				t.Fatalf("stats %+v", st)
			}
			if tc.token == ackToken && st.Acked != n {
				t.Fatalf("acked %d, want %d", st.Acked, n)
			}
			// Envelope as DESIGN.md says: time, host, source, sourcetype, index.
			ev := emu.Store().Select(func(e *splunkemu.Event) bool { return e.Fields["seq"] == float64(7) })[0]
			if ev.Host != "test-1" || ev.Source != "fluxhunt" || ev.Sourcetype != "fluxhunt:test" || ev.Index != "fluxhunt" ||
				ev.Time.UnixMilli() != 1764172800007 {
				t.Fatalf("stored envelope %+v", ev)
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, mf := range mfs {
				if mf.GetName() == "fluxhunt_hec_events_sent_total" {
					found = mf.GetMetric()[0].GetCounter().GetValue() == n
				}
			}
			if !found {
				t.Fatal("fluxhunt_hec_events_sent_total missing or wrong")
			}
		})
	}
}

// TestFaultsLoseNothing runs the writer against 503 bursts, resets before and
// after storing, latency and lost acks, in-process.
func TestFaultsLoseNothing(t *testing.T) {
	emu := startEmu(t)
	emu.SetHECFaults(splunkemu.HECFaults{
		BurstEvery: 7, BurstLen: 3, RetryAfter: 0,
		LatencyEvery: 5, Latency: 30 * time.Millisecond,
		ResetBeforeEvery: 11, ResetAfterEvery: 13, LoseAckEvery: 9,
	})
	o := testOptions(t, t.TempDir(), ackToken, emu.HECURL())
	o.HEC.AckTimeout = config500ms()
	w := mustWriter(t, o)
	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	for i := 0; i < n; i += 100 {
		batch := make([]schema.Envelope, 0, 100)
		for j := i; j < i+100; j++ {
			batch = append(batch, testEvent(j))
		}
		if err := w.SendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := w.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	counts := seqCounts(emu)
	if m := missing(counts, n); len(m) > 0 {
		t.Fatalf("%d events missing: %s", len(m), fmtFirst(m))
	}
	dups := 0
	for _, c := range counts {
		dups += c - 1
	}
	st := w.Stats()
	t.Logf("stored %d, duplicates %d (resets after storing and lost acks), resent %d", emu.Store().Len(), dups, st.Resent)
	if dups == 0 {
		t.Fatal("faults that store before failing must produce duplicates; none seen: faults not injected?")
	}
}

func TestFailoverToSecondURL(t *testing.T) {
	emu := startEmu(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there: connection refused
	o := testOptions(t, t.TempDir(), goodToken, dead, emu.HECURL())
	w := mustWriter(t, o)
	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if err := w.Send(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	if m := missing(seqCounts(emu), 1000); len(m) > 0 {
		t.Fatalf("missing %s", fmtFirst(m))
	}
}

// TestBadTokenLosesNothing: with a wrong token nothing is sent or dropped,
// the status carries Splunk's text; with the token fixed every event
// arrives. Oversized and malformed events are dead-lettered with a reason.
func TestBadTokenLosesNothing(t *testing.T) {
	emu := startEmu(t)
	dir := t.TempDir()
	o := testOptions(t, dir, "wrong-token-value", emu.HECURL())
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 600
	for i := 0; i < n; i++ {
		if err := w.Send(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Oversized: refused up front.
	big := testEvent(n)
	big.Event = map[string]any{"seq": n, "blob": strings.Repeat("y", 70<<10)}
	if err := w.Send(ctx, big); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("oversized event: err %v, want ErrEventTooLarge", err)
	}
	// Malformed: indexed fields HEC refuses (nested object, code 15).
	bad := testEvent(n + 1)
	bad.Fields = map[string]any{"nested": map[string]any{"a": 1}}
	if err := w.Send(ctx, bad); err != nil {
		t.Fatal(err)
	}
	// Blank event: refused up front.
	blank := testEvent(n + 2)
	blank.Event = ""
	if err := w.Send(ctx, blank); !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("blank event: err %v, want ErrInvalidEvent", err)
	}
	waitFor(t, 10*time.Second, "status FAIL", func() bool { return !w.Status().OK })
	st := w.Status()
	if !strings.Contains(st.Text, "Invalid token") || st.Code != 4 || strings.Contains(st.Text, "wrong-token-value") {
		t.Fatalf("status %+v", st)
	}
	time.Sleep(300 * time.Millisecond) // a few slow retries
	if emu.Store().Len() != 0 {
		t.Fatalf("emulator stored %d events with a bad token", emu.Store().Len())
	}
	if got := w.Stats().SpoolEvents; got != n+1 {
		t.Fatalf("spool holds %d, want %d", got, n+1)
	}
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_ = w.Shutdown(sctx)
	cancel()

	// Fix the token: a new writer on the same state dir sends everything.
	o.HEC.Token = config.NewSecret(goodToken)
	w2 := mustWriter(t, o)
	if err := w2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	fctx, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	if err := w2.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	counts := seqCounts(emu)
	if m := missing(counts, n); len(m) > 0 {
		t.Fatalf("missing after fixing the token: %s", fmtFirst(m))
	}
	if counts[n] != 0 || counts[n+1] != 0 || counts[n+2] != 0 {
		t.Fatalf("refused events reached HEC: %v %v %v", counts[n], counts[n+1], counts[n+2])
	}
	if !w2.Status().OK {
		t.Fatalf("status %v after the fix", w2.Status())
	}
	// Dead letters: three lines with reasons, replayable envelopes.
	f, err := os.Open(o.Spool.DeadLetterFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	reasons := map[int]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var dl struct {
			DeadLetter DeadLetter `json:"dead_letter"`
			Event      any        `json:"event"`
			Sourcetype string     `json:"sourcetype"`
		}
		if err := json.Unmarshal(sc.Bytes(), &dl); err != nil {
			t.Fatal(err)
		}
		seq := float64(n + 2) // the blank event has no seq
		if m, ok := dl.Event.(map[string]any); ok {
			seq, _ = m["seq"].(float64)
		}
		reasons[int(seq)] = dl.DeadLetter.Reason
		if dl.Sourcetype != "fluxhunt:test" || dl.DeadLetter.At == "" {
			t.Fatalf("dead letter %s", sc.Text())
		}
	}
	for seq, want := range map[int]string{n: "max_event_bytes", n + 1: "Error in handling indexed fields (HEC code 15", n + 2: "cannot be blank"} {
		if !strings.Contains(reasons[seq], want) {
			t.Errorf("dead letter for %d: reason %q, want it to mention %q", seq, reasons[seq], want)
		}
	}
}

func TestDisabledTokenAndIndexStatus(t *testing.T) {
	emu := startEmu(t)
	for _, tc := range []struct {
		token, index, want string
		code               int
	}{
		{"disabled", "fluxhunt", "Token disabled", 1},
		{goodToken, "secret", "Incorrect index", 7},
	} {
		o := testOptions(t, t.TempDir(), tc.token, emu.HECURL())
		o.HEC.Index = tc.index
		w := mustWriter(t, o)
		if err := w.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := w.Send(context.Background(), testEvent(1)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "status FAIL", func() bool { return !w.Status().OK })
		if st := w.Status(); st.Code != tc.code || !strings.Contains(st.Text, tc.want) {
			t.Fatalf("status %+v, want code %d %q", st, tc.code, tc.want)
		}
		if w.Stats().SpoolEvents != 1 {
			t.Fatal("event left the spool")
		}
	}
}

func config500ms() configDuration { return configDuration(500 * time.Millisecond) }
