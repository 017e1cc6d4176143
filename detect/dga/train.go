package dga

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
)

// TrainVersion is the version of the models this trainer writes; bump it
// when training or its data change.
const TrainVersion = "dga-2026.11.3"

// Corpus is the training material, already read into memory (training does
// no I/O; ./cmd/train and ./cmd/eval read ../shared).
type Corpus struct {
	Benign   []string // benign names (Alexa top sites)
	Families []Family // DGA families
	Words    []string // dictionary words (wamerican)
}

// Family is one DGA family's names.
type Family struct {
	Name       string
	Train      []string // names of the training dates
	Validation []string // names of other dates (may be empty)
}

// Benign split: by a hash of the name, deterministic.
const (
	SplitNgram = iota // trains the n-gram tables
	SplitFit          // trains the classifier
	SplitCalib        // Platt scaling and the default threshold
	SplitTest         // kept out of everything: false positive rates
)

// BenignSplit says which split a benign name belongs to.
func BenignSplit(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	switch v := h.Sum32() % 10; {
	case v < 4:
		return SplitNgram
	case v < 6:
		return SplitFit
	case v < 8:
		return SplitCalib
	default:
		return SplitTest
	}
}

// foldOf is the cross-fitting fold of a name, independent of BenignSplit.
func foldOf(name string, folds int) int {
	h := fnv.New64a()
	h.Write([]byte(name))
	h.Write([]byte{0xf0})
	return int(h.Sum64() % uint64(folds))
}

// dgaCalib says whether a DGA training name goes to calibration (20%).
func dgaCalib(name string) bool {
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32()%5 == 0
}

type sample struct {
	icann string
	f     [numFeatures]float64
	w     float64
	fam   int // -1 benign
}

// Trainer holds what does not depend on which families are trained on: the
// n-gram tables, the word trie and the features of every sample. Fit then
// trains the TLD prior, the classifier and the calibration.
type Trainer struct {
	tab      tables
	words    string
	wcount   map[string]uint32
	famNames []string
	fit      []sample // benign fit split + DGA fit names
	calib    []sample // benign calib split + DGA calib names
	Dropped  int      // training names that were not scorable or benign traps
	Version  string
	Meta     map[string]string
	GBDT     gbdtParams
	// BenignShare is the benign names' share of the training weight.
	BenignShare float64
	// Exclude is the family left out by Fit ("" for none).
}

// TrainOptions tune the trainer.
type TrainOptions struct {
	Version      string
	MaxPerFamily int     // at most this many training names per family (0: 5000)
	BenignEvery  int     // use every k-th benign name of the fit/calib splits (0: 1), for smoke runs
	Trees        int     // boosted trees (0: the default)
	Rate         float64 // learning rate (0: the default)
	NoSynthetic  bool    // leave out the synthetic families and the benign augmentation (synth.go)
	BenignShare  float64 // benign share of the tree-fitting weight (0: 0.8)
	Folds        int     // cross-fitting folds of the benign pool (0: 6)
	Bins         int     // candidate split points a feature, plus one (0: 64)
}

