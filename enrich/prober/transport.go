package prober

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// EDNSSize is the UDP payload size advertised (the DNS flag day 2020 value).
const EDNSSize = 1232

// Errors of an exchange.
var (
	ErrTimeout = errors.New("no valid reply before the timeout")
	ErrClosed  = errors.New("transport closed")
)

// Counters are the transport's cumulative counts.
type Counters struct {
	Sent          atomic.Uint64 // queries written (UDP and TCP)
	Replies       atomic.Uint64 // valid replies delivered
	Timeouts      atomic.Uint64 // attempts that got no valid reply in time
	Retries       atomic.Uint64
	StrayID       atomic.Uint64 // replies whose ID matched no outstanding query
	WrongSource   atomic.Uint64 // replies from an address other than the one asked
	Malformed     atomic.Uint64 // replies that could not be parsed
	WrongQuestion atomic.Uint64 // replies whose question differs from the query's
	Truncated     atomic.Uint64 // TC=1 replies (retried over TCP)
	Oversized     atomic.Uint64 // UDP replies larger than the advertised EDNS size (retried over TCP)
	TCP           atomic.Uint64 // TCP exchanges
	TCPErrors     atomic.Uint64
}

// Reply is a validated answer.
type Reply struct {
	Msg       *dns.Msg
	Server    netip.AddrPort
	RTT       time.Duration
	Transport string // udp | tcp
}

// Transport sends queries over a few long-lived UDP sockets, matching
// replies to queries by ID, source address and question; replies that match
// nothing are dropped and counted. Truncated or oversized replies are
// retried over TCP.
type Transport struct {
	conns   []*udpConn // IPv4
	conns6  []*udpConn // IPv6 (none when the host has no IPv6)
	next    atomic.Uint32
	timeout time.Duration
	retries int
	C       *Counters
	closed  atomic.Bool
	wg      sync.WaitGroup
}

type udpConn struct {
	t       *Transport
	c       *net.UDPConn
	batch   batchReader
	mu      sync.Mutex
	pending map[uint16]*call
}

type call struct {
	server netip.AddrPort
	qname  string
	qtype  uint16
	ch     chan udpResult
}

type udpResult struct {
	msg      *dns.Msg
	fallback bool // truncated or oversized: ask over TCP
}

// batchReader reads several datagrams per system call (recvmmsg).
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

// NewTransport opens sockets UDP sockets per address family (unconnected,
// ephemeral ports, so they reach any server).
func NewTransport(sockets int, timeout time.Duration, retries int) (*Transport, error) {
	if sockets < 1 {
		sockets = 1
	}
	t := &Transport{timeout: timeout, retries: retries, C: &Counters{}}
	for i := 0; i < sockets; i++ {
		c, err := net.ListenUDP("udp4", nil)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("prober: transport: %w", err)
		}
		t.conns = append(t.conns, t.start(c, ipv4.NewPacketConn(c)))
		if c6, err := net.ListenUDP("udp6", nil); err == nil {
			t.conns6 = append(t.conns6, t.start(c6, ipv6.NewPacketConn(c6)))
		}
	}
	return t, nil
}

func (t *Transport) start(c *net.UDPConn, b batchReader) *udpConn {
	_ = c.SetReadBuffer(4 << 20)
	u := &udpConn{t: t, c: c, batch: b, pending: map[uint16]*call{}}
	t.wg.Add(1)
	go u.readLoop()
	return u
}

// Close closes the sockets and waits for the readers.
func (t *Transport) Close() error {
	if t.closed.Swap(true) {
		return nil
	}
	for _, u := range append(slices.Clip(t.conns), t.conns6...) {
		u.c.Close()
	}
	t.wg.Wait()
	return nil
}

// readBatch is the number of datagrams read per system call, readBuf the
// size of each buffer: a reply cut by the kernel is over EDNSSize anyway
// and is retried over TCP.
const (
	readBatch = 16
	readBuf   = 4096
)

func (u *udpConn) readLoop() {
	defer u.t.wg.Done()
	ms := make([]ipv4.Message, readBatch)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, readBuf)}
	}
	for {
		n, err := u.batch.ReadBatch(ms, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || u.t.closed.Load() {
				return
			}
			continue
		}
		for _, m := range ms[:n] {
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			from := ua.AddrPort()
			size := m.N
			if m.Flags&syscall.MSG_TRUNC != 0 {
				size = readBuf + 1
			}
			u.handle(m.Buffers[0][:m.N], size, from)
		}
	}
}

