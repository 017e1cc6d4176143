package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
)

const hecTestToken = "0f0e0d0c-1111-2222-3333-444455556666"

func hecTestEmu(t *testing.T) *splunkemu.Server {
	t.Helper()
	s := splunkemu.New(splunkemu.Options{HECListen: "127.0.0.1:0", HECTokens: map[string]splunkemu.HECToken{
		hecTestToken: {Indexes: []string{"fluxhunt"}, DefaultIndex: "fluxhunt", UseACK: true},
	}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func hecTestConfig(t *testing.T, url, token string, ack bool) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "fluxhunt.yaml")
	y := fmt.Sprintf(`instance: cli-test
state_dir: %s
splunk:
  hec:
    urls: [%s]
    token: %s
    index: fluxhunt
    ack: %v
    ack_poll: 50ms
    linger: 10ms
  spool:
    dead_letter_file: %s
`, filepath.Join(dir, "state"), url, token, ack, filepath.Join(dir, "dead.jsonl"))
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runHECCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := dispatch(context.Background(), &env{args: args, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return rc, out.String(), errb.String()
}

func TestHECSendAndReplayDeadLetters(t *testing.T) {
	emu := hecTestEmu(t)
	cfg := hecTestConfig(t, emu.HECURL(), hecTestToken, true)
	in := strings.Join([]string{
		`{"time": 1764172800.5, "sourcetype": "fluxhunt:test", "event": {"n": 1}}`,
		`{"n": 2, "note": "a bare event"}`,
		``,
		`"a bare string event"`,
		`{"event": {"n": 4}, "fields": {"bad": {"nested": 1}}}`, // HEC refuses: code 15
		`{not json`,
	}, "\n")
	rc, out, errs := runHECCmd(t, in, "hec", "send", "--config", cfg, "--timeout", "30s")
	if rc != exitFail {
		t.Fatalf("rc %d, want 1 (one invalid line, one refused event); stdout %q stderr %q", rc, out, errs)
	}
	if !strings.Contains(errs, "stdin:6: not JSON") {
		t.Errorf("stderr does not name the bad line: %q", errs)
	}
	if !strings.Contains(out, "5 lines, 1 invalid, 4 spooled, 3 delivered, 1 dead-lettered, 0 left") {
		t.Errorf("summary %q", out)
	}
	if strings.Contains(out+errs, hecTestToken) {
		t.Fatal("the token was printed")
	}
	evs := emu.Store().Select(func(*splunkemu.Event) bool { return true })
	if len(evs) != 3 {
		t.Fatalf("stored %d events, want 3", len(evs))
	}
	if evs[0].Sourcetype != "fluxhunt:test" || evs[0].Time.UnixMilli() != 1764172800500 || evs[0].Host != "cli-test" {
		t.Errorf("first event %+v", evs[0])
	}
	// Replay the dead letter after fixing it by hand: the file is valid input.
	dl := filepath.Join(filepath.Dir(cfg), "dead.jsonl")
	b, err := os.ReadFile(dl)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"reason":"HEC refused event 3 of the request: Error in handling indexed fields (HEC code 15`) {
		t.Fatalf("dead letter %s", b)
	}
	fixed := strings.Replace(string(b), `"fields":{"bad":{"nested":1}}`, `"fields":{"bad":"flat"}`, 1)
	fixedFile := filepath.Join(t.TempDir(), "fixed.jsonl")
	if err := os.WriteFile(fixedFile, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, out, errs = runHECCmd(t, "", "hec", "send", "--config", cfg, fixedFile)
	if rc != exitOK {
		t.Fatalf("replay rc %d: %s %s", rc, out, errs)
	}
	if n := emu.Store().Len(); n != 4 {
		t.Fatalf("after replay %d events, want 4", n)
	}
}

func TestCheckHEC(t *testing.T) {
	emu := hecTestEmu(t)
	for _, tc := range []struct {
		name, token string
		ack         bool
		wantOK      bool
		want        string
	}{
		{"good token with ack", hecTestToken, true, true, "accepted a fluxhunt:health event into index fluxhunt (acknowledged)"},
		{"wrong token", "ffffffff-0000-0000-0000-000000000000", false, false, "Invalid token (HEC code 4, HTTP 403)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := hecTestConfig(t, emu.HECURL(), tc.token, tc.ack)
			rc, out, errs := runHECCmd(t, "", "check", "--config", cfg)
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, " hec ") {
					line = l
				}
			}
			if tc.wantOK != strings.HasPrefix(line, "OK") || !strings.Contains(line, tc.want) {
				t.Fatalf("rc %d, hec line %q, want %q (stdout %q stderr %q)", rc, line, tc.want, out, errs)
			}
			if strings.Contains(out+errs, tc.token) {
				t.Fatal("the token was printed")
			}
		})
	}
	hs := emu.Store().Select(func(e *splunkemu.Event) bool { return e.Sourcetype == "fluxhunt:health" })
	if len(hs) != 1 || hs[0].Fields["instance"] != "cli-test" {
		t.Fatalf("health events stored: %+v", hs)
	}
}
