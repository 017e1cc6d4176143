// Package fastflux classifies a domain from its probe rounds: fast flux,
// CDN, round robin, static, NXDOMAIN or unresolved, with the features and
// reasons behind the verdict. It is pure: no I/O, no clock reads; the
// prober passes observations in (with ASNs already looked up).
//
// Anchors: Holz et al. (NDSS 2008) f = 1.32·n_A + 18.54·n_ASN − 142.38 over
// lookups a TTL apart; FluxBuster (Perdisci et al.) keeps candidates with
// TTL ≤ 3 h, ≥ 3 addresses per answer unless TTL ≤ 30 s, and /16 prefix
// diversity.
package fastflux

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Verdicts.
const (
	VerdictFastFlux   = "fast_flux"
	VerdictCDN        = "cdn"
	VerdictRoundRobin = "round_robin"
	VerdictStatic     = "static"
	VerdictNXDomain   = "nxdomain"
	VerdictUnresolved = "unresolved"
)

// Thresholds of the published methods.
const (
	HolzA         = 1.32
	HolzASN       = 18.54
	HolzBias      = -142.38
	FluxMaxTTL    = 3 * 3600 // FluxBuster: TTL ≤ 3 h
	FluxShortTTL  = 30       // FluxBuster: fewer than 3 addresses allowed when TTL ≤ 30 s
	FluxMinAddrs  = 3
	MinEntropy16  = 1.0 / 3 // FluxBuster: normalised /16 entropy per answer
	CDNMaxASNs    = 3
	CDNMaxTTL     = 3600
	maxSetForCalc = 4096 // bound on distinct addresses a classification keeps
)

// RCodes used in observations besides the DNS ones.
const (
	RCodeNoReply = -1 // no usable reply (timeouts, refused servers, all replies invalid)
)

// Answer is one address of an answer and its AS (0: unknown).
type Answer struct {
	Addr netip.Addr
	ASN  uint32
}

// Observation is one probe round of one domain: the answer the verdict
// uses (the authoritative servers' when they answered, else the
// resolver's).
type Observation struct {
	Time          time.Time
	Round         int // 1-based
	RCode         int // DNS rcode of the answer used; RCodeNoReply when none
	Authoritative bool
	Answers       []Answer // A and AAAA, after following CNAMEs
	CNAMEs        []string // chain followed, in order
	TTLMin        uint32   // over the address records (original TTLs when authoritative)
	TTLMax        uint32
	ResolverTTL   int64 // minimum TTL the resolver returned; -1 unknown
	ResolverAddrs int   // addresses the resolver returned
	// ResolverShared counts the resolver's addresses also in the
	// authoritative answer (a cached answer shares few with a fresh one)
	ResolverShared int
	NS             []string // the zone's NS names this round (lower case, no trailing dot)
	Zone           string
	Servers        []string // servers asked (host:port)
	RTT            time.Duration
	Transport      string // udp or tcp
	ASNKnown       bool   // an IP-to-AS table was available
}

// Features are the measurements a verdict is made from.
type Features struct {
	Rounds        int     `json:"rounds"`
	Probes        int     `json:"probes"` // rounds with a usable reply
	NXDomain      int     `json:"nxdomain_rounds"`
	NA            int     `json:"n_a"`
	NASN          int     `json:"n_asn"`
	NPrefix24     int     `json:"n_prefix24"`
	NPrefix16     int     `json:"n_prefix16"`
	NNS           int     `json:"n_ns"`
	NSChanges     int     `json:"ns_changes"`
	ASNKnown      bool    `json:"asn_known"`
	Authoritative bool    `json:"authoritative"`
	TTLMin        int64   `json:"ttl_min"`
	TTLMax        int64   `json:"ttl_max"`
	TTLMean       float64 `json:"ttl_mean"`
	TTLDistinct   int     `json:"ttl_distinct"`
	MinAnswer     int     `json:"min_answer"`
	MaxAnswer     int     `json:"max_answer"`
	SetChanges    int     `json:"set_changes"` // rounds whose address set differs from the previous one
	Turnover      float64 `json:"turnover"`    // mean share of new addresses per round after the first
	Entropy16     float64 `json:"entropy16"`   // mean normalised entropy of /16 prefixes per answer
	Holz          float64 `json:"holz_score"`
	// ResolverDiffers counts authoritative rounds whose answer differed
	// from the resolver's (cached) one.
	ResolverDiffers int      `json:"resolver_differs"`
	ASNs            []uint32 `json:"asns,omitempty"`
	Addrs           []string `json:"-"`
	NS              []string `json:"-"`
}

// Result is a verdict with its reasons.
type Result struct {
	Verdict    string
	Reasons    []string
	Certain    bool // no further probe can change a fast_flux / not-flux decision
	Score      float64
	Confidence float64
	Features   Features
}