// NewTrainer builds the n-gram tables and the features.
func NewTrainer(c *Corpus, o TrainOptions) (*Trainer, error) {
	if len(c.Benign) == 0 || len(c.Families) == 0 || len(c.Words) == 0 {
		return nil, errors.New("dga: train: need benign names, DGA families and words")
	}
	if o.MaxPerFamily <= 0 {
		o.MaxPerFamily = 5000
	}
	if o.BenignEvery <= 0 {
		o.BenignEvery = 1
	}
	if o.Folds <= 1 {
		o.Folds = 6
	}
	t := &Trainer{Version: o.Version, Meta: map[string]string{}, GBDT: defaultGBDT, BenignShare: 0.8}
	if o.BenignShare > 0 {
		t.BenignShare = o.BenignShare
	}
	if o.Trees > 0 {
		t.GBDT.trees = o.Trees
	}
	if o.Bins > 1 && o.Bins <= 256 {
		t.GBDT.bins = o.Bins
	}
	if o.Rate > 0 {
		t.GBDT.rate = o.Rate
	}
	words := make([]string, 0, len(c.Words))
	for _, w := range c.Words {
		w = strings.ToLower(strings.TrimSpace(w))
		if len(w) >= minWord && isLower(w) {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	words = dedupSorted(words)
	t.words = strings.Join(words, "\n")
	t.tab.words = newTrie(words)

	var eng ngramCounts
	for _, w := range words {
		eng.add(w)
	}
	llEnglish := eng.logProbs()

	// Cross-fitting. The n-gram and word tables are learnt from benign
	// names, and a name's features must not come from tables that saw it.
	// The benign pool for tables and fitting (the n-gram and fit splits) is
	// cut into o.Folds folds; the features of a fitting name of fold k come
	// from tables built on the other folds, so every pooled name both feeds
	// the tables and teaches the trees. The model's own tables are built on
	// the whole pool; calibration names (kept out of the pool) are featured
	// with those, so Platt scaling and the threshold see exactly what
	// scoring will see. DGA fitting names are spread over the folds the same
	// way, so the trees compare like with like.
	var pool, calB []parsed
	for i, n := range c.Benign {
		p, skip := parseName(n)
		if skip != "" || trapReason(p) != "" {
			t.Dropped++
			continue
		}
		switch BenignSplit(p.ascii) {
		case SplitNgram, SplitFit:
			pool = append(pool, p)
		case SplitCalib:
			if i%o.BenignEvery == 0 {
				calB = append(calB, p)
			}
		}
	}
	build := func(skipFold int) (tables, map[string]uint32) {
		var web ngramCounts
		for _, p := range pool {
			if skipFold < 0 || foldOf(p.ascii, o.Folds) != skipFold {
				web.add(p.siteLabel())
			}
		}
		tab := tables{words: t.tab.words, llEnglish: llEnglish}
		wc := map[string]uint32{}
		for _, lbl := range web.labels {
			for _, w := range tab.words.segmentWords(lbl) {
				wc[w]++
			}
		}
		tab.wfreq = wordFreqs(tab.words, wc)
		tab.llWeb = web.logProbs()
		tab.seen = web.seenSet()
		tab.quad = web.quadTable(tab.llWeb)
		tab.pack()
		tab.tld = nameTable[tldInfo]{}
		return tab, wc
	}
	t.tab, t.wcount = build(-1)
	foldTab := make([]tables, o.Folds)
	for k := range foldTab {
		foldTab[k], _ = build(k)
	}
	fitSample := func(p parsed, fam int) sample {
		s := sample{icann: p.icann, fam: fam}
		tab := &foldTab[foldOf(p.ascii, o.Folds)]
		tab.features(p.siteLabel(), p.icann, p.ddns, &s.f)
		return s
	}
	nfit := 0
	for i, p := range pool {
		if i%o.BenignEvery == 0 {
			t.fit = append(t.fit, fitSample(p, -1))
			nfit++
		}
	}
	if !o.NoSynthetic {
		labels := make([]string, len(pool))
		for i, p := range pool {
			labels[i] = p.siteLabel()
		}
		for i, n := range benignAugment(labels) {
			if n == "" || i%o.BenignEvery != 0 {
				continue
			}
			a, skip := parseName(n)
			if skip != "" {
				continue
			}
			// featured with the tables of the fold of the name the label
			// came from, which never saw it
			s := sample{icann: a.icann, fam: -1}
			foldTab[foldOf(pool[i].ascii, o.Folds)].features(a.siteLabel(), a.icann, a.ddns, &s.f)
			t.fit = append(t.fit, s)
			nfit++
		}
	}
	for _, p := range calB {
		t.calib = append(t.calib, t.sample(p, -1))
	}
	fams := append([]Family(nil), c.Families...)
	if !o.NoSynthetic {
		var sfx []string
		for _, p := range pool {
			if BenignSplit(p.ascii) == SplitFit {
				sfx = append(sfx, p.suffix)
			}
		}
		var common []string
		for w, n := range t.wcount {
			if n >= 2 && len(w) <= 10 {
				common = append(common, w)
			}
		}
		sort.Strings(common)
		fams = append(fams, synthFamilies(words, common, sfx)...)
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].Name < fams[j].Name })
	for fi, f := range fams {
		t.famNames = append(t.famNames, f.Name)
		names := f.Train
		if len(names) > o.MaxPerFamily {
			names = spread(names, o.MaxPerFamily)
		}
		for _, n := range names {
			p, skip := parseName(n)
			if skip != "" || trapReason(p) != "" {
				t.Dropped++
				continue
			}
			if dgaCalib(p.ascii) {
				t.calib = append(t.calib, t.sample(p, fi))
			} else {
				t.fit = append(t.fit, fitSample(p, fi))
			}
		}
	}
	t.Meta["folds"] = fmt.Sprint(o.Folds)
	t.Meta["benign_pool"] = fmt.Sprint(len(pool))
	t.Meta["benign_fit"] = fmt.Sprint(nfit)
	t.Meta["benign_calib"] = fmt.Sprint(len(calB))
	t.Meta["families"] = strings.Join(t.famNames, ",")
	t.Meta["words"] = fmt.Sprint(len(words))
	return t, nil
}

