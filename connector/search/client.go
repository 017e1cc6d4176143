// Package search is fluxhunt's client of the Splunk REST search API (the
// management port): authentication by bearer token or by username and
// password through /services/auth/login (the session key is renewed on 401),
// the server version from /services/server/info (v2 search endpoints from
// 9.0.2, v1 before), searches through the export endpoint decoded as a
// stream row by row, and the job API (create, poll, page /results) where
// export is refused.
package search

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/splunkhttp"
	"github.com/fluxhunt/fluxhunt/schema"
)

// ErrUnauthorized is wrapped by errors for HTTP 401 answers that a new login
// could not cure (wrong token, wrong password).
var ErrUnauthorized = errors.New("authentication failed")

// APIError is a non-2xx answer with Splunk's messages.
type APIError struct {
	Op       string
	Status   int
	Messages []Message
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.Status)
	for i, m := range e.Messages {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(schema.EscapeDisplay(m.Text))
	}
	if e.Status == http.StatusUnauthorized {
		b.WriteString(" (" + ErrUnauthorized.Error() + ")")
	}
	return b.String()
}

func (e *APIError) Unwrap() error {
	if e.Status == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	return nil
}

// Options tunes a Client beyond the config keys.
type Options struct {
	Logger *slog.Logger
	// PageSize is the count asked per /results page in the job API
	// (default 50,000, Splunk's default maxresultrows).
	PageSize int
	// ForceJobs uses the job API even when export is allowed.
	ForceJobs bool
	// JobPoll is the first interval between job status polls (default
	// 100 ms, doubling to 2 s).
	JobPoll time.Duration
	// RetryMax retries of requests that failed with 5xx or a transport
	// error before any row was read (default 3; -1: none).
	RetryMax     int
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
}

// Client talks to one search head. Safe for concurrent use.
type Client struct {
	base      *url.URL
	hc        *retryablehttp.Client
	log       *slog.Logger
	token     config.Secret
	user      string
	pass      config.Secret
	pageSize  int
	forceJobs bool
	jobPoll   time.Duration
	idle      time.Duration // splunk.search.timeout: no byte for this long ends a request

	mu         sync.Mutex
	sessionKey string
	info       *ServerInfo
	noExport   bool // export was refused: use jobs
}

// New builds a client from the splunk.search keys. It makes no request.
func New(cfg config.Search, o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("search: splunk.search.url %q: want https://host:8089", splunkhttp.Scrub(cfg.URL))
	}
	u.User = nil
	u.RawQuery = ""
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	retry := o.RetryMax
	if retry == 0 {
		retry = 3
	} else if retry < 0 {
		retry = 0
	}
	hc, err := splunkhttp.New(splunkhttp.Options{
		TLS:          cfg.TLS,
		ProxyURL:     cfg.ProxyURL,
		RetryMax:     retry,
		RetryWaitMin: o.RetryWaitMin,
		RetryWaitMax: o.RetryWaitMax,
		Logger:       o.Logger,
		CheckRetry:   checkRetry,
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	c := &Client{
		base: u, hc: hc, log: o.Logger,
		token: cfg.Token, user: cfg.Username, pass: cfg.Password,
		pageSize: o.PageSize, forceJobs: o.ForceJobs, jobPoll: o.JobPoll, idle: cfg.Timeout.D(),
	}
	if c.pageSize <= 0 {
		c.pageSize = 50000
	}
	if c.jobPoll <= 0 {
		c.jobPoll = 100 * time.Millisecond
	}
	return c, nil
}

// checkRetry retries transport errors and 5xx (not 501) and 429, never on a
// cancelled context.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return true, nil
	}
	if resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented) {
		return true, nil
	}
	return false, nil
}

// usesLogin reports whether the client authenticates with a session key.
func (c *Client) usesLogin() bool { return !c.token.IsSet() && c.user != "" }

// authHeader returns the Authorization header value, logging in first when
// needed.
func (c *Client) authHeader(ctx context.Context) (string, error) {
	if c.token.IsSet() {
		return "Bearer " + c.token.Reveal(), nil
	}
	if c.user == "" {
		return "", nil
	}
	c.mu.Lock()
	key := c.sessionKey
	c.mu.Unlock()
	if key == "" {
		var err error
		if key, err = c.login(ctx); err != nil {
			return "", err
		}
	}
	return "Splunk " + key, nil
}

