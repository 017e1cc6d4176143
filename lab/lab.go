// Package lab runs fluxhunt's embedded demo world: a Splunk emulator (search
// and HEC) filled with a seeded enterprise day of DNS and flows, an
// authoritative DNS lab server playing fast-flux, CDN, round-robin and static
// domains, and the real pipeline (the same daemon `fluxhunt run` starts)
// between them. It prints detections as they land in the emulated HEC index,
// then a summary, and stays up until its context ends. It needs nothing from
// ../shared.
package lab

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/daemon"
	"github.com/fluxhunt/fluxhunt/enrich/asn"
	"github.com/fluxhunt/fluxhunt/lab/dnslab"
	"github.com/fluxhunt/fluxhunt/lab/scenario"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
	"github.com/fluxhunt/fluxhunt/schema"
)

// Options configure the lab (the flags of `fluxhunt lab`).
type Options struct {
	SplunkOnly   bool
	DNSOnly      bool
	SearchListen string // default 127.0.0.1:8089
	HECListen    string // default 127.0.0.1:8088
	SearchToken  string // made up when empty
	Username     string // default admin
	Password     string // made up when empty
	HECToken     string // made up when empty
	TLS          bool
	DNSListen    string // default 127.0.0.1:0 (a free port)
	Seed         int64
	Hosts        int    // scenario hosts (default 400)
	StateDir     string // default: a temporary directory, removed at the end
	Version      string
	// Out receives the banner, the detection table and the summary.
	Out io.Writer
	// Logger receives the daemon's log (default: warnings to stderr).
	Logger *slog.Logger
	// Ready, when set, is called once everything listens.
	Ready func(Info)
	// SummaryAfter bounds the wait for the pipeline to go idle before the
	// summary is printed (default 90 s).
	SummaryAfter time.Duration
	// Summary, when set, is called with the summary once it is printed.
	Summary func(Summary)
}

// Info tells where the lab listens.
type Info struct {
	SearchURL, HECURL, DNSAddr string
	SearchToken, HECToken      string
	Username, Password         string
	CertFile                   string
	StateDir                   string
	Day                        *scenario.Day
	World                      *dnslab.World
}

