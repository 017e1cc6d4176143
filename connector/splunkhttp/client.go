// Package splunkhttp builds the HTTP clients fluxhunt uses to talk to Splunk
// (REST search API and HEC): go-retryablehttp with TLS verification on by
// default, a CA file, client certificates (mTLS), an optional proxy, and a
// logger that never prints URLs with their query or credentials.
package splunkhttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/fluxhunt/fluxhunt/config"
)

// Options configures a client.
type Options struct {
	TLS      config.TLS
	ProxyURL string
	// Timeout bounds one whole request (0: none, for streams bounded by the
	// caller's context).
	Timeout      time.Duration
	RetryMax     int // retries of idempotent failures; 0: no retries
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	Logger       *slog.Logger
	// CheckRetry overrides retryablehttp's default retry policy.
	CheckRetry retryablehttp.CheckRetry
}

// TLSConfig builds a client TLS configuration from the config keys.
func TLSConfig(t config.TLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, warned at load
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("splunkhttp: read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("splunkhttp: ca_file %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.ClientCertFile, t.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("splunkhttp: load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// New builds a retrying client. Its logger is replaced: retryablehttp's
// default prints whole URLs.
func New(o Options) (*retryablehttp.Client, error) {
	tc, err := TLSConfig(o.TLS)
	if err != nil {
		return nil, err
	}
	proxy := http.ProxyFromEnvironment
	if o.ProxyURL != "" {
		u, err := url.Parse(o.ProxyURL)
		if err != nil {
			return nil, fmt.Errorf("splunkhttp: proxy_url: %w", err)
		}
		proxy = http.ProxyURL(u)
	}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: tr, Timeout: o.Timeout}
	c.RetryMax = o.RetryMax
	if o.RetryWaitMin > 0 {
		c.RetryWaitMin = o.RetryWaitMin
	}
	if o.RetryWaitMax > 0 {
		c.RetryWaitMax = o.RetryWaitMax
	}
	if o.CheckRetry != nil {
		c.CheckRetry = o.CheckRetry
	}
	c.Logger = Logger{L: o.Logger}
	// Return the last response instead of a generic "giving up" error, so
	// callers can read Splunk's error body.
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return c, nil
}

// Logger adapts slog to retryablehttp.LeveledLogger, scrubbing URLs down to
// scheme, host and path.
type Logger struct{ L *slog.Logger }

func (l Logger) log(level slog.Level, msg string, kv []any) {
	if l.L == nil || !l.L.Enabled(context.Background(), level) {
		return
	}
	out := make([]any, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		v := kv[i+1]
		switch x := v.(type) {
		case *url.URL:
			v = Scrub(x.String())
		case string:
			v = scrubText(x)
		case error:
			v = ScrubError(x)
		}
		out = append(out, k, v)
	}
	l.L.Log(context.Background(), level, "http: "+msg, out...)
}

func (l Logger) Error(msg string, kv ...any) { l.log(slog.LevelWarn, msg, kv) }
func (l Logger) Info(msg string, kv ...any)  { l.log(slog.LevelDebug, msg, kv) }
func (l Logger) Debug(msg string, kv ...any) { l.log(slog.LevelDebug, msg, kv) }
func (l Logger) Warn(msg string, kv ...any)  { l.log(slog.LevelWarn, msg, kv) }

// Scrub reduces a URL to scheme://host/path: no credentials, no query.
func Scrub(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// scrubText scrubs every URL inside free text.
func scrubText(s string) string {
	return urlInText.ReplaceAllStringFunc(s, Scrub)
}

// ScrubError returns err's text with any URL inside a *url.Error scrubbed.
func ScrubError(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Sprintf("%s %s: %v", ue.Op, Scrub(ue.URL), scrubText(ue.Err.Error()))
	}
	return scrubText(err.Error())
}
