package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/idempotency/idempotencytest"
)

func TestMemoryStoreReaper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{Retention: time.Hour, ReapInterval: time.Minute})
		require.NoError(t, err, "NewMemoryStore")
		defer s.Close()
		ctx := context.Background()
		done := idempotency.MustParse("done")
		c, err := s.Claim(ctx, done, idempotency.Fingerprint{}, time.Minute)
		require.NoError(t, err, "Claim(done)")
		require.NoError(t, s.Complete(ctx, c.Lease, idempotency.Result{Data: []byte("x")}), "Complete(done)")
		_, err = s.Claim(ctx, idempotency.MustParse("abandoned"), idempotency.Fingerprint{}, 2*time.Hour)
		require.NoError(t, err, "Claim(abandoned) with a 2h lease")

		time.Sleep(time.Hour - time.Second)
		synctest.Wait()
		assert.Equal(t, 2, s.Len(), "records after 59m59s (retention 1h)")

		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, 1, s.Len(), "records after the reaper ran past the retention of done")

		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Zero(t, s.Len(), "records once the 2h lease of the abandoned claim ended")

		require.NoError(t, s.Close(), "Close")
		require.NoError(t, s.Close(), "second Close")
		// The store still works after Close; only reaping stopped.
		_, err = s.Claim(ctx, done, idempotency.Fingerprint{}, time.Minute)
		require.NoError(t, err, "Claim after Close")
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		assert.Equal(t, 1, s.Len(), "records 3h after Close: nothing reaps them")
	})
}

func TestMemoryStoreReaperDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{Retention: time.Minute, ReapInterval: -1})
		require.NoError(t, err, "NewMemoryStore")
		_, err = s.Claim(context.Background(), idempotency.MustParse("k"), idempotency.Fingerprint{}, time.Second)
		require.NoError(t, err, "Claim")
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Equal(t, 1, s.Len(), "records without a reaper")
		n, err := s.Reap(context.Background())
		require.NoError(t, err, "Reap")
		assert.Equal(t, 1, n, "records reaped on demand")
		require.NoError(t, s.Close(), "Close without a reaper")
	})
}

func TestMemoryConfigValidate(t *testing.T) {
	tests := []struct {
		cfg     idempotency.MemoryConfig
		wantErr string
	}{
		{cfg: idempotency.MemoryConfig{}},
		{cfg: idempotency.MemoryConfig{Shards: 3, Retention: time.Minute, ReapInterval: -1}},
		{cfg: idempotency.MemoryConfig{Retention: -time.Second}, wantErr: "Retention -1s is negative"},
		{cfg: idempotency.MemoryConfig{Shards: -1}, wantErr: "Shards -1"},
		{cfg: idempotency.MemoryConfig{Shards: 1 << 17}, wantErr: "Shards 131072"},
	}
	for _, tt := range tests {
		s, err := idempotency.NewMemoryStore(tt.cfg)
		if tt.wantErr != "" {
			assert.ErrorIs(t, err, idempotency.ErrInvalidConfig, "NewMemoryStore(%+v)", tt.cfg)
			assert.ErrorContains(t, err, tt.wantErr, "NewMemoryStore(%+v)", tt.cfg)
			continue
		}
		require.NoError(t, err, "NewMemoryStore(%+v)", tt.cfg)
		// A store with an odd shard count still spreads and finds keys.
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			_, err := s.Claim(context.Background(), idempotency.MustParse(k), idempotency.Fingerprint{}, time.Minute)
			require.NoError(t, err, "Claim(%s) with %+v", k, tt.cfg)
			_, err = s.Lookup(context.Background(), idempotency.MustParse(k))
			require.NoError(t, err, "Lookup(%s) with %+v", k, tt.cfg)
		}
		require.NoError(t, s.Close(), "Close")
	}
}

