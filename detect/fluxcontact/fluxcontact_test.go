package fluxcontact

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func flow(src, dest string, bytes int64, at time.Duration) schema.FlowRow {
	return schema.FlowRow{Time: t0.Add(at), Src: src, Dest: dest, DestPort: 443, Transport: "tcp", Bytes: bytes, Packets: 10, Count: 1}
}

func TestContacts(t *testing.T) {
	tb := New(Config{})
	// Passive answers before classification join the table when it happens.
	tb.NotePassive("10.1.1.1", "evil.biz", []string{"198.51.100.7", "not-an-ip"}, t0)
	addrs := tb.AddFlux("evil.biz", []netip.Addr{netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("10.0.0.1")}, t0)
	if len(addrs) != 2 || addrs[0].String() != "198.51.100.7" || addrs[1].String() != "203.0.113.9" {
		t.Fatalf("addresses %v (private 10.0.0.1 must be refused)", addrs)
	}
	got := tb.Observe([]schema.FlowRow{
		flow("10.1.1.1", "203.0.113.9", 1000, time.Minute),
		flow("10.1.1.1", "198.51.100.7", 500, 2*time.Minute),
		flow("10.1.1.2", "192.0.2.1", 99999, time.Minute), // not flux
		flow("10.1.1.3", "10.0.0.1", 99999, time.Minute),  // refused address
	}, t0.Add(5*time.Minute))
	if len(got) != 1 {
		t.Fatalf("%d detections, want 1: %+v", len(got), got)
	}
	d := got[0]
	if d.DetectionType != schema.TypeFluxContact || d.Src != "10.1.1.1" || d.Domain != "evil.biz" || d.Evidence["bytes"].(int64) != 1500 ||
		d.FirstSeen != t0.Add(time.Minute).Unix() || d.LastSeen != t0.Add(2*time.Minute).Unix() || d.MITRETechniqueID != "T1568.001" {
		t.Errorf("detection %+v", d)
	}
	if !strings.Contains(d.Reasons[0], "2 flows to 2 addresses") {
		t.Errorf("reasons %v", d.Reasons)
	}
	// Nothing new: nothing emitted.
	if again := tb.Observe(nil, t0.Add(6*time.Minute)); len(again) != 0 {
		t.Errorf("re-emitted %d", len(again))
	}
	// Known flux domain: new passive answers join directly.
	tb.NotePassive("10.1.1.9", "evil.biz", []string{"192.0.2.77"}, t0)
	if got := tb.Observe([]schema.FlowRow{flow("10.1.1.9", "192.0.2.77", 1, time.Minute)}, t0.Add(7*time.Minute)); len(got) != 1 {
		t.Errorf("passive address of known flux domain not matched")
	}
	b, _ := json.Marshal(tb)
	tb2 := New(Config{})
	if err := json.Unmarshal(b, tb2); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(tb2); string(b2) != string(b) || !tb2.IsFlux("evil.biz") {
		t.Error("snapshot does not round-trip")
	}
}

func TestBounds(t *testing.T) {
	tb := New(Config{MaxAddrs: 5, MaxPassive: 3, MaxContacts: 2})
	for i := 0; i < 10; i++ {
		tb.AddFlux("f.biz", []netip.Addr{netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})}, t0.Add(time.Duration(i)*time.Second))
		tb.NotePassive("", string(rune('a'+i))+".biz", []string{"192.0.2.1"}, t0)
	}
	if tb.Addrs() != 5 || len(tb.passive) != 3 {
		t.Errorf("addrs %d passive %d", tb.Addrs(), len(tb.passive))
	}
	var flows []schema.FlowRow
	for i := 5; i < 10; i++ {
		flows = append(flows, flow("h"+string(rune('0'+i)), netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String(), 1, time.Duration(i)*time.Second))
	}
	tb.Observe(flows, t0.Add(time.Minute))
	if len(tb.contacts) != 2 {
		t.Errorf("contacts %d", len(tb.contacts))
	}
}

// One botnet serves several flux domains: a flow to a shared address is
// attributed to the domain the host itself resolved.
func TestSharedAddressAttribution(t *testing.T) {
	tb := New(Config{})
	shared := netip.MustParseAddr("203.0.113.50")
	tb.AddFlux("one.biz", []netip.Addr{shared}, t0)
	tb.AddFlux("two.biz", []netip.Addr{shared}, t0)
	tb.NotePassive("10.0.0.1", "one.biz", []string{"203.0.113.50"}, t0)
	tb.NotePassive("10.0.0.2", "two.biz", []string{"203.0.113.50"}, t0)
	got := tb.Observe([]schema.FlowRow{flow("10.0.0.1", "203.0.113.50", 10, time.Minute), flow("10.0.0.2", "203.0.113.50", 10, time.Minute)}, t0.Add(time.Minute))
	if len(got) != 2 || got[0].Src != "10.0.0.1" || got[0].Domain != "one.biz" || got[1].Src != "10.0.0.2" || got[1].Domain != "two.biz" {
		for _, d := range got {
			t.Logf("%s %s", d.Src, d.Domain)
		}
		t.Fatal("contacts not attributed to the domain each host resolved")
	}
	// A host that resolved a third domain, not known flux, to the shared
	// address is not attributed to either flux domain.
	tb.NotePassive("10.0.0.3", "three.biz", []string{"203.0.113.50"}, t0)
	if got := tb.Observe([]schema.FlowRow{flow("10.0.0.3", "203.0.113.50", 10, time.Minute)}, t0.Add(2*time.Minute)); len(got) != 0 {
		t.Errorf("contact attributed to %s, want none until three.biz is classified", got[0].Domain)
	}
}
