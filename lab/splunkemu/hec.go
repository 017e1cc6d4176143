package splunkemu

import "net/http"

// hecAPI serves the HTTP Event Collector (issue 3 fills it).
type hecAPI struct{ s *Server }

func newHECAPI(s *Server) *hecAPI { return &hecAPI{s: s} }

func (a *hecAPI) handler() http.Handler { return http.NewServeMux() }