// login posts username and password to /services/auth/login.
func (c *Client) login(ctx context.Context) (string, error) {
	form := url.Values{"username": {c.user}, "password": {c.pass.Reveal()}, "output_mode": {"json"}}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/services/auth/login"), []byte(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("search: login: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("search: login: %s", splunkhttp.ScrubError(err))
	}
	defer drain(resp)
	if resp.StatusCode/100 != 2 {
		e := apiError("login", resp)
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden {
			e.Status = http.StatusUnauthorized // wrong credentials, as Splunk's older versions say
		}
		return "", e
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("search: login: read answer: %w", err)
	}
	key := parseSessionKey(body)
	if key == "" {
		return "", fmt.Errorf("search: login: answer holds no session key")
	}
	c.mu.Lock()
	c.sessionKey = key
	c.mu.Unlock()
	c.log.Debug("search: logged in", "user", c.user)
	return key, nil
}

func parseSessionKey(body []byte) string {
	var j struct {
		SessionKey string `json:"sessionKey"`
	}
	if json.Unmarshal(body, &j) == nil && j.SessionKey != "" {
		return j.SessionKey
	}
	var x struct {
		SessionKey string `xml:"sessionKey"`
	}
	if xml.Unmarshal(body, &x) == nil {
		return strings.TrimSpace(x.SessionKey)
	}
	return ""
}

func (c *Client) endpoint(path string) string {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	return u.String()
}

// do sends one request with auth; on 401 with username/password it logs in
// again once and resends. The caller closes the body of a 2xx answer;
// other answers become *APIError.
func (c *Client) do(ctx context.Context, op, method, path string, form url.Values) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		auth, err := c.authHeader(ctx)
		if err != nil {
			return nil, fmt.Errorf("search: %s: %w", op, err)
		}
		var body []byte
		target := c.endpoint(path)
		if method == http.MethodGet || method == http.MethodDelete {
			if len(form) > 0 {
				target += "?" + form.Encode()
			}
		} else {
			body = []byte(form.Encode())
		}
		rctx, cancel := context.WithCancel(ctx)
		idle := newIdleWatch(c.idle, cancel)
		req, err := retryablehttp.NewRequestWithContext(rctx, method, target, body)
		if err != nil {
			idle.stop()
			return nil, fmt.Errorf("search: %s: %w", op, err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			idle.stop()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("search: %s: %w", op, ctx.Err())
			}
			if idle.fired() {
				return nil, fmt.Errorf("search: %s: %w", op, idle.err())
			}
			return nil, fmt.Errorf("search: %s: %s", op, splunkhttp.ScrubError(err))
		}
		resp.Body = &idleBody{rc: resp.Body, w: idle}
		if resp.StatusCode == http.StatusUnauthorized && c.usesLogin() && attempt == 0 {
			drain(resp)
			c.mu.Lock()
			c.sessionKey = ""
			c.mu.Unlock()
			c.log.Info("search: session expired, logging in again")
			continue
		}
		if resp.StatusCode/100 != 2 {
			defer drain(resp)
			return nil, fmt.Errorf("search: %w", apiError(op, resp))
		}
		return resp, nil
	}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
}

// apiError reads Splunk's error body (XML or JSON messages).
func apiError(op string, resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return &APIError{Op: op, Status: resp.StatusCode, Messages: parseMessages(body)}
}

