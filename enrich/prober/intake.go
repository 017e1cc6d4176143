package prober

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/fluxhunt/fluxhunt/schema"
)

// Prefilter thresholds on passive DNS rows (FluxBuster's candidate filter,
// loosened: one resolver's cache shows decremented TTLs and one answer).
const (
	rowLowTTL      = 300 // seconds
	rowVeryLowTTL  = 30
	rowManyAnswers = 4
)

// CandidateFromRow says whether a DNS row from Splunk is worth probing: a
// resolved A/AAAA answer with a low TTL and several addresses, or many
// addresses, or a very low TTL. The pipeline submits what it returns.
func CandidateFromRow(r schema.DNSRow) (Candidate, bool) {
	if r.ReplyCode != schema.RCodeNoError || r.Query.ASCII == "" {
		return Candidate{}, false
	}
	switch strings.ToUpper(r.RecordType) {
	case "A", "AAAA", "":
	default:
		return Candidate{}, false
	}
	n := 0
	for _, a := range r.Answers {
		if _, err := netip.ParseAddr(strings.TrimSpace(a)); err == nil {
			n++
		}
	}
	if n == 0 {
		return Candidate{}, false
	}
	low := r.TTL >= 0 && r.TTL <= rowLowTTL
	var reason string
	switch {
	case low && n >= 2:
		reason = fmt.Sprintf("TTL %d s with %d addresses in DNS logs", r.TTL, n)
	case n >= rowManyAnswers:
		reason = fmt.Sprintf("%d addresses in one DNS log row", n)
	case r.TTL >= 0 && r.TTL <= rowVeryLowTTL:
		reason = fmt.Sprintf("TTL %d s in DNS logs", r.TTL)
	default:
		return Candidate{}, false
	}
	return Candidate{Name: r.Query.ASCII, Reason: reason, Priority: PriorityLowTTL + min(n, 10), Added: r.Time}, true
}
