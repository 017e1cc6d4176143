package hec

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// awaitAck records a request HEC took on ep's channel; its records leave
// the spool when the ackId turns true, or are resent after ack_timeout.
func (w *Writer) awaitAck(ctx context.Context, ep *endpoint, id int64, keys []uint64) {
	select {
	case w.ackSlots <- struct{}{}:
	case <-ctx.Done():
		return // stays in the spool; resent on the next start
	}
	ep.mu.Lock()
	ep.pending[id] = &pendingAck{keys: keys, sent: time.Now()}
	ep.mu.Unlock()
}

// newChannel replaces ep's channel; acks pending on the old one can no longer
// be asked for, so their events are resent.
func (w *Writer) newChannel(ep *endpoint) {
	ep.mu.Lock()
	old := ep.pending
	ep.pending = map[int64]*pendingAck{}
	ep.channel = newGUID()
	ep.mu.Unlock()
	for _, p := range old {
		<-w.ackSlots
		w.pushResend(p.keys)
	}
}

// pollAcks asks each URL, every ack_poll, which requests were indexed.
func (w *Writer) pollAcks(ctx context.Context) {
	t := time.NewTicker(w.o.HEC.AckPoll.D())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, ep := range w.eps {
			w.pollEndpoint(ctx, ep)
		}
	}
}

func (w *Writer) pollEndpoint(ctx context.Context, ep *endpoint) {
	ep.mu.Lock()
	channel := ep.channel
	ids := make([]int64, 0, len(ep.pending))
	now := time.Now()
	var expired []*pendingAck
	for id, p := range ep.pending {
		if now.Sub(p.sent) > w.o.HEC.AckTimeout.D() {
			expired = append(expired, p)
			delete(ep.pending, id)
			continue
		}
		ids = append(ids, id)
	}
	ep.mu.Unlock()
	for _, p := range expired {
		<-w.ackSlots
		w.m.ackTimeouts.Add(1)
		w.pushResend(p.keys)
	}
	if len(expired) > 0 {
		w.log.Warn("hec: no acknowledgement within ack_timeout; resending", "requests", len(expired), "url", ep.display)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for len(ids) > 0 && ctx.Err() == nil {
		chunk := ids[:min(len(ids), 1000)]
		ids = ids[len(chunk):]
		acks, r := w.askAcks(ctx, ep, channel, chunk)
		if r != nil {
			w.m.request(r)
			switch classify(r) {
			case outConfig:
				w.setFail(r, ep)
			case outChannel:
				w.newChannel(ep)
			}
			return
		}
		var done []uint64
		n := 0
		ep.mu.Lock()
		if ep.channel == channel {
			for _, id := range chunk {
				if acks[strconv.FormatInt(id, 10)] {
					if p := ep.pending[id]; p != nil {
						done = append(done, p.keys...)
						delete(ep.pending, id)
						n++
					}
				}
			}
		}
		ep.mu.Unlock()
		for i := 0; i < n; i++ {
			<-w.ackSlots
		}
		if len(done) > 0 {
			w.c.acked.Add(int64(len(done)))
			w.delivered(done)
		}
	}
}

// askAcks posts one ack query. It returns the answer, or the failed result.
func (w *Writer) askAcks(ctx context.Context, ep *endpoint, channel string, ids []int64) (map[string]bool, *result) {
	body, _ := json.Marshal(map[string][]int64{"acks": ids})
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, ep.base+"/services/collector/ack", body)
	if err != nil {
		return nil, &result{err: err, code: -1, invalid: -1}
	}
	req.Header.Set("Authorization", "Splunk "+w.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", channel)
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, &result{err: err, code: -1, invalid: -1}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, &result{err: err, code: -1, invalid: -1}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, parseAnswer(resp, raw)
	}
	var ans struct {
		Acks map[string]bool `json:"acks"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Acks == nil {
		r := parseAnswer(resp, raw)
		if r.code < 0 {
			r.code, r.status = 8, http.StatusInternalServerError // unreadable: retry later
		}
		return nil, r
	}
	return ans.Acks, nil
}
