package hec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/splunkhttp"
	"github.com/fluxhunt/fluxhunt/schema"
)

// CheckResult is the outcome of sending one real event to one HEC URL.
type CheckResult struct {
	URL    string // scrubbed
	OK     bool
	Detail string // OK: what was proven; FAIL: Splunk's text. Never the token.
}

// Check sends env to every URL of cfg, bypassing the spool: it proves the
// token and the index (HEC's health endpoint proves neither). With ack on it
// waits (within ctx) for the acknowledgement.
func Check(ctx context.Context, cfg config.HEC, env schema.Envelope, log *slog.Logger) []CheckResult {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if env.Index == "" {
		env.Index = cfg.Index
	}
	if env.Time == 0 {
		env.Time = schema.EpochSeconds(time.Now())
	}
	var out []CheckResult
	rec, err := marshalEnvelope(env)
	if err != nil {
		return []CheckResult{{URL: "-", Detail: fmt.Sprintf("cannot encode the check event: %v", err)}}
	}
	client, err := splunkhttp.New(splunkhttp.Options{TLS: cfg.TLS, ProxyURL: cfg.ProxyURL, Timeout: cfg.Timeout.D(), Logger: log})
	if err != nil {
		return []CheckResult{{URL: "-", Detail: err.Error()}}
	}
	w := &Writer{client: client, token: cfg.Token.Reveal(), o: Options{HEC: cfg}}
	for i, raw := range cfg.URLs {
		ep, err := newEndpoint(raw)
		if err != nil {
			out = append(out, CheckResult{URL: splunkhttp.Scrub(raw), Detail: fmt.Sprintf("splunk.hec.urls[%d]: %v", i, err)})
			continue
		}
		body := rec
		gz := cfg.GzipLevel != 0
		if gz {
			body = w.encodeBody([][]byte{rec})
		}
		r := w.post(ctx, ep, "/services/collector/event", body, gz)
		switch classify(r) {
		case outOK, outOKSlow:
		default:
			out = append(out, CheckResult{URL: ep.display, Detail: r.describe(ep)})
			continue
		}
		detail := fmt.Sprintf("%s accepted a %s event into index %s", ep.display, env.Sourcetype, env.Index)
		if cfg.Ack {
			if !r.hasAck {
				out = append(out, CheckResult{URL: ep.display, Detail: "splunk.hec.ack is on but HEC answered without an ackId (is useACK enabled on the token?)"})
				continue
			}
			if err := w.waitAck(ctx, ep, r.ackID); err != nil {
				out = append(out, CheckResult{URL: ep.display, Detail: err.Error()})
				continue
			}
			detail += " (acknowledged)"
		}
		out = append(out, CheckResult{URL: ep.display, OK: true, Detail: detail})
	}
	return out
}

// waitAck polls one ackId until it is true or ctx ends.
func (w *Writer) waitAck(ctx context.Context, ep *endpoint, id int64) error {
	ep.mu.Lock()
	channel := ep.channel
	ep.mu.Unlock()
	for {
		acks, r := w.askAcks(ctx, ep, channel, []int64{id})
		if r != nil && classify(r) != outRetry {
			return errors.New(r.describe(ep))
		}
		if acks[strconv.FormatInt(id, 10)] {
			return nil
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return fmt.Errorf("%s took the event but did not acknowledge it in time (ackId %d)", ep.display, id)
		}
	}
}
