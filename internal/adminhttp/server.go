// Package adminhttp serves fluxhunt's own endpoints on the `listen` address:
// /metrics (Prometheus, from an injected registry) and /healthz (JSON status of
// each component; 200 when all are OK, 503 otherwise).
package adminhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HealthFunc reports each component's status: "OK" or a failure text (which
// must hold no secret).
type HealthFunc func() map[string]string

// Server is the admin HTTP server.
type Server struct {
	addr   string
	gather prometheus.Gatherer
	health HealthFunc
	log    *slog.Logger

	mu  sync.Mutex
	srv *http.Server
	ln  net.Listener
}

// New makes a server; Start makes it listen.
func New(addr string, g prometheus.Gatherer, health HealthFunc, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{addr: addr, gather: g, health: health, log: log}
}

// Handler serves /metrics and /healthz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{ErrorLog: slogPrinter{s.log}}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		st := map[string]string{}
		if s.health != nil {
			st = s.health()
		}
		ok := true
		names := make([]string, 0, len(st))
		for k, v := range st {
			names = append(names, k)
			if v != "OK" {
				ok = false
			}
		}
		sort.Strings(names)
		body := struct {
			Status     string            `json:"status"`
			Components map[string]string `json:"components"`
		}{Status: "ok", Components: st}
		code := http.StatusOK
		if !ok {
			body.Status = "failing"
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
	return mux
}

// Start listens on the address; an empty address does nothing.
func (s *Server) Start(ctx context.Context) error {
	if s.addr == "" {
		return nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("adminhttp: listen %s: %w", s.addr, err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin listener stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the bound address (after Start), or "".
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops the server; safe without Start.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Error(fmt.Sprint(v...)) }