// Summary compares what landed in the emulated index with the scenario's
// ground truth.
type Summary struct {
	Detections     map[string]int // by detection_type (distinct detection_id)
	InfectedHosts  int
	InfectedFound  int
	FluxDomains    int
	FluxFound      int
	ContactHosts   int      // hosts that contacted flux domains
	ContactsFound  int      // of them, with a flux_contact detection
	FalsePositives []string // "type subject" of detections about benign hosts or non-flux domains
	Elapsed        time.Duration
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (o *Options) defaults() {
	if o.SearchListen == "" {
		o.SearchListen = "127.0.0.1:8089"
	}
	if o.HECListen == "" {
		o.HECListen = "127.0.0.1:8088"
	}
	if o.DNSListen == "" {
		o.DNSListen = "127.0.0.1:0"
	}
	if o.Username == "" {
		o.Username = "admin"
	}
	if o.Password == "" {
		o.Password = randHex(8)
	}
	if o.SearchToken == "" {
		o.SearchToken = randHex(16)
	}
	if o.HECToken == "" {
		// HEC tokens are GUIDs.
		h := randHex(16)
		o.HECToken = h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if o.SummaryAfter <= 0 {
		o.SummaryAfter = 90 * time.Second
	}
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("lab: %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("lab: %s is not a loopback address: the lab binds 127.0.0.0/8 only", addr)
	}
	return nil
}

// Env is a running lab world: the DNS lab server, the Splunk emulator
// holding the scenario, and what it took to make them.
type Env struct {
	Info
	Emu      *splunkemu.Server
	DNS      *dnslab.Server
	End      time.Time // the scenario ends here (index times up to it)
	stateDir string
	asnFile  string
	cleanup  []func()
}

// Close stops the servers and removes a temporary state directory.
func (e *Env) Close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
	e.cleanup = nil
}

// Setup starts the DNS lab and the Splunk emulator filled with the
// scenario (as the options say); the pipeline is not started.
func Setup(ctx context.Context, o Options) (env *Env, err error) {
	o.defaults()
	for _, a := range []string{o.SearchListen, o.HECListen, o.DNSListen} {
		if err := checkLoopback(a); err != nil {
			return nil, err
		}
	}
	env = &Env{}
	defer func() {
		if err != nil {
			env.Close()
		}
	}()
	stateDir := o.StateDir
	if stateDir == "" {
		d, err := os.MkdirTemp("", "fluxhunt-lab-")
		if err != nil {
			return nil, fmt.Errorf("lab: state dir: %w", err)
		}
		env.cleanup = append(env.cleanup, func() { os.RemoveAll(d) })
		stateDir = d
	}
	env.stateDir = stateDir
	// The pipeline reads the lab's ASN extract from a file, as a user's
	// asn.db (ip-location-db CSV, gzip).
	env.asnFile = filepath.Join(stateDir, "lab-asn-ipv4.csv.gz")
	if err := os.WriteFile(env.asnFile, asn.EmbeddedCSV(), 0o644); err != nil {
		return nil, fmt.Errorf("lab: asn extract: %w", err)
	}
	env.Info = Info{SearchToken: o.SearchToken, HECToken: o.HECToken, Username: o.Username, Password: o.Password, StateDir: stateDir}
	world := dnslab.NewWorld(o.Seed)
	env.World = world
	if !o.SplunkOnly {
		env.DNS = dnslab.New(world, dnslab.Options{Listen: o.DNSListen, Logger: o.Logger})
		if err := env.DNS.Start(ctx); err != nil {
			return nil, fmt.Errorf("lab: dns: %w", err)
		}
		env.cleanup = append(env.cleanup, func() { env.DNS.Shutdown(context.Background()) })
		env.DNSAddr = env.DNS.Addr().String()
	}
	if o.DNSOnly {
		return env, nil
	}
	// The enterprise day, ending now (index times up to now).
	env.End = time.Now().UTC().Truncate(time.Minute)
	var flux []scenario.FluxDomain
	for _, d := range world.Domains() {
		if d.Kind == dnslab.KindFastFlux || d.Kind == dnslab.KindDoubleFlux {
			flux = append(flux, scenario.FluxDomain{Name: d.Name, Addrs: d.Pool, TTL: int(d.TTL)})
		}
	}
	day, err := scenario.Generate(scenario.Config{Seed: o.Seed, Hosts: o.Hosts, Start: env.End.Add(-24 * time.Hour), Duration: 24 * time.Hour, Flux: flux, Flows: true})
	if err != nil {
		return nil, fmt.Errorf("lab: scenario: %w", err)
	}
	env.Day = day
	eo := splunkemu.Options{SearchListen: o.SearchListen, HECListen: o.HECListen, SearchToken: o.SearchToken, Username: o.Username,
		Password: o.Password, Version: "9.3.1", Logger: o.Logger,
		HECTokens: map[string]splunkemu.HECToken{o.HECToken: {Indexes: []string{"fluxhunt", "main"}, DefaultIndex: "fluxhunt"}}}
	if o.TLS {
		certFile := filepath.Join(stateDir, "lab-cert.pem")
		if o.StateDir == "" {
			certFile = filepath.Join(os.TempDir(), "fluxhunt-lab-cert.pem")
		}
		tc, err := selfSigned(certFile)
		if err != nil {
			return nil, err
		}
		eo.TLS = tc
		env.CertFile = certFile
	}
	env.Emu = splunkemu.New(eo)
	load(env.Emu, day)
	if err := env.Emu.Start(ctx); err != nil {
		return nil, fmt.Errorf("lab: splunk emulator: %w", err)
	}
	env.cleanup = append(env.cleanup, func() { env.Emu.Shutdown(context.Background()) })
	env.SearchURL, env.HECURL = env.Emu.SearchURL(), env.Emu.HECURL()
	return env, nil
}

// Run runs the lab until ctx ends.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	began := time.Now()
	env, err := Setup(ctx, o)
	if err != nil {
		return err
	}
	defer env.Close()
	banner(o.Out, env.Info, o)
	if o.Ready != nil {
		o.Ready(env.Info)
	}
	if o.SplunkOnly || o.DNSOnly {
		<-ctx.Done()
		return nil
	}
	// The real pipeline.
	res, err := config.Load(config.Options{Overrides: env.ConfigOverrides()})
	if err != nil {
		return fmt.Errorf("lab: config: %w", err)
	}
	dmn, err := daemon.New(daemon.Options{Config: &res.Config, Since: env.Day.Config.Start, Logger: o.Logger, Version: o.Version,
		HealthInterval: 15 * time.Second})
	if err != nil {
		return fmt.Errorf("lab: pipeline: %w", err)
	}
	dctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var runErr error
	wg.Add(1)
	go func() { defer wg.Done(); runErr = dmn.Run(dctx) }()

	tbl := &table{w: o.Out, seen: map[string]bool{}}
	tbl.header()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	summarised := false
	idleSince := time.Time{}
	for {
		select {
		case <-ctx.Done():
			stop()
			wg.Wait()
			return runErr
		case <-tick.C:
		}
		tbl.print(env.Emu.Store())
		if summarised {
			continue
		}
		cp, q, a := dmn.Progress()
		if env.Idle(cp, q, a) {
			if idleSince.IsZero() {
				idleSince = time.Now()
			}
		} else {
			idleSince = time.Time{}
		}
		if (!idleSince.IsZero() && time.Since(idleSince) > 3*time.Second) || time.Since(began) > o.SummaryAfter {
			tbl.print(env.Emu.Store())
			s := Summarise(env.Emu.Store(), env.Day, env.World)
			s.Elapsed = time.Since(began)
			printSummary(o.Out, s, env.Info)
			if o.Summary != nil {
				o.Summary(s)
			}
			summarised = true
		}
	}
}

