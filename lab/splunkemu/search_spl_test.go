package splunkemu

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
)

var splT0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

func splServer() *Server {
	s := New(Options{})
	ev := func(sec, idx int, src, q, rt, rc string, ans []string, ttl int64) DNSEvent {
		return DNSEvent{Time: splT0.Add(time.Duration(sec) * time.Second), IndexTime: splT0.Add(time.Duration(idx) * time.Second),
			Src: src, Query: q, RecordType: rt, ReplyCode: rc, Answer: ans, TTL: ttl, Dest: "10.53.0.1"}
	}
	s.AddDNSEvents(
		ev(0, 1, "10.0.0.1", "a.example", "", "", []string{"192.0.2.2"}, 300),
		ev(5, 6, "10.0.0.1", "a.example", "A", "NoError", []string{"192.0.2.1", "192.0.2.2"}, 60),
		ev(9, 100, "10.0.0.1", "a.example", "", "", []string{"192.0.2.3"}, -1), // indexed late
		ev(2, 3, "10.0.0.2", "b.example", "AAAA", "NXDomain", nil, -1),
		DNSEvent{Time: splT0, IndexTime: splT0, Src: "10.0.0.3", Query: "c.example", QueryType: "TXT", TTL: 5},
		DNSEvent{Time: splT0, IndexTime: splT0, Query: "nosrc.example", TTL: 5}, // no src: stats drops it
	)
	s.AddFlowEvents(
		FlowEvent{Time: splT0, IndexTime: splT0, Src: "10.0.0.1", Dest: "192.0.2.1", DestPort: 443, Transport: "tcp", Bytes: 100, Packets: 2},
		FlowEvent{Time: splT0.Add(time.Second), IndexTime: splT0.Add(time.Second), Src: "10.0.0.1", Dest: "192.0.2.1", DestPort: 443, Transport: "tcp", Bytes: 50, Packets: 1},
	)
	return s
}

func f64(t time.Time) *float64 { f := float64(t.Unix()); return &f }

