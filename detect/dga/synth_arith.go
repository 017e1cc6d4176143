package dga

import (
	"math"
	"math/rand/v2"
	"strings"
)

// Synthetic arithmetic and hash DGA families, beyond the uniform ones of
// synth.go. Real generators are not uniform: each has its own letter
// frequencies (a modulus that skips letters, a table of syllables or letter
// pairs), a fixed length or a narrow length range, and often a short label.
// A "made-up generator" here is such a spec drawn at random; each synthetic
// family below is the union of many made-up generators of one style, so the
// model learns what generated labels of that style look like in general
// rather than any one generator.
//
//   - synthetic-gen-letters: letters with skewed or restricted frequencies
//   - synthetic-gen-cv: consonant/vowel patterns (alternation, vowel runs)
//   - synthetic-gen-template: a fixed consonant/vowel class per position
//   - synthetic-gen-pairs: labels made of letter pairs from a small table
//   - synthetic-gen-alnum: letters and digits, short labels included
//   - synthetic-gen-hex: hexadecimal of one fixed length per generator
//
// Each style makes two families (-a, -b) of different generators: training
// caps a family's share of the DGA weight, and the made-up generators are
// worth twice a real family's share for families never seen (LOFO).

// arithSeed seeds the generators and the suffixes of this file.
const arithSeed = 0x2026_1127

const (
	arithGenerators = 120 // made-up generators per style
	arithPerGen     = 25  // names per generator
)

// genSpec is one made-up generator.
type genSpec struct {
	lo, hi int       // label length range
	alpha  []byte    // symbols
	cum    []float64 // cumulative weights of alpha
}

func (g *genSpec) draw(r *rand.Rand) byte {
	x := r.Float64() * g.cum[len(g.cum)-1]
	for i, c := range g.cum {
		if x < c {
			return g.alpha[i]
		}
	}
	return g.alpha[len(g.alpha)-1]
}

// skewed returns the symbols of alpha with random weights: uniform, log-normal
// with a random spread, or a random subset.
func skewed(r *rand.Rand, alpha string) ([]byte, []float64) {
	b := []byte(alpha)
	w := make([]float64, len(b))
	mode := r.IntN(3)
	sigma := 0.3 + 1.2*r.Float64()
	keep := 0.4 + 0.5*r.Float64()
	for i := range w {
		switch mode {
		case 0:
			w[i] = 1
		case 1:
			w[i] = math.Exp(sigma * r.NormFloat64())
		default:
			if r.Float64() < keep {
				w[i] = 1
			}
		}
	}
	cum := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		cum[i] = s
	}
	if s == 0 {
		for i := range cum {
			cum[i] = float64(i + 1)
		}
	}
	return b, cum
}

// genLength picks a generator's length range: fixed, or a narrow or wide
// range; short labels are common.
func genLength(r *rand.Rand, min, max int) (int, int) {
	lo := min + r.IntN(max-min+1)
	if r.IntN(2) == 0 {
		lo = min + r.IntN((max-min)/2+1)
	}
	switch r.IntN(3) {
	case 0:
		return lo, lo
	case 1:
		return lo, lo + 1 + r.IntN(3)
	}
	return lo, lo + 3 + r.IntN(8)
}

