package hec

import (
	"context"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func BenchmarkSpoolAppend(b *testing.B) {
	db, err := bolt.Open(b.TempDir()+"/s.db", 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sp, _, err := openSpool(db, 8<<30, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.close()
	rec := make([]byte, 500)
	b.ResetTimer()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		recs := make([][]byte, 0, 100)
		for pb.Next() {
			recs = append(recs, rec)
			if len(recs) == 500 {
				if err := sp.append(context.Background(), recs); err != nil {
					b.Error(err)
					return
				}
				recs = recs[:0]
			}
		}
	})
}

// BenchmarkSendSequential: one producer calling Send one event at a time
// (what a pipeline that does not batch pays): one durable commit per event.
func BenchmarkSendSequential(b *testing.B) {
	o := benchOptions(b.TempDir(), "http://127.0.0.1:9") // never started: spool only
	w, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Shutdown(context.Background())
	ev := benchEvent(1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.Send(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}