func parseMessages(body []byte) []Message {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] == '{' {
		var j struct {
			Messages []struct{ Type, Text string } `json:"messages"`
		}
		if json.Unmarshal(body, &j) == nil {
			out := make([]Message, 0, len(j.Messages))
			for _, m := range j.Messages {
				out = append(out, Message{Type: m.Type, Text: m.Text})
			}
			return out
		}
	}
	var x struct {
		Msgs []struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"messages>msg"`
	}
	if xml.Unmarshal(body, &x) == nil {
		out := make([]Message, 0, len(x.Msgs))
		for _, m := range x.Msgs {
			out = append(out, Message{Type: m.Type, Text: strings.TrimSpace(m.Text)})
		}
		return out
	}
	t := string(body)
	if len(t) > 200 {
		t = t[:200]
	}
	return []Message{{Type: "ERROR", Text: t}}
}

// ServerInfo is what /services/server/info tells.
type ServerInfo struct {
	Version      string
	ServerName   string
	InstanceType string // "cloud" on Splunk Cloud
	V2           bool   // the v2 search endpoints are available
}

// Info reads /services/server/info (cached after the first success).
func (c *Client) Info(ctx context.Context) (ServerInfo, error) {
	c.mu.Lock()
	if c.info != nil {
		i := *c.info
		c.mu.Unlock()
		return i, nil
	}
	c.mu.Unlock()
	resp, err := c.do(ctx, "server info", http.MethodGet, "/services/server/info", url.Values{"output_mode": {"json"}})
	if err != nil {
		return ServerInfo{}, err
	}
	defer drain(resp)
	var j struct {
		Entry []struct {
			Content struct {
				Version      string `json:"version"`
				ServerName   string `json:"serverName"`
				InstanceType string `json:"instance_type"`
			} `json:"content"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&j); err != nil {
		return ServerInfo{}, fmt.Errorf("search: server info: %w", err)
	}
	if len(j.Entry) == 0 || j.Entry[0].Content.Version == "" {
		return ServerInfo{}, fmt.Errorf("search: server info: answer holds no version")
	}
	ct := j.Entry[0].Content
	info := ServerInfo{Version: ct.Version, ServerName: ct.ServerName, InstanceType: ct.InstanceType}
	info.V2 = SupportsV2(info.Version, info.InstanceType)
	c.mu.Lock()
	c.info = &info
	c.mu.Unlock()
	return info, nil
}

