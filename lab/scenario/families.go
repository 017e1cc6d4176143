package scenario

import (
	_ "embed"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

//go:embed data/dga_names.tsv
var dgaNamesTSV string

//go:embed data/popular.txt
var popularTXT string

// Families lists the DGA families the generator can run: samples of public
// DGA reimplementations (embedded) and "lcg", a small arithmetic DGA of this
// package that no model was trained on.
func Families() []string {
	f := []string{LCGFamily}
	for k := range embeddedFamilies() {
		f = append(f, k)
	}
	sort.Strings(f)
	return f
}

// LCGFamily is the generator's own arithmetic DGA (see lcgNames).
const LCGFamily = "lcg"

func embeddedFamilies() map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(dgaNamesTSV, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f, n, ok := strings.Cut(line, "\t")
		if ok {
			m[f] = append(m[f], n)
		}
	}
	return m
}

func popular() []string {
	var out []string
	for _, line := range strings.Split(popularTXT, "\n") {
		if line = strings.TrimSpace(line); line != "" && line[0] != '#' {
			out = append(out, line)
		}
	}
	return out
}

// lcgNames is a small date-seeded arithmetic DGA in the style of many
// banking-trojan DGAs: a linear congruential generator over the date gives
// 8-15 letter labels under a few TLDs.
func lcgNames(day time.Time, n int) []string {
	y, m, d := day.Date()
	s := uint32(y*10000+int(m)*100+d) ^ 0x5bd1e995
	tlds := []string{"com", "net", "org", "info", "biz", "ru"}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		s = s*1664525 + 1013904223
		l := 8 + int(s>>24)%8
		var b strings.Builder
		for j := 0; j < l; j++ {
			s = s*1664525 + 1013904223
			b.WriteByte(byte('a' + (s>>16)%26))
		}
		s = s*1664525 + 1013904223
		out = append(out, b.String()+"."+tlds[(s>>20)%uint32(len(tlds))])
	}
	return out
}

// dayList is the ordered list a family's bots walk on the scenario's day:
// the same for every host of the family.
func dayList(family string, day time.Time, seed int64) ([]string, error) {
	if family == LCGFamily {
		return lcgNames(day, 300), nil
	}
	names, ok := embeddedFamilies()[family]
	if !ok {
		return nil, fmt.Errorf("scenario: unknown DGA family %q (have %s)", family, strings.Join(Families(), ", "))
	}
	l := append([]string(nil), names...)
	r := rand.New(rand.NewPCG(uint64(seed), hashString(family)))
	r.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
	return l, nil
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
