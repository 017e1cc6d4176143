// Package dnslab is the DNS lab: an authoritative miekg/dns server on
// loopback playing a world of fast-flux, double-flux, CDN, round-robin and
// static domains (NXDOMAIN for the rest), deterministic from a seed.
// Flux pools are drawn from real residential-ISP ranges of 60 ASNs in the
// embedded ASN extract (enrich/asn, CC-BY: DB-IP.com and routeviews.org),
// so the prober's ASN lookups see what they would see in the wild.
package dnslab

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"github.com/fluxhunt/fluxhunt/enrich/asn"
)

// Kind is what a lab domain plays.
type Kind string

const (
	KindFastFlux   Kind = "fast_flux"
	KindDoubleFlux Kind = "double_flux"
	KindCDN        Kind = "cdn"
	KindRoundRobin Kind = "round_robin"
	KindStatic     Kind = "static"
)

// ResidentialASNs are the consumer ISPs flux pools are drawn from (all
// present in the embedded extract).
var ResidentialASNs = []uint32{7922, 20115, 701, 7018, 22773, 3320, 22927, 3209, 3215, 12389, 9121, 45899, 7552, 4134, 4808, 10620, 28573, 9498, 55836, 4766, 9318, 6849, 15895, 31363, 8359, 7303, 3269, 12322, 5410, 5432, 1136, 3301, 2119, 3303, 5089, 2856, 812, 577, 6327, 7474, 4637, 7545, 4771, 25019, 35819, 36903, 33771, 36974, 12741, 5617, 5483, 6799, 8048, 6147, 27925, 23969, 9287, 9534, 24560, 17816}

// CDNASNs are the CDN providers (Akamai, Cloudflare, Fastly); HostingASNs
// the hosting providers of round-robin and static domains.
var (
	CDNASNs     = []uint32{20940, 13335, 54113}
	HostingASNs = []uint32{16509, 15169, 24940, 16276, 14061}
)

// Domain is one lab domain.
type Domain struct {
	Name      string       // lower case, no trailing dot; also its zone apex
	Kind      Kind         //
	TTL       uint32       // of its A records
	NSTTL     uint32       // of its NS records
	PerAnswer int          // addresses per answer
	Pool      []netip.Addr // every address it may answer with
	ASNs      []uint32     // the ASNs of Pool, sorted, distinct
	NSPool    []string     // NS host names it may answer with (rotating for double flux)
	NSPerAns  int
}

// World is the lab's description, deterministic from its seed. It is
// immutable after NewWorld.
type World struct {
	Seed    int64
	domains []Domain
	byName  map[string]int
	table   *asn.Table
}

// Counts of domains per kind.
var kindCounts = []struct {
	kind Kind
	n    int
}{{KindFastFlux, 6}, {KindDoubleFlux, 3}, {KindCDN, 5}, {KindRoundRobin, 5}, {KindStatic, 6}}

// rng is splitmix64: small, deterministic, no global state.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

var syllables = []string{"ka", "lo", "mi", "zu", "ter", "vo", "an", "rix", "sel", "dor", "qua", "nim", "pex", "bo", "ul", "tra", "gen", "fi", "mar", "cel", "op", "sky", "net", "sec", "log", "cloud", "pay", "up", "data", "shop"}

func (r *rng) word(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(syllables[r.intn(len(syllables))])
	}
	return b.String()
}

