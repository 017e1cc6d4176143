package dnslab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// Options configure a lab server.
type Options struct {
	// Listen is the UDP and TCP address, on 127.0.0.0/8; port 0 picks a
	// free port (the same for both). Default 127.0.0.1:0.
	Listen string
	// Logger receives start/stop lines; nil discards.
	Logger *slog.Logger
	// NSAddrs is how many loopback addresses serve (Listen's and the next
	// ones, e.g. 127.0.0.2..4, on the same port): double-flux NS names
	// resolve to a rotating one of them. Default 4; addresses that cannot
	// be bound are skipped (the lab then has fewer). 1: Listen only.
	NSAddrs int
}

// Server is the authoritative lab server.
type Server struct {
	world *World
	opts  Options
	log   *slog.Logger

	mu      sync.Mutex
	pc      *net.UDPConn
	tcp     *dns.Server
	extra   []*net.UDPConn // further loopback addresses, same port
	extraT  []*dns.Server
	nsAddrs []netip.Addr // every serving address, Listen's first
	addr    netip.AddrPort
	done    chan struct{}
	queries atomic.Uint64 // drives rotation: every query gets a fresh pick
	served  atomic.Uint64
}

// New makes a server for world; Start binds it.
func New(world *World, opts Options) *Server {
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.NSAddrs <= 0 {
		opts.NSAddrs = 4
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{world: world, opts: opts, log: log}
}

// Start binds UDP and TCP on the same loopback port and serves until
// Shutdown or ctx ends.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pc != nil {
		return errors.New("dnslab: start: already started")
	}
	ap, err := netip.ParseAddrPort(s.opts.Listen)
	if err != nil {
		return fmt.Errorf("dnslab: start: listen address %q: %w (want 127.x.x.x:port)", s.opts.Listen, err)
	}
	if !ap.Addr().Is4() || !ap.Addr().IsLoopback() {
		return fmt.Errorf("dnslab: start: listen address %s is not in 127.0.0.0/8", ap)
	}
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		pc, err = net.ListenPacket("udp4", ap.String())
		if err != nil {
			return fmt.Errorf("dnslab: start: %w", err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(ap.Addr(), uint16(port)).String())
		if err == nil {
			s.addr = netip.AddrPortFrom(ap.Addr(), uint16(port))
			break
		}
		pc.Close()
		if ap.Port() != 0 || try >= 20 {
			return fmt.Errorf("dnslab: start: tcp: %w", err)
		}
	}
	udp := pc.(*net.UDPConn)
	tcp := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(s.serveDNS)}
	s.pc, s.tcp = udp, tcp
	s.nsAddrs = []netip.Addr{s.addr.Addr()}
	s.extra, s.extraT = nil, nil
	base := s.addr.Addr().As4()
	for i := 1; i < s.opts.NSAddrs && int(base[3])+i < 255; i++ {
		b := base
		b[3] += byte(i)
		a := netip.AddrPortFrom(netip.AddrFrom4(b), s.addr.Port())
		xpc, err := net.ListenPacket("udp4", a.String())
		if err != nil {
			s.log.Debug("dnslab: extra NS address unavailable", "addr", a.String(), "err", err)
			break
		}
		xln, err := net.Listen("tcp4", a.String())
		if err != nil {
			xpc.Close()
			break
		}
		s.extra = append(s.extra, xpc.(*net.UDPConn))
		s.extraT = append(s.extraT, &dns.Server{Listener: xln, Handler: dns.HandlerFunc(s.serveDNS)})
		s.nsAddrs = append(s.nsAddrs, a.Addr())
	}
	s.done = make(chan struct{})
	var wg sync.WaitGroup
	for _, t := range append([]*dns.Server{tcp}, s.extraT...) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := t.ActivateAndServe(); err != nil {
				s.log.Debug("dnslab: tcp serve ended", "err", err)
			}
		}()
	}
	for i := 0; i < max(2, runtime.GOMAXPROCS(0)); i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.serveUDP(udp) }()
	}
	for _, x := range s.extra {
		wg.Add(1)
		go func() { defer wg.Done(); s.serveUDP(x) }()
	}
	go func() { wg.Wait(); close(s.done) }()
	go func() {
		select {
		case <-ctx.Done():
			s.Shutdown(context.Background())
		case <-s.done:
		}
	}()
	s.log.Info("dns lab listening", "addr", s.addr.String(), "domains", len(s.world.domains))
	return nil
}

