package dga

import "strings"

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

// markDDNS makes a dynamic-DNS provider's domain the suffix of p. It
// allocates nothing.
func markDDNS(p *parsed) {
	if p.private {
		if _, ok := ddnsDomains[p.suffix]; ok {
			p.ddns = true
		}
		return
	}
	// two labels or fewer cannot be a customer name under a provider
	if strings.Count(p.ascii, ".") < 2 {
		return
	}
	reg := p.registered()
	if reg == "" || len(reg) >= len(p.ascii) {
		return
	}
	if _, ok := ddnsDomains[reg]; ok {
		p.suffix, p.private, p.ddns = reg, true, true
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
