package asn

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/internal/testenv"
)

const sampleCSV = `1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."
1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd
not,a,row
2001:db8::,2001:db8::ffff,64500,"Doc ""Net"""
2001:db8:1::,2001:db8:1:ffff:ffff:ffff:ffff:ffff,64501,Other
`

func TestCSV(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "a.csv")
	gz := filepath.Join(dir, "b.csv.gz")
	if err := os.WriteFile(plain, []byte(sampleCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("9.9.9.0,9.9.9.255,19281,Quad9\n"))
	zw.Close()
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := Load(plain, gz)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Skipped != 1 || len(tab.Warnings) != 1 || !strings.Contains(tab.Warnings[0], "a.csv:3:") {
		t.Errorf("skipped %d warnings %q, want one naming a.csv:3", tab.Skipped, tab.Warnings)
	}
	cases := []struct {
		ip   string
		asn  uint32
		ok   bool
		name string
	}{
		{"1.0.0.0", 13335, true, "Cloudflare, Inc."},
		{"1.0.0.255", 13335, true, "Cloudflare, Inc."},
		{"1.0.1.0", 0, false, ""},
		{"1.0.5.9", 38803, true, "Gtelecom Pty Ltd"},
		{"9.9.9.9", 19281, true, "Quad9"},
		{"::ffff:9.9.9.9", 19281, true, "Quad9"},
		{"0.0.0.0", 0, false, ""},
		{"255.255.255.255", 0, false, ""},
		{"2001:db8::1", 64500, true, `Doc "Net"`},
		{"2001:db8:0:0:0:0:1:0", 0, false, ""},
		{"2001:db8:1:ab::1", 64501, true, "Other"},
		{"::", 0, false, ""},
	}
	for _, c := range cases {
		a, ok := tab.Lookup(netip.MustParseAddr(c.ip))
		if a != c.asn || ok != c.ok || tab.Name(a) != c.name && ok {
			t.Errorf("Lookup(%s) = %d %v name %q, want %d %v %q", c.ip, a, ok, tab.Name(a), c.asn, c.ok, c.name)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("x\ny\n"), 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "bad.csv") {
		t.Errorf("unreadable file: err %v, want one naming bad.csv", err)
	}
}

func TestEmbedded(t *testing.T) {
	tab := Embedded()
	if tab.Len() < 500 {
		t.Fatalf("embedded table has %d ranges", tab.Len())
	}
	if a, ok := tab.Lookup(netip.MustParseAddr("1.0.0.1")); !ok || a != 13335 {
		t.Errorf("1.0.0.1 -> %d %v, want 13335", a, ok)
	}
	for _, r := range tab.RangesOf(7922) {
		if a, ok := tab.Lookup(r.First); !ok || a != 7922 {
			t.Errorf("first of %v -> %d", r, a)
		}
		if a, ok := tab.Lookup(r.Last); !ok || a != 7922 {
			t.Errorf("last of %v -> %d", r, a)
		}
	}
	if len(tab.RangesOf(7922)) == 0 {
		t.Error("no Comcast ranges in the extract")
	}
}

// TestEmbeddedMatchesShared checks the extract against the full data: every
// embedded range maps to the same ASN there.
func TestEmbeddedMatchesShared(t *testing.T) {
	full, err := Load(filepath.Join(testenv.Shared(t), "data", "asn", "asn-ipv4.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	emb := Embedded()
	for _, r := range emb.v4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], r.first)
		if a, ok := full.Lookup(netip.AddrFrom4(b)); !ok || a != r.asn {
			t.Errorf("%v: full table says %d %v, extract %d", netip.AddrFrom4(b), a, ok, r.asn)
		}
	}
}

// writeMMDB builds a minimal MaxMind DB (record size 24) holding the given
// prefixes, for the reader's tests.
func str(s string) []byte {
	if len(s) >= 29 {
		return append([]byte{2<<5 | 29, byte(len(s) - 29)}, s...)
	}
	return append([]byte{byte(2<<5 | len(s))}, s...)
}

