package splunkemu

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The search language the emulator understands: enough SPL for fluxhunt's
// poll searches (config/defaults.go), searching back what HEC stored, and
// reading lookups.
//
//	search `fluxhunt_dns_source` | where tonumber(substr(md5(src),1,8),16) % N == I
//	  | eval a=coalesce(b, c, "lit"), ... | stats FN(x) [as y] ... count by f1 f2 ... | head N
//	search index=NAME [sourcetype=NAME] [field=value ...] | head N | fields a b
//	| inputlookup NAME
//
// Anything else is answered with Splunk's error for an unknown command or an
// "unsupported by the emulator" search error, never with made-up rows.

// splRow is one row: every value a string, multivalue fields several.
type splRow map[string][]string

// splResult is the output of a search: column order and rows.
type splResult struct {
	cols         []string
	rows         []splRow
	transforming bool // a stats-like command ran: preview sets make sense
}

// splBounds are the time bounds of a search; nil: unbounded.
type splBounds struct {
	earliest, latest           *float64
	indexEarliest, indexLatest *float64
}

// splError is a search error with Splunk's text and HTTP status.
type splError struct {
	status int
	text   string
}

func (e *splError) Error() string { return e.text }

func splErr(format string, args ...any) error {
	return &splError{status: 400, text: fmt.Sprintf(format, args...)}
}

// knownMacros are the search macros the emulator defines: each selects the
// stored events loaded under that macro (see AddDNSEvents/AddFlowEvents).
var knownMacros = map[string]bool{MacroDNS: true, MacroFlow: true}

// splitPipes splits a search on top-level pipes.
func splitPipes(s string) []string {
	var out []string
	var b strings.Builder
	inQ, inTick, depth := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && inQ && i+1 < len(s):
			b.WriteByte(c)
			i++
			b.WriteByte(s[i])
			continue
		case c == '"' && !inTick:
			inQ = !inQ
		case c == '`' && !inQ:
			inTick = !inTick
		case c == '(' && !inQ && !inTick:
			depth++
		case c == ')' && !inQ && !inTick && depth > 0:
			depth--
		case c == '|' && !inQ && !inTick && depth == 0:
			out = append(out, strings.TrimSpace(b.String()))
			b.Reset()
			continue
		}
		b.WriteByte(c)
	}
	out = append(out, strings.TrimSpace(b.String()))
	return out
}

// splitWords splits on spaces outside quotes, keeping quotes.
func splitWords(s string) []string {
	var out []string
	var b strings.Builder
	inQ := false
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			inQ = !inQ
		}
		if !inQ && (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			flush()
			continue
		}
		b.WriteByte(c)
	}
	flush()
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}