// Extract computes the features of a domain's observations (any order;
// sorted by round).
func Extract(obs []Observation) Features {
	var f Features
	f.Rounds = len(obs)
	f.TTLMin = -1
	obs = slices.Clone(obs)
	slices.SortStableFunc(obs, func(a, b Observation) int { return a.Round - b.Round })
	addrs := map[netip.Addr]struct{}{}
	asns := map[uint32]struct{}{}
	p24 := map[netip.Prefix]struct{}{}
	p16 := map[netip.Prefix]struct{}{}
	nsAll := map[string]struct{}{}
	ttls := map[uint32]struct{}{}
	var prevSet map[netip.Addr]struct{}
	var prevNS []string
	var ttlSum float64
	var ttlN int
	var turnSum float64
	var turnN int
	var entSum float64
	var entN int
	f.MinAnswer = -1
	for _, o := range obs {
		if o.ASNKnown {
			f.ASNKnown = true
		}
		if o.RCode == 3 {
			f.NXDomain++
		}
		if o.RCode != 0 {
			continue
		}
		f.Probes++
		if o.Authoritative {
			f.Authoritative = true
			if o.ResolverAddrs != o.ResolverShared || o.ResolverAddrs != len(o.Answers) {
				f.ResolverDiffers++
			}
		}
		for _, n := range o.NS {
			if len(nsAll) < maxSetForCalc {
				nsAll[n] = struct{}{}
			}
		}
		ns := slices.Clone(o.NS)
		slices.Sort(ns)
		ns = slices.Compact(ns)
		if prevNS != nil && len(ns) > 0 && !slices.Equal(ns, prevNS) {
			f.NSChanges++
		}
		if len(ns) > 0 {
			prevNS = ns
		}
		if len(o.Answers) == 0 {
			continue
		}
		set := make(map[netip.Addr]struct{}, len(o.Answers))
		by16 := map[netip.Prefix]int{}
		for _, a := range o.Answers {
			ad := a.Addr.Unmap()
			if !ad.IsValid() {
				continue
			}
			set[ad] = struct{}{}
			if len(addrs) < maxSetForCalc {
				addrs[ad] = struct{}{}
				if a.ASN != 0 {
					asns[a.ASN] = struct{}{}
				}
				q24, q16 := prefixes(ad)
				p24[q24] = struct{}{}
				p16[q16] = struct{}{}
			}
			_, q16 := prefixes(ad)
			by16[q16]++
		}
		n := len(set)
		if n == 0 {
			continue
		}
		if f.MinAnswer < 0 || n < f.MinAnswer {
			f.MinAnswer = n
		}
		f.MaxAnswer = max(f.MaxAnswer, n)
		if n > 1 {
			var h float64
			for _, c := range by16 {
				p := float64(c) / float64(n)
				h -= p * math.Log(p)
			}
			entSum += h / math.Log(float64(n))
		}
		entN++
		ttlSum += float64(o.TTLMin)
		ttlN++
		ttls[o.TTLMin] = struct{}{}
		ttls[o.TTLMax] = struct{}{}
		if f.TTLMin < 0 || int64(o.TTLMin) < f.TTLMin {
			f.TTLMin = int64(o.TTLMin)
		}
		f.TTLMax = max(f.TTLMax, int64(o.TTLMax), int64(o.TTLMin))
		if prevSet != nil {
			fresh := 0
			for a := range set {
				if _, ok := prevSet[a]; !ok {
					fresh++
				}
			}
			changed := fresh > 0 || len(prevSet) != len(set)
			if changed {
				f.SetChanges++
			}
			turnSum += float64(fresh) / float64(n)
			turnN++
		}
		prevSet = set
	}
	if f.MinAnswer < 0 {
		f.MinAnswer = 0
	}
	f.NA = len(addrs)
	f.NASN = len(asns)
	f.NPrefix24 = len(p24)
	f.NPrefix16 = len(p16)
	f.NNS = len(nsAll)
	f.TTLDistinct = len(ttls)
	if ttlN > 0 {
		f.TTLMean = ttlSum / float64(ttlN)
	}
	if turnN > 0 {
		f.Turnover = turnSum / float64(turnN)
	}
	if entN > 0 {
		f.Entropy16 = entSum / float64(entN)
	}
	nASN := f.NASN
	if !f.ASNKnown {
		nASN = f.NPrefix16 // stand-in without ASN data
	}
	f.Holz = HolzA*float64(f.NA) + HolzASN*float64(nASN) + HolzBias
	f.ASNs = make([]uint32, 0, len(asns))
	for a := range asns {
		f.ASNs = append(f.ASNs, a)
	}
	slices.Sort(f.ASNs)
	f.Addrs = make([]string, 0, len(addrs))
	for a := range addrs {
		f.Addrs = append(f.Addrs, a.String())
	}
	slices.Sort(f.Addrs)
	f.NS = make([]string, 0, len(nsAll))
	for n := range nsAll {
		f.NS = append(f.NS, n)
	}
	slices.Sort(f.NS)
	return f
}

