package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGoodConfig(t *testing.T) {
	res, err := Load(Options{File: "testdata/good.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Config
	if c.Instance != "fluxhunt-test" || c.Splunk.Search.Token.Reveal() != "search-token-value" {
		t.Errorf("instance/token: %q", c.Instance)
	}
	if len(c.Splunk.HEC.URLs) != 2 || c.Splunk.HEC.BatchBytes != 512<<10 || c.Splunk.HEC.Linger.D() != 500*time.Millisecond {
		t.Errorf("hec: %+v", c.Splunk.HEC)
	}
	if c.Splunk.Spool.MaxBytes != 64<<20 || c.Splunk.Spool.Overflow != "drop_oldest" {
		t.Errorf("spool: %+v", c.Splunk.Spool)
	}
	if c.Poll.Shard != (Shard{1, 4}) || c.Poll.Interval.D() != 30*time.Second || c.Poll.Lag.D() != 30*time.Second {
		t.Errorf("poll: %+v", c.Poll)
	}
	if got := strings.Join(c.DNS.Resolvers, ","); got != "127.0.0.1:5353,10.0.0.53:53" {
		t.Errorf("resolvers %s", got)
	}
	if c.DNS.InternalSuffixes[0] != "corp.example.com" {
		t.Errorf("internal suffix %q", c.DNS.InternalSuffixes[0])
	}
	if c.Probe.RateTotal.PerSecond() != 10 || c.Probe.RatePerServer.PerSecond() != 2 {
		t.Errorf("rates %v %v", c.Probe.RateTotal, c.Probe.RatePerServer)
	}
	if len(c.Detect.Windows) != 3 || c.Detect.Windows[2].D() != 24*time.Hour {
		t.Errorf("windows %v", c.Detect.Windows)
	}
	// defaults kept where the file is silent
	if c.Splunk.HEC.MaxEventBytes != 5<<20 || c.Probe.MaxProbes != 3 || c.ShutdownTimeout.D() != 10*time.Second {
		t.Errorf("defaults lost")
	}
}

func TestBadConfigs(t *testing.T) {
	want := map[string]string{
		"unknown_key":            "config: testdata/unknown_key.bad.yaml: key splunk.serch.url: unknown key (keys under splunk: hec, search, spool)",
		"unknown_top":            "config: testdata/unknown_top.bad.yaml: key instnce: unknown key (keys under top level: allowlist_file, asn, detect, dns, instance, listen, log, poll, probe, shutdown_timeout, splunk, state_dir, watchlist_file)",
		"token_and_file":         "config: key splunk.search.token: set token or token_file, not both",
		"no_auth":                "config: key splunk.search: needs token (or token_file), or username with password (or password_file)",
		"bad_url":                `config: key splunk.search.url: invalid URL "x:8089": want http(s)://host[:port]`,
		"bad_size":               `config: testdata/bad_size.bad.yaml: key splunk.hec.batch_bytes: invalid size "lots": want a number with an optional unit B, KiB, MiB, GiB (or KB, MB, GB), e.g. 1MiB`,
		"bad_duration":           `config: testdata/bad_duration.bad.yaml: key poll.interval: invalid duration "soon": want a number with a unit, e.g. 30s, 5m, 24h, 7d`,
		"bad_shard":              `config: testdata/bad_shard.bad.yaml: key poll.shard: invalid shard "4/4": want i/N with 0 <= i < N, e.g. 0/1 or 2/4`,
		"bad_overflow":           `config: key splunk.spool.overflow: invalid policy "discard": want block or drop_oldest`,
		"bad_rate":               `config: testdata/bad_rate.bad.yaml: key probe.rate_total: invalid rate "fast": want a positive number per second, minute or hour, e.g. 200/s, 600/m`,
		"bad_resolver":           `config: key dns.resolvers[0]: invalid address "127.0.0.1:99999": want host:port, e.g. 127.0.0.1:53`,
		"bad_template":           `config: key poll.dns_search: invalid template: template: search:1:9: executing "search" at <.Nope>: can't evaluate field Nope in type config.SearchVars (fields: .Shard, .Shards, .Limit)`,
		"list_for_scalar":        "config: testdata/list_for_scalar.bad.yaml: key instance: got a list, want a single value",
		"bad_yaml":               "config: testdata/bad_yaml.bad.yaml: not valid YAML: ",
		"bad_bool":               `config: testdata/bad_bool.bad.yaml: key dns.authoritative: invalid boolean "maybe": want true or false`,
		"hec_no_token":           "config: key splunk.hec.token: required when splunk.hec.urls is set (or token_file)",
		"bad_index":              `config: key splunk.hec.index: invalid index name "Bad Index": want lower-case letters, digits, '_' or '-'`,
		"cert_without_key":       "config: key splunk.hec.client_cert_file: client_cert_file and client_key_file go together: set both or neither",
		"missing_ca":             "config: key splunk.search.ca_file: stat /nonexistent/ca.pem: no such file or directory",
		"per_server_above_total": "config: key probe.rate_per_server: 10/s is above probe.rate_total (5/s)",
		"bad_internal_suffix":    `config: key dns.internal_suffixes[0]: invalid domain name "bad suffix": invalid character ' ' at byte 3 (want letters, digits, '-', '_' or '.')`,
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) != len(want) {
		t.Errorf("%d bad files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bad.yaml")
		t.Run(name, func(t *testing.T) {
			exp, ok := want[name]
			if !ok {
				t.Fatalf("no expected error for %s", f)
			}
			_, err := Load(Options{File: f})
			if err == nil {
				t.Fatalf("loaded without error")
			}
			if strings.HasSuffix(exp, " ") || strings.HasSuffix(exp, "(keys under splunk: hec, search, spool)") {
				if !strings.HasPrefix(err.Error(), exp) {
					t.Fatalf("error\n got: %s\nwant prefix: %s", err, exp)
				}
				return
			}
			if err.Error() != exp {
				t.Fatalf("error\n got: %s\nwant: %s", err, exp)
			}
		})
	}
}

func TestEnvAndOverrides(t *testing.T) {
	env := []string{
		"FLUXHUNT_SPLUNK__HEC__URLS=https://a:8088,https://b:8088",
		"FLUXHUNT_SPLUNK__HEC__TOKEN=tok",
		"FLUXHUNT_POLL__INTERVAL=2m",
		"FLUXHUNT_REQUIRE_ALL_TESTS=1", // not a key, exempt
		"OTHER=1",
	}
	res, err := Load(Options{File: "testdata/good.yaml", Environ: env, Overrides: map[string]string{"poll.interval": "3m"}})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Config
	if strings.Join(c.Splunk.HEC.URLs, ",") != "https://a:8088,https://b:8088" {
		t.Errorf("env list: %v", c.Splunk.HEC.URLs)
	}
	if c.Poll.Interval.D() != 3*time.Minute {
		t.Errorf("flag must beat env: %v", c.Poll.Interval)
	}
	_, err = Load(Options{Environ: []string{"FLUXHUNT_SPLUNK__HEC__BOGUS=1"}})
	if err == nil || !strings.HasPrefix(err.Error(), "config: env FLUXHUNT_SPLUNK__HEC__BOGUS: key splunk.hec.bogus: unknown key") {
		t.Errorf("err = %v", err)
	}
	_, err = Load(Options{Overrides: map[string]string{"probe.max_probes": "x"}})
	if err == nil || err.Error() != `config: flag: key probe.max_probes: invalid integer "x": want a whole number` {
		t.Errorf("err = %v", err)
	}
}

func TestSecretFilesAndRedaction(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	os.WriteFile(tokFile, []byte("s3cr3t-token\n"), 0o600)
	cfgFile := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf("splunk:\n  search:\n    url: https://sh:8089\n    token_file: %s\n  hec:\n    urls: [https://i:8088]\n    token: hec-s3cr3t\n", tokFile)), 0o600)
	res, err := Load(Options{File: cfgFile})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Config
	if c.Splunk.Search.Token.Reveal() != "s3cr3t-token" {
		t.Fatalf("token from file: %q", c.Splunk.Search.Token.Reveal())
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("cfg", "token", c.Splunk.Search.Token, "hec", c.Splunk.HEC)
	fmt.Fprintf(&buf, "%v %+v %#v %s %q %x", c, c, c, c.Splunk.HEC.Token, c.Splunk.HEC.Token, c.Splunk.HEC.Token)
	js, _ := json.Marshal(c)
	buf.Write(js)
	for _, secret := range []string{"s3cr3t", "hec-s3cr3t"} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("secret %q leaked: %s", secret, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "[REDACTED]") {
		t.Error("redaction marker missing")
	}
	os.WriteFile(tokFile, []byte("\n"), 0o600)
	if _, err := Load(Options{File: cfgFile}); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty token file: %v", err)
	}
}

