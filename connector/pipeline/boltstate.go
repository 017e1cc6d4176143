package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

var stateBucket = []byte("pipeline")

// BoltState is a StateStore in a bbolt file.
type BoltState struct{ db *bolt.DB }

// OpenBoltState opens (creating) the state file, with a timeout on the file
// lock so that a second instance on the same state_dir fails clearly.
func OpenBoltState(path string) (*BoltState, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("pipeline: state dir: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("pipeline: open state %s: %w (is another fluxhunt using this state_dir?)", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(stateBucket); return err }); err != nil {
		db.Close()
		return nil, fmt.Errorf("pipeline: init state: %w", err)
	}
	return &BoltState{db: db}, nil
}

// NewBoltState uses an already open database (one state file shared by
// several parts).
func NewBoltState(db *bolt.DB) (*BoltState, error) {
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(stateBucket); return err }); err != nil {
		return nil, fmt.Errorf("pipeline: init state: %w", err)
	}
	return &BoltState{db: db}, nil
}

func (s *BoltState) Put(key string, value []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(stateBucket).Put([]byte(key), value) })
}

func (s *BoltState) Get(key string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(stateBucket).Get([]byte(key)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// Close closes the file.
func (s *BoltState) Close() error { return s.db.Close() }
