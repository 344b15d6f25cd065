package idempotency

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemShardCollisions checks the chains of records whose keys share a
// hash: every record is found by its own key, removed alone, and reaped
// alone. Real collisions of the 64-bit hash are too rare to provoke, so
// the records are put under one hash by hand.
func TestMemShardCollisions(t *testing.T) {
	tests := []struct {
		name   string
		remove []string // removed in this order
	}{
		{"head first", []string{"c", "b", "a"}},
		{"tail first", []string{"a", "b", "c"}},
		{"middle first", []string{"b", "a", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sh memShard
			const h = 42
			recs := map[string]*memRecord{}
			for _, k := range []string{"a", "b", "c"} {
				recs[k] = &memRecord{key: k}
				_, head := sh.find(h, k)
				sh.add(h, head, recs[k])
			}
			require.Equal(t, 3, sh.n, "records after adding a, b, c")
			require.Equal(t, 1, sh.used, "slots for a, b, c (one hash)")
			left := map[string]bool{"a": true, "b": true, "c": true}
			for _, k := range tt.remove {
				sh.remove(h, recs[k])
				delete(left, k)
				assert.Nil(t, sh.get(h, k), "get(%q) after removing it", k)
				for other := range left {
					assert.Same(t, recs[other], sh.get(h, other), "get(%q) after removing %q", other, k)
				}
				assert.Equal(t, len(left), sh.n, "records after removing %q", k)
			}
			assert.Equal(t, 0, sh.used, "slots after removing every record")
		})
	}
}

// TestMemoryStoreReapCollisions checks that reaping a chain deletes its
// expired records and keeps the live ones.
func TestMemoryStoreReapCollisions(t *testing.T) {
	now := time.Unix(1000, 0)
	s, err := NewMemoryStore(MemoryConfig{ReapInterval: -1, Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := context.Background()
	sh := &s.shards[0]
	for i, k := range []string{"a", "b", "c", "d"} {
		rec := &memRecord{key: k, completed: true, token: uint64(i + 1), expires: now.UnixNano() + int64(i%2)}
		_, head := sh.find(7, k)
		sh.add(7, head, rec)
		s.keys.Add(1)
		s.bytes.Add(int64(len(k)))
	}
	n, err := s.Reap(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "records reaped (a and c have expired)")
	assert.Equal(t, 2, s.Len(), "records left")
	assert.Nil(t, sh.get(7, "a"), "a reaped")
	assert.Nil(t, sh.get(7, "c"), "c reaped")
	assert.NotNil(t, sh.get(7, "b"), "b kept")
	assert.NotNil(t, sh.get(7, "d"), "d kept")
	assert.Equal(t, int64(2), s.keys.Load(), "keys counted")
	assert.Equal(t, int64(2), s.bytes.Load(), "bytes counted")
}
