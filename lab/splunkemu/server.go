// Package splunkemu is a Splunk emulator speaking the real wire protocols: the
// REST search API of the management port (search.go) and the HTTP Event
// Collector (hec.go), over one shared event store (store.go), with fault
// injection (faults.go). Tests, the lab and `fluxhunt lab --splunk-only` use
// it; Splunk's own clients (Python splunk-sdk, Node splunk-logging) work
// against it unchanged.
package splunkemu

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Options configures an emulator. Zero values pick sensible lab defaults.
type Options struct {
	SearchListen string // "127.0.0.1:8089"; "" disables the REST API
	HECListen    string // "127.0.0.1:8088"; "" disables HEC
	SearchToken  string // bearer token accepted by the REST API
	Username     string // login for /services/auth/login
	Password     string
	Version      string // reported by /services/server/info, default "9.3.1"
	// HECTokens maps an HEC token to its settings.
	HECTokens map[string]HECToken
	TLS       *tls.Config // nil: plain HTTP
	Logger    *slog.Logger
}

// HECToken is one HEC input: the indexes it may write, its default index,
// whether indexer acknowledgement is on, and whether it is disabled.
type HECToken struct {
	Indexes      []string // allowed indexes; empty: any
	DefaultIndex string
	UseACK       bool
	Disabled     bool
}

// Server is a running emulator.
type Server struct {
	opts   Options
	log    *slog.Logger
	store  *Store
	faults *Faults

	mu        sync.Mutex
	servers   []*http.Server
	listeners []net.Listener
	searchURL string
	hecURL    string
	started   bool

	search *searchAPI // search.go
	hec    *hecAPI    // hec.go
}

// New makes an emulator; Start makes it listen.
func New(opts Options) *Server {
	if opts.Version == "" {
		opts.Version = "9.3.1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger, store: NewStore(), faults: &Faults{}}
	s.search = newSearchAPI(s)
	s.hec = newHECAPI(s)
	return s
}

// Store is the emulator's event store: the rows the poll searches return and
// the events written over HEC.
func (s *Server) Store() *Store { return s.store }

// Faults is the fault-injection switchboard.
func (s *Server) Faults() *Faults { return s.faults }

// SearchURL is the base URL of the REST API ("http://127.0.0.1:PORT").
func (s *Server) SearchURL() string { s.mu.Lock(); defer s.mu.Unlock(); return s.searchURL }

// HECURL is the base URL of HEC.
func (s *Server) HECURL() string { s.mu.Lock(); defer s.mu.Unlock(); return s.hecURL }

// Start listens on the configured addresses (port 0 picks a free one).
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("splunkemu: already started")
	}
	scheme := "http"
	if s.opts.TLS != nil {
		scheme = "https"
	}
	start := func(addr string, h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return "", fmt.Errorf("splunkemu: listen %s: %w", addr, err)
		}
		if s.opts.TLS != nil {
			ln = tls.NewListener(ln, s.opts.TLS)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		s.listeners = append(s.listeners, ln)
		go func() { _ = srv.Serve(ln) }()
		return scheme + "://" + ln.Addr().String(), nil
	}
	if s.opts.SearchListen != "" {
		u, err := start(s.opts.SearchListen, s.search.handler())
		if err != nil {
			s.closeLocked(ctx)
			return err
		}
		s.searchURL = u
	}
	if s.opts.HECListen != "" {
		u, err := start(s.opts.HECListen, s.hec.handler())
		if err != nil {
			s.closeLocked(ctx)
			return err
		}
		s.hecURL = u
	}
	s.started = true
	return nil
}

// Shutdown stops listening; safe without Start and more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked(ctx)
	return nil
}

func (s *Server) closeLocked(ctx context.Context) {
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
	s.servers, s.listeners = nil, nil
	s.started = false
}