// handle validates one datagram and hands it to its call.
// size is the datagram's size on the wire (more than len(b) when the
// kernel cut it).
func (u *udpConn) handle(b []byte, size int, from netip.AddrPort) {
	c := u.t.C
	if len(b) < 12 {
		c.Malformed.Add(1)
		return
	}
	id := binary.BigEndian.Uint16(b)
	u.mu.Lock()
	cl, ok := u.pending[id]
	u.mu.Unlock()
	if !ok {
		c.StrayID.Add(1)
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if from != cl.server {
		c.WrongSource.Add(1)
		return
	}
	if size > EDNSSize {
		// over what we advertised: do not trust it; ask over TCP
		c.Oversized.Add(1)
		u.deliver(id, cl, udpResult{fallback: true})
		return
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		// A truncated reply may not parse in full; its header still says TC.
		if len(b) >= 12 && b[2]&0x02 != 0 && b[2]&0x80 != 0 {
			c.Truncated.Add(1)
			u.deliver(id, cl, udpResult{fallback: true})
			return
		}
		c.Malformed.Add(1)
		return
	}
	if !m.Response || !sameQuestion(m, cl) {
		c.WrongQuestion.Add(1)
		return
	}
	res := udpResult{msg: m}
	if m.Truncated {
		c.Truncated.Add(1)
		res.fallback = true
	}
	u.deliver(id, cl, res)
}

func (u *udpConn) deliver(id uint16, cl *call, r udpResult) {
	u.mu.Lock()
	if u.pending[id] == cl {
		delete(u.pending, id)
		u.mu.Unlock()
		cl.ch <- r // buffered 1, one delivery per call
		return
	}
	u.mu.Unlock()
}

func sameQuestion(m *dns.Msg, cl *call) bool {
	if len(m.Question) != 1 {
		return false
	}
	q := m.Question[0]
	return q.Qtype == cl.qtype && q.Qclass == dns.ClassINET && strings.EqualFold(q.Name, cl.qname)
}

// register reserves a fresh random ID on u.
func (u *udpConn) register(cl *call) (uint16, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.pending) > 60000 {
		return 0, false
	}
	for {
		id := uint16(rand.Uint32())
		if _, busy := u.pending[id]; !busy {
			u.pending[id] = cl
			return id, true
		}
	}
}

func (u *udpConn) cancel(id uint16, cl *call) {
	u.mu.Lock()
	if u.pending[id] == cl {
		delete(u.pending, id)
	}
	u.mu.Unlock()
}

// Exchange asks server one question (recursion desired when rd), with
// retries on timeout, and TCP when the UDP reply is truncated or oversized.
func (t *Transport) Exchange(ctx context.Context, server netip.AddrPort, name string, qtype uint16, rd bool) (Reply, error) {
	if t.closed.Load() {
		return Reply{}, ErrClosed
	}
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	qname := dns.Fqdn(name)
	q := new(dns.Msg)
	q.SetQuestion(qname, qtype)
	q.RecursionDesired = rd
	q.SetEdns0(EDNSSize, false)
	var lastErr error = ErrTimeout
	for attempt := 0; attempt <= t.retries; attempt++ {
		if attempt > 0 {
			t.C.Retries.Add(1)
		}
		start := time.Now()
		res, err := t.udpOnce(ctx, server, q)
		if err == nil {
			if res.fallback {
				return t.tcp(ctx, server, q)
			}
			t.C.Replies.Add(1)
			return Reply{Msg: res.msg, Server: server, RTT: time.Since(start), Transport: "udp"}, nil
		}
		lastErr = err
		if !errors.Is(err, ErrTimeout) {
			break
		}
	}
	return Reply{}, fmt.Errorf("prober: exchange %s %s with %s: %w", dns.TypeToString[qtype], name, server, lastErr)
}

func (t *Transport) udpOnce(ctx context.Context, server netip.AddrPort, q *dns.Msg) (udpResult, error) {
	conns := t.conns
	if !server.Addr().Is4() {
		conns = t.conns6
		if len(conns) == 0 {
			return udpResult{}, errors.New("no IPv6 socket")
		}
	}
	u := conns[int(t.next.Add(1))%len(conns)]
	cl := &call{server: server, qname: q.Question[0].Name, qtype: q.Question[0].Qtype, ch: make(chan udpResult, 1)}
	id, ok := u.register(cl)
	if !ok {
		return udpResult{}, errors.New("too many outstanding queries")
	}
	q.Id = id
	buf, err := q.Pack()
	if err != nil {
		u.cancel(id, cl)
		return udpResult{}, err
	}
	if _, err := u.c.WriteToUDPAddrPort(buf, server); err != nil {
		u.cancel(id, cl)
		if t.closed.Load() {
			return udpResult{}, ErrClosed
		}
		return udpResult{}, err
	}
	t.C.Sent.Add(1)
	timer := time.NewTimer(t.timeout)
	defer timer.Stop()
	select {
	case r := <-cl.ch:
		return r, nil
	case <-timer.C:
		u.cancel(id, cl)
		t.C.Timeouts.Add(1)
		return udpResult{}, ErrTimeout
	case <-ctx.Done():
		u.cancel(id, cl)
		return udpResult{}, ctx.Err()
	}
}

func (t *Transport) tcp(ctx context.Context, server netip.AddrPort, q *dns.Msg) (Reply, error) {
	t.C.TCP.Add(1)
	t.C.Sent.Add(1)
	c := &dns.Client{Net: "tcp", Timeout: t.timeout}
	q.Id = dns.Id()
	m, rtt, err := c.ExchangeContext(ctx, q, server.String())
	if err == nil && (!m.Response || len(m.Question) != 1 || !strings.EqualFold(m.Question[0].Name, q.Question[0].Name) || m.Question[0].Qtype != q.Question[0].Qtype) {
		t.C.WrongQuestion.Add(1)
		err = errors.New("reply question differs from the query's")
	}
	if err != nil {
		t.C.TCPErrors.Add(1)
		return Reply{}, fmt.Errorf("prober: tcp exchange %s with %s: %w", q.Question[0].Name, server, err)
	}
	t.C.Replies.Add(1)
	return Reply{Msg: m, Server: server, RTT: rtt, Transport: "tcp"}, nil
}
