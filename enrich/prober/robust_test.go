package prober

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// evilServer answers on UDP and TCP of one loopback port and misbehaves by
// the first label of the question.
type evilServer struct {
	udp   *net.UDPConn
	spoof *net.UDPConn // 127.0.0.2: replies from the wrong address
	tcp   *dns.Server
	addr  netip.AddrPort
	wg    sync.WaitGroup
}

func answer(q *dns.Msg, n int) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	for i := 0; i < n; i++ {
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(198, 51, 100, byte(i+1))})
	}
	return m
}

func startEvil(t *testing.T) *evilServer {
	t.Helper()
	var e evilServer
	var err error
	for try := 0; ; try++ {
		e.udp, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := e.udp.LocalAddr().(*net.UDPAddr).Port
		ln, lerr := net.Listen("tcp4", e.udp.LocalAddr().String())
		if lerr == nil {
			e.addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
			e.tcp = &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
				w.WriteMsg(answer(q, 3)) // TCP always behaves
			})}
			break
		}
		e.udp.Close()
		if try > 20 {
			t.Fatal(lerr)
		}
	}
	if e.spoof, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}); err != nil {
		t.Fatalf("127.0.0.2: %v", err)
	}
	e.wg.Add(2)
	go func() { defer e.wg.Done(); e.tcp.ActivateAndServe() }()
	go func() { defer e.wg.Done(); e.loop() }()
	t.Cleanup(func() {
		e.udp.Close()
		e.spoof.Close()
		e.tcp.Shutdown()
		e.wg.Wait()
	})
	return &e
}

func (e *evilServer) loop() {
	buf := make([]byte, 4096)
	for {
		n, from, err := e.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(buf[:n]) != nil || len(q.Question) != 1 {
			continue
		}
		label := strings.SplitN(q.Question[0].Name, ".", 2)[0]
		send := func(c *net.UDPConn, m *dns.Msg) {
			b, _ := m.Pack()
			c.WriteToUDPAddrPort(b, from)
		}
		good := answer(q, 3)
		switch label {
		case "stray":
			bad := answer(q, 1)
			bad.Id = q.Id + 1
			send(e.udp, bad)
			send(e.udp, good)
		case "spoof":
			bad := answer(q, 1)
			send(e.spoof, bad)
			time.Sleep(5 * time.Millisecond)
			send(e.udp, good)
		case "garbage":
			e.udp.WriteToUDPAddrPort([]byte{1, 2, 3, 4, 5}, from)
			b, _ := good.Pack()
			e.udp.WriteToUDPAddrPort(append(b[:14:14], 0xff, 0xff, 0xff), from) // right ID, broken body
			send(e.udp, good)
		case "question":
			bad := answer(q, 1)
			bad.Question[0].Name = "other.example."
			send(e.udp, bad)
			send(e.udp, good)
		case "trunc":
			m := new(dns.Msg)
			m.SetReply(q)
			m.Truncated = true
			send(e.udp, m)
		case "big":
			send(e.udp, answer(q, 120)) // over 1232 bytes, no TC bit
		case "silent":
		default:
			send(e.udp, good)
		}
	}
}

func TestRobustReplies(t *testing.T) {
	e := startEvil(t)
	tr, err := NewTransport(2, time.Second, 1) // generous: a loaded CI machine must not add timeouts
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := context.Background()
	cases := []struct {
		label     string
		transport string
	}{
		{"stray", "udp"}, {"spoof", "udp"}, {"garbage", "udp"}, {"question", "udp"},
		{"trunc", "tcp"}, {"big", "tcp"}, {"plain", "udp"},
	}
	for _, c := range cases {
		r, err := tr.Exchange(ctx, e.addr, c.label+".example.biz", dns.TypeA, false)
		if err != nil {
			t.Errorf("%s: %v", c.label, err)
			continue
		}
		if len(r.Msg.Answer) != 3 || r.Transport != c.transport {
			t.Errorf("%s: %d answers over %s, want 3 over %s", c.label, len(r.Msg.Answer), r.Transport, c.transport)
		}
	}
	if _, err := tr.Exchange(ctx, e.addr, "silent.example.biz", dns.TypeA, false); err == nil || !strings.Contains(err.Error(), "no valid reply") {
		t.Errorf("silent: %v", err)
	}
	C := tr.C
	checks := map[string]uint64{
		"stray id": C.StrayID.Load(), "wrong source": C.WrongSource.Load(), "malformed": C.Malformed.Load(),
		"wrong question": C.WrongQuestion.Load(), "truncated": C.Truncated.Load(), "oversized": C.Oversized.Load(),
		"tcp": C.TCP.Load(), "timeouts": C.Timeouts.Load(), "retries": C.Retries.Load(),
	}
	want := map[string]uint64{"stray id": 1, "wrong source": 1, "malformed": 2, "wrong question": 1, "truncated": 1, "oversized": 1, "tcp": 2, "timeouts": 2, "retries": 1}
	for k, w := range want {
		if checks[k] != w {
			t.Errorf("%s counted %d, want %d", k, checks[k], w)
		}
	}
}

// FuzzReply feeds arbitrary datagrams to the reply validator while a query
// is outstanding: no panic, and whatever is delivered answers the question.
func FuzzReply(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("flux.example.biz.", dns.TypeA)
	q.Id = 0x1234
	good, _ := answer(q, 3).Pack()
	f.Add(good)
	tc := answer(q, 0)
	tc.Truncated = true
	b, _ := tc.Pack()
	f.Add(b)
	f.Add([]byte{0x12, 0x34, 0x80})
	f.Add(good[:20])
	server := netip.MustParseAddrPort("127.0.0.1:53")
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := &Transport{C: &Counters{}}
		u := &udpConn{t: tr, pending: map[uint16]*call{}}
		cl := &call{server: server, qname: "flux.example.biz.", qtype: dns.TypeA, ch: make(chan udpResult, 1)}
		u.pending[0x1234] = cl
		u.handle(data, len(data), server)
		select {
		case r := <-cl.ch:
			if r.msg != nil && (!r.msg.Response || !sameQuestion(r.msg, cl)) {
				t.Fatalf("delivered a reply to another question: %v", r.msg.Question)
			}
			if r.msg == nil && !r.fallback {
				t.Fatal("delivered nothing")
			}
			if _, still := u.pending[0x1234]; still {
				t.Fatal("delivered but still pending")
			}
		default:
		}
		// the answer extraction the round uses
		m := new(dns.Msg)
		if m.Unpack(data) == nil {
			addrs, lo, hi, chain, _ := chase(m, "flux.example.biz")
			if len(addrs) > 0 && lo > hi {
				t.Fatalf("ttl range %d > %d", lo, hi)
			}
			if len(chain) > maxCNAMEHops || len(addrs) > maxRoundAddrs {
				t.Fatalf("unbounded: %d hops %d addrs", len(chain), len(addrs))
			}
			nsNames(m, "example.biz")
			soaOwner(m)
		}
	})
}
