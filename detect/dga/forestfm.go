package dga

import (
	"math"
	"sort"
	"unsafe"
)

// fmForest is a forest of up to 64 oblivious trees of depth at most 8,
// compiled feature-major after QuickScorer (Lucchese et al., SIGIR 2015):
// for each feature the forest splits on, its thresholds sorted; the
// feature's bin (how many of them it exceeds) then selects one 64-byte mask
// that says, for every tree, which of the tree's levels on this feature
// take the "1" side. OR-ing one mask per feature gives every tree's leaf
// index at once. A forest of 50 depth-6 trees does 167 comparisons (its
// distinct splits) and 31 mask loads instead of 300 comparisons.
type fmForest struct {
	depth  uint
	ntrees int
	// the features, by how many distinct thresholds they have; each class
	// has its own loop of fixed length and no data-dependent branch
	f1    []fmFeat[[1]float64]
	f2    []fmFeat[[2]float64]
	f4    []fmFeat[[4]float64]
	f8    []fmFeat[[8]float64]
	f16   []fmBig16
	f32   []fmBig32
	f64   []fmBig
	masks [][8]uint64 // each feature's masks, one per bin (byte t: tree t)
	leaf  []float64   // tree t's leaves at t<<depth
}

// fmFeat is a feature with up to len(th) thresholds, ascending, padded
// with MaxFloat64 (which no finite feature exceeds).
type fmFeat[T [1]float64 | [2]float64 | [4]float64 | [8]float64] struct {
	off uintptr // byte offset of the feature in the vector (< 8*numFeatures)
	m0  int     // the mask of bin b is masks[m0+b]
	th  T
}

// fmBig is a feature with 9-64 thresholds: the last of each group of 8
// picks the group, then the group's 8 are counted.
type fmBig struct {
	off    uintptr
	m0     int
	coarse [7]float64 // fine[8k+7]
	fine   [64]float64
}

// fmBig16 and fmBig32 are the same for 9-16 and 17-32 thresholds.
type fmBig16 struct {
	off    uintptr
	m0     int
	coarse [1]float64 // fine[7]
	fine   [16]float64
}

type fmBig32 struct {
	off    uintptr
	m0     int
	coarse [3]float64
	fine   [32]float64
}

// compileFM builds the feature-major form, or nil when the forest is too
// big for it (more than 64 trees, depth over 8).
func compileFM(depth int, feat []uint8, thr, leaf []float64) *fmForest {
	nt := len(feat) / max(depth, 1)
	if depth < 1 || depth > 8 || nt == 0 || nt > 64 || len(leaf) < nt<<depth {
		return nil
	}
	fm := &fmForest{depth: uint(depth), ntrees: nt, leaf: leaf[:nt<<depth]}
	for j := range numFeatures {
		var th []float64
		for i, f := range feat[:nt*depth] {
			if int(f) == j {
				th = append(th, thr[i])
			}
		}
		if len(th) == 0 {
			continue
		}
		sort.Float64s(th)
		th = dedupFloats(th)
		off, m0 := uintptr(j)*8, len(fm.masks)
		pad := func(dst []float64) {
			for k := range dst {
				dst[k] = math.MaxFloat64
			}
			copy(dst, th)
		}
		switch n := len(th); {
		case n == 1:
			fm.f1 = append(fm.f1, fmFeat[[1]float64]{off: off, m0: m0, th: [1]float64{th[0]}})
		case n == 2:
			fm.f2 = append(fm.f2, fmFeat[[2]float64]{off: off, m0: m0, th: [2]float64{th[0], th[1]}})
		case n <= 4:
			ft := fmFeat[[4]float64]{off: off, m0: m0}
			pad(ft.th[:])
			fm.f4 = append(fm.f4, ft)
		case n <= 8:
			ft := fmFeat[[8]float64]{off: off, m0: m0}
			pad(ft.th[:])
			fm.f8 = append(fm.f8, ft)
		case n <= 16:
			ft := fmBig16{off: off, m0: m0}
			pad(ft.fine[:])
			fillCoarse(ft.coarse[:], ft.fine[:])
			fm.f16 = append(fm.f16, ft)
		case n <= 32:
			ft := fmBig32{off: off, m0: m0}
			pad(ft.fine[:])
			fillCoarse(ft.coarse[:], ft.fine[:])
			fm.f32 = append(fm.f32, ft)
		case n <= 64:
			ft := fmBig{off: off, m0: m0}
			pad(ft.fine[:])
			fillCoarse(ft.coarse[:], ft.fine[:])
			fm.f64 = append(fm.f64, ft)
		default:
			return nil
		}
		// bin b: the feature exceeds th[0..b-1]
		for b := 0; b <= len(th); b++ {
			var m [8]uint64
			for i, f := range feat[:nt*depth] {
				if int(f) != j {
					continue
				}
				k := sort.SearchFloat64s(th, thr[i]) // th[k] == thr[i]
				if b > k {
					t, l := i/depth, i%depth
					m[t>>3] |= 1 << (uint(t&7)*8 + uint(l))
				}
			}
			fm.masks = append(fm.masks, m)
		}
	}
	return fm
}

