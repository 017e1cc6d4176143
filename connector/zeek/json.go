package zeek

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/fluxhunt/fluxhunt/schema"
)

// zeekJSON is one line of a Zeek JSON dns.log.
type zeekJSON struct {
	TS        json.RawMessage `json:"ts"`
	Src       string          `json:"id.orig_h"`
	Dst       string          `json:"id.resp_h"`
	Query     *string         `json:"query"`
	QTypeName string          `json:"qtype_name"`
	RCodeName string          `json:"rcode_name"`
	RCode     *int            `json:"rcode"`
	Answers   []string        `json:"answers"`
	TTLs      []float64       `json:"TTLs"`
}

func (r *Reader) parseZeekJSON(line []byte) (schema.DNSRow, bool, error) {
	var z zeekJSON
	var row schema.DNSRow
	if err := json.Unmarshal(line, &z); err != nil {
		return row, false, fmt.Errorf("not a Zeek JSON dns.log object: %v", err)
	}
	if len(z.TS) == 0 {
		return row, false, fmt.Errorf("field ts: missing")
	}
	ts := string(z.TS)
	if ts[0] == '"' {
		if err := json.Unmarshal(z.TS, &ts); err != nil {
			return row, false, fmt.Errorf("field ts: %v", err)
		}
	}
	var err error
	if row.Time, err = parseZeekTime([]byte(ts)); err != nil {
		return row, false, fmt.Errorf("field ts: %v", err)
	}
	if z.Src == "" {
		return row, false, fmt.Errorf("field id.orig_h: missing")
	}
	row.Src = r.internSrc([]byte(z.Src))
	if z.Query == nil || *z.Query == "" {
		r.skipped++
		return row, false, nil
	}
	if row.Query, err = r.normName([]byte(*z.Query)); err != nil {
		return row, false, fmt.Errorf("field query: %v", err)
	}
	row.RecordType = "-"
	if z.QTypeName != "" {
		row.RecordType = recordType([]byte(z.QTypeName))
	}
	row.ReplyCode = schema.RCodeUnknown
	if z.RCodeName != "" {
		row.ReplyCode = rcodeName([]byte(z.RCodeName))
	} else if z.RCode != nil {
		row.ReplyCode = schema.RCode(*z.RCode)
	}
	for _, a := range z.Answers {
		if a != "" {
			row.Answers = append(row.Answers, strings.TrimSuffix(strings.ToLower(a), "."))
		}
	}
	row.TTL = -1
	for _, t := range z.TTLs {
		if t < 0 || t > 1<<31 {
			return row, false, fmt.Errorf("field TTLs: %s out of range", strconv.FormatFloat(t, 'g', -1, 64))
		}
		if row.TTL < 0 || int64(t) < row.TTL {
			row.TTL = int64(t)
		}
	}
	row.Count = 1
	if z.Dst != "" {
		row.Dest = r.destSlice([]byte(z.Dst))
	}
	return row, true, nil
}
