package splunkemu

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/internal/testenv"
)

// TestHECFidelityNodeSplunkLogging: Splunk's own Node HEC client
// (splunk-logging 0.11.1, tools/fidelity) sends single and batched events;
// the emulator must accept them and store exactly what was sent, and answer
// a wrong token with Splunk's body.
func TestHECFidelityNodeSplunkLogging(t *testing.T) {
	node := testenv.Command(t, "node")
	dir := filepath.Join(testenv.RepoRoot(t), "tools", "fidelity")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "splunk-logging", "package.json")); err != nil {
		testenv.Missing(t, "the npm package splunk-logging (run npm ci in tools/fidelity)")
	}
	const token = "5e5e5e5e-1111-2222-3333-444444444444"
	s := New(Options{HECListen: "127.0.0.1:0", HECTokens: map[string]HECToken{
		token: {Indexes: []string{"fluxhunt"}, DefaultIndex: "fluxhunt"},
	}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "hec_check.js"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HEC_URL="+s.HECURL(), "HEC_TOKEN="+token, "HEC_BAD_TOKEN=not-a-token")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node hec_check.js: %v", err)
	}
	var res struct {
		Sent []struct {
			Seq   int     `json:"seq"`
			Time  float64 `json:"time"`
			Event string  `json:"event"`
		} `json:"sent"`
		Answers []struct {
			Err         *string         `json:"err"`
			Status      int             `json:"status"`
			Body        json.RawMessage `json:"body"`
			LoggerError string          `json:"logger_error"`
		} `json:"answers"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output %q: %v", out, err)
	}
	// 3 single sends, 1 batch flush: Success; the wrong token: code 4.
	if len(res.Answers) != 5 {
		t.Fatalf("answers %+v", res.Answers)
	}
	for i, a := range res.Answers {
		var body struct {
			Text string `json:"text"`
			Code int    `json:"code"`
		}
		if err := json.Unmarshal(a.Body, &body); err != nil {
			t.Fatalf("answer %d body %s: %v", i, a.Body, err)
		}
		want := struct {
			status int
			text   string
			code   int
		}{200, "Success", 0}
		if i == 4 {
			want.status, want.text, want.code = 403, "Invalid token", 4
		}
		if a.Status != want.status || body.Text != want.text || body.Code != want.code || a.LoggerError != "" {
			t.Errorf("answer %d: status %d body %s, want %d %q code %d", i, a.Status, a.Body, want.status, want.text, want.code)
		}
	}
	evs := s.Store().Select(func(*Event) bool { return true })
	if len(evs) != len(res.Sent) || len(evs) != 10 {
		t.Fatalf("stored %d events, client sent %d", len(evs), len(res.Sent))
	}
	for i, sent := range res.Sent {
		ev := evs[i]
		if string(ev.Raw) != sent.Event {
			t.Errorf("event %d stored %s, client sent %s", sent.Seq, ev.Raw, sent.Event)
		}
		if ev.Index != "fluxhunt" || ev.Sourcetype != "fidelity:node" || ev.Source != "splunk-logging" || ev.Host != "node-client" {
			t.Errorf("event %d metadata %q %q %q %q", sent.Seq, ev.Index, ev.Sourcetype, ev.Source, ev.Host)
		}
		if got := float64(ev.Time.UnixMilli()) / 1000; got != sent.Time {
			t.Errorf("event %d time %v, client sent %v", sent.Seq, got, sent.Time)
		}
		msg, _ := ev.Fields["message"].(map[string]any)
		if msg["seq"] != float64(sent.Seq) || msg["text"] != "fidelity h\u00e9llo \u2713 \"quoted\" <tag>" {
			t.Errorf("event %d fields %v", sent.Seq, ev.Fields)
		}
	}
}
