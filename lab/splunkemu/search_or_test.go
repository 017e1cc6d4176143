package splunkemu

import (
	"testing"
	"time"
)

func TestSearchOrGroups(t *testing.T) {
	s := New(Options{})
	t0 := time.Unix(1764172800, 0)
	s.AddFlowEvents(
		FlowEvent{Time: t0, IndexTime: t0, Src: "h1", Dest: "198.51.100.1", DestPort: 443, Transport: "tcp", Bytes: 10, Packets: 1},
		FlowEvent{Time: t0, IndexTime: t0, Src: "h2", Dest: "198.51.100.2", DestPort: 443, Transport: "tcp", Bytes: 20, Packets: 1},
		FlowEvent{Time: t0, IndexTime: t0, Src: "h3", Dest: "198.51.100.3", DestPort: 80, Transport: "tcp", Bytes: 30, Packets: 1},
	)
	res, err := s.search.runSearch("search `fluxhunt_flow_source` (dest=\"198.51.100.1\" OR dest=\"198.51.100.3\") | stats sum(bytes) as bytes count by src dest", splBounds{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.rows) != 2 || res.rows[0]["src"][0] != "h1" || res.rows[1]["src"][0] != "h3" {
		t.Fatalf("rows %v", res.rows)
	}
	if _, err := s.search.runSearch("search `fluxhunt_flow_source` (dest=\"198.51.100.1\" OR", splBounds{}); err == nil {
		t.Error("unbalanced parentheses accepted")
	}
	if _, err := s.search.runSearch("search `fluxhunt_flow_source` (dest=\"198.51.100.1\" OR NOT x)", splBounds{}); err == nil {
		t.Error("unsupported term in a group accepted")
	}
}
