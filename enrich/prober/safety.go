package prober

import (
	"net/netip"
	"strconv"
	"strings"
)

// refusedSuffixes are never probed: they are not on the public Internet.
var refusedSuffixes = []string{"local", "internal", "home.arpa", "localhost", "localdomain", "lan", "intranet", "corp", "invalid", "onion"}

// nameRefused says why name (canonical: lower case, no trailing dot) must
// not be probed, or "".
func nameRefused(name string, internal []string) string {
	for _, s := range internal {
		if s != "" && (name == s || strings.HasSuffix(name, "."+s)) {
			return "under internal suffix " + s
		}
	}
	for _, s := range refusedSuffixes {
		if name == s || strings.HasSuffix(name, "."+s) {
			return "under ." + s
		}
	}
	if strings.HasSuffix(name, ".in-addr.arpa") || strings.HasSuffix(name, ".ip6.arpa") || name == "in-addr.arpa" || name == "ip6.arpa" {
		if p, ok := reversePrefix(name); !ok || privatePrefix(p) {
			return "private reverse zone"
		}
	}
	return ""
}

// reversePrefix turns a reverse name into the prefix it covers.
func reversePrefix(name string) (netip.Prefix, bool) {
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		labels := strings.Split(rest, ".")
		if len(labels) > 4 {
			return netip.Prefix{}, false
		}
		var b [4]byte
		for i, l := range labels {
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 || n > 255 {
				return netip.Prefix{}, false
			}
			b[len(labels)-1-i] = byte(n)
		}
		return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(labels)), true
	}
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		labels := strings.Split(rest, ".")
		if len(labels) > 32 {
			return netip.Prefix{}, false
		}
		var b [16]byte
		for i := range labels {
			l := labels[len(labels)-1-i]
			n, err := strconv.ParseUint(l, 16, 8)
			if err != nil || len(l) != 1 {
				return netip.Prefix{}, false
			}
			if i%2 == 0 {
				b[i/2] |= byte(n) << 4
			} else {
				b[i/2] |= byte(n)
			}
		}
		return netip.PrefixFrom(netip.AddrFrom16(b), 4*len(labels)), true
	}
	return netip.Prefix{}, false
}

// privatePrefix reports whether p overlaps a non-public range (a short
// prefix such as 10.in-addr.arpa is refused when any part is private).
func privatePrefix(p netip.Prefix) bool {
	for _, q := range nonPublic {
		if q.Addr().Is4() != p.Addr().Is4() {
			continue
		}
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // CGNAT
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/3"), // multicast and reserved, broadcast
	netip.MustParsePrefix("::/127"),      // unspecified, loopback
	netip.MustParsePrefix("fc00::/7"),    // ULA
	netip.MustParsePrefix("fe80::/10"),   // link-local
	netip.MustParsePrefix("ff00::/8"),    // multicast
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// nsAddrRefused reports whether an authoritative server address must not be
// contacted (private, loopback, link-local, CGNAT, multicast, reserved)
// unless allowPrivate (the lab).
func nsAddrRefused(a netip.Addr, allowPrivate bool) bool {
	a = a.Unmap()
	if !a.IsValid() {
		return true
	}
	if allowPrivate {
		return a.IsUnspecified() || a.IsMulticast()
	}
	for _, q := range nonPublic {
		if q.Contains(a) {
			return true
		}
	}
	return false
}
