package prober

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/fluxhunt/fluxhunt/detect/fastflux"
)

const (
	maxCNAMEHops  = 8
	maxAuthDepth  = 3
	maxNSAsked    = 4 // NS names resolved per zone
	maxAuthTries  = 2 // authoritative servers tried per question
	maxRoundAddrs = 256
)

// ask waits for the rate limiters, then exchanges one question.
func (p *Prober) ask(ctx context.Context, server netip.AddrPort, name string, qtype uint16, rd bool) (Reply, error) {
	if err := p.limits.wait(ctx, server.Addr(), slices.Contains(p.resolvers, server)); err != nil {
		return Reply{}, err
	}
	return p.t.Exchange(ctx, server, name, qtype, rd)
}

// chase follows the CNAME chain from qname inside m and returns the
// address records of its end, their TTL range, the chain and its end.
func chase(m *dns.Msg, qname string) (addrs []netip.Addr, ttlMin, ttlMax uint32, chain []string, final string) {
	cur := strings.ToLower(dns.Fqdn(qname))
	for hop := 0; hop < maxCNAMEHops; hop++ {
		next := ""
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, cur) {
				next = strings.ToLower(c.Target)
				break
			}
		}
		if next == "" || next == cur || slices.Contains(chain, strings.TrimSuffix(next, ".")) {
			break
		}
		chain = append(chain, strings.TrimSuffix(next, "."))
		cur = next
	}
	first := true
	for _, rr := range m.Answer {
		if !strings.EqualFold(rr.Header().Name, cur) || len(addrs) >= maxRoundAddrs {
			continue
		}
		var a netip.Addr
		switch r := rr.(type) {
		case *dns.A:
			a, _ = netip.AddrFromSlice(r.A.To4())
		case *dns.AAAA:
			a, _ = netip.AddrFromSlice(r.AAAA.To16())
		default:
			continue
		}
		if !a.IsValid() {
			continue
		}
		ttl := rr.Header().Ttl
		if first || ttl < ttlMin {
			ttlMin = ttl
		}
		if first || ttl > ttlMax {
			ttlMax = ttl
		}
		first = false
		addrs = append(addrs, a.Unmap())
	}
	return addrs, ttlMin, ttlMax, chain, strings.TrimSuffix(cur, ".")
}

