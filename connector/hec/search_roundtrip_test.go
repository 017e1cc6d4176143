package hec

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
)

// TestWrittenEventsSearchBack: what the writer sends over HEC comes back from
// the emulator's REST search (`search index=NAME sourcetype=NAME`), as in
// Splunk, with the envelope's time, host, source and the event as _raw.
func TestWrittenEventsSearchBack(t *testing.T) {
	const searchToken = "search-token-for-test"
	emu := splunkemu.New(splunkemu.Options{HECListen: "127.0.0.1:0", SearchListen: "127.0.0.1:0",
		SearchToken: searchToken, HECTokens: testTokens()})
	if err := emu.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer emu.Shutdown(context.Background())
	w := mustWriter(t, testOptions(t, t.TempDir(), ackToken, emu.HECURL()))
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	const n = 25
	for i := 0; i < n; i++ {
		if err := w.Send(context.Background(), testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	other := testEvent(1000)
	other.Sourcetype = "fluxhunt:other"
	if err := w.Send(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"search": {"search index=fluxhunt sourcetype=fluxhunt:test"}, "output_mode": {"json"},
		"earliest_time": {"0"}, "time_format": {"%s"}}
	req, _ := http.NewRequest("POST", emu.SearchURL()+"/services/search/jobs/export", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer "+searchToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("export: HTTP %d", resp.StatusCode)
	}
	seen := map[float64]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Result map[string]any `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if line.Result == nil {
			continue
		}
		r := line.Result
		if r["host"] != "test-1" || r["source"] != "fluxhunt" || r["sourcetype"] != "fluxhunt:test" || r["index"] != "fluxhunt" {
			t.Fatalf("row %v", r)
		}
		raw, _ := r["_raw"].(string)
		var ev map[string]any
		if err := json.Unmarshal([]byte(raw), &ev); err != nil {
			t.Fatalf("_raw %q: %v", raw, err)
		}
		seq, _ := ev["seq"].(float64)
		ts, _ := r["_time"].(string)
		if got, err := strconv.ParseFloat(ts, 64); err != nil || math.Abs(got-(1764172800+seq/1000)) > 1e-6 {
			t.Fatalf("_time %q for seq %v", ts, seq)
		}
		if r["seq"] != strconv.Itoa(int(seq)) {
			t.Fatalf("extracted field seq %v", r["seq"])
		}
		seen[seq] = true
	}
	if len(seen) != n {
		t.Fatalf("searched back %d distinct events, want %d", len(seen), n)
	}
}
