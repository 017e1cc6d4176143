package zeek

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/schema"
)

const header = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t2026-11-26-00-00-00\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n"

func tsvLine(ts, src, query, qtype, rcode, answers, ttls string) string {
	num := map[string]string{"NOERROR": "0", "NXDOMAIN": "3", "-": "-"}[rcode]
	return strings.Join([]string{ts, "CAbc", src, "50000", "10.0.0.53", "53", "udp", "1234", "0.01", query, "1", "C_INTERNET", "1", qtype, num, rcode, "F", "F", "T", "T", "0", answers, ttls, "F"}, "\t") + "\n"
}

type result struct {
	rows []schema.DNSRow
	errs []*LineError
}

func readAll(t testing.TB, in []byte, opts Options) result {
	t.Helper()
	r, err := NewReader(bytes.NewReader(in), "dns.log", opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var res result
	for i := 0; i < 1e6; i++ {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return res
		}
		var le *LineError
		if errors.As(err, &le) {
			res.errs = append(res.errs, le)
			continue
		}
		if err != nil {
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		res.rows = append(res.rows, row)
	}
	t.Fatal("reader does not end")
	return res
}

func TestTSV(t *testing.T) {
	in := header +
		tsvLine("1764115200.123456", "10.1.2.3", "WWW.Example.COM", "A", "NOERROR", "93.184.216.34,www.example.com.", "300.000000,60.000000") +
		tsvLine("1764115201.5", "10.1.2.3", "xkqjzvbw.com", "A", "NXDOMAIN", "-", "-") +
		"1764115202\tCx\t10.1.2.3\n" + // line 11: wrong field count
		tsvLine("1764115203", "10.1.2.4", "bad\\q.example.com", "A", "NXDOMAIN", "-", "-") + // 12: bad escape
		tsvLine("1764115204", "10.1.2.4", "caf\\xc3\\xa9.example", "A", "NXDOMAIN", "-", "-") + // 13: IDN via escapes
		tsvLine("1764115205", "10.1.2.4", "-", "-", "-", "-", "-") + // 14: no query: skipped
		tsvLine("notatime", "10.1.2.4", "a.example.com", "A", "NOERROR", "-", "-") + // 15: bad ts
		tsvLine("1764115206", "10.1.2.5", "a.example.com", "A", "-", "-", "-") + // 16: no reply
		tsvLine("1764115207", "10.1.2.5", "a.example.com", "A", "NOERROR", "1.2.3.4", "12x") + // 17: bad TTL
		"#close\t2026-11-27-00-00-00\n"
	res := readAll(t, []byte(in), Options{})
	if len(res.rows) != 4 {
		t.Fatalf("got %d rows, want 4: %+v", len(res.rows), res.rows)
	}
	r0 := res.rows[0]
	if r0.Query.ASCII != "www.example.com" || r0.Src != "10.1.2.3" || r0.RecordType != "A" || r0.ReplyCode != schema.RCodeNoError ||
		r0.TTL != 60 || len(r0.Answers) != 2 || r0.Answers[1] != "www.example.com" || r0.Time.UnixNano() != 1764115200123456000 || r0.Count != 1 || r0.Dest[0] != "10.0.0.53" {
		t.Errorf("row 0: %+v", r0)
	}
	if res.rows[1].ReplyCode != schema.RCodeNXDomain || res.rows[1].TTL != -1 || res.rows[1].Answers != nil {
		t.Errorf("row 1: %+v", res.rows[1])
	}
	if res.rows[2].Query.ASCII != "xn--caf-dma.example" {
		t.Errorf("row 2: %+v", res.rows[2].Query)
	}
	if res.rows[3].ReplyCode != schema.RCodeUnknown {
		t.Errorf("row 3: %+v", res.rows[3])
	}
	var lines []string
	for _, e := range res.errs {
		lines = append(lines, fmt.Sprint(e.Line))
	}
	if got := strings.Join(lines, ","); got != "11,12,15,17" {
		t.Errorf("bad lines %s, want 11,12,15,17: %v", got, res.errs)
	}
	if !strings.Contains(res.errs[0].Error(), "dns.log:11: 3 fields, the header says 24") {
		t.Errorf("error text %q", res.errs[0])
	}
	if !strings.Contains(res.errs[1].Error(), "bad escape") {
		t.Errorf("error text %q", res.errs[1])
	}
}

func TestGzipAndTruncated(t *testing.T) {
	var plain strings.Builder
	plain.WriteString(header)
	for i := 0; i < 2000; i++ {
		plain.WriteString(tsvLine(fmt.Sprintf("17641152%02d.5", i%100), fmt.Sprintf("10.0.%d.%d", i/250, i%250), fmt.Sprintf("n%d.example.com", i), "A", "NXDOMAIN", "-", "-"))
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(plain.String()))
	w.Close()
	full := readAll(t, gz.Bytes(), Options{})
	if len(full.rows) != 2000 || len(full.errs) != 0 {
		t.Fatalf("gzip: %d rows, %d errors", len(full.rows), len(full.errs))
	}
	cut := gz.Bytes()[:gz.Len()*2/3]
	part := readAll(t, cut, Options{})
	if len(part.rows) == 0 || len(part.rows) >= 2000 {
		t.Fatalf("truncated gzip: %d rows", len(part.rows))
	}
	if len(part.errs) != 1 || !strings.Contains(part.errs[0].Error(), "input ends") {
		t.Fatalf("truncated gzip errors: %v", part.errs)
	}
	for i, r := range part.rows {
		if r.Query.ASCII != fmt.Sprintf("n%d.example.com", i) {
			t.Fatalf("row %d is %s: a row was dropped or garbled", i, r.Query.ASCII)
		}
	}
}

func TestZeekJSONAndRows(t *testing.T) {
	zj := `{"ts":1764115200.25,"uid":"C1","id.orig_h":"10.1.2.3","id.orig_p":5353,"id.resp_h":"10.0.0.53","id.resp_p":53,"proto":"udp","query":"abc.example.org","qtype_name":"AAAA","rcode":3,"rcode_name":"NXDOMAIN"}
{"ts":"2025-11-26T00:00:01.500000Z","id.orig_h":"10.1.2.3","query":"b.example.org","qtype_name":"A","rcode_name":"NOERROR","answers":["1.2.3.4","1.2.3.5"],"TTLs":[30.0,20.0]}
{"ts":1764115202,"id.orig_h":"10.1.2.3"}
{"ts":1764115203,"id.orig_h":"10.1.2.3","query":"a..b"}
not json
`
	res := readAll(t, []byte(zj), Options{})
	if len(res.rows) != 2 || len(res.errs) != 2 {
		t.Fatalf("zeek json: rows %+v errs %v", res.rows, res.errs)
	}
	if res.rows[0].ReplyCode != schema.RCodeNXDomain || res.rows[0].RecordType != "AAAA" || res.rows[0].Time.UnixMilli() != 1764115200250 {
		t.Errorf("row 0 %+v", res.rows[0])
	}
	if res.rows[1].TTL != 20 || len(res.rows[1].Answers) != 2 || res.rows[1].Time.UnixMilli() != 1764115201500 {
		t.Errorf("row 1 %+v", res.rows[1])
	}
	if res.errs[0].Line != 4 || res.errs[1].Line != 5 {
		t.Errorf("error lines %v", res.errs)
	}
	rows := `{"_time":"1764115200","src":"10.1.2.3","query":"X.Example.com.","record_type":"a","reply_code":"Non-Existent Domain","count":"7","dest":["10.0.0.53","10.0.0.54"]}
{"_time":"1764115260","src":"10.1.2.3","query":"y.example.com","reply_code":"NoError","answer":["1.1.1.1"],"ttl":"30"}
{"_time":"1764115260","src":"10.1.2.3"}
`
	res = readAll(t, []byte(rows), Options{})
	if len(res.rows) != 2 || len(res.errs) != 1 || res.errs[0].Line != 3 || !strings.Contains(res.errs[0].Reason, "query") {
		t.Fatalf("rows: %+v %v", res.rows, res.errs)
	}
	if res.rows[0].Count != 7 || res.rows[0].Query.ASCII != "x.example.com" || res.rows[0].ReplyCode != schema.RCodeNXDomain {
		t.Errorf("rows row 0 %+v", res.rows[0])
	}
	// --format zeek refuses to take rows for Zeek JSON.
	res = readAll(t, []byte(zj), Options{ZeekOnly: true})
	if len(res.rows) != 2 {
		t.Errorf("zeek-only on zeek json: %d rows", len(res.rows))
	}
}

func TestHeaderlessAndLongLine(t *testing.T) {
	in := tsvLine("1764115200", "10.1.2.3", "a.example.com", "A", "NOERROR", "-", "-") +
		strings.Repeat("x", 300<<10) + "\n" +
		tsvLine("1764115201", "10.1.2.3", "b.example.com", "A", "NXDOMAIN", "-", "-")
	res := readAll(t, []byte(in), Options{})
	if len(res.rows) != 2 || len(res.errs) != 1 || res.errs[0].Line != 2 {
		t.Fatalf("rows %d errs %v", len(res.rows), res.errs)
	}
}

func TestParseFormat(t *testing.T) {
	for _, c := range []struct {
		in   string
		f    Format
		zeek bool
		err  bool
	}{{"auto", FormatAuto, false, false}, {"zeek", FormatAuto, true, false}, {"rows", FormatRows, false, false}, {"zeek-json", FormatZeekJSON, false, false}, {"csv", 0, false, true}} {
		f, z, err := ParseFormat(c.in)
		if (err != nil) != c.err || (!c.err && (f != c.f || z != c.zeek)) {
			t.Errorf("ParseFormat(%q) = %v %v %v", c.in, f, z, err)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(header + tsvLine("1764115200.1", "10.1.2.3", "a.example.com", "A", "NOERROR", "1.2.3.4", "30.0")))
	f.Add([]byte(`{"ts":1764115200.25,"id.orig_h":"10.1.2.3","query":"abc.example.org","rcode_name":"NXDOMAIN","TTLs":[1]}`))
	f.Add([]byte(`{"_time":"1764115200","src":"10.1.2.3","query":"x.com","reply_code":"3"}`))
	f.Add([]byte("#separator \\x2c\n#fields,ts,id.orig_h,query\n1,a,\\xzz\n"))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		raw := len(in)%2 == 1
		r, err := NewReader(bytes.NewReader(in), "fuzz", Options{RawNames: raw})
		if err != nil {
			return
		}
		names := NewNameCache()
		lines := 0
		for i := 0; i < 100000; i++ {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var le *LineError
			if err != nil && !errors.As(err, &le) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if le != nil {
				if le.Line < lines || le.File != "fuzz" {
					t.Fatalf("line numbers go back: %d after %d", le.Line, lines)
				}
				lines = le.Line
				continue
			}
			if row.Query.ASCII == "" || row.Src == "" {
				t.Fatalf("row without query or src: %+v", row)
			}
			if raw {
				n1, err1 := names.Normalize(row.Query.ASCII)
				n2, err2 := schema.NormalizeName(row.Query.ASCII)
				if (err1 == nil) != (err2 == nil) || n1 != n2 {
					t.Fatalf("cache disagrees with NormalizeName on %q", row.Query.ASCII)
				}
			}
		}
		t.Fatal("reader did not end")
	})
}