// runSearch parses and runs a search over the store.
func (a *searchAPI) runSearch(query string, b splBounds) (*splResult, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return nil, splErr("Error in 'SearchParser': Empty search.")
	}
	generating := strings.HasPrefix(q, "|")
	if generating {
		q = strings.TrimSpace(q[1:])
	}
	parts := splitPipes(q)
	var res *splResult
	for i, part := range parts {
		words := splitWords(part)
		if len(words) == 0 {
			return nil, splErr("Error in 'SearchParser': Missing a search command before '|'.")
		}
		cmd := strings.ToLower(words[0])
		args := words[1:]
		if i == 0 {
			switch {
			case generating && cmd == "inputlookup":
				r, err := a.cmdInputlookup(args)
				if err != nil {
					return nil, err
				}
				res = r
				continue
			case generating:
				return nil, splErr("Error in 'SearchParser': Unknown search command '%s'.", words[0])
			case cmd != "search":
				args = words // the implicit leading search command
			}
			r, err := a.cmdSearch(args, b)
			if err != nil {
				return nil, err
			}
			res = r
			continue
		}
		var err error
		switch cmd {
		case "where":
			err = cmdWhere(res, strings.TrimSpace(part[len(words[0]):]))
		case "eval":
			err = cmdEval(res, strings.TrimSpace(part[len(words[0]):]))
		case "stats":
			err = cmdStats(res, args)
		case "head":
			err = cmdHead(res, args)
		case "fields", "table":
			err = cmdFields(res, args)
		case "search", "inputlookup", "sort", "dedup", "rename", "lookup", "rex", "spath", "top", "timechart", "tstats":
			err = &splError{status: 400, text: fmt.Sprintf("Error in '%s' command: this usage is not supported by the fluxhunt Splunk emulator.", cmd)}
		default:
			err = splErr("Error in 'SearchParser': Unknown search command '%s'.", words[0])
		}
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// cmdSearch selects stored events by macro, index, sourcetype, fields and
// time bounds.
func (a *searchAPI) cmdSearch(terms []string, b splBounds) (*splResult, error) {
	var macro string
	filters := map[string]string{}
	var words []string
	// groups are parenthesised disjunctions: (dest="a" OR dest="b"); a row
	// must match one alternative of every group.
	type alt struct{ k, v string }
	var groups [][]alt
	var group []alt
	inGroup := false
	for _, t := range terms {
		if !inGroup && strings.HasPrefix(t, "(") {
			inGroup, group = true, nil
			t = t[1:]
		}
		if inGroup {
			closing := strings.HasSuffix(t, ")")
			if closing {
				t = t[:len(t)-1]
			}
			switch {
			case t == "" || strings.EqualFold(t, "OR"):
			case strings.Contains(t, "=") && !strings.HasPrefix(t, "\""):
				k, v, _ := strings.Cut(t, "=")
				group = append(group, alt{strings.ToLower(strings.TrimSpace(k)), unquote(strings.TrimSpace(v))})
			default:
				return nil, splErr("Error in 'search' command: the emulator supports only field=value terms joined by OR inside parentheses, got %q", t)
			}
			if closing {
				inGroup = false
				groups = append(groups, group)
			}
			continue
		}
		switch {
		case strings.HasPrefix(t, "`") && strings.HasSuffix(t, "`") && len(t) > 2:
			name := strings.TrimSpace(t[1 : len(t)-1])
			if !knownMacros[name] {
				return nil, splErr("Error in 'SearchParser': The search specifies a macro '%s' that cannot be found. Reasons include: the macro name is misspelled, you do not have \"read\" permission for the macro, or the macro has not been shared with this application. Click Settings, Advanced search, Search Macros to view macro information.", name)
			}
			if macro != "" && macro != name {
				return &splResult{}, nil
			}
			macro = name
		case t == "*" || strings.EqualFold(t, "AND"):
		case strings.Contains(t, "=") && !strings.HasPrefix(t, "\""):
			k, v, _ := strings.Cut(t, "=")
			filters[strings.ToLower(strings.TrimSpace(k))] = unquote(strings.TrimSpace(v))
		default:
			words = append(words, strings.ToLower(unquote(t)))
		}
	}
	if inGroup {
		return nil, splErr("Error in 'search' command: Unbalanced parentheses.")
	}
	evs := a.s.store.Select(func(e *Event) bool {
		if macro != "" && e.Macro != macro {
			return false
		}
		// Without an index, Splunk searches the user's default indexes; the
		// emulator's are those HEC wrote to: events loaded under a macro are
		// found through it or by naming their index.
		if macro == "" && filters["index"] == "" && e.Macro != "" {
			return false
		}
		if !inBounds(e, b) {
			return false
		}
		for k, v := range filters {
			var have string
			switch k {
			case "index":
				have = e.Index
			case "sourcetype":
				have = e.Sourcetype
			case "source":
				have = e.Source
			case "host":
				have = e.Host
			default:
				// Checked on the row below; events loaded under a macro
				// have flat fields, so a miss is decided here without
				// building the row.
				if e.Macro != "" && !fieldMatches(e.Fields[k], v) {
					return false
				}
				continue
			}
			if !wildMatch(v, have) {
				return false
			}
		}
		if e.Macro != "" {
			for _, g := range groups {
				any := false
				for _, a := range g {
					if fieldMatches(e.Fields[a.k], a.v) {
						any = true
						break
					}
				}
				if !any {
					return false
				}
			}
		}
		return true
	})
	res := &splResult{}
	if macro == "" {
		// Events come back newest first, as Splunk returns them.
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.After(evs[j].Time) })
	}
	seen := map[string]bool{}
	for i := range evs {
		r := eventRow(&evs[i])
		ok := true
		for k, v := range filters {
			switch k {
			case "index", "sourcetype", "source", "host":
				continue
			}
			match := false
			for _, x := range r[k] {
				if wildMatch(v, x) {
					match = true
					break
				}
			}
			if !match {
				ok = false
				break
			}
		}
		for _, g := range groups {
			if !ok {
				break
			}
			any := false
			for _, a := range g {
				for _, x := range r[a.k] {
					if wildMatch(a.v, x) {
						any = true
						break
					}
				}
				if any {
					break
				}
			}
			ok = any
		}
		if ok && len(words) > 0 {
			raw := strings.ToLower(strings.Join(r["_raw"], " "))
			for _, w := range words {
				if !strings.Contains(raw, strings.Trim(w, "*")) {
					ok = false
					break
				}
			}
		}
		if !ok {
			continue
		}
		res.rows = append(res.rows, r)
		for k := range r {
			seen[k] = true
		}
	}
	res.cols = eventCols(seen)
	return res, nil
}

