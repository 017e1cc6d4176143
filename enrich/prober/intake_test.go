package prober

import (
	"testing"

	"github.com/fluxhunt/fluxhunt/schema"
)

func TestCandidateFromRow(t *testing.T) {
	name, _ := schema.NormalizeName("Flux.Example.BIZ")
	row := func(rt string, rc schema.RCode, ttl int64, answers ...string) schema.DNSRow {
		return schema.DNSRow{Query: name, RecordType: rt, ReplyCode: rc, TTL: ttl, Answers: answers}
	}
	cases := []struct {
		name string
		r    schema.DNSRow
		want bool
	}{
		{"low ttl two addrs", row("A", 0, 60, "1.2.3.4", "5.6.7.8"), true},
		{"many addrs long ttl", row("A", 0, 86400, "1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), true},
		{"very low ttl one addr", row("A", 0, 10, "1.2.3.4"), true},
		{"one addr ttl 60", row("A", 0, 60, "1.2.3.4"), false},
		{"unknown ttl two", row("A", 0, -1, "1.2.3.4", "5.6.7.8"), false},
		{"nxdomain", row("A", schema.RCodeNXDomain, 60), false},
		{"txt", row("TXT", 0, 60, "1.2.3.4", "5.6.7.8"), false},
		{"only cname names", row("A", 0, 60, "a.example.net", "b.example.net"), false},
		{"aaaa", row("AAAA", 0, 120, "2001:db8::1", "2001:db8::2"), true},
	}
	for _, c := range cases {
		cand, ok := CandidateFromRow(c.r)
		if ok != c.want {
			t.Errorf("%s: %v, want %v (%+v)", c.name, ok, c.want, cand)
		}
		if ok && (cand.Name != "flux.example.biz" || cand.Reason == "" || cand.Priority <= PriorityLowTTL) {
			t.Errorf("%s: candidate %+v", c.name, cand)
		}
	}
}
