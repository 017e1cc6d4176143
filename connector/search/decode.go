package search

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/fluxhunt/fluxhunt/schema"
)

// Message is one entry of a Splunk "messages" array.
type Message struct {
	Type string // ERROR, FATAL, WARN, INFO, DEBUG
	Text string
}

// SplunkError is an ERROR or FATAL message Splunk sent inside a result
// stream (the search failed part-way); Text is Splunk's own.
type SplunkError struct {
	Type string
	Text string
}

func (e *SplunkError) Error() string {
	return fmt.Sprintf("splunk %s: %s", e.Type, schema.EscapeDisplay(e.Text))
}

// BadRowError is one result line that could not be used; the stream goes on.
// Line is the 1-based line of the stream, Field the field that was
// unusable ("" for a line that is not a JSON object).
type BadRowError struct {
	Line   int
	Field  string
	Reason string
	InPage bool // one row of a results page (the page's other rows are good)
}

func (e *BadRowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: field %s: %s", e.Line, schema.EscapeDisplay(e.Field), e.Reason)
}

// ErrIncomplete is returned when a result stream ended before its last row.
var ErrIncomplete = errors.New("result stream ended before its last row")

// DefaultMaxLineBytes bounds one line of a result stream.
const DefaultMaxLineBytes = 64 << 20

// Decoder reads a Splunk JSON result stream (output_mode=json): the export
// stream of one object a line ({"preview":..,"offset":..,"lastrow":..,
// "result":{..}} or {"messages":[..]}) or a results page ({"results":[..]}).
// Preview rows are skipped; ERROR and FATAL messages end the stream with a
// *SplunkError; a line that cannot be used gives a *BadRowError and the
// stream goes on.
type Decoder struct {
	r        *bufio.Reader
	MaxLine  int
	line     int
	buf      []byte
	pending  []pageRow // rows of a "results" array still to hand out
	lastRow  bool
	sawRows  bool
	done     bool
	Warnings []Message // WARN/INFO messages seen
	keys     map[string]string
	order    []string // field names of the previous row, by position
}

// NewDecoder reads from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 64<<10), MaxLine: DefaultMaxLineBytes, keys: make(map[string]string, 32)}
}

// LastRow reports whether the stream's final row was seen.
func (d *Decoder) LastRow() bool { return d.lastRow }

