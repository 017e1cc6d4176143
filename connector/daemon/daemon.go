// Package daemon wires fluxhunt's parts into the service `fluxhunt run`
// starts (and the lab runs): the search client and poller, the detectors and
// pipeline, the prober, the HEC writer, the admin endpoints and the health
// heartbeat, over one bbolt state file under state_dir.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	bolt "go.etcd.io/bbolt"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/hec"
	"github.com/fluxhunt/fluxhunt/connector/pipeline"
	"github.com/fluxhunt/fluxhunt/connector/poll"
	"github.com/fluxhunt/fluxhunt/connector/search"
	"github.com/fluxhunt/fluxhunt/detect/allowlist"
	"github.com/fluxhunt/fluxhunt/detect/dga"
	"github.com/fluxhunt/fluxhunt/detect/nxdomain"
	"github.com/fluxhunt/fluxhunt/enrich/asn"
	"github.com/fluxhunt/fluxhunt/enrich/obsstore"
	"github.com/fluxhunt/fluxhunt/enrich/prober"
	"github.com/fluxhunt/fluxhunt/internal/adminhttp"
	"github.com/fluxhunt/fluxhunt/schema"
)

// StateFile is the bbolt file under state_dir holding checkpoints, detector
// state, probe history, the candidate queue and the HEC spool.
const StateFile = "fluxhunt.db"

// Options configure a Daemon beyond the config file.
type Options struct {
	Config  *config.Config
	Since   time.Time // --since: backfill from this index time
	Logger  *slog.Logger
	Version string
	// Registry collects the metrics; nil: a new one with Go and process
	// collectors.
	Registry *prometheus.Registry
	// ASN overrides asn.db (the lab passes its embedded table).
	ASN *asn.Table
	// HealthInterval is the heartbeat period (default 1 minute).
	HealthInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Daemon is the running service.
type Daemon struct {
	o     Options
	cfg   *config.Config
	log   *slog.Logger
	reg   *prometheus.Registry
	db    *bolt.DB
	sc    *search.Client
	w     *hec.Writer
	pr    *prober.Prober
	pl    *pipeline.Pipeline
	pol   *poll.Poller
	nx    *nxdomain.Detector
	admin *adminhttp.Server
	asn   *asn.Table
	model *dga.Model
	start time.Time

	results chan prober.Result
	busy    atomic.Int32 // a prober result is being handled

	mu          sync.Mutex
	fileAllow   string // allowlist_file text
	lookupAllow string // the app's lookup, as allowlist lines
	allow       *allowlist.List
	watch       *allowlist.List
	searchOK    string
	detections  int64
	rowsRead    int64
}

// New builds every part; it makes no network request.
func New(o Options) (*Daemon, error) {
	if o.Config == nil {
		return nil, errors.New("daemon: no config")
	}
	cfg := o.Config
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = time.Minute
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
		o.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if err := cfg.NeedSearch(); err != nil {
		return nil, err
	}
	if err := cfg.NeedHEC(); err != nil {
		return nil, err
	}
	d := &Daemon{o: o, cfg: cfg, log: o.Logger, reg: o.Registry, start: o.Now(), model: dga.Default(), searchOK: "not checked yet",
		results: make(chan prober.Result, 256)}
	if err := d.loadLists(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("daemon: state_dir: %w", err)
	}
	db, err := bolt.Open(filepath.Join(cfg.StateDir, StateFile), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("daemon: open state %s: %w (is another fluxhunt using this state_dir?)", filepath.Join(cfg.StateDir, StateFile), err)
	}
	d.db = db
	if err := d.build(); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) build() error {
	cfg, log, reg := d.cfg, d.log, d.reg
	var err error
	d.sc, err = search.New(cfg.Splunk.Search, search.Options{Logger: log.With("part", "search")})
	if err != nil {
		return fmt.Errorf("daemon: search client: %w", err)
	}
	d.w, err = hec.New(hec.Options{HEC: cfg.Splunk.HEC, Spool: cfg.Splunk.Spool, StateDir: cfg.StateDir, Instance: cfg.Instance,
		DB: d.db, Logger: log.With("part", "hec"), Registerer: reg})
	if err != nil {
		return fmt.Errorf("daemon: hec writer: %w", err)
	}
	d.asn = d.o.ASN
	if d.asn == nil && len(cfg.ASN.DB) > 0 {
		if d.asn, err = asn.Load(cfg.ASN.DB...); err != nil {
			return fmt.Errorf("daemon: asn.db: %w", err)
		}
	}
	store, err := obsstore.New(d.db, obsstore.Options{MaxDomains: cfg.Probe.MaxDomains, Retention: cfg.Probe.Retention.D()})
	if err != nil {
		return fmt.Errorf("daemon: observation store: %w", err)
	}
	popts := prober.Options{DNS: cfg.DNS, Probe: cfg.Probe, Instance: cfg.Instance, Store: store,
		OnResult: func(r prober.Result) { d.results <- r }, Interval: cfg.Probe.FixedInterval.D(), Cymru: cfg.ASN.Cymru,
		Logger: log.With("part", "prober"), Registerer: reg, Now: d.o.Now}
	if d.asn != nil {
		popts.ASN = d.asn
	}
	if d.pr, err = prober.New(popts); err != nil {
		return fmt.Errorf("daemon: prober: %w", err)
	}
	windows := make([]time.Duration, len(cfg.Detect.Windows))
	for i, w := range cfg.Detect.Windows {
		windows[i] = w.D()
	}
	d.nx, err = nxdomain.New(nxdomain.Config{Windows: windows, Threshold: cfg.Detect.DGAThreshold, InternalSuffixes: cfg.DNS.InternalSuffixes},
		d.model, d.currentAllow())
	if err != nil {
		return fmt.Errorf("daemon: nxdomain detector: %w", err)
	}
	state, err := pipeline.NewBoltState(d.db)
	if err != nil {
		return err
	}
	d.pl, err = pipeline.New(pipeline.Config{Instance: cfg.Instance, Index: cfg.Splunk.HEC.Index, SuppressWindow: cfg.Detect.SuppressWindow.D(),
		DGAThreshold: cfg.Detect.DGAThreshold, ProbeSample: cfg.Probe.SampleEvents, Lookback: cfg.Detect.FlowLookback.D(), SaveInCommit: true},
		pipeline.Deps{Sender: d.w, Hosts: hostDetector{d.nx}, Scorer: d.model, Prober: probeQueue{d.pr}, Candidate: candidateFromRow, Lookback: d.lookback(),
			Allow: func() pipeline.Allowlist { return d.currentAllow() }, Watch: func() pipeline.Allowlist { return d.currentWatch() },
			State: state, Logger: log.With("part", "pipeline"), Registry: reg})
	if err != nil {
		return err
	}
	pc := cfg.Poll
	if !pc.Flows {
		pc.FlowSearch = ""
	}
	d.pol, err = poll.New(poll.Options{Searcher: d.sc, DB: d.db, Poll: pc, Consumer: consumer{d}, Since: d.o.Since,
		Logger: log.With("part", "poll"), Registerer: reg})
	if err != nil {
		return fmt.Errorf("daemon: poller: %w", err)
	}
	if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fluxhunt_pipeline_pending_probe_results",
		Help: "Prober results waiting for the pipeline (probe events, fast-flux verdicts and their look-backs)."},
		func() float64 { return float64(d.pendingResults()) })); err != nil {
		return fmt.Errorf("daemon: register metrics: %w", err)
	}
	d.admin = adminhttp.New(cfg.Listen, reg, d.healthStatus, log.With("part", "admin"))
	return nil
}

