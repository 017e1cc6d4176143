// Package nxdomain finds hosts whose NXDOMAIN answers show a bot walking its
// DGA list, and groups them into campaigns, while the ordinary NXDOMAIN noise
// of an enterprise stays silent. It is pure: rows carry their time, nothing
// reads a clock or does I/O, and its whole state is a value that
// MarshalBinary/UnmarshalBinary persist.
//
// Per source host it keeps a ring of per-minute counters spanning the longest
// window (rows, NXDOMAIN rows, distinct NXDOMAIN sites new to the host), a
// bounded group of the distinct NXDOMAIN sites of the last Horizon with their
// DGA scores, and an hourly baseline of its NXDOMAIN sites. It emits
//
//   - nxdomain_storm when a window's distinct NXDOMAIN sites exceed both a
//     floor and the host's baseline (mean + StormSigma·sd of past hours),
//     with enough NXDOMAIN share;
//   - dga when at least MinDGA distinct NXDOMAIN sites of the horizon score
//     as generated and they are at least MinDGAShare of the scored ones.
//
// Hosts sharing at least two generated-looking NXDOMAIN sites are one
// campaign (the Pleiades observation: bots of one family walk the same list).
package nxdomain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fluxhunt/fluxhunt/detect/allowlist"
	"github.com/fluxhunt/fluxhunt/schema"
)

// NameScorer scores one name for being algorithmically generated (the DGA
// model of detect/dga satisfies it).
type NameScorer interface {
	ScoreName(n schema.Name) (score float64, ok bool)
	Threshold() float64
}

type versioner interface{ Version() string }

// Detector is the per-host NXDOMAIN/DGA detector. Not safe for concurrent
// use.
type Detector struct {
	cfg       Config
	scorer    NameScorer
	threshold float64
	groupThr  float64
	allow     *allowlist.List
	tlds      map[string]bool
	st        state
	stats     Stats
}

// Stats are cumulative counters (not persisted).
type Stats struct {
	Rows       int64
	NXRows     int64
	Noise      [numNoise]int64 // NXDOMAIN rows by class; Noise[0]: evidence
	HostsAllow int64           // rows from allowlisted hosts
	Evicted    int64           // hosts forgotten for MaxHosts
}

// state is everything persisted.
type state struct {
	Version   int                  `json:"version"`
	Now       int64                `json:"now"`
	Hosts     map[string]*host     `json:"hosts"`
	Sites     map[string]*siteHost `json:"sites"`
	Campaigns map[string]*campaign `json:"campaigns"`
	LastSweep int64                `json:"last_sweep"`
}

const stateVersion = 1

type host struct {
	Src      string           `json:"src"`
	Last     int64            `json:"last"`
	Ring     []bucket         `json:"ring,omitempty"`
	Group    []site           `json:"group,omitempty"`
	Seen     map[uint64]int64 `json:"seen,omitempty"` // site hash -> minute last seen
	Base     baseline         `json:"base"`
	Storm    openDet          `json:"storm"`
	DGA      openDet          `json:"dga"`
	Camp     string           `json:"camp,omitempty"`
	Resolved *resolved        `json:"resolved,omitempty"`
}

type bucket struct {
	Minute int64 `json:"m"`
	Rows   int32 `json:"r"`
	NX     int32 `json:"n"`
	Sites  int32 `json:"s"` // distinct NXDOMAIN sites new to the host in the ring span
}

type site struct {
	Site   string  `json:"site"`
	Name   string  `json:"name"`
	First  int64   `json:"first"`
	Last   int64   `json:"last"`
	Count  int64   `json:"count"`
	Score  float64 `json:"score"`
	Scored bool    `json:"scored"`
	High   bool    `json:"high"`
}

type resolved struct {
	Name   string   `json:"name"`
	Score  float64  `json:"score"`
	Time   int64    `json:"time"`
	Answer []string `json:"answer,omitempty"`
}

// baseline is an exponentially weighted mean and variance of the host's
// distinct NXDOMAIN sites per hour, over hours it was active.
type baseline struct {
	Hour  int64   `json:"hour"`
	Cur   int64   `json:"cur"`
	Mean  float64 `json:"mean"`
	Var   float64 `json:"var"`
	Hours int     `json:"hours"`
	Peak  int64   `json:"peak"`
}

