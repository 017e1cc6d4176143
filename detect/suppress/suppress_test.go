package suppress

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

var t0 = time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)

func det(typ, src, domain, sev string, first time.Time, reasons ...string) schema.Detection {
	d := schema.NewDetection(typ, src, first)
	d.Src, d.Domain, d.Severity, d.Confidence = src, domain, sev, 0.9
	d.Reasons = reasons
	return d
}

func TestAdmitLifecycle(t *testing.T) {
	tr := New(Config{Window: time.Hour, Expire: 3 * time.Hour})
	type step struct {
		at       time.Duration
		sev      string
		reasons  []string
		campaign int
		emit     bool
		rev      int
	}
	steps := []step{
		{0, "medium", []string{"12 NXDOMAIN names in 5m"}, 0, true, 1},
		{5 * time.Minute, "medium", []string{"15 NXDOMAIN names in 5m"}, 0, false, 0},  // counts only: suppressed
		{10 * time.Minute, "high", []string{"15 NXDOMAIN names in 5m"}, 0, true, 2},    // severity up
		{15 * time.Minute, "medium", []string{"15 NXDOMAIN names in 5m"}, 0, false, 0}, // severity down: not news
		{20 * time.Minute, "high", []string{"15 NXDOMAIN names in 5m"}, 3, true, 3},    // campaign grew
		{25 * time.Minute, "high", []string{"15 NXDOMAIN names in 5m", "one name resolved"}, 3, true, 4},
		{85 * time.Minute, "high", []string{"15 NXDOMAIN names in 5m", "one name resolved"}, 3, true, 5}, // window passed: heartbeat
		{90 * time.Minute, "high", []string{"15 NXDOMAIN names in 5m", "one name resolved"}, 3, false, 0},
	}
	var id string
	for i, s := range steps {
		d := det(schema.TypeDGA, "10.0.0.5", "", s.sev, t0.Add(s.at), s.reasons...)
		d.CampaignSize = s.campaign
		out, emit := tr.Admit(d, t0.Add(s.at))
		if emit != s.emit {
			t.Fatalf("step %d: emit = %v, want %v", i, emit, s.emit)
		}
		if !emit {
			continue
		}
		if out.Revision != s.rev {
			t.Fatalf("step %d: revision %d, want %d", i, out.Revision, s.rev)
		}
		if id == "" {
			id = out.DetectionID
		}
		if out.DetectionID != id || out.FirstSeen != t0.Unix() {
			t.Fatalf("step %d: identity changed: %s first %d", i, out.DetectionID, out.FirstSeen)
		}
	}
	// Across midnight the identity holds (first_seen was 23:00 the day before).
	if id != schema.DetectionID(schema.TypeDGA, "10.0.0.5", t0) {
		t.Error("detection_id must come from the first sighting's day")
	}
	// Silent for longer than Expire: a new finding with a new identity.
	later := t0.Add(90*time.Minute + 4*time.Hour)
	out, emit := tr.Admit(det(schema.TypeDGA, "10.0.0.5", "", "high", later, "x"), later)
	if !emit || out.Revision != 1 || out.DetectionID == id {
		t.Errorf("after expiry: emit=%v rev=%d id=%s", emit, out.Revision, out.DetectionID)
	}
}

func TestSubjects(t *testing.T) {
	tr := New(Config{})
	a, _ := tr.Admit(det(schema.TypeFluxContact, "10.0.0.1", "x.biz", "high", t0), t0)
	b, _ := tr.Admit(det(schema.TypeFluxContact, "10.0.0.2", "x.biz", "high", t0), t0)
	c, _ := tr.Admit(det(schema.TypeFastFlux, "", "x.biz", "high", t0), t0)
	if a.DetectionID == b.DetectionID || a.DetectionID == c.DetectionID || tr.Len() != 3 {
		t.Errorf("distinct subjects must be distinct findings: %s %s %s", a.DetectionID, b.DetectionID, c.DetectionID)
	}
	if _, ok := tr.Open(schema.TypeFastFlux, "x.biz", t0); !ok {
		t.Error("fast_flux finding for x.biz should be open")
	}
}

func TestBoundedAndPersistent(t *testing.T) {
	tr := New(Config{MaxOpen: 10})
	for i := 0; i < 25; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		tr.Admit(det(schema.TypeDGA, "h"+string(rune('a'+i)), "", "low", at, "r"), at)
	}
	if tr.Len() != 10 {
		t.Fatalf("open %d, want 10", tr.Len())
	}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	tr2 := New(Config{MaxOpen: 10})
	if err := json.Unmarshal(b, tr2); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(tr2); string(b) != string(b2) {
		t.Error("snapshot not stable across restore")
	}
	// The restored tracker does not re-emit what was emitted before.
	at := t0.Add(25 * time.Minute)
	if _, emit := tr2.Admit(det(schema.TypeDGA, "h"+string(rune('a'+24)), "", "low", at, "r"), at); emit {
		t.Error("restored tracker re-emitted an unchanged finding")
	}
}
