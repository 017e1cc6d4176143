package scenario

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

var rcodeZeek = map[int]string{0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}
var rcodeCIM = map[int]string{0: "NoError", 2: "ServFail", 3: "NXDomain", 5: "Refused"}
var qtypeNum = map[string]int{"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33, "HTTPS": 65}

// ReplyCode gives the CIM name of the event's reply code.
func (e Event) ReplyCode() string {
	if s, ok := rcodeCIM[e.RCode]; ok {
		return s
	}
	return strconv.Itoa(e.RCode)
}

func epoch(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMicro())/1e6, 'f', 6, 64)
}

// Fields gives the un-aggregated event as a Splunk search would show a raw
// CIM Network_Resolution event: _time, _indextime, src, dest, query,
// record_type, reply_code, answer (multivalue), ttl.
func (e Event) Fields() schema.Fields {
	f := schema.Fields{
		"_time": {epoch(e.Time)}, "_indextime": {strconv.FormatInt(e.IndexTime.Unix(), 10)},
		"src": {e.Src}, "dest": {e.Dest}, "query": {e.Query}, "record_type": {e.RecordType},
		"reply_code": {e.ReplyCode()}, "message_type": {"Response"},
	}
	if len(e.Answers) > 0 {
		f["answer"] = append([]string(nil), e.Answers...)
	}
	if e.TTL >= 0 {
		f["ttl"] = []string{strconv.Itoa(e.TTL)}
	}
	return f
}

// Fields gives the un-aggregated flow as a raw CIM Network_Traffic event.
func (e FlowEvent) Fields() schema.Fields {
	return schema.Fields{
		"_time": {epoch(e.Time)}, "_indextime": {strconv.FormatInt(e.IndexTime.Unix(), 10)},
		"src": {e.Src}, "dest": {e.Dest}, "dest_port": {strconv.Itoa(e.DestPort)}, "transport": {e.Transport},
		"bytes": {strconv.FormatInt(e.Bytes, 10)}, "packets": {strconv.FormatInt(e.Packets, 10)},
	}
}

const zeekHeader = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t%s\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n"

// WriteZeekTSV writes the events as a Zeek dns.log (ASCII, with header).
func (d *Day) WriteZeekTSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, zeekHeader, d.Config.Start.Format("2006-01-02-15-04-05"))
	for i, e := range d.Events {
		ans, ttls := "-", "-"
		if len(e.Answers) > 0 {
			ans = strings.Join(e.Answers, ",")
			t := make([]string, len(e.Answers))
			for k := range t {
				t[k] = strconv.Itoa(e.TTL) + ".000000"
			}
			ttls = strings.Join(t, ",")
		}
		qt := qtypeNum[e.RecordType]
		fmt.Fprintf(bw, "%s\tC%08x%04x\t%s\t%d\t%s\t53\tudp\t%d\t0.%06d\t%s\t1\tC_INTERNET\t%d\t%s\t%d\t%s\tF\tF\tT\tT\t0\t%s\t%s\tF\n",
			epoch(e.Time), hashString(e.Query+e.Src)&0xffffffff, i&0xffff, e.Src, 1024+int(hashString(e.Query)%60000), e.Dest,
			i&0xffff, 1000+i%50000, e.Query, qt, e.RecordType, e.RCode, rcodeZeek[e.RCode], ans, ttls)
	}
	fmt.Fprintf(bw, "#close\t%s\n", d.Config.Start.Add(d.Config.Duration).Format("2006-01-02-15-04-05"))
	return bw.Flush()
}

type dnsKey struct {
	win        int64
	src, q, rt string
	rcode      int
}

// DNSRows aggregates the events into the rows the default DNS poll search
// returns: one per (src, query, record_type, reply_code) per window of the
// event time, with count, distinct answers, minimum ttl and the resolvers.
// Rows come in window order.
func (d *Day) DNSRows(window time.Duration) []schema.Fields {
	if window <= 0 {
		window = time.Minute
	}
	type agg struct {
		count   int64
		answers []string
		ttl     int
		dest    []string
	}
	m := map[dnsKey]*agg{}
	var keys []dnsKey
	ws := int64(window / time.Second)
	for _, e := range d.Events {
		k := dnsKey{win: e.Time.Unix() / ws * ws, src: e.Src, q: e.Query, rt: e.RecordType, rcode: e.RCode}
		a := m[k]
		if a == nil {
			a = &agg{ttl: -1}
			m[k] = a
			keys = append(keys, k)
		}
		a.count++
		for _, x := range e.Answers {
			if !contains(a.answers, x) && len(a.answers) < 100 {
				a.answers = append(a.answers, x)
			}
		}
		if e.TTL >= 0 && (a.ttl < 0 || e.TTL < a.ttl) {
			a.ttl = e.TTL
		}
		if !contains(a.dest, e.Dest) {
			a.dest = append(a.dest, e.Dest)
		}
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].win < keys[j].win })
	out := make([]schema.Fields, 0, len(keys))
	for _, k := range keys {
		a := m[k]
		f := schema.Fields{"_time": {strconv.FormatInt(k.win, 10)}, "src": {k.src}, "query": {k.q}, "record_type": {k.rt},
			"reply_code": {Event{RCode: k.rcode}.ReplyCode()}, "count": {strconv.FormatInt(a.count, 10)}, "dest": a.dest}
		if len(a.answers) > 0 {
			f["answer"] = a.answers
		}
		if a.ttl >= 0 {
			f["ttl"] = []string{strconv.Itoa(a.ttl)}
		}
		out = append(out, f)
	}
	return out
}

// FlowRows aggregates flows per (src, dest, dest_port, transport) per window.
func (d *Day) FlowRows(window time.Duration) []schema.Fields {
	if window <= 0 {
		window = time.Minute
	}
	type key struct {
		win       int64
		src, dest string
		port      int
		tr        string
	}
	type agg struct{ bytes, packets, count int64 }
	m := map[key]*agg{}
	var keys []key
	ws := int64(window / time.Second)
	for _, e := range d.Flows {
		k := key{e.Time.Unix() / ws * ws, e.Src, e.Dest, e.DestPort, e.Transport}
		a := m[k]
		if a == nil {
			a = &agg{}
			m[k] = a
			keys = append(keys, k)
		}
		a.bytes += e.Bytes
		a.packets += e.Packets
		a.count++
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].win < keys[j].win })
	out := make([]schema.Fields, 0, len(keys))
	for _, k := range keys {
		a := m[k]
		out = append(out, schema.Fields{"_time": {strconv.FormatInt(k.win, 10)}, "src": {k.src}, "dest": {k.dest},
			"dest_port": {strconv.Itoa(k.port)}, "transport": {k.tr}, "bytes": {strconv.FormatInt(a.bytes, 10)},
			"packets": {strconv.FormatInt(a.packets, 10)}, "count": {strconv.FormatInt(a.count, 10)}})
	}
	return out
}

// WriteJSONLines writes rows as JSON lines (what `fluxhunt scan --format rows`
// reads).
func WriteJSONLines(w io.Writer, rows []schema.Fields) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
