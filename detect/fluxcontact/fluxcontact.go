// Package fluxcontact confirms fast flux with flows: it keeps the addresses of
// domains classified fast flux (from probes and from passive DNS answers) and
// turns flows from a host to one of them into flux_contact detections naming
// host, domain, bytes, first and last contact. Pure: time is passed in; every
// table is bounded.
package fluxcontact

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

// Config bounds the tables.
type Config struct {
	MaxAddrs    int           // flux addresses remembered (default 200,000)
	MaxPassive  int           // candidate domains whose passive answers are kept (default 20,000)
	MaxContacts int           // open (host, domain) contacts (default 100,000)
	MaxResolved int           // (host, address) -> domain resolutions kept (default 200,000)
	AddrTTL     time.Duration // an address leaves the table this long after it was last seen for the domain (default 7 d)
}

func (c Config) withDefaults() Config {
	if c.MaxAddrs <= 0 {
		c.MaxAddrs = 200_000
	}
	if c.MaxPassive <= 0 {
		c.MaxPassive = 20_000
	}
	if c.MaxContacts <= 0 {
		c.MaxContacts = 100_000
	}
	if c.MaxResolved <= 0 {
		c.MaxResolved = 200_000
	}
	if c.AddrTTL <= 0 {
		c.AddrTTL = 7 * 24 * time.Hour
	}
	return c
}

// maxPassivePerDomain bounds the passive answers kept per candidate.
const maxPassivePerDomain = 256

// maxFresh bounds the fresh addresses waiting for a look-back.
const maxFresh = 4096

type addrRef struct {
	Domain string
	Seen   int64
}

// Contact is one host's traffic to one flux domain's addresses.
type Contact struct {
	Src     string
	Domain  string
	Bytes   int64
	Packets int64
	Flows   int64
	First   int64
	Last    int64
	Dests   map[string]bool
	Ports   map[int]bool
	// ByLookup: the host itself resolved the domain to a contacted address;
	// otherwise the contact is known by address only (one botnet's hosts
	// may serve several flux domains).
	ByLookup bool
	changed  bool
}

// snapshot is what survives a restart: flux addresses and domains, the
// passive answers of candidates, the open contacts. The hosts' own
// resolutions are a cache rebuilt from the next DNS rows (persisting them
// would rewrite a table of every (host, address) pair at each window).
type snapshot struct {
	Addrs    map[string]addrRef          `json:"addrs"`
	Domains  []string                    `json:"domains"`
	Passive  map[string]map[string]int64 `json:"passive"`
	Order    []string                    `json:"order"`
	Contacts []*Contact                  `json:"contacts"`
}

// MarshalJSON snapshots the table for persistence.
func (t *Table) MarshalJSON() ([]byte, error) {
	s := snapshot{Addrs: map[string]addrRef{}, Passive: map[string]map[string]int64{}, Order: t.passiveQ}
	for a, r := range t.addrs {
		s.Addrs[a.String()] = r
	}
	for d := range t.domains {
		s.Domains = append(s.Domains, d)
	}
	sort.Strings(s.Domains)
	for d, m := range t.passive {
		mm := map[string]int64{}
		for a, ts := range m {
			mm[a.String()] = ts
		}
		s.Passive[d] = mm
	}
	keys := make([]string, 0, len(t.contacts))
	for k := range t.contacts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.Contacts = append(s.Contacts, t.contacts[k])
	}
	return json.Marshal(s)
}

// UnmarshalJSON restores a snapshot into a table made by New.
func (t *Table) UnmarshalJSON(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("fluxcontact: restore: %w", err)
	}
	if t.addrs == nil {
		*t = *New(Config{})
	}
	for a, r := range s.Addrs {
		if ip, err := netip.ParseAddr(a); err == nil {
			t.addrs[ip] = r
		}
	}
	for _, d := range s.Domains {
		t.domains[d] = 1
	}
	for d, m := range s.Passive {
		mm := map[netip.Addr]int64{}
		for a, ts := range m {
			if ip, err := netip.ParseAddr(a); err == nil {
				mm[ip] = ts
			}
		}
		t.passive[d] = mm
	}
	t.passiveQ = s.Order
	for _, c := range s.Contacts {
		t.contacts[c.Src+"|"+c.Domain] = c
	}

	return nil
}

