// Package schema holds the types every part of fluxhunt shares: the normalised
// domain name, the DNS and flow rows read from Splunk, and the detection, probe
// and health events written back through HEC. Nothing here does I/O.
package schema

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Limits from RFC 1035.
const (
	MaxNameLen  = 253
	MaxLabelLen = 63
)

// NameError says why a string is not a usable domain name.
type NameError struct {
	Input  string // the offending input, escaped for display
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid domain name %q: %s", e.Input, e.Reason)
}

// ErrInvalidName is matched by errors.Is for every *NameError.
var ErrInvalidName = errors.New("invalid domain name")

func (e *NameError) Is(target error) bool { return target == ErrInvalidName }

// Name is a normalised domain name.
type Name struct {
	// ASCII is the canonical form: lower case, no trailing dot, IDN labels as
	// A-labels (punycode).
	ASCII string
	// Unicode is the display form (U-labels); equal to ASCII for plain names.
	Unicode string
	// Registered is the ICANN registrable domain (eTLD+1 over ICANN suffixes
	// only): d111.cloudfront.net -> cloudfront.net. Empty when the name is
	// itself a public suffix or has no ICANN suffix match beyond the TLD.
	Registered string
	// ICANNSuffix is the ICANN public suffix (e.g. "co.uk", "net").
	ICANNSuffix string
	// Suffix is the longest public suffix over the whole list, private
	// entries included (cloudfront.net, duckdns.org, github.io).
	Suffix string
	// Private is true when Suffix is a private (platform) suffix: the label
	// left of it belongs to a platform customer, not a registrant.
	Private bool
	// Site is Suffix plus one label: the unit a DGA scorer looks at
	// (abc.duckdns.org, example.com).
	Site string
}

// Labels left of the suffix, joined by dots ("www.example" for
// www.example.co.uk). Empty when the name is a suffix.
func (n Name) Prefix() string {
	if len(n.ASCII) <= len(n.Suffix) {
		return ""
	}
	return n.ASCII[:len(n.ASCII)-len(n.Suffix)-1]
}

// SiteLabel is the label immediately left of Suffix ("example" in
// www.example.com, the customer label in x.cloudfront.net).
func (n Name) SiteLabel() string {
	p := n.Prefix()
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// NumLabels counts the labels of the ASCII form.
func (n Name) NumLabels() int {
	if n.ASCII == "" {
		return 0
	}
	return strings.Count(n.ASCII, ".") + 1
}

var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.StrictDomainName(false), // '_' appears in real DNS (SRV, DKIM)
	idna.BidiRule(),
)

// NormalizeName lower-cases, strips one trailing dot, converts IDN to
// punycode, checks RFC length limits and characters, and derives the
// registered domain and suffix forms.
func NormalizeName(s string) (Name, error) {
	ascii, uni, err := canonical(s)
	if err != nil {
		return Name{}, err
	}
	n := Name{ASCII: ascii, Unicode: uni}
	n.Suffix, n.Private, n.ICANNSuffix = suffixes(ascii)
	n.Registered = plusOne(ascii, n.ICANNSuffix)
	n.Site = plusOne(ascii, n.Suffix)
	return n, nil
}

// CanonicalName returns only the ASCII canonical form of s, without the
// public-suffix derivations. It does not allocate for names already in
// canonical form.
func CanonicalName(s string) (string, error) {
	a, _, err := canonical(s)
	return a, err
}

func bad(s, reason string) error {
	return &NameError{Input: EscapeDisplay(s), Reason: reason}
}

func canonical(s string) (ascii, uni string, err error) {
	if !utf8.ValidString(s) {
		return "", "", bad(s, "invalid UTF-8")
	}
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", "", bad(s, "empty")
	}
	needsIDNA := false
	lower := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			needsIDNA = true
		case c >= 'A' && c <= 'Z':
			lower = false
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		case c == '*' && i == 0 && len(s) > 1 && s[1] == '.':
			// wildcard owner names are not queried names
			return "", "", bad(s, "wildcard label")
		default:
			return "", "", bad(s, fmt.Sprintf("invalid character %q at byte %d (want letters, digits, '-', '_' or '.')", c, i))
		}
	}
	if !lower {
		s = strings.ToLower(s)
	}
	if needsIDNA || strings.Contains(s, "xn--") {
		a, err := idnaProfile.ToASCII(s)
		if err != nil {
			return "", "", bad(s, "invalid IDN: "+err.Error())
		}
		u, err := idnaProfile.ToUnicode(a)
		if err != nil {
			return "", "", bad(s, "invalid IDN: "+err.Error())
		}
		// The IDNA mapping (NFKC, non-strict for '_') can turn a code point
		// into a character no DNS name may carry, such as U+00A0 into a
		// space: check the result as strictly as plain ASCII input.
		for i := 0; i < len(a); i++ {
			if c := a[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return "", "", bad(s, fmt.Sprintf("invalid IDN: maps to invalid character %q (want letters, digits, '-', '_' or '.')", c))
			}
		}
		ascii, uni = a, u
	} else {
		ascii, uni = s, s
	}
	if len(ascii) > MaxNameLen {
		return "", "", bad(s, fmt.Sprintf("%d bytes, over the %d-byte limit", len(ascii), MaxNameLen))
	}
	start := 0
	for i := 0; i <= len(ascii); i++ {
		if i == len(ascii) || ascii[i] == '.' {
			l := i - start
			if l == 0 {
				return "", "", bad(s, "empty label")
			}
			if l > MaxLabelLen {
				return "", "", bad(s, fmt.Sprintf("label of %d bytes, over the %d-byte limit", l, MaxLabelLen))
			}
			start = i + 1
		}
	}
	return ascii, uni, nil
}

// suffixes returns the longest public suffix over the whole list, whether it
// is private, and the ICANN suffix.
func suffixes(name string) (suffix string, private bool, icann string) {
	return SplitSuffixes(name, publicsuffix.PublicSuffix)
}

// SplitSuffixes derives, with a public-suffix lookup ps (x/net's
// publicsuffix.PublicSuffix or a copy of the same list), the longest public
// suffix of name over the whole list, whether it is a private (platform)
// suffix, and the ICANN suffix under it.
func SplitSuffixes(name string, ps func(string) (string, bool)) (suffix string, private bool, icann string) {
	suffix, isICANN := ps(name)
	if isICANN {
		return suffix, false, suffix
	}
	// A private suffix (or an unknown TLD, which the list reports as not
	// ICANN with the last label as suffix).
	if strings.IndexByte(suffix, '.') < 0 {
		return suffix, false, suffix
	}
	private = true
	s := suffix
	for {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return suffix, private, s
		}
		s = s[i+1:]
		p, ok := ps(s)
		if ok || strings.IndexByte(p, '.') < 0 {
			return suffix, private, p
		}
		s = p
	}
}

func plusOne(name, suffix string) string {
	if len(name) <= len(suffix) {
		return ""
	}
	// name ends with "." + suffix: the answer is the label before it and
	// the suffix, a substring of name (no allocation).
	rest := name[:len(name)-len(suffix)-1]
	return name[strings.LastIndexByte(rest, '.')+1:]
}

// EscapeDisplay returns s with control bytes (tabs included) and invalid
// UTF-8 escaped as \xNN, safe to print on one line.
func EscapeDisplay(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r < 0x20 || r == 0x7f {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r < 0x20 || r == 0x7f {
			fmt.Fprintf(&b, "\\x%02x", s[i])
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}
