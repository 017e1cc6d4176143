package obsstore

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/detect/fastflux"
)

func TestStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{MaxDomains: 3, MaxRounds: 2, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	obs := func(r int) fastflux.Observation {
		return fastflux.Observation{Round: r, Answers: []fastflux.Answer{{Addr: netip.MustParseAddr("24.1.2.3"), ASN: 7922}}, TTLMin: 60, TTLMax: 60, NS: []string{"ns1.x.biz"}}
	}
	for r := 1; r <= 3; r++ {
		if err := s.Append("a.biz", obs(r), "", t0); err != nil {
			t.Fatal(err)
		}
	}
	h, ok, err := s.History("a.biz")
	if err != nil || !ok || len(h.Rounds) != 2 || h.Rounds[0].Round != 2 || h.Rounds[1].Answers[0].ASN != 7922 {
		t.Fatalf("history %+v %v %v", h, ok, err)
	}
	for i, d := range []string{"b.biz", "c.biz", "d.biz"} {
		s.Append(d, obs(1), "fast_flux", t0.Add(time.Duration(i+1)*time.Minute))
	}
	if n, err := s.Prune(t0.Add(30 * time.Minute)); err != nil || n != 1 || s.Len() != 3 {
		t.Errorf("prune by size dropped %d (%v), %d left", n, err, s.Len())
	}
	if _, ok, _ := s.History("a.biz"); ok {
		t.Error("oldest history kept over MaxDomains")
	}
	if n, _ := s.Prune(t0.Add(2 * time.Hour)); n != 3 || s.Len() != 0 {
		t.Errorf("prune by age dropped %d, %d left", n, s.Len())
	}
	q := []Candidate{{Name: "x.biz", Reason: "low ttl", Priority: 5, Added: t0}, {Name: "y.ru", Reason: "watchlist", Priority: 9, Added: t0}}
	if err := s.SaveQueue(q); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.LoadQueue()
	if err != nil || len(got) != 2 || got[1].Name != "y.ru" || got[1].Priority != 9 {
		t.Errorf("queue after reopen %+v %v", got, err)
	}
	if err := s.UpdateQueue([]Candidate{{Name: "z.top", Priority: 1}, {Name: "y.ru", Priority: 10}}, []string{"x.biz", "never-there.com"}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.LoadQueue()
	if len(got) != 2 || got[0].Name != "y.ru" || got[0].Priority != 10 || got[1].Name != "z.top" {
		t.Errorf("queue after update %+v", got)
	}
}

func TestOpenPlan(t *testing.T) {
	r := func(n int) fastflux.Observation { return fastflux.Observation{Round: n} }
	cases := []struct {
		h    History
		want int
	}{
		{History{Rounds: []fastflux.Observation{r(1), r(2), r(3), r(1), r(2)}}, 2},
		{History{Rounds: []fastflux.Observation{r(1), r(2)}, Verdict: "cdn"}, 0},
		{History{Rounds: []fastflux.Observation{r(2), r(3)}}, 0}, // trimmed: the plan's start is gone
		{History{}, 0},
	}
	for i, c := range cases {
		if got := len(c.h.OpenPlan()); got != c.want {
			t.Errorf("case %d: %d rounds, want %d", i, got, c.want)
		}
	}
}
