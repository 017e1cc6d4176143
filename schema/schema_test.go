package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test -update)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n got: %s\nwant: %s", path, got, want)
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		in, ascii, uni, registered, suffix, site string
		private                                  bool
		err                                      string
	}{
		{in: "WWW.Example.COM.", ascii: "www.example.com", uni: "www.example.com", registered: "example.com", suffix: "com", site: "example.com"},
		{in: "d111111abcdef8.cloudfront.net", ascii: "d111111abcdef8.cloudfront.net", uni: "d111111abcdef8.cloudfront.net", registered: "cloudfront.net", suffix: "cloudfront.net", site: "d111111abcdef8.cloudfront.net", private: true},
		{in: "evil.duckdns.org", ascii: "evil.duckdns.org", uni: "evil.duckdns.org", registered: "duckdns.org", suffix: "duckdns.org", site: "evil.duckdns.org", private: true},
		{in: "a.b.example.co.uk", ascii: "a.b.example.co.uk", uni: "a.b.example.co.uk", registered: "example.co.uk", suffix: "co.uk", site: "example.co.uk"},
		{in: "bücher.de", ascii: "xn--bcher-kva.de", uni: "bücher.de", registered: "xn--bcher-kva.de", suffix: "de", site: "xn--bcher-kva.de"},
		{in: "XN--BCHER-KVA.de", ascii: "xn--bcher-kva.de", uni: "bücher.de", registered: "xn--bcher-kva.de", suffix: "de", site: "xn--bcher-kva.de"},
		{in: "_ldap._tcp.corp.example.com", ascii: "_ldap._tcp.corp.example.com", uni: "_ldap._tcp.corp.example.com", registered: "example.com", suffix: "com", site: "example.com"},
		{in: "com", ascii: "com", uni: "com", registered: "", suffix: "com", site: ""},
		{in: "wpad", ascii: "wpad", uni: "wpad", registered: "", suffix: "wpad", site: ""},
		{in: "", err: "empty"},
		{in: ".", err: "empty"},
		{in: "a..b", err: "empty label"},
		{in: "bad name.com", err: "invalid character"},
		{in: strings.Repeat("a", 64) + ".com", err: "label of 64 bytes"},
		{in: strings.Repeat("abcdefghi.", 26) + "com", err: "over the 253-byte limit"},
		{in: "a\xffb.com", err: "invalid UTF-8"},
		{in: "xn--zz.com", err: "invalid IDN"},
		// found by FuzzNormalizeName: U+00A0 maps to a space under IDNA
		{in: "a\u00a0b.com", err: "maps to invalid character ' '"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			n, err := NormalizeName(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalidName) {
					t.Fatalf("NormalizeName(%q) err = %v, want containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.ASCII != tc.ascii || n.Unicode != tc.uni || n.Registered != tc.registered || n.Suffix != tc.suffix || n.Site != tc.site || n.Private != tc.private {
				t.Errorf("got %+v", n)
			}
		})
	}
}

func TestSiteLabel(t *testing.T) {
	n, _ := NormalizeName("x.d1a2b3.cloudfront.net")
	if n.SiteLabel() != "d1a2b3" || n.Prefix() != "x.d1a2b3" || n.NumLabels() != 4 {
		t.Errorf("SiteLabel=%q Prefix=%q labels=%d", n.SiteLabel(), n.Prefix(), n.NumLabels())
	}
}

func TestEscapeDisplay(t *testing.T) {
	if got := EscapeDisplay("a\tb\x00c\xffd é"); got != `a\x09b\x00c\xffd é` {
		t.Errorf("got %q", got)
	}
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"www.example.com.", "bücher.de", "xn--bcher-kva.de", "a..b", "_srv._tcp.x.y", "\xff", strings.Repeat("a.", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeName(s)
		if err != nil {
			return
		}
		if len(n.ASCII) > MaxNameLen || n.ASCII == "" || !utf8.ValidString(n.Unicode) {
			t.Fatalf("bad result %+v for %q", n, s)
		}
		if n.ASCII != strings.ToLower(n.ASCII) || strings.HasSuffix(n.ASCII, ".") {
			t.Fatalf("not canonical: %q", n.ASCII)
		}
		// idempotent
		m, err := NormalizeName(n.ASCII)
		if err != nil || m.ASCII != n.ASCII {
			t.Fatalf("not idempotent: %q -> %q, %v", n.ASCII, m.ASCII, err)
		}
		if n.Registered != "" && !strings.HasSuffix(n.ASCII, n.Registered) {
			t.Fatalf("registered %q not a suffix of %q", n.Registered, n.ASCII)
		}
	})
}

