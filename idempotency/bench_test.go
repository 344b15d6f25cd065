package idempotency_test

import (
	"context"
	"database/sql"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distsync/distsync/idempotency"
)

// benchKeys returns n distinct keys.
func benchKeys(n int, prefix string) []idempotency.Key {
	keys := make([]idempotency.Key, n)
	for i := range keys {
		keys[i] = idempotency.Derive("bench", prefix, strconv.Itoa(i))
	}
	return keys
}

var benchResult = idempotency.Result{Data: []byte(`{"charge_id":"ch_1","amount":"120.00"}`)}

// claimComplete claims k and completes it, failing b on any surprise.
func claimComplete(b *testing.B, ctx context.Context, s idempotency.Store, k idempotency.Key) {
	c, err := s.Claim(ctx, k, idempotency.Fingerprint{}, time.Minute)
	if err != nil || c.Status != idempotency.Claimed {
		b.Fatalf("Claim(%s) = %v, %v; want claimed", k, c.Status, err)
	}
	if err := s.Complete(ctx, c.Lease, benchResult); err != nil {
		b.Fatalf("Complete(%s): %v", k, err)
	}
}

// The memory store benchmarks cycle through a fixed working set of keys
// with a retention of 1ns, so each claim finds the previous record of its
// key expired and replaces it: the steady state of a store whose reaper
// keeps up, without the map growing for the whole run. The working set
// size matters (cache misses), so two are measured.
var memoryWorkingSets = []int{1 << 12, 1 << 16}

func BenchmarkMemoryStoreClaimComplete(b *testing.B) {
	for _, n := range memoryWorkingSets {
		b.Run("keys="+strconv.Itoa(n), func(b *testing.B) {
			s := newMemoryStore(b, idempotency.MemoryConfig{Retention: time.Nanosecond, ReapInterval: -1})
			keys := benchKeys(n, "serial")
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				claimComplete(b, ctx, s, keys[i&(n-1)])
				i++
			}
		})
	}
}

// BenchmarkMemoryStoreClaimCompleteParallel splits the same working sets
// among GOMAXPROCS goroutines, each cycling through its own share.
func BenchmarkMemoryStoreClaimCompleteParallel(b *testing.B) {
	for _, n := range memoryWorkingSets {
		b.Run("keys="+strconv.Itoa(n), func(b *testing.B) {
			s := newMemoryStore(b, idempotency.MemoryConfig{Retention: time.Nanosecond, ReapInterval: -1})
			groups := runtime.GOMAXPROCS(0)
			perG := n / groups
			keys := benchKeys(groups*perG, "parallel")
			var next atomic.Int32
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				g := int(next.Add(1)-1) % groups
				mine := keys[g*perG : (g+1)*perG]
				i := 0
				for pb.Next() {
					claimComplete(b, ctx, s, mine[i%perG])
					i++
				}
			})
		})
	}
}

func BenchmarkDerive(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = idempotency.Derive("tenant-1", "ordertocash/accept", "order-4242", "7")
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = idempotency.Parse("8e03978e-40d5-43e8-bc93-6894a57f9324")
	}
}

func BenchmarkParseHeader(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = idempotency.ParseHeader(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, false)
	}
}

func BenchmarkDo(b *testing.B) {
	s := newMemoryStore(b, idempotency.MemoryConfig{Retention: time.Nanosecond, ReapInterval: -1})
	g := idempotency.Guard{Store: s}
	keys := benchKeys(1<<16, "do")
	ctx := context.Background()
	type receipt struct{ ID, Amount string }
	fn := func(context.Context) (receipt, error) { return receipt{"ch_1", "120.00"}, nil }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := idempotency.Do(ctx, g, keys[i&(len(keys)-1)], idempotency.Fingerprint{}, fn); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// benchSQL measures claim+complete of fresh keys with the given number of
// concurrent callers and reports operations per second.
func benchSQL(b *testing.B, db *sql.DB, dialect idempotency.Dialect, parallelism int) {
	s := newSQLStore(b, db, idempotency.SQLConfig{Dialect: dialect})
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(parallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			claimComplete(b, ctx, s, idempotency.Derive("bench", "sql", strconv.FormatInt(n.Add(1), 10)))
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkSQLiteClaimComplete(b *testing.B) {
	for _, p := range []int{1, 4} {
		b.Run("parallelism="+strconv.Itoa(p), func(b *testing.B) {
			benchSQL(b, openSQLite(b), idempotency.SQLite, p)
		})
	}
}

func BenchmarkPostgresClaimComplete(b *testing.B) {
	for _, p := range []int{1, 8} {
		b.Run("parallelism="+strconv.Itoa(p), func(b *testing.B) {
			db := openPostgres(b)
			db.SetMaxOpenConns(32)
			db.SetMaxIdleConns(32)
			benchSQL(b, db, idempotency.Postgres, p)
		})
	}
}
