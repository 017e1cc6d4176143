package splunkemu

import "net/http"

// searchAPI serves the REST search API (issue 2 fills it).
type searchAPI struct{ s *Server }

func newSearchAPI(s *Server) *searchAPI { return &searchAPI{s: s} }

func (a *searchAPI) handler() http.Handler { return http.NewServeMux() }
