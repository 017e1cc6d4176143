package splunkemu

import "time"

// HECFaults are the faults the HEC side injects, deterministically by
// request count so that runs repeat. A zero field injects nothing.
type HECFaults struct {
	// BurstEvery starts a burst of BurstLen answers with BurstCode (default 9,
	// "Server is busy", HTTP 503) every BurstEvery event requests.
	BurstEvery int
	BurstLen   int
	BurstCode  int
	RetryAfter int // seconds, sent as Retry-After on burst answers; 0: none
	// LatencyEvery delays every LatencyEvery-th request (event or ack) by
	// Latency.
	LatencyEvery int
	Latency      time.Duration
	// ResetBeforeEvery drops the connection of every n-th request before
	// reading it (nothing stored); ResetAfterEvery drops the n-th event
	// request (ack polls not counted, so the fault fires however a sender
	// interleaves its polls) after its events were stored (the sender cannot
	// know: it resends, a duplicate).
	ResetBeforeEvery int
	ResetAfterEvery  int
	// LoseAckEvery: every n-th acknowledged request's ackId never turns true.
	LoseAckEvery int
	// ShuttingDown answers 23 on every request until cleared.
	ShuttingDown bool
}

// hecFaultState counts requests for the deterministic faults.
type hecFaultState struct {
	n         int64 // event and ack requests seen
	events    int64 // event requests seen
	acks      int64 // ack-carrying successes seen
	burstLeft int
}

// hecAction is what to do with one request.
type hecAction struct {
	delay       time.Duration
	resetBefore bool
	resetAfter  bool
	busyCode    int
	retryAfter  int
	loseAck     bool
}

// SetHECFaults replaces the HEC faults (and restarts their counters).
func (s *Server) SetHECFaults(f HECFaults) {
	s.hec.mu.Lock()
	s.hec.faults = f
	s.hec.fstate = hecFaultState{}
	s.hec.mu.Unlock()
}

// SetHECDiscard makes HEC validate and acknowledge events without storing
// them (load tests that would otherwise fill memory).
func (s *Server) SetHECDiscard(on bool) {
	s.hec.mu.Lock()
	s.hec.discard = on
	s.hec.mu.Unlock()
}

// HECStats are the HEC side's counters.
type HECStats struct {
	Requests int64 // event requests
	Accepted int64 // events accepted (stored, or counted when discarding)
	// Events stored in requests whose answer a fault then lost: a reset
	// after storing, or an ackId that never turns true. A sender that
	// loses nothing must resend them: each is a duplicate.
	ResetAfterEvents int64
	LostAckEvents    int64
}

// HECStats returns the HEC counters.
func (s *Server) HECStats() HECStats {
	s.hec.mu.Lock()
	defer s.hec.mu.Unlock()
	return HECStats{Requests: s.hec.requests, Accepted: s.hec.accepted,
		ResetAfterEvents: s.hec.resetAfterEvents, LostAckEvents: s.hec.lostAckEvents}
}

// faultAction decides the faults for the next request.
func (a *hecAPI) faultAction(event bool) hecAction {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := &a.faults
	st := &a.fstate
	st.n++
	var act hecAction
	if f.ShuttingDown {
		act.busyCode = HECShuttingDown
		return act
	}
	if f.LatencyEvery > 0 && st.n%int64(f.LatencyEvery) == 0 {
		act.delay = f.Latency
	}
	if f.ResetBeforeEvery > 0 && st.n%int64(f.ResetBeforeEvery) == 0 {
		act.resetBefore = true
		return act
	}
	if !event {
		return act
	}
	st.events++
	if st.burstLeft == 0 && f.BurstEvery > 0 && f.BurstLen > 0 && st.events%int64(f.BurstEvery) == 0 {
		st.burstLeft = f.BurstLen
	}
	if st.burstLeft > 0 {
		st.burstLeft--
		act.busyCode = f.BurstCode
		if act.busyCode == 0 {
			act.busyCode = HECServerBusy
		}
		act.retryAfter = f.RetryAfter
		return act
	}
	if f.ResetAfterEvery > 0 && st.events%int64(f.ResetAfterEvery) == 0 {
		act.resetAfter = true
	}
	if f.LoseAckEvery > 0 {
		st.acks++
		act.loseAck = st.acks%int64(f.LoseAckEvery) == 0
	}
	return act
}