// spread picks k names evenly over names, deterministically.
func spread(names []string, k int) []string {
	out := make([]string, 0, k)
	for i := 0; i < k; i++ {
		out = append(out, names[i*len(names)/k])
	}
	return out
}

func (t *Trainer) sample(p parsed, fam int) sample {
	s := sample{icann: p.icann, fam: fam}
	t.tab.features(p.siteLabel(), p.icann, p.ddns, &s.f)
	return s
}

// Families lists the training families, sorted.
func (t *Trainer) Families() []string { return append([]string(nil), t.famNames...) }

// Fit trains the TLD prior, the logistic regression and its calibration,
// leaving out the family named exclude ("" for none).
func (t *Trainer) Fit(exclude string) (*Model, *File, error) {
	ex := -1
	for i, n := range t.famNames {
		if n == exclude {
			ex = i
		}
	}
	if exclude != "" && ex < 0 {
		return nil, nil, fmt.Errorf("dga: train: no family %q", exclude)
	}
	// The trees see benign names weighted up (they decide the low-FPR tail);
	// calibration uses the 50/50 prior.
	fit := weigh(t.fit, ex, len(t.famNames), t.BenignShare)
	calib := weigh(t.calib, ex, len(t.famNames), 0.5)

	tld, other := tldPrior(fit)
	for _, set := range [][]sample{fit, calib} {
		for i := range set {
			v, ok := tld[set[i].icann]
			if !ok {
				v = other
			}
			set[i].f[fTLD] = float64(v)
		}
	}
	fo := trainForest(fit, t.GBDT)
	z := make([]float64, len(calib))
	for i := range calib {
		z[i] = fo.margin(&calib[i].f)
	}
	pa, pb := platt(z, calib)
	var benign []float64
	for i := range calib {
		if calib[i].fam < 0 {
			benign = append(benign, sigmoid(pa*z[i]+pb))
		}
	}
	thr := thresholdAt(benign, 1e-3)
	f := &File{
		Version: t.Version, Features: FeatureNames[:],
		Depth: fo.depth, Base: fo.base, Feat: fo.feat, Thr: fo.thr, Leaf: fo.leaf,
		PlattA: pa, PlattB: pb, Threshold: thr,
		TLD: tld, TLDOther: other,
		LLWeb: t.tab.llWeb, LLEnglish: t.tab.llEnglish, Seen: t.tab.seen, Quad: t.tab.quad,
		Words: t.words, WordFreq: t.wcount, Meta: t.Meta,
	}
	m, err := fromFile(f)
	if err != nil {
		return nil, nil, err
	}
	return m, f, nil
}

