package dga

import (
	"errors"
	"net/netip"
	"strings"

	"github.com/fluxhunt/fluxhunt/schema"
)

// Reasons for skipped names (constant strings: no allocation).
const (
	reasonEmpty       = "empty"
	reasonIP          = "IP address, not a name"
	reasonSingleLabel = "single label, no public suffix"
	reasonArpa        = "reverse lookup (.arpa)"
	reasonSuffixOnly  = "the name is itself a public suffix"
)

// parsed is a name split the way the scorer needs it; all strings are
// substrings of ascii.
type parsed struct {
	ascii   string
	suffix  string // longest public suffix, private entries included
	icann   string // ICANN public suffix
	private bool
	ddns    bool   // suffix is a dynamic-DNS provider's shared domain
	reg     string // registered(), set by classify
	trap    string // why the name is a benign trap, set by classify
	label   string // siteLabel(), set by classify
}

// siteLabel is the label left of the suffix (set by classify).
func (p parsed) siteLabel() string { return p.label }

// findSiteLabel computes siteLabel.
func (p parsed) findSiteLabel() string {
	if len(p.ascii) <= len(p.suffix) {
		return ""
	}
	rest := p.ascii[:len(p.ascii)-len(p.suffix)-1]
	if i := strings.LastIndexByte(rest, '.'); i >= 0 {
		return rest[i+1:]
	}
	return rest
}

// registered is the ICANN eTLD+1, a substring of ascii ("" when ascii is a
// suffix).
func (p parsed) registered() string {
	if len(p.ascii) <= len(p.icann) {
		return ""
	}
	rest := p.ascii[:len(p.ascii)-len(p.icann)-1]
	i := strings.LastIndexByte(rest, '.')
	return p.ascii[i+1:]
}

// looksIP reports whether s is an IPv4 or IPv6 address (possibly bracketed
// or with a zone); s is trimmed.
func looksIP(s string) bool {
	if s == "" {
		return false
	}
	if strings.IndexByte(s, ':') >= 0 {
		s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		_, err := netip.ParseAddr(s)
		return err == nil
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	_, err := netip.ParseAddr(strings.TrimSuffix(s, "."))
	return err == nil
}

// parseName validates and splits a raw input name. It does not allocate for
// names already in canonical form (lower case ASCII). skip is "" when the
// name is scorable.
func parseName(raw string) (p parsed, skip string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return p, reasonEmpty
	}
	if looksIP(s) {
		return p, reasonIP
	}
	ascii, ok := fastCanonical(s)
	if !ok {
		var err error
		if ascii, err = schema.CanonicalName(s); err != nil {
			return p, invalidReason(err)
		}
	}
	return split(ascii)
}

// fastCanonical accepts, in one pass, the common case the normaliser leaves
// unchanged but for one trailing dot: lower-case letters, digits, '-', '_'
// and '.', no "xn--", RFC lengths. Anything else (ok false) goes through
// schema.CanonicalName, which decides.
func fastCanonical(s string) (string, bool) {
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if s == "" || len(s) > schema.MaxNameLen {
		return "", false
	}
	lbl := 0
	for i := 0; i < len(s); i++ {
		switch canonClass[s[i]] {
		case ccPlain:
			lbl++
		case ccHyphen:
			if i >= 3 && s[i-1] == '-' && s[i-2] == 'n' && s[i-3] == 'x' {
				return "", false // IDN: the normaliser checks it
			}
			lbl++
		case ccDot:
			if lbl == 0 {
				return "", false
			}
			lbl = 0
		default:
			return "", false
		}
		if lbl > schema.MaxLabelLen {
			return "", false
		}
	}
	if lbl == 0 {
		return "", false
	}
	return s, true
}

// Byte classes of fastCanonical.
const (
	ccOther = iota
	ccPlain // a-z, 0-9, '_'
	ccHyphen
	ccDot
)

var canonClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = ccPlain
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = ccPlain
	}
	t['_'], t['-'], t['.'] = ccPlain, ccHyphen, ccDot
	return
}()

// invalidReason turns a normaliser error into a reason; it allocates, but
// only for invalid input.
func invalidReason(err error) string {
	var ne *schema.NameError
	if errors.As(err, &ne) {
		return "invalid: " + ne.Reason
	}
	return "invalid: " + err.Error()
}

// split derives the suffixes of a canonical name; same rules as
// schema.NormalizeName, without allocating.
func split(ascii string) (p parsed, skip string) {
	p.ascii = ascii
	if strings.IndexByte(ascii, '.') < 0 {
		return p, reasonSingleLabel
	}
	if ascii == "arpa" || strings.HasSuffix(ascii, ".arpa") {
		return p, reasonArpa
	}
	p.suffix, p.private, p.icann = suffixes(ascii)
	classify(&p)
	if len(ascii) <= len(p.suffix) {
		return p, reasonSuffixOnly
	}
	return p, ""
}

// suffixes is schema's suffix split over the embedded list.
func suffixes(name string) (suffix string, private bool, icann string) {
	t := embeddedPSLTable()
	return schema.SplitSuffixes(name, func(n string) (string, bool) { return pslPublicSuffix(t, n) })
}

// fromSchema converts an already-normalised name.
func fromSchema(n schema.Name) (p parsed, skip string) {
	if n.ASCII == "" {
		return p, reasonEmpty
	}
	if strings.IndexByte(n.ASCII, '.') < 0 {
		return parsed{ascii: n.ASCII}, reasonSingleLabel
	}
	if n.ASCII == "arpa" || strings.HasSuffix(n.ASCII, ".arpa") {
		return parsed{ascii: n.ASCII}, reasonArpa
	}
	if looksIP(n.ASCII) {
		return parsed{ascii: n.ASCII}, reasonIP
	}
	p = parsed{ascii: n.ASCII, suffix: n.Suffix, icann: n.ICANNSuffix, private: n.Private}
	classify(&p)
	if len(p.ascii) <= len(p.suffix) || !strings.HasSuffix(p.ascii, p.suffix) {
		return p, reasonSuffixOnly
	}
	return p, ""
}
