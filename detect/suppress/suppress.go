// Package suppress gives detections their identity over time: one open
// finding per (detection_type, subject), a stable detection_id from its first
// sighting, a revision raised on each material update, and no re-emission of
// the same finding within a window. It is pure: time is passed in, and its
// state is a value the caller persists.
package suppress

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

// Config tunes a Tracker.
type Config struct {
	// Window: an unchanged finding is not re-emitted within it; after it, an
	// still-active finding is re-emitted as a new revision (a heartbeat
	// saying it goes on). Default 6 h.
	Window time.Duration
	// Expire: a finding not seen for this long is closed; a later sighting is
	// a new finding with a new detection_id. Default 24 h.
	Expire time.Duration
	// MaxOpen bounds the open findings; the least recently seen are closed
	// first. Default 100,000.
	MaxOpen int
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = 6 * time.Hour
	}
	if c.Expire <= 0 {
		c.Expire = 24 * time.Hour
	}
	if c.Expire < c.Window {
		c.Expire = c.Window
	}
	if c.MaxOpen <= 0 {
		c.MaxOpen = 100_000
	}
	return c
}

// Finding is the remembered state of one open finding.
type Finding struct {
	Key         string  `json:"k"`
	DetectionID string  `json:"id"`
	Revision    int     `json:"rev"`
	FirstSeen   int64   `json:"first"`
	LastSeen    int64   `json:"last"`
	LastEmit    int64   `json:"emit"`
	Severity    int     `json:"sev"`
	Confidence  float64 `json:"conf"`
	Campaign    int     `json:"camp"`
	Reasons     uint64  `json:"reasons"` // hash of the reason kinds
}

// Tracker holds open findings. Not safe for concurrent use.
type Tracker struct {
	cfg  Config
	open map[string]*Finding
}

// New makes an empty tracker.
func New(cfg Config) *Tracker {
	return &Tracker{cfg: cfg.withDefaults(), open: map[string]*Finding{}}
}

// Subject is what a detection is about (DESIGN.md): the domain for
// fast_flux, the host for dga and nxdomain_storm, host and domain for
// flux_contact.
func Subject(d *schema.Detection) string {
	switch d.DetectionType {
	case schema.TypeFastFlux:
		return d.Domain
	case schema.TypeFluxContact:
		return d.Src + "|" + d.Domain
	default:
		return d.Src
	}
}

func severityRank(s string) int {
	if i := slices.Index(schema.Severities, s); i >= 0 {
		return i
	}
	return 0
}

// reasonKinds hashes the reasons with their digits removed, so that "37
// names" and "41 names" count as the same kind of reason.
func reasonKinds(rs []string) uint64 {
	kinds := make([]string, 0, len(rs))
	for _, r := range rs {
		b := make([]byte, 0, len(r))
		for i := 0; i < len(r); i++ {
			if r[i] < '0' || r[i] > '9' {
				b = append(b, r[i])
			}
		}
		kinds = append(kinds, string(b))
	}
	sort.Strings(kinds)
	kinds = slices.Compact(kinds)
	h := fnv.New64a()
	for _, k := range kinds {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// Admit decides whether d is emitted now. When it is, the returned detection
// carries the finding's detection_id (from its first sighting), first_seen
// and the next revision. now is the time of the data (window end), never the
// wall clock of a replay.
func (t *Tracker) Admit(d schema.Detection, now time.Time) (schema.Detection, bool) {
	subject := Subject(&d)
	key := d.DetectionType + "\x00" + subject
	nowS := now.Unix()
	f, ok := t.open[key]
	if ok && nowS-f.LastSeen > int64(t.cfg.Expire/time.Second) {
		delete(t.open, key)
		ok = false
	}
	sev := severityRank(d.Severity)
	reasons := reasonKinds(d.Reasons)
	if !ok {
		if len(t.open) >= t.cfg.MaxOpen {
			t.evict(len(t.open) - t.cfg.MaxOpen + 1)
		}
		first := d.FirstSeen
		if first == 0 || first > nowS {
			first = nowS
		}
		f = &Finding{Key: key, FirstSeen: first, DetectionID: schema.DetectionID(d.DetectionType, subject, time.Unix(first, 0))}
		t.open[key] = f
	}
	if d.FirstSeen != 0 && d.FirstSeen < f.FirstSeen {
		// An earlier sighting (a look-back search) keeps the identity but
		// widens the span.
		f.FirstSeen = d.FirstSeen
	}
	if d.LastSeen > f.LastSeen {
		f.LastSeen = d.LastSeen
	}
	if nowS > f.LastSeen {
		f.LastSeen = nowS
	}
	material := f.Revision == 0 ||
		sev > f.Severity ||
		d.CampaignSize != f.Campaign ||
		d.Confidence >= f.Confidence+0.1 ||
		reasons != f.Reasons
	due := nowS-f.LastEmit >= int64(t.cfg.Window/time.Second)
	if !material && !due {
		return d, false
	}
	f.Revision++
	f.LastEmit = nowS
	f.Severity = max(sev, f.Severity)
	f.Confidence = d.Confidence
	f.Campaign = d.CampaignSize
	f.Reasons = reasons
	d.DetectionID = f.DetectionID
	d.Revision = f.Revision
	d.FirstSeen = f.FirstSeen
	if d.LastSeen < f.LastSeen {
		d.LastSeen = f.LastSeen
	}
	return d, true
}

// Suppressed reports whether (type, subject) has an open finding; the flux
// contact logic asks whether a domain is known flux, for example.
func (t *Tracker) Open(detectionType, subject string, now time.Time) (Finding, bool) {
	f, ok := t.open[detectionType+"\x00"+subject]
	if !ok || now.Unix()-f.LastSeen > int64(t.cfg.Expire/time.Second) {
		return Finding{}, false
	}
	return *f, true
}

// Len is the number of open findings.
func (t *Tracker) Len() int { return len(t.open) }

// Expire closes findings not seen within Expire of now.
func (t *Tracker) ExpireOld(now time.Time) int {
	n := 0
	for k, f := range t.open {
		if now.Unix()-f.LastSeen > int64(t.cfg.Expire/time.Second) {
			delete(t.open, k)
			n++
		}
	}
	return n
}

func (t *Tracker) evict(n int) {
	all := make([]*Finding, 0, len(t.open))
	for _, f := range t.open {
		all = append(all, f)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].LastSeen != all[j].LastSeen {
			return all[i].LastSeen < all[j].LastSeen
		}
		return all[i].Key < all[j].Key
	})
	for _, f := range all[:n] {
		delete(t.open, f.Key)
	}
}

// MarshalJSON snapshots the open findings, sorted, for persistence.
func (t *Tracker) MarshalJSON() ([]byte, error) {
	all := make([]*Finding, 0, len(t.open))
	for _, f := range t.open {
		all = append(all, f)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key < all[j].Key })
	return json.Marshal(all)
}

// UnmarshalJSON restores a snapshot made by MarshalJSON.
func (t *Tracker) UnmarshalJSON(b []byte) error {
	var all []*Finding
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("suppress: restore: %w", err)
	}
	if t.open == nil {
		t.open = map[string]*Finding{}
		t.cfg = t.cfg.withDefaults()
	}
	for _, f := range all {
		t.open[f.Key] = f
	}
	return nil
}
