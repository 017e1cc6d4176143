package nxdomain

import (
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/fluxhunt/fluxhunt/schema"
)

// Noise says why an NXDOMAIN answer is not evidence of a DGA. The benign
// NXDOMAIN sources of an enterprise are handled by what they have in common
// rather than by name lists: they are single labels (Chrome's intranet
// probes, wpad, isatap, stale host names), names outside the public DNS
// (.local, .lan, .corp, mDNS leaks), reverse and service lookups, lookups
// of mail and reputation data (DNSBL, sender checks: MX, TXT, PTR), or many
// names under ONE registered domain (search-suffix appends, DNSBL zones,
// antivirus hash lookups), which count once, because every NXDOMAIN domain
// is counted by its site (registered domain, or platform customer label).
type Noise int

const (
	NoiseNone        Noise = iota // evidence: a distinct site
	NoiseAllowlisted              // the allowlist names it
	NoiseSingleLabel              // Chrome probes, wpad, isatap, bare host names
	NoiseReverse                  // .arpa
	NoiseLocal                    // .local and other TLDs not in the public DNS
	NoiseService                  // a label starting with '_' (SRV, DKIM, DMARC)
	NoiseInternal                 // under an internal suffix
	NoiseNonAddress               // MX, TXT, PTR, SRV, NS, SOA... lookups
	NoiseSuffixOnly               // the name is a public suffix
	numNoise
)

var noiseNames = [...]string{"none", "allowlisted", "single_label", "reverse", "local_tld", "service", "internal", "non_address", "public_suffix"}

func (n Noise) String() string {
	if n >= 0 && int(n) < len(noiseNames) {
		return noiseNames[n]
	}
	return "unknown"
}

// addressTypes are the record types a bot uses to find its C2.
func addressLookup(rt string) bool {
	switch rt {
	case "A", "AAAA", "ANY", "HTTPS", "SVCB", "CNAME", "", "-", "*":
		return true
	}
	return false
}

// publicTLD reports whether tld is delegated in the public DNS, per the
// Public Suffix List's ICANN section.
func publicTLD(tld string) bool {
	s, icann := publicsuffix.PublicSuffix(tld)
	return icann && s == tld
}

// classify decides whether the NXDOMAIN answer for n is noise.
func (d *Detector) classify(n schema.Name, recordType string) Noise {
	a := n.ASCII
	if d.allow.MatchName(a) {
		return NoiseAllowlisted
	}
	dot := strings.LastIndexByte(a, '.')
	if dot < 0 {
		return NoiseSingleLabel
	}
	tld := a[dot+1:]
	if tld == "arpa" {
		return NoiseReverse
	}
	pub, ok := d.tlds[tld]
	if !ok {
		pub = publicTLD(tld)
		if len(d.tlds) < 4096 {
			d.tlds[tld] = pub
		}
	}
	if !pub {
		return NoiseLocal
	}
	if a[0] == '_' || strings.Contains(a, "._") {
		return NoiseService
	}
	for _, s := range d.cfg.InternalSuffixes {
		if a == s || (len(a) > len(s) && strings.HasSuffix(a, s) && a[len(a)-len(s)-1] == '.') {
			return NoiseInternal
		}
	}
	if !addressLookup(recordType) {
		return NoiseNonAddress
	}
	if n.Site == "" || n.Prefix() == "" {
		return NoiseSuffixOnly
	}
	return NoiseNone
}