func TestMemoryStoreMaxKeys(t *testing.T) {
	ctx := context.Background()
	clock := idempotencytest.NewClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	s := newMemoryStore(t, idempotency.MemoryConfig{MaxKeys: 3, Retention: time.Hour, Now: clock.Now, ReapInterval: -1})
	claim := func(k string) (idempotency.Claim, error) {
		return s.Claim(ctx, idempotency.MustParse(k), idempotency.Fingerprint{}, time.Minute)
	}
	for _, k := range []string{"a", "b"} {
		c, err := claim(k)
		require.NoError(t, err, "Claim(%s)", k)
		require.NoError(t, s.Complete(ctx, c.Lease, idempotency.Result{Data: []byte("done " + k)}), "Complete(%s)", k)
	}
	inFlight, err := claim("c")
	require.NoError(t, err, "Claim(c)")

	_, err = claim("d")
	require.ErrorIs(t, err, idempotency.ErrStoreFull, "Claim of a fourth key with MaxKeys 3")
	assert.ErrorContains(t, err, "holds 3 records", "ErrStoreFull names the count")
	// Nothing was evicted to make room: completed keys replay, the
	// in-flight claim still holds its key.
	c, err := claim("a")
	require.NoError(t, err, "Claim(a) when full")
	assert.Equal(t, idempotency.Completed, c.Status, "completed key a when the store is full")
	c, err = claim("c")
	require.NoError(t, err, "Claim(c) when full")
	assert.Equal(t, idempotency.InProgress, c.Status, "in-flight key c when the store is full")

	// Releasing makes room.
	require.NoError(t, s.Release(ctx, inFlight.Lease), "Release(c)")
	_, err = claim("d")
	require.NoError(t, err, "Claim(d) after c was released")
	_, err = claim("e")
	require.ErrorIs(t, err, idempotency.ErrStoreFull, "Claim(e), full again")

	// Records whose retention passed are deleted to make room.
	clock.Advance(time.Hour + time.Second)
	_, err = claim("e")
	require.NoError(t, err, "Claim(e) once the retention of a, b and d passed")
	assert.Equal(t, 1, s.Len(), "records once the expired ones were deleted to make room")
}

func TestMemoryStoreMaxBytes(t *testing.T) {
	ctx := context.Background()
	clock := idempotencytest.NewClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	s := newMemoryStore(t, idempotency.MemoryConfig{MaxBytes: 100, Retention: time.Hour, Now: clock.Now, ReapInterval: -1})
	big := make([]byte, 60)
	c1, err := s.Claim(ctx, idempotency.MustParse("k1"), idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "Claim(k1)")
	c2, err := s.Claim(ctx, idempotency.MustParse("k2"), idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "Claim(k2)")
	require.NoError(t, s.Complete(ctx, c1.Lease, idempotency.Result{Data: big}), "Complete(k1) with 60 bytes")
	// A granted claim always completes, even past the limit: its effect happened.
	require.NoError(t, s.Complete(ctx, c2.Lease, idempotency.Result{Data: big}), "Complete(k2) with 60 bytes, past MaxBytes")
	_, err = s.Claim(ctx, idempotency.MustParse("k3"), idempotency.Fingerprint{}, time.Minute)
	require.ErrorIs(t, err, idempotency.ErrStoreFull, "Claim(k3) with 124 of 100 bytes held")
	c, err := s.Claim(ctx, idempotency.MustParse("k1"), idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "Claim(k1) when full")
	assert.Equal(t, big, c.Result.Data, "k1's result is kept when the store is full")

	clock.Advance(2 * time.Hour)
	_, err = s.Claim(ctx, idempotency.MustParse("k3"), idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "Claim(k3) once k1 and k2 expired")
}

func TestMemoryStoreMaxKeysConcurrent(t *testing.T) {
	const limit, goroutines = 50, 200
	s := newMemoryStore(t, idempotency.MemoryConfig{MaxKeys: limit, ReapInterval: -1})
	var claimed, full atomic.Int32
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Go(func() {
			_, err := s.Claim(context.Background(), idempotency.MustParse(fmt.Sprint("k", i)), idempotency.Fingerprint{}, time.Minute)
			switch {
			case err == nil:
				claimed.Add(1)
			case errors.Is(err, idempotency.ErrStoreFull):
				full.Add(1)
			default:
				t.Errorf("Claim(k%d): %v", i, err)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, limit, claimed.Load(), "claims granted by %d goroutines with MaxKeys %d", goroutines, limit)
	assert.EqualValues(t, goroutines-limit, full.Load(), "claims refused as full")
	assert.Equal(t, limit, s.Len(), "records held")
}
