package dga

import (
	"math"
	"sort"
)

// forest is a gradient-boosted ensemble of complete binary trees of fixed
// depth, stored flat: tree t has internal nodes t*(2^d-1) ... in heap order
// (feature feat, go right when x > thr) and leaves t*2^d ... .
type forest struct {
	depth int
	feat  []uint8
	thr   []float64
	leaf  []float64
	base  float64
	nodes []fnode // compiled feat/thr
}

// fnode is an internal node: go right when the feature is > thr.
type fnode struct {
	thr  float64
	feat uint32
}

// compile lays the nodes out for margin.
func (fo *forest) compile() {
	fo.nodes = make([]fnode, len(fo.feat))
	for i := range fo.feat {
		fo.nodes[i] = fnode{thr: fo.thr[i], feat: uint32(fo.feat[i])}
	}
}

// margin is the ensemble's log-odds for f. It does not allocate.
func (fo *forest) margin(f *[numFeatures]float64) float64 {
	depth := fo.depth
	inner := 1<<depth - 1
	nl := 1 << depth
	z := fo.base
	nodes := fo.nodes
	leaf := fo.leaf
	for t, lb := 0, 0; lb+nl <= len(leaf) && (t+1)*inner <= len(nodes); t, lb = t+1, lb+nl {
		tree := nodes[t*inner : (t+1)*inner]
		i := 0
		for d := 0; d < depth; d++ {
			nd := tree[i]
			if f[nd.feat%numFeatures] > nd.thr {
				i = 2*i + 2
			} else {
				i = 2*i + 1
			}
		}
		z += leaf[lb+i-inner]
	}
	return z
}

// GBDT training parameters.
type gbdtParams struct {
	trees, depth int
	rate, lambda float64
	minHess      float64
	bins         int
}

var defaultGBDT = gbdtParams{trees: 60, depth: 4, rate: 0.25, lambda: 1, minHess: 2, bins: 64}

// trainForest fits a forest with the logistic loss on weighted samples.
func trainForest(s []sample, p gbdtParams) *forest {
	n := len(s)
	// cuts per feature: up to p.bins-1 quantile cut points
	cuts := make([][]float64, numFeatures)
	binned := make([][]uint8, numFeatures)
	vals := make([]float64, n)
	for j := 0; j < numFeatures; j++ {
		for i := range s {
			vals[i] = s[i].f[j]
		}
		sorted := append([]float64(nil), vals...)
		sort.Float64s(sorted)
		var c []float64
		for k := 1; k < p.bins; k++ {
			q := sorted[k*n/p.bins]
			lo := q
			// cut between q and the next smaller distinct value
			idx := sort.SearchFloat64s(sorted, q)
			if idx == 0 {
				continue
			}
			prev := sorted[idx-1]
			cut := (prev + lo) / 2
			if len(c) == 0 || cut > c[len(c)-1] {
				c = append(c, cut)
			}
		}
		cuts[j] = c
		b := make([]uint8, n)
		for i, v := range vals {
			b[i] = uint8(sort.SearchFloat64s(c, v)) // number of cuts < v ... see below
			// SearchFloat64s returns the first index with c[idx] >= v: v <= c[idx]
			// means bin idx (go left at cut idx).
		}
		binned[j] = b
	}
	// weights scaled to mean 1
	tw := 0.0
	for i := range s {
		tw += s[i].w
	}
	w := make([]float64, n)
	y := make([]float64, n)
	wp := 0.0
	for i := range s {
		w[i] = s[i].w * float64(n) / tw
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
	inner := 1<<p.depth - 1
	nb := p.bins
	for t := 0; t < p.trees; t++ {
		for i := range s {
			pr := sigmoid(F[i])
			g[i] = w[i] * (pr - y[i])
			h[i] = w[i] * pr * (1 - pr)
			node[i] = 0
		}
		feat := make([]uint8, inner)
		thr := make([]float64, inner)
		splitBin := make([]int, inner)
		for d := 0; d < p.depth; d++ {
			first := 1<<d - 1
			cnt := 1 << d
			// histograms [node][feature][bin]
			hg := make([]float64, cnt*numFeatures*nb)
			hh := make([]float64, cnt*numFeatures*nb)
			for i := 0; i < n; i++ {
				k := int(node[i]) - first
				base := k * numFeatures * nb
				gi, hi := g[i], h[i]
				for j := 0; j < numFeatures; j++ {
					o := base + j*nb + int(binned[j][i])
					hg[o] += gi
					hh[o] += hi
				}
			}
			for k := 0; k < cnt; k++ {
				nd := first + k
				bestGain, bestF, bestB := 0.0, -1, 0
				for j := 0; j < numFeatures; j++ {
					o := k*numFeatures*nb + j*nb
					G, H := 0.0, 0.0
					for b := 0; b < nb; b++ {
						G += hg[o+b]
						H += hh[o+b]
					}
					parent := G * G / (H + p.lambda)
					gl, hl := 0.0, 0.0
					for b := 0; b < len(cuts[j]); b++ {
						gl += hg[o+b]
						hl += hh[o+b]
						gr, hr := G-gl, H-hl
						if hl < p.minHess || hr < p.minHess {
							continue
						}
						gain := gl*gl/(hl+p.lambda) + gr*gr/(hr+p.lambda) - parent
						if gain > bestGain+1e-12 {
							bestGain, bestF, bestB = gain, j, b
						}
					}
				}
				if bestF < 0 {
					feat[nd], thr[nd], splitBin[nd] = 0, math.MaxFloat64, 1<<30
				} else {
					feat[nd], thr[nd], splitBin[nd] = uint8(bestF), cuts[bestF][bestB], bestB
				}
			}
			for i := 0; i < n; i++ {
				nd := node[i]
				if int(binned[feat[nd]][i]) > splitBin[nd] {
					node[i] = 2*nd + 2
				} else {
					node[i] = 2*nd + 1
				}
			}
		}
		nl := 1 << p.depth
		lg := make([]float64, nl)
		lh := make([]float64, nl)
		for i := 0; i < n; i++ {
			l := int(node[i]) - inner
			lg[l] += g[i]
			lh[l] += h[i]
		}
		leaf := make([]float64, nl)
		for l := range leaf {
			leaf[l] = -lg[l] / (lh[l] + p.lambda) * p.rate
		}
		for i := 0; i < n; i++ {
			F[i] += leaf[int(node[i])-inner]
		}
		fo.feat = append(fo.feat, feat...)
		fo.thr = append(fo.thr, thr...)
		fo.leaf = append(fo.leaf, leaf...)
	}
	fo.compile()
	return fo
}
