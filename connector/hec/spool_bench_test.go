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
