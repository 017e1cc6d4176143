package splunkapp

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// This file is a small SPL field-flow analyser: enough of the Search
// Processing Language to follow which fields each command of the app's
// searches reads and creates, starting from the fields of the events the
// base search selects. It knows the commands the app uses and refuses the
// others, so a search it cannot follow fails the tests instead of passing
// unchecked.

// FieldSet is a set of field names.
type FieldSet map[string]bool

// NewFieldSet makes a set of the names.
func NewFieldSet(names ...string) FieldSet {
	s := FieldSet{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

// Sorted lists the names in order.
func (s FieldSet) Sorted() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s FieldSet) clone() FieldSet {
	c := make(FieldSet, len(s))
	for n := range s {
		c[n] = true
	}
	return c
}

// TagSource is the set of fields that events carrying all of Tags provide
// (a CIM data model dataset reached by tags, e.g. network+resolution+dns).
type TagSource struct {
	Name   string
	Tags   []string
	Fields FieldSet
}

// Env is what a search can refer to: the events of each sourcetype (their
// search-time fields), tag-selected CIM data, data models, macros, lookups
// (name to columns) and eventtypes (name to search).
type Env struct {
	Sourcetypes map[string]FieldSet
	TagSources  []TagSource
	Datamodels  map[string]FieldSet // "Risk.All_Risk" to its fields, prefixed ("All_Risk.risk_object")
	Macros      map[string]string
	Lookups     map[string][]string
	Eventtypes  map[string]string
}

// Analysis is what Analyze learned about one search.
type Analysis struct {
	Sources    []string // "sourcetype:X", "tags:A+B", "datamodel:X", "lookup:X"
	Refs       FieldSet // every field a command read
	Output     FieldSet // fields of the final results
	Open       bool     // the final result fields depend on the data (timechart ... BY)
	Macros     []string
	Lookups    []string
	Eventtypes []string
	Problems   []string
}

// Err returns the problems as one error, or nil.
func (a *Analysis) Err() error {
	if len(a.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(a.Problems, "\n"))
}

// builtinFields are present on every event.
var builtinFields = NewFieldSet("_time", "_raw", "_indextime", "_cd", "_serial", "host", "source",
	"sourcetype", "index", "splunk_server", "linecount", "eventtype", "tag", "punct", "timestartpos", "timeendpos")

// searchModifiers are search-time keys that are not event fields.
var searchModifiers = NewFieldSet("earliest", "latest", "_index_earliest", "_index_latest",
	"index", "sourcetype", "source", "host", "eventtype", "tag", "splunk_server", "savedsearch", "starttime", "endtime")

const maxMacroDepth = 10

var macroRE = regexp.MustCompile("`([^`]*)`")

// Expand replaces macros (`name`) by their definitions, recursively.
func (e *Env) Expand(spl string, a *Analysis) string {
	for depth := 0; strings.Contains(spl, "`"); depth++ {
		if depth >= maxMacroDepth {
			a.problem("macros nest deeper than %d (a loop?)", maxMacroDepth)
			return spl
		}
		spl = macroRE.ReplaceAllStringFunc(spl, func(m string) string {
			name := strings.TrimSpace(m[1 : len(m)-1])
			if strings.Contains(name, "(") {
				a.problem("macro `%s`: macros with arguments are not supported here", name)
				return " "
			}
			def, ok := e.Macros[name]
			if !ok {
				a.problem("macro `%s` is not defined in macros.conf", name)
				return " "
			}
			a.Macros = appendUniq(a.Macros, name)
			return " " + def + " "
		})
		if strings.Count(spl, "`")%2 == 1 {
			a.problem("unbalanced backquote in %q", clip(spl))
			return strings.ReplaceAll(spl, "`", " ")
		}
	}
	return spl
}

func appendUniq(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func (a *Analysis) problem(format string, args ...any) {
	a.Problems = append(a.Problems, fmt.Sprintf(format, args...))
}

// Token kinds.
const (
	tWord   = 'w'
	tString = 's' // "double quoted"
	tField  = 'q' // 'single quoted' field name
	tOp     = 'o' // = == != < > <= >= !
	tPipe   = '|'
	tLParen = '('
	tRParen = ')'
	tLBrack = '['
	tRBrack = ']'
	tComma  = ','
)

type token struct {
	kind byte
	text string
}

// tokenize splits SPL into tokens. Quoted strings keep their content
// unescaped of \" and \\.
func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			q := c
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == '\\' && j+1 < len(s) {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if s[j] == q {
					closed = true
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return out, fmt.Errorf("unterminated %c-quoted string at offset %d", q, i)
			}
			k := byte(tString)
			if q == '\'' {
				k = tField
			}
			out = append(out, token{k, b.String()})
			i = j + 1
		case c == '|' || c == '(' || c == ')' || c == '[' || c == ']' || c == ',':
			out = append(out, token{c, string(c)})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			if i+1 < len(s) && s[i+1] == '=' {
				out = append(out, token{tOp, s[i : i+2]})
				i += 2
			} else {
				out = append(out, token{tOp, s[i : i+1]})
				i++
			}
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r\"'|()[],=!<>", rune(s[j])) {
				j++
			}
			out = append(out, token{tWord, s[i:j]})
			i = j
		}
	}
	return out, nil
}

