package hec

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// spoolBucket holds the spooled envelopes: key big-endian uint64 sequence,
// value the envelope's JSON exactly as it will be sent.
var spoolBucket = []byte("hec_spool")

// ErrSpoolClosed is returned by Send after Shutdown.
var ErrSpoolClosed = errors.New("hec: spool closed")

// spool is the durable queue: appends and deletes go through one committer
// goroutine that groups them into few bbolt transactions (one fsync for many
// producers).
type spool struct {
	db       *bolt.DB
	maxBytes int64
	dropOld  bool
	onDrop   func(n int, bytes int64)

	appendCh chan *appendReq
	deleteCh chan []uint64
	notify   chan struct{} // a tick per commit that added records
	freed    chan struct{} // a tick per commit that removed records
	quit     chan struct{}
	done     chan struct{}

	bytes    atomic.Int64
	count    atomic.Int64
	lastSeq  atomic.Uint64 // last committed sequence (0: none yet)
	appended atomic.Int64  // cumulative bytes appended (for linger decisions)

	closeOnce sync.Once
}

type appendReq struct {
	recs [][]byte
	size int64
	done chan error
}

func seqKey(s uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], s)
	return k[:]
}

// openSpool prepares the bucket and counts what a previous run left.
func openSpool(db *bolt.DB, maxBytes int64, dropOld bool, onDrop func(int, int64)) (*spool, uint64, error) {
	sp := &spool{
		db: db, maxBytes: maxBytes, dropOld: dropOld, onDrop: onDrop,
		appendCh: make(chan *appendReq, 1024),
		deleteCh: make(chan []uint64, 1024),
		notify:   make(chan struct{}, 1),
		freed:    make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	var first uint64
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(spoolBucket)
		if err != nil {
			return err
		}
		var n, size int64
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if first == 0 {
				first = binary.BigEndian.Uint64(k)
			}
			n++
			size += int64(len(v))
		}
		if k, _ := c.Last(); k != nil {
			sp.lastSeq.Store(binary.BigEndian.Uint64(k))
		}
		sp.count.Store(n)
		sp.bytes.Store(size)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("hec: open spool: %w", err)
	}
	if first == 0 {
		first = sp.lastSeq.Load() + 1
	}
	go sp.run()
	return sp, first, nil
}

// append stores records durably, blocking while the spool is full under the
// block policy.
func (sp *spool) append(ctx context.Context, recs [][]byte) error {
	req := &appendReq{recs: recs, done: make(chan error, 1)}
	for _, r := range recs {
		req.size += int64(len(r))
	}
	if req.size > sp.maxBytes {
		return fmt.Errorf("hec: spool: %d bytes at once exceed spool.max_bytes (%d)", req.size, sp.maxBytes)
	}
	select {
	case sp.appendCh <- req:
	case <-sp.quit:
		return ErrSpoolClosed
	case <-ctx.Done():
		return fmt.Errorf("hec: spool append: %w", ctx.Err())
	}
	select {
	case err := <-req.done:
		return err
	case <-sp.quit:
		// The committer finishes what it took before exiting.
		select {
		case err := <-req.done:
			return err
		case <-sp.done:
			select {
			case err := <-req.done:
				return err
			default:
				return ErrSpoolClosed
			}
		}
	case <-ctx.Done():
		return fmt.Errorf("hec: spool append (the event may still be spooled): %w", ctx.Err())
	}
}

// remove deletes delivered (or dead-lettered) records, asynchronously.
func (sp *spool) remove(keys []uint64) {
	if len(keys) == 0 {
		return
	}
	select {
	case sp.deleteCh <- keys:
	case <-sp.done:
	}
}

// read returns the records of keys still in the spool.
func (sp *spool) read(keys []uint64) ([]uint64, [][]byte, error) {
	var outK []uint64
	var outV [][]byte
	err := sp.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(spoolBucket)
		for _, k := range keys {
			if v := b.Get(seqKey(k)); v != nil {
				outK = append(outK, k)
				outV = append(outV, append([]byte(nil), v...))
			}
		}
		return nil
	})
	return outK, outV, err
}

// scan reads records from seq from onwards, up to the limits.
func (sp *spool) scan(from uint64, maxEvents int, maxBytes int64) ([]uint64, [][]byte, error) {
	var outK []uint64
	var outV [][]byte
	err := sp.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(spoolBucket).Cursor()
		var size int64
		for k, v := c.Seek(seqKey(from)); k != nil && len(outK) < maxEvents; k, v = c.Next() {
			if len(outK) > 0 && size+int64(len(v)) > maxBytes {
				break
			}
			size += int64(len(v))
			outK = append(outK, binary.BigEndian.Uint64(k))
			outV = append(outV, append([]byte(nil), v...))
		}
		return nil
	})
	return outK, outV, err
}

