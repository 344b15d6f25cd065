package eventlog

import (
	"context"
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/tracing"
)

// TestHandleAllocations checks what handling one new event under consumer
// dedupe in an idempotency.MemoryStore allocates: its context (one node
// for the attempt, the event and tracing's IDs) and its dedupe key's text,
// nothing per record of the store. The handler sees the event's IDs.
func TestHandleAllocations(t *testing.T) {
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1})
	require.NoError(t, err, "NewMemoryStore")
	defer store.Close()
	const runs = 2000
	evs := make([]canonical.Event, runs+1)
	for i := range evs {
		evs[i] = canonical.Event{ID: "evt-" + strconv.Itoa(i), Source: "/test", SpecVersion: canonical.EventSpecVersion,
			Type: "dev.distsync.test.v1", Subject: "order-1", CorrelationID: "order-1", Data: []byte(`{"n":1}`)}
	}
	var bad int
	c, err := NewConsumer(NewMemory(MemoryConfig{}), ConsumerConfig{Group: "g", Dedupe: store,
		Handler: func(ctx context.Context, ev canonical.Event) error {
			if tracing.CausationID(ctx) != ev.ID || tracing.CorrelationID(ctx) != "order-1" || Attempt(ctx) != 1 {
				bad++
			}
			if got, ok := EventFrom(ctx); !ok || got.ID != ev.ID {
				bad++
			}
			return nil
		}})
	require.NoError(t, err, "NewConsumer")
	ctx := t.Context()
	n := 0
	var it item
	allocs := testing.AllocsPerRun(runs, func() {
		it = item{ev: &evs[n]}
		n++
		if err := c.handle(ctx, &it); err != nil {
			t.Errorf("handle %s: %v", it.ev.ID, err)
		}
	})
	assert.Zero(t, bad, "handler calls that did not see their event's IDs, attempt and event")
	assert.LessOrEqual(t, allocs, 2.0, "allocations per handled event (context and key)")
	assert.Equal(t, n, store.Len(), "keys stored")
}

// TestItemHotFields checks that the fields of an item that every
// delivery reads or writes, on the loop's core and on a worker's, lie in
// its first two cache lines, so that passing an item between cores moves
// two lines, not every line of it (its dedupe pre-claim alone spans
// several).
func TestItemHotFields(t *testing.T) {
	var it item
	hot := map[string]uintptr{
		"off": unsafe.Offsetof(it.off) + unsafe.Sizeof(it.off), "ev": unsafe.Offsetof(it.ev) + unsafe.Sizeof(it.ev),
		"key": unsafe.Offsetof(it.key) + unsafe.Sizeof(it.key), "decErr": unsafe.Offsetof(it.decErr) + unsafe.Sizeof(it.decErr),
		"err": unsafe.Offsetof(it.err) + unsafe.Sizeof(it.err), "replay": unsafe.Offsetof(it.replay) + unsafe.Sizeof(it.replay),
		"batch": unsafe.Offsetof(it.batch) + unsafe.Sizeof(it.batch), "attempts": unsafe.Offsetof(it.attempts) + unsafe.Sizeof(it.attempts),
		"due": unsafe.Offsetof(it.due) + unsafe.Sizeof(it.due), "done": unsafe.Offsetof(it.done) + unsafe.Sizeof(it.done),
	}
	for name, end := range hot {
		assert.LessOrEqual(t, end, uintptr(128), "end of item.%s", name)
	}
}
