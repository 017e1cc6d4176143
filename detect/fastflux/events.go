package fastflux

import (
	"math"
	"slices"
	"time"

	"github.com/fluxhunt/fluxhunt/schema"
)

const maxEvidenceItems = 32

// NewDetection builds the fast_flux detection of a domain from a fast_flux
// result; firstSeen is the first probe round (it fixes the detection ID),
// lastSeen the latest. asnName may be nil.
func NewDetection(domain schema.Name, r Result, firstSeen, lastSeen time.Time, asnName func(uint32) string) schema.Detection {
	d := schema.NewDetection(schema.TypeFastFlux, domain.ASCII, firstSeen)
	d.Domain = domain.ASCII
	d.RegisteredDomain = domain.Registered
	d.LastSeen = lastSeen.Unix()
	d.Score = round3(r.Score)
	d.Confidence = round3(r.Confidence)
	d.Reasons = slices.Clone(r.Reasons)
	f := r.Features
	switch {
	case f.NSChanges > 0 || r.Confidence >= 0.9:
		d.Severity = "high"
	default:
		d.Severity = "medium"
	}
	asns := make([]map[string]any, 0, min(len(f.ASNs), maxEvidenceItems))
	for _, a := range f.ASNs[:min(len(f.ASNs), maxEvidenceItems)] {
		e := map[string]any{"asn": a}
		if asnName != nil {
			if n := asnName(a); n != "" {
				e["name"] = n
			}
		}
		asns = append(asns, e)
	}
	d.Evidence = map[string]any{
		"verdict":        r.Verdict,
		"features":       f,
		"asns":           asns,
		"addresses":      f.Addrs[:min(len(f.Addrs), maxEvidenceItems)],
		"ns":             f.NS[:min(len(f.NS), maxEvidenceItems)],
		"holz_score":     round3(f.Holz),
		"probes":         f.Probes,
		"ttl_min":        f.TTLMin,
		"ttl_max":        f.TTLMax,
		"authoritative":  f.Authoritative,
		"double_flux":    f.NSChanges > 0,
		"addresses_seen": f.NA,
	}
	return d
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// NewProbeEvent builds the fluxhunt:probe summary of one round. instance is
// this fluxhunt (src); verdict is the verdict after this round ("" to omit).
func NewProbeEvent(domain schema.Name, o Observation, instance, verdict string) schema.ProbeEvent {
	ev := schema.ProbeEvent{
		SchemaVersion:    schema.SchemaVersion,
		Query:            domain.ASCII,
		Domain:           domain.ASCII,
		RegisteredDomain: domain.Registered,
		Round:            o.Round,
		RecordType:       "A",
		MessageType:      "Response",
		ReplyCodeID:      o.RCode,
		Src:              instance,
		Dest:             slices.Clone(o.Servers),
		Authoritative:    o.Authoritative,
		Answer:           make([]string, 0, len(o.Answers)),
		AnswerCount:      len(o.Answers),
		TTL:              int64(o.TTLMin),
		TTLMax:           int64(o.TTLMax),
		ASNs:             []uint32{},
		NS:               slices.Clone(o.NS),
		ResponseTime:     math.Round(float64(o.RTT.Microseconds())) / 1000,
		Verdict:          verdict,
		Transport:        o.Transport,
		VendorProduct:    schema.VendorProduct,
	}
	if ev.Dest == nil {
		ev.Dest = []string{}
	}
	if ev.Transport == "" {
		ev.Transport = "udp"
	}
	if o.RCode == RCodeNoReply {
		ev.MessageType = "Timeout"
		ev.ReplyCode = "NoReply"
	} else {
		ev.ReplyCode = schema.RCode(o.RCode).String()
	}
	hasV6 := false
	for _, a := range o.Answers {
		ev.Answer = append(ev.Answer, a.Addr.String())
		if a.ASN != 0 && !slices.Contains(ev.ASNs, a.ASN) {
			ev.ASNs = append(ev.ASNs, a.ASN)
		}
		if a.Addr.Is6() && !a.Addr.Is4In6() {
			hasV6 = true
		}
	}
	slices.Sort(ev.ASNs)
	if hasV6 {
		ev.RecordType = "A,AAAA"
	}
	return ev
}
