package dga

import (
	"math"
	"sort"
)

// forest is a gradient-boosted ensemble of oblivious trees: every node of a
// level uses the same split, so a tree of depth d is d (feature, threshold)
// pairs and 2^d leaves, and evaluating it is d independent comparisons
// building the leaf index bit by bit (fast, branch-light, cache friendly).
type forest struct {
	depth int
	feat  []uint8   // tree t, level l at t*depth+l
	thr   []float64 // go to the "1" side when the feature is > thr
	leaf  []float64 // tree t's leaves at t<<depth
	base  float64
	nodes []fnode   // compiled feat/thr
	fm    *fmForest // compiled feature-major (nil: too big)
}

type fnode struct {
	thr  float64
	feat uint32
}

// compile lays the splits out for margin.
func (fo *forest) compile() {
	fo.nodes = make([]fnode, len(fo.feat))
	for i := range fo.feat {
		fo.nodes[i] = fnode{thr: fo.thr[i], feat: uint32(fo.feat[i]) % numFeatures}
	}
	fo.fm = compileFM(fo.depth, fo.feat, fo.thr, fo.leaf)
}

// gt is 1 when x > thr, else 0, without a branch: the sign bit of thr-x.
// (thr-x is never NaN: features and thresholds are finite, and
// MaxFloat64 - x cannot be negative.)
func gt(x, thr float64) int {
	return int(math.Float64bits(thr-x) >> 63)
}

// margin is the ensemble's log-odds for f. It does not allocate.
func (fo *forest) margin(f *[numFeatures]float64) float64 {
	if fo.fm != nil {
		return fo.fm.margin(fo.base, f)
	}
	return fo.marginRef(f)
}

// marginRef evaluates the trees one by one: the definition of margin (and
// its path for forests too big for fmForest). Even trees are summed from
// base, odd trees apart, and the two sums added.
func (fo *forest) marginRef(f *[numFeatures]float64) float64 {
	depth := fo.depth
	nl := 1 << depth
	nodes := fo.nodes
	leaf := fo.leaf
	z, z1 := fo.base, 0.0
	for t, lb := 0, 0; lb+nl <= len(leaf) && (t+1)*depth <= len(nodes); t, lb = t+1, lb+nl {
		sp := nodes[t*depth : (t+1)*depth]
		idx := 0
		for d, nd := range sp {
			idx |= gt(f[nd.feat], nd.thr) << d
		}
		if t%2 == 0 {
			z += leaf[lb+idx&(nl-1)]
		} else {
			z1 += leaf[lb+idx&(nl-1)]
		}
	}
	return z + z1
}

// GBDT training parameters.
type gbdtParams struct {
	trees, depth int
	rate, lambda float64
	minHess      float64
	bins         int
}

var defaultGBDT = gbdtParams{trees: 50, depth: 6, rate: 0.3, lambda: 1, minHess: 1, bins: 64}