// NewWorld builds the lab world of a seed.
func NewWorld(seed int64) *World {
	w := &World{Seed: seed, byName: map[string]int{}, table: asn.Embedded()}
	r := &rng{s: uint64(seed)*0x2545f4914f6cdd1d + 1}
	tlds := map[Kind][]string{
		KindFastFlux:   {"biz", "info", "ru", "top", "xyz", "su", "cc"},
		KindDoubleFlux: {"biz", "ru", "top", "su"},
		KindCDN:        {"com", "net"},
		KindRoundRobin: {"com", "org", "net"},
		KindStatic:     {"com", "org", "net", "de"},
	}
	for _, kc := range kindCounts {
		for i := 0; i < kc.n; i++ {
			var name string
			for {
				name = r.word(r.between(2, 4)) + "." + tlds[kc.kind][r.intn(len(tlds[kc.kind]))]
				if _, dup := w.byName[name]; !dup {
					break
				}
			}
			d := Domain{Name: name, Kind: kc.kind, NSTTL: 3600, NSPerAns: 2}
			d.NSPool = []string{"ns1." + name, "ns2." + name}
			switch kc.kind {
			case KindFastFlux, KindDoubleFlux:
				d.TTL = uint32(r.between(60, 300))
				d.PerAnswer = r.between(4, 6)
				d.Pool = w.pool(r, ResidentialASNs, r.between(200, 400))
				if kc.kind == KindDoubleFlux {
					d.NSTTL = uint32(r.between(60, 300))
					d.NSPool = nil
					for k := 0; k < 12; k++ {
						d.NSPool = append(d.NSPool, fmt.Sprintf("ns%d.%s", k+1, name))
					}
				}
			case KindCDN:
				d.TTL = uint32(r.between(20, 60))
				d.PerAnswer = r.between(2, 4)
				d.Pool = w.pool(r, []uint32{CDNASNs[r.intn(len(CDNASNs))]}, r.between(16, 40))
			case KindRoundRobin:
				d.TTL = uint32(r.between(300, 3600))
				d.Pool = w.pool(r, []uint32{HostingASNs[r.intn(len(HostingASNs))]}, r.between(4, 8))
				d.PerAnswer = len(d.Pool)
			case KindStatic:
				d.TTL = uint32(r.between(3600, 86400))
				d.Pool = w.pool(r, []uint32{HostingASNs[r.intn(len(HostingASNs))]}, 1)
				d.PerAnswer = 1
			}
			for _, a := range d.Pool {
				if n, ok := w.table.Lookup(a); ok && !slices.Contains(d.ASNs, n) {
					d.ASNs = append(d.ASNs, n)
				}
			}
			slices.Sort(d.ASNs)
			w.byName[name] = len(w.domains)
			w.domains = append(w.domains, d)
		}
	}
	return w
}

// pool draws n distinct addresses from ranges of the given ASNs.
func (w *World) pool(r *rng, asns []uint32, n int) []netip.Addr {
	seen := map[netip.Addr]bool{}
	out := make([]netip.Addr, 0, n)
	ranges := map[uint32][]asn.Range{}
	for len(out) < n {
		a := asns[r.intn(len(asns))]
		rs, ok := ranges[a]
		if !ok {
			rs = w.table.RangesOf(a)
			ranges[a] = rs
		}
		if len(rs) == 0 {
			panic(fmt.Sprintf("dnslab: AS%d has no ranges in the embedded extract", a))
		}
		rg := rs[r.intn(len(rs))]
		f, l := rg.First.As4(), rg.Last.As4()
		lo := uint32(f[0])<<24 | uint32(f[1])<<16 | uint32(f[2])<<8 | uint32(f[3])
		hi := uint32(l[0])<<24 | uint32(l[1])<<16 | uint32(l[2])<<8 | uint32(l[3])
		x := lo + uint32(r.intn(int(hi-lo)+1))
		if x&0xff == 0 || x&0xff == 0xff {
			continue
		}
		ad := netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
		if !seen[ad] {
			seen[ad] = true
			out = append(out, ad)
		}
	}
	return out
}

// Domains lists the lab domains (a copy), grouped by kind.
func (w *World) Domains() []Domain {
	out := make([]Domain, len(w.domains))
	for i, d := range w.domains {
		d.Pool = slices.Clone(d.Pool)
		d.ASNs = slices.Clone(d.ASNs)
		d.NSPool = slices.Clone(d.NSPool)
		out[i] = d
	}
	return out
}

// Domain returns the lab domain name (its zone) or false.
func (w *World) Domain(name string) (Domain, bool) {
	i, ok := w.byName[strings.TrimSuffix(strings.ToLower(name), ".")]
	if !ok {
		return Domain{}, false
	}
	return w.Domains()[i], true
}

// ASNTable is the IP-to-AS table the lab's pools come from (the embedded
// extract).
func (w *World) ASNTable() *asn.Table { return w.table }

// zoneOf finds the lab domain whose zone holds name (lower case, no
// trailing dot).
func (w *World) zoneOf(name string) (int, bool) {
	for {
		if i, ok := w.byName[name]; ok {
			return i, true
		}
		dot := strings.IndexByte(name, '.')
		if dot < 0 {
			return 0, false
		}
		name = name[dot+1:]
	}
}
