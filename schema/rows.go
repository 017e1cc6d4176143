package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Fields is one search result row as Splunk returns it: every value a
// string, multivalue fields as several strings.
type Fields map[string][]string

// Get returns the first value of key and whether the key was present and
// non-empty.
func (f Fields) Get(key string) (string, bool) {
	v := f[key]
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// RCode is a DNS reply code (RFC 1035/6895 numbering). RCodeUnknown marks a
// code that could not be read.
type RCode int

const (
	RCodeNoError  RCode = 0
	RCodeFormErr  RCode = 1
	RCodeServFail RCode = 2
	RCodeNXDomain RCode = 3
	RCodeNotImp   RCode = 4
	RCodeRefused  RCode = 5
	RCodeUnknown  RCode = -1
)

var rcodeNames = map[string]RCode{
	"noerror": RCodeNoError, "no error": RCodeNoError, "success": RCodeNoError,
	"formerr": RCodeFormErr, "format error": RCodeFormErr,
	"servfail": RCodeServFail, "server failure": RCodeServFail,
	"nxdomain": RCodeNXDomain, "non-existent domain": RCodeNXDomain, "name error": RCodeNXDomain,
	"notimp": RCodeNotImp, "not implemented": RCodeNotImp,
	"refused": RCodeRefused, "query refused": RCodeRefused,
}

// ParseRCode reads CIM names (NoError, "No Error", NXDomain, "Non-Existent
// Domain", ServFail, Refused...), Zeek names (NOERROR, NXDOMAIN) or numbers.
func ParseRCode(s string) (RCode, error) {
	s = strings.TrimSpace(s)
	switch s { // the common spellings, without lower-casing
	case "NoError", "NOERROR", "0", "No Error":
		return RCodeNoError, nil
	case "NXDomain", "NXDOMAIN", "3", "Non-Existent Domain":
		return RCodeNXDomain, nil
	case "ServFail", "SERVFAIL", "2":
		return RCodeServFail, nil
	case "Refused", "REFUSED", "5":
		return RCodeRefused, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 4095 {
		return RCode(n), nil
	}
	if c, ok := rcodeNames[strings.ToLower(s)]; ok {
		return c, nil
	}
	return RCodeUnknown, fmt.Errorf("unknown reply code %q (want NoError, NXDomain, ServFail, Refused or a number)", EscapeDisplay(s))
}

// String gives the CIM name.
func (c RCode) String() string {
	switch c {
	case RCodeNoError:
		return "NoError"
	case RCodeFormErr:
		return "FormErr"
	case RCodeServFail:
		return "ServFail"
	case RCodeNXDomain:
		return "NXDomain"
	case RCodeNotImp:
		return "NotImp"
	case RCodeRefused:
		return "Refused"
	case RCodeUnknown:
		return "unknown"
	}
	return strconv.Itoa(int(c))
}

// DNSRow is one aggregated DNS row: (src, query, record_type, reply_code)
// per window.
type DNSRow struct {
	Time       time.Time // window start
	Src        string
	Query      Name
	RecordType string // upper case: A, AAAA, TXT...
	ReplyCode  RCode
	Answers    []string // addresses or names, as given (trimmed)
	TTL        int64    // minimum TTL seen; -1 when not known
	Count      int64    // events aggregated into the row, at least 1
	Dest       []string // resolvers, optional
}

// FlowRow is one aggregated flow row: (src, dest, dest_port, transport) per
// window.
type FlowRow struct {
	Time      time.Time
	Src       string
	Dest      string
	DestPort  int
	Transport string
	Bytes     int64
	Packets   int64
	Count     int64
}

// RowError says which field of a row was unusable.
type RowError struct {
	Field  string
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("field %s: %s", e.Field, e.Reason) }

func single(f Fields, key string, required bool) (string, error) {
	v := f[key]
	if len(v) == 0 || (len(v) == 1 && strings.TrimSpace(v[0]) == "") {
		if required {
			return "", &RowError{Field: key, Reason: "missing"}
		}
		return "", nil
	}
	if len(v) > 1 {
		// Multivalue where one was expected: take the first distinct value
		// when they all agree, refuse when they disagree.
		for _, x := range v[1:] {
			if x != v[0] {
				return "", &RowError{Field: key, Reason: fmt.Sprintf("%d different values where one is expected", len(v))}
			}
		}
	}
	s := strings.TrimSpace(v[0])
	if !utf8.ValidString(s) {
		return "", &RowError{Field: key, Reason: "invalid UTF-8"}
	}
	return s, nil
}

func parseEpoch(s string) (time.Time, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(i, 0).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("not epoch seconds: %q", EscapeDisplay(s))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

func parseCount(f Fields, key string, def int64) (int64, error) {
	s, err := single(f, key, false)
	if err != nil {
		return 0, err
	}
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fl, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || fl < 0 || math.IsNaN(fl) || fl > math.MaxInt64/2 {
			return 0, &RowError{Field: key, Reason: fmt.Sprintf("not a number: %q", EscapeDisplay(s))}
		}
		n = int64(fl)
	}
	if n < 0 {
		return 0, &RowError{Field: key, Reason: fmt.Sprintf("negative: %d", n)}
	}
	return n, nil
}

// ParseDNSRow normalises one DNS search row. It returns a *RowError naming
// the field when the row cannot be used.
func ParseDNSRow(f Fields) (DNSRow, error) {
	var r DNSRow
	ts, err := single(f, "_time", true)
	if err != nil {
		return r, err
	}
	if r.Time, err = parseEpoch(ts); err != nil {
		return r, &RowError{Field: "_time", Reason: err.Error()}
	}
	if r.Src, err = single(f, "src", true); err != nil {
		return r, err
	}
	q, err := single(f, "query", true)
	if err != nil {
		return r, err
	}
	if r.Query, err = NormalizeName(q); err != nil {
		return r, &RowError{Field: "query", Reason: err.Error()}
	}
	rt, err := single(f, "record_type", false)
	if err != nil {
		return r, err
	}
	r.RecordType = strings.ToUpper(rt)
	rc, err := single(f, "reply_code", true)
	if err != nil {
		return r, err
	}
	if r.ReplyCode, err = ParseRCode(rc); err != nil {
		return r, &RowError{Field: "reply_code", Reason: err.Error()}
	}
	if vals := f["answer"]; len(vals) > 0 {
		r.Answers = make([]string, 0, len(vals))
	}
	for _, a := range f["answer"] {
		a = strings.TrimSpace(a)
		if a == "" || !utf8.ValidString(a) {
			continue
		}
		r.Answers = append(r.Answers, strings.TrimSuffix(strings.ToLower(a), "."))
	}
	r.TTL = -1
	if vals := f["ttl"]; len(vals) > 0 {
		// ttl is the minimum seen; accept multivalue by taking the minimum.
		for _, s := range vals {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 || n > math.MaxInt32 {
				return r, &RowError{Field: "ttl", Reason: fmt.Sprintf("not a TTL in seconds: %q", EscapeDisplay(s))}
			}
			if r.TTL < 0 || n < r.TTL {
				r.TTL = n
			}
		}
	}
	if r.Count, err = parseCount(f, "count", 1); err != nil {
		return r, err
	}
	for _, d := range f["dest"] {
		if d = strings.TrimSpace(d); d != "" && utf8.ValidString(d) {
			r.Dest = append(r.Dest, d)
		}
	}
	return r, nil
}

// ParseFlowRow normalises one flow search row.
func ParseFlowRow(f Fields) (FlowRow, error) {
	var r FlowRow
	ts, err := single(f, "_time", true)
	if err != nil {
		return r, err
	}
	if r.Time, err = parseEpoch(ts); err != nil {
		return r, &RowError{Field: "_time", Reason: err.Error()}
	}
	if r.Src, err = single(f, "src", true); err != nil {
		return r, err
	}
	if r.Dest, err = single(f, "dest", true); err != nil {
		return r, err
	}
	p, err := single(f, "dest_port", false)
	if err != nil {
		return r, err
	}
	if p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return r, &RowError{Field: "dest_port", Reason: fmt.Sprintf("not a port: %q", EscapeDisplay(p))}
		}
		r.DestPort = n
	}
	t, err := single(f, "transport", false)
	if err != nil {
		return r, err
	}
	r.Transport = strings.ToLower(t)
	if r.Bytes, err = parseCount(f, "bytes", 0); err != nil {
		return r, err
	}
	if r.Packets, err = parseCount(f, "packets", 0); err != nil {
		return r, err
	}
	if r.Count, err = parseCount(f, "count", 1); err != nil {
		return r, err
	}
	return r, nil
}
