package dga

import (
	"math/bits"
	"strings"
)

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

// recip[c] = 1/c: the features divide by lengths and counts (1-64) with a
// multiply. (A label has at most 63 bytes, so n+1 <= 64; index 0 is never
// used for a division.)
var recip = func() (t [128]float64) {
	for c := 1; c < len(t); c++ {
		t[c] = 1 / float64(c)
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
	tld       nameTable[tldInfo] // by ICANN suffix
	tldOther  float32
}

// tldInfo is what the features know of an ICANN suffix: its prior and the
// class of its top-level label (cached so that scoring looks up one map).
type tldInfo struct {
	prior float32
	class uint8
}

// triLL is one trigram's log-probabilities, and 1 when benign names never
// have it.
type triLL struct {
	web, eng float32
	unseen   uint32
}

// pack builds tri from llWeb and llEnglish.
func (t *tables) pack() {
	t.tri = make([]triLL, len(t.llWeb))
	for k := range t.tri {
		t.tri[k] = triLL{web: t.llWeb[k], eng: t.llEnglish[k]}
		if t.seen[k>>6]&(1<<(k&63)) == 0 {
			t.tri[k].unseen = 1
		}
	}
}

// segState is the best cover of a prefix of the label.
type segState struct {
	key       uint16 // covered letters<<8 | (255 - words): more letters, then fewer words
	c5, lng   uint8  // letters in words of 5 or more, longest word
	infl, fw  uint8  // inflected words, function words
	fsum, fmn float32
}

// segment finds the cover of label by dictionary words (>= minWord letters,
// within runs of letters) that covers the most letters, then uses the fewest
// words, then has the most frequent words. It returns the covered letters,
// the number of words, the longest word, the letters covered by words of 5
// or more, the sum and minimum of the words' benign frequencies, the
// inflected words and the function words.
func (t *tables) segment(label string) (covered, nwords, longest, cover5 int, fsum, fmin float32, inflected, fwords int) {
	n := len(label)
	var st [maxLbl + 1]segState
	st[0] = segState{key: 255, fsum: 0, fmn: 1e9}
	for i := 1; i <= n; i++ {
		st[i] = segState{key: 255, fsum: -1, fmn: 1e9}
	}
	better := func(j int, s segState) {
		if s.key > st[j].key || (s.key == st[j].key && s.fsum > st[j].fsum) {
			st[j] = s
		}
	}
	nodes, pre3, wfreq := t.words.nodes, t.words.pre3, t.wfreq
	for i := 0; i < n; i++ {
		cur := st[i]
		// skip label[i]
		better(i+1, cur)
		if i+minWord > n {
			continue
		}
		c0, c1, c2 := uint32(label[i]-'a'), uint32(label[i+1]-'a'), uint32(label[i+2]-'a')
		if c0 > 25 || c1 > 25 || c2 > 25 {
			continue
		}
		// walk the trie from the node of label[i:i+3]
		idx := pre3[(c0*26+c1)*26+c2]
		if idx == 0 {
			continue
		}
		idx--
		nd := nodes[idx]
		for j := i + minWord - 1; j < n; j++ {
			if j >= i+minWord {
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
			}
			if nd.mask&wordBit == 0 {
				continue
			}
			l := j + 1 - i
			s := cur
			s.key += uint16(l)<<8 - 1
			if l >= 5 {
				s.c5 += uint8(l)
				if inflectedEnd(label[i : j+1]) {
					s.infl++
				}
			}
			if uint8(l) > s.lng {
				s.lng = uint8(l)
			}
			if nd.mask&funcBit != 0 {
				s.fw++
			}
			wf := wfreq[idx]
			s.fsum += wf
			if wf < s.fmn {
				s.fmn = wf
			}
			better(j+1, s)
		}
	}
	e := st[n]
	return int(e.key >> 8), 255 - int(e.key&255), int(e.lng), int(e.c5), e.fsum, e.fmn, int(e.infl), int(e.fw)
}

// features computes the feature vector of a site label (1-63 bytes of
// a-z, 0-9, '-', '_') under the ICANN suffix icann. It does not allocate.
func (t *tables) features(label, icann string, ddns bool, f *[numFeatures]float64) {
	n := len(label)
	var counts [nSym + 10]uint8 // symbols, with digits kept apart for entropy
	var present uint64          // bit s: counts[s] > 0
	letters, vowels, digits, hyphens := 0, 0, 0, 0
	consRun, maxCons, trans := 0, 0, 0
	hex := true
	lastDigit := -1
	prevClass := uint8(0) // ccLetter, ccDigit or 0
	// the characters
	for i := 0; i < n; i++ {
		ci := charInfo[label[i]]
		cnt := ci.cnt
		counts[cnt]++
		present |= 1 << cnt
		switch ci.class {
		case ccLetter:
			letters++
			if ci.vowel {
				vowels++
				consRun = 0
			} else {
				consRun++
				maxCons = max(maxCons, consRun)
			}
			hex = hex && ci.hex
		case ccDigit:
			digits++
			lastDigit = i
			consRun = 0
		default:
			hyphens++
			hex = false
			consRun = 0
		}
		if prevClass|ci.class == ccLetter|ccDigit {
			trans++
		}
		prevClass = ci.class &^ ccHyph
	}
	// the n-grams, the label's boundaries included
	var sumLL, sumLLE float64
	minLL := 0.0
	unseen := uint32(0)
	sumQ, maxQ := 0, 0
	tri, quad := t.tri, t.quad
	prev := uint32(symB)           // the symbol before this one
	ab := uint32(symB*nSym + symB) // the two symbols before this one
	kq := uint32(symB)             // the three symbols before this one
	for i := 0; i <= n; i++ {
		s := uint32(symB)
		if i < n {
			s = uint32(symOf[label[i]])
		}
		k := ab*nSym + s
		tl := tri[k]
		ll := float64(tl.web)
		sumLL += ll
		sumLLE += float64(tl.eng)
		if ll < minLL {
			minLL = ll
		}
		unseen += tl.unseen
		q := int(quad[kq*nSym+s])
		sumQ += q
		maxQ = max(maxQ, q)
		kq = k
		ab = prev*nSym + s
		prev = s
	}
	distinct := bits.OnesCount64(present)
	sumxlx := 0.0
	for m := present; m != 0; m &= m - 1 {
		// ascending symbol order, as the sum has always been taken
		sumxlx += xlogx[counts[bits.TrailingZeros64(m)&63]]
	}
	fn := float64(n)
	covered, nwords, longest, cover5, fsum, fmin, inflected, fwords := t.segment(label)
	f[fInflected] = float64(inflected)
	f[fFuncWords] = float64(fwords)
	if nwords > 0 {
		f[fWordFreqMean] = float64(fsum) * recip[nwords&127]
		f[fWordFreqMin] = float64(fmin)
	} else {
		f[fWordFreqMean], f[fWordFreqMin] = -1, -1
	}

	f[fLen] = fn
	rn, rn1 := recip[n&127], recip[(n+1)&127]
	f[fEntropy] = lnTab[n] - sumxlx*rn
	if letters > 0 {
		rl := recip[letters&127]
		f[fVowel] = float64(vowels) * rl
		f[fCover] = float64(covered) * rl
		f[fCover5] = float64(cover5) * rl
	} else {
		f[fVowel], f[fCover], f[fCover5] = 0, 0, 0
	}
	f[fDigit] = float64(digits) * rn
	f[fHyphen] = float64(hyphens)
	f[fConsRun] = float64(maxCons)
	f[fTransitions] = float64(trans)
	f[fDistinct] = float64(distinct) * rn
	f[fLLWeb] = sumLL * rn1
	f[fLLEnglish] = sumLLE * rn1
	f[fLLGap] = f[fLLWeb] - f[fLLEnglish]
	f[fUnseen] = float64(unseen) * rn1
	f[fLL4] = -float64(sumQ) * quadQ * rn1
	f[fMinLL4] = -float64(maxQ) * quadQ
	f[fMinLL] = minLL
	if hex && digits > 0 && letters > 0 && n >= 8 {
		f[fHex] = 1
	} else {
		f[fHex] = 0
	}
	f[fWords] = float64(nwords)
	if nwords > 0 {
		f[fMeanWord] = float64(covered) * recip[nwords&127]
	} else {
		f[fMeanWord] = 0
	}
	f[fLongest] = float64(longest) * rn
	if nwords >= 2 && letters > 0 && covered == letters {
		f[fAllWords] = 1
	} else {
		f[fAllWords] = 0
	}
	f[fUncovered] = float64(letters - covered)
	ti, ok := t.tld.get(icann)
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

// Character classes of the feature loop (bit flags).
const (
	ccLetter = 1 << iota
	ccDigit
	ccHyph
)

// charInfo is what the feature loop needs to know of a label byte.
type charInfoT struct {
	sym   uint8 // n-gram symbol
	cnt   uint8 // entropy bucket: the symbol, digits apart
	class uint8
	vowel bool
	hex   bool // a-f
}

var charInfo = func() (t [256]charInfoT) {
	for c := 0; c < 256; c++ {
		ch := byte(c)
		ci := charInfoT{sym: symOf[ch]}
		switch {
		case ch >= 'a' && ch <= 'z':
			ci.class, ci.cnt = ccLetter, ci.sym
			ci.vowel = strings.IndexByte("aeiou", ch) >= 0
			ci.hex = ch <= 'f'
		case ch >= '0' && ch <= '9':
			ci.class, ci.cnt = ccDigit, uint8(nSym+int(ch-'0'))
		default:
			// '-', '_' (labels hold nothing else)
			ci.class, ci.cnt = ccHyph, symH
		}
		t[c] = ci
	}
	return
}()

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
