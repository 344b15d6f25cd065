package eventlog_test

import (
	"context"
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

// readCounter is a Memory (through its Backend methods, so a consumer
// reads it with Read) that counts the reads, and whose Notifier can be
// muted.
type readCounter struct {
	*eventlog.Memory
	reads atomic.Int64
	mute  atomic.Bool
}

func (r *readCounter) Appended() <-chan struct{} {
	if r.mute.Load() {
		return nil // never notified
	}
	return r.Memory.Appended()
}

func (r *readCounter) Read(ctx context.Context, after uint64, limit int) ([]eventlog.Entry, error) {
	r.reads.Add(1)
	return r.Memory.Read(ctx, after, limit)
}

// TestPollSkipsFreshRead appends an event every millisecond for a
// consumer polling every 4 ms: each append is notified and read, so the
// poll finds the log read less than half an interval ago and does not read
// it again. Before, every poll read the log once more. An append that is
// not notified is still read at a poll.
func TestPollSkipsFreshRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &readCounter{Memory: eventlog.NewMemory(eventlog.MemoryConfig{})}
		var handled atomic.Int64
		c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", PollInterval: 4 * time.Millisecond,
			Handler: func(context.Context, canonical.Event) error { handled.Add(1); return nil }})
		require.NoError(t, err, "NewConsumer")
		ctx, stop := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx) }()
		synctest.Wait()
		const appends = 100
		before := b.reads.Load()
		for i := range appends {
			require.NoError(t, b.Append(t.Context(), eventlogtest.Event("k", i+1)), "Append")
			time.Sleep(time.Millisecond)
			synctest.Wait()
		}
		reads := b.reads.Load() - before
		assert.Equal(t, int64(appends), handled.Load(), "events handled")
		assert.LessOrEqual(t, reads, int64(appends+1), "reads for %d notified appends, one a millisecond, polling every 4 ms", appends)

		// Not notified: found by a poll.
		b.mute.Store(true)
		time.Sleep(10 * time.Millisecond) // the consumer takes the muted channel at its next read
		synctest.Wait()
		require.NoError(t, b.Append(t.Context(), eventlogtest.Event("k", appends+1)), "Append")
		synctest.Wait()
		assert.Equal(t, int64(appends), handled.Load(), "events handled before a poll")
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		stop()
		require.ErrorIs(t, <-errc, context.Canceled, "Run")
		assert.Equal(t, int64(appends+1), handled.Load(), "events handled, with the one a poll found")
	})
}
