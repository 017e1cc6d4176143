package zeek

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/fluxhunt/fluxhunt/schema"
)

// defaultFields is the column order of Zeek's dns.log, used when a TSV log
// has no #fields header.
var defaultFields = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
	"trans_id", "rtt", "query", "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name",
	"AA", "TC", "RD", "RA", "Z", "answers", "TTLs", "rejected"}

type tsvState struct {
	sep      byte
	setSep   byte
	empty    string
	unset    string
	nfields  int
	ts       int
	src      int
	dst      int
	query    int
	qtype    int
	rcode    int
	rcodeNum int
	answers  int
	ttls     int
}

func (s *tsvState) reset() {
	s.sep, s.setSep, s.empty, s.unset = '\t', ',', "(empty)", "-"
	s.setFields(defaultFields)
}

func (s *tsvState) setFields(names []string) {
	s.nfields = len(names)
	s.ts, s.src, s.dst, s.query, s.qtype, s.rcode, s.rcodeNum, s.answers, s.ttls = -1, -1, -1, -1, -1, -1, -1, -1, -1
	for i, n := range names {
		switch n {
		case "ts":
			s.ts = i
		case "id.orig_h":
			s.src = i
		case "id.resp_h":
			s.dst = i
		case "query":
			s.query = i
		case "qtype_name":
			s.qtype = i
		case "rcode_name":
			s.rcode = i
		case "rcode":
			s.rcodeNum = i
		case "answers":
			s.answers = i
		case "TTLs":
			s.ttls = i
		}
	}
}

// header handles one #-line.
func (s *tsvState) header(line []byte) error {
	body := line[1:]
	key, val, _ := bytes.Cut(body, []byte{s.sep})
	if bytes.HasPrefix(body, []byte("separator ")) {
		v, err := unescape(bytes.TrimPrefix(body, []byte("separator ")))
		if err != nil || len(v) != 1 {
			return fmt.Errorf("bad #separator %q", schema.EscapeDisplay(string(body)))
		}
		s.sep = v[0]
		return nil
	}
	switch string(key) {
	case "set_separator":
		v, err := unescape(val)
		if err != nil || len(v) != 1 {
			return fmt.Errorf("bad #set_separator %q", schema.EscapeDisplay(string(val)))
		}
		s.setSep = v[0]
	case "empty_field":
		s.empty = string(val)
	case "unset_field":
		s.unset = string(val)
	case "fields":
		names := strings.Split(string(val), string(s.sep))
		s.setFields(names)
		if s.ts < 0 || s.src < 0 || s.query < 0 {
			s.setFields(defaultFields)
			return fmt.Errorf("#fields lacks ts, id.orig_h or query: not a Zeek dns.log (keeping the default columns)")
		}
	}
	return nil
}

