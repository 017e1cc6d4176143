package dga

import (
	"math/rand/v2"
	"strings"
)

// Synthetic DGA families: generic priors about generated names, added to
// training so that the model does not depend on the families it has seen.
// They are drawn from a fixed seed (training stays deterministic) and put
// under suffixes drawn from the benign names, so they teach nothing about
// suffixes. Evaluation never scores them; leave-one-family-out still leaves
// out the real family.
//
//   - synthetic-hex: hexadecimal strings, 8-40 characters (hash-based DGAs)
//   - synthetic-alnum: letters and digits, 6-30
//   - synthetic-letters: letters, 6-24
//   - synthetic-syllables: random consonant-vowel syllables, 6-20
//   - synthetic-words: 2-3 random dictionary words, sometimes hyphenated
//     (wordlist DGAs)
const synthPerFamily = 3000

func synthFamilies(words []string, suffixes []string) []Family {
	r := rand.New(rand.NewPCG(0x6667_6861, 0x2026_1101))
	pick := func(alpha string, lo, hi int) string {
		n := lo + r.IntN(hi-lo+1)
		var b strings.Builder
		for range n {
			b.WriteByte(alpha[r.IntN(len(alpha))])
		}
		return b.String()
	}
	const (
		hexA   = "0123456789abcdef"
		alnum  = "abcdefghijklmnopqrstuvwxyz0123456789"
		letter = "abcdefghijklmnopqrstuvwxyz"
		cons   = "bcdfghjklmnpqrstvwxyz"
		vowels = "aeiouy"
	)
	suffix := func() string { return suffixes[r.IntN(len(suffixes))] }
	var short []string
	for _, w := range words {
		if len(w) >= 3 && len(w) <= 10 {
			short = append(short, w)
		}
	}
	gen := map[string]func() string{
		"synthetic-hex":     func() string { return pick(hexA, 8, 40) },
		"synthetic-alnum":   func() string { return pick(alnum, 6, 30) },
		"synthetic-letters": func() string { return pick(letter, 6, 24) },
		"synthetic-syllables": func() string {
			n := 6 + r.IntN(15)
			var b strings.Builder
			for b.Len() < n {
				b.WriteByte(cons[r.IntN(len(cons))])
				b.WriteByte(vowels[r.IntN(len(vowels))])
				if r.IntN(3) == 0 {
					b.WriteByte(cons[r.IntN(len(cons))])
				}
			}
			return b.String()
		},
		"synthetic-words": func() string {
			k := 2 + r.IntN(2)
			sep := ""
			if r.IntN(5) == 0 {
				sep = "-"
			}
			parts := make([]string, k)
			for i := range parts {
				parts[i] = short[r.IntN(len(short))]
			}
			s := strings.Join(parts, sep)
			if len(s) > 63 {
				s = s[:63]
			}
			return strings.Trim(s, "-")
		},
	}
	var out []Family
	for _, name := range []string{"synthetic-alnum", "synthetic-hex", "synthetic-letters", "synthetic-syllables", "synthetic-words"} {
		f := Family{Name: name}
		for range synthPerFamily {
			f.Train = append(f.Train, gen[name]()+"."+suffix())
		}
		out = append(out, f)
	}
	return out
}
