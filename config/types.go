// Package config loads and validates fluxhunt's configuration: defaults <
// YAML file < FLUXHUNT_ environment < flags, strict about unknown keys, with
// every error naming the key and what would be accepted.
package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration. The koanf tags are the contract keys of
// DESIGN.md.
type Config struct {
	Instance        string   `koanf:"instance"`
	Splunk          Splunk   `koanf:"splunk"`
	Poll            Poll     `koanf:"poll"`
	DNS             DNS      `koanf:"dns"`
	Probe           Probe    `koanf:"probe"`
	ASN             ASN      `koanf:"asn"`
	Detect          Detect   `koanf:"detect"`
	AllowlistFile   string   `koanf:"allowlist_file"`
	WatchlistFile   string   `koanf:"watchlist_file"`
	StateDir        string   `koanf:"state_dir"`
	Listen          string   `koanf:"listen"`
	ShutdownTimeout Duration `koanf:"shutdown_timeout"`
	Log             Log      `koanf:"log"`
}

type Splunk struct {
	Search Search `koanf:"search"`
	HEC    HEC    `koanf:"hec"`
	Spool  Spool  `koanf:"spool"`
}

// TLS settings shared by the search and HEC clients.
type TLS struct {
	CAFile             string `koanf:"ca_file"`
	ClientCertFile     string `koanf:"client_cert_file"`
	ClientKeyFile      string `koanf:"client_key_file"`
	InsecureSkipVerify bool   `koanf:"insecure_skip_verify"`
}

type Search struct {
	URL          string   `koanf:"url"`
	Token        Secret   `koanf:"token"`
	TokenFile    string   `koanf:"token_file"`
	Username     string   `koanf:"username"`
	Password     Secret   `koanf:"password"`
	PasswordFile string   `koanf:"password_file"`
	ProxyURL     string   `koanf:"proxy_url"`
	Timeout      Duration `koanf:"timeout"` // per request (export streams: idle time between rows)
	TLS          `koanf:",squash"`
}

type HEC struct {
	URLs          []string `koanf:"urls"`
	Token         Secret   `koanf:"token"`
	TokenFile     string   `koanf:"token_file"`
	Index         string   `koanf:"index"`
	ProxyURL      string   `koanf:"proxy_url"`
	Ack           bool     `koanf:"ack"`
	AckTimeout    Duration `koanf:"ack_timeout"`
	AckPoll       Duration `koanf:"ack_poll"`
	BatchBytes    ByteSize `koanf:"batch_bytes"`
	BatchEvents   int      `koanf:"batch_events"`
	Linger        Duration `koanf:"linger"`
	GzipLevel     int      `koanf:"gzip_level"`
	MaxEventBytes ByteSize `koanf:"max_event_bytes"`
	Timeout       Duration `koanf:"timeout"`
	TLS           `koanf:",squash"`
}

type Spool struct {
	MaxBytes       ByteSize `koanf:"max_bytes"`
	Overflow       string   `koanf:"overflow"` // block | drop_oldest
	DeadLetterFile string   `koanf:"dead_letter_file"`
}

type Poll struct {
	Interval        Duration `koanf:"interval"`
	Lag             Duration `koanf:"lag"`
	MaxEventAge     Duration `koanf:"max_event_age"`
	InitialLookback Duration `koanf:"initial_lookback"`
	MaxWindow       Duration `koanf:"max_window"` // backfill window bound
	Shard           Shard    `koanf:"shard"`
	Limit           int      `koanf:"limit"` // {{.Limit}}: rows per search
	DNSSearch       string   `koanf:"dns_search"`
	FlowSearch      string   `koanf:"flow_search"`
	Flows           bool     `koanf:"flows"` // run the flow search
}

type DNS struct {
	Resolvers         []string `koanf:"resolvers"`
	Authoritative     bool     `koanf:"authoritative"`
	InternalSuffixes  []string `koanf:"internal_suffixes"`
	AllowPrivateNS    bool     `koanf:"allow_private_ns"`
	AuthoritativePort int      `koanf:"authoritative_port"`
	Timeout           Duration `koanf:"timeout"`
	Retries           int      `koanf:"retries"`
}

type Probe struct {
	Concurrency   int      `koanf:"concurrency"`
	RateTotal     Rate     `koanf:"rate_total"`
	RatePerServer Rate     `koanf:"rate_per_server"`
	MaxProbes     int      `koanf:"max_probes"`
	MinInterval   Duration `koanf:"min_interval"`
	FixedInterval Duration `koanf:"fixed_interval"` // 0: rounds max(TTL, min_interval) apart; set: exactly this (labs, tests)
	QueueSize     int      `koanf:"queue_size"`
	MaxDomains    int      `koanf:"max_domains"` // observation store bound
	Retention     Duration `koanf:"retention"`
	SampleEvents  float64  `koanf:"sample_events"` // share of probe rounds written as fluxhunt:probe
}