type openDet struct {
	ID       string `json:"id,omitempty"`
	PrevID   string `json:"prev_id,omitempty"`
	First    int64  `json:"first,omitempty"`
	Last     int64  `json:"last,omitempty"`
	Rev      int    `json:"rev,omitempty"`
	Emitted  int    `json:"emitted,omitempty"` // evidence count at the last emission
	CampSize int    `json:"camp_size,omitempty"`
	Resolved string `json:"resolved,omitempty"`
}

func (o *openDet) open() bool { return o.ID != "" }

type siteHost struct {
	Last  int64    `json:"last"`
	Hosts []string `json:"hosts"`
}

type campaign struct {
	ID      string   `json:"id"`
	Created int64    `json:"created"`
	Last    int64    `json:"last"`
	Hosts   []string `json:"hosts"`
}

// New makes a detector. scorer may be nil: then only storms are found.
// allow may be nil.
func New(cfg Config, scorer NameScorer, allow *allowlist.List) (*Detector, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	for i, s := range c.InternalSuffixes {
		cs, err := schema.CanonicalName(strings.TrimPrefix(s, "."))
		if err != nil {
			return nil, fmt.Errorf("nxdomain: internal suffix %q: %w", schema.EscapeDisplay(s), err)
		}
		c.InternalSuffixes[i] = cs
	}
	d := &Detector{cfg: c, scorer: scorer, allow: allow, tlds: map[string]bool{}}
	if scorer != nil {
		d.threshold = scorer.Threshold()
	}
	if c.Threshold > 0 {
		d.threshold = c.Threshold
	}
	d.groupThr = math.Min(d.threshold, 0.9)
	if c.GroupThreshold > 0 {
		d.groupThr = c.GroupThreshold
	}
	d.st = state{Version: stateVersion, Hosts: map[string]*host{}, Sites: map[string]*siteHost{}, Campaigns: map[string]*campaign{}}
	return d, nil
}

// SetAllowlist replaces the allowlist (SIGHUP reload). It applies to rows
// from now on.
func (d *Detector) SetAllowlist(l *allowlist.List) { d.allow = l }

// Stats returns the counters.
func (d *Detector) Stats() Stats { return d.stats }

// Hosts is the number of hosts tracked.
func (d *Detector) Hosts() int { return len(d.st.Hosts) }

