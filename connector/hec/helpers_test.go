package hec

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
	"github.com/fluxhunt/fluxhunt/schema"
)

const (
	goodToken = "11111111-2222-3333-4444-555555555555"
	ackToken  = "aaaaaaaa-2222-3333-4444-555555555555"
)

func testTokens() map[string]splunkemu.HECToken {
	return map[string]splunkemu.HECToken{
		goodToken:  {Indexes: []string{"fluxhunt", "main"}, DefaultIndex: "fluxhunt"},
		ackToken:   {Indexes: []string{"fluxhunt"}, DefaultIndex: "fluxhunt", UseACK: true},
		"disabled": {Disabled: true},
	}
}

// startEmu runs an in-process emulator with HEC on loopback.
func startEmu(t testing.TB) *splunkemu.Server {
	t.Helper()
	s := splunkemu.New(splunkemu.Options{HECListen: "127.0.0.1:0", HECTokens: testTokens()})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("HEC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testOptions are writer options for tests: fast retries, short linger.
func testOptions(t testing.TB, dir, token string, urls ...string) Options {
	return Options{
		HEC: config.HEC{
			URLs: urls, Token: config.NewSecret(token), Index: "fluxhunt",
			Ack: token == ackToken, AckTimeout: config.Duration(2 * time.Second), AckPoll: config.Duration(50 * time.Millisecond),
			BatchBytes: 256 << 10, BatchEvents: 200, Linger: config.Duration(20 * time.Millisecond),
			GzipLevel: 1, MaxEventBytes: 64 << 10, Timeout: config.Duration(5 * time.Second),
		},
		Spool:        config.Spool{MaxBytes: 64 << 20, Overflow: "block", DeadLetterFile: dir + "/dead.jsonl"},
		StateDir:     dir,
		Instance:     "test-1",
		Logger:       testLogger(t),
		RetryWaitMin: 5 * time.Millisecond,
		RetryWaitMax: 100 * time.Millisecond,
		ConfigRetry:  100 * time.Millisecond,
	}
}

func testEvent(i int) schema.Envelope {
	return schema.Envelope{
		Time:       1764172800 + float64(i)/1000,
		Sourcetype: "fluxhunt:test",
		Event:      map[string]any{"seq": i, "schema_version": schema.SchemaVersion, "pad": strings.Repeat("x", 40)},
	}
}

// seqCounts counts stored events by their "seq" field.
func seqCounts(s *splunkemu.Server) map[int]int {
	out := map[int]int{}
	for _, ev := range s.Store().Select(func(*splunkemu.Event) bool { return true }) {
		if v, ok := ev.Fields["seq"].(float64); ok {
			out[int(v)]++
		}
	}
	return out
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustWriter(t testing.TB, o Options) *Writer {
	t.Helper()
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = w.Shutdown(ctx)
	})
	return w
}

func missing(counts map[int]int, n int) []int {
	var out []int
	for i := 0; i < n; i++ {
		if counts[i] == 0 {
			out = append(out, i)
		}
	}
	return out
}

func fmtFirst(xs []int) string {
	if len(xs) > 10 {
		return fmt.Sprint(xs[:10], "...")
	}
	return fmt.Sprint(xs)
}

type configDuration = config.Duration
