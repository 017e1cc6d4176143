package search_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/search"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
	"github.com/fluxhunt/fluxhunt/schema"
)

const (
	testToken = "tok-3f9a1c0e-secret"
	testUser  = "fluxhunt"
	testPass  = "pw-5b2d-secret"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func startEmu(t *testing.T, version string) *splunkemu.Server {
	t.Helper()
	s := splunkemu.New(splunkemu.Options{SearchListen: "127.0.0.1:0", SearchToken: testToken, Username: testUser, Password: testPass, Version: version})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

// loadDNS stores n events: 20 sources x 10 names, index times spread over
// 10 minutes from t0.
func loadDNS(s *splunkemu.Server, n int) {
	evs := make([]splunkemu.DNSEvent, 0, n)
	for i := 0; i < n; i++ {
		ev := splunkemu.DNSEvent{
			Time:      t0.Add(time.Duration(i) * time.Second / 2),
			IndexTime: t0.Add(time.Duration(i)*time.Second/2 + time.Duration(i%7)*time.Second),
			Src:       fmt.Sprintf("10.0.0.%d", i%20),
			Query:     fmt.Sprintf("host%d.example.com", i%10),
			Answer:    []string{fmt.Sprintf("192.0.2.%d", i%3)},
			TTL:       int64(60 + i%5),
			Dest:      "10.53.0.1",
		}
		if i%4 == 0 {
			ev.ReplyCode = "NXDomain"
			ev.Answer = nil
		}
		if i%5 == 0 {
			ev.RecordType = "AAAA"
		}
		evs = append(evs, ev)
	}
	s.AddDNSEvents(evs...)
}

func newClient(t *testing.T, s *splunkemu.Server, mod func(*config.Search), o search.Options) *search.Client {
	t.Helper()
	cfg := config.Search{URL: s.SearchURL(), Token: config.NewSecret(testToken)}
	if mod != nil {
		mod(&cfg)
	}
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin, o.RetryWaitMax = time.Millisecond, 5*time.Millisecond
	}
	c, err := search.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dnsQuery() search.Query {
	s, err := config.RenderSearch(config.DefaultDNSSearch, config.SearchVars{Shard: 0, Shards: 1})
	if err != nil {
		panic(err)
	}
	return search.Query{Search: s, EarliestTime: t0.Add(-24 * time.Hour), IndexEarliest: t0, IndexLatest: t0.Add(time.Hour)}
}

// collect runs q and returns the rows as sorted "src query rt rc count" lines.
func collect(t *testing.T, c *search.Client, q search.Query) ([]string, search.Result, error) {
	t.Helper()
	var out []string
	res, err := c.Search(context.Background(), q, func(f schema.Fields) error {
		r, err := schema.ParseDNSRow(f)
		if err != nil {
			return fmt.Errorf("row %v: %w", f, err)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s %d ttl=%d ans=%s", r.Src, r.Query.ASCII, r.RecordType, r.ReplyCode, r.Count, r.TTL, strings.Join(r.Answers, ",")))
		return nil
	})
	sort.Strings(out)
	return out, res, err
}

func total(lines []string) int {
	n := 0
	for _, l := range lines {
		var src, q, rt, rc string
		var c int
		fmt.Sscanf(l, "%s %s %s %s %d", &src, &q, &rt, &rc, &c)
		n += c
	}
	return n
}

func TestExportAuthModesAndVersions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		login   bool
	}{
		{"token v2", "9.3.1", false},
		{"login v2", "9.0.2", false},
		{"token v1 (8.2)", "8.2.12", false},
		{"login v1 (9.0.1)", "9.0.1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startEmu(t, tc.version)
			loadDNS(s, 400)
			c := newClient(t, s, func(cfg *config.Search) {
				if tc.login {
					cfg.Token = config.Secret{}
					cfg.Username, cfg.Password = testUser, config.NewSecret(testPass)
				}
			}, search.Options{})
			info, err := c.Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := search.SupportsV2(tc.version, ""); info.V2 != want || info.Version != tc.version {
				t.Fatalf("info = %+v, want version %s v2=%v", info, tc.version, want)
			}
			rows, res, err := collect(t, c, dnsQuery())
			if err != nil {
				t.Fatal(err)
			}
			if total(rows) != 400 || res.Rows != len(rows) || res.UsedJobs {
				t.Fatalf("rows %d, total count %d, res %+v", len(rows), total(rows), res)
			}
			// 20 sources x 10 names: i%20 and i%10 tie src to name: 20 pairs,
			// split by record type and reply code.
			if len(rows) < 20 {
				t.Fatalf("only %d rows: %v", len(rows), rows)
			}
		})
	}
}