// Idle says whether the pipeline caught up with the scenario: the poll
// checkpoint reached its end and no probe work is left.
func (e *Env) Idle(checkpoint time.Time, probesQueued, probesActive int) bool {
	return !checkpoint.IsZero() && !checkpoint.Before(e.End.Add(-time.Minute)) && probesQueued == 0 && probesActive == 0
}

func load(emu *splunkemu.Server, day *scenario.Day) {
	evs := make([]splunkemu.DNSEvent, 0, len(day.Events))
	for _, e := range day.Events {
		evs = append(evs, splunkemu.DNSEvent{Time: e.Time, IndexTime: e.IndexTime, Src: e.Src, Query: e.Query, RecordType: e.RecordType,
			ReplyCode: e.ReplyCode(), Answer: e.Answers, TTL: int64(e.TTL), Dest: e.Dest})
	}
	emu.AddDNSEvents(evs...)
	fl := make([]splunkemu.FlowEvent, 0, len(day.Flows))
	for _, f := range day.Flows {
		fl = append(fl, splunkemu.FlowEvent{Time: f.Time, IndexTime: f.IndexTime, Src: f.Src, Dest: f.Dest, DestPort: f.DestPort,
			Transport: f.Transport, Bytes: f.Bytes, Packets: f.Packets})
	}
	emu.AddFlowEvents(fl...)
}

// ConfigOverrides is the daemon's configuration for the lab, as config
// keys: through the same loader and validation as a user's file (or, for a
// separate `fluxhunt run`, as FLUXHUNT_ environment variables).
func (e *Env) ConfigOverrides() map[string]string {
	dnsAddr := e.DNS.Addr()
	ov := map[string]string{
		"instance":                      "fluxhunt-lab",
		"splunk.search.url":             e.SearchURL,
		"splunk.search.token":           e.SearchToken,
		"splunk.hec.urls":               e.HECURL,
		"splunk.hec.token":              e.HECToken,
		"splunk.hec.index":              "fluxhunt",
		"splunk.hec.linger":             "200ms",
		"splunk.spool.max_bytes":        "64MiB",
		"splunk.spool.dead_letter_file": filepath.Join(e.stateDir, "dead-letters.jsonl"),
		"poll.interval":                 "2s",
		"poll.lag":                      "1s",
		"poll.max_window":               "1h",
		"dns.resolvers":                 dnsAddr.String(),
		"dns.authoritative_port":        strconv.Itoa(int(dnsAddr.Port())),
		"dns.allow_private_ns":          "true",
		"dns.internal_suffixes":         "corp.example.com",
		"dns.timeout":                   "1s",
		"probe.min_interval":            "1s",
		"probe.fixed_interval":          "2s",
		"probe.rate_total":              "500/s",
		"probe.rate_per_server":         "200/s",
		"state_dir":                     e.stateDir,
		"asn.db":                        e.asnFile,
		"listen":                        "",
		"log.level":                     "warn",
	}
	if e.CertFile != "" {
		ov["splunk.search.ca_file"] = e.CertFile
		ov["splunk.hec.ca_file"] = e.CertFile
	}
	return ov
}

