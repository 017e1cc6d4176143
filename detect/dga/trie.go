package dga

import (
	"math/bits"
	"sort"
)

// trie is a compact bitmap trie over the letters a-z, built once when the
// model loads and read without allocation. Node i is nodes[i]: bits 0-25 of
// mask say which letters have a child, bit 31 that the path to i is a word;
// the children of i are stored contiguously, in letter order, from first.
type trie struct {
	nodes []tnode
	// pre3[(a*26+b)*26+c] is 1 + the node of the three letters abc, or 0
	// when no word starts with them: segmentation, whose words have at least
	// minWord (3) letters, starts its walks there with one load instead of
	// three dependent ones.
	pre3 []uint32
}

// tnode keeps a node's mask and first child together: one cache line.
type tnode struct {
	mask, first uint32
}

const (
	wordBit = 1 << 31
	funcBit = 1 << 30 // the word is an English function word (funcWords)
)

// funcWords are English function words of minWord letters or more
// (articles, pronouns, prepositions, conjunctions, auxiliaries). Names
// people choose seldom stack them; text cut into labels does.
var funcWords = []string{
	"the", "and", "for", "but", "nor", "yet", "that", "this", "these", "those",
	"they", "them", "their", "theirs", "there", "then", "than", "thus", "with",
	"within", "without", "from", "into", "onto", "upon", "about", "above",
	"below", "over", "under", "after", "before", "between", "through", "during",
	"against", "among", "until", "while", "which", "what", "when", "where",
	"who", "whom", "whose", "why", "how", "whether", "because", "although",
	"though", "unless", "since", "are", "was", "were", "been", "being", "has",
	"have", "had", "having", "does", "did", "doing", "will", "would", "shall",
	"should", "can", "could", "may", "might", "must", "not", "you", "your",
	"yours", "she", "her", "hers", "him", "his", "its", "our", "ours", "itself",
	"any", "each", "some", "such", "only", "also", "very", "other", "both",
	"either", "neither", "same", "own", "here", "via", "per", "whereas",
}

// pre3 assumes segmentation's words have at least three letters.
var _ [minWord - 3]struct{}
var _ [3 - minWord]struct{}

// newTrie builds the trie from words (a-z only; others are ignored).
func newTrie(words []string) *trie {
	ws := make([]string, 0, len(words))
	for _, w := range words {
		if w != "" && isLower(w) {
			ws = append(ws, w)
		}
	}
	sort.Strings(ws)
	ws = dedupSorted(ws)
	t := &trie{nodes: make([]tnode, 1, len(ws)*3)}
	t.fill(0, ws, 0)
	t.pre3 = make([]uint32, 26*26*26)
	for k := range t.pre3 {
		w := string([]byte{byte('a' + k/676), byte('a' + k/26%26), byte('a' + k%26)})
		if n, ok := t.node(w); ok {
			t.pre3[k] = n + 1
		}
	}
	for _, w := range funcWords {
		if n, ok := t.node(w); ok && t.isWord(n) {
			t.nodes[n].mask |= funcBit
		}
	}
	return t
}

func isLower(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

func dedupSorted(ws []string) []string {
	out := ws[:0]
	for i, w := range ws {
		if i == 0 || w != ws[i-1] {
			out = append(out, w)
		}
	}
	return out
}

// fill lays the trie out breadth first from node n (ws sorted, sharing
// their first depth bytes): the short prefixes every walk starts with sit
// together at the front, in cache.
func (t *trie) fill(n uint32, ws []string, depth int) {
	type item struct {
		n     uint32
		ws    []string
		depth int
	}
	queue := []item{{n, ws, depth}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		ws := it.ws
		if len(ws) > 0 && len(ws[0]) == it.depth {
			t.nodes[it.n].mask |= wordBit
			ws = ws[1:]
		}
		if len(ws) == 0 {
			continue
		}
		base := uint32(len(t.nodes))
		t.nodes[it.n].first = base
		k := uint32(0)
		for i := 0; i < len(ws); {
			c := ws[i][it.depth]
			j := i + 1
			for j < len(ws) && ws[j][it.depth] == c {
				j++
			}
			t.nodes[it.n].mask |= 1 << (c - 'a')
			t.nodes = append(t.nodes, tnode{})
			queue = append(queue, item{base + k, ws[i:j], it.depth + 1})
			k++
			i = j
		}
	}
}

// child returns the child of n for letter c (0-25) and whether it exists.
func (t *trie) child(n uint32, c byte) (uint32, bool) {
	nd := t.nodes[n]
	bit := uint32(1) << c
	if nd.mask&bit == 0 {
		return 0, false
	}
	return nd.first + uint32(bits.OnesCount32(nd.mask&(bit-1))), true
}

func (t *trie) isWord(n uint32) bool { return t.nodes[n].mask&wordBit != 0 }

// contains reports whether w is a word (for tests).
func (t *trie) contains(w string) bool {
	n := uint32(0)
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < 'a' || c > 'z' {
			return false
		}
		var ok bool
		if n, ok = t.child(n, c-'a'); !ok {
			return false
		}
	}
	return t.isWord(n)
}

// node returns the node of w, if w is a path in the trie.
func (t *trie) node(w string) (uint32, bool) {
	n := uint32(0)
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < 'a' || c > 'z' {
			return 0, false
		}
		var ok bool
		if n, ok = t.child(n, c-'a'); !ok {
			return 0, false
		}
	}
	return n, true
}

// segmentWords returns the words of the best cover of label (the same
// objective as tables.segment, without the frequency tie-break); for training.
func (t *trie) segmentWords(label string) []string {
	n := len(label)
	cov := make([]int, n+1)
	cnt := make([]int, n+1)
	from := make([]int, n+1) // start of the word ending here, or -1 for a skipped byte
	for i := range from {
		from[i] = -2
	}
	for i := 0; i < n; i++ {
		upd := func(j, c, w, f int) {
			if from[j] == -2 || c > cov[j] || (c == cov[j] && w < cnt[j]) {
				cov[j], cnt[j], from[j] = c, w, f
			}
		}
		upd(i+1, cov[i], cnt[i], -1)
		node := uint32(0)
		for j := i; j < n; j++ {
			c := label[j] - 'a'
			if c > 25 {
				break
			}
			var ok bool
			if node, ok = t.child(node, c); !ok {
				break
			}
			if l := j + 1 - i; l >= minWord && t.isWord(node) {
				upd(j+1, cov[i]+l, cnt[i]+1, i)
			}
		}
	}
	var out []string
	for j := n; j > 0; {
		if from[j] >= 0 {
			out = append(out, label[from[j]:j])
			j = from[j]
		} else {
			j--
		}
	}
	return out
}
