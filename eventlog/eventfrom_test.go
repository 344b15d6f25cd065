package eventlog_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

func TestEventFrom(t *testing.T) {
	_, ok := eventlog.EventFrom(t.Context())
	assert.False(t, ok, "EventFrom of a context that does not come from a Consumer")
	synctest.Test(t, func(t *testing.T) {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		want := []canonical.Event{eventlogtest.Event("a", 1), eventlogtest.Event("b", 1)}
		require.NoError(t, m.Append(t.Context(), want...), "Append")
		var (
			mu  sync.Mutex
			got = map[string]canonical.Event{}
		)
		cfg := eventlog.ConsumerConfig{Group: "g", Handler: func(ctx context.Context, ev canonical.Event) error {
			from, ok := eventlog.EventFrom(ctx)
			if !assert.True(t, ok, "EventFrom in the handler of %s", ev.ID) {
				return nil
			}
			mu.Lock()
			got[ev.ID] = from
			mu.Unlock()
			return nil
		}}
		require.ErrorIs(t, runFor(t, m, cfg, time.Second), context.Canceled, "Run")
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range want {
			assert.Equal(t, ev.ID, got[ev.ID].ID, "EventFrom names the event handled (%s)", ev.ID)
			assert.Equal(t, ev.Subject, got[ev.ID].Subject, "EventFrom's subject (%s)", ev.ID)
		}
	})
}
