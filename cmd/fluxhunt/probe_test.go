package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/enrich/asn"
	"github.com/fluxhunt/fluxhunt/lab/dnslab"
)

func startDNSLab(t *testing.T, seed int64) (*dnslab.World, *dnslab.Server) {
	t.Helper()
	w := dnslab.NewWorld(seed)
	s := dnslab.New(w, dnslab.Options{})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return w, s
}

func TestProbeCommand(t *testing.T) {
	w, s := startDNSLab(t, 1)
	byKind := map[dnslab.Kind]string{}
	for _, d := range w.Domains() {
		if byKind[d.Kind] == "" {
			byKind[d.Kind] = d.Name
		}
	}
	environ := []string{"FLUXHUNT_DNS__ALLOW_PRIVATE_NS=true", "FLUXHUNT_DNS__AUTHORITATIVE_PORT=" + strconv.Itoa(int(s.Addr().Port())), "FLUXHUNT_STATE_DIR=" + t.TempDir()}
	asnFile := filepath.Join(t.TempDir(), "lab-asn.csv.gz")
	if err := os.WriteFile(asnFile, asn.EmbeddedCSV(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"probe", "--resolver", s.Addr().String(), "--interval", "20ms", "--asn-db", asnFile,
		strings.ToUpper(byKind[dnslab.KindFastFlux]), byKind[dnslab.KindStatic], "gone-away.biz", byKind[dnslab.KindCDN], byKind[dnslab.KindDoubleFlux], byKind[dnslab.KindRoundRobin]}
	var stdout, stderr bytes.Buffer
	rc := dispatch(t.Context(), &env{args: args, stdout: &stdout, stderr: &stderr, environ: environ})
	if rc != exitOK {
		t.Fatalf("rc %d, stderr %s", rc, stderr.String())
	}
	want := []struct{ domain, verdict string }{
		{byKind[dnslab.KindFastFlux], "fast_flux"}, {byKind[dnslab.KindStatic], "static"}, {"gone-away.biz", "nxdomain"},
		{byKind[dnslab.KindCDN], "cdn"}, {byKind[dnslab.KindDoubleFlux], "fast_flux"}, {byKind[dnslab.KindRoundRobin], "round_robin"},
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines:\n%s", len(lines), stdout.String())
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		for _, k := range []string{"domain", "verdict", "reasons", "probes", "n_a", "n_asn", "n_prefix24", "n_prefix16", "n_ns", "ttl_min", "ttl_max", "authoritative", "holz_score"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %s: %s", i+1, k, l)
			}
		}
		if len(m) != 13 {
			t.Errorf("line %d has %d fields: %s", i+1, len(m), l)
		}
		if m["domain"] != want[i].domain || m["verdict"] != want[i].verdict {
			t.Errorf("line %d: %v %v, want %s %s", i+1, m["domain"], m["verdict"], want[i].domain, want[i].verdict)
		}
	}
	var ff probeOutput
	json.Unmarshal([]byte(lines[0]), &ff)
	d, _ := w.Domain(ff.Domain)
	if !ff.Authoritative || ff.TTLMin != int64(d.TTL) || ff.NASN < 5 || ff.HolzScore <= 0 || ff.Probes < 2 || ff.Probes > 3 {
		t.Errorf("fast flux line %+v (zone TTL %d)", ff, d.TTL)
	}
}

func TestProbeCommandFailures(t *testing.T) {
	_, s := startDNSLab(t, 1)
	var stdout, stderr bytes.Buffer
	environ := []string{"FLUXHUNT_DNS__TIMEOUT=100ms", "FLUXHUNT_DNS__RETRIES=0"}
	// a resolver that does not answer, an invalid name, an internal name
	rc := dispatch(t.Context(), &env{args: []string{"probe", "--resolver", "127.0.0.1:1", "--probes", "1", "--no-authoritative", "example.biz", "bad..name", "printer.local"}, stdout: &stdout, stderr: &stderr, environ: environ})
	if rc != exitFail {
		t.Errorf("rc %d, want 1; stderr %s", rc, stderr.String())
	}
	out := stdout.String()
	for _, s := range []string{`"domain":"example.biz","verdict":"unresolved"`, `"domain":"bad..name","verdict":"unresolved","reasons":["invalid domain name`, `"printer.local","verdict":"unresolved","reasons":["refused`} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %s:\n%s", s, out)
		}
	}
	if rc := dispatch(t.Context(), &env{args: []string{"probe"}, stdout: &stdout, stderr: &stderr}); rc != exitConfig {
		t.Errorf("no domains: rc %d", rc)
	}
	if rc := dispatch(t.Context(), &env{args: []string{"probe", "--asn-db", "/nonexistent.csv", "x.biz"}, stdout: &stdout, stderr: &stderr}); rc != exitConfig {
		t.Errorf("missing asn db: rc %d", rc)
	}
	_ = s
}

func TestCheckDNS(t *testing.T) {
	_, s := startDNSLab(t, 1)
	cfg := config.Default()
	cfg.DNS.Resolvers = []string{s.Addr().String(), "127.0.0.1:1"}
	cfg.DNS.Timeout = config.Duration(100 * time.Millisecond)
	cfg.DNS.Retries = 0
	res := checkDNS(t.Context(), &cfg, slog.New(slog.DiscardHandler))
	if len(res) != 2 || !res[0].OK || res[1].OK || !strings.Contains(res[0].Detail, s.Addr().String()) || !strings.Contains(res[1].Detail, "127.0.0.1:1") {
		t.Errorf("results %+v", res)
	}
}
