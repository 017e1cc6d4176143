package prober

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	submitted *prometheus.CounterVec
	verdicts  *prometheus.CounterVec
	rounds    prometheus.Counter
	queued    prometheus.Gauge
	active    prometheus.Gauge
	funcs     []prometheus.Collector
}

func newMetrics(p *Prober) *metrics {
	m := &metrics{
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fluxhunt_probe_candidates_total", Help: "Candidates submitted to the prober, by outcome (accepted, refused, invalid, recent, full)."}, []string{"outcome"}),
		verdicts:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fluxhunt_probe_verdicts_total", Help: "Final verdicts of probed domains."}, []string{"verdict"}),
		rounds:    prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxhunt_probe_rounds_total", Help: "Probe rounds run."}),
		queued:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "fluxhunt_probe_queue_length", Help: "Domains waiting to be probed."}),
		active:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "fluxhunt_probe_active_domains", Help: "Domains in their probe plan."}),
	}
	counter := func(name, help string, f func(c *Counters) uint64) {
		m.funcs = append(m.funcs, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 {
			if c := p.Counters(); c != nil {
				return float64(f(c))
			}
			return 0
		}))
	}
	counter("fluxhunt_probe_queries_total", "DNS queries sent (UDP and TCP).", func(c *Counters) uint64 { return c.Sent.Load() })
	counter("fluxhunt_probe_replies_total", "Valid DNS replies.", func(c *Counters) uint64 { return c.Replies.Load() })
	counter("fluxhunt_probe_timeouts_total", "Query attempts without a valid reply in time.", func(c *Counters) uint64 { return c.Timeouts.Load() })
	counter("fluxhunt_probe_tcp_total", "TCP exchanges after truncated or oversized UDP replies.", func(c *Counters) uint64 { return c.TCP.Load() })
	counter("fluxhunt_probe_dropped_stray_id_total", "Replies dropped: ID of no outstanding query.", func(c *Counters) uint64 { return c.StrayID.Load() })
	counter("fluxhunt_probe_dropped_wrong_source_total", "Replies dropped: from an address not asked.", func(c *Counters) uint64 { return c.WrongSource.Load() })
	counter("fluxhunt_probe_dropped_malformed_total", "Replies dropped: unparseable.", func(c *Counters) uint64 { return c.Malformed.Load() })
	counter("fluxhunt_probe_dropped_wrong_question_total", "Replies dropped: question differs from the query's.", func(c *Counters) uint64 { return c.WrongQuestion.Load() })
	counter("fluxhunt_probe_truncated_total", "Truncated UDP replies.", func(c *Counters) uint64 { return c.Truncated.Load() })
	counter("fluxhunt_probe_oversized_total", "UDP replies over the advertised EDNS size.", func(c *Counters) uint64 { return c.Oversized.Load() })
	m.funcs = append(m.funcs, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "fluxhunt_probe_refused_ns_total", Help: "Authoritative server addresses refused (private, loopback, link-local, CGNAT)."}, func() float64 { return float64(p.refusedNS.Load()) }))
	return m
}

func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range append([]prometheus.Collector{m.submitted, m.verdicts, m.rounds, m.queued, m.active}, m.funcs...) {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