func minuteOf(t int64) int64 { return floorDiv(t, 60) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Observe takes one DNS row and returns the detections it causes (usually
// none). Rows may come slightly out of order; the detector's clock is the
// latest row time seen.
func (d *Detector) Observe(r schema.DNSRow) []schema.Detection {
	t := r.Time.Unix()
	if t > d.st.Now {
		d.st.Now = t
	}
	cnt := r.Count
	if cnt <= 0 {
		cnt = 1
	}
	d.stats.Rows++
	nx := r.ReplyCode == schema.RCodeNXDomain
	if nx {
		d.stats.NXRows++
	}
	if d.allow.MatchHost(r.Src) {
		d.stats.HostsAllow++
		return nil
	}
	var out []schema.Detection
	if d.st.Now-d.st.LastSweep >= 600 {
		d.sweep(d.st.Now)
	}
	h := d.st.Hosts[r.Src]
	if h == nil {
		if len(d.st.Hosts) >= d.cfg.MaxHosts {
			d.evictOldest()
		}
		h = &host{Src: r.Src, Base: baseline{Hour: floorDiv(t, 3600)}}
		d.st.Hosts[r.Src] = h
	}
	if t > h.Last {
		h.Last = t
	}
	d.rollBaseline(h, t)
	b := d.bucket(h, minuteOf(t))
	if b != nil {
		b.Rows += int32(min(cnt, math.MaxInt32/2))
	}
	if !nx {
		if r.ReplyCode == schema.RCodeNoError && len(r.Answers) > 0 && h.DGA.open() {
			out = append(out, d.checkResolved(h, r)...)
		}
		return out
	}
	if b != nil {
		b.NX += int32(min(cnt, math.MaxInt32/2))
	}
	cls := d.classify(r.Query, r.RecordType)
	d.stats.Noise[cls]++
	if cls != NoiseNone {
		return out
	}
	key := r.Query.Site
	hv := fnv64a(key)
	m := minuteOf(t)
	if h.Seen == nil {
		h.Seen = map[uint64]int64{}
	}
	if last, ok := h.Seen[hv]; !ok || m-last >= int64(d.cfg.ringMinutes()) {
		if b != nil {
			b.Sites++
		}
		h.Base.Cur++
	}
	d.remember(h, hv, m)
	d.addToGroup(h, r.Query, t, cnt)
	return append(out, d.evaluate(h, t)...)
}

func (d *Detector) remember(h *host, hv uint64, m int64) {
	if _, ok := h.Seen[hv]; !ok && len(h.Seen) >= d.cfg.MaxSeen {
		span := int64(d.cfg.ringMinutes())
		for k, v := range h.Seen {
			if m-v >= span {
				delete(h.Seen, k)
			}
		}
		if len(h.Seen) >= d.cfg.MaxSeen {
			return // saturated: new sites keep counting as new
		}
	}
	h.Seen[hv] = m
}

// bucket returns the ring slot for minute m, or nil when m is older than the
// ring.
func (d *Detector) bucket(h *host, m int64) *bucket {
	n := d.cfg.ringMinutes()
	if h.Ring == nil {
		h.Ring = make([]bucket, n)
	}
	i := int(((m % int64(n)) + int64(n)) % int64(n))
	b := &h.Ring[i]
	if b.Minute == m {
		return b
	}
	if b.Minute > m {
		return nil // too old for the ring
	}
	*b = bucket{Minute: m}
	return b
}

// window sums the ring over the last w ending at minute m.
func (d *Detector) window(h *host, m int64, w time.Duration) (rows, nx, sites int64) {
	span := int64(w / time.Minute)
	for i := range h.Ring {
		b := &h.Ring[i]
		if b.Minute > m-span && b.Minute <= m {
			rows += int64(b.Rows)
			nx += int64(b.NX)
			sites += int64(b.Sites)
		}
	}
	return
}

// rollBaseline closes the hours before t into the baseline. Hours in which
// a storm was open are not learned.
func (d *Detector) rollBaseline(h *host, t int64) {
	hr := floorDiv(t, 3600)
	bl := &h.Base
	if hr <= bl.Hour {
		return
	}
	if !h.Storm.open() && !h.DGA.open() {
		x := float64(bl.Cur)
		bl.Hours++
		alpha := 1 / float64(min(bl.Hours, 168))
		delta := x - bl.Mean
		bl.Mean += alpha * delta
		bl.Var = (1 - alpha) * (bl.Var + alpha*delta*delta)
		bl.Peak = max(bl.Peak, bl.Cur)
		// Quiet hours between count as zeros, up to a day of them.
		for gap := min(hr-bl.Hour-1, 24); gap > 0; gap-- {
			bl.Hours++
			alpha = 1 / float64(min(bl.Hours, 168))
			delta = -bl.Mean
			bl.Mean += alpha * delta
			bl.Var = (1 - alpha) * (bl.Var + alpha*delta*delta)
		}
	}
	bl.Hour = hr
	bl.Cur = 0
}

func (d *Detector) addToGroup(h *host, n schema.Name, t, cnt int64) {
	for i := range h.Group {
		s := &h.Group[i]
		if s.Site == n.Site {
			s.Last = max(s.Last, t)
			s.Count += cnt
			return
		}
	}
	// prune the expired, then make room
	horizon := int64(d.cfg.Horizon / time.Second)
	h.Group = slices.DeleteFunc(h.Group, func(s site) bool { return t-s.Last > horizon })
	if len(h.Group) >= d.cfg.MaxGroup {
		// drop the oldest benign-looking one, else the oldest
		victim := -1
		for i := range h.Group {
			if !h.Group[i].High && (victim < 0 || h.Group[i].Last < h.Group[victim].Last) {
				victim = i
			}
		}
		if victim < 0 {
			victim = 0
			for i := range h.Group {
				if h.Group[i].Last < h.Group[victim].Last {
					victim = i
				}
			}
		}
		h.Group = slices.Delete(h.Group, victim, victim+1)
	}
	s := site{Site: n.Site, Name: n.ASCII, First: t, Last: t, Count: cnt}
	if d.scorer != nil {
		if sc, ok := d.scorer.ScoreName(n); ok {
			s.Score, s.Scored = sc, true
			s.High = sc >= d.groupThr
		}
	}
	h.Group = append(h.Group, s)
	if s.High {
		d.indexSite(h.Src, s.Site, t)
	}
}

func (d *Detector) indexSite(src, key string, t int64) {
	sh := d.st.Sites[key]
	if sh == nil {
		if len(d.st.Sites) >= d.cfg.MaxCampaignSites {
			d.sweepSites(t, true)
		}
		sh = &siteHost{}
		d.st.Sites[key] = sh
	}
	sh.Last = max(sh.Last, t)
	if !slices.Contains(sh.Hosts, src) && len(sh.Hosts) < 256 {
		sh.Hosts = append(sh.Hosts, src)
	}
}

// groupStats counts the host's group within the horizon.
func (d *Detector) groupStats(h *host, t int64) (total, scored, high int, meanHigh float64) {
	horizon := int64(d.cfg.Horizon / time.Second)
	for _, s := range h.Group {
		if t-s.Last > horizon {
			continue
		}
		total++
		if s.Scored {
			scored++
		}
		if s.High {
			high++
			meanHigh += s.Score
		}
	}
	if high > 0 {
		meanHigh /= float64(high)
	}
	return
}

type windowStat struct {
	W         time.Duration
	Rows, NX  int64
	Sites     int64
	Threshold int64
	Storm     bool
}

func (d *Detector) stormThreshold(h *host, w time.Duration) int64 {
	floor := int64(d.cfg.StormFloor(w))
	bl := h.Base
	if bl.Hours >= 3 {
		thr := bl.Mean + d.cfg.StormSigma*math.Sqrt(bl.Var)
		floor = max(floor, int64(math.Ceil(thr)), bl.Peak+1)
	}
	return floor
}

// evaluate decides the host's detections after new evidence at t.
func (d *Detector) evaluate(h *host, t int64) []schema.Detection {
	var out []schema.Detection
	m := minuteOf(t)
	var wsBuf [4]windowStat
	ws := wsBuf[:0]
	storm := false
	for _, w := range d.cfg.Windows {
		rows, nx, sites := d.window(h, m, w)
		thr := d.stormThreshold(h, w)
		ratio := float64(nx) / float64(max(rows, 1))
		s := sites >= thr && (ratio >= d.cfg.MinNXRatio || sites >= 3*thr)
		storm = storm || s
		ws = append(ws, windowStat{W: w, Rows: rows, NX: nx, Sites: sites, Threshold: thr, Storm: s})
	}
	total, scored, high, meanHigh := d.groupStats(h, t)
	minDGA := d.cfg.MinDGA
	isDGA := d.scorer != nil && high >= minDGA && float64(high) >= d.cfg.MinDGAShare*float64(scored)
	// A host sharing generated names with a campaign already found needs
	// less evidence: two shared names, as many as the campaign rule uses.
	if !isDGA && d.scorer != nil && high >= 2 && !h.DGA.open() && float64(high) >= d.cfg.MinDGAShare*float64(scored) {
		if c := d.sharedCampaign(h, t); c != "" {
			isDGA = true
		}
	}
	quiet := int64(d.cfg.Quiet / time.Second)
	for _, o := range [2]*openDet{&h.Storm, &h.DGA} {
		if o.open() && t-o.Last > quiet {
			*o = openDet{PrevID: o.ID, Rev: o.Rev}
		}
	}
	if isDGA {
		d.joinCampaign(h, t)
	}
	campSize := 0
	var camp *campaign
	if h.Camp != "" {
		camp = d.st.Campaigns[h.Camp]
		if camp != nil {
			campSize = len(camp.Hosts)
		}
	}
	if isDGA {
		o := &h.DGA
		fresh := !o.open()
		if fresh {
			d.openDetection(o, schema.TypeDGA, h.Src, t)
		}
		o.Last = t
		res := ""
		if h.Resolved != nil {
			res = h.Resolved.Name
		}
		if fresh || high >= 2*o.Emitted || campSize != o.CampSize || res != o.Resolved {
			if !fresh {
				o.Rev++
			}
			o.Emitted, o.CampSize, o.Resolved = high, campSize, res
			out = append(out, d.dgaDetection(h, o, camp, total, scored, high, meanHigh, t))
		}
		// other members learn the campaign grew
		if camp != nil {
			out = append(out, d.refreshCampaign(camp, h.Src, t)...)
		}
	}
	if storm {
		o := &h.Storm
		fresh := !o.open()
		if fresh {
			d.openDetection(o, schema.TypeNXDomainStorm, h.Src, t)
		}
		o.Last = t
		peak := 0
		for _, w := range ws {
			peak = max(peak, int(w.Sites))
		}
		if fresh || peak >= 2*o.Emitted || campSize != o.CampSize {
			if !fresh {
				o.Rev++
			}
			o.Emitted, o.CampSize = max(peak, o.Emitted), campSize
			out = append(out, d.stormDetection(h, o, camp, ws, total, scored, high, t))
		}
	}
	return out
}

func (d *Detector) openDetection(o *openDet, typ, src string, t int64) {
	id := schema.DetectionID(typ, src, time.Unix(t, 0))
	rev := 1
	if id == o.PrevID {
		// closed and reopened the same day: the same detection_id goes on
		rev = o.Rev + 1
	}
	*o = openDet{ID: id, First: t, Last: t, Rev: rev}
}

// checkResolved notes a generated-looking name that resolved for a DGA host:
// the likely C2.
func (d *Detector) checkResolved(h *host, r schema.DNSRow) []schema.Detection {
	if d.scorer == nil || !addressLookup(r.RecordType) || d.classify(r.Query, r.RecordType) != NoiseNone {
		return nil
	}
	if h.Resolved != nil {
		return nil // the first generated name that resolved is the news
	}
	sc, ok := d.scorer.ScoreName(r.Query)
	if !ok || sc < d.threshold {
		return nil
	}
	ans := r.Answers
	if len(ans) > 8 {
		ans = ans[:8]
	}
	h.Resolved = &resolved{Name: r.Query.ASCII, Score: sc, Time: r.Time.Unix(), Answer: slices.Clone(ans)}
	return d.evaluate(h, r.Time.Unix())
}

// campaignSite reports whether a generated-looking NXDOMAIN site is
// evidence of a campaign: asked for by few hosts, a good part of them
// already found running a DGA. A benign name that many hosts ask for (a
// retired vendor domain, a common typo) which the scorer happens to call
// generated fails this, so it never ties hosts together.
func (d *Detector) campaignSite(sh *siteHost) bool {
	flagged := 0
	for _, o := range sh.Hosts {
		if oh := d.st.Hosts[o]; oh != nil && oh.DGA.open() {
			flagged++
		}
	}
	return flagged > 0 && len(sh.Hosts) <= 3*flagged+2
}

// sharedPeers counts, per other DGA host, the campaign-worthy sites h
// shares with it.
func (d *Detector) sharedPeers(h *host) map[string]int {
	shared := map[string]int{}
	for _, s := range h.Group {
		if !s.High {
			continue
		}
		sh := d.st.Sites[s.Site]
		if sh == nil || !d.campaignSite(sh) {
			continue
		}
		for _, o := range sh.Hosts {
			if o == h.Src {
				continue
			}
			if oh := d.st.Hosts[o]; oh != nil && oh.DGA.open() {
				shared[o]++
			}
		}
	}
	return shared
}

// sharedCampaign returns the campaign of a DGA host sharing at least two
// campaign-worthy generated-looking NXDOMAIN sites with h.
func (d *Detector) sharedCampaign(h *host, t int64) string {
	best, bestN := "", 0
	for o, n := range d.sharedPeers(h) {
		c := d.st.Hosts[o].Camp
		if n >= 2 && c != "" && (n > bestN || (n == bestN && c < best)) {
			best, bestN = c, n
		}
	}
	return best
}

// joinCampaign puts h in the campaign of the DGA hosts it shares at least
// two generated-looking NXDOMAIN sites with, merging campaigns it bridges;
// else in a campaign of its own.
func (d *Detector) joinCampaign(h *host, t int64) {
	shared := d.sharedPeers(h)
	var camps []*campaign
	seen := map[string]bool{}
	if h.Camp != "" {
		if c := d.st.Campaigns[h.Camp]; c != nil {
			camps = append(camps, c)
			seen[c.ID] = true
		}
	}
	peers := make([]string, 0, len(shared))
	for o, n := range shared {
		if n >= 2 {
			peers = append(peers, o)
		}
	}
	sort.Strings(peers)
	var loose []string
	for _, o := range peers {
		oh := d.st.Hosts[o]
		if oh == nil || !oh.DGA.open() {
			continue
		}
		if oh.Camp != "" {
			if c := d.st.Campaigns[oh.Camp]; c != nil && !seen[c.ID] {
				camps = append(camps, c)
				seen[c.ID] = true
				continue
			}
		}
		loose = append(loose, o)
	}
	if len(camps) == 0 {
		id := campaignID(h.Src, h.Group)
		c := &campaign{ID: id, Created: t}
		d.st.Campaigns[id] = c
		camps = append(camps, c)
	}
	// the oldest campaign absorbs the others
	sort.Slice(camps, func(i, j int) bool {
		if camps[i].Created != camps[j].Created {
			return camps[i].Created < camps[j].Created
		}
		return camps[i].ID < camps[j].ID
	})
	c := camps[0]
	for _, o := range camps[1:] {
		for _, m := range o.Hosts {
			c.addHost(m)
			if mh := d.st.Hosts[m]; mh != nil {
				mh.Camp = c.ID
			}
		}
		delete(d.st.Campaigns, o.ID)
	}
	for _, m := range append(loose, h.Src) {
		c.addHost(m)
		if mh := d.st.Hosts[m]; mh != nil {
			mh.Camp = c.ID
		}
	}
	c.Last = max(c.Last, t)
}

func (c *campaign) addHost(src string) {
	i, found := slices.BinarySearch(c.Hosts, src)
	if !found {
		c.Hosts = slices.Insert(c.Hosts, i, src)
	}
}

func campaignID(src string, g []site) string {
	h := sha256.New()
	h.Write([]byte(src))
	for _, s := range g {
		if s.High {
			h.Write([]byte{0})
			h.Write([]byte(s.Site))
		}
	}
	return "c-" + hex.EncodeToString(h.Sum(nil))[:8]
}

// refreshCampaign re-emits the dga detections of the campaign's other
// members whose campaign size changed.
func (d *Detector) refreshCampaign(c *campaign, except string, t int64) []schema.Detection {
	var out []schema.Detection
	for _, m := range c.Hosts {
		if m == except {
			continue
		}
		mh := d.st.Hosts[m]
		if mh == nil || !mh.DGA.open() || mh.Camp != c.ID || mh.DGA.CampSize == len(c.Hosts) {
			continue
		}
		o := &mh.DGA
		o.Rev++
		o.CampSize = len(c.Hosts)
		total, scored, high, meanHigh := d.groupStats(mh, mh.Last)
		out = append(out, d.dgaDetection(mh, o, c, total, scored, high, meanHigh, mh.Last))
	}
	return out
}

// sweep forgets idle hosts, expired campaign sites and empty campaigns.
func (d *Detector) sweep(now int64) {
	d.st.LastSweep = now
	idle := int64(d.cfg.HostIdle / time.Second)
	for k, h := range d.st.Hosts {
		if now-h.Last > idle {
			delete(d.st.Hosts, k)
		}
	}
	d.sweepSites(now, false)
	for id, c := range d.st.Campaigns {
		c.Hosts = slices.DeleteFunc(c.Hosts, func(m string) bool {
			mh := d.st.Hosts[m]
			return mh == nil || mh.Camp != id
		})
		if len(c.Hosts) == 0 {
			delete(d.st.Campaigns, id)
		}
	}
}

func (d *Detector) sweepSites(now int64, hard bool) {
	horizon := int64(d.cfg.Horizon / time.Second)
	for k, s := range d.st.Sites {
		if now-s.Last > horizon {
			delete(d.st.Sites, k)
		}
	}
	if hard && len(d.st.Sites) >= d.cfg.MaxCampaignSites {
		// drop the older half
		lasts := make([]int64, 0, len(d.st.Sites))
		for _, s := range d.st.Sites {
			lasts = append(lasts, s.Last)
		}
		slices.Sort(lasts)
		cut := lasts[len(lasts)/2]
		for k, s := range d.st.Sites {
			if s.Last <= cut {
				delete(d.st.Sites, k)
			}
		}
	}
}

func (d *Detector) evictOldest() {
	var victim string
	var last int64 = math.MaxInt64
	for k, h := range d.st.Hosts {
		if h.Last < last || (h.Last == last && k < victim) {
			victim, last = k, h.Last
		}
	}
	delete(d.st.Hosts, victim)
	d.stats.Evicted++
}

// fnv64a hashes a site key; deterministic, so the seen-set persists.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