func (sp *spool) close() {
	sp.closeOnce.Do(func() { close(sp.quit) })
	<-sp.done
}

func tick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// run is the committer.
func (sp *spool) run() {
	defer close(sp.done)
	var pending []*appendReq
	var dels []uint64
	quitting := false
	for {
		blocked := len(pending) > 0 // waiting for room under the block policy
		if len(pending) == 0 && len(dels) == 0 {
			if quitting {
				return
			}
			select {
			case r := <-sp.appendCh:
				pending = append(pending, r)
			case d := <-sp.deleteCh:
				dels = append(dels, d...)
			case <-sp.quit:
				quitting = true
				continue
			}
		} else if blocked && len(dels) == 0 && !quitting {
			select {
			case d := <-sp.deleteCh:
				dels = append(dels, d...)
			case <-sp.quit:
				quitting = true
			}
		}
		// Gather whatever else is queued, bounded.
		var n int
		for _, p := range pending {
			n += len(p.recs)
		}
	gather:
		for n < 8192 && len(dels) < 65536 {
			if blocked {
				select {
				case d := <-sp.deleteCh:
					dels = append(dels, d...)
					continue
				default:
					break gather
				}
			}
			select {
			case r := <-sp.appendCh:
				pending = append(pending, r)
				n += len(r.recs)
			case d := <-sp.deleteCh:
				dels = append(dels, d...)
			default:
				break gather
			}
		}
		if quitting {
			// Drain what producers already handed over, then stop.
		drain:
			for {
				select {
				case r := <-sp.appendCh:
					pending = append(pending, r)
				case d := <-sp.deleteCh:
					dels = append(dels, d...)
				default:
					break drain
				}
			}
		}
		written, err := sp.commit(&pending, dels)
		dels = dels[:0]
		for _, r := range written {
			r.done <- err
		}
		if quitting {
			for _, r := range pending {
				r.done <- ErrSpoolClosed
			}
			pending = nil
		}
	}
}

// commit applies deletions, then the appends that fit, in one transaction.
// It returns the requests it wrote; the rest stay pending.
func (sp *spool) commit(pending *[]*appendReq, dels []uint64) ([]*appendReq, error) {
	var written []*appendReq
	var dBytes, dCount, dropped, droppedBytes int64
	var addBytes, addCount int64
	last := sp.lastSeq.Load()
	err := sp.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(spoolBucket)
		b.FillPercent = 1.0 // keys only ever grow
		slices.Sort(dels)
		c := b.Cursor()
		for i, k := range dels {
			if i > 0 && dels[i-1] == k {
				continue
			}
			key := seqKey(k)
			if ck, v := c.Seek(key); ck != nil && bytes.Equal(ck, key) {
				dBytes += int64(len(v))
				dCount++
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		size := sp.bytes.Load() - dBytes
		i := 0
		for ; i < len(*pending); i++ {
			r := (*pending)[i]
			if size+r.size > sp.maxBytes {
				if !sp.dropOld {
					break
				}
				c := b.Cursor()
				for k, v := c.First(); k != nil && size+r.size > sp.maxBytes; k, v = c.First() {
					size -= int64(len(v))
					dropped++
					droppedBytes += int64(len(v))
					if err := c.Delete(); err != nil {
						return err
					}
				}
			}
			for _, rec := range r.recs {
				last++
				if err := b.Put(seqKey(last), rec); err != nil {
					return err
				}
			}
			size += r.size
			addBytes += r.size
			addCount += int64(len(r.recs))
		}
		written = (*pending)[:i:i]
		*pending = (*pending)[i:]
		return nil
	})
	if err != nil {
		// Nothing of this transaction happened: fail the appends taken.
		all := append(written, *pending...)
		*pending = nil
		return all, fmt.Errorf("hec: spool commit: %w", err)
	}
	sp.lastSeq.Store(last)
	sp.bytes.Add(addBytes - dBytes - droppedBytes)
	sp.count.Add(addCount - dCount - dropped)
	sp.appended.Add(addBytes)
	if dropped > 0 && sp.onDrop != nil {
		sp.onDrop(int(dropped), droppedBytes)
	}
	if addCount > 0 {
		tick(sp.notify)
	}
	if dCount > 0 || dropped > 0 {
		tick(sp.freed)
	}
	return written, nil
}
