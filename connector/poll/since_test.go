package poll

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"-72h", now.Add(-72 * time.Hour), false},
		{"-3d", now.Add(-72 * time.Hour), false},
		{" -90m ", now.Add(-90 * time.Minute), false},
		{"2026-11-24T00:00:00Z", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), false},
		{"2026-11-24T02:00:00+02:00", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), false},
		{"2026-11-27T00:00:00Z", time.Time{}, true}, // future
		{"72h", time.Time{}, true},                  // no minus: ambiguous
		{"-0s", time.Time{}, true},
		{"yesterday", time.Time{}, true},
		{"", time.Time{}, true},
	} {
		got, err := ParseSince(tc.in, now)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
