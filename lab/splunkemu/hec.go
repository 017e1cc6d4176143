package splunkemu

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HEC status codes with Splunk's answer texts and HTTP statuses
// (SPLUNK-REFERENCE.md).
const (
	HECSuccess            = 0
	HECTokenDisabled      = 1
	HECTokenRequired      = 2
	HECInvalidAuth        = 3
	HECInvalidToken       = 4
	HECNoData             = 5
	HECInvalidDataFormat  = 6
	HECIncorrectIndex     = 7
	HECInternalError      = 8
	HECServerBusy         = 9
	HECChannelMissing     = 10
	HECInvalidChannel     = 11
	HECEventRequired      = 12
	HECEventBlank         = 13
	HECAckDisabled        = 14
	HECIndexedFieldsError = 15
	HECQueryAuthDisabled  = 16
	HECHealthy            = 17
	HECQueuesFull         = 18
	HECAckUnavailable     = 19
	HECQueuesFullAckUnav  = 20
	HECHealthInvalidToken = 21
	HECHealthTokenDisable = 22
	HECShuttingDown       = 23
	HECQueueNearCapacity  = 24
	HECAckNearCapacity    = 25
	HECQueueAtCapacity    = 26
	HECAckAtCapacity      = 27
)

// HECCodeInfo is Splunk's text and HTTP status for an HEC code.
type HECCodeInfo struct {
	Text   string
	Status int
}

// HECCode returns Splunk's text and HTTP status for an HEC code.
func HECCode(code int) (HECCodeInfo, bool) {
	info, ok := hecCodes[code]
	return info, ok
}

// hecCodes lists every HEC code the emulator answers with (read-only).
var hecCodes = map[int]HECCodeInfo{
	HECSuccess:            {"Success", 200},
	HECTokenDisabled:      {"Token disabled", 403},
	HECTokenRequired:      {"Token is required", 401},
	HECInvalidAuth:        {"Invalid authorization", 401},
	HECInvalidToken:       {"Invalid token", 403},
	HECNoData:             {"No data", 400},
	HECInvalidDataFormat:  {"Invalid data format", 400},
	HECIncorrectIndex:     {"Incorrect index", 400},
	HECInternalError:      {"Internal server error", 500},
	HECServerBusy:         {"Server is busy", 503},
	HECChannelMissing:     {"Data channel is missing", 400},
	HECInvalidChannel:     {"Invalid data channel", 400},
	HECEventRequired:      {"Event field is required", 400},
	HECEventBlank:         {"Event field cannot be blank", 400},
	HECAckDisabled:        {"ACK is disabled", 400},
	HECIndexedFieldsError: {"Error in handling indexed fields", 400},
	HECQueryAuthDisabled:  {"Query string authorization is not enabled", 400},
	HECHealthy:            {"HEC is healthy", 200},
	HECQueuesFull:         {"HEC is unhealthy, queues are full", 503},
	HECAckUnavailable:     {"HEC is unhealthy, ack service unavailable", 503},
	HECQueuesFullAckUnav:  {"HEC is unhealthy, queues are full, ack service unavailable", 503},
	HECHealthInvalidToken: {"Invalid token", 400},
	HECHealthTokenDisable: {"Token disabled", 400},
	HECShuttingDown:       {"Server is shutting down", 503},
	HECQueueNearCapacity:  {"HEC is healthy, queues are near capacity", 200},
	HECAckNearCapacity:    {"HEC is healthy, ack service is near capacity", 200},
	HECQueueAtCapacity:    {"HEC is unhealthy, queues are at capacity", 429},
	HECAckAtCapacity:      {"HEC is unhealthy, ack service is at capacity", 429},
}

// hecMaxBody bounds one request body after decompression (Splunk's
// max_content_length is configurable; the emulator keeps a lab-sized one).
const hecMaxBody = 64 << 20

// hecMaxEvent is Splunk's default maxEventSize (5 MB).
const hecMaxEvent = 5 << 20

// hecAPI serves the HTTP Event Collector: tokens, channels, indexer
// acknowledgement, health, and injected faults (hec_faults.go).
type hecAPI struct {
	s *Server

	mu       sync.Mutex
	channels map[string]*hecChannel // key: token + "\x00" + channel
	faults   HECFaults
	fstate   hecFaultState
	discard  bool
	accepted int64 // events accepted (stored or discarded)
	requests int64
	// events stored whose answer the faults then lost (the sender resends)
	resetAfterEvents, lostAckEvents int64
}

