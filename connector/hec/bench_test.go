package hec

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
	"github.com/fluxhunt/fluxhunt/schema"
)

// benchDetection stands for a detection struct (what the pipeline sends).
type benchDetection struct {
	SchemaVersion int      `json:"schema_version"`
	Seq           int      `json:"seq"`
	DetectionType string   `json:"detection_type"`
	SignatureID   string   `json:"signature_id"`
	Severity      string   `json:"severity"`
	Src           string   `json:"src"`
	Domain        string   `json:"domain"`
	Reasons       []string `json:"reasons"`
	Pad           string   `json:"pad"`
}

var benchPad = strings.Repeat("p", 179)

// benchEvent is an envelope of about 500 bytes once encoded.
func benchEvent(i int) schema.Envelope {
	return schema.Envelope{
		Time: 1764172800 + float64(i%100000)/1000, Sourcetype: "fluxhunt:detection",
		Event: &benchDetection{
			SchemaVersion: 1, Seq: i, DetectionType: "dga", SignatureID: "FH-DGA",
			Severity: "high", Src: "10.1.2.3", Domain: "xkqjzvbwplm.example.biz",
			Reasons: []string{"entropy 4.1", "no vowels run"}, Pad: benchPad,
		},
	}
}

func benchOptions(dir, url string) Options {
	return Options{
		HEC: config.HEC{
			URLs: []string{url}, Token: config.NewSecret(goodToken), Index: "fluxhunt",
			BatchBytes: 1 << 20, BatchEvents: 1000, Linger: config.Duration(50 * time.Millisecond),
			GzipLevel: 1, MaxEventBytes: 5 << 20, Timeout: config.Duration(30 * time.Second),
			AckTimeout: config.Duration(time.Minute), AckPoll: config.Duration(100 * time.Millisecond),
		},
		Spool:    config.Spool{MaxBytes: 4 << 30, Overflow: "block"},
		StateDir: dir, Instance: "bench",
		RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 200 * time.Millisecond, ConfigRetry: 200 * time.Millisecond,
	}
}

// produce sends events [0, n) from 8 producers in SendBatch chunks of 1000.
func produce(tb testing.TB, w *Writer, n int) {
	var wg sync.WaitGroup
	const producers, chunk = 8, 1000
	per := (n + producers - 1) / producers
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i += chunk {
				envs := make([]schema.Envelope, 0, chunk)
				for j := i; j < min(i+chunk, hi); j++ {
					envs = append(envs, benchEvent(j))
				}
				if err := w.SendBatch(context.Background(), envs); err != nil {
					tb.Error(err)
					return
				}
			}
		}(p*per, min((p+1)*per, n))
	}
	wg.Wait()
}

// BenchmarkHECWrite: end to end from Send to HEC's answer, gzip level 1,
// ~500-byte events, the emulator in its own process on loopback (validating
// every event, storing none). Reports events/s.
func BenchmarkHECWrite(b *testing.B) {
	for _, ack := range []bool{false, true} {
		name := "ack=off"
		if ack {
			name = "ack=on"
		}
		b.Run(name, func(b *testing.B) {
			emu := startEmuChild(b, nil, true)
			o := benchOptions(b.TempDir(), emu.HEC)
			if ack {
				o.HEC.Token = config.NewSecret(ackToken)
				o.HEC.Ack = true
			}
			w, err := New(o)
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			if rec, _ := w.encode(benchEvent(123456)); len(rec) < 480 || len(rec) > 520 {
				b.Fatalf("event is %d bytes, want ~500", len(rec))
			}
			emuCPU0 := emu.stats(b, 0).CPU
			cpu0 := cpuTime()
			b.ResetTimer()
			start := time.Now()
			produce(b, w, b.N)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
			est := emu.stats(b, 0)
			wcpu, ecpu := cpuTime()-cpu0, est.CPU-emuCPU0
			b.ReportMetric(float64(wcpu.Microseconds())/float64(b.N), "writer-cpu-µs/event")
			b.ReportMetric(float64(ecpu.Microseconds())/float64(b.N), "emu-cpu-µs/event")
			if got := est.Accepted; got < int64(b.N) {
				b.Fatalf("emulator accepted %d of %d", got, b.N)
			}
			_ = w.Shutdown(context.Background())
		})
	}
}

// TestOutageMemoryBounded: HEC answers 503 "Server is shutting down" to
// everything while the producer writes 300,000 ~500-byte events (~150 MB,
// the output of a 10-minute outage at 500 events/s, compressed in time);
// the writer's heap stays flat because the events are on disk. When HEC
// comes back, every event is delivered.
func TestOutageMemoryBounded(t *testing.T) {
	const n = 300_000
	emu := startEmuChild(t, &splunkemu.HECFaults{ShuttingDown: true}, true)
	o := benchOptions(t.TempDir(), emu.HEC)
	w := mustWriter(t, o)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	var peak uint64
	var samples []uint64
	for i := 0; i < n; i += n / 10 {
		produceRange(t, w, i, i+n/10)
		h := heap()
		samples = append(samples, h>>20)
		peak = max(peak, h)
	}
	st := w.Stats()
	t.Logf("outage: %d events spooled, spool %d MiB on disk; writer heap in use after each 30,000 events (MiB): %v; peak %d MiB",
		st.SpoolEvents, st.SpoolBytes>>20, samples, peak>>20)
	if st.SpoolEvents != n {
		t.Fatalf("spool holds %d events, want %d", st.SpoolEvents, n)
	}
	if !strings.Contains(st.LastError, "Server is shutting down (HEC code 23, HTTP 503)") {
		t.Fatalf("last error during the outage %q", st.LastError)
	}
	if st.Sent != 0 || st.SpoolBytes < 100<<20 {
		t.Fatalf("during the outage: sent %d, spool %d bytes; want 0 sent and >100 MiB on disk", st.Sent, st.SpoolBytes)
	}
	// The heap must not grow with the events: allow 32 MiB over the first
	// sample (workers' batches, gzip buffers), against ~150 MB written.
	if growth := int64(peak>>20) - int64(samples[0]); growth > 32 {
		t.Fatalf("heap grew by %d MiB during the outage: events held in RAM?", growth)
	}
	emu.setFaults(t, splunkemu.HECFaults{})
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("after the outage: %d events delivered in %s", n, time.Since(start).Round(time.Millisecond))
	if got := emu.stats(t, 0).Accepted; got < n {
		t.Fatalf("emulator accepted %d of %d", got, n)
	}
}

func produceRange(t testing.TB, w *Writer, lo, hi int) {
	const chunk = 500
	for i := lo; i < hi; i += chunk {
		envs := make([]schema.Envelope, 0, chunk)
		for j := i; j < min(i+chunk, hi); j++ {
			envs = append(envs, benchEvent(j))
		}
		if err := w.SendBatch(context.Background(), envs); err != nil {
			t.Fatal(err)
		}
	}
}
