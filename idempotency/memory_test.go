package idempotency_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
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