// hecChannel is one data channel's acknowledgement state.
type hecChannel struct {
	next    int64
	pending map[int64]bool // ackId -> will ever be true (false: lost ack)
}

func newHECAPI(s *Server) *hecAPI {
	return &hecAPI{s: s, channels: map[string]*hecChannel{}}
}

func (a *hecAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/services/collector/event", a.serveEvent)
	mux.HandleFunc("/services/collector/event/1.0", a.serveEvent)
	mux.HandleFunc("/services/collector", a.serveEvent)
	mux.HandleFunc("/services/collector/ack", a.serveAck)
	mux.HandleFunc("/services/collector/health", a.serveHealth)
	mux.HandleFunc("/services/collector/health/1.0", a.serveHealth)
	return mux
}

// hecReply writes Splunk's JSON answer for code, with extra members.
func hecReply(w http.ResponseWriter, code int, extra map[string]any) {
	info, ok := hecCodes[code]
	if !ok {
		info = HECCodeInfo{"Unknown error", 500}
	}
	body := map[string]any{"text": info.Text, "code": code}
	for k, v := range extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(info.Status)
	_, _ = w.Write(b)
}

// hecAuth checks the Authorization header and returns the token's settings,
// or writes the error answer and returns false.
func (a *hecAPI) hecAuth(w http.ResponseWriter, r *http.Request, health bool) (string, HECToken, bool) {
	if r.URL.Query().Has("token") && r.Header.Get("Authorization") == "" {
		hecReply(w, HECQueryAuthDisabled, nil)
		return "", HECToken{}, false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		hecReply(w, HECTokenRequired, nil)
		return "", HECToken{}, false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Splunk") || strings.TrimSpace(tok) == "" {
		hecReply(w, HECInvalidAuth, nil)
		return "", HECToken{}, false
	}
	tok = strings.TrimSpace(tok)
	t, known := a.s.opts.HECTokens[tok]
	switch {
	case !known && health:
		hecReply(w, HECHealthInvalidToken, nil)
		return "", HECToken{}, false
	case !known:
		hecReply(w, HECInvalidToken, nil)
		return "", HECToken{}, false
	case t.Disabled && health:
		hecReply(w, HECHealthTokenDisable, nil)
		return "", HECToken{}, false
	case t.Disabled:
		hecReply(w, HECTokenDisabled, nil)
		return "", HECToken{}, false
	}
	return tok, t, true
}

var hecGUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// hecChannelOf reads the request's channel (header or ?channel=). It answers
// 10 when ack is on and none is given, 11 when one is malformed.
func hecChannelOf(w http.ResponseWriter, r *http.Request, ack bool) (string, bool) {
	ch := r.Header.Get("X-Splunk-Request-Channel")
	if ch == "" {
		ch = r.URL.Query().Get("channel")
	}
	if ch == "" {
		if ack {
			hecReply(w, HECChannelMissing, nil)
			return "", false
		}
		return "", true
	}
	if !hecGUID.MatchString(ch) {
		hecReply(w, HECInvalidChannel, nil)
		return "", false
	}
	return ch, true
}

// hecEnvelope is one decoded event envelope.
type hecEnvelope struct {
	Time       json.RawMessage `json:"time"`
	Host       json.RawMessage `json:"host"`
	Source     json.RawMessage `json:"source"`
	Sourcetype json.RawMessage `json:"sourcetype"`
	Index      json.RawMessage `json:"index"`
	Event      json.RawMessage `json:"event"`
	Fields     json.RawMessage `json:"fields"`
}