func TestKeysCoverDesign(t *testing.T) {
	keys := strings.Join(Keys(), " ")
	for _, k := range []string{"instance", "splunk.search.url", "splunk.search.token", "splunk.search.ca_file", "splunk.search.client_cert_file",
		"splunk.search.client_key_file", "splunk.search.proxy_url", "splunk.search.insecure_skip_verify", "splunk.hec.urls", "splunk.hec.token",
		"splunk.hec.index", "splunk.hec.ca_file", "splunk.hec.ack", "splunk.hec.ack_timeout", "splunk.hec.batch_bytes", "splunk.hec.batch_events",
		"splunk.hec.linger", "splunk.hec.gzip_level", "splunk.hec.max_event_bytes", "splunk.spool.max_bytes", "splunk.spool.overflow",
		"splunk.spool.dead_letter_file", "poll.interval", "poll.lag", "poll.max_event_age", "poll.initial_lookback", "poll.shard", "poll.dns_search",
		"poll.flow_search", "dns.resolvers", "dns.authoritative", "dns.internal_suffixes", "dns.allow_private_ns", "dns.authoritative_port",
		"probe.concurrency", "probe.rate_total", "probe.rate_per_server", "probe.max_probes", "probe.min_interval", "asn.db", "allowlist_file",
		"watchlist_file", "state_dir", "listen", "shutdown_timeout"} {
		if !strings.Contains(" "+keys+" ", " "+k+" ") {
			t.Errorf("key %s of DESIGN.md missing", k)
		}
	}
}

