// Package scenario generates a realistic enterprise day of DNS (and flows)
// from a seed, for tests, benchmarks and the lab: hundreds of hosts with the
// benign NXDOMAIN behaviours an enterprise has (browsers with Chrome's
// intranet probes, search-suffix appends, mail servers' DNSBL and sender
// lookups, antivirus hash lookups, wpad/isatap, stale internal names, SRV,
// .local, .arpa, typos), a few hosts infected with DGA families (loud and
// slow, several sharing a family), and hosts contacting given fast-flux
// domains. Output: the per-query events (with an index time), Zeek dns.log,
// DNS and flow rows as the poll searches return them, and the ground truth.
// It needs nothing outside the binary.
package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"
)

// FluxDomain is a fast-flux domain some hosts contact.
type FluxDomain struct {
	Name  string
	Addrs []netip.Addr // the pool the answers rotate through
	TTL   int          // seconds
}

// Infection puts Hosts hosts on a DGA family.
type Infection struct {
	Family string
	Loud   bool // hundreds of names an hour in bursts; else about ten a day
	Hosts  int
}

// Config of a scenario. The zero value (with a Seed) is a 400-host day.
type Config struct {
	Seed     int64
	Hosts    int           // default 400
	Start    time.Time     // default 2026-11-26T00:00:00Z
	Duration time.Duration // default 24h
	// Suffix is the organisation's DNS search suffix (default
	// corp.example.com).
	Suffix string
	// Browsing is the ordinary lookups of a workstation a day (default 300).
	Browsing int
	// Infections: nil gives DefaultInfections; an empty non-nil slice none.
	Infections []Infection
	Flux       []FluxDomain
	// FluxContacts is how many hosts contact each flux domain (default 2).
	FluxContacts int
	// Flows: generate flow events (contacts with flux addresses are always
	// generated when Flux is set).
	Flows bool
}

// DefaultInfections: 12 infected hosts, five families shared by several
// hosts, loud and slow, one of them (lcg) an arithmetic DGA no model saw.
func DefaultInfections() []Infection {
	return []Infection{
		{Family: "necurs", Loud: true, Hosts: 1}, {Family: "necurs", Hosts: 2},
		{Family: "pykspa", Loud: true, Hosts: 1}, {Family: "pykspa", Hosts: 1},
		{Family: "qadars", Hosts: 2},
		{Family: "banjori", Loud: true, Hosts: 1},
		{Family: LCGFamily, Loud: true, Hosts: 1}, {Family: LCGFamily, Hosts: 2},
		{Family: "murofet", Hosts: 1},
	}
}

// Role of a host.
type Role string

const (
	RoleWorkstation Role = "workstation"
	RoleMail        Role = "mail"
	RoleFileServer  Role = "fileserver" // heavy antivirus hash lookups
	RoleDC          Role = "dc"
	RoleServer      Role = "server"
)

// Event is one DNS query and its answer, as a resolver or Zeek logs it.
type Event struct {
	Time       time.Time
	IndexTime  time.Time
	Src        string
	Dest       string // the resolver
	Query      string
	RecordType string
	RCode      int // 0 NoError, 3 NXDomain, 2 ServFail
	Answers    []string
	TTL        int // -1 when no answer
}

// FlowEvent is one connection.
type FlowEvent struct {
	Time      time.Time
	IndexTime time.Time
	Src       string
	Dest      string
	DestPort  int
	Transport string
	Bytes     int64
	Packets   int64
}

// Truth is what the scenario put in.
type Truth struct {
	Roles    map[string]Role   // every host
	Infected map[string]string // host -> DGA family
	Loud     map[string]bool   // infected hosts running loud
	// Traps: benign hosts by the NXDOMAIN behaviour they show heavily
	// ("dnsbl", "av", "chrome", "search_suffix", "stale", "local", "typo",
	// "wpad"): none of them may be flagged.
	Traps map[string][]string
	// FluxContacts: host -> flux domains it contacted.
	FluxContacts map[string][]string
	// C2: family -> the generated name that resolves today.
	C2 map[string]string
	// Generated: every generated name the bots asked for -> its family.
	Generated map[string]string
}

