// Package allowlist parses fluxhunt allowlist files: domain suffixes whose
// names are never news, and source hosts (addresses, networks or host names)
// whose DNS behaviour is never news. It does no I/O except in Load.
//
// Format, one entry a line:
//
//	# a comment; blank lines are ignored; " #" starts a trailing comment
//	zen.spamhaus.org          # a bare name is a suffix: it and every name under it
//	suffix avqs.mcafee.com    # the same, explicit
//	host 10.1.2.3             # a source host: an address,
//	host 10.9.0.0/16          #   a network,
//	host mail01.corp.example  #   or a host name as Splunk's src gives it
//	10.1.2.4                  # a bare address or network is a host
package allowlist

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/fluxhunt/fluxhunt/schema"
)

// MaxLineBytes bounds one line of an allowlist file.
const MaxLineBytes = 4096

// LineError names the file and line of a bad entry.
type LineError struct {
	File   string
	Line   int
	Reason string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// List is a parsed allowlist. The zero value and nil allow nothing. A List is
// read-only after Parse, so it may be shared between goroutines.
type List struct {
	suffixes map[string]struct{}
	hosts    map[string]struct{}
	prefixes []netip.Prefix
}

// Load reads and parses the file at path.
func Load(path string) (*List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("allowlist: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads an allowlist. name is used in error messages. Every bad line is
// reported (errors.Join of *LineError) and skipped; the returned List holds
// every good line, also when the error is not nil. A read error ends parsing.
func Parse(r io.Reader, name string) (*List, error) {
	l := &List{suffixes: map[string]struct{}{}, hosts: map[string]struct{}{}}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), MaxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		if err := l.addLine(sc.Text()); err != nil {
			errs = append(errs, &LineError{File: name, Line: n, Reason: err.Error()})
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d bytes", MaxLineBytes)
		}
		errs = append(errs, &LineError{File: name, Line: n + 1, Reason: err.Error()})
	}
	return l, errors.Join(errs...)
}

func (l *List) addLine(s string) error {
	if i := strings.Index(s, "#"); i == 0 || (i > 0 && (s[i-1] == ' ' || s[i-1] == '\t')) {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	f := strings.Fields(s)
	kind := ""
	switch len(f) {
	case 1:
		if _, err := netip.ParseAddr(f[0]); err == nil {
			kind = "host"
		} else if _, err := netip.ParsePrefix(f[0]); err == nil {
			kind = "host"
		} else {
			kind = "suffix"
		}
		f = []string{kind, f[0]}
	case 2:
		kind = strings.ToLower(f[0])
	default:
		return fmt.Errorf("%d words in %q: want NAME, ADDRESS, \"suffix NAME\" or \"host HOST\"", len(f), schema.EscapeDisplay(s))
	}
	v := f[1]
	switch kind {
	case "suffix":
		v = strings.TrimPrefix(strings.TrimPrefix(v, "*"), ".")
		c, err := schema.CanonicalName(v)
		if err != nil {
			return fmt.Errorf("suffix: %v", err)
		}
		l.suffixes[c] = struct{}{}
	case "host":
		if a, err := netip.ParseAddr(v); err == nil {
			l.hosts[a.Unmap().String()] = struct{}{}
			return nil
		}
		if p, err := netip.ParsePrefix(v); err == nil {
			l.prefixes = append(l.prefixes, p.Masked())
			return nil
		}
		c, err := schema.CanonicalName(v)
		if err != nil {
			return fmt.Errorf("host %q is not an address, a network or a host name: %v", schema.EscapeDisplay(v), err)
		}
		l.hosts[c] = struct{}{}
	default:
		return fmt.Errorf("unknown entry kind %q: want \"suffix\" or \"host\"", schema.EscapeDisplay(f[0]))
	}
	return nil
}

// MatchName reports whether the canonical (lower-case ASCII, no trailing dot)
// name is an allowlisted suffix or under one.
func (l *List) MatchName(ascii string) bool {
	if l == nil || len(l.suffixes) == 0 {
		return false
	}
	s := ascii
	for {
		if _, ok := l.suffixes[s]; ok {
			return true
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
}

// MatchHost reports whether the source host (an address or a host name) is
// allowlisted.
func (l *List) MatchHost(src string) bool {
	if l == nil || (len(l.hosts) == 0 && len(l.prefixes) == 0) {
		return false
	}
	if a, err := netip.ParseAddr(src); err == nil {
		a = a.Unmap()
		if _, ok := l.hosts[a.String()]; ok {
			return true
		}
		for _, p := range l.prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	_, ok := l.hosts[strings.TrimSuffix(strings.ToLower(src), ".")]
	return ok
}

// Len gives the number of suffixes and of host entries (addresses, networks
// and names).
func (l *List) Len() (suffixes, hosts int) {
	if l == nil {
		return 0, 0
	}
	return len(l.suffixes), len(l.hosts) + len(l.prefixes)
}