type ASN struct {
	DB []string `koanf:"db"`
	// Cymru: look up addresses the databases do not know with Team Cymru's
	// DNS service (origin.asn.cymru.com TXT, through dns.resolvers). Off by
	// default: it tells a third party which addresses are being probed.
	Cymru bool `koanf:"cymru"`
}

// Detect holds detector tuning.
type Detect struct {
	DGAThreshold   float64    `koanf:"dga_threshold"` // 0: the model's default
	Windows        []Duration `koanf:"windows"`       // NXDOMAIN windows
	SuppressWindow Duration   `koanf:"suppress_window"`
	FlowLookback   Duration   `koanf:"flow_lookback"` // on a new fast-flux domain, search flows to its addresses this far back (0: off)
}

type Log struct {
	Level  string `koanf:"level"`  // debug | info | warn | error
	Format string `koanf:"format"` // text | json
}

// Secret holds a token or password. Every way of printing it gives
// [REDACTED]; Reveal gives the value to the code that sends it.
type Secret struct{ v string }

const redacted = "[REDACTED]"

func NewSecret(s string) Secret                { return Secret{v: s} }
func (s Secret) Reveal() string                { return s.v }
func (s Secret) IsSet() bool                   { return s.v != "" }
func (s Secret) String() string                { return s.mask() }
func (s Secret) GoString() string              { return s.mask() }
func (s Secret) LogValue() slog.Value          { return slog.StringValue(s.mask()) }
func (s Secret) MarshalJSON() ([]byte, error)  { return json.Marshal(s.mask()) }
func (s Secret) MarshalText() ([]byte, error)  { return []byte(s.mask()), nil }
func (s Secret) Format(f fmt.State, _ rune)    { fmt.Fprint(f, s.mask()) }
func (s *Secret) UnmarshalText(b []byte) error { s.v = strings.TrimSpace(string(b)); return nil }
func (s Secret) mask() string {
	if s.v == "" {
		return ""
	}
	return redacted
}

// Duration is a time.Duration read from "30s", "5m", "24h" or "1d".
type Duration time.Duration

func (d Duration) D() time.Duration { return time.Duration(d) }
func (d Duration) String() string   { return time.Duration(d).String() }
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// ParseDuration accepts Go durations plus a "d" (24 h) unit.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err == nil && n >= 0 && n < 1e5 {
			return time.Duration(n * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want a number with a unit, e.g. 30s, 5m, 24h, 7d", s)
	}
	return d, nil
}

// ByteSize is a size read from "1MiB", "512KiB", "5MB", "1024".
type ByteSize int64

func (b ByteSize) MarshalText() ([]byte, error) { return []byte(strconv.FormatInt(int64(b), 10)), nil }
func (b *ByteSize) UnmarshalText(t []byte) error {
	s := strings.TrimSpace(string(t))
	units := []struct {
		suf string
		mul float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}, {"", 1}}
	for _, u := range units {
		if !strings.HasSuffix(s, u.suf) {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, u.suf)), 64)
		if err != nil || n < 0 || math.IsNaN(n) || n*u.mul > math.MaxInt64/2 {
			break
		}
		*b = ByteSize(n * u.mul)
		return nil
	}
	return fmt.Errorf("invalid size %q: want a number with an optional unit B, KiB, MiB, GiB (or KB, MB, GB), e.g. 1MiB", s)
}

// Rate is an events-per-second limit read from "200/s", "10/s", "600/m".
type Rate float64

func (r Rate) PerSecond() float64 { return float64(r) }
func (r Rate) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(r), 'f', -1, 64) + "/s"), nil
}
func (r *Rate) UnmarshalText(t []byte) error {
	s := strings.TrimSpace(string(t))
	num, unit, ok := strings.Cut(s, "/")
	per := 1.0
	if ok {
		switch unit {
		case "s":
		case "m", "min":
			per = 60
		case "h":
			per = 3600
		default:
			ok = false
		}
	} else {
		ok = true
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if !ok || err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return fmt.Errorf("invalid rate %q: want a positive number per second, minute or hour, e.g. 200/s, 600/m", s)
	}
	*r = Rate(n / per)
	return nil
}

// Shard is "i/N": this instance takes the sources whose hash modulo N is i.
type Shard struct{ Index, Count int }

func (s Shard) String() string               { return fmt.Sprintf("%d/%d", s.Index, s.Count) }
func (s Shard) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s *Shard) UnmarshalText(t []byte) error {
	a, b, ok := strings.Cut(strings.TrimSpace(string(t)), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return fmt.Errorf("invalid shard %q: want i/N with 0 <= i < N, e.g. 0/1 or 2/4", string(t))
	}
	s.Index, s.Count = i, n
	return nil
}
