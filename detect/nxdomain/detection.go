package nxdomain

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

// MaxSamples bounds the sample names a detection carries.
const MaxSamples = 10

type sample struct {
	Name  string  `json:"name"`
	Score float64 `json:"score,omitempty"`
	Count int64   `json:"count"`
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// samples gives the host's NXDOMAIN names of the horizon, generated-looking
// first, then by first sighting.
func (d *Detector) samples(h *host, t int64, onlyHigh bool) []sample {
	horizon := int64(d.cfg.Horizon / time.Second)
	g := make([]site, 0, len(h.Group))
	for _, s := range h.Group {
		if t-s.Last <= horizon && (!onlyHigh || s.High) {
			g = append(g, s)
		}
	}
	sort.SliceStable(g, func(i, j int) bool {
		if g[i].High != g[j].High {
			return g[i].High
		}
		return g[i].First < g[j].First
	})
	out := make([]sample, 0, min(len(g), MaxSamples))
	for _, s := range g[:min(len(g), MaxSamples)] {
		out = append(out, sample{Name: s.Name, Score: round3(s.Score), Count: s.Count})
	}
	return out
}

// shape summarises the generated-looking names: what Pleiades clusters on.
func shape(h *host) map[string]any {
	tlds := map[string]int{}
	var n, lsum, digits, letters int
	for _, s := range h.Group {
		if !s.High {
			continue
		}
		n++
		lbl := s.Site
		if i := strings.IndexByte(lbl, '.'); i >= 0 {
			tlds[lbl[i+1:]]++
			lbl = lbl[:i]
		}
		lsum += len(lbl)
		for i := 0; i < len(lbl); i++ {
			switch c := lbl[i]; {
			case c >= '0' && c <= '9':
				digits++
			case c >= 'a' && c <= 'z':
				letters++
			}
		}
	}
	if n == 0 {
		return nil
	}
	keys := make([]string, 0, len(tlds))
	for k := range tlds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return map[string]any{
		"names":          n,
		"suffixes":       keys,
		"mean_label_len": round3(float64(lsum) / float64(n)),
		"digit_share":    round3(float64(digits) / float64(max(digits+letters, 1))),
	}
}

func (d *Detector) common(det *schema.Detection, h *host, o *openDet, c *campaign, t int64) {
	det.DetectionID = o.ID
	det.Revision = o.Rev
	det.FirstSeen = o.First
	det.LastSeen = t
	det.Src = h.Src
	if c != nil {
		det.CampaignID = c.ID
		det.CampaignSize = len(c.Hosts)
		det.CampaignHosts = slices.Clone(c.Hosts)
	}
	if v, ok := d.scorer.(versioner); ok {
		det.ModelVersion = v.Version()
	}
}

func severity(conf float64) string {
	switch {
	case conf >= 0.9:
		return "high"
	case conf >= 0.7:
		return "medium"
	default:
		return "low"
	}
}

func (d *Detector) dgaDetection(h *host, o *openDet, c *campaign, total, scored, high int, meanHigh float64, t int64) schema.Detection {
	det := schema.NewDetection(schema.TypeDGA, h.Src, time.Unix(o.First, 0))
	d.common(&det, h, o, c, t)
	share := float64(high) / float64(max(scored, 1))
	det.Score = round3(meanHigh)
	// more names and a higher share make a surer call; a campaign and a
	// resolved name more so
	conf := meanHigh * (1 - math.Pow(0.5, float64(high)/2)) * (0.5 + 0.5*share)
	if c != nil && len(c.Hosts) > 1 {
		conf = 1 - (1-conf)*0.5
	}
	if h.Resolved != nil {
		conf = 1 - (1-conf)*0.5
	}
	det.Confidence = round3(math.Min(conf, 0.999))
	det.Severity = severity(det.Confidence)
	if h.Resolved != nil {
		det.Severity = "critical"
		n, err := schema.NormalizeName(h.Resolved.Name)
		if err == nil {
			det.Domain = n.ASCII
			det.RegisteredDomain = n.Registered
		}
	}
	det.Reasons = append(det.Reasons,
		fmt.Sprintf("%d of %d scored NXDOMAIN domains look generated (mean score %.2f, group threshold %.2f)", high, scored, meanHigh, d.groupThr))
	if c != nil && len(c.Hosts) > 1 {
		det.Reasons = append(det.Reasons, fmt.Sprintf("campaign of %d hosts asking for the same generated names", len(c.Hosts)))
	}
	if h.Resolved != nil {
		det.Reasons = append(det.Reasons, fmt.Sprintf("generated-looking %s resolved (score %.2f)", h.Resolved.Name, h.Resolved.Score))
	}
	ev := map[string]any{
		"nxdomain_domains": total,
		"scored":           scored,
		"generated":        high,
		"generated_share":  round3(share),
		"samples":          d.samples(h, t, true),
		"cluster":          shape(h),
		"horizon_seconds":  int64(d.cfg.Horizon / time.Second),
		"threshold":        round3(d.threshold),
	}
	if h.Resolved != nil {
		ev["resolved"] = h.Resolved
	}
	det.Evidence = ev
	return det
}

func (d *Detector) stormDetection(h *host, o *openDet, c *campaign, ws []windowStat, total, scored, high int, t int64) schema.Detection {
	det := schema.NewDetection(schema.TypeNXDomainStorm, h.Src, time.Unix(o.First, 0))
	d.common(&det, h, o, c, t)
	windows := make([]map[string]any, 0, len(ws))
	best := 0.0
	for _, w := range ws {
		ratio := float64(w.NX) / float64(max(w.Rows, 1))
		windows = append(windows, map[string]any{
			"window_seconds": int64(w.W / time.Second), "nxdomain_domains": w.Sites,
			"nxdomain_rows": w.NX, "rows": w.Rows, "nxdomain_ratio": round3(ratio), "threshold": w.Threshold, "storm": w.Storm,
		})
		if w.Storm {
			det.Reasons = append(det.Reasons, fmt.Sprintf("%d distinct NXDOMAIN domains in %s (threshold %d); NXDOMAIN ratio %.2f",
				w.Sites, shortDur(w.W), w.Threshold, ratio))
			best = math.Max(best, float64(w.Sites)/float64(w.Threshold))
		}
	}
	det.Reasons = append(det.Reasons, fmt.Sprintf("baseline %.1f ± %.1f distinct NXDOMAIN domains an hour over %d hours", h.Base.Mean, math.Sqrt(h.Base.Var), h.Base.Hours))
	if high > 0 {
		det.Reasons = append(det.Reasons, fmt.Sprintf("%d of %d scored NXDOMAIN domains look generated", high, scored))
	}
	det.Score = round3(math.Min(1, best/3))
	conf := 1 - 0.5/best
	if scored > 0 {
		share := float64(high) / float64(scored)
		conf = 1 - (1-conf)*(1-0.5*share)
	}
	det.Confidence = round3(math.Min(math.Max(conf, 0.5), 0.999))
	det.Severity = severity(det.Confidence)
	det.Evidence = map[string]any{
		"windows":          windows,
		"baseline":         map[string]any{"mean_per_hour": round3(h.Base.Mean), "sd_per_hour": round3(math.Sqrt(h.Base.Var)), "hours": h.Base.Hours, "peak_per_hour": h.Base.Peak},
		"nxdomain_domains": total,
		"generated":        high,
		"samples":          d.samples(h, t, false),
	}
	return det
}

func shortDur(w time.Duration) string {
	if w%time.Hour == 0 {
		return fmt.Sprintf("%dh", w/time.Hour)
	}
	return fmt.Sprintf("%dm", w/time.Minute)
}

// MarshalBinary snapshots the detector's state (JSON).
func (d *Detector) MarshalBinary() ([]byte, error) {
	return json.Marshal(&d.st)
}

// UnmarshalBinary restores a snapshot made by MarshalBinary, replacing the
// state. The configuration, scorer and allowlist stay those of New.
func (d *Detector) UnmarshalBinary(b []byte) error {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("nxdomain: restore state: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("nxdomain: restore state: version %d, want %d", st.Version, stateVersion)
	}
	if st.Hosts == nil {
		st.Hosts = map[string]*host{}
	}
	if st.Sites == nil {
		st.Sites = map[string]*siteHost{}
	}
	if st.Campaigns == nil {
		st.Campaigns = map[string]*campaign{}
	}
	n := d.cfg.ringMinutes()
	for k, h := range st.Hosts {
		if h == nil {
			delete(st.Hosts, k)
			continue
		}
		if h.Ring != nil && len(h.Ring) != n {
			h.Ring = nil // the windows changed: start the ring afresh
		}
	}
	for k, v := range st.Sites {
		if v == nil {
			delete(st.Sites, k)
		}
	}
	for k, v := range st.Campaigns {
		if v == nil {
			delete(st.Campaigns, k)
		}
	}
	d.st = st
	return nil
}