// Table is the flux-address table. Not safe for concurrent use.
type Table struct {
	cfg      Config
	addrs    map[netip.Addr]addrRef
	domains  map[string]int // flux domain -> registered domain length marker (presence)
	passive  map[string]map[netip.Addr]int64
	passiveQ []string
	contacts map[string]*Contact
	// resolved remembers which domain a host itself resolved to an
	// address, so that a flow to an address shared by several flux domains
	// (one botnet serves many) is attributed to the one the host asked for.
	resolved  map[string]string
	resolvedQ []string
	fresh     []netip.Addr
}

// New makes an empty table.
func New(cfg Config) *Table {
	return &Table{cfg: cfg.withDefaults(), addrs: map[netip.Addr]addrRef{}, domains: map[string]int{},
		passive: map[string]map[netip.Addr]int64{}, contacts: map[string]*Contact{}, resolved: map[string]string{}}
}

// IsFlux reports whether domain is a known fast-flux domain.
func (t *Table) IsFlux(domain string) bool { _, ok := t.domains[domain]; return ok }

// Addrs is the number of flux addresses held.
func (t *Table) Addrs() int { return len(t.addrs) }

// NotePassive records addresses a resolver handed out to host src for a
// candidate domain (from DNS rows), so that they join the table if the
// domain turns out to be flux, and so that src's flows to them are
// attributed to that domain. Addresses of known flux domains join at once.
func (t *Table) NotePassive(src, domain string, answers []string, at time.Time) {
	if src != "" {
		for _, a := range answers {
			k := src + "|" + a
			if _, ok := t.resolved[k]; !ok {
				if len(t.resolved) >= t.cfg.MaxResolved {
					delete(t.resolved, t.resolvedQ[0])
					t.resolvedQ = t.resolvedQ[1:]
				}
				t.resolvedQ = append(t.resolvedQ, k)
			}
			t.resolved[k] = domain
		}
	}
	if t.IsFlux(domain) {
		for _, a := range t.addAddrs(domain, parseAddrs(answers), at) {
			if len(t.fresh) < maxFresh {
				t.fresh = append(t.fresh, a)
			}
		}
		return
	}
	m, ok := t.passive[domain]
	if !ok {
		if len(t.passive) >= t.cfg.MaxPassive {
			oldest := t.passiveQ[0]
			t.passiveQ = t.passiveQ[1:]
			delete(t.passive, oldest)
		}
		m = map[netip.Addr]int64{}
		t.passive[domain] = m
		t.passiveQ = append(t.passiveQ, domain)
	}
	for _, a := range parseAddrs(answers) {
		if len(m) < maxPassivePerDomain {
			m[a] = at.Unix()
		}
	}
}

