package splunkemu

import (
	"sync"
	"time"
)

// Event is one stored event. Poll-search source data (DNS and flow events
// that the default searches aggregate) and HEC-written events share it.
type Event struct {
	Time       time.Time // _time
	IndexTime  time.Time // _indextime
	Index      string
	Sourcetype string
	Source     string
	Host       string
	Macro      string         // the source macro that selects it: fluxhunt_dns_source, fluxhunt_flow_source; "" for HEC events
	Fields     map[string]any // string or []string values; HEC events: the decoded event
	Raw        []byte         // HEC events: the event exactly as sent
}

// Store holds the emulator's events, safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	events []Event
}

func NewStore() *Store { return &Store{} }

// Add appends events.
func (st *Store) Add(evs ...Event) {
	st.mu.Lock()
	st.events = append(st.events, evs...)
	st.mu.Unlock()
}

// Select returns the events for which keep is true, in insertion order.
func (st *Store) Select(keep func(*Event) bool) []Event {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []Event
	for i := range st.events {
		if keep(&st.events[i]) {
			out = append(out, st.events[i])
		}
	}
	return out
}

// Len is the number of stored events.
func (st *Store) Len() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.events)
}

// From returns a copy of the events stored at position i and after, and the
// position after the last: a reader that keeps the position sees each event
// once without rescanning the store.
func (st *Store) From(i int) ([]Event, int) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if i < 0 {
		i = 0
	}
	if i >= len(st.events) {
		return nil, len(st.events)
	}
	return append([]Event(nil), st.events[i:]...), len(st.events)
}
