package dga

import "math/bits"

// Symbols of the character n-gram models: 0 is the boundary (start or end
// of the label), 1-26 the letters, 27 any digit, 28 '-' or '_'.
const (
	nSym    = 29
	symB    = 0
	symD    = 27
	symH    = 28
	nTri    = nSym * nSym * nSym
	nQuad   = nTri * nSym
	quadQ   = 0.1 // log-probability step of the quantised 4-gram table
	minWord = 3   // shortest dictionary word used in segmentation
	maxLbl  = 63
)

var symOf = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = uint8(c-'a') + 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = symD
	}
	t['-'], t['_'] = symH, symH
	return
}()

// Feature indexes. The order is part of the model file: append only.
const (
	fLen = iota
	fEntropy
	fVowel
	fDigit
	fHyphen
	fConsRun
	fTransitions
	fDistinct
	fLLWeb
	fLLEnglish
	fUnseen
	fMinLL
	fHex
	fCover
	fWords
	fMeanWord
	fLongest
	fAllWords
	fCover5
	fTLD
	fShort
	fLong
	fUncovered
	fDigitsEnd
	fLLGap
	fWordFreqMean
	fWordFreqMin
	fLL4
	fMinLL4
	fInflected
	fDDNS
	fTLDInternal
	fTLDUnknown
	fFuncWords
	numFeatures
)

// FeatureNames name the features, in order (for the model file and eval).
var FeatureNames = [numFeatures]string{
	"len", "entropy", "vowel_frac", "digit_frac", "hyphens", "max_consonant_run",
	"letter_digit_transitions", "distinct_frac", "ll_web", "ll_english",
	"unseen_trigram_frac", "min_ll_web", "hex", "word_cover", "words",
	"mean_word_len", "longest_word_frac", "all_words", "word_cover_5plus", "tld_prior",
	"short", "long", "uncovered_letters", "digits_only_at_end", "ll_web_minus_english",
	"word_benign_freq_mean", "word_benign_freq_min",
	"ll4_web", "min_ll4_web", "inflected_words",
	"dynamic_dns", "tld_internal", "tld_unknown",
	"function_words",
}

// xlogx[c] = c*ln(c), for entropy without calling math.Log per symbol.
var xlogx = func() (t [maxLbl + 2]float64) {
	for c := 2; c < len(t); c++ {
		t[c] = float64(c) * ln(float64(c))
	}
	return
}()

var lnTab = func() (t [maxLbl + 2]float64) {
	for c := 1; c < len(t); c++ {
		t[c] = ln(float64(c))
	}
	return
}()

// tables is what the features need besides the label: the n-gram tables,
// the word trie and the TLD prior.
type tables struct {
	llWeb     []float32 // log P(c | a b) on benign names, index (a*nSym+b)*nSym+c
	llEnglish []float32 // the same on dictionary words
	tri       []triLL   // llWeb and llEnglish side by side (pack): one cache line per trigram
	seen      []uint64  // bitset: trigram seen in benign names
	quad      []uint8   // -log P(d | a b c) on benign names / quadQ, index ((a*nSym+b)*nSym+c)*nSym+d
	words     *trie
	wfreq     []float32          // per trie node: log(1 + times the word appears in benign names)
	tld       map[string]tldInfo // by ICANN suffix
	tldOther  float32
}

// tldInfo is what the features know of an ICANN suffix: its prior and the
// class of its top-level label (cached so that scoring looks up one map).
type tldInfo struct {
	prior float32
	class uint8
}

// triLL is one trigram's log-probabilities.
type triLL struct{ web, eng float32 }

// pack builds tri from llWeb and llEnglish.
func (t *tables) pack() {
	t.tri = make([]triLL, len(t.llWeb))
	for k := range t.tri {
		t.tri[k] = triLL{t.llWeb[k], t.llEnglish[k]}
	}
}