// trainForest fits a forest with the logistic loss on weighted samples.
func trainForest(s []sample, p gbdtParams) *forest {
	n := len(s)
	// cuts per feature: up to p.bins-1 quantile cut points
	cuts := make([][]float64, numFeatures)
	binned := make([][]uint8, numFeatures)
	vals := make([]float64, n)
	sorted := make([]float64, n)
	for j := 0; j < numFeatures; j++ {
		for i := range s {
			vals[i] = s[i].f[j]
		}
		copy(sorted, vals)
		sort.Float64s(sorted)
		var c []float64
		for k := 1; k < p.bins; k++ {
			q := sorted[k*n/p.bins]
			idx := sort.SearchFloat64s(sorted, q)
			if idx == 0 {
				continue
			}
			cut := (sorted[idx-1] + q) / 2
			if len(c) == 0 || cut > c[len(c)-1] {
				c = append(c, cut)
			}
		}
		cuts[j] = c
		b := make([]uint8, n)
		for i, v := range vals {
			// first cut >= v: v <= c[idx], so v is in bin idx
			b[i] = uint8(sort.SearchFloat64s(c, v))
		}
		binned[j] = b
	}
	tw := 0.0
	for i := range s {
		tw += s[i].w
	}
	w := make([]float64, n)
	y := make([]float64, n)
	wp := 0.0
	for i := range s {
		w[i] = s[i].w * float64(n) / tw // mean weight 1
		if s[i].fam >= 0 {
			y[i] = 1
			wp += w[i]
		}
	}
	base := math.Log(wp / (float64(n) - wp))
	fo := &forest{depth: p.depth, base: base}
	F := make([]float64, n)
	for i := range F {
		F[i] = base
	}
	g := make([]float64, n)
	h := make([]float64, n)
	node := make([]int32, n)
	nb := p.bins
	nl := 1 << p.depth
	hg := make([]float64, nl*numFeatures*nb)
	hh := make([]float64, nl*numFeatures*nb)
	for t := 0; t < p.trees; t++ {
		for i := range s {
			pr := sigmoid(F[i])
			g[i] = w[i] * (pr - y[i])
			h[i] = w[i] * pr * (1 - pr)
			node[i] = 0
		}
		for d := 0; d < p.depth; d++ {
			cnt := 1 << d
			clear(hg[:cnt*numFeatures*nb])
			clear(hh[:cnt*numFeatures*nb])
			for i := 0; i < n; i++ {
				base := int(node[i]) * numFeatures * nb
				gi, hi := g[i], h[i]
				for j := 0; j < numFeatures; j++ {
					o := base + j*nb + int(binned[j][i])
					hg[o] += gi
					hh[o] += hi
				}
			}
			bestGain, bestF, bestB := 0.0, -1, 0
			for j := 0; j < numFeatures; j++ {
				nc := len(cuts[j])
				gains := make([]float64, nc)
				valid := make([]bool, nc)
				for b := range valid {
					valid[b] = true
				}
				for k := 0; k < cnt; k++ {
					o := k*numFeatures*nb + j*nb
					G, H := 0.0, 0.0
					for b := 0; b < nb; b++ {
						G += hg[o+b]
						H += hh[o+b]
					}
					if H == 0 {
						continue
					}
					parent := G * G / (H + p.lambda)
					gl, hl := 0.0, 0.0
					for b := 0; b < nc; b++ {
						gl += hg[o+b]
						hl += hh[o+b]
						gr, hr := G-gl, H-hl
						if (hl < p.minHess && hl > 0) || (hr < p.minHess && hr > 0) {
							valid[b] = false
						}
						gains[b] += gl*gl/(hl+p.lambda) + gr*gr/(hr+p.lambda) - parent
					}
				}
				for b := 0; b < nc; b++ {
					if valid[b] && gains[b] > bestGain+1e-12 {
						bestGain, bestF, bestB = gains[b], j, b
					}
				}
			}
			if bestF < 0 {
				// no useful split: a dummy level that sends everything to 0
				fo.feat = append(fo.feat, 0)
				fo.thr = append(fo.thr, math.MaxFloat64)
				continue
			}
			fo.feat = append(fo.feat, uint8(bestF))
			fo.thr = append(fo.thr, cuts[bestF][bestB])
			bin := binned[bestF]
			for i := 0; i < n; i++ {
				if int(bin[i]) > bestB {
					node[i] |= 1 << d
				}
			}
		}
		lg := make([]float64, nl)
		lh := make([]float64, nl)
		for i := 0; i < n; i++ {
			lg[node[i]] += g[i]
			lh[node[i]] += h[i]
		}
		leaf := make([]float64, nl)
		for l := range leaf {
			leaf[l] = -lg[l] / (lh[l] + p.lambda) * p.rate
		}
		for i := 0; i < n; i++ {
			F[i] += leaf[node[i]]
		}
		fo.leaf = append(fo.leaf, leaf...)
	}
	fo.compile()
	return fo
}
