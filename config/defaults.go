package config

import (
	"os"
	"time"
)

// DefaultDNSSearch is the default poll search for DNS rows: CIM
// Network_Resolution data through the fluxhunt_dns_source macro, aggregated on
// the indexers to one row per (src, query, record_type, reply_code). The
// window is passed as index_earliest/index_latest search parameters.
const DefaultDNSSearch = "search `fluxhunt_dns_source`" +
	"{{if gt .Shards 1}} | where tonumber(substr(md5(src),1,8),16) % {{.Shards}} == {{.Shard}}{{end}}" +
	" | eval reply_code=coalesce(reply_code, \"NoError\"), record_type=coalesce(record_type, query_type, \"A\")" +
	" | stats min(_time) as _time min(ttl) as ttl values(answer) as answer values(dest) as dest count by src query record_type reply_code" +
	"{{if gt .Limit 0}} | head {{.Limit}}{{end}}"

// DefaultFlowSearch is the default poll search for flow rows: CIM
// Network_Traffic data through the fluxhunt_flow_source macro, one row per
// (src, dest, dest_port, transport).
const DefaultFlowSearch = "search `fluxhunt_flow_source`" +
	"{{if gt .Shards 1}} | where tonumber(substr(md5(src),1,8),16) % {{.Shards}} == {{.Shard}}{{end}}" +
	" | stats min(_time) as _time sum(bytes) as bytes sum(packets) as packets count by src dest dest_port transport" +
	"{{if gt .Limit 0}} | head {{.Limit}}{{end}}"

// Default returns the configuration with every default of DESIGN.md.
func Default() Config {
	host, _ := os.Hostname()
	if host == "" {
		host = "fluxhunt"
	}
	d := func(x time.Duration) Duration { return Duration(x) }
	return Config{
		Instance: host,
		Splunk: Splunk{
			Search: Search{Timeout: d(2 * time.Minute)},
			HEC: HEC{
				Index:         "fluxhunt",
				AckTimeout:    d(5 * time.Minute),
				AckPoll:       d(10 * time.Second),
				BatchBytes:    1 << 20,
				BatchEvents:   1000,
				Linger:        d(time.Second),
				GzipLevel:     1,
				MaxEventBytes: 5 << 20,
				Timeout:       d(30 * time.Second),
			},
			Spool: Spool{MaxBytes: 1 << 30, Overflow: "block"},
		},
		Poll: Poll{
			Interval:        d(60 * time.Second),
			Lag:             d(30 * time.Second),
			MaxEventAge:     d(24 * time.Hour),
			InitialLookback: d(time.Hour),
			MaxWindow:       d(time.Hour),
			Shard:           Shard{Index: 0, Count: 1},
			Limit:           0,
			DNSSearch:       DefaultDNSSearch,
			FlowSearch:      DefaultFlowSearch,
			Flows:           true,
		},
		DNS: DNS{
			Resolvers:         []string{"127.0.0.1:53"},
			Authoritative:     true,
			AuthoritativePort: 53,
			Timeout:           d(2 * time.Second),
			Retries:           2,
		},
		Probe: Probe{
			Concurrency:   64,
			RateTotal:     200,
			RatePerServer: 10,
			MaxProbes:     3,
			MinInterval:   d(30 * time.Second),
			QueueSize:     10000,
			MaxDomains:    100000,
			Retention:     d(7 * 24 * time.Hour),
			SampleEvents:  1,
		},
		Detect: Detect{
			Windows:        []Duration{d(5 * time.Minute), d(time.Hour)},
			SuppressWindow: d(6 * time.Hour),
			FlowLookback:   d(24 * time.Hour),
		},
		StateDir:        "/var/lib/fluxhunt",
		Listen:          "127.0.0.1:9464",
		ShutdownTimeout: d(10 * time.Second),
		Log:             Log{Level: "info", Format: "text"},
	}
}
