package dga

import (
	"testing"
)

// benchNames is a mix of benign and generated names in canonical form.
var benchNames = []string{
	"google.com", "www.facebook.com", "mail.yahoo.co.jp", "d1a2b3c4d5e6f7.cloudfront.net",
	"xjkqzvbnmwq.biz", "a17dyctgyeyh24ptdrmrgxo61gukzmra47f22.com", "reachingmetal.tel",
	"abuseautomacircumvention.ru", "stackoverflow.com", "api.github.com", "aaasxv.mooo.com",
	"0049332cd0dfa.blackfriday", "newsroom.bbc.co.uk", "ec2-54-12-3-4.compute-1.amazonaws.com",
	"wikipedia.org", "login.microsoftonline.com",
}

func BenchmarkScore(b *testing.B) {
	m := Default()
	b.ReportAllocs()
	var sink float64
	for i := 0; b.Loop(); i++ {
		sink += m.Score(benchNames[i%len(benchNames)]).Score
	}
	_ = sink
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "names/s")
}
