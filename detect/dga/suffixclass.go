package dga

import (
	"strings"
	"sync"
)

// Dynamic-DNS providers. Their shared domains hand a free hostname to
// anyone, and DGAs (kraken, orchard and many bots since) register their
// generated labels under them. Many of these domains are not on the Public
// Suffix List, which would make the provider's own label ("dynserv" in
// "x7fq2.dynserv.com") the one scored. The scorer treats each as a platform
// suffix: the customer's label is scored, and the name is marked as
// dynamic DNS (a feature, and a word in the reason).
//
// The list is the providers' published shared domains (FreeDNS' most used
// public domains, No-IP, Dyn, Dynu, ChangeIP, DuckDNS, deSEC, dynv6, YDNS
// and others); entries already on the PSL's private section are kept here
// too so that they are marked.
var ddnsDomains = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, d := range strings.Fields(`
		afraid.org mooo.com yi.org dynserv.com us.to uk.to strangled.net twilightparadox.com
		chickenkiller.com crabdance.com ignorelist.com jumpingcrab.com info.tm 2waky.com
		ftpaccess.cc mine.nu dynet.com h4ck.me hackquest.com homenet.org
		ddns.net hopto.org zapto.org sytes.net no-ip.org no-ip.biz no-ip.info no-ip.com
		myftp.biz myftp.org redirectme.net servebeer.com serveftp.com servehttp.com
		serveblog.net servegame.com servemp3.com servepics.com servequake.com
		bounceme.net myvnc.com onthewifi.com webhop.me ddns.me gotdns.ch
		dyndns.org dyndns.biz dyndns.info dyndns.tv dyndns-ip.com homeip.net
		dnsalias.com dnsalias.net dnsalias.org is-a-geek.com gotdns.com
		dynu.net dynu.com freeddns.org mywire.org ddnsfree.com accesscam.org camdvr.org
		casacam.net kozow.com loseyourip.com ooguy.com theworkpc.com
		changeip.com changeip.net changeip.org dns05.com ddns.info 3utilities.com
		bigmoney.biz dynssl.com dnsfailover.net
		duckdns.org dedyn.io dynv6.net ydns.eu nsupdate.info spdns.de spdns.eu
		dnsdynamic.org ddnsking.com duia.eu dynamic-dns.net freedynamicdns.net
		now-dns.com dynamic-dns.de
	`) {
		m[d] = struct{}{}
	}
	return m
}()

// internalTLDs are top-level names that are not delegated in the root but
// that enterprises use inside their networks (and ICANN has said it will
// not delegate, or that resolvers see leaking most).
var internalTLDs = map[string]struct{}{
	"corp": {}, "lan": {}, "home": {}, "internal": {}, "intranet": {}, "private": {},
	"localdomain": {}, "localnet": {}, "domain": {}, "local": {}, "intra": {},
	"test": {}, "example": {}, "invalid": {}, "localhost": {}, "mail": {},
	"office": {}, "priv": {}, "dmz": {},
}

// TLD classes.
const (
	tldKnown    = iota // delegated (on the ICANN section of the PSL)
	tldInternal        // a name enterprises use internally
	tldUnknown         // anything else: an alternative root, a typo, a leak
)

// regInfo is what the scorer knows of a registered domain or a private
// suffix: a dynamic-DNS provider's shared domain, or a benign trap.
type regInfo struct {
	ddns bool
	trap string // the trap's reason
}

// regTable holds ddnsDomains and traps; regFilter has a bit for the
// (length, first byte) of each, so most names skip the lookup.
var regTable = sync.OnceValue(func() *nameTable[regInfo] {
	m := map[string]regInfo{}
	for k := range ddnsDomains {
		m[k] = regInfo{ddns: true}
	}
	for k, r := range traps {
		v := m[k]
		v.trap = r
		m[k] = v
	}
	t := newNameTable(m)
	return &t
})

var regFilter = func() (f [64 * 256 / 64]uint64) {
	set := func(k string) {
		b := trapBit(k)
		f[b>>6] |= 1 << (b & 63)
	}
	for k := range ddnsDomains {
		set(k)
	}
	for k := range traps {
		set(k)
	}
	return
}()

func lookupReg(name string) (regInfo, bool) {
	if name == "" {
		return regInfo{}, false
	}
	if b := trapBit(name); regFilter[b>>6]&(1<<(b&63)) == 0 {
		return regInfo{}, false
	}
	return regTable().get(name)
}

// classify finds p's registered domain and whether it is a benign trap,
// and makes a dynamic-DNS provider's domain the suffix of p. It allocates
// nothing.
func classify(p *parsed) {
	p.reg = p.registered()
	ri, _ := lookupReg(p.reg)
	p.trap = ri.trap
	if p.private {
		if pi, _ := lookupReg(p.suffix); pi.ddns {
			p.ddns = true
		}
		p.label = p.findSiteLabel()
		return
	}
	// the provider's own domain is not a customer name under it
	if ri.ddns && len(p.reg) < len(p.ascii) {
		p.suffix, p.private, p.ddns = p.reg, true, true
		p.label = p.findSiteLabel()
		return
	}
	// the suffix is the ICANN one: the site label starts the registered domain
	if p.reg != "" {
		p.label = p.reg[:len(p.reg)-len(p.icann)-1]
	}
}

// tldClass classifies the top-level label of the ICANN suffix.
func tldClass(icann string) int {
	tld := icann[strings.LastIndexByte(icann, '.')+1:]
	if embeddedPSL()[tld]&pslRuleICANN != 0 {
		return tldKnown
	}
	if _, ok := internalTLDs[tld]; ok {
		return tldInternal
	}
	return tldUnknown
}