func TestRenderDefaultSearches(t *testing.T) {
	s, err := RenderSearch(DefaultDNSSearch, SearchVars{Shard: 2, Shards: 4, Limit: 0})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "`fluxhunt_dns_source`") || !strings.Contains(s, "% 4 == 2") || strings.Contains(s, "head") {
		t.Errorf("dns search: %s", s)
	}
	s, _ = RenderSearch(DefaultFlowSearch, SearchVars{Shard: 0, Shards: 1, Limit: 5000})
	if strings.Contains(s, "md5") || !strings.Contains(s, "| head 5000") {
		t.Errorf("flow search: %s", s)
	}
}

func FuzzLoad(f *testing.F) {
	for _, s := range []string{"instance: a\n", "splunk:\n  hec:\n    batch_bytes: 1MiB\n", "poll: {shard: 1/2}\n", "probe:\n  rate_total: 5/m\n", "[1,2]", "a: {b: {c: d}}"} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.yaml")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Skip()
		}
		res, err := Load(Options{File: p})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if res.Config.Instance == "" || res.Config.Poll.Shard.Count < 1 {
			t.Fatalf("invalid config accepted: %+v", res.Config)
		}
	})
}

// The example config in deploy/ documents every key and loads as it is
// (with its files replaced by temporary ones).
func TestExampleConfigCoversEveryKey(t *testing.T) {
	b, err := os.ReadFile("../deploy/fluxhunt.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, k := range Keys() {
		leaf := k[strings.LastIndexByte(k, '.')+1:]
		if !strings.Contains(text, leaf+":") {
			t.Errorf("key %s is not documented in deploy/fluxhunt.example.yaml", k)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"search.token", "hec.token", "ca.pem"} {
		os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o600)
	}
	text = strings.ReplaceAll(text, "/etc/fluxhunt/", dir+"/")
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte(text), 0o600)
	if _, err := Load(Options{File: p}); err != nil {
		t.Fatalf("example config does not load: %v", err)
	}
}
