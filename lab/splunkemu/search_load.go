package splunkemu

import (
	"sort"
	"strconv"
	"time"
)

// The source macros of the default poll searches (config/defaults.go).
const (
	MacroDNS  = "fluxhunt_dns_source"
	MacroFlow = "fluxhunt_flow_source"
)

// DNSEvent is one DNS query/response event as a CIM Network_Resolution
// source would index it. Empty strings and a nil Answer leave the field out
// (the default search coalesces record_type and reply_code); TTL < 0 leaves
// ttl out.
type DNSEvent struct {
	Time       time.Time // _time
	IndexTime  time.Time // _indextime (whole seconds)
	Src        string
	Query      string
	QueryType  string // query_type, read when RecordType is empty
	RecordType string
	ReplyCode  string
	Answer     []string
	TTL        int64
	Dest       string
	Index      string // default "netdns"
	Sourcetype string // default "stream:dns"
}

// FlowEvent is one CIM Network_Traffic event.
type FlowEvent struct {
	Time       time.Time
	IndexTime  time.Time
	Src        string
	Dest       string
	DestPort   int // < 0: left out
	Transport  string
	Bytes      int64
	Packets    int64
	Index      string // default "netflow"
	Sourcetype string // default "stream:tcp"
}

// AddDNSEvents stores DNS events under the fluxhunt_dns_source macro.
func (s *Server) AddDNSEvents(evs ...DNSEvent) {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		f := map[string]any{}
		put := func(k, v string) {
			if v != "" {
				f[k] = v
			}
		}
		put("src", e.Src)
		put("query", e.Query)
		put("query_type", e.QueryType)
		put("record_type", e.RecordType)
		put("reply_code", e.ReplyCode)
		put("dest", e.Dest)
		if len(e.Answer) == 1 {
			f["answer"] = e.Answer[0]
		} else if len(e.Answer) > 1 {
			f["answer"] = append([]string(nil), e.Answer...)
		}
		if e.TTL >= 0 {
			f["ttl"] = strconv.FormatInt(e.TTL, 10)
		}
		out = append(out, Event{
			Time: e.Time, IndexTime: e.IndexTime.Truncate(time.Second),
			Index: def(e.Index, "netdns"), Sourcetype: def(e.Sourcetype, "stream:dns"),
			Source: "stream", Host: "dns-sensor", Macro: MacroDNS, Fields: f,
		})
	}
	s.store.Add(out...)
}

// AddFlowEvents stores flow events under the fluxhunt_flow_source macro.
func (s *Server) AddFlowEvents(evs ...FlowEvent) {
	out := make([]Event, 0, len(evs))
	for _, e := range evs {
		f := map[string]any{
			"src": e.Src, "dest": e.Dest, "transport": e.Transport,
			"bytes": strconv.FormatInt(e.Bytes, 10), "packets": strconv.FormatInt(e.Packets, 10),
		}
		if e.DestPort >= 0 {
			f["dest_port"] = strconv.Itoa(e.DestPort)
		}
		for k, v := range f {
			if v == "" {
				delete(f, k)
			}
		}
		out = append(out, Event{
			Time: e.Time, IndexTime: e.IndexTime.Truncate(time.Second),
			Index: def(e.Index, "netflow"), Sourcetype: def(e.Sourcetype, "stream:tcp"),
			Source: "stream", Host: "flow-sensor", Macro: MacroFlow, Fields: f,
		})
	}
	s.store.Add(out...)
}

func def(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// lookupTable is one lookup the emulator serves to `| inputlookup NAME`.
type lookupTable struct {
	cols []string
	rows []map[string][]string
}

// SetLookup sets (or replaces) the lookup table NAME (e.g.
// "fluxhunt_allowlist.csv" or a lookup definition name); each row maps a
// column to its value(s).
func (s *Server) SetLookup(name string, rows []map[string][]string) {
	seen := map[string]bool{}
	t := lookupTable{}
	for _, r := range rows {
		cp := make(map[string][]string, len(r))
		for k, v := range r {
			cp[k] = append([]string(nil), v...)
			if !seen[k] {
				seen[k] = true
				t.cols = append(t.cols, k)
			}
		}
		t.rows = append(t.rows, cp)
	}
	sort.Strings(t.cols)
	a := s.search
	a.mu.Lock()
	a.lookups[name] = t
	a.mu.Unlock()
}