// Next returns the next final (non-preview) row. It returns io.EOF at the
// end of a complete stream, ErrIncomplete (wrapped) when rows came but the
// stream ended without "lastrow", a *SplunkError for an ERROR/FATAL message,
// a *BadRowError for an unusable line (call Next again to go on), or the
// read error.
func (d *Decoder) Next() (schema.Fields, error) {
	for {
		if len(d.pending) > 0 {
			r := d.pending[0]
			d.pending = d.pending[1:]
			if r.f == nil {
				return nil, &BadRowError{Line: d.line, Field: r.field, Reason: r.reason, InPage: true}
			}
			return r.f, nil
		}
		if d.done {
			return nil, io.EOF
		}
		line, err := d.readLine()
		if err != nil {
			if err == io.EOF {
				d.done = true
				if d.sawRows && !d.lastRow {
					return nil, fmt.Errorf("line %d: %w", d.line, ErrIncomplete)
				}
				return nil, io.EOF
			}
			var bad *BadRowError
			if errors.As(err, &bad) {
				return nil, err
			}
			return nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		f, err := d.parseLine(line)
		if err != nil {
			if _, ok := err.(*BadRowError); ok {
				// Something came that was not a result: the stream must
				// still end with its last row (an HTML page from a proxy
				// answering 200 is not an empty result).
				d.sawRows = true
			}
			return nil, err
		}
		if f != nil {
			return f, nil
		}
	}
}

// readLine returns the next line without its newline. A line longer than
// MaxLine is skipped and reported as a *BadRowError.
func (d *Decoder) readLine() ([]byte, error) {
	d.line++
	b, err := d.r.ReadSlice('\n')
	if err == nil {
		return b, nil
	}
	if err == io.EOF {
		if len(b) > 0 {
			return b, nil
		}
		return nil, io.EOF
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	d.buf = append(d.buf[:0], b...)
	for {
		b, err = d.r.ReadSlice('\n')
		if len(d.buf)+len(b) > d.MaxLine {
			// Skip the rest of this line.
			for err == bufio.ErrBufferFull {
				_, err = d.r.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			d.buf = d.buf[:0]
			return nil, &BadRowError{Line: d.line, Reason: fmt.Sprintf("line longer than %d bytes", d.MaxLine)}
		}
		d.buf = append(d.buf, b...)
		if err == nil || err == io.EOF {
			return d.buf, nil
		}
		if err != bufio.ErrBufferFull {
			return nil, err
		}
	}
}

// parseLine handles one top-level object; it returns a row, or nil when the
// line held none to hand out (preview, messages only, a results page whose
// rows went to pending).
func (d *Decoder) parseLine(b []byte) (schema.Fields, error) {
	// One string per line: values without escapes are substrings of it, so
	// a row costs a handful of allocations.
	p := parser{b: string(b), keys: d.keys, order: d.order}
	defer func() { d.order = p.order }()
	var (
		preview, lastrow bool
		result           schema.Fields
		hasResult        bool
		results          []pageRow
		msgs             []Message
	)
	bad := func(field, reason string) error {
		return &BadRowError{Line: d.line, Field: field, Reason: reason}
	}
	p.ws()
	if !p.consume('{') {
		return nil, bad("", "not a JSON object")
	}
	p.ws()
	if !p.consume('}') {
		for {
			p.ws()
			key, ok := p.str()
			if !ok {
				return nil, bad("", "invalid JSON: "+p.why())
			}
			p.ws()
			if !p.consume(':') {
				return nil, bad("", "invalid JSON: expected ':'")
			}
			p.ws()
			switch key {
			case "preview":
				preview, ok = p.boolean()
			case "lastrow":
				lastrow, ok = p.boolean()
			case "result":
				if p.peek() == 'n' {
					ok = p.skip()
					break
				}
				var field string
				result, field, ok = p.fields()
				if !ok {
					if field != "" {
						return nil, bad(field, p.why())
					}
					return nil, bad("result", "invalid JSON: "+p.why())
				}
				hasResult = true
			case "results":
				if p.peek() == 'n' {
					ok = p.skip()
					break
				}
				var field string
				results, field, ok = p.fieldsArray()
				if !ok {
					if field != "" {
						return nil, bad(field, p.why())
					}
					return nil, bad("results", "invalid JSON: "+p.why())
				}
			case "messages":
				if p.peek() == 'n' {
					ok = p.skip()
					break
				}
				msgs, ok = p.messages()
			default:
				ok = p.skip()
			}
			if !ok {
				return nil, bad("", "invalid JSON in "+strconv.Quote(key)+": "+p.why())
			}
			p.ws()
			if p.consume(',') {
				continue
			}
			if p.consume('}') {
				break
			}
			return nil, bad("", "invalid JSON: expected ',' or '}'")
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, bad("", "invalid JSON: data after the object")
	}
	for _, m := range msgs {
		if m.Type == "ERROR" || m.Type == "FATAL" {
			d.done = true
			return nil, &SplunkError{Type: m.Type, Text: m.Text}
		}
		d.Warnings = append(d.Warnings, m)
	}
	if preview {
		return nil, nil
	}
	if lastrow {
		d.lastRow = true
		d.done = true
	}
	if results != nil {
		d.sawRows = true
		d.lastRow = true // a results page is complete in itself
		d.pending = results
		return nil, nil
	}
	if hasResult {
		d.sawRows = true
		return result, nil
	}
	return nil, nil
}

// parser is a small JSON reader over one line, specialised for Splunk rows:
// values are strings, numbers, booleans, null or arrays of those.
type parser struct {
	b     string
	i     int
	err   string
	keys  map[string]string
	order []string // field names by position in the previous row
	slot  int      // position of the next field name in this row
}

func (p *parser) why() string {
	if p.err != "" {
		return p.err
	}
	if p.i >= len(p.b) {
		return "unexpected end of line"
	}
	return fmt.Sprintf("unexpected %q at byte %d", p.b[p.i], p.i)
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) consume(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *parser) boolean() (bool, bool) {
	if p.lit("true") {
		return true, true
	}
	if p.lit("false") {
		return false, true
	}
	if p.lit("null") {
		return false, true
	}
	// Splunk sometimes writes flags as strings or numbers; accept them.
	switch p.peek() {
	case '"':
		s, ok := p.str()
		return s == "1" || s == "true", ok
	case '0', '1':
		p.i++
		return p.b[p.i-1] == '1', true
	}
	p.err = "expected a boolean"
	return false, false
}

// key reads a string used as a field name, interned.
func (p *parser) key() (string, bool) {
	start := p.i
	if p.peek() != '"' {
		p.err = "expected a string"
		return "", false
	}
	// Fast path: no escapes.
	for j := p.i + 1; j < len(p.b); j++ {
		c := p.b[j]
		if c == '"' {
			raw := p.b[start+1 : j]
			p.i = j + 1
			slot := p.slot
			p.slot++
			// Rows of one search repeat their field names in the same
			// order: try the name at this position in the previous row.
			if slot < len(p.order) && p.order[slot] == raw {
				return p.order[slot], true
			}
			k, ok := p.keys[raw]
			if !ok {
				k = strings.Clone(raw)
				if len(p.keys) < 1024 {
					p.keys[k] = k
				}
			}
			if slot < len(p.order) {
				p.order[slot] = k
			} else if slot < 256 {
				p.order = append(p.order, k)
			}
			return k, true
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	return p.str()
}

// str reads a JSON string. Invalid UTF-8 is kept as it is (the row parser
// rejects it naming the field); invalid escapes are errors.
func (p *parser) str() (string, bool) {
	if p.peek() != '"' {
		p.err = "expected a string"
		return "", false
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := string(p.b[start:p.i])
			p.i++
			return s, true
		}
		if c == '\\' {
			return p.strSlow(start)
		}
		if c < 0x20 {
			p.err = "control character in string"
			return "", false
		}
		p.i++
	}
	p.err = "unterminated string"
	return "", false
}

func (p *parser) strSlow(start int) (string, bool) {
	out := make([]byte, 0, p.i-start+16)
	out = append(out, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), true
		case c < 0x20:
			p.err = "control character in string"
			return "", false
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			break
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				save := p.i
				if p.lit(`\u`) {
					if x, ok := p.hex4(); ok {
						r2 = x
					} else {
						return "", false
					}
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
				} else {
					r = utf8.RuneError
					p.i = save
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			p.err = "invalid escape in string"
			return "", false
		}
	}
	p.err = "unterminated string"
	return "", false
}

func (p *parser) hex4() (rune, bool) {
	if len(p.b)-p.i < 4 {
		p.err = "short \\u escape"
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			p.err = "invalid \\u escape"
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// number reads a JSON number and returns its text.
func (p *parser) number() (string, bool) {
	start := p.i
	p.consume('-')
	if p.consume('0') {
	} else if c := p.peek(); c >= '1' && c <= '9' {
		for c := p.peek(); c >= '0' && c <= '9'; c = p.peek() {
			p.i++
		}
	} else {
		p.err = "invalid number"
		return "", false
	}
	if p.consume('.') {
		n := 0
		for c := p.peek(); c >= '0' && c <= '9'; c = p.peek() {
			p.i++
			n++
		}
		if n == 0 {
			p.err = "invalid number"
			return "", false
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		n := 0
		for c := p.peek(); c >= '0' && c <= '9'; c = p.peek() {
			p.i++
			n++
		}
		if n == 0 {
			p.err = "invalid number"
			return "", false
		}
	}
	return string(p.b[start:p.i]), true
}

// scalar reads a string, number, boolean or null; ok2 is false for null.
func (p *parser) scalar() (s string, present, ok bool) {
	switch c := p.peek(); {
	case c == '"':
		s, ok = p.str()
		return s, true, ok
	case c == 't':
		if p.lit("true") {
			return "true", true, true
		}
	case c == 'f':
		if p.lit("false") {
			return "false", true, true
		}
	case c == 'n':
		if p.lit("null") {
			return "", false, true
		}
	case c == '-' || (c >= '0' && c <= '9'):
		s, ok = p.number()
		return s, true, ok
	case c == '{':
		p.err = "nested object where a string is expected"
		return "", false, false
	case c == '[':
		p.err = "nested array where a string is expected"
		return "", false, false
	}
	if p.err == "" {
		p.err = "invalid value"
	}
	return "", false, false
}

// fields reads one result object. On a bad value it returns the field's
// name.
func (p *parser) fields() (schema.Fields, string, bool) {
	if !p.consume('{') {
		p.err = "expected an object"
		return nil, "", false
	}
	f := make(schema.Fields, 12)
	// One backing array for the single values of the row.
	store := make([]string, 0, 12)
	p.ws()
	if p.consume('}') {
		return f, "", true
	}
	for {
		p.ws()
		k, ok := p.key()
		if !ok {
			return nil, "", false
		}
		p.ws()
		if !p.consume(':') {
			p.err = "expected ':'"
			return nil, "", false
		}
		p.ws()
		if p.peek() == '[' {
			p.i++
			var vals []string
			p.ws()
			if !p.consume(']') {
				for {
					p.ws()
					s, present, ok := p.scalar()
					if !ok {
						return nil, k, false
					}
					if present {
						vals = append(vals, s)
					}
					p.ws()
					if p.consume(',') {
						continue
					}
					if p.consume(']') {
						break
					}
					p.err = "expected ',' or ']'"
					return nil, k, false
				}
			}
			if vals == nil {
				vals = []string{}
			}
			f[k] = vals
		} else {
			s, present, ok := p.scalar()
			if !ok {
				return nil, k, false
			}
			if present {
				store = append(store, s)
				f[k] = store[len(store)-1 : len(store) : len(store)]
			} else {
				f[k] = nil
			}
		}
		p.ws()
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			return f, "", true
		}
		p.err = "expected ',' or '}'"
		return nil, "", false
	}
}

// pageRow is one element of a results page: a row, or (f == nil) why the
// element was unusable.
type pageRow struct {
	f             schema.Fields
	field, reason string
}

// fieldsArray reads a results array. An element with an unusable value is
// skipped on its own (a page holds many rows); a syntax error fails the
// whole line.
func (p *parser) fieldsArray() ([]pageRow, string, bool) {
	if !p.consume('[') {
		p.err = "expected an array"
		return nil, "", false
	}
	out := []pageRow{}
	p.ws()
	if p.consume(']') {
		return out, "", true
	}
	for {
		p.ws()
		start := p.i
		f, field, ok := p.fields()
		if !ok {
			if field == "" {
				return nil, "", false
			}
			reason := p.why()
			p.i, p.err = start, ""
			if !p.skip() {
				return nil, field, false
			}
			out = append(out, pageRow{field: field, reason: reason})
		} else {
			out = append(out, pageRow{f: f})
		}
		p.ws()
		if p.consume(',') {
			continue
		}
		if p.consume(']') {
			return out, "", true
		}
		p.err = "expected ',' or ']'"
		return nil, "", false
	}
}

func (p *parser) messages() ([]Message, bool) {
	if !p.consume('[') {
		p.err = "expected an array"
		return nil, false
	}
	var out []Message
	p.ws()
	if p.consume(']') {
		return out, true
	}
	for {
		p.ws()
		if !p.consume('{') {
			p.err = "expected a message object"
			return nil, false
		}
		var m Message
		p.ws()
		if !p.consume('}') {
			for {
				p.ws()
				k, ok := p.str()
				if !ok {
					return nil, false
				}
				p.ws()
				if !p.consume(':') {
					p.err = "expected ':'"
					return nil, false
				}
				p.ws()
				switch {
				case (k == "type" || k == "text") && p.peek() == '"':
					s, ok := p.str()
					if !ok {
						return nil, false
					}
					if k == "type" {
						m.Type = s
					} else {
						m.Text = s
					}
				default:
					if !p.skip() {
						return nil, false
					}
				}
				p.ws()
				if p.consume(',') {
					continue
				}
				if p.consume('}') {
					break
				}
				p.err = "expected ',' or '}'"
				return nil, false
			}
		}
		out = append(out, m)
		p.ws()
		if p.consume(',') {
			continue
		}
		if p.consume(']') {
			return out, true
		}
		p.err = "expected ',' or ']'"
		return nil, false
	}
}

// skip skips any JSON value (depth-limited).
func (p *parser) skip() bool { return p.skipDepth(0) }

func (p *parser) skipDepth(depth int) bool {
	if depth > 64 {
		p.err = "nesting too deep"
		return false
	}
	switch p.peek() {
	case '{':
		p.i++
		p.ws()
		if p.consume('}') {
			return true
		}
		for {
			p.ws()
			if _, ok := p.str(); !ok {
				return false
			}
			p.ws()
			if !p.consume(':') {
				p.err = "expected ':'"
				return false
			}
			p.ws()
			if !p.skipDepth(depth + 1) {
				return false
			}
			p.ws()
			if p.consume(',') {
				continue
			}
			if p.consume('}') {
				return true
			}
			p.err = "expected ',' or '}'"
			return false
		}
	case '[':
		p.i++
		p.ws()
		if p.consume(']') {
			return true
		}
		for {
			p.ws()
			if !p.skipDepth(depth + 1) {
				return false
			}
			p.ws()
			if p.consume(',') {
				continue
			}
			if p.consume(']') {
				return true
			}
			p.err = "expected ',' or ']'"
			return false
		}
	default:
		_, _, ok := p.scalar()
		return ok
	}
}