// weigh copies the samples without family ex and sets weights: each class
// totals 0.5; a family's share grows with its size up to 1000 names, so no
// family dominates and tiny ones do not get huge per-name weights.
func weigh(in []sample, ex, nfam int, benignShare float64) []sample {
	out := make([]sample, 0, len(in))
	famN := make([]int, nfam)
	nb := 0
	for _, s := range in {
		if s.fam == ex && s.fam >= 0 {
			continue
		}
		if s.fam < 0 {
			nb++
		} else {
			famN[s.fam]++
		}
		out = append(out, s)
	}
	share := make([]float64, nfam)
	tot := 0.0
	for i, n := range famN {
		share[i] = math.Min(float64(n), 1000)
		tot += share[i]
	}
	for i := range out {
		if out[i].fam < 0 {
			out[i].w = benignShare / float64(nb)
		} else {
			f := out[i].fam
			out[i].w = (1 - benignShare) * share[f] / tot / float64(famN[f])
		}
	}
	return out
}

// tldPrior is the smoothed log ratio P(suffix | DGA) / P(suffix | benign),
// clipped to [-3, 3], and the value for unseen suffixes (0).
func tldPrior(s []sample) (map[string]float32, float32) {
	cd, cb := map[string]float64{}, map[string]float64{}
	var nd, nb float64
	for _, x := range s {
		if x.fam < 0 {
			cb[x.icann] += x.w
			nb += x.w
		} else {
			cd[x.icann] += x.w
			nd += x.w
		}
	}
	keys := map[string]bool{}
	for k := range cd {
		keys[k] = true
	}
	for k := range cb {
		keys[k] = true
	}
	v := float64(len(keys) + 1)
	// pseudo-counts of one benign-sized name per suffix in each class
	ad, ab := nd/float64(len(s))*20, nb/float64(len(s))*20
	out := map[string]float32{}
	for k := range keys {
		pd := (cd[k] + ad) / (nd + ad*v)
		pb := (cb[k] + ab) / (nb + ab*v)
		r := math.Max(-3, math.Min(3, math.Log(pd/pb)))
		out[k] = float32(r)
	}
	return out, 0
}

// platt fits P = sigmoid(a z + b) on the weighted calibration set (each
// class totals 0.5: a 50/50 prior), with Platt's target smoothing.
func platt(z []float64, s []sample) (a, b float64) {
	var np, nn float64
	for _, x := range s {
		if x.fam >= 0 {
			np++
		} else {
			nn++
		}
	}
	tp, tn := (np+1)/(np+2), 1/(nn+2)
	a, b = 1, 0
	for iter := 0; iter < 50; iter++ {
		var g0, g1, h00, h01, h11 float64
		for i, x := range s {
			y := tn
			if x.fam >= 0 {
				y = tp
			}
			p := sigmoid(a*z[i] + b)
			r := x.w * (p - y)
			q := x.w*p*(1-p) + 1e-12
			g0 += r * z[i]
			g1 += r
			h00 += q * z[i] * z[i]
			h01 += q * z[i]
			h11 += q
		}
		det := h00*h11 - h01*h01
		if det == 0 {
			break
		}
		da := (h11*g0 - h01*g1) / det
		db := (h00*g1 - h01*g0) / det
		a -= da
		b -= db
		if math.Abs(da)+math.Abs(db) < 1e-10 {
			break
		}
	}
	return a, b
}

// thresholdAt returns the smallest threshold t such that the share of
// benign scores >= t is at most fpr.
func thresholdAt(benign []float64, fpr float64) float64 {
	if len(benign) == 0 {
		return 0.5
	}
	s := append([]float64(nil), benign...)
	sort.Sort(sort.Reverse(sort.Float64Slice(s)))
	k := int(math.Floor(fpr * float64(len(s))))
	if k >= len(s) {
		return 0
	}
	return math.Min(1, math.Nextafter(s[k], 2))
}

// ngramCounts counts trigrams over the n-gram symbols.
type ngramCounts struct {
	tri    []float64
	labels []string
}