// Day is a generated scenario.
type Day struct {
	Config Config
	Events []Event     // sorted by time
	Flows  []FlowEvent // sorted by time
	Truth  Truth
}

func (c Config) withDefaults() Config {
	if c.Hosts <= 0 {
		c.Hosts = 400
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	}
	if c.Duration <= 0 {
		c.Duration = 24 * time.Hour
	}
	if c.Suffix == "" {
		c.Suffix = "corp.example.com"
	}
	if c.Browsing <= 0 {
		c.Browsing = 300
	}
	if c.Infections == nil {
		c.Infections = DefaultInfections()
	}
	if c.FluxContacts <= 0 {
		c.FluxContacts = 2
	}
	return c
}

type gen struct {
	cfg      Config
	r        *rand.Rand
	day      *Day
	pop      []string
	resolver []string
	addrs    map[string][]string // benign domain -> its addresses
}

// Generate builds the day. The same Config gives the same Day.
func Generate(cfg Config) (*Day, error) {
	cfg = cfg.withDefaults()
	infected := 0
	for _, in := range cfg.Infections {
		infected += in.Hosts
	}
	if cfg.Hosts < 20+infected+len(cfg.Flux)*cfg.FluxContacts {
		return nil, fmt.Errorf("scenario: %d hosts is too few for %d infected and %d flux contacts (need 20 more)", cfg.Hosts, infected, len(cfg.Flux)*cfg.FluxContacts)
	}
	for _, f := range cfg.Flux {
		if f.Name == "" || len(f.Addrs) == 0 {
			return nil, fmt.Errorf("scenario: flux domain %q needs a name and addresses", f.Name)
		}
	}
	g := &gen{cfg: cfg, r: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)),
		day: &Day{Config: cfg, Truth: Truth{Roles: map[string]Role{}, Infected: map[string]string{}, Loud: map[string]bool{},
			Traps: map[string][]string{}, FluxContacts: map[string][]string{}, C2: map[string]string{}, Generated: map[string]string{}}},
		pop: popular(), resolver: []string{"10.0.0.53", "10.0.0.54"}, addrs: map[string][]string{}}
	hosts := g.assignRoles()
	for _, h := range hosts {
		switch g.day.Truth.Roles[h] {
		case RoleMail:
			g.mail(h)
		case RoleFileServer:
			g.fileServer(h)
		case RoleDC:
			g.dc(h)
		case RoleServer:
			g.server(h)
		default:
			g.workstation(h)
		}
	}
	// infections on workstations, chosen by the seed
	ws := g.workstations(hosts)
	g.r.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
	next := 0
	for _, in := range cfg.Infections {
		list, err := dayList(in.Family, cfg.Start, cfg.Seed)
		if err != nil {
			return nil, err
		}
		if _, ok := g.day.Truth.C2[in.Family]; !ok {
			g.day.Truth.C2[in.Family] = list[40+g.r.IntN(len(list)/2)]
		}
		for i := 0; i < in.Hosts; i++ {
			h := ws[next]
			next++
			g.day.Truth.Infected[h] = in.Family
			if in.Loud {
				g.day.Truth.Loud[h] = true
			}
			g.infect(h, in.Family, list, g.day.Truth.C2[in.Family], in.Loud)
		}
	}
	for _, f := range cfg.Flux {
		for i := 0; i < cfg.FluxContacts; i++ {
			h := ws[next]
			next++
			g.day.Truth.FluxContacts[h] = append(g.day.Truth.FluxContacts[h], f.Name)
			g.flux(h, f)
		}
	}
	sort.SliceStable(g.day.Events, func(i, j int) bool { return g.day.Events[i].Time.Before(g.day.Events[j].Time) })
	sort.SliceStable(g.day.Flows, func(i, j int) bool { return g.day.Flows[i].Time.Before(g.day.Flows[j].Time) })
	return g.day, nil
}