func benchInput(n int) []byte {
	var b strings.Builder
	b.WriteString(header)
	for i := 0; i < n; i++ {
		rc, ans, ttl := "NOERROR", "93.184.216.34", "300.000000"
		if i%10 == 0 {
			rc, ans, ttl = "NXDOMAIN", "-", "-"
		}
		fmt.Fprintf(&b, "%d.%06d\tC%x\t10.%d.%d.%d\t%d\t10.0.0.53\t53\tudp\t%d\t0.001\tname%d.site%d.example.com\t1\tC_INTERNET\t1\tA\t0\t%s\tF\tF\tT\tT\t0\t%s\t%s\tF\n",
			1764115200+i/100, i%1000000, i, (i/65536)%4, (i/256)%256, i%256, 1024+i%60000, i%65536, i%5000, i%300, rc, ans, ttl)
	}
	return []byte(b.String())
}

func BenchmarkReadZeekTSV(b *testing.B) {
	in := benchInput(100000)
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, _ := NewReader(bytes.NewReader(in), "bench", Options{})
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			n++
		}
		if n != 100000 {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(b.N)*100000/b.Elapsed().Seconds(), "lines/s")
}

func TestRawNamesAndNameCache(t *testing.T) {
	in := header + tsvLine("1764115200", "10.1.2.3", "WWW.Example.COM", "A", "NOERROR", "-", "-") +
		tsvLine("1764115201", "10.1.2.3", "a..b", "A", "NXDOMAIN", "-", "-")
	res := readAll(t, []byte(in), Options{RawNames: true})
	if len(res.rows) != 2 || len(res.errs) != 0 {
		t.Fatalf("rows %d errs %v", len(res.rows), res.errs)
	}
	c := NewNameCache()
	for i := 0; i < 2; i++ { // miss, then hit
		n, err := c.Normalize(res.rows[0].Query.ASCII)
		if err != nil || n.ASCII != "www.example.com" || n.Registered != "example.com" {
			t.Fatalf("Normalize: %+v %v", n, err)
		}
	}
	if _, err := c.Normalize(res.rows[1].Query.ASCII); err == nil {
		t.Error("a..b normalised")
	}
}