// Run starts everything and polls until ctx ends, then shuts down: intake
// stops, state is saved, and HEC gets shutdown_timeout to take what the
// spool holds (the spool keeps the rest).
func (d *Daemon) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := d.admin.Start(ctx); err != nil {
		return err
	}
	if err := d.w.Start(runCtx); err != nil {
		return fmt.Errorf("daemon: start hec writer: %w", err)
	}
	if err := d.pr.Start(runCtx); err != nil {
		return fmt.Errorf("daemon: start prober: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.handleResults(runCtx) }()
	wg.Add(1)
	go func() { defer wg.Done(); d.heartbeat(ctx) }()
	d.log.Info("fluxhunt running", "instance", d.cfg.Instance, "search", d.cfg.Splunk.Search.URL, "hec_urls", len(d.cfg.Splunk.HEC.URLs),
		"shard", d.cfg.Poll.Shard.String(), "state", filepath.Join(d.cfg.StateDir, StateFile))
	err := d.pollLoop(ctx)
	d.log.Info("shutting down: intake stopped")
	d.shutdown(cancel, &wg)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (d *Daemon) pollLoop(ctx context.Context) error {
	for {
		d.refreshLookup(ctx)
		n, err := d.pol.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.setSearchStatus(err.Error())
			d.log.Warn("poll failed; retrying next interval", "err", err)
		} else if err == nil {
			d.setSearchStatus("OK")
			if n > 0 {
				d.log.Debug("poll done", "windows", n)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d.cfg.Poll.Interval.D()):
		}
	}
}

func (d *Daemon) shutdown(cancelRun context.CancelFunc, wg *sync.WaitGroup) {
	sctx, cancel := context.WithTimeout(context.Background(), d.cfg.ShutdownTimeout.D()+5*time.Second)
	defer cancel()
	if err := d.pr.Shutdown(sctx); err != nil {
		d.log.Warn("prober shutdown", "err", err)
	}
	close(d.results)
	flushCtx, fcancel := context.WithTimeout(sctx, d.cfg.ShutdownTimeout.D())
	if err := d.w.Flush(flushCtx); err != nil {
		st := d.w.Stats()
		d.log.Warn("HEC did not take every event before shutdown_timeout; the spool keeps them for the next start", "spooled_events", st.SpoolEvents, "err", err)
	}
	fcancel()
	cancelRun()
	wg.Wait()
	if err := d.w.Shutdown(sctx); err != nil {
		d.log.Warn("hec shutdown", "err", err)
	}
	_ = d.admin.Shutdown(sctx)
	if err := d.pl.Flush(); err != nil {
		d.log.Warn("saving detector state", "err", err)
	}
	if err := d.db.Close(); err != nil {
		d.log.Warn("closing state", "err", err)
	}
	d.log.Info("fluxhunt stopped")
}

// Close releases the state file of a daemon that never ran.
func (d *Daemon) Close() error { return d.db.Close() }

// handleResults turns prober results into probe events and fast-flux
// detections.
func (d *Daemon) handleResults(ctx context.Context) {
	for r := range d.results {
		d.busy.Store(1)
		d.handleResult(ctx, r)
		d.busy.Store(0)
	}
}

func (d *Daemon) handleResult(ctx context.Context, r prober.Result) {
	now := d.o.Now()
	if err := d.pl.Probe(ctx, r.Event, now); err != nil && ctx.Err() == nil {
		d.log.Warn("spooling probe event failed", "domain", r.Domain.ASCII, "err", err)
	}
	if !r.Final || r.Detection == nil {
		return
	}
	var addrs []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, o := range r.Rounds {
		for _, a := range o.Answers {
			if !seen[a.Addr] {
				seen[a.Addr] = true
				addrs = append(addrs, a.Addr)
			}
		}
	}
	if err := d.pl.FastFlux(ctx, *r.Detection, addrs, now); err != nil && ctx.Err() == nil {
		d.log.Warn("fast-flux detection not spooled", "domain", r.Domain.ASCII, "err", err)
	}
}

// Reload re-reads the allow- and watchlists (SIGHUP). A list with bad lines
// keeps its good lines and reports the bad ones.
func (d *Daemon) Reload() error {
	err := d.loadLists()
	d.nx.SetAllowlist(d.currentAllow())
	return err
}

func (d *Daemon) loadLists() error {
	var errs []error
	file := ""
	if p := d.cfg.AllowlistFile; p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("allowlist_file: %w", err))
		} else {
			file = string(b)
			if _, err := allowlist.Parse(strings.NewReader(file), p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	var watch *allowlist.List
	if p := d.cfg.WatchlistFile; p != "" {
		l, err := allowlist.Load(p)
		if err != nil {
			errs = append(errs, err)
		}
		watch = l
	}
	d.mu.Lock()
	d.fileAllow = file
	d.watch = watch
	d.allow = nil
	d.mu.Unlock()
	return errors.Join(errs...)
}

// currentAllow merges allowlist_file and the app's lookup.
func (d *Daemon) currentAllow() *allowlist.List {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.allow == nil {
		l, _ := allowlist.Parse(strings.NewReader(d.fileAllow+"\n"+d.lookupAllow), "allowlist")
		d.allow = l
	}
	return d.allow
}

func (d *Daemon) currentWatch() pipeline.Allowlist {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.watch == nil {
		return nil
	}
	return d.watch
}

// refreshLookup reads the analyst allowlist lookup of the Splunk app.
func (d *Daemon) refreshLookup(ctx context.Context) {
	var b strings.Builder
	now := d.o.Now().Unix()
	_, err := d.sc.Search(ctx, search.Query{Search: "| inputlookup fluxhunt_allowlist"}, func(f schema.Fields) error {
		pattern, _ := f.Get("pattern")
		kind, _ := f.Get("kind")
		if exp, ok := f.Get("expires"); ok && exp != "" {
			var e int64
			if _, err := fmt.Sscan(exp, &e); err == nil && e > 0 && e < now {
				return nil
			}
		}
		pattern = strings.TrimSpace(pattern)
		if pattern == "" || strings.ContainsAny(pattern, " \t#\n") {
			return nil
		}
		switch strings.ToLower(strings.TrimSpace(kind)) {
		case "suffix", "domain", "":
			fmt.Fprintf(&b, "suffix %s\n", pattern)
		case "src", "host":
			fmt.Fprintf(&b, "host %s\n", pattern)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			d.log.Debug("analyst allowlist lookup not read", "err", err)
		}
		return
	}
	d.mu.Lock()
	changed := b.String() != d.lookupAllow
	d.lookupAllow = b.String()
	if changed {
		d.allow = nil
	}
	d.mu.Unlock()
	if changed {
		d.nx.SetAllowlist(d.currentAllow())
	}
}

func (d *Daemon) setSearchStatus(s string) {
	d.mu.Lock()
	d.searchOK = s
	d.mu.Unlock()
}

func (d *Daemon) healthStatus() map[string]string {
	d.mu.Lock()
	s := d.searchOK
	d.mu.Unlock()
	return map[string]string{"search": s, "hec": d.w.Status().String()}
}

// heartbeat sends a fluxhunt:health event every HealthInterval.
func (d *Daemon) heartbeat(ctx context.Context) {
	t := time.NewTicker(d.o.HealthInterval)
	defer t.Stop()
	for {
		d.sendHealth(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Health builds the current health event.
func (d *Daemon) Health() schema.HealthEvent {
	st := d.w.Stats()
	now := d.o.Now()
	cp, ok, _ := d.pol.Checkpoint()
	h := schema.HealthEvent{SchemaVersion: schema.SchemaVersion, Instance: d.cfg.Instance, Version: d.o.Version, ModelVersion: d.model.Version(),
		UptimeSeconds: int64(now.Sub(d.start).Seconds()),
		RowsRead:      int64(sumMetric(d.reg, "fluxhunt_poll_rows_total")),
		RowsSkipped:   int64(sumMetric(d.reg, "fluxhunt_poll_bad_rows_total")),
		ProbesSent:    int64(d.pr.Counters().Sent.Load()),
		Detections:    int64(sumMetric(d.reg, "fluxhunt_pipeline_detections_total")),
		EventsSpooled: st.Spooled, EventsSent: st.Sent, EventsAcked: st.Acked, EventsDeadLettered: st.DeadLettered,
		SpoolBytes: st.SpoolBytes,
		Errors:     int64(sumMetric(d.reg, "fluxhunt_poll_errors_total") + sumMetric(d.reg, "fluxhunt_pipeline_errors_total")),
		Checks:     d.healthStatus(),
	}
	if ok {
		h.Checkpoint = cp.Unix()
		h.LagSeconds = now.Sub(cp).Seconds()
	}
	h.Status = "ok"
	for _, v := range h.Checks {
		if v != "OK" {
			h.Status = "degraded"
		}
	}
	return h
}

func (d *Daemon) sendHealth(ctx context.Context) {
	h := d.Health()
	err := d.w.Send(ctx, schema.Envelope{Time: schema.EpochSeconds(d.o.Now()), Host: d.cfg.Instance, Source: schema.Source,
		Sourcetype: schema.SourcetypeHealth, Index: d.cfg.Splunk.HEC.Index, Event: h})
	if err != nil && ctx.Err() == nil {
		d.log.Warn("health event not spooled", "err", err)
	}
}

func sumMetric(g prometheus.Gatherer, name string) float64 {
	mfs, err := g.Gather()
	if err != nil {
		return 0
	}
	var s float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				s += m.GetCounter().GetValue()
			case m.Gauge != nil:
				s += m.GetGauge().GetValue()
			}
		}
	}
	return s
}

// Progress says how far the daemon got: the poll checkpoint (zero before
// the first window) and the probe work pending (queued; in progress, with
// results not yet handled).
func (d *Daemon) Progress() (checkpoint time.Time, probesQueued, probesActive int) {
	cp, _, _ := d.pol.Checkpoint()
	q, a := d.pr.Pending()
	return cp, q, a + d.pendingResults()
}

func (d *Daemon) pendingResults() int { return len(d.results) + int(d.busy.Load()) }

func (d *Daemon) lookback() pipeline.FlowLookback {
	if d.cfg.Detect.FlowLookback <= 0 || !d.cfg.Poll.Flows {
		return nil
	}
	return lookback{d.sc}
}