func (g *gen) assignRoles() []string {
	var hosts []string
	n := g.cfg.Hosts
	roles := []struct {
		r Role
		n int
	}{{RoleMail, 4}, {RoleFileServer, 3}, {RoleDC, 2}, {RoleServer, max(4, n/40)}}
	i := 0
	for _, rr := range roles {
		for k := 0; k < rr.n; k++ {
			h := fmt.Sprintf("10.0.1.%d", 10+i)
			i++
			hosts = append(hosts, h)
			g.day.Truth.Roles[h] = rr.r
		}
	}
	for k := 0; len(hosts) < n; k++ {
		h := fmt.Sprintf("10.%d.%d.%d", 10+k/60000, (k/250)%240, 10+k%240)
		hosts = append(hosts, h)
		g.day.Truth.Roles[h] = RoleWorkstation
	}
	return hosts
}

func (g *gen) workstations(hosts []string) []string {
	var ws []string
	for _, h := range hosts {
		if g.day.Truth.Roles[h] == RoleWorkstation && len(g.day.Truth.Traps[h]) == 0 {
			ws = append(ws, h)
		}
	}
	// hosts with traps too, after the plain ones, if needed
	for _, h := range hosts {
		if g.day.Truth.Roles[h] == RoleWorkstation && len(g.day.Truth.Traps[h]) > 0 {
			ws = append(ws, h)
		}
	}
	return ws
}

func (g *gen) trap(h, kind string) {
	if !slices.Contains(g.day.Truth.Traps[h], kind) {
		g.day.Truth.Traps[h] = append(g.day.Truth.Traps[h], kind)
	}
}

// at gives a time in the day, weighted to working hours for people.
func (g *gen) at(work bool) time.Time {
	d := g.cfg.Duration
	if work && g.r.Float64() < 0.85 {
		// 08:00-18:00 of the day, when the day covers it
		off := 8*time.Hour + time.Duration(g.r.Int64N(int64(10*time.Hour)))
		if off < d {
			return g.cfg.Start.Add(off)
		}
	}
	return g.cfg.Start.Add(time.Duration(g.r.Int64N(int64(d))))
}

func (g *gen) inDay(t time.Time) bool {
	return !t.Before(g.cfg.Start) && t.Before(g.cfg.Start.Add(g.cfg.Duration))
}

// emit adds one query event; the index time lags by seconds, a few by
// hours.
func (g *gen) emit(t time.Time, src, q, rt string, rcode int, answers []string, ttl int) {
	if !g.inDay(t) {
		return
	}
	lag := time.Duration(1+g.r.IntN(20)) * time.Second
	if g.r.IntN(500) == 0 {
		lag = time.Duration(5+g.r.IntN(180)) * time.Minute
	}
	if rcode != 0 {
		answers, ttl = nil, -1
	}
	g.day.Events = append(g.day.Events, Event{Time: t, IndexTime: t.Add(lag), Src: src, Dest: g.resolver[g.r.IntN(2)],
		Query: q, RecordType: rt, RCode: rcode, Answers: answers, TTL: ttl})
}

func (g *gen) flow(t time.Time, src, dest string, port int, bytes int64) {
	if !g.inDay(t) {
		return
	}
	pk := max(1, bytes/900)
	g.day.Flows = append(g.day.Flows, FlowEvent{Time: t, IndexTime: t.Add(time.Duration(1+g.r.IntN(30)) * time.Second),
		Src: src, Dest: dest, DestPort: port, Transport: "tcp", Bytes: bytes, Packets: pk})
}