// splitPipeline splits tokens at top-level pipes. lead reports a leading
// pipe (a generating command comes first).
func splitPipeline(toks []token) (cmds [][]token, lead bool, err error) {
	depth := 0
	var cur []token
	for i, t := range toks {
		switch t.kind {
		case tLBrack:
			return nil, false, fmt.Errorf("subsearches ([...]) are not supported by this checker")
		case tLParen:
			depth++
		case tRParen:
			depth--
			if depth < 0 {
				return nil, false, fmt.Errorf("unbalanced )")
			}
		case tPipe:
			if depth == 0 {
				if i == 0 {
					lead = true
					continue
				}
				cmds = append(cmds, cur)
				cur = nil
				continue
			}
		}
		cur = append(cur, t)
	}
	if depth != 0 {
		return nil, false, fmt.Errorf("unbalanced (")
	}
	cmds = append(cmds, cur)
	for i, c := range cmds {
		if len(c) == 0 {
			return nil, false, fmt.Errorf("empty command at position %d", i+1)
		}
	}
	return cmds, lead, nil
}

type flow struct {
	env    *Env
	a      *Analysis
	fields FieldSet
	open   bool
	cmd    string
	pos    int
}

func (f *flow) ref(name string) {
	if name == "" || strings.ContainsAny(name, "*$") {
		return
	}
	f.a.Refs[name] = true
	if !f.open && !f.fields[name] {
		f.a.problem("command %d (%s): field %q is not available here (have: %s)", f.pos, f.cmd, name, strings.Join(f.fields.Sorted(), " "))
	}
}

func (f *flow) define(name string) {
	if name != "" {
		f.fields[name] = true
	}
}

// Analyze follows the fields through one search.
func (e *Env) Analyze(spl string) *Analysis {
	a := &Analysis{Refs: FieldSet{}, Output: FieldSet{}}
	expanded := e.Expand(spl, a)
	toks, err := tokenize(expanded)
	if err != nil {
		a.problem("%v", err)
		return a
	}
	cmds, lead, err := splitPipeline(toks)
	if err != nil {
		a.problem("%v", err)
		return a
	}
	f := &flow{env: e, a: a, fields: FieldSet{}}
	for i, c := range cmds {
		f.pos = i + 1
		name := strings.ToLower(c[0].text)
		args := c[1:]
		if c[0].kind != tWord {
			name, args = "search", c
		}
		if i == 0 && !lead {
			if name != "search" {
				name, args = "search", c
			}
		}
		f.cmd = name
		if i == 0 {
			f.first(name, args)
			continue
		}
		f.command(name, args)
	}
	a.Output = f.fields
	a.Open = f.open
	return a
}

func (f *flow) first(name string, args []token) {
	switch name {
	case "search":
		f.baseSearch(args)
	case "tstats":
		f.tstats(args)
	case "inputlookup":
		f.inputlookup(args)
	case "makeresults":
		f.fields = NewFieldSet("_time")
	default:
		f.a.problem("command 1: %q is not a generating command this checker knows", name)
	}
}