// fieldMatches reports whether a flat field value (string or []string)
// matches a search term's value; a missing field does not.
func fieldMatches(v any, pattern string) bool {
	switch x := v.(type) {
	case string:
		return wildMatch(pattern, x)
	case []string:
		for _, s := range x {
			if wildMatch(pattern, s) {
				return true
			}
		}
	}
	return false
}

func inBounds(e *Event, b splBounds) bool {
	t := float64(e.Time.UnixNano()) / 1e9
	it := float64(e.IndexTime.Unix()) // _indextime is whole seconds
	if b.earliest != nil && t < *b.earliest {
		return false
	}
	if b.latest != nil && t >= *b.latest {
		return false
	}
	if b.indexEarliest != nil && it < *b.indexEarliest {
		return false
	}
	if b.indexLatest != nil && it >= *b.indexLatest {
		return false
	}
	return true
}

// wildMatch matches a search value with * wildcards, case-insensitively.
func wildMatch(pattern, s string) bool {
	p := strings.ToLower(pattern)
	s = strings.ToLower(s)
	if !strings.Contains(p, "*") {
		return p == s
	}
	parts := strings.Split(p, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, part := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, part)
		}
		j := strings.Index(s, part)
		if j < 0 {
			return false
		}
		s = s[j+len(part):]
	}
	return true
}