// addrOf gives a benign domain's addresses, stable within the scenario.
func (g *gen) addrOf(name string) []string {
	if a, ok := g.addrs[name]; ok {
		return a
	}
	h := hashString(name)
	bases := [][2]byte{{93, 184}, {142, 250}, {151, 101}, {104, 16}, {13, 107}, {23, 45}, {52, 84}, {185, 199}}
	b := bases[h%uint64(len(bases))]
	n := 1 + int(h>>8)%4
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], byte(h>>(16+i*8)), 1+byte(h>>(20+i*5))%254)
	}
	g.addrs[name] = out
	return out
}

func (g *gen) randLetters(lo, hi int) string {
	n := lo + g.r.IntN(hi-lo+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.r.IntN(26))
	}
	return string(b)
}

func (g *gen) hex(n int) string {
	const h = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = h[g.r.IntN(16)]
	}
	return string(b)
}

// resolveOK emits a successful lookup (and maybe a flow).
func (g *gen) resolveOK(t time.Time, src, name string, flows bool) {
	rt := "A"
	switch x := g.r.IntN(10); {
	case x < 2:
		rt = "AAAA"
	case x < 3:
		rt = "HTTPS"
	}
	ans := g.addrOf(name)
	ttl := []int{60, 300, 300, 3600, 20, 86400}[g.r.IntN(6)]
	if rt == "AAAA" || rt == "HTTPS" {
		if g.r.IntN(2) == 0 {
			g.emit(t, src, name, rt, 0, nil, -1) // NODATA
			return
		}
		if rt == "AAAA" {
			ans = []string{fmt.Sprintf("2606:2800:%x::%x", hashString(name)&0xffff, g.r.IntN(255)+1)}
		} else {
			ans = []string{"1 . alpn=h2,h3"}
		}
	}
	g.emit(t, src, name, rt, 0, ans, ttl)
	if flows && g.cfg.Flows && rt == "A" && g.r.IntN(3) == 0 {
		g.flow(t.Add(time.Duration(g.r.IntN(900))*time.Millisecond), src, ans[0], 443, int64(2000+g.r.IntN(500000)))
	}
}

func (g *gen) typo(name string) string {
	lbl, rest, _ := strings.Cut(name, ".")
	if len(lbl) < 4 {
		return "w" + name
	}
	i := 1 + g.r.IntN(len(lbl)-2)
	switch g.r.IntN(3) {
	case 0: // drop a letter
		lbl = lbl[:i] + lbl[i+1:]
	case 1: // double a letter
		lbl = lbl[:i] + lbl[i:i+1] + lbl[i:]
	default: // swap two
		b := []byte(lbl)
		b[i], b[i+1] = b[i+1], b[i]
		lbl = string(b)
	}
	if lbl+"."+rest == name {
		lbl += "s"
	}
	return lbl + "." + rest
}