// segment finds the cover of label by dictionary words (>= minWord letters,
// within runs of letters) that covers the most letters, then uses the fewest
// words. It returns the covered letters, the number of words, the longest
// word, the letters covered by words of 5 or more, the sum and minimum of
// the words' benign frequencies, the inflected words and the function words.
func (t *tables) segment(label string) (covered, nwords, longest, cover5 int, fsum, fmin float32, inflected, fwords int) {
	n := len(label)
	var cov, cnt, c5, lng, infl, fw [maxLbl + 1]uint8
	var fs, fm [maxLbl + 1]float32
	fs[0], fm[0] = 0, 1e9
	better := func(j int, c, w, five, l uint8, sum, mn float32, in, fn uint8) {
		if c > cov[j] || (c == cov[j] && w < cnt[j]) || (c == cov[j] && w == cnt[j] && sum > fs[j]) {
			cov[j], cnt[j], c5[j], lng[j], fs[j], fm[j], infl[j], fw[j] = c, w, five, l, sum, mn, in, fn
		}
	}
	for i := 1; i <= n; i++ {
		fs[i], fm[i] = -1, 1e9
	}
	for i := 0; i < n; i++ {
		// skip label[i]
		better(i+1, cov[i], cnt[i], c5[i], lng[i], fs[i], fm[i], infl[i], fw[i])
		if label[i]-'a' > 25 {
			continue
		}
		// walk the trie from label[i], keeping the current node's value
		nodes := t.words.nodes
		idx := uint32(0)
		nd := nodes[0]
		for j := i; j < n; j++ {
			c := label[j] - 'a'
			if c > 25 {
				break
			}
			bit := uint32(1) << c
			if nd.mask&bit == 0 {
				break
			}
			idx = nd.first + uint32(bits.OnesCount32(nd.mask&(bit-1)))
			nd = nodes[idx]
			if l := j + 1 - i; l >= minWord && nd.mask&wordBit != 0 {
				node := idx
				five := c5[i]
				if l >= 5 {
					five += uint8(l)
				}
				lg := lng[i]
				if uint8(l) > lg {
					lg = uint8(l)
				}
				wf := t.wfreq[node]
				mn := fm[i]
				if wf < mn {
					mn = wf
				}
				in := infl[i]
				if l >= 5 && inflectedEnd(label[i:j+1]) {
					in++
				}
				fn := fw[i]
				if nd.mask&funcBit != 0 {
					fn++
				}
				better(j+1, cov[i]+uint8(l), cnt[i]+1, five, lg, fs[i]+wf, mn, in, fn)
			}
		}
	}
	return int(cov[n]), int(cnt[n]), int(lng[n]), int(c5[n]), fs[n], fm[n], int(infl[n]), int(fw[n])
}

