package scenario

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/connector/zeek"
	"github.com/fluxhunt/fluxhunt/schema"
)

func fluxDomains() []FluxDomain {
	var pool []netip.Addr
	for i := 0; i < 40; i++ {
		pool = append(pool, netip.AddrFrom4([4]byte{byte(24 + i*5), byte(i * 7), byte(i * 3), byte(10 + i)}))
	}
	return []FluxDomain{{Name: "login.flux-bank.example", Addrs: pool[:25], TTL: 60}, {Name: "cdn.fluxy.example", Addrs: pool[20:], TTL: 120}}
}

func small(t *testing.T, seed int64) *Day {
	t.Helper()
	d, err := Generate(Config{Seed: seed, Hosts: 80, Browsing: 60, Flux: fluxDomains(), Flows: true,
		Infections: []Infection{{Family: "necurs", Loud: true, Hosts: 1}, {Family: "necurs", Hosts: 2}, {Family: LCGFamily, Hosts: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDeterministic(t *testing.T) {
	a, b, c := small(t, 5), small(t, 5), small(t, 6)
	var wa, wb, wc bytes.Buffer
	a.WriteZeekTSV(&wa)
	b.WriteZeekTSV(&wb)
	c.WriteZeekTSV(&wc)
	if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
		t.Error("same seed, different days")
	}
	if bytes.Equal(wa.Bytes(), wc.Bytes()) {
		t.Error("different seeds, same day")
	}
	if len(a.Flows) != len(b.Flows) {
		t.Error("flows differ")
	}
}

func TestTruthAndShape(t *testing.T) {
	d := small(t, 9)
	if len(d.Truth.Roles) != 80 || len(d.Truth.Infected) != 4 || len(d.Truth.Loud) != 1 {
		t.Fatalf("roles %d infected %d loud %d", len(d.Truth.Roles), len(d.Truth.Infected), len(d.Truth.Loud))
	}
	nxByHost := map[string]int{}
	generated := map[string]int{}
	for i, e := range d.Events {
		if i > 0 && e.Time.Before(d.Events[i-1].Time) {
			t.Fatal("events out of order")
		}
		if e.IndexTime.Before(e.Time) {
			t.Fatal("indexed before it happened")
		}
		if e.RCode == 3 {
			nxByHost[e.Src]++
			if e.TTL != -1 || e.Answers != nil {
				t.Fatal("NXDOMAIN with an answer")
			}
		}
		if fam, ok := d.Truth.Generated[e.Query]; ok {
			generated[e.Src]++
			if d.Truth.Infected[e.Src] != fam {
				t.Fatalf("%s asked %s of %s but is infected with %q", e.Src, e.Query, fam, d.Truth.Infected[e.Src])
			}
		}
	}
	for h := range d.Truth.Infected {
		n := generated[h]
		if d.Truth.Loud[h] && n < 100 {
			t.Errorf("loud bot %s asked only %d generated names", h, n)
		}
		if !d.Truth.Loud[h] && (n < 8 || n > 14) {
			t.Errorf("slow bot %s asked %d generated names, want about ten", h, n)
		}
	}
	// the mail servers are the loudest NXDOMAIN sources, as in life
	for h, r := range d.Truth.Roles {
		if r == RoleMail && nxByHost[h] < 1000 {
			t.Errorf("mail server %s has only %d NXDOMAIN answers", h, nxByHost[h])
		}
	}
}

func TestFluxContacts(t *testing.T) {
	d := small(t, 3)
	fl := fluxDomains()
	pools := map[string]map[string]bool{}
	for _, f := range fl {
		pools[f.Name] = map[string]bool{}
		for _, a := range f.Addrs {
			pools[f.Name][a.String()] = true
		}
	}
	if len(d.Truth.FluxContacts) != 4 {
		t.Fatalf("flux contacts %v", d.Truth.FluxContacts)
	}
	for h, doms := range d.Truth.FluxContacts {
		for _, dom := range doms {
			lookups, flows := 0, 0
			seen := map[string]bool{}
			for _, e := range d.Events {
				if e.Src == h && e.Query == dom {
					lookups++
					for _, a := range e.Answers {
						if !pools[dom][a] {
							t.Fatalf("%s answered %s outside its pool", dom, a)
						}
						seen[a] = true
					}
				}
			}
			for _, f := range d.Flows {
				if f.Src == h && pools[dom][f.Dest] {
					flows++
					if !seen[f.Dest] {
						t.Errorf("flow to %s the host never got in an answer", f.Dest)
					}
				}
			}
			if lookups < 2 || flows < 2 || len(seen) < 5 {
				t.Errorf("%s -> %s: %d lookups, %d flows, %d addresses", h, dom, lookups, flows, len(seen))
			}
		}
	}
	// flow rows parse as the flow search's rows
	rows := d.FlowRows(time.Minute)
	if len(rows) == 0 {
		t.Fatal("no flow rows")
	}
	var bytesSum int64
	for _, f := range rows {
		r, err := schema.ParseFlowRow(f)
		if err != nil {
			t.Fatalf("flow row %v: %v", f, err)
		}
		bytesSum += r.Bytes
	}
	var want int64
	for _, f := range d.Flows {
		want += f.Bytes
	}
	if bytesSum != want {
		t.Errorf("flow rows carry %d bytes, events %d", bytesSum, want)
	}
}

func TestOutputsAgree(t *testing.T) {
	d := small(t, 4)
	// Zeek TSV reads back event for event
	var tsv bytes.Buffer
	if err := d.WriteZeekTSV(&tsv); err != nil {
		t.Fatal(err)
	}
	zr, err := zeek.NewReader(&tsv, "day", zeek.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		r, err := zr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("generated Zeek log has a bad line: %v", err)
		}
		e := d.Events[n]
		if r.Src != e.Src || r.Query.ASCII != e.Query || int(r.ReplyCode) != e.RCode || r.Time.UnixMicro() != e.Time.UnixMicro() {
			t.Fatalf("line %d: %+v vs %+v", n, r, e)
		}
		n++
	}
	if n != len(d.Events) {
		t.Fatalf("read %d of %d events", n, len(d.Events))
	}
	// DNS rows sum to the events and parse
	var total int64
	for _, f := range d.DNSRows(5 * time.Minute) {
		r, err := schema.ParseDNSRow(f)
		if err != nil {
			t.Fatalf("row %v: %v", f, err)
		}
		total += r.Count
	}
	if total != int64(len(d.Events)) {
		t.Errorf("rows count %d events, want %d", total, len(d.Events))
	}
	// raw events carry an index time and parse as rows too
	f := d.Events[len(d.Events)/2].Fields()
	if _, ok := f.Get("_indextime"); !ok {
		t.Error("raw event without _indextime")
	}
	if _, err := schema.ParseDNSRow(f); err != nil {
		t.Errorf("raw event does not parse as a row: %v", err)
	}
	var jl bytes.Buffer
	if err := WriteJSONLines(&jl, d.DNSRows(time.Minute)[:3]); err != nil || strings.Count(jl.String(), "\n") != 3 {
		t.Errorf("json lines: %v %q", err, jl.String())
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := Generate(Config{Hosts: 10}); err == nil {
		t.Error("10 hosts for 12 infections accepted")
	}
	if _, err := Generate(Config{Infections: []Infection{{Family: "nosuch", Hosts: 1}}}); err == nil || !strings.Contains(err.Error(), "unknown DGA family") {
		t.Errorf("unknown family: %v", err)
	}
	if _, err := Generate(Config{Flux: []FluxDomain{{Name: "x.example"}}}); err == nil {
		t.Error("flux domain without addresses accepted")
	}
	if len(Families()) < 6 {
		t.Errorf("families %v", Families())
	}
	if l := lcgNames(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), 3); len(l) != 3 || l[0] == l[1] {
		t.Errorf("lcg %v", l)
	}
}
