package dga

import (
	"math/rand/v2"
	"sort"
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
//   - synthetic-pairs: two words, half of them words of benign names,
//     a third of the time hyphenated
//   - synthetic-text: consecutive words of a made-up running English text
//     (function words between content words), some cut short, the label
//     itself cut at a random length (DGAs that cut labels out of a text)
const synthPerFamily = 3000

// synthFamilies makes the synthetic families from the dictionary words, the
// words seen in benign names (common: people's vocabulary, so that a word
// being common does not make a name benign by itself) and benign suffixes.
func synthFamilies(words, common []string, suffixes []string) []Family {
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
	// Most names go under suffixes of benign names; some under a
	// dynamic-DNS provider or a made-up top-level name (alternative roots
	// such as EmerDNS serve those), so that the model learns what a random
	// label there means without ever seeing a family's own suffix.
	ddns := sortedKeys(ddnsDomains)
	suffix := func() string {
		switch v := r.IntN(20); {
		case v == 0:
			return ddns[r.IntN(len(ddns))]
		case v == 1:
			return madeUpTLD(r)
		}
		return suffixes[r.IntN(len(suffixes))]
	}
	// spread draws a suffix uniformly from the distinct benign suffixes
	// half of the time: wordlist DGAs pick among many top-level names, rare
	// ones included, and a rare suffix says little either way
	distinct := append([]string(nil), suffixes...)
	sort.Strings(distinct)
	distinct = dedupSorted(distinct)
	spread := func() string {
		if r.IntN(2) == 0 {
			return distinct[r.IntN(len(distinct))]
		}
		return suffix()
	}
	var short []string
	for _, w := range words {
		if len(w) >= 3 && len(w) <= 10 {
			short = append(short, w)
		}
	}
	if len(common) == 0 {
		common = short
	}
	// content draws a content word: half from the words of benign names,
	// half from the whole dictionary
	content := func() string {
		if r.IntN(2) == 0 {
			return common[r.IntN(len(common))]
		}
		return short[r.IntN(len(short))]
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
		"synthetic-pairs": func() string {
			sep := ""
			if r.IntN(3) == 0 {
				sep = "-"
			}
			return content() + sep + content()
		},
		"synthetic-text": func() string {
			target := 10 + r.IntN(15)
			var b strings.Builder
			for first := true; b.Len() < target; first = false {
				var w string
				if r.IntN(5) < 2 {
					w = textFuncWords[r.IntN(len(textFuncWords))]
				} else {
					w = content()
					if len(w) > 4 && r.IntN(4) == 0 {
						w = w[:3+r.IntN(len(w)-3)] // cut short
					}
				}
				if first && len(w) > 4 && r.IntN(3) == 0 {
					w = w[r.IntN(len(w)-3):] // the text starts mid-word
				}
				b.WriteString(w)
			}
			s := b.String()
			if len(s) > target && r.IntN(2) == 0 {
				s = s[:target]
			}
			if len(s) > 63 {
				s = s[:63]
			}
			return s
		},
	}
	var out []Family
	for _, name := range []string{"synthetic-alnum", "synthetic-hex", "synthetic-letters", "synthetic-syllables", "synthetic-words", "synthetic-text", "synthetic-pairs"} {
		f := Family{Name: name}
		sfx := suffix
		if name == "synthetic-pairs" {
			sfx = spread
		}
		for range synthPerFamily {
			f.Train = append(f.Train, gen[name]()+"."+sfx())
		}
		out = append(out, f)
	}
	return append(out, arithSynth(suffixes)...)
}

// textFuncWords are the function words of the made-up text: funcWords and
// the shorter ones, which segmentation skips.
var textFuncWords = append([]string{"a", "an", "of", "to", "in", "on", "at", "by", "as", "is", "it", "or", "be", "we", "if", "so", "no", "up"}, funcWords...)

// madeUpTLD returns a top-level name of 3-6 letters that is not delegated
// and not an internal name.
func madeUpTLD(r *rand.Rand) string {
	for {
		n := 3 + r.IntN(4)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		if tldClass(string(b)) == tldUnknown {
			return string(b)
		}
	}
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// typoTLDs are mistyped top-level names that resolvers see every day.
var typoTLDs = []string{"con", "cmo", "ocm", "comm", "cm0", "vom", "xom", "cpm", "nte", "ent", "ogr", "rog", "nett", "orgg"}

// benignAugment returns benign names the Alexa list lacks: real site labels
// under internal top-level names, under mistyped top-level names, and as
// customer names under dynamic-DNS providers (people name their hosts with
// words), so that neither a dynamic-DNS suffix nor an unknown top-level
// name makes a name look generated by itself.
//
// out[i] is the name made from labels[i], or "" (one label in eight is used).
func benignAugment(labels []string) []string {
	r := rand.New(rand.NewPCG(0x6265_6e69, 0x2026_1126))
	ddns := sortedKeys(ddnsDomains)
	internal := sortedKeys(internalTLDs)
	out := make([]string, len(labels))
	for i, l := range labels {
		if i%8 != 0 {
			continue
		}
		switch v := r.IntN(3); {
		case v == 0:
			out[i] = l + "." + internal[r.IntN(len(internal))]
		case v == 1:
			out[i] = l + "." + typoTLDs[r.IntN(len(typoTLDs))]
		default:
			out[i] = l + "." + ddns[r.IntN(len(ddns))]
		}
	}
	return out
}
