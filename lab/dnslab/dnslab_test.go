package dnslab

import (
	"context"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestWorldDeterministic(t *testing.T) {
	a, b, c := NewWorld(7), NewWorld(7), NewWorld(8)
	if !reflect.DeepEqual(a.Domains(), b.Domains()) {
		t.Fatal("same seed, different worlds")
	}
	if reflect.DeepEqual(a.Domains(), c.Domains()) {
		t.Fatal("different seeds, same world")
	}
	kinds := map[Kind]int{}
	for _, d := range a.Domains() {
		kinds[d.Kind]++
		switch d.Kind {
		case KindFastFlux, KindDoubleFlux:
			if len(d.Pool) < 200 || len(d.ASNs) < 50 || d.TTL < 60 || d.TTL > 300 || d.PerAnswer < 3 {
				t.Errorf("%s: pool %d in %d ASNs, TTL %d, %d per answer", d.Name, len(d.Pool), len(d.ASNs), d.TTL, d.PerAnswer)
			}
			for _, asn := range d.ASNs {
				if !slices.Contains(ResidentialASNs, asn) {
					t.Errorf("%s: AS%d is not a residential ASN", d.Name, asn)
				}
			}
		case KindCDN:
			if len(d.ASNs) != 1 || d.TTL < 20 || d.TTL > 60 {
				t.Errorf("%s: cdn with ASNs %v TTL %d", d.Name, d.ASNs, d.TTL)
			}
		case KindRoundRobin:
			if len(d.Pool) < 4 || len(d.Pool) > 8 {
				t.Errorf("%s: round robin of %d", d.Name, len(d.Pool))
			}
		case KindStatic:
			if len(d.Pool) != 1 {
				t.Errorf("%s: static of %d", d.Name, len(d.Pool))
			}
		}
		if len(d.ASNs) == 0 {
			t.Errorf("%s: pool addresses unknown to the embedded ASN table", d.Name)
		}
	}
	for _, k := range []Kind{KindFastFlux, KindDoubleFlux, KindCDN, KindRoundRobin, KindStatic} {
		if kinds[k] == 0 {
			t.Errorf("no %s domains", k)
		}
	}
}

func startLab(t *testing.T, seed int64) (*World, *Server) {
	t.Helper()
	w := NewWorld(seed)
	s := New(w, Options{})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return w, s
}

func ask(t *testing.T, s *Server, net, name string, qt uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qt)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	r, _, err := c.Exchange(m, s.Addr().String())
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qt], net, err)
	}
	return r
}

func addrSet(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

func TestServer(t *testing.T) {
	w, s := startLab(t, 1)
	for _, d := range w.Domains() {
		r1 := ask(t, s, "udp", d.Name, dns.TypeA)
		r2 := ask(t, s, "tcp", d.Name, dns.TypeA)
		if !r1.Authoritative || r1.Rcode != dns.RcodeSuccess || len(r1.Answer) != d.PerAnswer {
			t.Errorf("%s: aa=%v rcode=%d answers=%d, want %d", d.Name, r1.Authoritative, r1.Rcode, len(r1.Answer), d.PerAnswer)
			continue
		}
		if ttl := r1.Answer[0].Header().Ttl; ttl != d.TTL {
			t.Errorf("%s: TTL %d, want %d", d.Name, ttl, d.TTL)
		}
		a1, a2 := addrSet(r1), addrSet(r2)
		switch d.Kind {
		case KindFastFlux, KindDoubleFlux, KindCDN:
			// a fresh pick per query: over a few queries the set changes
			changed := false
			for i := 0; i < 5 && !changed; i++ {
				changed = !slices.Equal(a1, addrSet(ask(t, s, "udp", d.Name, dns.TypeA)))
			}
			if !changed {
				t.Errorf("%s (%s): answer never changes", d.Name, d.Kind)
			}
		default:
			if !slices.Equal(a1, a2) {
				t.Errorf("%s (%s): set changed %v -> %v", d.Name, d.Kind, a1, a2)
			}
		}
		ns := ask(t, s, "udp", d.Name, dns.TypeNS)
		if len(ns.Answer) < 2 {
			t.Errorf("%s: %d NS", d.Name, len(ns.Answer))
		}
		host := ns.Answer[0].(*dns.NS).Ns
		a := ask(t, s, "udp", host, dns.TypeA)
		if len(a.Answer) != 1 || !slices.Contains(s.NSAddrs(), netip.MustParseAddr(a.Answer[0].(*dns.A).A.String())) ||
			d.Kind != KindDoubleFlux && a.Answer[0].(*dns.A).A.String() != s.Addr().Addr().String() {
			t.Errorf("%s: NS host %s answers %v (serving %v)", d.Name, host, a.Answer, s.NSAddrs())
		}
		www := ask(t, s, "udp", "www."+d.Name, dns.TypeA)
		if len(www.Answer) != d.PerAnswer+1 || www.Answer[0].Header().Rrtype != dns.TypeCNAME {
			t.Errorf("www.%s: %v", d.Name, www.Answer)
		}
		if r := ask(t, s, "udp", "nope."+d.Name, dns.TypeA); r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
			t.Errorf("nope.%s: rcode %d ns %v", d.Name, r.Rcode, r.Ns)
		}
		if r := ask(t, s, "udp", d.Name, dns.TypeAAAA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
			t.Errorf("%s AAAA: want NODATA, got %v", d.Name, r)
		}
	}
	if r := ask(t, s, "udp", "not-in-the-lab.example", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("outside name: rcode %d", r.Rcode)
	}
}