func (a *hecAPI) serveEvent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	a.mu.Lock()
	a.requests++
	a.mu.Unlock()
	act := a.faultAction(true)
	if act.delay > 0 {
		select {
		case <-time.After(act.delay):
		case <-r.Context().Done():
			return
		}
	}
	if act.resetBefore {
		hecReset(w)
		return
	}
	okCode := HECSuccess
	if act.busyCode == HECQueueNearCapacity || act.busyCode == HECAckNearCapacity {
		// 200 "near capacity": the events are taken; the sender should slow down.
		okCode, act.busyCode = act.busyCode, 0
	}
	if act.busyCode != 0 {
		if act.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(act.retryAfter))
		}
		hecReply(w, act.busyCode, nil)
		return
	}
	tok, t, ok := a.hecAuth(w, r, false)
	if !ok {
		return
	}
	channel, ok := hecChannelOf(w, r, t.UseACK)
	if !ok {
		return
	}
	body, err := hecBody(r)
	if err != nil {
		if errors.Is(err, errHECTooLarge) {
			w.Header().Set("Content-Type", "text/plain")
			http.Error(w, "Content-Length of request exceeds max_content_length", http.StatusRequestEntityTooLarge)
			return
		}
		hecReply(w, HECInvalidDataFormat, nil)
		return
	}
	a.mu.Lock()
	discard := a.discard
	a.mu.Unlock()
	evs, code, bad := a.decodeEvents(body, t, tok, r, discard)
	// Splunk indexes the events before a bad one; the answer names the bad one.
	a.storeEvents(evs)
	if code != HECSuccess {
		extra := map[string]any{}
		if bad >= 0 {
			extra["invalid-event-number"] = bad
		}
		hecReply(w, code, extra)
		return
	}
	if act.resetAfter {
		a.mu.Lock()
		a.resetAfterEvents += int64(len(evs))
		a.mu.Unlock()
		hecReset(w)
		return
	}
	if !t.UseACK {
		hecReply(w, okCode, nil)
		return
	}
	a.mu.Lock()
	key := tok + "\x00" + channel
	c := a.channels[key]
	if c == nil {
		c = &hecChannel{pending: map[int64]bool{}}
		a.channels[key] = c
	}
	id := c.next
	c.next++
	c.pending[id] = !act.loseAck
	if act.loseAck {
		a.lostAckEvents += int64(len(evs))
	}
	a.mu.Unlock()
	hecReply(w, okCode, map[string]any{"ackId": id})
}

var errHECTooLarge = errors.New("body exceeds max_content_length")

// hecBody reads the (possibly gzip-compressed) body.
func hecBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		rd = zr
	}
	b, err := io.ReadAll(io.LimitReader(rd, hecMaxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > hecMaxBody {
		return nil, errHECTooLarge
	}
	return b, nil
}

// decodeEvents parses concatenated envelopes. It returns the good events
// before the first bad one, and the code and 0-based number of the bad one
// (-1 when the error is not tied to one event).
func (a *hecAPI) decodeEvents(body []byte, t HECToken, tok string, r *http.Request, discard bool) ([]Event, int, int) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, HECNoData, -1
	}
	now := time.Now()
	host := r.URL.Query().Get("host")
	if host == "" {
		host, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var out []Event
	for n := 0; ; n++ {
		var env hecEnvelope
		err := dec.Decode(&env)
		if err == io.EOF {
			return out, HECSuccess, -1
		}
		if err != nil {
			return out, HECInvalidDataFormat, n
		}
		ev, code := hecToEvent(&env, t, tok, host, r, now, discard)
		if code != HECSuccess {
			return out, code, n
		}
		out = append(out, ev)
	}
}