func (g *gen) workstation(h string) {
	sfx := g.cfg.Suffix
	// ordinary browsing: a personal favourite set plus the long tail
	fav := make([]string, 20)
	for i := range fav {
		fav[i] = g.pop[int(math.Min(float64(len(g.pop)-1), math.Abs(g.r.NormFloat64())*60))]
	}
	for i := 0; i < g.cfg.Browsing; i++ {
		name := fav[g.r.IntN(len(fav))]
		if g.r.IntN(3) == 0 {
			name = g.pop[g.r.IntN(len(g.pop))]
		}
		if g.r.IntN(2) == 0 {
			name = []string{"www.", "api.", "cdn.", "static.", "login."}[g.r.IntN(5)] + name
		}
		g.resolveOK(g.at(true), h, name, true)
	}
	// internal services that work
	for i := 0; i < 20; i++ {
		t := g.at(true)
		name := []string{"intranet", "mail", "fs01", "print01", "vpn", "wiki"}[g.r.IntN(6)] + "." + sfx
		g.emit(t, h, name, "A", 0, []string{fmt.Sprintf("10.0.2.%d", 1+g.r.IntN(50))}, 3600)
	}
	g.emit(g.at(true), h, "_ldap._tcp.dc._msdcs."+sfx, "SRV", 0, []string{"0 100 389 dc01." + sfx}, 600)
	g.emit(g.at(true), h, "_kerberos._tcp.default-first-site-name._sites.dc._msdcs."+sfx, "SRV", 0, []string{"0 100 88 dc01." + sfx}, 600)
	if g.r.IntN(4) == 0 {
		g.emit(g.at(true), h, "_vlmcs._tcp."+sfx, "SRV", 3, nil, -1)
	}
	// Chrome at each start: three random single labels of 7-15 letters,
	// and the same with the search suffix appended
	starts := 1 + g.r.IntN(3)
	if g.r.IntN(10) == 0 {
		starts = 6 + g.r.IntN(6) // someone who restarts a lot
		g.trap(h, "chrome")
	}
	for s := 0; s < starts; s++ {
		t := g.at(true)
		for k := 0; k < 3; k++ {
			p := g.randLetters(7, 15)
			g.emit(t.Add(time.Duration(k*50)*time.Millisecond), h, p, "A", 3, nil, -1)
			g.emit(t.Add(time.Duration(k*50+10)*time.Millisecond), h, p+"."+sfx, "A", 3, nil, -1)
		}
	}
	// wpad / isatap, bare and with the suffix
	for k := 0; k < 2+g.r.IntN(6); k++ {
		t := g.at(false)
		w := []string{"wpad", "isatap"}[g.r.IntN(2)]
		g.emit(t, h, w, "A", 3, nil, -1)
		g.emit(t.Add(5*time.Millisecond), h, w+"."+sfx, "A", 3, nil, -1)
	}
	// search-suffix appends of names that then resolve
	appends := g.r.IntN(5)
	if g.r.IntN(8) == 0 {
		appends = 40 + g.r.IntN(80)
		g.trap(h, "search_suffix")
	}
	for k := 0; k < appends; k++ {
		t := g.at(true)
		name := g.pop[g.r.IntN(len(g.pop))]
		g.emit(t, h, name+"."+sfx, "A", 3, nil, -1)
		g.emit(t, h, "www."+name+"."+sfx, "AAAA", 3, nil, -1)
		g.resolveOK(t.Add(20*time.Millisecond), h, name, false)
	}
	// stale internal names
	if g.r.IntN(5) == 0 {
		g.trap(h, "stale")
		stale := []string{"oldfs01", "sharepoint2010", "printsrv-old", "exch2013", "sccm01", "nas-legacy", "jira-old"}
		for k := 0; k < 10+g.r.IntN(60); k++ {
			g.emit(g.at(false), h, stale[g.r.IntN(len(stale))]+"."+sfx, "A", 3, nil, -1)
		}
		for k := 0; k < 5; k++ {
			g.emit(g.at(false), h, stale[g.r.IntN(len(stale))], "A", 3, nil, -1)
		}
	}
	// mDNS names leaking to DNS, and private TLDs
	if g.r.IntN(8) == 0 {
		g.trap(h, "local")
		for k := 0; k < 5+g.r.IntN(40); k++ {
			n := []string{"macbook-pro-" + g.randLetters(3, 5) + ".local", "brw" + g.hex(12) + ".local", "printer.local", "nas.lan", "router.home", "fileserver.corp", "tv-" + g.randLetters(4, 6) + ".internal"}[g.r.IntN(7)]
			g.emit(g.at(false), h, n, []string{"A", "AAAA"}[g.r.IntN(2)], 3, nil, -1)
		}
	}
	// reverse lookups of internal addresses
	for k := 0; k < g.r.IntN(15); k++ {
		g.emit(g.at(false), h, fmt.Sprintf("%d.%d.%d.10.in-addr.arpa", 1+g.r.IntN(254), g.r.IntN(255), g.r.IntN(255)), "PTR", 3, nil, -1)
	}
	// antivirus hash lookups (every workstation, a little)
	for k := 0; k < 5+g.r.IntN(30); k++ {
		g.emit(g.at(true), h, g.hex(32)+".avqs.mcafee.com", "A", 3, nil, -1)
	}
	// typos of popular names (NXDOMAIN), a few a day at most
	nt := 0
	if g.r.IntN(3) == 0 {
		nt = 1 + g.r.IntN(3)
		g.trap(h, "typo")
	}
	for k := 0; k < nt; k++ {
		g.emit(g.at(true), h, g.typo(g.pop[g.r.IntN(60)]), "A", 3, nil, -1)
	}
	// a retired vendor domain some software still calls home to
	if g.r.IntN(3) == 0 {
		for k := 0; k < 3+g.r.IntN(20); k++ {
			g.emit(g.at(false), h, "update.oldvendor-software.com", "A", 3, nil, -1)
			g.emit(g.at(false), h, "telemetry.retired-toolbar.net", "A", 3, nil, -1)
		}
	}
}