func TestDoubleFluxNS(t *testing.T) {
	w, s := startLab(t, 3)
	for _, d := range w.Domains() {
		if d.Kind != KindDoubleFlux {
			continue
		}
		seen := map[string]bool{}
		for i := 0; i < 10; i++ {
			for _, rr := range ask(t, s, "udp", d.Name, dns.TypeNS).Answer {
				seen[rr.(*dns.NS).Ns] = true
				if rr.Header().Ttl != d.NSTTL {
					t.Errorf("%s: NS TTL %d want %d", d.Name, rr.Header().Ttl, d.NSTTL)
				}
			}
		}
		if len(seen) < 4 {
			t.Errorf("%s: only %d NS names over 10 queries", d.Name, len(seen))
		}
		// their addresses rotate over every serving loopback address, each
		// of which answers
		addrs := map[string]bool{}
		for i := 0; i < 20; i++ {
			for _, rr := range ask(t, s, "udp", "ns1."+d.Name, dns.TypeA).Answer {
				addrs[rr.(*dns.A).A.String()] = true
			}
		}
		if n := len(s.NSAddrs()); len(addrs) != n {
			t.Errorf("%s: NS addresses %v, want all %d serving", d.Name, addrs, n)
		}
		for a := range addrs {
			c := &dns.Client{Timeout: 2 * time.Second}
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(d.Name), dns.TypeA)
			if r, _, err := c.Exchange(m, netip.AddrPortFrom(netip.MustParseAddr(a), s.Addr().Port()).String()); err != nil || len(r.Answer) == 0 {
				t.Errorf("%s at %s: %v", d.Name, a, err)
			}
		}
	}
}

func TestListenNotLoopback(t *testing.T) {
	for _, l := range []string{"0.0.0.0:0", "192.0.2.1:53", "[::1]:0", "localhost:0"} {
		s := New(NewWorld(1), Options{Listen: l})
		if err := s.Start(t.Context()); err == nil {
			s.Shutdown(context.Background())
			t.Errorf("listen %s accepted", l)
		}
	}
	if err := New(NewWorld(1), Options{}).Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown without start: %v", err)
	}
}

// FuzzAnswer feeds arbitrary datagrams to the lab's query handling: no
// panic, and every reply packs.
func FuzzAnswer(f *testing.F) {
	w := NewWorld(1)
	s := New(w, Options{})
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(w.Domains()[0].Name), dns.TypeA)
	q.SetEdns0(1232, false)
	b, _ := q.Pack()
	f.Add(b)
	for _, n := range []string{"www." + w.Domains()[1].Name, "ns1." + w.Domains()[2].Name, "x.y." + w.Domains()[3].Name} {
		q.SetQuestion(dns.Fqdn(n), dns.TypeA)
		b, _ = q.Pack()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(dns.Msg)
		if req.Unpack(data) != nil {
			return
		}
		m := s.reply(req, true)
		if _, err := m.Pack(); err != nil {
			t.Fatalf("reply does not pack: %v", err)
		}
	})
}