func hecString(raw json.RawMessage, def string) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// hecToEvent validates one envelope the way HEC does.
// With discard (load tests), the event body is validated but not decoded.
func hecToEvent(env *hecEnvelope, t HECToken, tok, host string, r *http.Request, now time.Time, discard bool) (Event, int) {
	raw := bytes.TrimSpace(env.Event)
	if len(raw) == 0 || string(raw) == "null" {
		return Event{}, HECEventRequired
	}
	if string(raw) == `""` || len(raw) > hecMaxEvent {
		if len(raw) > hecMaxEvent {
			return Event{}, HECInvalidDataFormat
		}
		return Event{}, HECEventBlank
	}
	ev := Event{IndexTime: now, Time: now}
	if len(env.Time) > 0 && string(env.Time) != "null" {
		ts, ok := hecTime(env.Time)
		if !ok {
			return Event{}, HECInvalidDataFormat
		}
		ev.Time = ts
	}
	var ok bool
	q := r.URL.Query()
	if ev.Index, ok = hecString(env.Index, q.Get("index")); !ok {
		return Event{}, HECInvalidDataFormat
	}
	if ev.Index == "" {
		ev.Index = t.DefaultIndex
	}
	if ev.Index == "" {
		ev.Index = "main"
	}
	if len(t.Indexes) > 0 && !hecContains(t.Indexes, ev.Index) {
		return Event{}, HECIncorrectIndex
	}
	if ev.Host, ok = hecString(env.Host, host); !ok {
		return Event{}, HECInvalidDataFormat
	}
	if ev.Source, ok = hecString(env.Source, q.Get("source")); !ok {
		return Event{}, HECInvalidDataFormat
	}
	if ev.Source == "" {
		ev.Source = "http:" + hecTokenName(tok)
	}
	if ev.Sourcetype, ok = hecString(env.Sourcetype, q.Get("sourcetype")); !ok {
		return Event{}, HECInvalidDataFormat
	}
	if ev.Sourcetype == "" {
		ev.Sourcetype = "httpevent"
	}
	if discard && len(env.Fields) == 0 {
		return ev, HECSuccess
	}
	var decoded any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		return Event{}, HECInvalidDataFormat
	}
	switch v := decoded.(type) {
	case map[string]any:
		ev.Fields = v
	case string:
		// A string event is indexed as its text.
		raw = []byte(v)
	}
	if len(env.Fields) > 0 && string(env.Fields) != "null" {
		var f map[string]any
		if err := json.Unmarshal(env.Fields, &f); err != nil {
			return Event{}, HECIndexedFieldsError
		}
		for k, v := range f {
			switch x := v.(type) {
			case string, float64, bool:
			case []any:
				for _, e := range x {
					if _, isObj := e.(map[string]any); isObj {
						return Event{}, HECIndexedFieldsError
					}
				}
			default:
				return Event{}, HECIndexedFieldsError
			}
			if ev.Fields == nil {
				ev.Fields = map[string]any{}
			}
			if _, exists := ev.Fields[k]; !exists {
				ev.Fields[k] = v
			}
		}
	}
	ev.Raw = append([]byte(nil), raw...)
	return ev, HECSuccess
}

// hecTime reads an epoch time: a number or a numeric string.
func hecTime(raw json.RawMessage) (time.Time, bool) {
	s := string(raw)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), true
}

func hecContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hecTokenName is a short, non-secret name for a token (Splunk uses the input
// name; the emulator has none, so it shows the first 4 characters).
func hecTokenName(tok string) string {
	if len(tok) > 4 {
		tok = tok[:4]
	}
	return "token-" + tok
}

func (a *hecAPI) storeEvents(evs []Event) {
	if len(evs) == 0 {
		return
	}
	a.mu.Lock()
	a.accepted += int64(len(evs))
	discard := a.discard
	a.mu.Unlock()
	if !discard {
		a.s.store.Add(evs...)
	}
}

// serveAck answers POST /services/collector/ack {"acks":[...]}.
func (a *hecAPI) serveAck(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	act := a.faultAction(false)
	if act.delay > 0 {
		select {
		case <-time.After(act.delay):
		case <-r.Context().Done():
			return
		}
	}
	if act.resetBefore {
		hecReset(w)
		return
	}
	tok, t, ok := a.hecAuth(w, r, false)
	if !ok {
		return
	}
	if !t.UseACK {
		hecReply(w, HECAckDisabled, nil)
		return
	}
	channel, ok := hecChannelOf(w, r, true)
	if !ok {
		return
	}
	body, err := hecBody(r)
	if err != nil {
		hecReply(w, HECInvalidDataFormat, nil)
		return
	}
	var req struct {
		Acks []int64 `json:"acks"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Acks == nil {
		hecReply(w, HECInvalidDataFormat, nil)
		return
	}
	out := make(map[string]bool, len(req.Acks))
	a.mu.Lock()
	c := a.channels[tok+"\x00"+channel]
	for _, id := range req.Acks {
		done := false
		if c != nil {
			if good, found := c.pending[id]; found && good {
				done = true
				delete(c.pending, id) // reported once
			}
		}
		out[strconv.FormatInt(id, 10)] = done
	}
	a.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"acks": out})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(b)
}

// serveHealth answers /services/collector/health (optionally checking a
// token given in the Authorization header).
func (a *hecAPI) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		if _, _, ok := a.hecAuth(w, r, true); !ok {
			return
		}
	}
	a.mu.Lock()
	busy := a.fstate.burstLeft > 0 || a.faults.ShuttingDown
	shutting := a.faults.ShuttingDown
	a.mu.Unlock()
	switch {
	case shutting:
		hecReply(w, HECShuttingDown, nil)
	case busy:
		hecReply(w, HECQueuesFull, nil)
	default:
		hecReply(w, HECHealthy, nil)
	}
}

// hecReset drops the connection without an answer (a TCP reset when the
// connection allows it).
func hecReset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
