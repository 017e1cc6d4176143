package hec

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/fluxhunt/fluxhunt/connector/splunkhttp"
)

// batch is a run of spooled records sent in one request.
type batch struct {
	keys   []uint64
	recs   [][]byte
	resend bool
	body   []byte // encoded request body, cached across retries
}

// dispatch reads the spool in order (and resend requests first) and hands
// batches to the workers.
func (w *Writer) dispatch(ctx context.Context, work chan<- *batch) {
	next := w.first
	var lingerStart time.Time
	var dispatched int64 // bytes handed out (compared with bytes appended since open)
	linger := w.o.HEC.Linger.D()
	for ctx.Err() == nil {
		if keys := w.popResend(); keys != nil {
			k, v, err := w.sp.read(keys)
			if err != nil {
				w.log.Error("hec: read spool", "error", err)
				sleepCtx(ctx, time.Second)
				continue
			}
			if len(k) == 0 {
				continue
			}
			w.c.resent.Add(int64(len(k)))
			select {
			case work <- &batch{keys: k, recs: v, resend: true}:
			case <-ctx.Done():
				return
			}
			continue
		}
		last := w.sp.lastSeq.Load()
		if last >= next {
			avail := int64(last - next + 1)
			availBytes := w.sp.appended.Load() - dispatched
			full := avail >= int64(w.o.HEC.BatchEvents) || availBytes >= int64(w.o.HEC.BatchBytes)
			if lingerStart.IsZero() {
				lingerStart = time.Now()
			}
			wait := linger - time.Since(lingerStart)
			if full || wait <= 0 || w.flushing.Load() > 0 {
				keys, recs, err := w.sp.scan(next, w.o.HEC.BatchEvents, int64(w.o.HEC.BatchBytes))
				if err != nil {
					w.log.Error("hec: read spool", "error", err)
					sleepCtx(ctx, time.Second)
					continue
				}
				lingerStart = time.Time{}
				if len(keys) == 0 {
					next = last + 1 // dropped meanwhile
					continue
				}
				next = keys[len(keys)-1] + 1
				for _, r := range recs {
					dispatched += int64(len(r))
				}
				select {
				case work <- &batch{keys: keys, recs: recs}:
				case <-ctx.Done():
					return
				}
				continue
			}
			t := time.NewTimer(wait)
			select {
			case <-w.sp.notify:
			case <-w.resendCh:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			continue
		}
		lingerStart = time.Time{}
		select {
		case <-w.sp.notify:
		case <-w.resendCh:
		case <-ctx.Done():
		}
	}
}

func (w *Writer) pushResend(keys []uint64) {
	if len(keys) == 0 {
		return
	}
	w.resendMu.Lock()
	w.resend = append(w.resend, keys)
	w.resendMu.Unlock()
	tick(w.resendCh)
}

func (w *Writer) popResend() []uint64 {
	w.resendMu.Lock()
	defer w.resendMu.Unlock()
	if len(w.resend) == 0 {
		return nil
	}
	k := w.resend[0]
	w.resend[0] = nil
	w.resend = w.resend[1:]
	return k
}

// result is what one request got.
type result struct {
	err        error // transport error
	status     int
	code       int // HEC code; -1 when the answer had none
	text       string
	ackID      int64
	hasAck     bool
	invalid    int // invalid-event-number; -1 when absent
	retryAfter time.Duration
}

func (r *result) describe(ep *endpoint) string {
	if r.err != nil {
		return fmt.Sprintf("%s: %s", ep.display, splunkhttp.ScrubError(r.err))
	}
	if r.code >= 0 {
		return fmt.Sprintf("%s (HEC code %d, HTTP %d) from %s", r.text, r.code, r.status, ep.display)
	}
	if r.status >= 200 && r.status < 300 {
		return fmt.Sprintf("HTTP %d without an HEC answer in the body (a proxy or a wrong URL?) from %s", r.status, ep.display)
	}
	return fmt.Sprintf("HTTP %d %s from %s", r.status, r.text, ep.display)
}

type outcome int

const (
	outOK outcome = iota
	outOKSlow
	outRetry
	outConfig
	outEvent
	outChannel
	outTooLarge
)

func classify(r *result) outcome {
	if r.err != nil {
		return outRetry
	}
	switch r.code {
	case 0, 17:
		if r.status == http.StatusOK {
			return outOK
		}
	case 24, 25:
		return outOKSlow
	case 1, 2, 3, 4, 7, 14, 16, 21, 22:
		return outConfig
	case 5, 6, 12, 13, 15:
		return outEvent
	case 10, 11:
		return outChannel
	case 8, 9, 18, 19, 20, 23, 26, 27:
		return outRetry
	}
	switch {
	case r.status == http.StatusRequestEntityTooLarge:
		return outTooLarge
	case r.status == http.StatusTooManyRequests || r.status >= 500:
		return outRetry
	case r.status == http.StatusRequestTimeout:
		return outRetry
	}
	// 401/403/404, or even a 200, without HEC's JSON answer: a wrong URL or
	// a proxy answering in Splunk's place; never count that as delivery.
	return outConfig
}

func (w *Writer) encodeBody(recs [][]byte) []byte {
	var buf bytes.Buffer
	lvl := w.o.HEC.GzipLevel
	if lvl == 0 {
		for _, r := range recs {
			buf.Write(r)
			buf.WriteByte('\n')
		}
		return buf.Bytes()
	}
	zw, _ := w.gz.Get().(*gzip.Writer)
	if zw == nil {
		var err error
		if zw, err = gzip.NewWriterLevel(&buf, lvl); err != nil {
			zw = gzip.NewWriter(&buf)
		}
	} else {
		zw.Reset(&buf)
	}
	for _, r := range recs {
		_, _ = zw.Write(r)
		_, _ = zw.Write([]byte{'\n'})
	}
	_ = zw.Close()
	w.gz.Put(zw)
	return buf.Bytes()
}

// post sends one request to ep.
func (w *Writer) post(ctx context.Context, ep *endpoint, path string, body []byte, gz bool) *result {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, ep.base+path, body)
	if err != nil {
		return &result{err: err, code: -1, invalid: -1}
	}
	req.Header.Set("Authorization", "Splunk "+w.token)
	req.Header.Set("Content-Type", "application/json")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	ep.mu.Lock()
	req.Header.Set("X-Splunk-Request-Channel", ep.channel)
	ep.mu.Unlock()
	resp, err := w.client.Do(req)
	if err != nil {
		return &result{err: err, code: -1, invalid: -1}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &result{err: err, code: -1, invalid: -1}
	}
	return parseAnswer(resp, raw)
}

