package hec

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fluxhunt/fluxhunt/schema"
)

// newGUID makes a random channel GUID (RFC 4122 version 4 form).
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func jitter() float64 { return mrand.Float64() }

// marshalEnvelope encodes one envelope without HTML escaping.
func marshalEnvelope(env schema.Envelope) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// deadLetters appends refused events to a JSON-lines file: the envelope's
// members plus "dead_letter": {"reason", "code", "at"}, so that
// `fluxhunt hec send FILE` replays the file as it is.
type deadLetters struct {
	path string
	mu   sync.Mutex
}

// DeadLetter is the member the writer adds to a dead-lettered envelope.
type DeadLetter struct {
	Reason string `json:"reason"`
	Code   int    `json:"code,omitempty"` // HEC code, when HEC refused it
	At     string `json:"at"`
}

func (d *deadLetters) write(rec []byte, reason string, code int, now time.Time) error {
	dl := DeadLetter{Reason: reason, At: now.UTC().Format(time.RFC3339Nano)}
	if code > 0 {
		dl.Code = code
	}
	meta, err := json.Marshal(dl)
	if err != nil {
		return err
	}
	var line []byte
	rec = bytes.TrimSpace(rec)
	if len(rec) >= 2 && rec[0] == '{' {
		line = append(line, `{"dead_letter":`...)
		line = append(line, meta...)
		if !bytes.Equal(rec, []byte("{}")) {
			line = append(line, ',')
		}
		line = append(line, rec[1:]...)
	} else {
		line, _ = json.Marshal(map[string]any{"dead_letter": dl, "raw": string(rec)})
	}
	line = append(line, '\n')
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(d.path), 0o750); err != nil {
		return fmt.Errorf("dead-letter file: %w", err)
	}
	f, err := os.OpenFile(d.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("dead-letter file: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		_ = f.Close()
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	return f.Close()
}

// metrics are the writer's Prometheus collectors (no URL, domain or IP
// labels: only HEC codes).
type metrics struct {
	reg         prometheus.Registerer
	cs          []prometheus.Collector
	requests    *prometheus.CounterVec
	ackTimeouts prometheus.Counter
}

func newMetrics(w *Writer, reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{reg: reg}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fluxhunt_hec_requests_total", Help: "HEC event and ack requests by HEC code (-1: none, e.g. network error).",
	}, []string{"code"})
	m.ackTimeouts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fluxhunt_hec_ack_timeouts_total", Help: "Requests not acknowledged within ack_timeout (resent).",
	})
	cf := func(name, help string, f func() int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) })
	}
	gf := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.cs = []prometheus.Collector{m.requests, m.ackTimeouts,
		cf("fluxhunt_hec_events_spooled_total", "Events accepted into the spool.", w.c.spooled.Load),
		cf("fluxhunt_hec_events_sent_total", "Events in requests HEC accepted.", w.c.sent.Load),
		cf("fluxhunt_hec_events_acked_total", "Events whose request HEC acknowledged.", w.c.acked.Load),
		cf("fluxhunt_hec_events_delivered_total", "Events removed from the spool as delivered.", w.c.delivered.Load),
		cf("fluxhunt_hec_events_dead_lettered_total", "Events written to the dead-letter file.", w.c.dead.Load),
		cf("fluxhunt_hec_events_dropped_total", "Events dropped by overflow: drop_oldest.", w.c.dropped.Load),
		cf("fluxhunt_hec_events_resent_total", "Events sent again after an ack timeout or channel loss.", w.c.resent.Load),
		gf("fluxhunt_hec_spool_bytes", "Bytes in the spool.", func() float64 { return float64(w.sp.bytes.Load()) }),
		gf("fluxhunt_hec_spool_events", "Events in the spool.", func() float64 { return float64(w.sp.count.Load()) }),
		gf("fluxhunt_hec_config_error", "1 while HEC refuses the configuration (token, index, ack).", func() float64 {
			if w.Status().OK {
				return 0
			}
			return 1
		}),
	}
	if reg != nil {
		for i, c := range m.cs {
			if err := reg.Register(c); err != nil {
				for _, d := range m.cs[:i] {
					reg.Unregister(d)
				}
				return nil, fmt.Errorf("hec: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) unregister() {
	if m == nil || m.reg == nil {
		return
	}
	for _, c := range m.cs {
		m.reg.Unregister(c)
	}
	m.reg = nil
}

func (m *metrics) request(r *result) {
	m.requests.WithLabelValues(fmt.Sprint(r.code)).Inc()
}