func (g *gen) mail(h string) {
	g.trap(h, "dnsbl")
	zones := []string{"zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", "dnsbl.sorbs.net"}
	tlds := []string{"com", "net", "info", "xyz", "top", "ru", "biz", "online"}
	msgs := 1500 + g.r.IntN(2500)
	for i := 0; i < msgs; i++ {
		t := g.at(true)
		ip := [4]int{1 + g.r.IntN(223), g.r.IntN(256), g.r.IntN(256), 1 + g.r.IntN(254)}
		rev := fmt.Sprintf("%d.%d.%d.%d", ip[3], ip[2], ip[1], ip[0])
		listed := g.r.IntN(10) == 0
		for _, z := range zones {
			if listed {
				g.emit(t, h, rev+"."+z, "A", 0, []string{"127.0.0.2"}, 300)
			} else {
				g.emit(t, h, rev+"."+z, "A", 3, nil, -1)
			}
		}
		// reverse DNS of the connecting address
		g.emit(t, h, rev+".in-addr.arpa", "PTR", []int{0, 3}[g.r.IntN(2)], []string{"mx." + g.randLetters(4, 8) + ".com"}, 3600)
		// sender domain checks: MX and SPF; spam comes from random names
		sender := g.pop[g.r.IntN(len(g.pop))]
		rc := 0
		if g.r.IntN(5) == 0 {
			sender = g.randLetters(6, 14) + "." + tlds[g.r.IntN(len(tlds))]
			rc = 3
		}
		g.emit(t.Add(3*time.Millisecond), h, sender, "MX", rc, []string{"10 mx." + sender}, 3600)
		g.emit(t.Add(4*time.Millisecond), h, sender, "TXT", rc, []string{"v=spf1 -all"}, 3600)
		g.emit(t.Add(5*time.Millisecond), h, sender+".dbl.spamhaus.org", "A", 3, nil, -1)
	}
}

func (g *gen) fileServer(h string) {
	g.trap(h, "av")
	for i := 0; i < 2000+g.r.IntN(4000); i++ {
		t := g.at(false)
		if g.r.IntN(2) == 0 {
			g.emit(t, h, g.hex(32)+".avqs.mcafee.com", "A", 3, nil, -1)
		} else {
			g.emit(t, h, fmt.Sprintf("%s.%s.4.sophosxl.net", g.hex(8), g.hex(40)), "A", []int{3, 3, 3, 0}[g.r.IntN(4)], []string{"127.0.0.1"}, 300)
		}
	}
	for i := 0; i < 100; i++ {
		g.resolveOK(g.at(false), h, g.pop[g.r.IntN(30)], false)
	}
}

