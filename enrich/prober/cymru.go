package prober

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// cymru looks up origin ASNs with Team Cymru's DNS service
// (https://www.team-cymru.com/ip-asn-mapping): TXT of
// d.c.b.a.origin.asn.cymru.com, "ASN [ASN...] | prefix | CC | registry | date".
// Answers are cached per /24 (IPv4) or /48 (IPv6), bounded.
type cymru struct {
	mu    sync.Mutex
	cache map[netip.Prefix]uint32 // 0: no origin
}

const maxCymruCache = 65536

func newCymru() *cymru { return &cymru{cache: map[netip.Prefix]uint32{}} }

// CymruName is the TXT question for a.
func CymruName(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.%d.origin.asn.cymru.com", b[3], b[2], b[1], b[0])
	}
	b := a.As16()
	var sb strings.Builder
	for i := 15; i >= 0; i-- {
		fmt.Fprintf(&sb, "%x.%x.", b[i]&0xf, b[i]>>4)
	}
	sb.WriteString("origin6.asn.cymru.com")
	return sb.String()
}

// ParseCymruTXT reads the first origin ASN of a Team Cymru TXT string.
func ParseCymruTXT(s string) (uint32, bool) {
	first, _, _ := strings.Cut(s, "|")
	f := strings.Fields(first)
	if len(f) == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}

func cymruKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 24
	if !a.Is4() {
		bits = 48
	}
	p, _ := a.Prefix(bits)
	return p
}

// lookup returns a's origin ASN, asking through res on a cache miss.
func (c *cymru) lookup(ctx context.Context, p *Prober, res netip.AddrPort, a netip.Addr) uint32 {
	k := cymruKey(a)
	c.mu.Lock()
	n, ok := c.cache[k]
	c.mu.Unlock()
	if ok {
		return n
	}
	r, err := p.ask(ctx, res, CymruName(a), dns.TypeTXT, true)
	if err != nil {
		return 0 // not cached: a later round tries again
	}
	for _, rr := range r.Msg.Answer {
		if t, ok := rr.(*dns.TXT); ok && len(t.Txt) > 0 {
			if v, ok := ParseCymruTXT(strings.Join(t.Txt, "")); ok {
				n = v
				break
			}
		}
	}
	c.mu.Lock()
	if len(c.cache) >= maxCymruCache {
		clear(c.cache)
	}
	c.cache[k] = n
	c.mu.Unlock()
	return n
}
