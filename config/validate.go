package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

// SearchVars are the fields a poll search template may use.
type SearchVars struct {
	Shard, Shards, Limit int
}

func verr(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

var indexName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,79}$`)

// finish reads secret files and validates everything; it returns warnings.
func (c *Config) finish() ([]string, error) {
	var warn []string
	if err := loadSecret(&c.Splunk.Search.Token, c.Splunk.Search.TokenFile, "splunk.search.token"); err != nil {
		return nil, err
	}
	if err := loadSecret(&c.Splunk.Search.Password, c.Splunk.Search.PasswordFile, "splunk.search.password"); err != nil {
		return nil, err
	}
	if err := loadSecret(&c.Splunk.HEC.Token, c.Splunk.HEC.TokenFile, "splunk.hec.token"); err != nil {
		return nil, err
	}
	if strings.TrimSpace(c.Instance) == "" {
		return nil, verr("instance", "must not be empty: it is the host of every event fluxhunt writes")
	}
	s := &c.Splunk.Search
	if s.URL != "" {
		if err := checkURL("splunk.search.url", s.URL); err != nil {
			return nil, err
		}
		if s.Token.IsSet() && (s.Username != "" || s.Password.IsSet()) {
			return nil, verr("splunk.search", "set token, or username and password, not both")
		}
		if !s.Token.IsSet() && (s.Username == "" || !s.Password.IsSet()) {
			return nil, verr("splunk.search", "needs token (or token_file), or username with password (or password_file)")
		}
	}
	if err := checkTLS("splunk.search", s.TLS, &warn); err != nil {
		return nil, err
	}
	if s.ProxyURL != "" {
		if err := checkURL("splunk.search.proxy_url", s.ProxyURL); err != nil {
			return nil, err
		}
	}
	if s.Timeout.D() < time.Second {
		return nil, verr("splunk.search.timeout", "%s is too short: want at least 1s", s.Timeout)
	}
	h := &c.Splunk.HEC
	for i, u := range h.URLs {
		if err := checkURL(fmt.Sprintf("splunk.hec.urls[%d]", i), u); err != nil {
			return nil, err
		}
	}
	if len(h.URLs) > 0 && !h.Token.IsSet() {
		return nil, verr("splunk.hec.token", "required when splunk.hec.urls is set (or token_file)")
	}
	if !indexName.MatchString(h.Index) {
		return nil, verr("splunk.hec.index", "invalid index name %q: want lower-case letters, digits, '_' or '-'", h.Index)
	}
	if err := checkTLS("splunk.hec", h.TLS, &warn); err != nil {
		return nil, err
	}
	if h.ProxyURL != "" {
		if err := checkURL("splunk.hec.proxy_url", h.ProxyURL); err != nil {
			return nil, err
		}
	}
	switch {
	case h.BatchBytes < 1<<10 || h.BatchBytes > 100<<20:
		return nil, verr("splunk.hec.batch_bytes", "%d bytes is out of range: want 1KiB to 100MiB", h.BatchBytes)
	case h.BatchEvents < 1 || h.BatchEvents > 100000:
		return nil, verr("splunk.hec.batch_events", "%d is out of range: want 1 to 100000", h.BatchEvents)
	case h.Linger < 0 || h.Linger.D() > time.Minute:
		return nil, verr("splunk.hec.linger", "%s is out of range: want 0 to 1m", h.Linger)
	case h.GzipLevel < -1 || h.GzipLevel > 9:
		return nil, verr("splunk.hec.gzip_level", "%d is out of range: want 0 (off) to 9, or -1 for the default", h.GzipLevel)
	case h.MaxEventBytes < 1<<10 || h.MaxEventBytes > 800<<20:
		return nil, verr("splunk.hec.max_event_bytes", "%d bytes is out of range: want 1KiB to 800MiB", h.MaxEventBytes)
	case h.AckTimeout.D() < time.Second:
		return nil, verr("splunk.hec.ack_timeout", "%s is too short: want at least 1s", h.AckTimeout)
	case h.AckPoll.D() < 10*time.Millisecond || h.AckPoll > h.AckTimeout:
		return nil, verr("splunk.hec.ack_poll", "%s is out of range: want 10ms to ack_timeout", h.AckPoll)
	case h.Timeout.D() < time.Second:
		return nil, verr("splunk.hec.timeout", "%s is too short: want at least 1s", h.Timeout)
	}
	sp := &c.Splunk.Spool
	if sp.MaxBytes < 1<<20 {
		return nil, verr("splunk.spool.max_bytes", "%d bytes is too small: want at least 1MiB", sp.MaxBytes)
	}
	if sp.MaxBytes < h.MaxEventBytes {
		return nil, verr("splunk.spool.max_bytes", "must be at least splunk.hec.max_event_bytes (%d)", h.MaxEventBytes)
	}
	if sp.Overflow != "block" && sp.Overflow != "drop_oldest" {
		return nil, verr("splunk.spool.overflow", "invalid policy %q: want block or drop_oldest", sp.Overflow)
	}
	p := &c.Poll
	switch {
	case p.Interval.D() < time.Second:
		return nil, verr("poll.interval", "%s is too short: want at least 1s", p.Interval)
	case p.Lag < 0:
		return nil, verr("poll.lag", "must not be negative")
	case p.MaxEventAge.D() < time.Minute:
		return nil, verr("poll.max_event_age", "%s is too short: want at least 1m", p.MaxEventAge)
	case p.InitialLookback.D() <= 0:
		return nil, verr("poll.initial_lookback", "must be positive")
	case p.MaxWindow.D() < time.Second:
		return nil, verr("poll.max_window", "%s is too short: want at least 1s", p.MaxWindow)
	case p.Limit < 0:
		return nil, verr("poll.limit", "must not be negative (0: no limit)")
	}
	for _, t := range []struct{ key, text string }{{"poll.dns_search", p.DNSSearch}, {"poll.flow_search", p.FlowSearch}} {
		if _, err := RenderSearch(t.text, SearchVars{Shard: p.Shard.Index, Shards: p.Shard.Count, Limit: p.Limit}); err != nil {
			return nil, verr(t.key, "%v", err)
		}
	}
	d := &c.DNS
	for i, r := range d.Resolvers {
		hp, err := HostPort(r, 53)
		if err != nil {
			return nil, verr(fmt.Sprintf("dns.resolvers[%d]", i), "%v", err)
		}
		d.Resolvers[i] = hp
	}
	for i, s := range d.InternalSuffixes {
		n, err := schema.CanonicalName(s)
		if err != nil {
			return nil, verr(fmt.Sprintf("dns.internal_suffixes[%d]", i), "%v", err)
		}
		d.InternalSuffixes[i] = n
	}
	switch {
	case d.AuthoritativePort < 1 || d.AuthoritativePort > 65535:
		return nil, verr("dns.authoritative_port", "%d is not a port: want 1 to 65535", d.AuthoritativePort)
	case d.Timeout.D() < 10*time.Millisecond || d.Timeout.D() > time.Minute:
		return nil, verr("dns.timeout", "%s is out of range: want 10ms to 1m", d.Timeout)
	case d.Retries < 0 || d.Retries > 10:
		return nil, verr("dns.retries", "%d is out of range: want 0 to 10", d.Retries)
	}
	if d.AllowPrivateNS {
		warn = append(warn, "dns.allow_private_ns is on: authoritative servers in private and loopback ranges will be contacted (meant for the lab only)")
	}
	pr := &c.Probe
	switch {
	case pr.Concurrency < 1 || pr.Concurrency > 10000:
		return nil, verr("probe.concurrency", "%d is out of range: want 1 to 10000", pr.Concurrency)
	case pr.RateTotal <= 0:
		return nil, verr("probe.rate_total", "must be positive, e.g. 200/s")
	case pr.RatePerServer <= 0:
		return nil, verr("probe.rate_per_server", "must be positive, e.g. 10/s")
	case pr.RatePerServer > pr.RateTotal:
		return nil, verr("probe.rate_per_server", "%v/s is above probe.rate_total (%v/s)", float64(pr.RatePerServer), float64(pr.RateTotal))
	case pr.MaxProbes < 1 || pr.MaxProbes > 50:
		return nil, verr("probe.max_probes", "%d is out of range: want 1 to 50", pr.MaxProbes)
	case pr.MinInterval.D() < 100*time.Millisecond:
		return nil, verr("probe.min_interval", "%s is too short: want at least 100ms", pr.MinInterval)
	case pr.FixedInterval < 0:
		return nil, verr("probe.fixed_interval", "must not be negative (0: max(TTL, min_interval))")
	case pr.QueueSize < 1 || pr.QueueSize > 10_000_000:
		return nil, verr("probe.queue_size", "%d is out of range: want 1 to 10000000", pr.QueueSize)
	case pr.MaxDomains < 1 || pr.MaxDomains > 100_000_000:
		return nil, verr("probe.max_domains", "%d is out of range: want 1 to 100000000", pr.MaxDomains)
	case pr.Retention.D() < time.Minute:
		return nil, verr("probe.retention", "%s is too short: want at least 1m", pr.Retention)
	case pr.SampleEvents < 0 || pr.SampleEvents > 1:
		return nil, verr("probe.sample_events", "%v is out of range: want 0 to 1", pr.SampleEvents)
	}
	for i, f := range c.ASN.DB {
		if _, err := os.Stat(f); err != nil {
			return nil, verr(fmt.Sprintf("asn.db[%d]", i), "%v", err)
		}
	}
	det := &c.Detect
	if det.DGAThreshold < 0 || det.DGAThreshold >= 1 {
		return nil, verr("detect.dga_threshold", "%v is out of range: want 0 (the model's default) up to below 1", det.DGAThreshold)
	}
	if len(det.Windows) == 0 {
		return nil, verr("detect.windows", "needs at least one window, e.g. 5m,1h")
	}
	for i, w := range det.Windows {
		if w.D() < time.Minute || w.D() > 7*24*time.Hour {
			return nil, verr(fmt.Sprintf("detect.windows[%d]", i), "%s is out of range: want 1m to 7d", w)
		}
	}
	if det.FlowLookback < 0 || det.FlowLookback.D() > 30*24*time.Hour {
		return nil, verr("detect.flow_lookback", "%s is out of range: want 0 (off) to 30d", det.FlowLookback)
	}
	if det.SuppressWindow < 0 {
		return nil, verr("detect.suppress_window", "must not be negative")
	}
	for _, f := range []struct{ key, path string }{{"allowlist_file", c.AllowlistFile}, {"watchlist_file", c.WatchlistFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return nil, verr(f.key, "%v", err)
		}
	}
	if strings.TrimSpace(c.StateDir) == "" {
		return nil, verr("state_dir", "must not be empty")
	}
	if c.Listen != "" {
		if _, err := HostPort(c.Listen, 0); err != nil {
			return nil, verr("listen", "%v (empty turns the listener off)", err)
		}
	}
	if c.ShutdownTimeout.D() < 0 || c.ShutdownTimeout.D() > 10*time.Minute {
		return nil, verr("shutdown_timeout", "%s is out of range: want 0 to 10m", c.ShutdownTimeout)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return nil, verr("log.level", "invalid level %q: want debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return nil, verr("log.format", "invalid format %q: want text or json", c.Log.Format)
	}
	return warn, nil
}

func loadSecret(s *Secret, file, key string) error {
	if file == "" {
		return nil
	}
	if s.IsSet() {
		return verr(key, "set %s or %s_file, not both", key[strings.LastIndexByte(key, '.')+1:], key[strings.LastIndexByte(key, '.')+1:])
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return verr(key+"_file", "%v", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return verr(key+"_file", "%s is empty", file)
	}
	*s = NewSecret(v)
	return nil
}

func checkURL(key, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return verr(key, "invalid URL %q: want http(s)://host[:port]", raw)
	}
	if u.User != nil {
		return verr(key, "credentials in the URL are not allowed: use the token or password keys")
	}
	return nil
}

func checkTLS(prefix string, t TLS, warn *[]string) error {
	for _, f := range []struct{ key, path string }{{"ca_file", t.CAFile}, {"client_cert_file", t.ClientCertFile}, {"client_key_file", t.ClientKeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return verr(prefix+"."+f.key, "%v", err)
		}
	}
	if (t.ClientCertFile == "") != (t.ClientKeyFile == "") {
		return verr(prefix+".client_cert_file", "client_cert_file and client_key_file go together: set both or neither")
	}
	if t.InsecureSkipVerify {
		*warn = append(*warn, prefix+".insecure_skip_verify is on: the server's TLS certificate is not verified")
	}
	return nil
}

// HostPort checks host:port; a bare host gets defPort (when > 0).
func HostPort(s string, defPort int) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if defPort > 0 && !strings.Contains(strings.Trim(s, "[]"), ":") || net.ParseIP(strings.Trim(s, "[]")) != nil {
			if defPort > 0 {
				return net.JoinHostPort(strings.Trim(s, "[]"), strconv.Itoa(defPort)), nil
			}
		}
		return "", fmt.Errorf("invalid address %q: want host:port, e.g. 127.0.0.1:53", s)
	}
	n, err := strconv.Atoi(port)
	if host == "" && defPort > 0 || err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("invalid address %q: want host:port, e.g. 127.0.0.1:53", s)
	}
	return s, nil
}

// RenderSearch executes a poll search template.
func RenderSearch(text string, v SearchVars) (string, error) {
	t, err := template.New("search").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("invalid template: %v", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return "", fmt.Errorf("invalid template: %v (fields: .Shard, .Shards, .Limit)", err)
	}
	out := strings.TrimSpace(b.String())
	if out == "" {
		return "", fmt.Errorf("search is empty")
	}
	return out, nil
}

// NeedSearch reports whether the search-head settings are complete.
func (c *Config) NeedSearch() error {
	if c.Splunk.Search.URL == "" {
		return verr("splunk.search.url", "required: the Splunk search head's management URL, e.g. https://sh.example.com:8089")
	}
	return nil
}

// NeedHEC reports whether the HEC settings are complete.
func (c *Config) NeedHEC() error {
	if len(c.Splunk.HEC.URLs) == 0 {
		return verr("splunk.hec.urls", "required: at least one HEC URL, e.g. https://idx1.example.com:8088")
	}
	return nil
}