// arithSynth returns the synthetic families of this file, under suffixes
// drawn like synthFamilies' (suffixes: of benign names, with repeats).
func arithSynth(suffixes []string) []Family {
	r := rand.New(rand.NewPCG(0x6172_6974, arithSeed))
	ddns := sortedKeys(ddnsDomains)
	// suffixes from their own stream: changing their mix leaves the labels
	rs := rand.New(rand.NewPCG(0x7375_6666, arithSeed))
	suffix := func(_ *rand.Rand) string {
		r := rs
		switch v := r.IntN(20); {
		case v < 2:
			return ddns[r.IntN(len(ddns))]
		case v < 3:
			return madeUpTLD(r)
		}
		return suffixes[r.IntN(len(suffixes))]
	}
	const (
		letter = "abcdefghijklmnopqrstuvwxyz"
		cons   = "bcdfghjklmnpqrstvwxz"
		vowels = "aeiouy"
		digits = "0123456789"
		hexA   = "0123456789abcdef"
	)
	clip := func(s string) string {
		if len(s) > 63 {
			s = s[:63]
		}
		return s
	}
	length := func(lo, hi int) int { return lo + r.IntN(hi-lo+1) }

	styles := []struct {
		name string
		gen  func() func() string // a new made-up generator
	}{
		{"synthetic-gen-letters", func() func() string {
			lo, hi := genLength(r, 5, 16)
			a, c := skewed(r, letter)
			g := &genSpec{lo, hi, a, c}
			return func() string {
				var b strings.Builder
				for range length(g.lo, g.hi) {
					b.WriteByte(g.draw(r))
				}
				return b.String()
			}
		}},
		{"synthetic-gen-cv", func() func() string {
			lo, hi := genLength(r, 5, 14)
			ca, cc := skewed(r, cons)
			va, vc := skewed(r, vowels)
			C, V := &genSpec{0, 0, ca, cc}, &genSpec{0, 0, va, vc}
			// probability that a consonant follows a consonant and a
			// vowel a vowel: 0 is strict alternation
			pcc := 0.4 * r.Float64()
			pvv := 0.5 * r.Float64()
			return func() string {
				n := length(lo, hi)
				b := make([]byte, 0, n)
				vow := r.IntN(2) == 0
				for len(b) < n {
					if vow {
						b = append(b, V.draw(r))
						vow = r.Float64() < pvv
					} else {
						b = append(b, C.draw(r))
						vow = r.Float64() >= pcc
					}
				}
				return string(b)
			}
		}},
		{"synthetic-gen-template", func() func() string {
			// a fixed consonant/vowel class per position
			n := 6 + r.IntN(7)
			pv := 0.25 + 0.4*r.Float64()
			tmpl := make([]bool, n)
			for i := range tmpl {
				tmpl[i] = r.Float64() < pv
			}
			ca, cc := skewed(r, cons)
			va, vc := skewed(r, vowels)
			C, V := &genSpec{0, 0, ca, cc}, &genSpec{0, 0, va, vc}
			return func() string {
				b := make([]byte, n)
				for i, v := range tmpl {
					if v {
						b[i] = V.draw(r)
					} else {
						b[i] = C.draw(r)
					}
				}
				return string(b)
			}
		}},
		{"synthetic-gen-pairs", func() func() string {
			lo, hi := genLength(r, 3, 8) // in pairs
			k := 8 + r.IntN(56)
			a, c := skewed(r, letter)
			g := &genSpec{0, 0, a, c}
			table := make([]string, k)
			for i := range table {
				table[i] = string([]byte{g.draw(r), g.draw(r)})
			}
			return func() string {
				var b strings.Builder
				for range length(lo, hi) {
					b.WriteString(table[r.IntN(len(table))])
				}
				return b.String()
			}
		}},
		{"synthetic-gen-alnum", func() func() string {
			lo, hi := genLength(r, 3, 16)
			a, c := skewed(r, letter)
			g := &genSpec{0, 0, a, c}
			pd := 0.1 + 0.5*r.Float64() // digit share
			return func() string {
				for {
					var b strings.Builder
					nd := 0
					for range length(lo, hi) {
						if r.Float64() < pd {
							b.WriteByte(digits[r.IntN(10)])
							nd++
						} else {
							b.WriteByte(g.draw(r))
						}
					}
					if nd > 0 {
						return b.String()
					}
				}
			}
		}},
		{"synthetic-gen-hex", func() func() string {
			n := []int{8, 8, 8, 10, 12, 16, 16, 20, 24, 32, 32, 40}[r.IntN(12)]
			return func() string {
				b := make([]byte, n)
				for i := range b {
					b[i] = hexA[r.IntN(16)]
				}
				return string(b)
			}
		}},
	}
	var out []Family
	for _, st := range styles {
		for _, part := range []string{"-a", "-b"} {
			f := Family{Name: st.name + part}
			for range arithGenerators {
				g := st.gen()
				for range arithPerGen {
					f.Train = append(f.Train, clip(g())+"."+suffix(r))
				}
			}
			out = append(out, f)
		}
	}
	return out
}
