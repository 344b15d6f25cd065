package flow

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveHeap returns the bytes of live heap objects after full collections.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryStateForgetsItsPeak checks that a MemoryState whose final
// orders have all passed their retention holds no memory sized by how
// many it once held: neither its map nor its list of expiries.
func TestMemoryStateForgetsItsPeak(t *testing.T) {
	const n = 50_000
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &MemoryState{Retention: time.Hour, Now: func() time.Time { return now }}
	data := []byte(`{"v":2}`)
	for i := range n {
		require.NoError(t, m.SaveState(ctx, StoredState{OrderID: "ORD-" + strconv.Itoa(i), Data: data, Final: true, Version: 1}))
	}
	now = now.Add(2 * time.Hour)
	require.Zero(t, m.Len(), "every order forgotten after its retention")
	with := liveHeap()
	runtime.KeepAlive(m)
	without := liveHeap()
	held := int64(with) - int64(without)
	t.Logf("an emptied MemoryState that held %d orders holds %d B", n, held)
	// Its expiry list alone had room for n entries: 40 B each.
	assert.Less(t, held, int64(64<<10), "bytes held by the emptied store")
}
