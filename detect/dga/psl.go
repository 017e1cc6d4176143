package dga

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strings"
	"sync"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// The Public Suffix List, embedded so that suffix lookups do not allocate
// (golang.org/x/net/publicsuffix allocates an error for every name that is
// not an IP address). The file is Debian's publicsuffix package's copy,
// refreshed by `make model`; ScoreName uses the suffixes the shared
// normaliser computed instead.
//
//go:embed data/public_suffix_list.dat.gz
var pslData []byte

const (
	pslNode      = 1 << iota // a rule exists at or below this suffix
	pslRule                  // "x.y" is a rule
	pslRuleICANN             // ... in the ICANN section
	pslWild                  // "*.x.y" is a rule
	pslWildICANN
	pslExcept // "!x.y" is a rule
	pslExceptICANN
)

type pslTable map[string]uint8

var embeddedPSL = sync.OnceValue(func() pslTable {
	t, err := loadPSL(pslData)
	if err != nil {
		panic("dga: embedded public suffix list is corrupt: " + err.Error())
	}
	return t
})

func loadPSL(gz []byte) (pslTable, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	t := pslTable{}
	icann := false
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.Contains(l, "===BEGIN ICANN DOMAINS==="):
			icann = true
		case strings.Contains(l, "===BEGIN PRIVATE DOMAINS==="):
			icann = false
		}
		if l == "" || strings.HasPrefix(l, "//") {
			continue
		}
		if i := strings.IndexAny(l, " \t"); i >= 0 {
			l = l[:i]
		}
		var flag, flagICANN uint8 = pslRule, pslRuleICANN
		switch {
		case strings.HasPrefix(l, "!"):
			l, flag, flagICANN = l[1:], pslExcept, pslExceptICANN
		case strings.HasPrefix(l, "*."):
			l, flag, flagICANN = l[2:], pslWild, pslWildICANN
		}
		a, err := idna.Lookup.ToASCII(l)
		if err != nil {
			a = strings.ToLower(l)
		}
		t[a] |= flag
		if icann {
			t[a] |= flagICANN
		}
		for s := a; ; {
			t[s] |= pslNode
			i := strings.IndexByte(s, '.')
			if i < 0 {
				break
			}
			s = s[i+1:]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	t.agreeWithXNet()
	return t, nil
}

// agreeWithXNet drops the rules golang.org/x/net/publicsuffix (the shared
// normaliser's list) does not have, so both lists give the same answers
// wherever the embedded list knows a rule.
func (t pslTable) agreeWithXNet() {
	for k, f := range t {
		if f&pslRule != 0 {
			ps, icann := publicsuffix.PublicSuffix("zz9." + k)
			if ps != k || icann != (f&pslRuleICANN != 0) {
				f &^= pslRule | pslRuleICANN
			}
		}
		if f&pslWild != 0 {
			ps, icann := publicsuffix.PublicSuffix("zz9.zz8." + k)
			if ps != "zz8."+k || icann != (f&pslWildICANN != 0) {
				f &^= pslWild | pslWildICANN
			}
		}
		if f&pslExcept != 0 {
			ps, _ := publicsuffix.PublicSuffix("zz9." + k)
			if ps != k[strings.IndexByte(k, '.')+1:] {
				f &^= pslExcept | pslExceptICANN
			}
		}
		t[k] = f
	}
}

// embeddedPSLTable is the embedded list as a nameTable (for scoring).
var embeddedPSLTable = sync.OnceValue(func() *pslIndex {
	return newPSLIndex(embeddedPSL())
})