func (r *Reader) parseTSV(line []byte) (schema.DNSRow, bool, error) {
	s := &r.tsv
	if line[0] == '#' {
		if err := s.header(line); err != nil {
			// keep the default columns; the lines that follow report
			// themselves if they do not fit
			return schema.DNSRow{}, false, err
		}
		return schema.DNSRow{}, false, nil
	}
	f := r.fieldsBuf[:0]
	for {
		i := bytes.IndexByte(line, s.sep)
		if i < 0 {
			f = append(f, line)
			break
		}
		f = append(f, line[:i])
		line = line[i+1:]
	}
	r.fieldsBuf = f
	if len(f) != s.nfields {
		return schema.DNSRow{}, false, fmt.Errorf("%d fields, the header says %d", len(f), s.nfields)
	}
	var row schema.DNSRow
	var err error
	if row.Time, err = parseZeekTime(f[s.ts]); err != nil {
		return row, false, fmt.Errorf("field ts: %v", err)
	}
	src := f[s.src]
	if len(src) == 0 || s.isUnset(src) || !validUTF8(src) {
		return row, false, fmt.Errorf("field id.orig_h: missing or invalid")
	}
	row.Src = r.internSrc(src)
	q := f[s.query]
	if s.isUnset(q) || string(q) == s.empty || len(q) == 0 {
		r.skipped++
		return row, false, nil
	}
	if bytes.IndexByte(q, '\\') >= 0 {
		if q, err = unescape(q); err != nil {
			return row, false, fmt.Errorf("field query: %v", err)
		}
	}
	if row.Query, err = r.normName(q); err != nil {
		return row, false, fmt.Errorf("field query: %v", err)
	}
	row.RecordType = "-"
	if s.qtype >= 0 && !s.isUnset(f[s.qtype]) {
		row.RecordType = recordType(f[s.qtype])
	}
	row.ReplyCode = schema.RCodeUnknown
	if s.rcode >= 0 && !s.isUnset(f[s.rcode]) {
		row.ReplyCode = rcodeName(f[s.rcode])
	} else if s.rcodeNum >= 0 && !s.isUnset(f[s.rcodeNum]) {
		if n, err := strconv.Atoi(string(f[s.rcodeNum])); err == nil && n >= 0 && n < 4096 {
			row.ReplyCode = schema.RCode(n)
		} else {
			return row, false, fmt.Errorf("field rcode: not a number: %q", schema.EscapeDisplay(string(f[s.rcodeNum])))
		}
	}
	row.TTL = -1
	if s.answers >= 0 && !s.isUnset(f[s.answers]) && string(f[s.answers]) != s.empty {
		a := f[s.answers]
		if bytes.IndexByte(a, '\\') >= 0 {
			if a, err = unescape(a); err != nil {
				return row, false, fmt.Errorf("field answers: %v", err)
			}
		}
		if !validUTF8(a) {
			return row, false, fmt.Errorf("field answers: invalid UTF-8")
		}
		// one string for the whole set; each answer a substring of it
		all := string(a)
		if needsLower(a) {
			all = strings.ToLower(all)
		}
		n := bytes.Count(a, []byte{s.setSep}) + 1
		row.Answers = make([]string, 0, n)
		for len(all) > 0 {
			x := all
			if i := strings.IndexByte(all, s.setSep); i >= 0 {
				x, all = all[:i], all[i+1:]
			} else {
				all = ""
			}
			x = strings.TrimSuffix(x, ".")
			if len(x) > 0 {
				row.Answers = append(row.Answers, x)
			}
		}
	}
	if s.ttls >= 0 && !s.isUnset(f[s.ttls]) && string(f[s.ttls]) != s.empty {
		tl := f[s.ttls]
		for len(tl) > 0 {
			x := tl
			if i := bytes.IndexByte(tl, s.setSep); i >= 0 {
				x, tl = tl[:i], tl[i+1:]
			} else {
				tl = nil
			}
			t, err := parseTTL(x)
			if err != nil {
				return row, false, fmt.Errorf("field TTLs: %v", err)
			}
			if row.TTL < 0 || t < row.TTL {
				row.TTL = t
			}
		}
	}
	row.Count = 1
	if s.dst >= 0 && !s.isUnset(f[s.dst]) && validUTF8(f[s.dst]) {
		row.Dest = r.destSlice(f[s.dst])
	}
	return row, true, nil
}

func (s *tsvState) isUnset(b []byte) bool { return string(b) == s.unset }

// parseTTL reads "300" or "300.000000" (Zeek's interval format).
func parseTTL(b []byte) (int64, error) {
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		b = b[:i]
	}
	var n int64
	if len(b) == 0 || len(b) > 10 {
		return 0, fmt.Errorf("not a TTL: %q", schema.EscapeDisplay(string(b)))
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a TTL: %q", schema.EscapeDisplay(string(b)))
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

var commonTypes = map[string]string{"A": "A", "AAAA": "AAAA", "PTR": "PTR", "TXT": "TXT", "MX": "MX", "SRV": "SRV",
	"CNAME": "CNAME", "NS": "NS", "SOA": "SOA", "HTTPS": "HTTPS", "SVCB": "SVCB", "ANY": "ANY", "*": "ANY"}

func recordType(b []byte) string {
	if t, ok := commonTypes[string(b)]; ok {
		return t
	}
	return strings.ToUpper(string(b))
}

func rcodeName(b []byte) schema.RCode {
	switch string(b) {
	case "NOERROR":
		return schema.RCodeNoError
	case "NXDOMAIN":
		return schema.RCodeNXDomain
	case "SERVFAIL":
		return schema.RCodeServFail
	case "REFUSED":
		return schema.RCodeRefused
	}
	c, err := schema.ParseRCode(string(b))
	if err != nil {
		return schema.RCodeUnknown
	}
	return c
}

// unescape decodes Zeek's \xNN escapes (and \\). Anything else after a
// backslash is an error.
func unescape(b []byte) ([]byte, error) {
	if bytes.IndexByte(b, '\\') < 0 {
		return b, nil
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 < len(b) && b[i+1] == '\\' {
			out = append(out, '\\')
			i++
			continue
		}
		if i+3 < len(b) && b[i+1] == 'x' {
			v, err := strconv.ParseUint(string(b[i+2:i+4]), 16, 8)
			if err == nil {
				out = append(out, byte(v))
				i += 3
				continue
			}
		}
		end := min(i+4, len(b))
		return nil, fmt.Errorf("bad escape %q at byte %d (want \\xNN)", schema.EscapeDisplay(string(b[i:end])), i)
	}
	return out, nil
}

func needsLower(b []byte) bool {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}
