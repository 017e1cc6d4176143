package dga

import "strings"

// publicSuffix follows golang.org/x/net/publicsuffix.PublicSuffix for
// canonical names over the rule map: the reference the hashed walk
// (pslPublicSuffix) is tested against.
func (t pslTable) publicSuffix(name string) (suffix string, icann bool) {
	suffix = name[strings.LastIndexByte(name, '.')+1:] // the default rule "*"
	icann = false
	end := len(name)
	parentFlags := uint8(0)
	for first := true; ; first = false {
		dot := strings.LastIndexByte(name[:end], '.')
		c := name[dot+1:]
		f, ok := t[c]
		if !first && parentFlags&pslWild != 0 {
			suffix, icann = c, parentFlags&pslWildICANN != 0
		}
		if ok && f&pslExcept != 0 {
			// the exception's parent is the suffix
			suffix, icann = c[strings.IndexByte(c, '.')+1:], f&pslExceptICANN != 0
			return suffix, icann
		}
		if ok && f&pslRule != 0 {
			suffix, icann = c, f&pslRuleICANN != 0
		}
		if !ok || dot < 0 {
			return suffix, icann
		}
		parentFlags = f
		end = dot
	}
}
