package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
)

// TestCheckSearchAgainstEmulator: `fluxhunt check` prints OK lines for the
// search head; a wrong token or password fails naming the check, exit 1,
// and no secret appears in stdout or stderr.
func TestCheckSearchAgainstEmulator(t *testing.T) {
	const (
		goodToken = "emu-token-7d1e5f0c2b9a"
		goodPass  = "emu-pass-41c8a2"
		badToken  = "wrong-token-93be11d0"
		badPass   = "wrong-pass-6a0f2e"
	)
	for _, version := range []string{"9.3.1", "8.2.12"} {
		emu := splunkemu.New(splunkemu.Options{SearchListen: "127.0.0.1:0", SearchToken: goodToken, Username: "fluxhunt", Password: goodPass, Version: version})
		if err := emu.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Shutdown(context.Background()) })
		for _, tc := range []struct {
			name   string
			auth   string
			wantOK bool
			reason string
		}{
			{"token", "token: " + goodToken, true, ""},
			{"login", "username: fluxhunt\n    password: " + goodPass, true, ""},
			{"wrong token", "token: " + badToken, false, "splunk.search.token is not accepted"},
			{"wrong password", "username: fluxhunt\n    password: " + badPass, false, "splunk.search.username/password is not accepted"},
		} {
			t.Run(version+" "+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				file := filepath.Join(dir, "fluxhunt.yaml")
				yaml := fmt.Sprintf("state_dir: %s\nsplunk:\n  search:\n    url: %s\n    %s\n", dir, emu.SearchURL(), tc.auth)
				if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				var stdout, stderr bytes.Buffer
				rc := dispatch(context.Background(), &env{args: []string{"check", "--config", file}, stdout: &stdout, stderr: &stderr, environ: []string{}})
				out := stdout.String()
				t.Logf("exit %d\n%s", rc, out)
				for _, secret := range []string{goodToken, goodPass, badToken, badPass} {
					if strings.Contains(out+stderr.String(), secret) {
						t.Fatalf("a secret appears in the output:\n%s\n%s", out, stderr.String())
					}
				}
				lines := map[string]string{}
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					f := strings.Fields(l)
					if len(f) >= 2 {
						lines[f[1]] = l
					}
				}
				if tc.wantOK {
					v2 := "v2 search endpoints"
					if version == "8.2.12" {
						v2 = "v1 search endpoints"
					}
					for name, re := range map[string]string{
						"splunk-search":  `^OK +splunk-search +127\.0\.0\.1:\d+ authenticated as \S+$`,
						"splunk-version": `^OK +splunk-version +Splunk ` + regexp.QuoteMeta(version) + `, ` + v2,
						"poll-dns":       `^OK +poll-dns +poll\.dns_search runs \(export, shard 0/1\)$`,
						"poll-flow":      `^OK +poll-flow +poll\.flow_search runs`,
					} {
						if !regexp.MustCompile(re).MatchString(lines[name]) {
							t.Fatalf("%s line %q does not match %s\n%s\n%s", name, lines[name], re, out, stderr.String())
						}
					}
					// The exit code follows the lines (other parts' checks may
					// run too): 0 exactly when no line failed.
					if want := map[bool]int{true: exitFail, false: exitOK}[strings.Contains(out, "FAIL")]; rc != want {
						t.Fatalf("exit %d, want %d:\n%s", rc, want, out)
					}
					return
				}
				if rc != exitFail {
					t.Fatalf("exit %d, want 1:\n%s\n%s", rc, out, stderr.String())
				}
				l := lines["splunk-search"]
				if !strings.HasPrefix(l, "FAIL") || !strings.Contains(l, tc.reason) || !strings.Contains(l, "HTTP 401") {
					t.Fatalf("splunk-search line %q, want FAIL with %q\n%s", l, tc.reason, out)
				}
			})
		}
	}
}
