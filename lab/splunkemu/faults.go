package splunkemu

import "sync"

// Faults holds the faults to inject; search.go and hec.go consult it.
// Fields are set through methods so that tests can flip them while the
// emulator serves.
type Faults struct {
	mu sync.Mutex
	f  FaultSet
}

// FaultSet is a snapshot of the injected faults. The search and HEC helpers
// extend it.
type FaultSet struct{}

// Set replaces the injected faults.
func (f *Faults) Set(fs FaultSet) { f.mu.Lock(); f.f = fs; f.mu.Unlock() }

// Get returns the current faults.
func (f *Faults) Get() FaultSet { f.mu.Lock(); defer f.mu.Unlock(); return f.f }
