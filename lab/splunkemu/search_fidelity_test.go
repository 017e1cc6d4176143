package splunkemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/internal/testenv"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
)

// TestSplunkSDKFidelity runs tools/fidelity/splunksdk_check.py: Splunk's own
// Python SDK (splunklib.client, JSONResultsReader) reads back through export
// and the job API exactly the rows the emulator holds, computed here
// independently of the emulator from the loaded events.
func TestSplunkSDKFidelity(t *testing.T) {
	py := testenv.Command(t, "python3")
	if out, err := exec.Command(py, "-c", "import splunklib.client, splunklib.results").CombinedOutput(); err != nil {
		testenv.Missing(t, "the Python splunk-sdk (pip install -r tools/fidelity/requirements.txt): "+strings.TrimSpace(string(out)))
	}
	script := filepath.Join(testenv.RepoRoot(t), "tools", "fidelity", "splunksdk_check.py")
	for _, tc := range []struct {
		version string
		login   bool
	}{{"9.3.1", false}, {"8.2.12", true}} {
		t.Run(tc.version, func(t *testing.T) {
			s := splunkemu.New(splunkemu.Options{SearchListen: "127.0.0.1:0", SearchToken: "sdk-token-secret", Username: "admin", Password: "sdk-pass-secret", Version: tc.version})
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer s.Shutdown(context.Background())
			s.SetSearchSettings(splunkemu.SearchSettings{PreviewSets: true, MaxResultRows: 1000})
			t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
			type key struct{ src, query, rt, rc string }
			counts := map[key]int{}
			first := map[key]int64{}
			var evs []splunkemu.DNSEvent
			var events []map[string]any
			for i := 0; i < 700; i++ {
				ts := t0.Add(time.Duration(i*7) * time.Second)
				ev := splunkemu.DNSEvent{Time: ts, IndexTime: ts.Add(time.Duration(i%13) * time.Second),
					Src: fmt.Sprintf("10.2.0.%d", i%9), Query: fmt.Sprintf("n%d.example.org", i%23), TTL: int64(i % 300),
					Answer: []string{"198.51.100.7", "198.51.100.8"}}
				if i%3 == 0 {
					ev.ReplyCode = "NXDomain"
				}
				evs = append(evs, ev)
				// Inside the window below: index time in [t0+10m, t0+70m).
				if it := ev.IndexTime; !it.Before(t0.Add(10*time.Minute)) && it.Before(t0.Add(70*time.Minute)) {
					k := key{ev.Src, ev.Query, "A", map[bool]string{true: "NXDomain", false: "NoError"}[ev.ReplyCode != ""]}
					counts[k]++
					if f, ok := first[k]; !ok || ts.Unix() < f {
						first[k] = ts.Unix()
					}
				}
				events = append(events, map[string]any{"src": ev.Src, "query": ev.Query})
			}
			s.AddDNSEvents(evs...)
			s.SetLookup("fluxhunt_allowlist.csv", []map[string][]string{{"domain": {"pool.ntp.org"}, "comment": {"ntp pool"}}, {"domain": {"example.net"}, "comment": {"lab"}}})
			var expect []map[string]any
			for k, n := range counts {
				expect = append(expect, map[string]any{"src": k.src, "query": k.query, "record_type": k.rt, "reply_code": k.rc,
					"count": strconv.Itoa(n), "_time": strconv.FormatInt(first[k], 10), "answer": []string{"198.51.100.7", "198.51.100.8"}})
			}
			dnsSearch, _ := config.RenderSearch(config.DefaultDNSSearch, config.SearchVars{Shard: 0, Shards: 1})
			port := s.SearchURL()[strings.LastIndex(s.SearchURL(), ":")+1:]
			p, _ := strconv.Atoi(port)
			spec := map[string]any{
				"host": "127.0.0.1", "port": p, "scheme": "http", "expect_version": tc.version,
				"checks": []map[string]any{
					{"name": "default DNS poll search", "search": dnsSearch,
						"params": map[string]string{"earliest_time": strconv.FormatInt(t0.Add(-24*time.Hour).Unix(), 10),
							"index_earliest": strconv.FormatInt(t0.Add(10*time.Minute).Unix(), 10), "index_latest": strconv.FormatInt(t0.Add(70*time.Minute).Unix(), 10),
							"time_format": "%s"},
						"fields": []string{"src", "query", "record_type", "reply_code", "count", "_time", "answer"}, "expect": expect},
					{"name": "raw events by index", "search": "search index=netdns sourcetype=stream:dns",
						"fields": []string{"src", "query"}, "expect": events},
					{"name": "lookup", "search": "| inputlookup fluxhunt_allowlist.csv",
						"fields": []string{"domain", "comment"}, "expect": []map[string]string{{"domain": "pool.ntp.org", "comment": "ntp pool"}, {"domain": "example.net", "comment": "lab"}}},
				},
			}
			if tc.login {
				spec["username"], spec["password"] = "admin", "sdk-pass-secret"
			} else {
				spec["token"] = "sdk-token-secret"
			}
			b, _ := json.Marshal(spec)
			specFile := filepath.Join(t.TempDir(), "spec.json")
			if err := os.WriteFile(specFile, b, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, py, script, specFile).CombinedOutput()
			t.Logf("%s", out)
			if err != nil {
				t.Fatalf("splunksdk_check.py: %v", err)
			}
			if n := strings.Count(string(out), "OK  "); n != 6 {
				t.Fatalf("%d OK lines, want 6", n)
			}
			if st := s.SearchStats(); st.Exports != 3 || st.JobsCreated != 3 || (tc.login && st.Logins != 1) {
				t.Fatalf("the SDK did not take the expected paths: %+v", st)
			}
		})
	}
}