func (c *ngramCounts) add(label string) {
	c.labels = append(c.labels, label)
	if c.tri == nil {
		c.tri = make([]float64, nTri)
	}
	a, b := uint32(symB), uint32(symB)
	for i := 0; i <= len(label); i++ {
		s := uint32(symB)
		if i < len(label) {
			s = uint32(symOf[label[i]])
		}
		c.tri[(a*nSym+b)*nSym+s]++
		a, b = b, s
	}
}

func (c *ngramCounts) seenSet() []uint64 {
	out := make([]uint64, (nTri+63)/64)
	for k, v := range c.tri {
		if v > 0 {
			out[k>>6] |= 1 << (k & 63)
		}
	}
	return out
}

// logProbs returns log P(c | a b) with interpolated absolute discounting.
func (c *ngramCounts) logProbs() []float32 {
	const disc = 0.75
	if c.tri == nil {
		c.tri = make([]float64, nTri)
	}
	var uni [nSym]float64
	var bi [nSym * nSym]float64
	for k, v := range c.tri {
		bi[k%(nSym*nSym)] += v
		uni[k%nSym] += v
	}
	totU := 0.0
	for _, v := range uni {
		totU += v
	}
	var p1 [nSym]float64
	for s := range p1 {
		p1[s] = (uni[s] + 1) / (totU + nSym)
	}
	var p2 [nSym * nSym]float64
	for b := 0; b < nSym; b++ {
		tot, types := 0.0, 0.0
		for s := 0; s < nSym; s++ {
			v := bi[b*nSym+s]
			tot += v
			if v > 0 {
				types++
			}
		}
		for s := 0; s < nSym; s++ {
			if tot == 0 {
				p2[b*nSym+s] = p1[s]
				continue
			}
			p2[b*nSym+s] = math.Max(bi[b*nSym+s]-disc, 0)/tot + disc*types/tot*p1[s]
		}
	}
	out := make([]float32, nTri)
	for ab := 0; ab < nSym*nSym; ab++ {
		tot, types := 0.0, 0.0
		for s := 0; s < nSym; s++ {
			v := c.tri[ab*nSym+s]
			tot += v
			if v > 0 {
				types++
			}
		}
		b := ab % nSym
		for s := 0; s < nSym; s++ {
			var p float64
			if tot == 0 {
				p = p2[b*nSym+s]
			} else {
				p = math.Max(c.tri[ab*nSym+s]-disc, 0)/tot + disc*types/tot*p2[b*nSym+s]
			}
			out[ab*nSym+s] = float32(math.Log(p))
		}
	}
	return out
}

// quadTable returns -log P(d | a b c) / quadQ, clipped to 255, with
// interpolated absolute discounting over the trigram probabilities tri.
func (c *ngramCounts) quadTable(tri []float32) []uint8 {
	const disc = 0.75
	cnt := make(map[uint32]float64)
	for _, l := range c.labels {
		z, a, b := uint32(symB), uint32(symB), uint32(symB)
		for i := 0; i <= len(l); i++ {
			s := uint32(symB)
			if i < len(l) {
				s = uint32(symOf[l[i]])
			}
			cnt[((z*nSym+a)*nSym+b)*nSym+s]++
			z, a, b = a, b, s
		}
	}
	ctxTot := make([]float64, nTri)
	ctxTypes := make([]float64, nTri)
	for k, v := range cnt {
		ctxTot[k/nSym] += v
		ctxTypes[k/nSym]++
	}
	out := make([]uint8, nQuad)
	for ctx := 0; ctx < nTri; ctx++ {
		bc := ctx % (nSym * nSym)
		for d := 0; d < nSym; d++ {
			p3 := math.Exp(float64(tri[bc*nSym+d]))
			p := p3
			if tot := ctxTot[ctx]; tot > 0 {
				p = math.Max(cnt[uint32(ctx*nSym+d)]-disc, 0)/tot + disc*ctxTypes[ctx]/tot*p3
			}
			q := math.Round(-math.Log(p) / quadQ)
			out[ctx*nSym+d] = uint8(math.Min(255, math.Max(0, q)))
		}
	}
	return out
}