func parseAnswer(resp *http.Response, raw []byte) *result {
	r := &result{status: resp.StatusCode, code: -1, invalid: -1}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			r.retryAfter = time.Duration(min(n, 3600)) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			r.retryAfter = min(max(time.Until(t), 0), time.Hour)
		}
	}
	var ans struct {
		Text    string          `json:"text"`
		Code    *int            `json:"code"`
		AckID   *int64          `json:"ackId"`
		Invalid *int            `json:"invalid-event-number"`
		Acks    json.RawMessage `json:"acks"`
	}
	if json.Unmarshal(raw, &ans) == nil {
		if ans.Code != nil {
			r.code = *ans.Code
		}
		r.text = ans.Text
		if ans.AckID != nil {
			r.ackID, r.hasAck = *ans.AckID, true
		}
		if ans.Invalid != nil {
			r.invalid = *ans.Invalid
		}
	}
	if r.text == "" {
		r.text = http.StatusText(resp.StatusCode)
	}
	return r
}

// deliver sends b until it is delivered, awaiting acknowledgement,
// dead-lettered, or the writer stops (then it stays in the spool).
func (w *Writer) deliver(ctx context.Context, b *batch) {
	attempt := 0
	for ctx.Err() == nil && len(b.keys) > 0 {
		if d := time.Duration(w.slowNano.Load()); d > 0 {
			if !sleepCtx(ctx, d) {
				return
			}
		}
		ep := w.pick()
		if b.body == nil {
			b.body = w.encodeBody(b.recs)
		}
		r := w.post(ctx, ep, "/services/collector/event", b.body, w.o.HEC.GzipLevel != 0)
		if ctx.Err() != nil {
			return
		}
		w.m.request(r)
		switch classify(r) {
		case outOK, outOKSlow:
			if classify(r) == outOKSlow {
				w.slowDown()
			} else if w.slowNano.Load() > 0 {
				w.slowNano.Store(w.slowNano.Load() / 2)
			}
			w.setOK()
			w.c.sent.Add(int64(len(b.keys)))
			if w.o.HEC.Ack {
				if !r.hasAck {
					if w.noAckWarned.CompareAndSwap(false, true) {
						w.log.Warn("hec: splunk.hec.ack is on but HEC answers without an ackId (indexer acknowledgement off on the token?); a 200 counts as delivered", "url", ep.display)
					}
					w.delivered(b.keys)
					return
				}
				w.awaitAck(ctx, ep, r.ackID, b.keys)
				return
			}
			w.delivered(b.keys)
			return
		case outRetry:
			d := w.backoff(attempt, r.retryAfter)
			ep.mu.Lock()
			ep.down = time.Now().Add(d)
			ep.mu.Unlock()
			w.setLastError(r.describe(ep))
			w.log.Debug("hec: retrying", "error", r.describe(ep), "after", d, "events", len(b.keys))
			attempt++
			// Fail over at once when another URL is up; else wait.
			if len(w.eps) == 1 || w.allDown() {
				if !sleepCtx(ctx, d) {
					return
				}
			}
		case outConfig:
			w.setFail(r, ep)
			ep.mu.Lock()
			ep.down = time.Now().Add(w.o.ConfigRetry)
			ep.mu.Unlock()
			// Another URL may take it (one misconfigured indexer); else wait.
			if len(w.eps) == 1 || w.allDown() {
				if !sleepCtx(ctx, w.o.ConfigRetry) {
					return
				}
			}
		case outChannel:
			w.log.Warn("hec: HEC lost the data channel; opening a new one", "error", r.describe(ep))
			w.newChannel(ep)
		case outTooLarge:
			if len(b.keys) == 1 {
				w.deadLetter(b.keys, b.recs, "HEC refused the event as too large (HTTP 413 "+r.text+") at "+ep.display, r.code)
				return
			}
			w.split(ctx, b)
			return
		case outEvent:
			n := r.invalid
			if n >= 0 && n < len(b.keys) {
				// Events before n were indexed (without an ackId to
				// confirm: count them delivered).
				w.delivered(b.keys[:n])
				w.deadLetter(b.keys[n:n+1], b.recs[n:n+1], fmt.Sprintf("HEC refused event %d of the request: %s", n, r.describe(ep)), r.code)
				b = &batch{keys: b.keys[n+1:], recs: b.recs[n+1:]}
				attempt = 0
				continue
			}
			if len(b.keys) == 1 {
				w.deadLetter(b.keys, b.recs, "HEC refused the event: "+r.describe(ep), r.code)
				return
			}
			w.split(ctx, b)
			return
		}
	}
}