// Addr is the bound address (valid after Start).
func (s *Server) Addr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// NSAddrs lists every address serving, Listen's first (after Start).
func (s *Server) NSAddrs() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.nsAddrs)
}

// nsAddr is the address an NS host of d resolves to: the main one, or for
// double flux a rotating one of all.
func (s *Server) nsAddr(d *Domain, pick uint64) netip.Addr {
	s.mu.Lock()
	addrs := s.nsAddrs
	s.mu.Unlock()
	if len(addrs) == 0 { // not started (tests of answer alone)
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if d.Kind == KindDoubleFlux {
		return addrs[int(pick%uint64(len(addrs)))]
	}
	return addrs[0]
}

// Served counts the queries answered.
func (s *Server) Served() uint64 { return s.served.Load() }

// Shutdown stops both listeners; safe without Start and more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	pc, tcp, done := s.pc, s.tcp, s.done
	extra, extraT := s.extra, s.extraT
	s.pc, s.tcp, s.extra, s.extraT = nil, nil, nil, nil
	s.mu.Unlock()
	if pc == nil {
		return nil
	}
	var errs []error
	for _, t := range append([]*dns.Server{tcp}, extraT...) {
		if err := t.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range append([]*net.UDPConn{pc}, extra...) {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dnslab: shutdown: %w", err)
	}
	return nil
}

// serveDNS answers over TCP.
func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.served.Add(1)
	_ = w.WriteMsg(s.reply(req, false))
}

// reply is the full answer to req: EDNS echoed, truncated to the client's
// UDP size over UDP.
func (s *Server) reply(req *dns.Msg, udp bool) *dns.Msg {
	m := s.answer(req)
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
		m.SetEdns0(uint16(min(size, 1232)), false)
	}
	if udp {
		m.Truncate(size)
	}
	return m
}

// serveUDP reads and answers datagrams in batches (recvmmsg/sendmmsg):
// the lab must not be the bottleneck of the prober's benchmark.
func (s *Server) serveUDP(pc *net.UDPConn) {
	const batch = 32
	p := ipv4.NewPacketConn(pc)
	in := make([]ipv4.Message, batch)
	out := make([]ipv4.Message, batch)
	bufs := make([][]byte, batch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, 4096)}
		bufs[i] = make([]byte, 0, 4096)
	}
	req := new(dns.Msg)
	for {
		n, err := p.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		k := 0
		for _, msg := range in[:n] {
			*req = dns.Msg{}
			if req.Unpack(msg.Buffers[0][:msg.N]) != nil || req.Response {
				continue // not a query: no answer, as servers do
			}
			b, err := s.reply(req, true).PackBuffer(bufs[k][:cap(bufs[k])])
			if err != nil {
				continue
			}
			out[k].Buffers = [][]byte{b}
			out[k].Addr = msg.Addr
			k++
		}
		s.served.Add(uint64(k))
		for sent := 0; sent < k; {
			m, err := p.WriteBatch(out[sent:k], 0)
			if err != nil {
				break
			}
			sent += m
		}
	}
}

// answer builds the reply to req (nil: drop).
func (s *Server) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery || req.Response {
		m.SetRcodeFormatError(req)
		return m
	}
	m.SetReply(req)
	m.RecursionAvailable = false
	q := req.Question[0]
	if q.Qclass != dns.ClassINET {
		m.Rcode = dns.RcodeRefused
		return m
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	if rest, ok := strings.CutSuffix(name, ".origin.asn.cymru.com"); ok {
		return s.cymru(m, q, rest)
	}
	i, ok := s.world.zoneOf(name)
	if !ok {
		m.Rcode = dns.RcodeNameError
		return m
	}
	m.Authoritative = true
	d := &s.world.domains[i]
	zone := dns.Fqdn(d.Name)
	pick := s.queries.Add(1)
	switch {
	case name == d.Name:
		switch q.Qtype {
		case dns.TypeA:
			m.Answer = s.addrRRs(d, q.Name, pick)
		case dns.TypeNS:
			m.Answer = s.nsRRs(d, q.Name, pick)
		case dns.TypeSOA:
			m.Answer = []dns.RR{soa(d, zone)}
		case dns.TypeANY:
			m.Answer = append(s.addrRRs(d, q.Name, pick), s.nsRRs(d, q.Name, pick)...)
		default:
			m.Ns = []dns.RR{soa(d, zone)}
		}
	case name == "www."+d.Name:
		// a CNAME to the apex, answered in full as an authoritative server
		// of the zone does
		m.Answer = []dns.RR{&dns.CNAME{Hdr: hdr(q.Name, dns.TypeCNAME, d.TTL), Target: zone}}
		if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, s.addrRRs(d, zone, pick)...)
		}
	case isNSHost(d, name):
		if q.Qtype == dns.TypeA {
			ad := s.nsAddr(d, pick)
			a := ad.As4()
			m.Answer = []dns.RR{&dns.A{Hdr: hdr(q.Name, dns.TypeA, d.NSTTL), A: net.IP(a[:])}}
		} else {
			m.Ns = []dns.RR{soa(d, zone)}
		}
	default:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa(d, zone)}
	}
	return m
}