func prefixes(a netip.Addr) (p24, p16 netip.Prefix) {
	if a.Is4() {
		p24, _ = a.Prefix(24)
		p16, _ = a.Prefix(16)
		return
	}
	// IPv6: the /48 and /32 play the parts of /24 and /16.
	p24, _ = a.Prefix(48)
	p16, _ = a.Prefix(32)
	return
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Classify extracts the features and decides.
func Classify(obs []Observation) Result {
	return Decide(Extract(obs))
}

// Decide gives the verdict for features.
func Decide(f Features) Result {
	r := Result{Features: f, Reasons: []string{}}
	probes := plural(f.Probes, "probe", "probes")
	switch {
	case f.Rounds == 0:
		r.Verdict = VerdictUnresolved
		r.Reasons = append(r.Reasons, "not probed")
		return r
	case f.Probes == 0 && f.NXDomain > 0:
		r.Verdict = VerdictNXDomain
		r.Reasons = append(r.Reasons, fmt.Sprintf("NXDOMAIN in %s", plural(f.NXDomain, "round", "rounds")))
		r.Certain = f.NXDomain >= 2
		r.Confidence = 1
		return r
	case f.Probes == 0:
		r.Verdict = VerdictUnresolved
		r.Reasons = append(r.Reasons, fmt.Sprintf("no usable reply in %s", plural(f.Rounds, "round", "rounds")))
		return r
	case f.NA == 0:
		r.Verdict = VerdictUnresolved
		r.Reasons = append(r.Reasons, fmt.Sprintf("no addresses in %s", probes))
		return r
	}
	unit := "ASNs"
	nNet := f.NASN
	if !f.ASNKnown {
		unit = "/16 prefixes"
		nNet = f.NPrefix16
		r.Reasons = append(r.Reasons, "no ASN data: /16 prefixes stand in for ASNs")
	}
	spread := fmt.Sprintf("%s in %d %s over %s", plural(f.NA, "address", "addresses"), nNet, unit, probes)
	ttl := fmt.Sprintf("TTL %d s", f.TTLMin)
	if f.TTLMax != f.TTLMin {
		ttl = fmt.Sprintf("TTL %d-%d s", f.TTLMin, f.TTLMax)
	}
	if f.Authoritative {
		ttl += " (authoritative)"
	}
	changed := f.SetChanges > 0
	ttlOK := f.TTLMax <= FluxMaxTTL
	answersOK := f.MinAnswer >= FluxMinAddrs || f.TTLMin <= FluxShortTTL
	diverse := f.Entropy16 >= MinEntropy16
	r.Score = 1 / (1 + math.Exp(-f.Holz/25))
	holz := fmt.Sprintf("Holz score %.1f", f.Holz)
	if f.Holz > 0 && ttlOK && answersOK && diverse && (changed || f.Probes == 1) {
		r.Verdict = VerdictFastFlux
		r.Reasons = append(r.Reasons, spread, ttl, holz+" > 0")
		if changed {
			r.Reasons = append(r.Reasons, fmt.Sprintf("address set changed in %d of %d rounds", f.SetChanges, f.Probes-1))
		}
		if f.NSChanges > 0 {
			r.Reasons = append(r.Reasons, "NS set changed")
		}
		r.Confidence = math.Min(0.99, 0.55+0.1*float64(f.Probes)+f.Holz/500)
		if !f.ASNKnown {
			r.Confidence *= 0.8
		}
		r.Certain = f.Probes >= 2
		return r
	}
	if !ttlOK {
		r.Certain = true // FluxBuster: TTL above 3 h is never flux
	}
	if changed || f.NA > f.MaxAnswer {
		if nNet <= CDNMaxASNs && f.TTLMin <= CDNMaxTTL {
			r.Verdict = VerdictCDN
			r.Reasons = append(r.Reasons, spread, ttl, "addresses rotate inside "+plural(nNet, strings.TrimSuffix(unit, "s"), unit))
		} else {
			r.Verdict = VerdictRoundRobin
			r.Reasons = append(r.Reasons, spread, ttl)
			switch {
			case !ttlOK:
				r.Reasons = append(r.Reasons, "TTL above FluxBuster's 3 h")
			case !answersOK:
				r.Reasons = append(r.Reasons, fmt.Sprintf("answers of %d addresses with TTL over 30 s", f.MinAnswer))
			case !diverse:
				r.Reasons = append(r.Reasons, fmt.Sprintf("low /16 diversity per answer (%.2f)", f.Entropy16))
			default:
				r.Reasons = append(r.Reasons, holz+" <= 0")
			}
		}
	} else if f.NA == 1 {
		r.Verdict = VerdictStatic
		r.Reasons = append(r.Reasons, fmt.Sprintf("one address over %s", probes), ttl)
	} else {
		r.Verdict = VerdictRoundRobin
		r.Reasons = append(r.Reasons, fmt.Sprintf("the same %d addresses over %s", f.NA, probes), ttl)
	}
	if f.NSChanges > 0 {
		r.Reasons = append(r.Reasons, "NS set changed")
	}
	r.Confidence = math.Min(0.95, 0.4+0.15*float64(f.Probes))
	return r
}
