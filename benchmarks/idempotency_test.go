package benchmarks_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
)

// The workload: a stream of messages, each with a distinct deduplication
// key, each handled once (the common case), and the redelivery of a message
// already handled (the case deduplication exists for). distsync's
// MemoryStore does a claim and a complete per message (it must record the
// outcome after the handler, so that a failure is not recorded as done);
// Watermill's in-memory repository does one IsDuplicate, which marks the key
// seen before the handler runs. Both get the same pre-generated key strings;
// distsync's keys are validated with idempotency.Parse inside the timed
// loop, as a consumer would.

const keyCount = 1 << 18

var keys = func() []string {
	k := make([]string, keyCount)
	for i := range k {
		k[i] = "//wms.example/warehouse/7#shipment-" + strconv.Itoa(i)
	}
	return k
}()

var result = idempotency.Result{Data: []byte(`{"posted":true}`)}

func newDistsync(b *testing.B) *idempotency.MemoryStore {
	s, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1, MaxKeys: -1, MaxBytes: -1})
	require.NoError(b, err, "NewMemoryStore")
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// newWatermill returns Watermill's in-memory repository with a window long
// enough that its clean-up never runs during a benchmark. (Its clean-up
// goroutine cannot be stopped; each call leaks one.)
func newWatermill(b *testing.B) middleware.ExpiringKeyRepository {
	r, err := middleware.NewMapExpiringKeyRepository(time.Hour)
	require.NoError(b, err, "NewMapExpiringKeyRepository")
	return r
}

func distsyncOnce(b *testing.B, ctx context.Context, s *idempotency.MemoryStore, raw string) idempotency.Status {
	k, err := idempotency.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	c, err := s.Claim(ctx, k, idempotency.Fingerprint{}, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	if c.Status == idempotency.Claimed {
		if err := s.Complete(ctx, c.Lease, result); err != nil {
			b.Fatal(err)
		}
	}
	return c.Status
}

func BenchmarkIdempotencyNewKeys(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=distsync", func(b *testing.B) {
		s := newDistsync(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i == keyCount { // every key used: start over on an empty store
				b.StopTimer()
				s, i = newDistsync(b), 0
				b.StartTimer()
			}
			if st := distsyncOnce(b, ctx, s, keys[i]); st != idempotency.Claimed {
				b.Fatalf("new key %s: %v", keys[i], st)
			}
			i++
		}
	})
	b.Run("impl=watermill", func(b *testing.B) {
		r := newWatermill(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i == keyCount {
				b.StopTimer()
				r, i = newWatermill(b), 0
				b.StartTimer()
			}
			if dup, err := r.IsDuplicate(ctx, keys[i]); err != nil || dup {
				b.Fatalf("new key %s: duplicate %v, %v", keys[i], dup, err)
			}
			i++
		}
	})
}

func BenchmarkIdempotencyRedelivery(b *testing.B) {
	ctx := context.Background()
	const seen = 1 << 16
	b.Run("impl=distsync", func(b *testing.B) {
		s := newDistsync(b)
		for _, k := range keys[:seen] {
			distsyncOnce(b, ctx, s, k)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if st := distsyncOnce(b, ctx, s, keys[i&(seen-1)]); st != idempotency.Completed {
				b.Fatalf("redelivered key: %v", st)
			}
			i++
		}
	})
	b.Run("impl=watermill", func(b *testing.B) {
		r := newWatermill(b)
		for _, k := range keys[:seen] {
			_, _ = r.IsDuplicate(ctx, k)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if dup, err := r.IsDuplicate(ctx, keys[i&(seen-1)]); err != nil || !dup {
				b.Fatalf("redelivered key: duplicate %v, %v", dup, err)
			}
			i++
		}
	})
}

// BenchmarkIdempotencyNewKeysParallel is the new-keys workload from
// GOMAXPROCS goroutines. The key set is reused in generations of keyCount
// messages: whichever goroutine starts a generation swaps in a fresh, empty
// store, so keys stay new without the maps growing for the whole run. (A
// goroutine still on the old store at a swap may see a key as already
// seen; that is rare and the same for both.)
func BenchmarkIdempotencyNewKeysParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=distsync", func(b *testing.B) {
		var store atomic.Pointer[idempotency.MemoryStore]
		store.Store(newDistsync(b))
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := next.Add(1)
				if n%keyCount == 0 {
					store.Store(newDistsync(b))
				}
				distsyncOnce(b, ctx, store.Load(), keys[n%keyCount])
			}
		})
	})
	b.Run("impl=watermill", func(b *testing.B) {
		var repo atomic.Pointer[middleware.ExpiringKeyRepository]
		r := newWatermill(b)
		repo.Store(&r)
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := next.Add(1)
				if n%keyCount == 0 {
					fresh := newWatermill(b)
					repo.Store(&fresh)
				}
				if _, err := (*repo.Load()).IsDuplicate(ctx, keys[n%keyCount]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// TestRedeliveryAfterFailure shows the difference the benchmarks above pay
// for: Watermill's deduplicator marks a message seen before its handler
// runs, so when the handler fails and the broker redelivers the message,
// the redelivery is dropped and the effect never happens. distsync's
// HandleEvent releases the key after the failure and runs the handler on
// redelivery.
func TestRedeliveryAfterFailure(t *testing.T) {
	newHandler := func() (func() error, *[]string) {
		var effects []string
		calls := 0
		return func() error {
			calls++
			if calls == 1 {
				return errors.New("ERP unavailable")
			}
			effects = append(effects, "shipment posted")
			return nil
		}, &effects
	}

	t.Run("watermill drops the redelivery", func(t *testing.T) {
		handle, effects := newHandler()
		d := &middleware.Deduplicator{KeyFactory: middleware.NewMessageHasherFromMetadataField("ce_id")}
		h := d.Middleware(func(*message.Message) ([]*message.Message, error) { return nil, handle() })
		msg := message.NewMessage("shipment-1001", []byte(`{}`))
		msg.Metadata.Set("ce_id", "shipment-1001")
		_, err := h(msg)
		require.Error(t, err, "first delivery fails")
		_, err = h(msg) // the broker redelivers the nacked message
		require.NoError(t, err, "redelivery")
		assert.Empty(t, *effects, "Watermill: the effect of a message whose first delivery failed never happens")
	})

	t.Run("distsync runs the redelivery", func(t *testing.T) {
		handle, effects := newHandler()
		s, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1, MaxKeys: -1, MaxBytes: -1})
		require.NoError(t, err, "NewMemoryStore")
		defer s.Close()
		g := idempotency.Guard{Store: s}
		ev := idempotency.EventRef{Source: "//wms.example", ID: "shipment-1001"}
		h := func(context.Context) error { return handle() }
		_, err = g.HandleEvent(context.Background(), "erp", ev, h)
		require.Error(t, err, "first delivery fails")
		dup, err := g.HandleEvent(context.Background(), "erp", ev, h)
		require.NoError(t, err, "redelivery")
		assert.False(t, dup, "redelivery is not a duplicate")
		dup, err = g.HandleEvent(context.Background(), "erp", ev, h)
		require.NoError(t, err, "third delivery")
		assert.True(t, dup, "third delivery is a duplicate")
		assert.Equal(t, []string{"shipment posted"}, *effects, "distsync: the effect happens exactly once")
	})
}
