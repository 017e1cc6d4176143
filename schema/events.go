package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// SchemaVersion is carried by every event fluxhunt writes.
const SchemaVersion = 1

// Sourcetypes of the events fluxhunt writes.
const (
	SourcetypeDetection = "fluxhunt:detection"
	SourcetypeProbe     = "fluxhunt:probe"
	SourcetypeHealth    = "fluxhunt:health"
	Source              = "fluxhunt"
	VendorProduct       = "fluxhunt"
)

// Detection types.
const (
	TypeFastFlux      = "fast_flux"
	TypeDGA           = "dga"
	TypeNXDomainStorm = "nxdomain_storm"
	TypeFluxContact   = "flux_contact"
)

// DetectionKind holds the fixed attributes of a detection type.
type DetectionKind struct {
	Type        string
	Signature   string
	SignatureID string
	MITRE       string
}

// Kinds lists the detection types of DESIGN.md.
var Kinds = map[string]DetectionKind{
	TypeFastFlux:      {TypeFastFlux, "Fast-flux domain", "FH-FF", "T1568.001"},
	TypeDGA:           {TypeDGA, "Host querying algorithmically generated domains", "FH-DGA", "T1568.002"},
	TypeNXDomainStorm: {TypeNXDomainStorm, "NXDOMAIN storm from host", "FH-NX", "T1568.002"},
	TypeFluxContact:   {TypeFluxContact, "Host contacted fast-flux infrastructure", "FH-FC", "T1568.001"},
}

// Severities, lowest first.
var Severities = []string{"informational", "low", "medium", "high", "critical"}

// Detection is the event of sourcetype fluxhunt:detection.
type Detection struct {
	SchemaVersion    int            `json:"schema_version"`
	DetectionID      string         `json:"detection_id"`
	Revision         int            `json:"revision"`
	DetectionType    string         `json:"detection_type"`
	Signature        string         `json:"signature"`
	SignatureID      string         `json:"signature_id"`
	Severity         string         `json:"severity"`
	Confidence       float64        `json:"confidence"`
	Score            float64        `json:"score"`
	Src              string         `json:"src,omitempty"`
	Dest             string         `json:"dest,omitempty"`
	Domain           string         `json:"domain,omitempty"`
	RegisteredDomain string         `json:"registered_domain,omitempty"`
	CampaignID       string         `json:"campaign_id,omitempty"`
	CampaignSize     int            `json:"campaign_size,omitempty"`
	CampaignHosts    []string       `json:"campaign_hosts,omitempty"`
	MITRETechniqueID string         `json:"mitre_technique_id"`
	FirstSeen        int64          `json:"first_seen"`
	LastSeen         int64          `json:"last_seen"`
	Reasons          []string       `json:"reasons"`
	Evidence         map[string]any `json:"evidence,omitempty"`
	ModelVersion     string         `json:"model_version,omitempty"`
	VendorProduct    string         `json:"vendor_product"`
	IDSType          string         `json:"ids_type"`
	Category         string         `json:"category"`
	Action           string         `json:"action"`
}

// NewDetection fills the fixed fields of a detection of the given type and
// subject, first seen at firstSeen; the caller sets the rest. Revision
// starts at 1.
func NewDetection(detectionType, subject string, firstSeen time.Time) Detection {
	k := Kinds[detectionType]
	return Detection{
		SchemaVersion:    SchemaVersion,
		DetectionID:      DetectionID(detectionType, subject, firstSeen),
		Revision:         1,
		DetectionType:    detectionType,
		Signature:        k.Signature,
		SignatureID:      k.SignatureID,
		MITRETechniqueID: k.MITRE,
		FirstSeen:        firstSeen.Unix(),
		LastSeen:         firstSeen.Unix(),
		Reasons:          []string{},
		VendorProduct:    VendorProduct,
		IDSType:          "network",
		Category:         "command-and-control",
		Action:           "allowed",
	}
}

// DetectionID is the hex SHA-256 of detection_type + subject + the UTC day of
// first_seen (YYYY-MM-DD), joined by NUL bytes so that no two inputs collide.
func DetectionID(detectionType, subject string, firstSeen time.Time) string {
	h := sha256.New()
	h.Write([]byte(detectionType))
	h.Write([]byte{0})
	h.Write([]byte(subject))
	h.Write([]byte{0})
	h.Write([]byte(firstSeen.UTC().Format("2006-01-02")))
	return hex.EncodeToString(h.Sum(nil))
}

// ProbeEvent is the event of sourcetype fluxhunt:probe: one summary per
// domain per probe round, CIM Network_Resolution compatible.
type ProbeEvent struct {
	SchemaVersion    int      `json:"schema_version"`
	Query            string   `json:"query"`
	Domain           string   `json:"domain"`
	RegisteredDomain string   `json:"registered_domain,omitempty"`
	Round            int      `json:"round"`
	RecordType       string   `json:"record_type"`
	MessageType      string   `json:"message_type"` // "Response"
	ReplyCode        string   `json:"reply_code"`
	ReplyCodeID      int      `json:"reply_code_id"`
	Src              string   `json:"src"`  // the fluxhunt instance
	Dest             []string `json:"dest"` // servers asked
	Authoritative    bool     `json:"authoritative"`
	Answer           []string `json:"answer"`
	AnswerCount      int      `json:"answer_count"`
	TTL              int64    `json:"ttl"` // minimum answer TTL
	TTLMax           int64    `json:"ttl_max"`
	ASNs             []uint32 `json:"asns"`
	NS               []string `json:"ns,omitempty"`
	ResponseTime     float64  `json:"response_time"` // milliseconds
	Verdict          string   `json:"verdict,omitempty"`
	Transport        string   `json:"transport"`
	VendorProduct    string   `json:"vendor_product"`
}

// HealthEvent is the event of sourcetype fluxhunt:health: cumulative
// counters, sent once a minute.
type HealthEvent struct {
	SchemaVersion      int               `json:"schema_version"`
	Instance           string            `json:"instance"`
	Version            string            `json:"version"`
	ModelVersion       string            `json:"model_version"`
	Status             string            `json:"status"` // ok, degraded, failing
	UptimeSeconds      int64             `json:"uptime_seconds"`
	LagSeconds         float64           `json:"lag_seconds"`
	Checkpoint         int64             `json:"checkpoint"`
	RowsRead           int64             `json:"rows_read"`
	RowsSkipped        int64             `json:"rows_skipped"`
	ProbesSent         int64             `json:"probes_sent"`
	Detections         int64             `json:"detections"`
	EventsSpooled      int64             `json:"events_spooled"`
	EventsSent         int64             `json:"events_sent"`
	EventsAcked        int64             `json:"events_acked"`
	EventsDeadLettered int64             `json:"events_dead_lettered"`
	SpoolBytes         int64             `json:"spool_bytes"`
	Errors             int64             `json:"errors"`
	Checks             map[string]string `json:"checks,omitempty"` // component -> "OK" or failure text
}

// Envelope is one HEC event envelope (/services/collector/event).
type Envelope struct {
	Time       float64        `json:"time"`
	Host       string         `json:"host,omitempty"`
	Source     string         `json:"source,omitempty"`
	Sourcetype string         `json:"sourcetype,omitempty"`
	Index      string         `json:"index,omitempty"`
	Event      any            `json:"event"`
	Fields     map[string]any `json:"fields,omitempty"`
}

// EpochSeconds gives the envelope time of t with millisecond precision.
func EpochSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}