// features computes the feature vector of a site label (1-63 bytes of
// a-z, 0-9, '-', '_') under the ICANN suffix icann. It does not allocate.
func (t *tables) features(label, icann string, ddns bool, f *[numFeatures]float64) {
	n := len(label)
	var counts [nSym + 10]uint8 // symbols, with digits kept apart for entropy
	letters, vowels, digits, hyphens := 0, 0, 0, 0
	consRun, maxCons, trans := 0, 0, 0
	var sumLL, sumLLE float64
	minLL := 0.0
	unseen := 0
	hex := true
	lastDigit := -1
	prevClass := 0 // 1 letter, 2 digit
	a, b := uint32(symB), uint32(symB)
	z := uint32(symB) // the symbol before a
	sumQ, maxQ := 0, 0
	for i := 0; i <= n; i++ {
		var s uint32
		if i < n {
			ch := label[i]
			s = uint32(symOf[ch])
			class := 0
			switch {
			case s >= 1 && s <= 26:
				letters++
				class = 1
				counts[s]++
				switch ch {
				case 'a', 'e', 'i', 'o', 'u':
					vowels++
					consRun = 0
				default:
					consRun++
					if consRun > maxCons {
						maxCons = consRun
					}
				}
				if ch > 'f' {
					hex = false
				}
			case s == symD:
				digits++
				class = 2
				counts[nSym+int(ch-'0')]++
				lastDigit = i
				consRun = 0
			default:
				hyphens++
				counts[symH]++
				hex = false
				consRun = 0
			}
			if class != 0 && prevClass != 0 && class != prevClass {
				trans++
			}
			prevClass = class
		}
		k := (a*nSym+b)*nSym + s
		tl := t.tri[k]
		ll := float64(tl.web)
		sumLL += ll
		sumLLE += float64(tl.eng)
		if ll < minLL {
			minLL = ll
		}
		if t.seen[k>>6]&(1<<(k&63)) == 0 {
			unseen++
		}
		q := int(t.quad[(z*nSym+a)*nSym*nSym+b*nSym+s])
		sumQ += q
		if q > maxQ {
			maxQ = q
		}
		z, a, b = a, b, s
	}
	distinct := 0
	sumxlx := 0.0
	for _, c := range counts {
		if c > 0 {
			distinct++
			sumxlx += xlogx[c]
		}
	}
	fn := float64(n)
	covered, nwords, longest, cover5, fsum, fmin, inflected, fwords := t.segment(label)
	f[fInflected] = float64(inflected)
	f[fFuncWords] = float64(fwords)
	if nwords > 0 {
		f[fWordFreqMean] = float64(fsum) / float64(nwords)
		f[fWordFreqMin] = float64(fmin)
	} else {
		f[fWordFreqMean], f[fWordFreqMin] = -1, -1
	}

	f[fLen] = fn
	f[fEntropy] = lnTab[n] - sumxlx/fn
	if letters > 0 {
		f[fVowel] = float64(vowels) / float64(letters)
		f[fCover] = float64(covered) / float64(letters)
		f[fCover5] = float64(cover5) / float64(letters)
	} else {
		f[fVowel], f[fCover], f[fCover5] = 0, 0, 0
	}
	f[fDigit] = float64(digits) / fn
	f[fHyphen] = float64(hyphens)
	f[fConsRun] = float64(maxCons)
	f[fTransitions] = float64(trans)
	f[fDistinct] = float64(distinct) / fn
	f[fLLWeb] = sumLL / (fn + 1)
	f[fLLEnglish] = sumLLE / (fn + 1)
	f[fLLGap] = f[fLLWeb] - f[fLLEnglish]
	f[fUnseen] = float64(unseen) / (fn + 1)
	f[fLL4] = -float64(sumQ) * quadQ / (fn + 1)
	f[fMinLL4] = -float64(maxQ) * quadQ
	f[fMinLL] = minLL
	if hex && digits > 0 && letters > 0 && n >= 8 {
		f[fHex] = 1
	} else {
		f[fHex] = 0
	}
	f[fWords] = float64(nwords)
	if nwords > 0 {
		f[fMeanWord] = float64(covered) / float64(nwords)
	} else {
		f[fMeanWord] = 0
	}
	f[fLongest] = float64(longest) / fn
	if nwords >= 2 && letters > 0 && covered == letters {
		f[fAllWords] = 1
	} else {
		f[fAllWords] = 0
	}
	f[fUncovered] = float64(letters - covered)
	ti, ok := t.tld[icann]
	if !ok {
		ti = tldInfo{prior: t.tldOther, class: uint8(tldClass(icann))}
	}
	f[fTLD] = float64(ti.prior)
	f[fDDNS], f[fTLDInternal], f[fTLDUnknown] = 0, 0, 0
	if ddns {
		f[fDDNS] = 1
	}
	switch ti.class {
	case tldInternal:
		f[fTLDInternal] = 1
	case tldUnknown:
		f[fTLDUnknown] = 1
	}
	f[fShort], f[fLong] = 0, 0
	if n <= 6 {
		f[fShort] = 1
	}
	if n >= 16 {
		f[fLong] = 1
	}
	f[fDigitsEnd] = 0
	if digits > 0 && lastDigit == n-1 {
		// all digits form one run at the end
		run := 0
		for i := n - 1; i >= 0 && symOf[label[i]] == symD; i-- {
			run++
		}
		if run == digits {
			f[fDigitsEnd] = 1
		}
	}
}

// inflectedEnd reports whether a dictionary word ends like an inflected or
// derived form (-ing, -ed, -s, -ly, -tion, -ment, -ness, -able); wordlist
// DGAs draw such forms far more often than names people choose.
func inflectedEnd(w string) bool {
	n := len(w)
	switch {
	case n >= 5 && w[n-3:] == "ing", n >= 5 && w[n-2:] == "ed", n >= 5 && w[n-2:] == "ly":
		return true
	case n >= 6 && (w[n-4:] == "tion" || w[n-4:] == "ment" || w[n-4:] == "ness" || w[n-4:] == "able"):
		return true
	case n >= 5 && w[n-1] == 's' && w[n-2] != 's':
		return true
	}
	return false
}
