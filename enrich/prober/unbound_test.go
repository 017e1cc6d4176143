package prober

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/fluxhunt/fluxhunt/internal/testenv"
	"github.com/fluxhunt/fluxhunt/lab/dnslab"
)

// startUnbound runs Debian's unbound as a recursive resolver in front of the
// lab: private config, loopback only, no trust anchor, no root hints,
// everything forwarded to the lab server. It returns unbound's address.
func startUnbound(t *testing.T, lab *dnslab.Server) string {
	t.Helper()
	bin := testenv.Command(t, "unbound")
	dir := t.TempDir()
	// a free port: bind UDP and TCP, then release (unbound binds it next)
	var port int
	for try := 0; try < 20; try++ {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		pc.Close()
		if err == nil {
			ln.Close()
			break
		}
	}
	conf := fmt.Sprintf(`server:
	interface: 127.0.0.1
	port: %d
	do-daemonize: no
	username: ""
	chroot: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	do-ip6: no
	do-not-query-localhost: no
	access-control: 0.0.0.0/0 refuse
	access-control: ::/0 refuse
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	qname-minimisation: no
	minimal-responses: no
	so-reuseport: no
	outgoing-range: 64
	num-queries-per-thread: 64
remote-control:
	control-enable: no
forward-zone:
	name: "."
	forward-addr: %s@%d
`, port, dir, filepath.Join(dir, "unbound.pid"), lab.Addr().Addr(), lab.Addr().Port())
	cf := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-d", "-c", cf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start unbound: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("unbound log:\n%s", logs.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	name := dnslab.NewWorld(0).Domains()[0].Name // any name: NXDOMAIN proves the path too
	for deadline := time.Now().Add(10 * time.Second); ; {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		if r, _, err := c.Exchange(m, addr); err == nil && (r.Rcode == dns.RcodeSuccess || r.Rcode == dns.RcodeNameError) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unbound did not answer on %s within 10 s; log:\n%s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr
}

// TestLabThroughUnbound: the acceptance through a real recursive resolver.
// The resolver caches answers for their TTL, so the changing sets and
// original TTLs come from the authoritative step.
func TestLabThroughUnbound(t *testing.T) {
	w, lab := startLab(t, 5)
	addr := startUnbound(t, lab)
	opts := labOptions(addr, int(lab.Addr().Port()))
	col, p := runProber(t, opts, names(w, "missing-zone.biz"))
	checkWorld(t, w, col, true)
	if r := col.final["missing-zone.biz"]; r.Verdict.Verdict != "nxdomain" {
		t.Errorf("missing-zone.biz: %s %q", r.Verdict.Verdict, r.Verdict.Reasons)
	}
	// the resolver's TTLs are the cached, decremented ones; the verdict's
	// are the zone's (checked above); both were recorded
	for _, d := range w.Domains()[:3] {
		r := col.final[d.Name]
		if o := r.Rounds[0]; o.ResolverTTL < 0 || o.ResolverTTL > int64(d.TTL) {
			t.Errorf("%s: resolver TTL %d, zone %d", d.Name, o.ResolverTTL, d.TTL)
		}
	}
	for _, d := range w.Domains() {
		if d.Kind == dnslab.KindFastFlux && col.final[d.Name].Verdict.Features.ResolverDiffers == 0 {
			t.Errorf("%s: the resolver's cached answers never differed from the authoritative ones", d.Name)
		}
	}
	if c := p.Counters(); c.Malformed.Load()+c.StrayID.Load()+c.WrongSource.Load() != 0 {
		t.Errorf("dropped replies through unbound: malformed %d stray %d source %d", c.Malformed.Load(), c.StrayID.Load(), c.WrongSource.Load())
	}
	_ = context.Background
}