func (f *flow) command(name string, args []token) {
	switch name {
	case "search":
		terms := searchTerms(args)
		for _, t := range terms {
			if !searchModifiers[t.field] {
				f.ref(t.field)
			}
		}
	case "where":
		for _, r := range exprRefs(args) {
			f.ref(r)
		}
	case "eval":
		f.eval(args)
	case "stats", "eventstats", "streamstats", "timechart", "chart":
		f.stats(name, args)
	case "table":
		keep := FieldSet{}
		for _, w := range fieldList(args) {
			f.ref(w)
			keep[w] = true
		}
		f.fields, f.open = keep, false
	case "fields":
		f.fieldsCmd(args)
	case "dedup":
		for _, t := range args {
			if t.kind == tWord && strings.EqualFold(t.text, "sortby") {
				break
			}
			if t.kind == tWord && !isNumber(t.text) {
				f.ref(t.text)
			}
		}
	case "sort":
		for i := 0; i < len(args); i++ {
			t := args[i]
			if t.kind == tLParen || t.kind == tRParen || t.kind == tComma {
				continue
			}
			if i+1 < len(args) && args[i+1].kind == tLParen { // num(x), str(x), ip(x)
				continue
			}
			w := strings.TrimLeft(t.text, "+-")
			if (t.kind == tWord || t.kind == tField) && w != "" && !isNumber(w) {
				f.ref(w)
			}
		}
	case "head", "tail":
	case "rename":
		f.rename(args)
	case "lookup":
		f.lookup(args)
	case "inputlookup":
		f.inputlookup(args)
	case "outputlookup":
		f.outputlookup(args)
	case "mvexpand", "makemv", "nomv":
		for _, w := range positional(args) {
			f.ref(w)
		}
	case "fillnull":
		for _, w := range positional(args) {
			f.define(w)
		}
	case "bin", "bucket":
		for _, w := range positional(args) {
			f.ref(w)
		}
	default:
		f.a.problem("command %d: %q is a command this checker does not know: teach spl.go or avoid it", f.pos, name)
	}
}

// positional returns the word arguments that are not key=value options.
func positional(args []token) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		t := args[i]
		if i+1 < len(args) && args[i+1].kind == tOp && args[i+1].text == "=" {
			i += 2
			continue
		}
		if t.kind == tWord || t.kind == tField {
			out = append(out, t.text)
		}
	}
	return out
}

func fieldList(args []token) []string {
	var out []string
	for _, t := range args {
		if t.kind == tWord || t.kind == tField || t.kind == tString {
			out = append(out, t.text)
		}
	}
	return out
}

type term struct {
	field, op, value string
	negated          bool
}

// searchTerms finds field comparisons in search syntax: field=value,
// field!=value, field<value..., field IN (...), with NOT in front.
func searchTerms(args []token) []term {
	var out []term
	neg := false
	for i := 0; i < len(args); i++ {
		t := args[i]
		if t.kind == tWord && t.text == "NOT" {
			neg = true
			continue
		}
		if (t.kind == tWord || t.kind == tField) && i+2 < len(args) && args[i+1].kind == tOp && args[i+1].text != "!" {
			out = append(out, term{field: t.text, op: args[i+1].text, value: args[i+2].text, negated: neg})
			i += 2
			neg = false
			continue
		}
		if t.kind == tWord && i+1 < len(args) && args[i+1].kind == tWord && strings.EqualFold(args[i+1].text, "IN") {
			out = append(out, term{field: t.text, op: "IN", negated: neg})
			i++
			neg = false
			continue
		}
		if t.kind != tLParen {
			neg = false
		}
	}
	return out
}

func (f *flow) baseSearch(args []token) {
	terms := searchTerms(args)
	var tags []string
	for _, t := range terms {
		if t.negated {
			continue
		}
		switch t.field {
		case "sourcetype":
			f.addSource("sourcetype:"+t.value, f.env.Sourcetypes[t.value])
		case "tag":
			tags = append(tags, t.value)
		case "eventtype":
			search, ok := f.env.Eventtypes[t.value]
			if !ok {
				f.a.problem("eventtype %q is not defined in eventtypes.conf", t.value)
				continue
			}
			f.a.Eventtypes = appendUniq(f.a.Eventtypes, t.value)
			sub := f.env.Analyze(search)
			f.a.Problems = append(f.a.Problems, sub.Problems...)
			for _, s := range sub.Sources {
				f.a.Sources = appendUniq(f.a.Sources, s)
			}
			for n := range sub.Output {
				f.fields[n] = true
			}
		}
	}
	if len(tags) > 0 {
		have := NewFieldSet(tags...)
		for _, ts := range f.env.TagSources {
			all := true
			for _, need := range ts.Tags {
				all = all && have[need]
			}
			if all {
				f.addSource("tags:"+strings.Join(ts.Tags, "+"), ts.Fields)
			}
		}
	}
	if len(f.a.Sources) == 0 {
		f.a.problem("the base search selects no events this checker knows (name a fluxhunt sourcetype, an eventtype, or CIM tags)")
		f.open = true
		return
	}
	for n := range builtinFields {
		f.fields[n] = true
	}
	for _, t := range terms {
		if !searchModifiers[t.field] {
			f.ref(t.field)
		}
	}
}

