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

// hangingCommit is a losableLock whose first Commit does not return until
// the test releases it, as a write to a database that stopped answering.
type hangingCommit struct {
	*losableLock
	entered chan struct{} // closed when the first Commit starts
	release chan struct{} // the first Commit returns once it is closed
	once    sync.Once
}

func (h *hangingCommit) Commit(ctx context.Context, group string, epoch, cursor uint64) error {
	first := false
	h.once.Do(func() { first = true })
	if first {
		close(h.entered)
		<-h.release
	}
	return h.Memory.Commit(ctx, group, epoch, cursor)
}

// TestLockLostWhileLoopBlocked: when the group lock is lost while Run's
// loop is blocked in a backend write (the outage that killed the lock's
// connection also hangs the pool's), the handlers in flight are cancelled
// with ErrLockLost at once, not when the write returns: the process that
// takes the lock over starts handling after its wait, whatever this one's
// loop is doing.
func TestLockLostWhileLoopBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &hangingCommit{losableLock: &losableLock{Memory: eventlog.NewMemory(eventlog.MemoryConfig{}),
			lost: make(chan struct{}), unlocked: make(chan struct{})},
			entered: make(chan struct{}), release: make(chan struct{})}
		ctx := t.Context()
		require.NoError(t, b.Append(ctx, eventlogtest.Event("a", 1), eventlogtest.Event("b", 1)), "Append")
		slowStarted := make(chan struct{})
		var mu sync.Mutex
		var cause error
		c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", Workers: 2, PollInterval: time.Second,
			DrainTimeout: time.Hour,
			Handler: func(ctx context.Context, ev canonical.Event) error {
				if ev.ID == "a-1" { // done once b-1 runs; its commit hangs
					<-slowStarted
					return nil
				}
				close(slowStarted) // b-1: in flight while the commit hangs
				<-ctx.Done()
				mu.Lock()
				cause = context.Cause(ctx)
				mu.Unlock()
				return ctx.Err()
			}})
		require.NoError(t, err, "NewConsumer")
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx) }()
		<-b.entered
		close(b.lost)
		synctest.Wait()
		mu.Lock()
		got := cause
		mu.Unlock()
		assert.ErrorIs(t, got, eventlog.ErrLockLost, "the in-flight handler is cancelled while the loop is blocked in Commit")
		close(b.release)
		assert.ErrorIs(t, <-errc, eventlog.ErrLockLost, "Run's error")
	})
}