func TestParseDNSRow(t *testing.T) {
	var f Fields
	in := `{"_time":"1764172800","src":"10.1.2.3","query":"WWW.Example.com.","record_type":"a","reply_code":"Non-Existent Domain","answer":["1.2.3.4","5.6.7.8"],"ttl":["300","60"],"count":"7","dest":"10.0.0.53"}`
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	r, err := ParseDNSRow(f)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(r, "", "  ")
	golden(t, "dnsrow.json", append(got, '\n'))
	bads := map[string]string{
		`{"src":"h","query":"a.com","reply_code":"0"}`:                                           "field _time: missing",
		`{"_time":"x","src":"h","query":"a.com","reply_code":"0"}`:                               "field _time: not epoch",
		`{"_time":"1","src":["a","b"],"query":"a.com","reply_code":"0"}`:                         "field src: 2 different values",
		`{"_time":"1","src":"h","query":"a..com","reply_code":"0"}`:                              "field query: invalid domain name",
		`{"_time":"1","src":"h","query":"a.com","reply_code":"weird"}`:                           "field reply_code: unknown reply code",
		`{"_time":"1","src":"h","query":"a.com","reply_code":"0","ttl":"-5"}`:                    "field ttl",
		`{"_time":"1","src":"h","query":"a.com","reply_code":"0","count":{"a":1}}`:               "field count: nested object",
		`{"_time":"1","src":"h","query":"a.com","reply_code":"0","count":"many"}`:                "field count: not a number",
		`{"_time":"1","src":"h","query":"` + strings.Repeat("a", 70) + `.com","reply_code":"0"}`: "label of 70 bytes",
	}
	for in, want := range bads {
		var f Fields
		err := json.Unmarshal([]byte(in), &f)
		if err == nil {
			_, err = ParseDNSRow(f)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want containing %q", in, err, want)
		}
	}
}