func (f *flow) addSource(name string, fields FieldSet) {
	if fields == nil {
		f.a.problem("%s: no such events are known (no golden event for it)", name)
		return
	}
	f.a.Sources = appendUniq(f.a.Sources, name)
	for n := range fields {
		f.fields[n] = true
	}
}

var evalKeywords = NewFieldSet("and", "or", "not", "xor", "like", "in", "true", "false", "null")

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:{}]*$`)

// exprRefs returns the field names an eval expression reads.
func exprRefs(toks []token) []string {
	var out []string
	for i, t := range toks {
		switch t.kind {
		case tField:
			out = append(out, t.text)
		case tWord:
			if i+1 < len(toks) && toks[i+1].kind == tLParen {
				continue // a function
			}
			for _, p := range strings.FieldsFunc(t.text, func(r rune) bool { return strings.ContainsRune("+-*/%", r) }) {
				p = strings.Trim(p, ".")
				if p == "" || isNumber(p) || evalKeywords[strings.ToLower(p)] {
					continue
				}
				if identRE.MatchString(p) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !dot:
			dot = true
		case (r == '-' || r == '+') && i == 0 && len(s) > 1:
		default:
			return false
		}
	}
	return true
}

// splitTop splits tokens at commas outside parentheses.
func splitTop(toks []token) [][]token {
	var out [][]token
	depth := 0
	var cur []token
	for _, t := range toks {
		switch t.kind {
		case tLParen:
			depth++
		case tRParen:
			depth--
		case tComma:
			if depth == 0 {
				out = append(out, cur)
				cur = nil
				continue
			}
		}
		cur = append(cur, t)
	}
	return append(out, cur)
}

func (f *flow) eval(args []token) {
	for _, as := range splitTop(args) {
		if len(as) < 3 || (as[0].kind != tWord && as[0].kind != tField) || as[1].kind != tOp || as[1].text != "=" {
			f.a.problem("command %d (eval): expected name=expression, got %q", f.pos, render(as))
			continue
		}
		for _, r := range exprRefs(as[2:]) {
			f.ref(r)
		}
		f.define(as[0].text)
	}
}

func render(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return clip(b.String())
}

// stats parses "[opts] agg [AS name] ... [BY f ...]" for stats, eventstats,
// streamstats, timechart and chart.
func (f *flow) stats(name string, args []token) {
	aggs, by := f.aggregations(args, nil)
	switch name {
	case "eventstats", "streamstats":
		for _, n := range aggs {
			f.define(n)
		}
	case "timechart":
		out := NewFieldSet("_time")
		for _, n := range aggs {
			out[n] = true
		}
		f.fields, f.open = out, len(by) > 0
	default:
		out := NewFieldSet(by...)
		for _, n := range aggs {
			out[n] = true
		}
		f.fields, f.open = out, false
	}
}

// aggregations reads aggregation functions and the BY clause. stop, if not
// nil, is called on each word and ends the aggregation list when it returns
// true (tstats' "from"); the rest is returned.
func (f *flow) aggregations(args []token, stop func(i int) (int, bool)) (aggs, by []string) {
	i := 0
	for i < len(args) {
		t := args[i]
		if stop != nil {
			if next, ok := stop(i); ok {
				i = next
				continue
			}
		}
		switch {
		case t.kind == tComma:
			i++
		case t.kind == tWord && strings.EqualFold(t.text, "by"):
			for j := i + 1; j < len(args); j++ {
				if j+1 < len(args) && args[j+1].kind == tOp {
					j += 2 // span=1h and the like
					continue
				}
				if args[j].kind == tWord || args[j].kind == tField {
					f.ref(args[j].text)
					by = append(by, args[j].text)
				}
			}
			return aggs, by
		case t.kind == tWord && i+1 < len(args) && args[i+1].kind == tOp && args[i+1].text == "=":
			i += 3 // an option: current=f, span=1h, summariesonly=false
		case t.kind == tWord && i+1 < len(args) && args[i+1].kind == tLParen:
			j := i + 2
			depth := 1
			for j < len(args) && depth > 0 {
				switch args[j].kind {
				case tLParen:
					depth++
				case tRParen:
					depth--
				}
				j++
			}
			inner := args[i+2 : j-1]
			if len(inner) == 1 && (inner[0].kind == tWord || inner[0].kind == tField) {
				f.ref(inner[0].text)
			} else if len(inner) > 0 {
				f.a.problem("command %d (%s): aggregation %s(...) takes one field here, got %q", f.pos, f.cmd, t.text, render(inner))
			}
			out := t.text + "(" + render(inner) + ")"
			i = j
			if i+1 < len(args) && strings.EqualFold(args[i].text, "as") {
				out = args[i+1].text
				i += 2
			}
			aggs = append(aggs, out)
		case t.kind == tWord && (strings.EqualFold(t.text, "count") || strings.EqualFold(t.text, "c")):
			out := "count"
			i++
			if i+1 < len(args) && strings.EqualFold(args[i].text, "as") {
				out = args[i+1].text
				i += 2
			}
			aggs = append(aggs, out)
		default:
			f.a.problem("command %d (%s): cannot read %q", f.pos, f.cmd, t.text)
			i++
		}
	}
	return aggs, nil
}

func (f *flow) tstats(args []token) {
	dm := ""
	var where []token
	stop := func(i int) (int, bool) {
		t := args[i]
		if t.kind != tWord {
			return 0, false
		}
		switch strings.ToLower(t.text) {
		case "from":
			if i+3 < len(args) && args[i+1].text == "datamodel" && args[i+2].text == "=" {
				dm = args[i+3].text
				fields, ok := f.env.Datamodels[dm]
				if !ok {
					f.a.problem("tstats: data model %q is not known to this checker", dm)
					f.open = true
				} else {
					f.a.Sources = appendUniq(f.a.Sources, "datamodel:"+dm)
					for n := range fields {
						f.fields[n] = true
					}
					for _, n := range []string{"_time", "source", "sourcetype", "host", "index"} {
						f.fields[n] = true
					}
				}
				return i + 4, true
			}
			f.a.problem("tstats: expected from datamodel=NAME")
			return i + 1, true
		case "where":
			j := i + 1
			for j < len(args) && !(args[j].kind == tWord && strings.EqualFold(args[j].text, "by")) {
				where = append(where, args[j])
				j++
			}
			return j, true
		}
		return 0, false
	}
	// The aggregations name data-model fields, which are only known after
	// "from": read the from clause first.
	for i := range args {
		if args[i].kind == tWord && strings.EqualFold(args[i].text, "from") {
			stop(i)
			break
		}
	}
	if dm == "" {
		f.a.problem("tstats: no from datamodel=NAME")
	}
	aggs, by := f.aggregations(args, stop)
	for _, t := range searchTerms(where) {
		f.ref(t.field)
	}
	out := NewFieldSet(by...)
	for _, n := range aggs {
		out[n] = true
	}
	f.fields, f.open = out, false
}

func (f *flow) fieldsCmd(args []token) {
	if len(args) > 0 && args[0].kind == tWord && args[0].text == "-" {
		for _, w := range fieldList(args[1:]) {
			if strings.Contains(w, "*") {
				re := wildcardRE(w)
				for n := range f.fields {
					if re.MatchString(n) {
						delete(f.fields, n)
					}
				}
				continue
			}
			f.ref(w)
			delete(f.fields, w)
		}
		return
	}
	if len(args) > 0 && args[0].kind == tWord && args[0].text == "+" {
		args = args[1:]
	}
	keep := FieldSet{}
	for _, w := range fieldList(args) {
		f.ref(w)
		keep[w] = true
	}
	for n := range f.fields {
		if strings.HasPrefix(n, "_") { // fields keeps internal fields
			keep[n] = true
		}
	}
	f.fields, f.open = keep, false
}

func wildcardRE(p string) *regexp.Regexp {
	return regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, "(.*)") + "$")
}

func (f *flow) rename(args []token) {
	var words []string
	for _, t := range args {
		if t.kind == tWord || t.kind == tField || t.kind == tString {
			words = append(words, t.text)
		}
	}
	for i := 0; i < len(words); i += 3 {
		if i+2 >= len(words) || !strings.EqualFold(words[i+1], "as") {
			f.a.problem("command %d (rename): expected FIELD AS NEW, got %q", f.pos, strings.Join(words[i:], " "))
			return
		}
		from, to := words[i], words[i+2]
		if strings.Contains(from, "*") {
			re := wildcardRE(from)
			matched := false
			for n := range f.fields.clone() {
				if m := re.FindStringSubmatch(n); m != nil {
					matched = true
					nn := to
					for _, part := range m[1:] {
						nn = strings.Replace(nn, "*", part, 1)
					}
					delete(f.fields, n)
					f.fields[nn] = true
				}
			}
			if !matched && !f.open {
				f.a.problem("command %d (rename): %q matches no field", f.pos, from)
			}
			continue
		}
		f.ref(from)
		delete(f.fields, from)
		f.define(to)
	}
}

func (f *flow) lookupCols(name string) ([]string, bool) {
	cols, ok := f.env.Lookups[name]
	if !ok {
		f.a.problem("command %d (%s): lookup %q is not defined in transforms.conf", f.pos, f.cmd, name)
		return nil, false
	}
	f.a.Lookups = appendUniq(f.a.Lookups, name)
	return cols, true
}

func (f *flow) lookup(args []token) {
	words := positional(args)
	if len(words) < 2 {
		f.a.problem("command %d (lookup): expected NAME FIELD ...", f.pos)
		return
	}
	cols, ok := f.lookupCols(words[0])
	have := NewFieldSet(cols...)
	col := func(c string) {
		if ok && !have[c] {
			f.a.problem("command %d (lookup): %q is not a column of lookup %s (%s)", f.pos, c, words[0], strings.Join(cols, ","))
		}
	}
	rest := words[1:]
	i := 0
	var inputs []string
	for i < len(rest) && !strings.EqualFold(rest[i], "output") && !strings.EqualFold(rest[i], "outputnew") {
		c, ev := rest[i], rest[i]
		if i+2 < len(rest) && strings.EqualFold(rest[i+1], "as") {
			ev = rest[i+2]
			i += 3
		} else {
			i++
		}
		col(c)
		f.ref(ev)
		inputs = append(inputs, c)
	}
	if i == len(rest) { // no OUTPUT: every other column
		in := NewFieldSet(inputs...)
		for _, c := range cols {
			if !in[c] {
				f.define(c)
			}
		}
		return
	}
	i++
	for i < len(rest) {
		c, out := rest[i], rest[i]
		if i+2 < len(rest) && strings.EqualFold(rest[i+1], "as") {
			out = rest[i+2]
			i += 3
		} else {
			i++
		}
		col(c)
		f.define(out)
	}
}

func (f *flow) inputlookup(args []token) {
	words := positional(args)
	if len(words) != 1 {
		f.a.problem("command %d (inputlookup): expected one lookup name, got %q", f.pos, render(args))
		return
	}
	cols, ok := f.lookupCols(words[0])
	if !ok {
		f.open = true
		return
	}
	f.a.Sources = appendUniq(f.a.Sources, "lookup:"+words[0])
	for _, c := range cols {
		f.fields[c] = true
	}
}

func (f *flow) outputlookup(args []token) {
	words := positional(args)
	if len(words) != 1 {
		f.a.problem("command %d (outputlookup): expected one lookup name, got %q", f.pos, render(args))
		return
	}
	cols, ok := f.lookupCols(words[0])
	if !ok || f.open {
		return
	}
	want := NewFieldSet(cols...)
	var missing, extra []string
	for _, c := range cols {
		if !f.fields[c] {
			missing = append(missing, c)
		}
	}
	for n := range f.fields {
		if !want[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		f.a.problem("command %d (outputlookup %s): results do not match the lookup's columns: missing %v, extra %v", f.pos, words[0], missing, extra)
	}
}