func nsNames(m *dns.Msg, owner string) []string {
	var out []string
	for _, rr := range m.Answer {
		if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, dns.Fqdn(owner)) {
			n := strings.ToLower(strings.TrimSuffix(ns.Ns, "."))
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

func soaOwner(m *dns.Msg) string {
	for _, rr := range m.Ns {
		if s, ok := rr.(*dns.SOA); ok {
			return strings.ToLower(strings.TrimSuffix(s.Hdr.Name, "."))
		}
	}
	return ""
}

// zoneInfo is what the resolver says of the zone holding a name.
type zoneInfo struct {
	zone string
	ns   []string
	glue map[string][]netip.Addr
}

// findZone asks the resolver for the NS set of name, walking up to the
// zone apex named by the SOA of a negative answer.
func (p *Prober) findZone(ctx context.Context, res netip.AddrPort, name string) (zoneInfo, bool) {
	r, err := p.ask(ctx, res, name, dns.TypeNS, true)
	if err != nil {
		return zoneInfo{}, false
	}
	zi := zoneInfo{zone: name, ns: nsNames(r.Msg, name)}
	if len(zi.ns) == 0 {
		zi.zone = soaOwner(r.Msg)
		if zi.zone == "" || zi.zone == name || !strings.HasSuffix(name, "."+zi.zone) {
			return zoneInfo{}, false
		}
		r, err = p.ask(ctx, res, zi.zone, dns.TypeNS, true)
		if err != nil {
			return zoneInfo{}, false
		}
		zi.ns = nsNames(r.Msg, zi.zone)
	}
	if len(zi.ns) == 0 {
		return zoneInfo{}, false
	}
	zi.glue = map[string][]netip.Addr{}
	for _, rr := range r.Msg.Extra {
		if a, ok := rr.(*dns.A); ok {
			if ad, ok := netip.AddrFromSlice(a.A.To4()); ok {
				n := strings.ToLower(strings.TrimSuffix(a.Hdr.Name, "."))
				zi.glue[n] = append(zi.glue[n], ad)
			}
		}
	}
	return zi, true
}

// authAnswer is what the zone's own servers said.
type authAnswer struct {
	rcode     int
	addrs     []netip.Addr
	ttlMin    uint32
	ttlMax    uint32
	chain     []string
	ns        []string
	zone      string
	servers   []string
	rtt       time.Duration
	transport string
	refusedNS int
	answered  bool
}

// authoritative asks name's zone servers directly (RD=0) for A, AAAA and
// the zone's NS set, following CNAMEs into other zones.
func (p *Prober) authoritative(ctx context.Context, res netip.AddrPort, name string, depth int) authAnswer {
	var out authAnswer
	zi, ok := p.findZone(ctx, res, name)
	if !ok {
		return out
	}
	out.zone = zi.zone
	var servers []netip.AddrPort
	for _, n := range zi.ns[:min(len(zi.ns), maxNSAsked)] {
		addrs := zi.glue[n]
		if len(addrs) == 0 {
			r, err := p.ask(ctx, res, n, dns.TypeA, true)
			if err != nil {
				continue
			}
			addrs, _, _, _, _ = chase(r.Msg, n)
		}
		for _, a := range addrs {
			if nsAddrRefused(a, p.opts.DNS.AllowPrivateNS) {
				out.refusedNS++
				p.refusedNS.Add(1)
				continue
			}
			s := netip.AddrPortFrom(a, uint16(p.opts.DNS.AuthoritativePort))
			if !slices.Contains(servers, s) {
				servers = append(servers, s)
			}
		}
	}
	for _, s := range servers[:min(len(servers), maxAuthTries)] {
		r, err := p.ask(ctx, s, name, dns.TypeA, false)
		out.servers = append(out.servers, s.String())
		if err != nil || !r.Msg.Authoritative || (r.Msg.Rcode != dns.RcodeSuccess && r.Msg.Rcode != dns.RcodeNameError) {
			continue
		}
		out.answered = true
		out.rcode = r.Msg.Rcode
		out.rtt = r.RTT
		out.transport = r.Transport
		var final string
		out.addrs, out.ttlMin, out.ttlMax, out.chain, final = chase(r.Msg, name)
		if r.Msg.Rcode == dns.RcodeSuccess {
			if r6, err := p.ask(ctx, s, name, dns.TypeAAAA, false); err == nil && r6.Msg.Authoritative {
				a6, lo, hi, _, _ := chase(r6.Msg, name)
				if len(a6) > 0 {
					if len(out.addrs) == 0 || lo < out.ttlMin {
						out.ttlMin = lo
					}
					out.ttlMax = max(out.ttlMax, hi)
					out.addrs = append(out.addrs, a6...)
				}
			}
		}
		if rn, err := p.ask(ctx, s, zi.zone, dns.TypeNS, false); err == nil {
			out.ns = nsNames(rn.Msg, zi.zone)
		}
		if len(out.ns) == 0 {
			out.ns = zi.ns
		}
		if len(out.addrs) == 0 && final != name && depth < maxAuthDepth && out.rcode == dns.RcodeSuccess {
			// the chain leaves the zone: ask the target's servers
			next := p.authoritative(ctx, res, final, depth+1)
			if next.answered {
				next.chain = append(out.chain, next.chain...)
				next.servers = append(out.servers, next.servers...)
				next.ns = out.ns
				next.zone = out.zone
				next.refusedNS += out.refusedNS
				return next
			}
		}
		return out
	}
	return out
}

// probeRound runs one round for name: the resolver's answer, then (unless
// resolver-only) the authoritative servers', which the verdict prefers.
func (p *Prober) probeRound(ctx context.Context, name string, round int) fastflux.Observation {
	o := fastflux.Observation{
		Time: p.now(), Round: round, RCode: fastflux.RCodeNoReply, ResolverTTL: -1,
		ASNKnown: p.asnKnown,
	}
	res := p.resolvers[(round-1)%len(p.resolvers)]
	o.Servers = []string{res.String()}
	r, err := p.ask(ctx, res, name, dns.TypeA, true)
	if err != nil {
		return o
	}
	o.RCode = r.Msg.Rcode
	o.RTT = r.RTT
	o.Transport = r.Transport
	addrs, lo, hi, chain, final := chase(r.Msg, name)
	if o.RCode == dns.RcodeSuccess {
		if r6, err := p.ask(ctx, res, name, dns.TypeAAAA, true); err == nil && r6.Msg.Rcode == dns.RcodeSuccess {
			a6, lo6, hi6, _, _ := chase(r6.Msg, name)
			if len(a6) > 0 {
				if len(addrs) == 0 || lo6 < lo {
					lo = lo6
				}
				hi = max(hi, hi6)
				addrs = append(addrs, a6...)
			}
		}
	}
	if len(addrs) > 0 {
		o.ResolverTTL = int64(lo)
	}
	o.TTLMin, o.TTLMax, o.CNAMEs = lo, hi, chain
	if o.RCode != dns.RcodeSuccess && o.RCode != dns.RcodeNameError {
		o.RCode = fastflux.RCodeNoReply // ServFail, Refused: nothing usable
		return o
	}
	if !p.opts.DNS.Authoritative {
		o.Answers = p.withASN(ctx, res, addrs)
		if zi, ok := p.findZone(ctx, res, final); ok {
			o.NS, o.Zone = zi.ns, zi.zone
		}
		return o
	}
	a := p.authoritative(ctx, res, final, 0)
	o.Servers = append(o.Servers, a.servers...)
	o.NS, o.Zone = a.ns, a.zone
	if a.answered {
		o.Authoritative = true
		o.RCode = a.rcode
		o.ResolverAddrs = len(addrs)
		for _, x := range addrs {
			if slices.Contains(a.addrs, x) {
				o.ResolverShared++
			}
		}
		o.Answers, o.TTLMin, o.TTLMax = p.withASN(ctx, res, a.addrs), a.ttlMin, a.ttlMax
		o.CNAMEs = append(chain, a.chain...)
		o.RTT += a.rtt
		if a.transport == "tcp" {
			o.Transport = "tcp"
		}
	} else {
		o.Answers = p.withASN(ctx, res, addrs)
	}
	return o
}

func (p *Prober) withASN(ctx context.Context, res netip.AddrPort, addrs []netip.Addr) []fastflux.Answer {
	out := make([]fastflux.Answer, 0, len(addrs))
	for _, a := range addrs {
		n, ok := p.asn.Lookup(a)
		if !ok && p.cymru != nil {
			n = p.cymru.lookup(ctx, p, res, a)
		}
		out = append(out, fastflux.Answer{Addr: a, ASN: n})
	}
	return out
}
