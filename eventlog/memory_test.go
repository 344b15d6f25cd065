package eventlog_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

func TestMemoryConformance(t *testing.T) {
	eventlogtest.Run(t, func(t *testing.T) eventlogtest.Opener {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		return func(*testing.T) eventlog.Backend { return m }
	})
}

func TestMemoryTrim(t *testing.T) {
	const chunk = 4096
	tests := []struct {
		name    string
		groups  []string
		commits map[string]uint64
		// firstRead is the lowest offset a read may start after.
		firstRead uint64
	}{
		{name: "no trim groups keeps everything", commits: map[string]uint64{"g": 3 * chunk}},
		{name: "trims the full chunks the group committed", groups: []string{"g"},
			commits: map[string]uint64{"g": 2*chunk + 5}, firstRead: 2 * chunk},
		{name: "waits for the slowest group", groups: []string{"g", "h"},
			commits: map[string]uint64{"g": 3 * chunk, "h": chunk + 1}, firstRead: chunk},
		{name: "a trim group that never committed holds everything", groups: []string{"g", "h"},
			commits: map[string]uint64{"g": 3 * chunk}},
		{name: "the last chunk is kept until full", groups: []string{"g"},
			commits: map[string]uint64{"g": 3*chunk + 10}, firstRead: 3 * chunk},
		{name: "other groups do not matter", groups: []string{"g"},
			commits: map[string]uint64{"g": chunk, "x": 0}, firstRead: chunk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			m := eventlog.NewMemory(eventlog.MemoryConfig{TrimGroups: tt.groups})
			evs := make([]canonical.Event, 3*chunk+10)
			for i := range evs {
				evs[i] = eventlogtest.Event("k", i+1)
			}
			require.NoError(t, m.Append(ctx, evs...), "Append")
			for g, c := range tt.commits {
				require.NoError(t, m.Commit(ctx, g, 0, c), "Commit %s %d", g, c)
			}
			assert.Equal(t, len(evs), m.Len(), "Len counts trimmed events")
			if tt.firstRead > 0 {
				_, err := m.Read(ctx, tt.firstRead-1, 1)
				require.ErrorIs(t, err, eventlog.ErrTrimmed, "read after %d", tt.firstRead-1)
				assert.Contains(t, err.Error(), "trimmed", "error names the trim")
			}
			got, err := m.Read(ctx, tt.firstRead, 2)
			require.NoError(t, err, "read after %d", tt.firstRead)
			require.Len(t, got, 2, "read after %d", tt.firstRead)
			assert.Equal(t, tt.firstRead+1, got[0].Offset, "first offset read")
			assert.Equal(t, evs[tt.firstRead].ID, got[0].Event.ID, "first event read")
		})
	}
}

// TestMemoryTrimUnderConsumer runs a consumer over a trimming log: every
// event is handled once and the log holds at most about two chunks.
func TestMemoryTrimUnderConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 20000
		m := eventlog.NewMemory(eventlog.MemoryConfig{TrimGroups: []string{"g"}})
		var handled atomic.Int64
		c, err := eventlog.NewConsumer(m, eventlog.ConsumerConfig{Group: "g", Handler: func(context.Context, canonical.Event) error {
			handled.Add(1)
			return nil
		}})
		require.NoError(t, err, "NewConsumer")
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		for i := range n {
			require.NoError(t, m.Append(t.Context(), eventlogtest.Event(strconv.Itoa(i%50), i)), "Append %d", i)
			if i%1000 == 0 {
				time.Sleep(time.Second)
			}
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-done, context.Canceled, "Run")
		assert.Equal(t, int64(n), handled.Load(), "every event handled once")
		_, err = m.Read(t.Context(), 0, 1)
		require.ErrorIs(t, err, eventlog.ErrTrimmed, "the start of the log is trimmed")
		_, err = m.Read(t.Context(), n-n%4096, 1)
		require.NoError(t, err, "the last chunk is held")
	})
}
