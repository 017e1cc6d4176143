// Package splunkapp holds the fluxhunt Splunk app (the files beside this one,
// packaged by scripts/package-app.sh) and the Go code that checks it: a parser
// for Splunk .conf files, a small SPL field-flow analyser, and tests that hold
// the app's searches and dashboards to the events the connector writes
// (schema/testdata). Nothing here is used at run time by fluxhunt itself.
package splunkapp

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Conf is one parsed .conf file: stanzas in file order. Keys set before the
// first stanza header belong to the stanza named "default" as in Splunk.
type Conf struct {
	Name    string
	Stanzas []*Stanza
	byName  map[string]*Stanza
}

// Stanza is one [name] section.
type Stanza struct {
	Name string
	Line int // line of the [name] header (0 for the implicit default stanza)
	Keys []string
	vals map[string]Value
}

// Value is one setting with the line where it starts.
type Value struct {
	Text string
	Line int
}

// Stanza returns the stanza called name, or nil.
func (c *Conf) Stanza(name string) *Stanza { return c.byName[name] }

// Get returns the value of key and whether it is set.
func (s *Stanza) Get(key string) (string, bool) {
	v, ok := s.vals[key]
	return v.Text, ok
}

// Value returns the value of key with its line.
func (s *Stanza) Value(key string) (Value, bool) {
	v, ok := s.vals[key]
	return v, ok
}

// ConfError names the file and line of a syntax error.
type ConfError struct {
	File string
	Line int
	Msg  string
}

func (e *ConfError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// maxLine bounds one physical line, as a guard against garbage input.
const maxLine = 1 << 20

// ParseConf reads a Splunk .conf file. Lines starting with # (after blanks)
// are comments; "[name]" opens a stanza; "key = value" sets a key; a line
// ending in a backslash continues on the next line (the backslash and the
// line break are kept as a newline in the value, as Splunk reads multi-line
// searches). It is stricter than Splunk, which silently takes the last of
// duplicates: a repeated stanza or key, a line that is neither, an
// unterminated header or a continuation at end of file is an error naming
// file:line. All errors are collected; parsing keeps going.
func ParseConf(file string, r io.Reader) (*Conf, error) {
	c := &Conf{Name: file, byName: map[string]*Stanza{}}
	var errs []error
	fail := func(line int, format string, a ...any) {
		errs = append(errs, &ConfError{File: file, Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	var cur *Stanza
	open := func(name string, line int) {
		if old, dup := c.byName[name]; dup {
			fail(line, "stanza [%s] repeated (first at line %d)", name, old.Line)
			cur = old
			return
		}
		cur = &Stanza{Name: name, Line: line, vals: map[string]Value{}}
		c.Stanzas = append(c.Stanzas, cur)
		c.byName[name] = cur
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	n := 0
	var pendKey string
	var pendVal strings.Builder
	pendLine := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if pendKey != "" {
			more, cont := strings.CutSuffix(line, "\\")
			pendVal.WriteString("\n")
			pendVal.WriteString(more)
			if cont {
				continue
			}
			setKey(cur, pendKey, strings.TrimSpace(pendVal.String()), pendLine, fail)
			pendKey = ""
			continue
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			continue
		case strings.HasPrefix(t, "["):
			if !strings.HasSuffix(t, "]") || len(t) < 2 {
				fail(n, "stanza header %q has no closing ]", t)
				continue
			}
			open(t[1:len(t)-1], n)
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			fail(n, "expected [stanza], key = value or # comment, got %q", clip(t))
			continue
		}
		if cur == nil {
			open("default", 0)
		}
		val = strings.TrimLeft(val, " \t")
		if more, cont := strings.CutSuffix(val, "\\"); cont {
			pendKey, pendLine = key, n
			pendVal.Reset()
			pendVal.WriteString(more)
			continue
		}
		setKey(cur, key, strings.TrimSpace(val), n, fail)
	}
	if err := sc.Err(); err != nil {
		fail(n+1, "read: %v", err)
	}
	if pendKey != "" {
		fail(pendLine, "key %q continues (trailing \\) past the end of the file", pendKey)
	}
	if len(errs) > 0 {
		return c, joinErrs(errs)
	}
	return c, nil
}

func setKey(s *Stanza, key, val string, line int, fail func(int, string, ...any)) {
	if old, dup := s.vals[key]; dup {
		fail(line, "key %q repeated in [%s] (first at line %d)", key, s.Name, old.Line)
		return
	}
	s.Keys = append(s.Keys, key)
	s.vals[key] = Value{Text: val, Line: line}
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// multiErr joins errors one per line.
type multiErr []error

func (m multiErr) Error() string {
	var b strings.Builder
	for i, e := range m {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func (m multiErr) Unwrap() []error { return m }

func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return multiErr(errs)
}