func TestSessionRenewedOn401(t *testing.T) {
	s := startEmu(t, "9.3.1")
	loadDNS(s, 50)
	c := newClient(t, s, func(cfg *config.Search) {
		cfg.Token = config.Secret{}
		cfg.Username, cfg.Password = testUser, config.NewSecret(testPass)
	}, search.Options{})
	if _, _, err := collect(t, c, dnsQuery()); err != nil {
		t.Fatal(err)
	}
	s.ExpireSessions()
	rows, _, err := collect(t, c, dnsQuery())
	if err != nil {
		t.Fatal(err)
	}
	if total(rows) != 50 {
		t.Fatalf("total %d", total(rows))
	}
	if got := s.SearchStats().Logins; got != 2 {
		t.Fatalf("logins = %d, want 2 (one renewal)", got)
	}
}

func TestAuthFailures(t *testing.T) {
	s := startEmu(t, "9.3.1")
	for _, tc := range []struct {
		name string
		mod  func(*config.Search)
	}{
		{"wrong token", func(c *config.Search) { c.Token = config.NewSecret("wrong-token-value") }},
		{"wrong password", func(c *config.Search) {
			c.Token = config.Secret{}
			c.Username, c.Password = testUser, config.NewSecret("wrong-password-value")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, s, tc.mod, search.Options{})
			_, err := c.Info(context.Background())
			if !errors.Is(err, search.ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			for _, secret := range []string{"wrong-token-value", "wrong-password-value", testToken, testPass} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q reveals a secret", err)
				}
			}
		})
	}
}

func TestJobFallbackPages(t *testing.T) {
	for _, version := range []string{"9.3.1", "8.2.12"} {
		t.Run(version, func(t *testing.T) {
			s := startEmu(t, version)
			loadDNS(s, 1000)
			c := newClient(t, s, nil, search.Options{JobPoll: time.Millisecond})
			want, _, err := collect(t, c, dnsQuery())
			if err != nil {
				t.Fatal(err)
			}
			s.SetSearchFaults(splunkemu.SearchFaults{RefuseExport: true})
			s.SetSearchSettings(splunkemu.SearchSettings{MaxResultRows: 7})
			c2 := newClient(t, s, nil, search.Options{JobPoll: time.Millisecond, PageSize: 50})
			got, res, err := collect(t, c2, dnsQuery())
			if err != nil {
				t.Fatal(err)
			}
			if !res.UsedJobs {
				t.Fatal("job API not used")
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("job rows differ from export rows:\n%v\n%v", got, want)
			}
			st := s.SearchStats()
			if st.JobsCreated != 1 || st.ResultPages < len(want)/7 {
				t.Fatalf("stats %+v for %d rows", st, len(want))
			}
		})
	}
}

func TestStreamFaults(t *testing.T) {
	s := startEmu(t, "9.3.1")
	loadDNS(s, 3000)
	c := newClient(t, s, nil, search.Options{})
	want, _, err := collect(t, c, dnsQuery())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		f       splunkemu.SearchFaults
		wantErr string // "" : success with want rows
		badRows int
	}{
		{"preview sets skipped", splunkemu.SearchFaults{}, "", 0},
		{"malformed row skipped", splunkemu.SearchFaults{MalformedRowRate: 1, Seed: 3}, "", 1},
		{"malformed row skipped (other kind)", splunkemu.SearchFaults{MalformedRowRate: 1, Seed: 4}, "", 1},
		{"cut mid-row", splunkemu.SearchFaults{CutStreamRate: 1, Seed: 5}, "unexpected EOF", 0},
		{"ERROR message", splunkemu.SearchFaults{ErrorMessageRate: 1, Seed: 6}, "emulated search process failure", 0},
		{"5xx after retries", splunkemu.SearchFaults{Status5xxRate: 1}, "HTTP 503", 0},
		{"5xx retried", splunkemu.SearchFaults{Status5xxRate: 0.5, Seed: 2}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.SetSearchSettings(splunkemu.SearchSettings{PreviewSets: true})
			s.SetSearchFaults(tc.f)
			got, res, err := collect(t, c, dnsQuery())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.BadRows != tc.badRows {
				t.Fatalf("bad rows %d, want %d", res.BadRows, tc.badRows)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("rows differ: %d vs %d", len(got), len(want))
			}
		})
	}
	s.SetSearchFaults(splunkemu.SearchFaults{})
}

