package eventlog_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

func TestPostgresGroupLock(t *testing.T) {
	url := postgresURL(t)
	prefix := uniquePrefix()
	s1 := newSQL(t, openPostgres(t, url), eventlog.Postgres, prefix)
	t.Cleanup(func() { _ = s1.Drop(context.Background()) })
	s2 := newSQL(t, openPostgres(t, url), eventlog.Postgres, prefix) // "another process"
	ctx := t.Context()

	unlock, ok, err := s1.TryLockGroup(ctx, "g")
	require.NoError(t, err, "TryLockGroup g on process 1")
	require.True(t, ok, "a free group lock is taken")
	_, ok, err = s2.TryLockGroup(ctx, "g")
	require.NoError(t, err, "TryLockGroup g on process 2")
	assert.False(t, ok, "a held group lock is not taken by another process")
	unlockOther, ok, err := s2.TryLockGroup(ctx, "other")
	require.NoError(t, err, "TryLockGroup other")
	assert.True(t, ok, "another group's lock is independent")
	unlockOther.Unlock()
	unlock.Unlock()
	unlock2, ok, err := s2.TryLockGroup(ctx, "g")
	require.NoError(t, err, "TryLockGroup g after unlock")
	require.True(t, ok, "a released group lock is taken")
	unlock2.Unlock()

	// Two consumers of one group: the second waits as a standby and
	// takes over when the first stops.
	var mu sync.Mutex
	by := map[string]string{}
	handled := make(chan struct{}, 10)
	newConsumer := func(name string, b eventlog.Backend) *eventlog.Consumer {
		c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", PollInterval: 5 * time.Millisecond,
			Handler: func(_ context.Context, ev canonical.Event) error {
				mu.Lock()
				by[ev.ID] = name
				mu.Unlock()
				handled <- struct{}{}
				return nil
			}})
		require.NoError(t, err, "NewConsumer %s", name)
		return c
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-handled:
		case <-time.After(20 * time.Second):
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	ctx1, stop1 := context.WithCancel(ctx)
	err1 := make(chan error, 1)
	go func() { err1 <- newConsumer("first", s1).Run(ctx1) }()
	require.NoError(t, s1.Append(ctx, eventlogtest.Event("a", 1)), "Append a-1")
	wait("a-1")
	ctx2, stop2 := context.WithCancel(ctx)
	defer stop2()
	err2 := make(chan error, 1)
	go func() { err2 <- newConsumer("second", s2).Run(ctx2) }()
	require.NoError(t, s1.Append(ctx, eventlogtest.Event("a", 2)), "Append a-2")
	wait("a-2")
	stop1()
	require.ErrorIs(t, <-err1, context.Canceled, "first Run")
	require.NoError(t, s1.Append(ctx, eventlogtest.Event("a", 3)), "Append a-3")
	wait("a-3")
	stop2()
	require.ErrorIs(t, <-err2, context.Canceled, "second Run")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]string{"a-1": "first", "a-2": "first", "a-3": "second"}, by, "which consumer handled what")
	select {
	case <-handled:
		t.Error("an event was handled twice")
	default:
	}
}

// TestPostgresGroupLockGiveUpKeepsWait: a TryLockGroup that takes the lock
// of a group whose previous holder did not release it (it crashed: its
// claim stands, its lock is gone) and gives up during its wait (its ctx
// ends) must not mark the group released: the next taker waits in turn,
// since the previous holder may still be running.
func TestPostgresGroupLockGiveUpKeepsWait(t *testing.T) {
	url := postgresURL(t)
	prefix := uniquePrefix()
	db := openPostgres(t, url)
	s, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.Postgres, Prefix: prefix, LockCheck: 2 * time.Second})
	require.NoError(t, err, "NewSQL")
	require.NoError(t, s.Migrate(t.Context()), "Migrate")
	t.Cleanup(func() { _ = s.Drop(context.Background()) })
	ctx := t.Context()
	// A holder that crashed: it claimed the group and never unlocked.
	_, err = s.Claim(ctx, "g")
	require.NoError(t, err, "Claim")

	for i := range 2 {
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		lock, ok, err := s.TryLockGroup(short, "g")
		cancel()
		if ok {
			lock.Unlock()
		}
		assert.False(t, ok, "taker %d within its wait of 3×LockCheck after a crashed holder", i+1)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "taker %d gives up with its ctx", i+1)
	}
}