// CurrentUser reads /services/authentication/current-context: it proves the
// credentials work and names the user they belong to.
func (c *Client) CurrentUser(ctx context.Context) (string, error) {
	resp, err := c.do(ctx, "current context", http.MethodGet, "/services/authentication/current-context", url.Values{"output_mode": {"json"}})
	if err != nil {
		return "", err
	}
	defer drain(resp)
	var j struct {
		Entry []struct {
			Content struct {
				Username string `json:"username"`
			} `json:"content"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&j); err != nil {
		return "", fmt.Errorf("search: current context: %w", err)
	}
	if len(j.Entry) == 0 {
		return "", fmt.Errorf("search: current context: answer holds no entry")
	}
	return j.Entry[0].Content.Username, nil
}

// SupportsV2 tells whether a version has the v2 search endpoints: 9.0.2 and
// later on Splunk Enterprise, 9.0.2209 and later on Splunk Cloud (as
// splunklib decides).
func SupportsV2(version, instanceType string) bool {
	v := versionTuple(version)
	min := []int{9, 0, 2}
	if strings.EqualFold(instanceType, "cloud") {
		min = []int{9, 0, 2209}
	}
	for i := range min {
		x := 0
		if i < len(v) {
			x = v[i]
		}
		if x != min[i] {
			return x > min[i]
		}
	}
	return true
}

func versionTuple(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ".") {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		out = append(out, n)
	}
	return out
}

// Query is one search and its bounds. Zero times are left out.
type Query struct {
	Search        string
	EarliestTime  time.Time // _time >= (inclusive)
	LatestTime    time.Time // _time < (exclusive)
	IndexEarliest time.Time // _indextime >=
	IndexLatest   time.Time // _indextime <
	// OnBadRow is told about each row that could not be decoded; the search
	// goes on. Nil: ignored.
	OnBadRow func(*BadRowError)
}

func epoch(t time.Time) string {
	if t.Nanosecond() == 0 {
		return strconv.FormatInt(t.Unix(), 10)
	}
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
}

func (q Query) form() url.Values {
	s := strings.TrimSpace(q.Search)
	if !strings.HasPrefix(s, "|") && !strings.HasPrefix(strings.ToLower(s), "search ") {
		s = "search " + s
	}
	f := url.Values{"search": {s}, "output_mode": {"json"}, "time_format": {"%s"}}
	if !q.EarliestTime.IsZero() {
		f.Set("earliest_time", epoch(q.EarliestTime))
	}
	if !q.LatestTime.IsZero() {
		f.Set("latest_time", epoch(q.LatestTime))
	}
	if !q.IndexEarliest.IsZero() {
		f.Set("index_earliest", epoch(q.IndexEarliest))
	}
	if !q.IndexLatest.IsZero() {
		f.Set("index_latest", epoch(q.IndexLatest))
	}
	return f
}

// Result summarises one search.
type Result struct {
	Rows     int       // rows handed to the callback
	BadRows  int       // rows skipped
	Warnings []Message // WARN/INFO messages
	UsedJobs bool      // the job API answered (export refused or forced)
}

// Search runs q and hands every final row to fn, in order. It returns only
// once the whole result was read; any error (including fn's) means the
// result is incomplete and must not be trusted as a whole. Cancelling ctx
// stops the stream at once.
func (c *Client) Search(ctx context.Context, q Query, fn func(schema.Fields) error) (Result, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return Result{}, err
	}
	c.mu.Lock()
	noExport := c.noExport || c.forceJobs
	c.mu.Unlock()
	if !noExport {
		res, err := c.export(ctx, info, q, fn)
		var ae *APIError
		if !errors.As(err, &ae) || !exportRefused(ae.Status) {
			return res, err
		}
		c.log.Warn("search: export refused, using the job API", "status", ae.Status)
		c.mu.Lock()
		c.noExport = true
		c.mu.Unlock()
	}
	res, err := c.jobs(ctx, info, q, fn)
	res.UsedJobs = true
	return res, err
}

// exportRefused: the statuses with which a search head refuses export
// (capability missing, endpoint disabled or absent).
func exportRefused(status int) bool {
	switch status {
	case http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

func (c *Client) jobsPath(info ServerInfo) string {
	if info.V2 {
		return "/services/search/v2/jobs"
	}
	return "/services/search/jobs"
}

func (c *Client) export(ctx context.Context, info ServerInfo, q Query, fn func(schema.Fields) error) (Result, error) {
	resp, err := c.do(ctx, "export", http.MethodPost, c.jobsPath(info)+"/export", q.form())
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	return decodeAll(ctx, "export", resp.Body, q, fn, true)
}

// decodeAll reads a stream; requireEnd: the stream must end with lastrow
// when it held rows (export).
func decodeAll(ctx context.Context, op string, r io.Reader, q Query, fn func(schema.Fields) error, requireEnd bool) (Result, error) {
	var res Result
	d := NewDecoder(r)
	for {
		f, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var bad *BadRowError
			if errors.As(err, &bad) {
				res.BadRows++
				if q.OnBadRow != nil {
					q.OnBadRow(bad)
				}
				continue
			}
			if errors.Is(err, ErrIncomplete) && !requireEnd {
				break
			}
			if ctx.Err() != nil {
				return res, fmt.Errorf("search: %s: %w", op, ctx.Err())
			}
			return res, fmt.Errorf("search: %s: %w", op, err)
		}
		if res.Rows&1023 == 0 && ctx.Err() != nil {
			return res, fmt.Errorf("search: %s: %w", op, ctx.Err())
		}
		if err := fn(f); err != nil {
			return res, err
		}
		res.Rows++
	}
	res.Warnings = d.Warnings
	if ctx.Err() != nil {
		return res, fmt.Errorf("search: %s: %w", op, ctx.Err())
	}
	return res, nil
}

// idleWatch cancels a request when no byte arrived for its timeout: from
// sending until the headers, then between reads of the body (an export
// stream may run long, but must not stall).
type idleWatch struct {
	d      time.Duration
	t      *time.Timer
	cancel context.CancelFunc
	hit    atomic.Bool
}

func newIdleWatch(d time.Duration, cancel context.CancelFunc) *idleWatch {
	w := &idleWatch{d: d, cancel: cancel}
	if d > 0 {
		w.t = time.AfterFunc(d, func() { w.hit.Store(true); cancel() })
	}
	return w
}

func (w *idleWatch) touch() {
	if w.t != nil {
		w.t.Reset(w.d)
	}
}

func (w *idleWatch) stop() {
	if w.t != nil {
		w.t.Stop()
	}
	w.cancel()
}

func (w *idleWatch) fired() bool { return w.hit.Load() }

func (w *idleWatch) err() error {
	return fmt.Errorf("no data from the search head for %s (splunk.search.timeout)", w.d)
}

type idleBody struct {
	rc io.ReadCloser
	w  *idleWatch
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF && b.w.fired() {
		return n, b.w.err()
	}
	if n > 0 {
		b.w.touch()
	}
	return n, err
}

func (b *idleBody) Close() error {
	err := b.rc.Close()
	b.w.stop()
	return err
}