func render(res *splResult) string {
	var b strings.Builder
	for _, r := range res.rows {
		b.Write(rowJSON(nil, res.cols, r, "%s"))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestSPL(t *testing.T) {
	dns, _ := config.RenderSearch(config.DefaultDNSSearch, config.SearchVars{Shard: 0, Shards: 1})
	flow, _ := config.RenderSearch(config.DefaultFlowSearch, config.SearchVars{Shard: 0, Shards: 1})
	for _, tc := range []struct {
		name, search string
		b            splBounds
		want         string
	}{
		{"default DNS search, index window", dns, splBounds{indexEarliest: f64(splT0), indexLatest: f64(splT0.Add(time.Minute))},
			`{"src":"10.0.0.1","query":"a.example","record_type":"A","reply_code":"NoError","_time":"1795680000","ttl":"60","answer":["192.0.2.1","192.0.2.2"],"dest":"10.53.0.1","count":"2"}
{"src":"10.0.0.2","query":"b.example","record_type":"AAAA","reply_code":"NXDomain","_time":"1795680002","dest":"10.53.0.1","count":"1"}
{"src":"10.0.0.3","query":"c.example","record_type":"TXT","reply_code":"NoError","_time":"1795680000","ttl":"5","count":"1"}
`},
		{"late event in the next window", dns, splBounds{indexEarliest: f64(splT0.Add(time.Minute)), indexLatest: f64(splT0.Add(time.Hour))},
			`{"src":"10.0.0.1","query":"a.example","record_type":"A","reply_code":"NoError","_time":"1795680009","answer":"192.0.2.3","dest":"10.53.0.1","count":"1"}
`},
		{"earliest_time bounds _time", dns, splBounds{earliest: f64(splT0.Add(3 * time.Second)), indexEarliest: f64(splT0), indexLatest: f64(splT0.Add(time.Minute))},
			`{"src":"10.0.0.1","query":"a.example","record_type":"A","reply_code":"NoError","_time":"1795680005","ttl":"60","answer":["192.0.2.1","192.0.2.2"],"dest":"10.53.0.1","count":"1"}
`},
		{"default flow search", flow, splBounds{},
			`{"src":"10.0.0.1","dest":"192.0.2.1","dest_port":"443","transport":"tcp","_time":"1795680000","bytes":"150","packets":"3","count":"2"}
`},
		{"stats without by, dc, max, avg", "search `fluxhunt_dns_source` | stats count dc(src) as hosts max(ttl) as maxttl avg(ttl) as avgttl", splBounds{},
			`{"count":"6","hosts":"3","maxttl":"300","avgttl":"92.5"}
`},
		{"head and fields", "search index=netdns | fields src query | head 2", splBounds{},
			`{"src":"10.0.0.1","query":"a.example"}
{"src":"10.0.0.1","query":"a.example"}
`},
		{"field filter with wildcard", "search index=netdns query=b.* | table query reply_code", splBounds{},
			`{"query":"b.example","reply_code":"NXDomain"}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := splServer().search.runSearch(tc.search, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(res); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestSPLErrors(t *testing.T) {
	for _, tc := range []struct{ search, want string }{
		{"", "Empty search"},
		{"search `nope`", "macro 'nope' that cannot be found"},
		{"search index=x | bogus", "Unknown search command 'bogus'"},
		{"| bogus", "Unknown search command 'bogus'"},
		{"search index=x | where a > 1", "only the shard expression"},
		{"search index=x | eval a=len(b)", "function 'len' is not supported"},
		{"search index=x | stats nosuch(a)", "The argument 'nosuch(a)' is invalid"},
		{"search index=x | stats by a", "number of arguments is invalid"},
		{"search index=x | head -3", "positive number"},
		{"| inputlookup missing.csv", "lookup table 'missing.csv'"},
		{"search index=x | sort src", "not supported by the fluxhunt Splunk emulator"},
	} {
		_, err := splServer().search.runSearch(tc.search, splBounds{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.search, err, tc.want)
		}
	}
}

// TestShardsPartition: the shard clause splits the rows between N instances
// with no row in two shards and none lost, and ShardOf agrees with it.
func TestShardsPartition(t *testing.T) {
	s := New(Options{})
	var evs []DNSEvent
	for i := 0; i < 200; i++ {
		evs = append(evs, DNSEvent{Time: splT0, IndexTime: splT0, Src: fmt.Sprintf("10.9.%d.%d", i/50, i), Query: "x.example", TTL: -1})
	}
	s.AddDNSEvents(evs...)
	seen := map[string]int{}
	for i := 0; i < 3; i++ {
		q, _ := config.RenderSearch(config.DefaultDNSSearch, config.SearchVars{Shard: i, Shards: 3})
		res, err := s.search.runSearch(q, splBounds{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.rows) == 0 {
			t.Fatalf("shard %d/3 is empty", i)
		}
		for _, r := range res.rows {
			src := r["src"][0]
			seen[src]++
			if ShardOf(src, 3) != i {
				t.Fatalf("%s in shard %d, ShardOf says %d", src, i, ShardOf(src, 3))
			}
		}
	}
	if len(seen) != 200 {
		t.Fatalf("%d sources across shards, want 200", len(seen))
	}
	for src, n := range seen {
		if n != 1 {
			t.Fatalf("%s in %d shards", src, n)
		}
	}
	// md5("10.0.0.1") = 190dafab69706a67...: substr(…,1,8) = 190dafab.
	if got, want := ShardOf("10.0.0.1", 7), int(uint64(0x190dafab)%7); got != want {
		t.Fatalf("ShardOf = %d, want %d", got, want)
	}
}

// FuzzSPL: the emulator's search parser never panics.
func FuzzSPL(f *testing.F) {
	dns, _ := config.RenderSearch(config.DefaultDNSSearch, config.SearchVars{Shard: 1, Shards: 4, Limit: 10})
	for _, s := range []string{dns, "search index=netdns | fields src | head 1", "| inputlookup x", "search `a` | stats values(b) as c by d e", "search \"|\" | eval a=coalesce(b,\"x\")"} {
		f.Add(s)
	}
	s := splServer()
	f.Fuzz(func(t *testing.T, q string) {
		_, _ = s.search.runSearch(q, splBounds{})
	})
}