func TestParseFlowRow(t *testing.T) {
	f := Fields{"_time": {"1764172800"}, "src": {"10.1.2.3"}, "dest": {"203.0.113.7"}, "dest_port": {"443"}, "transport": {"TCP"}, "bytes": {"12345"}, "packets": {"20"}, "count": {"3"}}
	r, err := ParseFlowRow(f)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(r, "", "  ")
	golden(t, "flowrow.json", append(got, '\n'))
	f["dest_port"] = []string{"70000"}
	if _, err := ParseFlowRow(f); err == nil || !strings.Contains(err.Error(), "dest_port") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParseDNSRow(f *testing.F) {
	f.Add([]byte(`{"_time":"1764172800","src":"10.1.2.3","query":"x.example.com","record_type":"A","reply_code":"NXDomain","answer":["1.2.3.4"],"ttl":"60","count":"2"}`))
	f.Add([]byte(`{"_time":["1","2"],"query":"bücher.de."}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl Fields
		if json.Unmarshal(b, &fl) != nil {
			return
		}
		r, err := ParseDNSRow(fl)
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RowError", err)
			}
			return
		}
		if r.Query.ASCII == "" || r.Count < 0 || r.TTL < -1 {
			t.Fatalf("bad row %+v", r)
		}
	})
}

func TestDetectionGolden(t *testing.T) {
	first := time.Date(2025, 11, 26, 16, 0, 0, 0, time.UTC)
	d := NewDetection(TypeFastFlux, "www.example.biz", first)
	d.Revision = 2
	d.Severity = "high"
	d.Confidence = 0.97
	d.Score = 0.91
	d.Src = "10.1.2.3"
	d.Dest = "203.0.113.7"
	d.Domain = "www.example.biz"
	d.RegisteredDomain = "example.biz"
	d.CampaignID = "c-5f1e"
	d.CampaignSize = 3
	d.CampaignHosts = []string{"10.1.2.3", "10.1.9.4"}
	d.LastSeen = first.Add(time.Hour).Unix()
	d.Reasons = []string{"14 addresses in 11 ASNs over 3 probes", "TTL 60 s", "NS set changed"}
	d.Evidence = map[string]any{"n_a": 14, "n_asn": 11, "ttl_min": 60}
	d.ModelVersion = "dga-2026.11.1"
	got, _ := json.MarshalIndent(d, "", "  ")
	golden(t, "detection.json", append(got, '\n'))
	if d.DetectionID != DetectionID(TypeFastFlux, "www.example.biz", first.Add(7*time.Hour)) {
		t.Error("detection_id must depend only on the UTC day of first_seen")
	}
	if d.DetectionID == DetectionID(TypeFastFlux, "www.example.biz", first.Add(24*time.Hour)) {
		t.Error("detection_id must change with the day")
	}
	for typ, k := range Kinds {
		if k.Type != typ || k.SignatureID == "" || k.MITRE == "" {
			t.Errorf("kind %s incomplete: %+v", typ, k)
		}
	}
}

func TestProbeAndHealthGolden(t *testing.T) {
	p := ProbeEvent{SchemaVersion: SchemaVersion, Query: "www.example.biz", Domain: "www.example.biz", RegisteredDomain: "example.biz",
		Round: 2, RecordType: "A", MessageType: "Response", ReplyCode: "NoError", ReplyCodeID: 0, Src: "fluxhunt-1",
		Dest: []string{"198.51.100.53"}, Authoritative: true, Answer: []string{"203.0.113.7", "198.51.100.9"}, AnswerCount: 2,
		TTL: 60, TTLMax: 60, ASNs: []uint32{64500, 64501}, NS: []string{"ns1.example.biz"}, ResponseTime: 1.5, Verdict: "fast_flux",
		Transport: "udp", VendorProduct: VendorProduct}
	got, _ := json.MarshalIndent(p, "", "  ")
	golden(t, "probe.json", append(got, '\n'))
	h := HealthEvent{SchemaVersion: SchemaVersion, Instance: "fluxhunt-1", Version: "0.1.0", ModelVersion: "dga-2026.11.1", Status: "ok",
		UptimeSeconds: 3600, LagSeconds: 42.5, Checkpoint: 1764172800, RowsRead: 1000, RowsSkipped: 3, ProbesSent: 120, Detections: 4,
		EventsSpooled: 130, EventsSent: 128, EventsAcked: 128, EventsDeadLettered: 1, SpoolBytes: 2048, Errors: 2,
		Checks: map[string]string{"hec": "OK", "search": "OK"}}
	got, _ = json.MarshalIndent(h, "", "  ")
	golden(t, "health.json", append(got, '\n'))
	e := Envelope{Time: EpochSeconds(time.Unix(1764172800, 250e6)), Host: "fluxhunt-1", Source: Source, Sourcetype: SourcetypeHealth, Index: "fluxhunt", Event: h}
	got, _ = json.Marshal(e)
	golden(t, "envelope.json", append(got, '\n'))
}

func TestFieldsUnmarshalNull(t *testing.T) {
	f := Fields{"a": {"1"}}
	if err := json.Unmarshal([]byte("null"), &f); err != nil || len(f) != 1 || f["a"][0] != "1" {
		t.Fatalf("null must leave Fields unchanged: %v %v", f, err)
	}
	var g Fields
	if err := json.Unmarshal([]byte(" null "), &g); err != nil || g != nil {
		t.Fatalf("null into a nil Fields: %v %v", g, err)
	}
	if err := json.Unmarshal([]byte("{}"), &g); err != nil || g == nil || len(g) != 0 {
		t.Fatalf("{} must give an empty, non-nil Fields: %#v %v", g, err)
	}
}