func banner(w io.Writer, info Info, o Options) {
	fmt.Fprintf(w, "fluxhunt lab (seed %d)\n", o.Seed)
	if info.SearchURL != "" {
		fmt.Fprintf(w, "  Splunk REST   %s   token %s   (or %s / %s)\n", info.SearchURL, info.SearchToken, info.Username, info.Password)
		fmt.Fprintf(w, "  Splunk HEC    %s   token %s   index fluxhunt\n", info.HECURL, info.HECToken)
	}
	if info.CertFile != "" {
		fmt.Fprintf(w, "  TLS           self-signed certificate in %s\n", info.CertFile)
	}
	if info.DNSAddr != "" {
		fmt.Fprintf(w, "  DNS lab       %s (udp+tcp), %d domains\n", info.DNSAddr, len(info.World.Domains()))
	}
	if info.Day != nil && info.SearchURL != "" {
		fmt.Fprintf(w, "  scenario      %d hosts, %d DNS events, %d flows over %s .. %s\n", len(info.Day.Truth.Roles), len(info.Day.Events),
			len(info.Day.Flows), info.Day.Config.Start.Format(time.RFC3339), info.Day.Config.Start.Add(info.Day.Config.Duration).Format(time.RFC3339))
		fmt.Fprintf(w, "  try           curl -s -H 'Authorization: Bearer %s' %s/services/search/v2/jobs/export -d search='search index=fluxhunt sourcetype=fluxhunt:detection' -d output_mode=json\n",
			info.SearchToken, info.SearchURL)
	}
	fmt.Fprintln(w)
}

// table prints each (detection_id, revision) once, as it lands.
type table struct {
	w    io.Writer
	seen map[string]bool
	next int // store position read up to
}

func (t *table) header() {
	fmt.Fprintf(t.w, "%-15s %-3s %-15s %-30s %-9s %s\n", "TYPE", "REV", "HOST", "DOMAIN", "SEVERITY", "REASONS")
}

func (t *table) print(st *splunkemu.Store) {
	evs, next := st.From(t.next)
	t.next = next
	for _, e := range evs {
		if e.Sourcetype != schema.SourcetypeDetection {
			continue
		}
		var d schema.Detection
		if json.Unmarshal(e.Raw, &d) != nil {
			continue
		}
		k := d.DetectionID + "/" + strconv.Itoa(d.Revision)
		if t.seen[k] {
			continue
		}
		t.seen[k] = true
		host := d.Src
		if host == "" {
			host = "-"
		}
		dom := d.Domain
		if dom == "" {
			dom = "-"
		}
		dom = clip(dom, 30)
		reasons := clip(strings.Join(d.Reasons, "; "), 90)
		fmt.Fprintf(t.w, "%-15s %-3d %-15s %-30s %-9s %s\n", d.DetectionType, d.Revision, host, dom, d.Severity, reasons)
	}
}