func eventCols(seen map[string]bool) []string {
	front := []string{"_time", "_raw", "host", "index", "source", "sourcetype", "_indextime"}
	var cols []string
	for _, c := range front {
		if seen[c] {
			cols = append(cols, c)
		}
	}
	var rest []string
	for k := range seen {
		if !contains(front, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(cols, rest...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func fmtEpoch(t time.Time) string {
	if t.Nanosecond() == 0 {
		return strconv.FormatInt(t.Unix(), 10)
	}
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}

// eventRow makes the row of one stored event: its metadata, and its fields
// as Splunk's JSON extraction names them (nested objects as a.b, arrays as
// a{}).
func eventRow(e *Event) splRow {
	r := splRow{"_time": {fmtEpoch(e.Time)}, "_indextime": {strconv.FormatInt(e.IndexTime.Unix(), 10)}}
	if e.Index != "" {
		r["index"] = []string{e.Index}
	}
	if e.Sourcetype != "" {
		r["sourcetype"] = []string{e.Sourcetype}
	}
	if e.Source != "" {
		r["source"] = []string{e.Source}
	}
	if e.Host != "" {
		r["host"] = []string{e.Host}
	}
	for k, v := range e.Fields {
		flatten(r, k, v)
	}
	if len(e.Raw) > 0 {
		r["_raw"] = []string{string(e.Raw)}
	} else if len(e.Fields) > 0 {
		raw, _ := json.Marshal(e.Fields)
		r["_raw"] = []string{string(raw)}
	}
	return r
}

func flatten(r splRow, key string, v any) {
	switch x := v.(type) {
	case nil:
	case string:
		r[key] = append(r[key], x)
	case []string:
		r[key] = append(r[key], x...)
	case json.Number:
		r[key] = append(r[key], x.String())
	case float64:
		r[key] = append(r[key], strconv.FormatFloat(x, 'f', -1, 64))
	case int:
		r[key] = append(r[key], strconv.Itoa(x))
	case int64:
		r[key] = append(r[key], strconv.FormatInt(x, 10))
	case bool:
		r[key] = append(r[key], strconv.FormatBool(x))
	case map[string]any:
		for k, vv := range x {
			flatten(r, key+"."+k, vv)
		}
	case []any:
		for _, vv := range x {
			flatten(r, key+"{}", vv)
		}
	default:
		r[key] = append(r[key], fmt.Sprint(x))
	}
}

var shardWhere = regexp.MustCompile(`^tonumber\(\s*substr\(\s*md5\(\s*(\w+)\s*\)\s*,\s*1\s*,\s*8\s*\)\s*,\s*16\s*\)\s*%\s*(\d+)\s*==\s*(\d+)$`)

// cmdWhere supports the shard clause of the poll searches.
func cmdWhere(res *splResult, expr string) error {
	m := shardWhere.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		return &splError{status: 400, text: "Error in 'where' command: only the shard expression tonumber(substr(md5(FIELD),1,8),16) % N == I is supported by the fluxhunt Splunk emulator."}
	}
	field := m[1]
	n, _ := strconv.ParseUint(m[2], 10, 32)
	i, _ := strconv.ParseUint(m[3], 10, 32)
	if n == 0 {
		return splErr("Error in 'where' command: Typechecking failed. Division by zero.")
	}
	out := res.rows[:0]
	for _, r := range res.rows {
		v := r[field]
		if len(v) == 0 {
			continue // null: the comparison is false
		}
		if ShardOf(v[0], int(n)) == int(i) {
			out = append(out, r)
		}
	}
	res.rows = out
	return nil
}

// ShardOf is the shard of a value as the poll search's where clause computes
// it: tonumber(substr(md5(v),1,8),16) % n.
func ShardOf(v string, n int) int {
	sum := md5.Sum([]byte(v))
	h := hex.EncodeToString(sum[:4])
	x, _ := strconv.ParseUint(h, 16, 64)
	return int(x % uint64(n))
}

// splitTop splits on top-level commas.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, inQ, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQ = !inQ
		case c == '(' && !inQ:
			depth++
		case c == ')' && !inQ:
			depth--
		case c == sep && !inQ && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

var evalAssign = regexp.MustCompile(`^([A-Za-z_][\w.]*)\s*=\s*(.+)$`)
var evalCall = regexp.MustCompile(`^(\w+)\((.*)\)$`)

// cmdEval supports assignments of a field, a literal or coalesce(...).
func cmdEval(res *splResult, expr string) error {
	type assign struct {
		field string
		args  []string // coalesce arguments; a single one for a plain value
	}
	var as []assign
	for _, part := range splitTop(expr, ',') {
		m := evalAssign.FindStringSubmatch(part)
		if m == nil {
			return splErr("Error in 'eval' command: The expression is malformed.")
		}
		rhs := strings.TrimSpace(m[2])
		if c := evalCall.FindStringSubmatch(rhs); c != nil {
			if strings.ToLower(c[1]) != "coalesce" {
				return &splError{status: 400, text: fmt.Sprintf("Error in 'eval' command: the function '%s' is not supported by the fluxhunt Splunk emulator.", c[1])}
			}
			as = append(as, assign{field: m[1], args: splitTop(c[2], ',')})
			continue
		}
		as = append(as, assign{field: m[1], args: []string{rhs}})
	}
	for _, r := range res.rows {
		for _, a := range as {
			var val []string
			for _, arg := range a.args {
				if strings.HasPrefix(arg, "\"") {
					val = []string{unquote(arg)}
					break
				}
				if _, err := strconv.ParseFloat(arg, 64); err == nil {
					val = []string{arg}
					break
				}
				if v := r[arg]; len(v) > 0 {
					val = append([]string(nil), v...)
					break
				}
			}
			if val == nil {
				delete(r, a.field)
			} else {
				r[a.field] = val
			}
		}
	}
	for _, a := range as {
		if !contains(res.cols, a.field) {
			res.cols = append(res.cols, a.field)
		}
	}
	return nil
}

type statsAgg struct {
	fn, arg, as string
}

var statsCall = regexp.MustCompile(`^(\w+)\(([^()]*)\)$`)

// cmdStats aggregates rows: count, dc, min, max, sum, avg, values, list,
// earliest/latest of _time-ordered values not needed by fluxhunt.
func cmdStats(res *splResult, args []string) error {
	var aggs []statsAgg
	var by []string
	i := 0
	for i < len(args) {
		t := args[i]
		if strings.EqualFold(t, "by") {
			by = append(by, args[i+1:]...)
			break
		}
		var a statsAgg
		if m := statsCall.FindStringSubmatch(t); m != nil {
			a.fn, a.arg = strings.ToLower(m[1]), strings.TrimSpace(m[2])
			a.as = t
		} else {
			a.fn, a.as = strings.ToLower(t), t
		}
		switch a.fn {
		case "count", "c":
			if a.arg == "" {
				a.as = t
			}
		case "dc", "distinct_count", "min", "max", "sum", "avg", "values", "list":
			if a.arg == "" {
				return splErr("Error in 'stats' command: The argument '%s' is invalid.", t)
			}
		default:
			return splErr("Error in 'stats' command: The argument '%s' is invalid.", t)
		}
		i++
		if i+1 < len(args) && strings.EqualFold(args[i], "as") {
			a.as = args[i+1]
			i += 2
		}
		aggs = append(aggs, a)
	}
	if len(aggs) == 0 {
		return splErr("Error in 'stats' command: The number of arguments is invalid.")
	}
	for j, f := range by {
		by[j] = strings.TrimSuffix(f, ",")
	}
	type group struct {
		key  []string
		rows []splRow
	}
	groups := map[string]*group{}
	var order []*group
	for _, r := range res.rows {
		keys := [][]string{{}}
		skip := false
		for _, f := range by {
			vals := r[f]
			if len(vals) == 0 {
				skip = true // stats drops rows with a null group-by field
				break
			}
			var next [][]string
			for _, k := range keys {
				for _, v := range dedupe(vals) {
					next = append(next, append(append([]string(nil), k...), v))
				}
			}
			keys = next
		}
		if skip {
			continue
		}
		for _, k := range keys {
			id := strings.Join(k, "\x00")
			g := groups[id]
			if g == nil {
				g = &group{key: k}
				groups[id] = g
				order = append(order, g)
			}
			g.rows = append(g.rows, r)
		}
	}
	if len(by) == 0 && len(order) == 0 {
		order = append(order, &group{}) // stats without by always gives a row
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i].key, order[j].key
		for x := range a {
			if a[x] != b[x] {
				return a[x] < b[x]
			}
		}
		return false
	})
	out := make([]splRow, 0, len(order))
	for _, g := range order {
		r := splRow{}
		for x, f := range by {
			r[f] = []string{g.key[x]}
		}
		for _, a := range aggs {
			if v := aggregate(a, g.rows); v != nil {
				r[a.as] = v
			}
		}
		out = append(out, r)
	}
	cols := append([]string(nil), by...)
	for _, a := range aggs {
		cols = append(cols, a.as)
	}
	res.rows, res.cols, res.transforming = out, cols, true
	return nil
}

func dedupe(v []string) []string {
	if len(v) < 2 {
		return v
	}
	seen := map[string]bool{}
	var out []string
	for _, x := range v {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func fmtNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func aggregate(a statsAgg, rows []splRow) []string {
	switch a.fn {
	case "count", "c":
		if a.arg == "" {
			return []string{strconv.Itoa(len(rows))}
		}
		n := 0
		for _, r := range rows {
			n += len(r[a.arg])
		}
		return []string{strconv.Itoa(n)}
	case "dc", "distinct_count":
		seen := map[string]bool{}
		for _, r := range rows {
			for _, v := range r[a.arg] {
				seen[v] = true
			}
		}
		return []string{strconv.Itoa(len(seen))}
	case "values", "list":
		var vals []string
		seen := map[string]bool{}
		for _, r := range rows {
			for _, v := range r[a.arg] {
				if a.fn == "values" && seen[v] {
					continue
				}
				seen[v] = true
				vals = append(vals, v)
			}
		}
		if a.fn == "values" {
			sort.Strings(vals)
		}
		return vals
	case "min", "max", "sum", "avg":
		var nums []float64
		var strs []string
		for _, r := range rows {
			for _, v := range r[a.arg] {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
					nums = append(nums, f)
				} else if v != "" {
					strs = append(strs, v)
				}
			}
		}
		switch a.fn {
		case "sum", "avg":
			if len(nums) == 0 {
				return nil
			}
			s := 0.0
			for _, f := range nums {
				s += f
			}
			if a.fn == "avg" {
				s /= float64(len(nums))
			}
			return []string{fmtNum(s)}
		}
		if len(nums) > 0 {
			// Numbers win over strings, as Splunk's min/max do.
			m := nums[0]
			for _, f := range nums[1:] {
				if (a.fn == "min" && f < m) || (a.fn == "max" && f > m) {
					m = f
				}
			}
			return []string{fmtNum(m)}
		}
		if len(strs) == 0 {
			return nil
		}
		sort.Strings(strs)
		if a.fn == "min" {
			return []string{strs[0]}
		}
		return []string{strs[len(strs)-1]}
	}
	return nil
}

func cmdHead(res *splResult, args []string) error {
	n := 10
	if len(args) > 0 {
		v := strings.TrimPrefix(args[0], "limit=")
		x, err := strconv.Atoi(v)
		if err != nil || x < 0 {
			return splErr("Error in 'head' command: The argument must be a positive number or a boolean expression.")
		}
		n = x
	}
	if n < len(res.rows) {
		res.rows = res.rows[:n]
	}
	return nil
}

func cmdFields(res *splResult, args []string) error {
	var keep []string
	for _, a := range args {
		for _, f := range strings.Split(a, ",") {
			if f = strings.TrimSpace(f); f != "" && f != "+" {
				keep = append(keep, f)
			}
		}
	}
	if len(keep) > 0 && keep[0] == "-" {
		drop := keep[1:]
		for _, r := range res.rows {
			for _, f := range drop {
				delete(r, f)
			}
		}
		var cols []string
		for _, c := range res.cols {
			if !contains(drop, c) {
				cols = append(cols, c)
			}
		}
		res.cols = cols
		return nil
	}
	for i, r := range res.rows {
		nr := splRow{}
		for _, f := range keep {
			if v, ok := r[f]; ok {
				nr[f] = v
			}
		}
		res.rows[i] = nr
	}
	res.cols = keep
	return nil
}

func (a *searchAPI) cmdInputlookup(args []string) (*splResult, error) {
	if len(args) == 0 {
		return nil, splErr("Error in 'inputlookup' command: The lookup table name is missing.")
	}
	name := unquote(args[len(args)-1])
	a.mu.Lock()
	t, ok := a.lookups[name]
	a.mu.Unlock()
	if !ok {
		return nil, splErr("Error in 'inputlookup' command: The lookup table '%s' requires a .csv or KV store lookup definition.", name)
	}
	res := &splResult{cols: append([]string(nil), t.cols...)}
	for _, row := range t.rows {
		r := splRow{}
		for k, v := range row {
			r[k] = append([]string(nil), v...)
		}
		res.rows = append(res.rows, r)
	}
	return res, nil
}