// cymru plays Team Cymru's origin.asn.cymru.com zone from the embedded
// ASN table: "ASN | prefix | CC | registry | date" for reversed IPv4 names.
func (s *Server) cymru(m *dns.Msg, q dns.Question, rev string) *dns.Msg {
	m.Authoritative = true
	parts := strings.Split(rev, ".")
	if len(parts) != 4 {
		m.Rcode = dns.RcodeNameError
		return m
	}
	a, err := netip.ParseAddr(parts[3] + "." + parts[2] + "." + parts[1] + "." + parts[0])
	if err != nil {
		m.Rcode = dns.RcodeNameError
		return m
	}
	n, ok := s.world.table.Lookup(a)
	if !ok {
		m.Rcode = dns.RcodeNameError
		return m
	}
	if q.Qtype == dns.TypeTXT {
		p, _ := a.Prefix(24)
		m.Answer = []dns.RR{&dns.TXT{Hdr: hdr(q.Name, dns.TypeTXT, 14400), Txt: []string{fmt.Sprintf("%d | %s | ZZ | lab | 2026-01-01", n, p)}}}
	}
	return m
}

func isNSHost(d *Domain, name string) bool {
	for _, n := range d.NSPool {
		if n == name {
			return true
		}
	}
	return false
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

func soa(d *Domain, zone string) dns.RR {
	return &dns.SOA{Hdr: hdr(zone, dns.TypeSOA, 300), Ns: dns.Fqdn(d.NSPool[0]), Mbox: "hostmaster." + zone,
		Serial: 2026112601, Refresh: 3600, Retry: 600, Expire: 604800, Minttl: 60}
}

// mix derives a per-query pseudo-random stream from the seed, the domain
// and the query counter.
func (s *Server) mix(d *Domain, pick uint64) *rng {
	h := uint64(s.world.Seed)
	for i := 0; i < len(d.Name); i++ {
		h = (h ^ uint64(d.Name[i])) * 0x100000001b3
	}
	return &rng{s: h ^ pick*0x9e3779b97f4a7c15}
}

func (s *Server) addrRRs(d *Domain, owner string, pick uint64) []dns.RR {
	n := len(d.Pool)
	k := min(d.PerAnswer, n)
	out := make([]dns.RR, 0, k)
	switch d.Kind {
	case KindRoundRobin, KindStatic:
		// the fixed set, rotated
		off := int(pick % uint64(n))
		for j := 0; j < n; j++ {
			a := d.Pool[(off+j)%n].As4()
			out = append(out, &dns.A{Hdr: hdr(owner, dns.TypeA, d.TTL), A: net.IP(a[:])})
		}
	default:
		r := s.mix(d, pick)
		var chosen [8]int
		for len(out) < k {
			j := r.intn(n)
			dup := false
			for _, c := range chosen[:len(out)] {
				dup = dup || c == j
			}
			if dup {
				continue
			}
			chosen[len(out)] = j
			a := d.Pool[j].As4()
			out = append(out, &dns.A{Hdr: hdr(owner, dns.TypeA, d.TTL), A: net.IP(a[:])})
		}
	}
	return out
}

func (s *Server) nsRRs(d *Domain, owner string, pick uint64) []dns.RR {
	names := d.NSPool
	if d.Kind == KindDoubleFlux {
		r := s.mix(d, pick^0x5555)
		i := r.intn(len(names))
		j := (i + 1 + r.intn(len(names)-1)) % len(names)
		names = []string{names[i], names[j]}
	}
	out := make([]dns.RR, 0, len(names))
	for _, n := range names {
		out = append(out, &dns.NS{Hdr: hdr(owner, dns.TypeNS, d.NSTTL), Ns: dns.Fqdn(n)})
	}
	return out
}
