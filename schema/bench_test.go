package schema

import "testing"

func BenchmarkNormalizeName(b *testing.B) {
	names := []string{"www.example.com", "d111111abcdef8.cloudfront.net", "a.b.example.co.uk", "mail.google.com.", "XN--BCHER-KVA.de"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := NormalizeName(names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDNSRow(b *testing.B) {
	f := Fields{"_time": {"1764172800"}, "src": {"10.1.2.3"}, "query": {"www.example.com"}, "record_type": {"A"},
		"reply_code": {"NoError"}, "answer": {"93.184.216.34", "93.184.216.35"}, "ttl": {"300"}, "count": {"7"}, "dest": {"10.0.0.53"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDNSRow(f); err != nil {
			b.Fatal(err)
		}
	}
}
