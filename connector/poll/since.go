package poll

import (
	"fmt"
	"strings"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
)

// ParseSince reads the `run --since` value: an RFC 3339 time, or a
// duration before now written with a leading minus ("-72h", "-3d", "-90m").
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if t.After(now) {
			return time.Time{}, fmt.Errorf("--since %s is in the future", s)
		}
		return t.UTC(), nil
	}
	if strings.HasPrefix(s, "-") {
		d, err := config.ParseDuration(s[1:])
		if err == nil && d > 0 {
			return now.Add(-d).UTC().Truncate(time.Second), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid --since %q: want an RFC 3339 time (2026-11-24T00:00:00Z) or a duration before now (-72h, -3d)", s)
}