func (w *Writer) allDown() bool {
	now := time.Now()
	for _, ep := range w.eps {
		ep.mu.Lock()
		d := ep.down
		ep.mu.Unlock()
		if !d.After(now) {
			return false
		}
	}
	return true
}

// split halves a batch HEC refused as a whole (413, or an event error
// without invalid-event-number) to find what it takes.
func (w *Writer) split(ctx context.Context, b *batch) {
	h := len(b.keys) / 2
	w.deliver(ctx, &batch{keys: b.keys[:h], recs: b.recs[:h]})
	w.deliver(ctx, &batch{keys: b.keys[h:], recs: b.recs[h:]})
}

func (w *Writer) slowDown() {
	for {
		old := w.slowNano.Load()
		n := max(old*2, int64(50*time.Millisecond))
		n = min(n, int64(5*time.Second))
		if w.slowNano.CompareAndSwap(old, n) {
			return
		}
	}
}

func (w *Writer) delivered(keys []uint64) {
	if len(keys) == 0 {
		return
	}
	w.c.delivered.Add(int64(len(keys)))
	w.sp.remove(keys)
}

func (w *Writer) deadLetter(keys []uint64, recs [][]byte, reason string, code int) {
	now := w.o.Now()
	for i := range keys {
		if err := w.dead.write(recs[i], reason, code, now); err != nil {
			// Keep it in the spool: it is retried on the next start.
			w.log.Error("hec: cannot write dead letter; the event stays in the spool", "error", err, "reason", reason)
			continue
		}
		w.c.dead.Add(1)
		w.sp.remove(keys[i : i+1])
		w.log.Warn("hec: event dead-lettered", "reason", reason, "file", w.dead.path)
	}
}