func writeMMDB(ipVersion int, entries map[string]uint32, names map[uint32]string) []byte {
	type node struct{ rec [2]int64 } // >=0 node, -1 empty, <=-2 data index -(k+2)
	nodes := []node{{[2]int64{-1, -1}}}
	var dataIdx []uint32
	for pfx, asn := range entries {
		p := netip.MustParsePrefix(pfx)
		addr := p.Addr().As16()
		bits := p.Bits()
		off := 0
		if p.Addr().Is4() && ipVersion == 6 {
			off = 96
		} else if p.Addr().Is4() {
			a4 := p.Addr().As4()
			copy(addr[:], a4[:])
		}
		total := bits + off
		n := 0
		for d := 0; d < total; d++ {
			bit := 0
			if d >= off {
				i := d - off
				if p.Addr().Is4() && ipVersion == 6 {
					a4 := p.Addr().As4()
					bit = int(a4[i/8]>>(7-i%8)) & 1
				} else {
					bit = int(addr[i/8]>>(7-i%8)) & 1
				}
			}
			if d == total-1 {
				dataIdx = append(dataIdx, asn)
				nodes[n].rec[bit] = -int64(len(dataIdx) + 1)
				break
			}
			if nodes[n].rec[bit] < 0 {
				nodes = append(nodes, node{[2]int64{-1, -1}})
				nodes[n].rec[bit] = int64(len(nodes) - 1)
			}
			n = int(nodes[n].rec[bit])
		}
	}
	var data []byte
	offs := make([]int, len(dataIdx))
	for k, asn := range dataIdx {
		offs[k] = len(data)
		data = append(data, 7<<5|2)
		data = append(data, str("autonomous_system_number")...)
		data = append(data, 6<<5|4)
		data = binary.BigEndian.AppendUint32(data, asn)
		data = append(data, str("autonomous_system_organization")...)
		data = append(data, str(names[asn])...)
	}
	nc := int64(len(nodes))
	var out []byte
	for _, nd := range nodes {
		for _, r := range nd.rec {
			v := r
			switch {
			case r == -1:
				v = nc
			case r <= -2:
				v = nc + 16 + int64(offs[-r-2])
			}
			out = append(out, byte(v>>16), byte(v>>8), byte(v))
		}
	}
	out = append(out, make([]byte, 16)...)
	out = append(out, data...)
	out = append(out, mmdbMarker...)
	out = append(out, 7<<5|3)
	out = append(out, str("node_count")...)
	out = append(out, 6<<5|4)
	out = binary.BigEndian.AppendUint32(out, uint32(nc))
	out = append(out, str("record_size")...)
	out = append(out, 5<<5|2, 0, 24)
	out = append(out, str("ip_version")...)
	out = append(out, 5<<5|2, 0, byte(ipVersion))
	return out
}

func TestMMDB(t *testing.T) {
	names := map[uint32]string{15169: "GOOGLE", 7922: "COMCAST", 64500: "DOC"}
	for _, v := range []int{4, 6} {
		entries := map[string]uint32{"8.8.8.0/24": 15169, "24.0.0.0/12": 7922}
		if v == 6 {
			entries["2001:db8::/32"] = 64500
		}
		path := filepath.Join(t.TempDir(), "asn.mmdb")
		os.WriteFile(path, writeMMDB(v, entries, names), 0o644)
		tab, err := Load(path)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		cases := map[string]uint32{"8.8.8.8": 15169, "8.8.9.1": 0, "24.15.255.255": 7922, "24.16.0.0": 0}
		if v == 6 {
			cases["2001:db8:ffff::1"] = 64500
			cases["2001:db9::1"] = 0
		}
		for ip, want := range cases {
			got, ok := tab.Lookup(netip.MustParseAddr(ip))
			if got != want || ok != (want != 0) {
				t.Errorf("v%d Lookup(%s) = %d %v, want %d", v, ip, got, ok, want)
			}
		}
		if tab.Name(15169) != "GOOGLE" {
			t.Errorf("v%d name = %q", v, tab.Name(15169))
		}
	}
}

func FuzzReadMMDB(f *testing.F) {
	f.Add(writeMMDB(4, map[string]uint32{"8.8.8.0/24": 15169}, map[uint32]string{15169: "G"}))
	f.Add(writeMMDB(6, map[string]uint32{"2001:db8::/32": 1, "1.2.3.0/24": 2}, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBuilder()
		if err := b.ReadMMDB(data, "fuzz"); err != nil {
			return
		}
		tab := b.Table()
		tab.Lookup(netip.MustParseAddr("8.8.8.8"))
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(sampleCSV))
	f.Add([]byte("1.2.3.4,1.2.3.4,1,x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBuilder()
		_ = b.ReadCSV(bytes.NewReader(data), "fuzz")
		tab := b.Table()
		for _, r := range tab.v4 {
			if r.last < r.first {
				t.Fatalf("inverted range %v", r)
			}
		}
		tab.Lookup(netip.MustParseAddr("1.2.3.4"))
	})
}

func BenchmarkLookupEmbedded(b *testing.B) {
	tab := Embedded()
	addrs := []netip.Addr{netip.MustParseAddr("1.0.0.1"), netip.MustParseAddr("24.5.6.7"), netip.MustParseAddr("203.0.113.9")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tab.Lookup(addrs[i%len(addrs)])
	}
}

// BenchmarkLookupFull looks up in the full ip-location-db IPv4 table
// (../shared, ~410,000 ranges).
func BenchmarkLookupFull(b *testing.B) {
	tab, err := Load(filepath.Join(testenv.Shared(b), "data", "asn", "asn-ipv4.csv.gz"))
	if err != nil {
		b.Fatal(err)
	}
	addrs := make([]netip.Addr, 1024)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{byte(i * 37), byte(i * 101), byte(i), 7})
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tab.Lookup(addrs[i%len(addrs)])
	}
}