// clip shortens s to at most n runes, marking the cut with "...".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// Summarise compares the detections in the emulator with the ground truth.
func Summarise(st *splunkemu.Store, day *scenario.Day, world *dnslab.World) Summary {
	s := Summary{Detections: map[string]int{}}
	ids := map[string]bool{}
	flagged := map[string]bool{}   // hosts with dga/nxdomain detections
	fluxFound := map[string]bool{} // domains
	contacts := map[string]bool{}  // host|domain
	fluxKinds := map[string]bool{}
	for _, d := range world.Domains() {
		if d.Kind == dnslab.KindFastFlux || d.Kind == dnslab.KindDoubleFlux {
			fluxKinds[d.Name] = true
		}
	}
	for _, e := range st.Select(func(e *splunkemu.Event) bool { return e.Sourcetype == schema.SourcetypeDetection }) {
		var d schema.Detection
		if json.Unmarshal(e.Raw, &d) != nil {
			continue
		}
		if !ids[d.DetectionID] {
			ids[d.DetectionID] = true
			s.Detections[d.DetectionType]++
		}
		switch d.DetectionType {
		case schema.TypeDGA, schema.TypeNXDomainStorm:
			flagged[d.Src] = true
			if _, ok := day.Truth.Infected[d.Src]; !ok {
				s.FalsePositives = append(s.FalsePositives, d.DetectionType+" "+d.Src)
			}
		case schema.TypeFastFlux:
			fluxFound[d.Domain] = true
			if !fluxKinds[d.Domain] {
				s.FalsePositives = append(s.FalsePositives, d.DetectionType+" "+d.Domain)
			}
		case schema.TypeFluxContact:
			contacts[d.Src+"|"+d.Domain] = true
			// A host that talked to a flux domain's infrastructure is a true
			// contact, whichever of the domains sharing an address it is
			// attributed to; a host that contacted none is a false one.
			if _, ok := day.Truth.FluxContacts[d.Src]; !ok || !fluxKinds[d.Domain] {
				s.FalsePositives = append(s.FalsePositives, d.DetectionType+" "+d.Src+" "+d.Domain)
			}
		}
	}
	s.InfectedHosts = len(day.Truth.Infected)
	for h := range day.Truth.Infected {
		if flagged[h] {
			s.InfectedFound++
		}
	}
	s.FluxDomains = len(fluxKinds)
	for d := range fluxKinds {
		if fluxFound[d] {
			s.FluxFound++
		}
	}
	// A contact host is found when it has a flux_contact detection: which of
	// several flux domains sharing an address it is attributed to can depend
	// on whether its own lookup was seen first (the evidence says which).
	contactHosts := map[string]bool{}
	for k := range contacts {
		contactHosts[k[:strings.IndexByte(k, '|')]] = true
	}
	for h := range day.Truth.FluxContacts {
		s.ContactHosts++
		if contactHosts[h] {
			s.ContactsFound++
		}
	}
	sort.Strings(s.FalsePositives)
	s.FalsePositives = compact(s.FalsePositives)
	return s
}

func compact(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func printSummary(w io.Writer, s Summary, info Info) {
	fmt.Fprintf(w, "\nsummary after %s:\n", s.Elapsed.Round(time.Second))
	keys := make([]string, 0, len(s.Detections))
	for k := range s.Detections {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-15s %d\n", k, s.Detections[k])
	}
	fmt.Fprintf(w, "  DGA-infected hosts found   %d of %d\n", s.InfectedFound, s.InfectedHosts)
	fmt.Fprintf(w, "  fast-flux domains found    %d of %d\n", s.FluxFound, s.FluxDomains)
	fmt.Fprintf(w, "  flux-contact hosts found   %d of %d\n", s.ContactsFound, s.ContactHosts)
	fmt.Fprintf(w, "  false positives            %d %s\n", len(s.FalsePositives), strings.Join(s.FalsePositives, ", "))
	fmt.Fprintf(w, "\nThe lab stays up (Ctrl-C to stop). Search it: index=fluxhunt at %s\n", info.SearchURL)
}

// selfSigned makes a certificate for 127.0.0.1 and localhost and writes it
// (PEM) to certFile for clients to trust.
func selfSigned(certFile string) (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab: tls key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "fluxhunt lab"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("lab: tls certificate: %w", err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, pemBytes, 0o644); err != nil {
		return nil, fmt.Errorf("lab: write certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, nil
}
