package search

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fluxhunt/fluxhunt/schema"
)

type decoded struct {
	rows []schema.Fields
	bad  []string // BadRowError texts
	err  error    // final error (nil: io.EOF)
}

func decodeString(s string) decoded {
	var out decoded
	d := NewDecoder(strings.NewReader(s))
	for i := 0; i < 1000; i++ {
		f, err := d.Next()
		if err == io.EOF {
			return out
		}
		var bad *BadRowError
		if errors.As(err, &bad) {
			out.bad = append(out.bad, bad.Error())
			continue
		}
		if err != nil {
			out.err = err
			return out
		}
		out.rows = append(out.rows, f)
	}
	panic("decoder does not end")
}

func TestDecoder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		rows    []schema.Fields
		bad     []string
		wantErr string
	}{
		{
			name: "rows, multivalue, numbers, null, lastrow",
			in: `{"preview":false,"offset":0,"result":{"src":"10.0.0.1","answer":["1.2.3.4","5.6.7.8"],"count":"3","n":12,"b":true,"z":null}}` + "\n" +
				`{"preview":false,"offset":1,"lastrow":true,"result":{"src":"10.0.0.2","q":"a\"b\\c\u00e9\ud83d\ude00"}}` + "\n",
			rows: []schema.Fields{
				{"src": {"10.0.0.1"}, "answer": {"1.2.3.4", "5.6.7.8"}, "count": {"3"}, "n": {"12"}, "b": {"true"}, "z": nil},
				{"src": {"10.0.0.2"}, "q": {"a\"b\\cé😀"}},
			},
		},
		{
			name: "preview sets skipped",
			in: `{"preview":true,"offset":0,"result":{"src":"p"}}` + "\n" +
				`{"preview":false,"offset":0,"lastrow":true,"result":{"src":"final"}}` + "\n",
			rows: []schema.Fields{{"src": {"final"}}},
		},
		{
			name: "empty result",
			in:   `{"preview":false,"lastrow":true}` + "\n",
		},
		{
			name: "empty body",
			in:   "",
		},
		{
			name:    "ends without lastrow",
			in:      `{"preview":false,"offset":0,"result":{"src":"a"}}` + "\n",
			rows:    []schema.Fields{{"src": {"a"}}},
			wantErr: "ended before its last row",
		},
		{
			name:    "ERROR message",
			in:      `{"preview":false,"offset":0,"result":{"src":"a"}}` + "\n" + `{"messages":[{"type":"ERROR","text":"Error in 'stats' command: boom"}]}` + "\n",
			rows:    []schema.Fields{{"src": {"a"}}},
			wantErr: "splunk ERROR: Error in 'stats' command: boom",
		},
		{
			name:    "FATAL message",
			in:      `{"messages":[{"type":"INFO","text":"fine"},{"type":"FATAL","text":"dead"}]}` + "\n",
			wantErr: "splunk FATAL: dead",
		},
		{
			name: "bad lines counted, stream goes on",
			in: `{"preview":false,"offset":0,"result":{"src":"a"` + "\n" +
				`not json` + "\n" +
				`{"preview":false,"offset":1,"result":{"src":{"nested":1}}}` + "\n" +
				`{"preview":false,"offset":2,"result":{"src":["a",{"x":1}]}}` + "\n" +
				`{"preview":false,"offset":3,"result":{"src":"bad \q escape"}}` + "\n" +
				`{"preview":false,"offset":4,"lastrow":true,"result":{"src":"ok"}} trailing` + "\n" +
				`{"preview":false,"offset":5,"lastrow":true,"result":{"src":"last"}}` + "\n",
			rows: []schema.Fields{{"src": {"last"}}},
			bad: []string{
				"line 1: field result: invalid JSON: expected ',' or '}'",
				"line 2: not a JSON object",
				"line 3: field src: nested object where a string is expected",
				"line 4: field src: nested object where a string is expected",
				"line 5: field src: invalid escape in string",
				"line 6: invalid JSON: data after the object",
			},
		},
		{
			name:    "a page that is not a result stream",
			in:      "<html><body>Sign in</body></html>\n",
			bad:     []string{"line 1: not a JSON object"},
			wantErr: "ended before its last row",
		},
		{
			name: "results page",
			in:   `{"preview":false,"init_offset":0,"messages":[],"fields":[{"name":"src"}],"results":[{"src":"a"},{"src":"b","x":["1"]}],"highlighted":{}}`,
			rows: []schema.Fields{{"src": {"a"}}, {"src": {"b"}, "x": {"1"}}},
		},
		{
			name: "results page: a bad row is skipped alone",
			in:   `{"preview":false,"results":[{"src":"a"},{"src":{"x":[1,{"y":2}]}},{"src":"c"}]}`,
			rows: []schema.Fields{{"src": {"a"}}, {"src": {"c"}}},
			bad:  []string{"line 1: field src: nested object where a string is expected"},
		},
		{
			name:    "results page: a syntax error fails the page",
			in:      `{"preview":false,"results":[{"src":"a"},{"src":"b",]}`,
			bad:     []string{"line 1: field results: invalid JSON: expected a string"},
			wantErr: "ended before its last row",
		},
		{
			name: "invalid UTF-8 kept for the row parser",
			in:   "{\"preview\":false,\"lastrow\":true,\"result\":{\"query\":\"a\xffb.com\"}}\n",
			rows: []schema.Fields{{"query": {"a\xffb.com"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeString(tc.in)
			if !reflect.DeepEqual(got.rows, tc.rows) && !(len(got.rows) == 0 && len(tc.rows) == 0) {
				t.Errorf("rows\n got %#v\nwant %#v", got.rows, tc.rows)
			}
			if strings.Join(got.bad, "\n") != strings.Join(tc.bad, "\n") {
				t.Errorf("bad rows\n got %q\nwant %q", got.bad, tc.bad)
			}
			if tc.wantErr == "" && got.err != nil || tc.wantErr != "" && (got.err == nil || !strings.Contains(got.err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", got.err, tc.wantErr)
			}
		})
	}
}

func TestDecoderLongLine(t *testing.T) {
	long := `{"preview":false,"result":{"src":"` + strings.Repeat("a", 300<<10) + `"}}`
	in := long + "\n" + `{"preview":false,"lastrow":true,"result":{"src":"b"}}` + "\n"
	d := NewDecoder(strings.NewReader(in))
	d.MaxLine = 100 << 10
	_, err := d.Next()
	var bad *BadRowError
	if !errors.As(err, &bad) || !strings.Contains(bad.Reason, "longer than") {
		t.Fatalf("err = %v", err)
	}
	f, err := d.Next()
	if err != nil || f["src"][0] != "b" {
		t.Fatalf("after long line: %v %v", f, err)
	}
	// A long line within the bound is read whole.
	got := decodeString(long + "\n")
	if len(got.rows) != 1 || len(got.rows[0]["src"][0]) != 300<<10 {
		t.Fatalf("long row not read: %d rows", len(got.rows))
	}
}

// FuzzExportDecode: the decoder never panics or loops, and agrees with
// encoding/json (through schema.Fields) on every result object that is
// valid UTF-8 JSON.
func FuzzExportDecode(f *testing.F) {
	for _, s := range []string{
		`{"src":"10.0.0.1","answer":["1.2.3.4","5.6.7.8"],"count":"3","n":-1.5e3,"b":false,"z":null}`,
		`{"q":"a\"b\\c\u00e9\ud83d\ude00\ud800"}`,
		`{"a":[null,1,"x"],"b":[]}`,
		`{"a":{"nested":1}}`,
		`{}`,
		`{"a":"x","a":"y"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		if bytes.ContainsAny(obj, "\n\r") {
			// Lines are the unit of the stream: also decode it raw.
			_ = decodeString(string(obj))
			return
		}
		line := `{"preview":false,"offset":0,"lastrow":true,"result":` + string(obj) + "}\n"
		got := decodeString(line)
		var want schema.Fields
		werr := json.Unmarshal(obj, &want)
		if !utf8.Valid(obj) || bytes.Contains(obj, []byte(`\u`)) && bytes.Contains(obj, []byte(`\ud`)) {
			return // encoding/json replaces invalid UTF-8 and lone surrogates; we keep bytes
		}
		var jerr *json.SyntaxError
		switch {
		case werr == nil:
			if want == nil {
				return // "null"
			}
			if len(got.rows) != 1 || got.err != nil {
				t.Fatalf("encoding/json accepts %q; decoder gave %d rows, bad %v, err %v", obj, len(got.rows), got.bad, got.err)
			}
			if !reflect.DeepEqual(got.rows[0], want) && !(len(want) == 0 && len(got.rows[0]) == 0) {
				t.Fatalf("%q:\n got %#v\nwant %#v", obj, got.rows[0], want)
			}
		case errors.As(werr, &jerr) || werr != nil:
			if len(got.rows) != 0 {
				t.Fatalf("encoding/json rejects %q (%v); decoder gave %#v", obj, werr, got.rows)
			}
		}
	})
}

// typicalDNSExport is an export stream of n typical DNS rows as the
// default search returns them.
func typicalDNSExport(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		last := ""
		if i == n-1 {
			last = `"lastrow":true,`
		}
		answers := `"answer":["93.184.215.14","93.184.215.15"],`
		rc := "NoError"
		if i%5 == 0 {
			answers, rc = "", "NXDomain"
		}
		fmt.Fprintf(&b, `{"preview":false,"offset":%d,%s"result":{"src":"10.%d.%d.%d","query":"www%d.example-%d.com","record_type":"A","reply_code":"%s","_time":"1764172800",%s"ttl":"%d","count":"%d","dest":"10.53.0.1"}}`+"\n",
			i, last, i%7, i%250, i%200, i%100, i%1000, rc, answers, 60+i%300, 1+i%17)
	}
	return b.Bytes()
}

// BenchmarkExportDecode measures decoding of an export stream of typical
// DNS rows (decoder only, then decoder + ParseDNSRow in the sub-benchmark).
func BenchmarkExportDecode(b *testing.B) {
	const n = 10000
	data := typicalDNSExport(n)
	run := func(b *testing.B, parse bool) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		rows := 0
		cpu0 := cpuTime()
		for b.Loop() {
			d := NewDecoder(bytes.NewReader(data))
			for {
				f, err := d.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				if parse {
					if _, err := schema.ParseDNSRow(f); err != nil {
						b.Fatal(err)
					}
				}
				rows++
			}
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		// The machine may be shared: rows per second of CPU this process used
		// (all threads, GC included) says what one core does.
		if cpu := cpuTime() - cpu0; cpu > 0 {
			b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
		}
	}
	b.Run("decode", func(b *testing.B) { run(b, false) })
	b.Run("decode+parse", func(b *testing.B) { run(b, true) })
}

// cpuTime is the user+system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
