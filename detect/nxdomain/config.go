package nxdomain

import (
	"fmt"
	"math"
	"time"
)

// Config tunes a Detector. The zero value gives the defaults.
type Config struct {
	// Windows are the sliding windows of distinct NXDOMAIN domains per host
	// (default 5m and 1h; whole minutes, at most 24h).
	Windows []time.Duration
	// StormFloor gives the fewest distinct NXDOMAIN domains in window w that
	// can make a storm, whatever the baseline (default DefaultStormFloor).
	StormFloor func(w time.Duration) int
	// StormSigma: a window must also exceed the host's hourly baseline mean
	// plus StormSigma standard deviations (default 4).
	StormSigma float64
	// MinNXRatio: a storm also needs this share of the host's rows in the
	// window to be NXDOMAIN, unless the count is three times the threshold
	// (default 0.2).
	MinNXRatio float64
	// Horizon is how long an NXDOMAIN domain stays in a host's group for the
	// DGA decision (default 24h).
	Horizon time.Duration
	// MinDGA is the fewest distinct NXDOMAIN domains scored as generated that
	// make a dga detection (default 4).
	MinDGA int
	// MinDGAShare is the least share of generated-looking domains among the
	// host's scored NXDOMAIN domains (default 0.5).
	MinDGAShare float64
	// Threshold overrides the scorer's threshold when > 0. It decides
	// whether a name that RESOLVED for a DGA host looks generated (the
	// likely C2): one name alone, so the model's strict threshold.
	Threshold float64
	// GroupThreshold is the score at which an NXDOMAIN name counts as
	// generated in a host's group (default: the lower of Threshold and 0.9).
	// A group needs MinDGA such names from one host, so each may be judged
	// less strictly than a lone name: four benign names at 0.9 on one host
	// in a day are far rarer than one.
	GroupThreshold float64
	// MaxGroup bounds the NXDOMAIN domains kept per host (default 32).
	MaxGroup int
	// MaxSeen bounds the per-host set used to count distinct domains in the
	// windows (default 1024).
	MaxSeen int
	// HostIdle: a host without rows for this long is forgotten, baseline
	// included (default 72h).
	HostIdle time.Duration
	// MaxHosts bounds the hosts tracked; the least recently seen go first
	// (default 1,000,000).
	MaxHosts int
	// MaxCampaignSites bounds the cross-host index of generated-looking
	// NXDOMAIN domains used for campaigns (default 200,000).
	MaxCampaignSites int
	// Quiet: a detection with no new evidence for this long is closed; new
	// evidence after it opens a new one (default 6h).
	Quiet time.Duration
	// InternalSuffixes are the organisation's own DNS suffixes: NXDOMAIN
	// under them (search-suffix appends, stale internal names) is noise.
	InternalSuffixes []string
}

// DefaultStormFloor is 20 distinct NXDOMAIN domains in 5 minutes, rising
// linearly to 50 in an hour, then 10 more per further hour.
func DefaultStormFloor(w time.Duration) int {
	m := w.Minutes()
	switch {
	case m <= 5:
		return 20
	case m <= 60:
		return int(math.Ceil(20 + 30*(m-5)/55))
	default:
		return int(math.Ceil(50 + 10*(m-60)/60))
	}
}

func (c Config) withDefaults() (Config, error) {
	if len(c.Windows) == 0 {
		c.Windows = []time.Duration{5 * time.Minute, time.Hour}
	}
	for _, w := range c.Windows {
		if w < time.Minute || w > 24*time.Hour || w%time.Minute != 0 {
			return c, fmt.Errorf("nxdomain: window %v: want whole minutes between 1m and 24h", w)
		}
	}
	if c.StormFloor == nil {
		c.StormFloor = DefaultStormFloor
	}
	if c.StormSigma <= 0 {
		c.StormSigma = 4
	}
	if c.MinNXRatio <= 0 {
		c.MinNXRatio = 0.2
	}
	if c.Horizon <= 0 {
		c.Horizon = 24 * time.Hour
	}
	if c.MinDGA <= 0 {
		c.MinDGA = 4
	}
	if c.MinDGAShare <= 0 {
		c.MinDGAShare = 0.5
	}
	if c.MaxGroup <= 0 {
		c.MaxGroup = 32
	}
	if c.MaxSeen <= 0 {
		c.MaxSeen = 1024
	}
	if c.HostIdle <= 0 {
		c.HostIdle = 72 * time.Hour
	}
	if c.MaxHosts <= 0 {
		c.MaxHosts = 1_000_000
	}
	if c.MaxCampaignSites <= 0 {
		c.MaxCampaignSites = 200_000
	}
	if c.Quiet <= 0 {
		c.Quiet = 6 * time.Hour
	}
	return c, nil
}

// ringMinutes is the span of the per-host minute ring: the longest window.
func (c Config) ringMinutes() int {
	m := 0
	for _, w := range c.Windows {
		m = max(m, int(w/time.Minute))
	}
	return m
}