// fillCoarse sets coarse[k] to the last of the k-th group of 8 of fine.
func fillCoarse(coarse, fine []float64) {
	for k := range coarse {
		coarse[k] = fine[8*k+7]
	}
}

// count8 is how many of th v exceeds.
func count8(v float64, th *[8]float64) int {
	return gt(v, th[0]) + gt(v, th[1]) + gt(v, th[2]) + gt(v, th[3]) +
		gt(v, th[4]) + gt(v, th[5]) + gt(v, th[6]) + gt(v, th[7])
}

func dedupFloats(s []float64) []float64 {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// margin is the forest's log-odds for f, summed in the order of
// forest.marginRef.
func (fm *fmForest) margin(base float64, f *[numFeatures]float64) float64 {
	var i0, i1, i2, i3, i4, i5, i6, i7 uint64
	masks := fm.masks
	or := func(b int) {
		m := &masks[b]
		i0 |= m[0]
		i1 |= m[1]
		i2 |= m[2]
		i3 |= m[3]
		i4 |= m[4]
		i5 |= m[5]
		i6 |= m[6]
		i7 |= m[7]
	}
	x := func(off uintptr) float64 { return *(*float64)(unsafe.Add(unsafe.Pointer(f), off)) }
	for i := range fm.f1 {
		ft := &fm.f1[i]
		or(ft.m0 + gt(x(ft.off), ft.th[0]))
	}
	for i := range fm.f2 {
		ft := &fm.f2[i]
		v := x(ft.off)
		or(ft.m0 + gt(v, ft.th[0]) + gt(v, ft.th[1]))
	}
	for i := range fm.f4 {
		ft := &fm.f4[i]
		v := x(ft.off)
		or(ft.m0 + gt(v, ft.th[0]) + gt(v, ft.th[1]) + gt(v, ft.th[2]) + gt(v, ft.th[3]))
	}
	for i := range fm.f8 {
		ft := &fm.f8[i]
		v := x(ft.off)
		or(ft.m0 + count8(v, &ft.th))
	}
	for i := range fm.f16 {
		ft := &fm.f16[i]
		v := x(ft.off)
		g := gt(v, ft.coarse[0])
		or(ft.m0 + 8*g + count8(v, (*[8]float64)(ft.fine[8*g&15:])))
	}
	for i := range fm.f32 {
		ft := &fm.f32[i]
		v := x(ft.off)
		c := &ft.coarse
		g := gt(v, c[0]) + gt(v, c[1]) + gt(v, c[2])
		or(ft.m0 + 8*g + count8(v, (*[8]float64)(ft.fine[8*g&31:])))
	}
	for i := range fm.f64 {
		ft := &fm.f64[i]
		v := x(ft.off)
		c := &ft.coarse
		g := gt(v, c[0]) + gt(v, c[1]) + gt(v, c[2]) + gt(v, c[3]) + gt(v, c[4]) + gt(v, c[5]) + gt(v, c[6])
		or(ft.m0 + 8*g + count8(v, (*[8]float64)(ft.fine[8*g&63:])))
	}
	idx := [8]uint64{i0, i1, i2, i3, i4, i5, i6, i7}
	z, z1 := base, 0.0
	d := fm.depth
	leaf := fm.leaf
	t := 0
	if d == 6 {
		// eight trees a word, constant shifts, no bounds checks
		for w := 0; w < len(idx) && t+8 <= fm.ntrees && (t+8)<<6 <= len(leaf); w++ {
			v := idx[w]
			l := (*[512]float64)(leaf[t<<6:])
			z += l[0<<6+v&63]
			z1 += l[1<<6+v>>8&63]
			z += l[2<<6+v>>16&63]
			z1 += l[3<<6+v>>24&63]
			z += l[4<<6+v>>32&63]
			z1 += l[5<<6+v>>40&63]
			z += l[6<<6+v>>48&63]
			z1 += l[7<<6+v>>56&63]
			t += 8
		}
	}
	for ; t < fm.ntrees; t++ {
		a := idx[t>>3] >> (uint(t&7) * 8) & 0xff
		if t%2 == 0 {
			z += leaf[uint(t)<<d+uint(a)]
		} else {
			z1 += leaf[uint(t)<<d+uint(a)]
		}
	}
	return z + z1
}
