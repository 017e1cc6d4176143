package prober

import (
	"context"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/fluxhunt/fluxhunt/detect/fastflux"
	"github.com/fluxhunt/fluxhunt/lab/dnslab"
	"github.com/fluxhunt/fluxhunt/schema"
)

// BenchmarkProbe measures the prober against the loopback lab server (both
// in this process, on the same 2 cores), with full reply validation.
//
//	queries: single A queries through the transport, 64 in flight.
//	rounds:  whole probe rounds (resolver A/AAAA, zone NS, NS addresses,
//	         authoritative A/AAAA/NS: about 8 queries), 64 in flight.
func BenchmarkProbe(b *testing.B) {
	w, s := startLab(b, 1)
	doms := w.Domains()
	b.Run("queries", func(b *testing.B) {
		tr, err := NewTransport(4, 2*time.Second, 2)
		if err != nil {
			b.Fatal(err)
		}
		defer tr.Close()
		var i atomic.Uint64
		b.SetParallelism(32) // 64 goroutines on 2 cores
		b.ReportAllocs()
		start, cpu0 := time.Now(), cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				d := doms[int(i.Add(1))%len(doms)]
				if _, err := tr.Exchange(context.Background(), s.Addr(), d.Name, dns.TypeA, false); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
		cpuPerQuery := (cpuTime() - cpu0).Seconds() / float64(b.N)
		b.ReportMetric(cpuPerQuery*1e6, "cpu-µs/query")
		// what two dedicated cores would do (client and lab server together)
		b.ReportMetric(2/cpuPerQuery, "queries/s@2cores")
		b.ReportMetric(float64(tr.C.Timeouts.Load()), "timeouts")
	})
	b.Run("rounds", func(b *testing.B) {
		opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
		p, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer p.Shutdown(context.Background())
		var i atomic.Uint64
		b.SetParallelism(32)
		b.ReportAllocs()
		start, cpu0 := time.Now(), cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				d := doms[int(i.Add(1))%len(doms)]
				if o := p.probeRound(context.Background(), d.Name, 1); !o.Authoritative {
					b.Errorf("%s: no authoritative answer", d.Name)
					return
				}
			}
		})
		el := time.Since(start).Seconds()
		b.ReportMetric(float64(b.N)/el, "rounds/s")
		b.ReportMetric(float64(p.Counters().Sent.Load())/el, "queries/s")
		b.ReportMetric(2*float64(p.Counters().Sent.Load())/(cpuTime()-cpu0).Seconds(), "queries/s@2cores")
	})
}

// cpuTime is the process's user+system CPU time: on a shared machine the
// wall-clock rate understates what the code does per core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTrackedDomainBytes reports the heap held per domain in its probe
// plan after 3 rounds of a fast-flux domain (the largest case).
func BenchmarkTrackedDomainBytes(b *testing.B) {
	w, s := startLab(b, 1)
	opts := labOptions(s.Addr().String(), int(s.Addr().Port()))
	p, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	var d dnslab.Domain
	for _, x := range w.Domains() {
		if x.Kind == dnslab.KindDoubleFlux {
			d = x
		}
	}
	var obs []fastflux.Observation
	for r := 1; r <= 3; r++ {
		obs = append(obs, p.probeRound(context.Background(), d.Name, r))
	}
	name, _ := schema.NormalizeName(d.Name)
	const n = 2000
	for b.Loop() {
		keep := make([]*tracked, n)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for i := range keep {
			t := &tracked{name: name, c: Candidate{Name: d.Name, Reason: "low ttl"}}
			for _, o := range obs {
				o.Answers = slices.Clone(o.Answers)
				o.NS = slices.Clone(o.NS)
				o.Servers = slices.Clone(o.Servers)
				o.CNAMEs = slices.Clone(o.CNAMEs)
				t.obs = append(t.obs, o)
			}
			keep[i] = t
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/n, "bytes/domain")
		runtime.KeepAlive(keep)
	}
}