func TestSearchErrorsCarrySplunkText(t *testing.T) {
	s := startEmu(t, "9.3.1")
	c := newClient(t, s, nil, search.Options{})
	for _, tc := range []struct{ search, want string }{
		{"search `no_such_macro` | stats count", "macro 'no_such_macro' that cannot be found"},
		{"search index=x | frobnicate", "Unknown search command 'frobnicate'"},
	} {
		_, err := c.Search(context.Background(), search.Query{Search: tc.search}, func(schema.Fields) error { return nil })
		var ae *search.APIError
		if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: err = %v, want HTTP 400 with %q", tc.search, err, tc.want)
		}
	}
}

func TestCancelStopsStream(t *testing.T) {
	s := startEmu(t, "9.3.1")
	loadDNS(s, 20000)
	c := newClient(t, s, nil, search.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	q := search.Query{Search: "search index=netdns"}
	_, err := c.Search(ctx, q, func(schema.Fields) error {
		n++
		if n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n >= 20000 {
		t.Fatalf("read %d rows after cancel", n)
	}
}

func TestSearchBackHECEventsAndLookups(t *testing.T) {
	s := startEmu(t, "9.3.1")
	s.Store().Add(splunkemu.Event{Time: t0, IndexTime: t0, Index: "fluxhunt", Sourcetype: "fluxhunt:detection", Source: "fluxhunt", Host: "fh-1",
		Fields: map[string]any{"detection_type": "dga", "reasons": []any{"a", "b"}, "evidence": map[string]any{"n": 3.0}}, Raw: []byte(`{"detection_type":"dga"}`)})
	s.Store().Add(splunkemu.Event{Time: t0, IndexTime: t0, Index: "fluxhunt", Sourcetype: "fluxhunt:health", Fields: map[string]any{"instance": "fh-1"}})
	s.SetLookup("fluxhunt_allowlist", []map[string][]string{{"domain": {"example.com"}, "reason": {"test"}}})
	c := newClient(t, s, nil, search.Options{})
	var got []schema.Fields
	_, err := c.Search(context.Background(), search.Query{Search: "search index=fluxhunt sourcetype=fluxhunt:detection"}, func(f schema.Fields) error {
		got = append(got, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["detection_type"][0] != "dga" || len(got[0]["reasons{}"]) != 2 || got[0]["evidence.n"][0] != "3" || got[0]["_raw"][0] != `{"detection_type":"dga"}` {
		t.Fatalf("got %v", got)
	}
	got = nil
	if _, err := c.Search(context.Background(), search.Query{Search: "| inputlookup fluxhunt_allowlist"}, func(f schema.Fields) error {
		got = append(got, f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["domain"][0] != "example.com" {
		t.Fatalf("lookup rows %v", got)
	}
}

func TestIdleTimeout(t *testing.T) {
	s := startEmu(t, "9.3.1")
	loadDNS(s, 100)
	s.SetSearchFaults(splunkemu.SearchFaults{Latency: 400 * time.Millisecond})
	slow := newClient(t, s, func(c *config.Search) { c.Timeout = config.Duration(100 * time.Millisecond) }, search.Options{RetryMax: -1})
	_, _, err := collect(t, slow, dnsQuery())
	if err == nil || !strings.Contains(err.Error(), "splunk.search.timeout") {
		t.Fatalf("err = %v, want the idle timeout", err)
	}
	patient := newClient(t, s, func(c *config.Search) { c.Timeout = config.Duration(5 * time.Second) }, search.Options{})
	rows, _, err := collect(t, patient, dnsQuery())
	if err != nil || total(rows) != 100 {
		t.Fatalf("%d rows, err %v", total(rows), err)
	}
}
