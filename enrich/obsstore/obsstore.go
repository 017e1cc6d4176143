// Package obsstore keeps the prober's state in bbolt: per-domain probe
// history (answers, TTLs, ASNs, NS sets; bounded in rounds per domain, in
// domains, and by retention) and the candidate queue across restarts.
package obsstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fluxhunt/fluxhunt/detect/fastflux"
)

var (
	bucketObs   = []byte("probe_history")
	bucketQueue = []byte("probe_queue")
)

// Candidate is a domain waiting to be probed.
type Candidate struct {
	Name     string    `json:"name"`
	Reason   string    `json:"reason"`
	Priority int       `json:"priority"`
	Added    time.Time `json:"added"`
}

// History is a domain's stored probe record.
type History struct {
	Domain  string                 `json:"domain"`
	Updated time.Time              `json:"updated"`
	Verdict string                 `json:"verdict,omitempty"` // final verdict of the last plan; "" while a plan is open
	Rounds  []fastflux.Observation `json:"rounds"`
}

// Options bound the store.
type Options struct {
	MaxDomains int           // histories kept (oldest updated dropped first); default 100000
	MaxRounds  int           // rounds kept per domain; default 16
	Retention  time.Duration // histories not updated for this long are dropped; default 7 days
}

// Store is the observation store. Safe for concurrent use.
type Store struct {
	db   *bolt.DB
	opts Options
	own  bool
}

// Open opens (creating) the bbolt file at path.
func Open(path string, opts Options) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("obsstore: open %s: %w", path, err)
	}
	s, err := New(db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// New uses an already open bbolt database (the process's one state file).
func New(db *bolt.DB, opts Options) (*Store, error) {
	if opts.MaxDomains <= 0 {
		opts.MaxDomains = 100000
	}
	if opts.MaxRounds <= 0 {
		opts.MaxRounds = 16
	}
	if opts.Retention <= 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketObs, bucketQueue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("obsstore: init: %w", err)
	}
	return &Store{db: db, opts: opts}, nil
}

// Close closes the file when Open opened it.
func (s *Store) Close() error {
	if s == nil || !s.own {
		return nil
	}
	return s.db.Close()
}

// Append adds one round to domain's history, keeping the last MaxRounds.
func (s *Store) Append(domain string, o fastflux.Observation, verdict string, now time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketObs)
		var h History
		if v := b.Get([]byte(domain)); v != nil {
			if err := json.Unmarshal(v, &h); err != nil {
				h = History{} // unreadable record: start again
			}
		}
		h.Domain = domain
		h.Updated = now.UTC()
		h.Verdict = verdict // "" while the domain's plan is open
		h.Rounds = append(h.Rounds, o)
		if len(h.Rounds) > s.opts.MaxRounds {
			h.Rounds = slices.Clone(h.Rounds[len(h.Rounds)-s.opts.MaxRounds:])
		}
		v, err := json.Marshal(h)
		if err != nil {
			return err
		}
		return b.Put([]byte(domain), v)
	})
	if err != nil {
		return fmt.Errorf("obsstore: append %s: %w", domain, err)
	}
	return nil
}

// OpenPlan returns the rounds of the domain's current plan when it is still
// open (no final verdict yet): the trailing rounds from the last round 1.
func (h History) OpenPlan() []fastflux.Observation {
	if h.Verdict != "" {
		return nil
	}
	for i := len(h.Rounds) - 1; i >= 0; i-- {
		if h.Rounds[i].Round == 1 {
			return h.Rounds[i:]
		}
	}
	return nil
}

// History returns domain's record, or false.
func (s *Store) History(domain string) (History, bool, error) {
	var h History
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketObs).Get([]byte(domain))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &h)
	})
	if err != nil {
		return History{}, false, fmt.Errorf("obsstore: history %s: %w", domain, err)
	}
	return h, found, nil
}

// Len counts stored histories.
func (s *Store) Len() int {
	n := 0
	_ = s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketObs).Stats().KeyN
		return nil
	})
	return n
}

// Prune drops histories older than the retention, then the oldest beyond
// MaxDomains. It returns how many it dropped.
func (s *Store) Prune(now time.Time) (int, error) {
	type kt struct {
		k string
		t time.Time
	}
	var all []kt
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketObs).ForEach(func(k, v []byte) error {
			var h struct {
				Updated time.Time `json:"updated"`
			}
			_ = json.Unmarshal(v, &h) // unreadable: zero time, dropped first
			all = append(all, kt{string(k), h.Updated})
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("obsstore: prune: %w", err)
	}
	slices.SortFunc(all, func(a, b kt) int { return a.t.Compare(b.t) })
	cut := now.Add(-s.opts.Retention)
	var drop []string
	for i, e := range all {
		if e.t.Before(cut) || len(all)-i > s.opts.MaxDomains {
			drop = append(drop, e.k)
		}
	}
	if len(drop) == 0 {
		return 0, nil
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketObs)
		for _, k := range drop {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("obsstore: prune: %w", err)
	}
	return len(drop), nil
}

// SaveQueue replaces the stored queue.
func (s *Store) SaveQueue(items []Candidate) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketQueue); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
		b, err := tx.CreateBucket(bucketQueue)
		if err != nil {
			return err
		}
		for _, c := range items {
			v, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(c.Name), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("obsstore: save queue: %w", err)
	}
	return nil
}

// UpdateQueue stores and removes queue entries in one transaction (the
// prober's write-through of changes since its last flush).
func (s *Store) UpdateQueue(put []Candidate, del []string) error {
	if len(put) == 0 && len(del) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQueue)
		for _, n := range del {
			if err := b.Delete([]byte(n)); err != nil {
				return err
			}
		}
		for _, c := range put {
			v, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(c.Name), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("obsstore: update queue: %w", err)
	}
	return nil
}

// LoadQueue returns the stored queue (unreadable entries skipped).
func (s *Store) LoadQueue() ([]Candidate, error) {
	var out []Candidate
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketQueue).ForEach(func(k, v []byte) error {
			var c Candidate
			if json.Unmarshal(v, &c) == nil && c.Name != "" {
				out = append(out, c)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("obsstore: load queue: %w", err)
	}
	return out, nil
}