func (g *gen) dc(h string) {
	sfx := g.cfg.Suffix
	for i := 0; i < 1500; i++ {
		t := g.at(false)
		switch g.r.IntN(4) {
		case 0:
			g.emit(t, h, "_ldap._tcp."+[]string{"pdc", "gc", "dc"}[g.r.IntN(3)]+"._msdcs."+sfx, "SRV", []int{0, 3}[g.r.IntN(2)], []string{"0 100 389 dc01." + sfx}, 600)
		case 1:
			// forwarders resolving the world for clients
			g.resolveOK(t, h, g.pop[g.r.IntN(len(g.pop))], false)
		case 2:
			g.emit(t, h, fmt.Sprintf("%d.%d.%d.10.in-addr.arpa", 1+g.r.IntN(254), g.r.IntN(255), g.r.IntN(255)), "PTR", 3, nil, -1)
		default:
			g.emit(t, h, "ws"+fmt.Sprint(g.r.IntN(900))+"."+sfx, "A", []int{0, 0, 3}[g.r.IntN(3)], []string{"10.0.3.3"}, 1200)
		}
	}
}

func (g *gen) server(h string) {
	for i := 0; i < 200; i++ {
		t := g.at(false)
		if g.r.IntN(10) == 0 {
			g.emit(t, h, "db-replica"+fmt.Sprint(g.r.IntN(3))+"."+g.cfg.Suffix, "A", 3, nil, -1)
			continue
		}
		g.resolveOK(t, h, []string{"ntp.ubuntu.com", "security.ubuntu.com", "archive.ubuntu.com", "api.github.com", "s3.amazonaws.com"}[g.r.IntN(5)], true)
	}
}

// infect runs a DGA bot on h: it walks the day's list from the start, every
// name NXDOMAIN but the C2, which resolves; loud bots in bursts of hundreds
// an hour, slow ones about ten a day.
func (g *gen) infect(h, family string, list []string, c2 string, loud bool) {
	c2addr := fmt.Sprintf("%d.%d.%d.%d", 45+g.r.IntN(150), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	walk := func(t time.Time, i int) {
		n := list[i%len(list)]
		g.day.Truth.Generated[n] = family
		if n == c2 {
			g.emit(t, h, n, "A", 0, []string{c2addr}, 300)
			if g.cfg.Flows {
				g.flow(t.Add(200*time.Millisecond), h, c2addr, 443, int64(800+g.r.IntN(4000)))
			}
			return
		}
		g.emit(t, h, n, "A", 3, nil, -1)
	}
	if !loud {
		// about ten a day, spread out
		n := 8 + g.r.IntN(6)
		ts := make([]time.Time, n)
		for i := range ts {
			ts[i] = g.at(false)
		}
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		for i, t := range ts {
			walk(t, i)
		}
		return
	}
	i := 0
	for b := 0; b < 2+g.r.IntN(3); b++ {
		t := g.at(false)
		rate := 150 + g.r.IntN(400) // names an hour
		end := t.Add(time.Duration(20+g.r.IntN(70)) * time.Minute)
		for t.Before(end) {
			walk(t, i)
			i++
			t = t.Add(time.Duration(g.r.ExpFloat64() * float64(time.Hour) / float64(rate)))
		}
	}
}

// flux makes h look up a fast-flux domain every so often and talk to what it
// got.
func (g *gen) flux(h string, f FluxDomain) {
	ttl := max(f.TTL, 1)
	t := g.at(true)
	end := t.Add(time.Duration(1+g.r.IntN(6)) * time.Hour)
	for ; t.Before(end); t = t.Add(time.Duration(ttl)*time.Second + time.Duration(g.r.IntN(600))*time.Second) {
		k := min(len(f.Addrs), 3+g.r.IntN(3))
		ans := make([]string, 0, k)
		for _, j := range g.r.Perm(len(f.Addrs))[:k] {
			ans = append(ans, f.Addrs[j].String())
		}
		g.emit(t, h, f.Name, "A", 0, ans, ttl)
		g.flow(t.Add(300*time.Millisecond), h, ans[0], []int{443, 80, 8080}[g.r.IntN(3)], int64(1500+g.r.IntN(200000)))
	}
}
