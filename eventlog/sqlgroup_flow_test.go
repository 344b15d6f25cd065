package eventlog_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/retry"
)

// TestGroupWaitIdle waits for a partitioned group from a Group over its
// own *sql.DB that does not run, as a coordinating process would, while
// two members (each over its own *sql.DB) handle the events: idle on an
// empty log, not idle while no member consumes, idle only once every
// event, every follow-up a handler appended and every retry is handled,
// and not idle while a replayed dead letter waits for its member.
func TestGroupWaitIdle(t *testing.T) {
	groupDBs(t, func(t *testing.T, d groupDB) {
		const parts, n = 4, 20
		ws := newSQL(t, d.open(t, "watcher"), d.dialect, d.prefix)
		noop := func(context.Context, canonical.Event) error { return nil }
		watcher, err := ws.NewGroup(eventlog.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: noop}, Partitions: parts})
		require.NoError(t, err, "NewGroup of the watcher")
		assert.Equal(t, []string{"orders/p0", "orders/p1", "orders/p2", "orders/p3"}, watcher.ConsumerGroups(), "one consumer group per partition")

		wait := func(within time.Duration) error {
			ctx, cancel := context.WithTimeout(t.Context(), within)
			defer cancel()
			return watcher.WaitIdle(ctx)
		}
		require.NoError(t, wait(10*time.Second), "an empty log is idle")

		for i := range n {
			require.NoError(t, ws.Append(t.Context(), eventlogtest.Event("order-"+strconv.Itoa(i), 1)), "append %d", i)
		}
		require.NoError(t, ws.Append(t.Context(), eventlogtest.Event("poison", 1)), "append the poison event")
		require.ErrorIs(t, wait(300*time.Millisecond), context.DeadlineExceeded, "not idle while no member consumes")

		var mu sync.Mutex
		handled := map[string]bool{}
		attempts := map[string]int{}
		replayed := false
		h := func(ctx context.Context, ev canonical.Event) error {
			mu.Lock()
			attempts[ev.ID]++
			first := attempts[ev.ID] == 1
			poisoned := ev.Subject == "poison" && !replayed
			mu.Unlock()
			switch {
			case poisoned:
				return retry.Permanent(errors.New("poison"))
			case first && len(ev.Subject) == len("order-10"): // order-10 to order-19: one failed attempt each
				return errors.New("transient")
			}
			time.Sleep(2 * time.Millisecond) // slow, so that WaitIdle finds work in flight
			if ev.Type != "follow-up" {
				// Under another key, likely another partition: WaitIdle
				// must wait for it too.
				f := eventlogtest.Event("next-"+ev.Subject, 1)
				f.Type = "follow-up"
				if err := ws.Append(ctx, f); err != nil {
					return err
				}
			}
			mu.Lock()
			handled[ev.ID] = true
			mu.Unlock()
			return nil
		}
		startGroupMember(t, d, "a", parts, h)
		startGroupMember(t, d, "b", parts, h)

		require.NoError(t, wait(time.Minute), "idle once the members caught up")
		mu.Lock()
		assert.Len(t, handled, 2*n, "every event but the poison one, and every follow-up, handled when WaitIdle returned")
		assert.Equal(t, 2, attempts["order-10-1"], "order-10 was retried once")
		mu.Unlock()
		poisonGroup := eventlog.PartitionGroup("orders", eventlog.PartitionOf("poison", parts))
		dls, err := ws.List(t.Context(), eventlog.Filter{Consumer: poisonGroup})
		require.NoError(t, err, "List the dead letters of %s", poisonGroup)
		require.Len(t, dls, 1, "the poison event is dead-lettered under %s", poisonGroup)
		assert.Equal(t, eventlog.StateDead, dls[0].State, "the poison event's state")

		mu.Lock()
		replayed = true
		mu.Unlock()
		replays, err := ws.Replay(t.Context(), eventlog.Filter{Consumer: poisonGroup}, eventlog.Audit{By: "test"})
		require.NoError(t, err, "Replay")
		require.Equal(t, 1, replays, "one dead letter replayed")
		require.NoError(t, wait(time.Minute), "idle once the replay is done")
		mu.Lock()
		assert.True(t, handled["poison-1"], "the replayed event handled when WaitIdle returned")
		assert.True(t, handled["next-poison-1"], "the replayed event's follow-up handled when WaitIdle returned")
		assert.Len(t, handled, 2*n+2, "every event handled")
		mu.Unlock()
	})
}
