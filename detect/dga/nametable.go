package dga

import (
	"math/bits"
	"sort"
	"strings"
)

// nameTable is a read-only open-addressing hash table keyed by names
// (public suffixes, registered domains). Keys are hashed from their last
// byte backward (FNV-1a over the reversed name), so a walk over a name's
// suffixes from the right computes each suffix's hash as it goes, and one
// lookup is a multiply, a probe and a compare. Lookups do not allocate.
type nameTable[V any] struct {
	slots []nameSlot[V] // a power of two, at most half full
	shift uint
}

type nameSlot[V any] struct {
	h   uint64
	key string // "" marks an empty slot (keys are never empty)
	val V
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// revHash is the hash of s as nameTable uses it.
func revHash(s string) uint64 {
	h := uint64(fnvOffset)
	for i := len(s) - 1; i >= 0; i-- {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// newNameTable builds the table of m ("" keys are ignored).
func newNameTable[V any](m map[string]V) nameTable[V] {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // the layout does not depend on map order
	size := 2
	for size < 2*len(keys) {
		size <<= 1
	}
	t := nameTable[V]{slots: make([]nameSlot[V], size), shift: uint(64 - bits.Len(uint(size-1)))}
	for _, k := range keys {
		h := revHash(k)
		i := t.slot(h)
		for t.slots[i].key != "" {
			i = (i + 1) & uint64(size-1)
		}
		t.slots[i] = nameSlot[V]{h: h, key: k, val: m[k]}
	}
	return t
}

func (t *nameTable[V]) slot(h uint64) uint64 {
	return (h * 0x9e3779b97f4a7c15) >> t.shift
}

// lookup finds key, whose revHash is h.
func (t *nameTable[V]) lookup(h uint64, key string) (v V, ok bool) {
	if len(t.slots) == 0 {
		return v, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(h); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.key == "" {
			return v, false
		}
		if s.h == h && s.key == key {
			return s.val, true
		}
	}
}

// get finds key.
func (t *nameTable[V]) get(key string) (V, bool) { return t.lookup(revHash(key), key) }

// pslIndex is the Public Suffix List for scoring: the rules in a
// nameTable, and a Bloom filter over (parent suffix, length, first and last
// byte) of every rule's first label, so that a walk stops at a name's site
// label without hashing it when no rule can match (the common case).
type pslIndex struct {
	tab    nameTable[uint8]
	filter [1 << 16 / 64]uint64
}

func newPSLIndex(m map[string]uint8) *pslIndex {
	x := &pslIndex{tab: newNameTable(m)}
	for k := range m {
		if i := strings.IndexByte(k, '.'); i > 0 {
			a, b := x.bits(revHash(k[i+1:]), k[:i])
			x.filter[a>>6] |= 1 << (a & 63)
			x.filter[b>>6] |= 1 << (b & 63)
		}
	}
	return x
}

// bits are the filter's two bits for label under the suffix hashed hp.
func (x *pslIndex) bits(hp uint64, label string) (uint32, uint32) {
	v := (hp ^ uint64(len(label))<<56 ^ uint64(label[0])<<48 ^ uint64(label[len(label)-1])<<40) * 0x9e3779b97f4a7c15
	return uint32(v >> 48), uint32(v>>32) & 0xffff
}

// mayHave is false when no rule is label.parent (parent hashed hp).
func (x *pslIndex) mayHave(hp uint64, label string) bool {
	a, b := x.bits(hp, label)
	return x.filter[a>>6]&(1<<(a&63)) != 0 && x.filter[b>>6]&(1<<(b&63)) != 0
}

// pslPublicSuffix is pslTable.publicSuffix over the index: one pass from
// the right, label by label, hashing as it goes.
func pslPublicSuffix(x *pslIndex, name string) (suffix string, icann bool) {
	parentFlags := uint8(0)
	first := true
	h := uint64(fnvOffset)
	end := len(name)
	for {
		dot := strings.LastIndexByte(name[:end], '.')
		c := name[dot+1:]
		lab := name[dot+1 : end]
		var f uint8
		ok := false
		if first || (lab != "" && x.mayHave(h, lab)) {
			if !first {
				h = (h ^ '.') * fnvPrime
			}
			for i := end - 1; i > dot; i-- {
				h = (h ^ uint64(name[i])) * fnvPrime
			}
			f, ok = x.tab.lookup(h, c)
		}
		if first {
			suffix = c // the default rule "*"
		}
		if !first && parentFlags&pslWild != 0 {
			suffix, icann = c, parentFlags&pslWildICANN != 0
		}
		if ok && f&pslExcept != 0 {
			// the exception's parent is the suffix
			return c[strings.IndexByte(c, '.')+1:], f&pslExceptICANN != 0
		}
		if ok && f&pslRule != 0 {
			suffix, icann = c, f&pslRuleICANN != 0
		}
		if !ok || dot < 0 {
			return suffix, icann
		}
		parentFlags = f
		first = false
		end = dot
	}
}
