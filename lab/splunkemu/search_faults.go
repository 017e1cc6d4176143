package splunkemu

import "time"

// SearchFaults are the faults injected into the REST search API. Rates are
// shares of requests in [0, 1] drawn from a generator seeded with Seed, so a
// run is reproducible; 1 makes a fault certain.
type SearchFaults struct {
	// Latency is added before every answer of the search API.
	Latency time.Duration
	// Status5xxRate answers search requests (export, jobs, results) with
	// 503 and Splunk's error body.
	Status5xxRate float64
	// SessionExpiryRate expires every session key before a request, which
	// is then answered 401 when it carried one (tokens are unaffected).
	SessionExpiryRate float64
	// CutStreamRate cuts an export stream in the middle of a row: the
	// connection is aborted without the end of the chunked body.
	CutStreamRate float64
	// MalformedRowRate adds one malformed line to an export stream (bad
	// JSON, or a row with a nested object where a string is expected),
	// besides the real rows.
	MalformedRowRate float64
	// ErrorMessageRate ends an export stream part-way with a message of
	// type ERROR instead of its remaining rows.
	ErrorMessageRate float64
	// RefuseExport answers the export endpoints 403, as a search head
	// whose role lacks export; clients must fall back to the job API.
	RefuseExport bool
	// Seed seeds the generator (0: 1).
	Seed uint64
}

// SearchSettings are behaviours of the search API that are not faults.
type SearchSettings struct {
	// MaxResultRows caps one /results page (limits.conf [restapi]
	// maxresultrows; default 50,000).
	MaxResultRows int
	// PreviewSets makes export of a transforming search stream a preview
	// set (preview:true) before the final results, as Splunk does for
	// searches that run a while.
	PreviewSets bool
}

// SetSearchFaults replaces the injected search faults.
func (s *Server) SetSearchFaults(f SearchFaults) {
	a := s.search
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = f
	a.reseed(f.Seed)
}

// SearchFaults returns the injected search faults.
func (s *Server) SearchFaults() SearchFaults {
	a := s.search
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.faults
}

// SetSearchSettings replaces the search settings.
func (s *Server) SetSearchSettings(st SearchSettings) {
	a := s.search
	a.mu.Lock()
	defer a.mu.Unlock()
	if st.MaxResultRows <= 0 {
		st.MaxResultRows = 50000
	}
	a.settings = st
}

// ExpireSessions invalidates every session key now.
func (s *Server) ExpireSessions() {
	a := s.search
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.sessions)
}

// SearchStats counts what the search API answered, for tests.
type SearchStats struct {
	Logins, Exports, JobsCreated, ResultPages             int
	Faults5xx, Expired401, Cuts, Malformed, ErrorMessages int
}

// SearchStats returns the counters.
func (s *Server) SearchStats() SearchStats {
	a := s.search
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// roll draws whether a fault of the given rate happens. Callers hold a.mu.
func (a *searchAPI) roll(rate float64) bool {
	if rate <= 0 {
		return false
	}
	if rate >= 1 {
		return true
	}
	return a.rng.Float64() < rate
}