func parseAddrs(ss []string) []netip.Addr {
	out := make([]netip.Addr, 0, len(ss))
	for _, s := range ss {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// AddFlux marks domain as fast flux with the given addresses (from probes),
// plus any passive answers seen for it. It returns the addresses now held
// for the domain, sorted, for a look-back search.
func (t *Table) AddFlux(domain string, addrs []netip.Addr, at time.Time) []netip.Addr {
	t.domains[domain] = 1
	if p, ok := t.passive[domain]; ok {
		for a := range p {
			addrs = append(addrs, a)
		}
		delete(t.passive, domain)
	}
	t.addAddrs(domain, addrs, at)
	var out []netip.Addr
	for a, r := range t.addrs {
		if r.Domain == domain {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// addAddrs records addresses of a flux domain and returns those it did not
// hold for that domain before.
func (t *Table) addAddrs(domain string, addrs []netip.Addr, at time.Time) []netip.Addr {
	var added []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if !a.IsValid() || a.IsPrivate() || a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() {
			continue
		}
		old, ok := t.addrs[a]
		if !ok && len(t.addrs) >= t.cfg.MaxAddrs {
			t.evictAddrs(len(t.addrs) - t.cfg.MaxAddrs + 1)
		}
		if !ok || old.Domain != domain {
			added = append(added, a)
		}
		t.addrs[a] = addrRef{Domain: domain, Seen: at.Unix()}
	}
	return added
}

// TakeFresh returns the addresses that passive answers added to known flux
// domains since the last call: flows to them before they were known are
// found by a look-back search.
func (t *Table) TakeFresh() []netip.Addr {
	f := t.fresh
	t.fresh = nil
	return f
}

func (t *Table) evictAddrs(n int) {
	type kv struct {
		a netip.Addr
		s int64
	}
	all := make([]kv, 0, len(t.addrs))
	for a, r := range t.addrs {
		all = append(all, kv{a, r.Seen})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].s != all[j].s {
			return all[i].s < all[j].s
		}
		return all[i].a.Less(all[j].a)
	})
	for _, x := range all[:n] {
		delete(t.addrs, x.a)
	}
}

// Observe matches flows against the table and returns one flux_contact
// detection for each (host, domain) whose contact grew in this call, in a
// stable order. now is the end of the data window.
func (t *Table) Observe(flows []schema.FlowRow, now time.Time) []schema.Detection {
	ttl := int64(t.cfg.AddrTTL / time.Second)
	for _, f := range flows {
		a, err := netip.ParseAddr(f.Dest)
		if err != nil {
			continue
		}
		ref, ok := t.addrs[a.Unmap()]
		if !ok || now.Unix()-ref.Seen > ttl {
			continue
		}
		d, byLookup := t.resolved[f.Src+"|"+f.Dest]
		if byLookup && d != ref.Domain {
			if !t.IsFlux(d) {
				// The host asked for another domain that is not (yet)
				// known flux: the contact is that domain's, found when it
				// is classified (look-back), not this one's.
				continue
			}
			ref.Domain = d
		}
		key := f.Src + "|" + ref.Domain
		c, ok := t.contacts[key]
		if ok && byLookup {
			c.ByLookup = true
		}
		if !ok {
			if len(t.contacts) >= t.cfg.MaxContacts {
				t.evictContacts()
			}
			c = &Contact{Src: f.Src, Domain: ref.Domain, First: f.Time.Unix(), Dests: map[string]bool{}, Ports: map[int]bool{}, ByLookup: byLookup}
			t.contacts[key] = c
		}
		ts := f.Time.Unix()
		if ts < c.First {
			c.First = ts
		}
		if ts > c.Last {
			c.Last = ts
		}
		c.Bytes += f.Bytes
		c.Packets += f.Packets
		c.Flows += max(f.Count, 1)
		if len(c.Dests) < 64 {
			c.Dests[f.Dest] = true
		}
		if len(c.Ports) < 64 {
			c.Ports[f.DestPort] = true
		}
		c.changed = true
	}
	var keys []string
	for k, c := range t.contacts {
		if c.changed {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]schema.Detection, 0, len(keys))
	for _, k := range keys {
		c := t.contacts[k]
		c.changed = false
		out = append(out, c.detection())
	}
	return out
}

func (t *Table) evictContacts() {
	var oldK string
	var old int64 = 1<<63 - 1
	for k, c := range t.contacts {
		if c.Last < old || c.Last == old && k < oldK {
			oldK, old = k, c.Last
		}
	}
	delete(t.contacts, oldK)
}

func (c *Contact) detection() schema.Detection {
	d := schema.NewDetection(schema.TypeFluxContact, c.Src+"|"+c.Domain, time.Unix(c.First, 0))
	d.Src = c.Src
	d.Domain = c.Domain
	if n, err := schema.NormalizeName(c.Domain); err == nil {
		d.RegisteredDomain = n.Registered
	}
	dests := keysSorted(c.Dests)
	if len(dests) > 0 {
		d.Dest = dests[0]
	}
	d.LastSeen = c.Last
	d.Severity = "high"
	d.Confidence = 0.9
	d.Score = 0.9
	if c.Bytes > 1<<20 {
		d.Severity = "critical"
	}
	ports := make([]int, 0, len(c.Ports))
	for p := range c.Ports {
		ports = append(ports, p)
	}
	sort.Ints(ports)
	d.Reasons = []string{
		fmt.Sprintf("%d flows to %d addresses of fast-flux domain %s", c.Flows, len(dests), c.Domain),
		fmt.Sprintf("%d bytes exchanged", c.Bytes),
	}
	attribution := "address only: the host's own lookup of the domain was not seen"
	if c.ByLookup {
		attribution = "the host resolved the domain to the contacted address"
	} else {
		d.Reasons = append(d.Reasons, "known by address only")
	}
	d.Evidence = map[string]any{"bytes": c.Bytes, "packets": c.Packets, "flows": c.Flows, "dest_addresses": dests, "dest_ports": ports,
		"first_contact": c.First, "last_contact": c.Last, "attribution": attribution}
	return d
}

func keysSorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
