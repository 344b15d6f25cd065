package eventlog_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/retry"
)

// TestWorkerWaitingForRetryGivesUpItsPlace: with one worker, the handler
// of the first event makes a call that fails and is retried with retry.Do
// after a minute (a connector decorator's in-call retry). The events of the
// other keys are handled at once, while it waits, not a minute later; and
// no more handlers than Workers run at once.
func TestWorkerWaitingForRetryGivesUpItsPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		evs := []canonical.Event{eventlogtest.Event("slow", 1)}
		for i := range 5 {
			evs = append(evs, eventlogtest.Event("o"+strconv.Itoa(i), 1))
		}
		assert.NoError(t, m.Append(t.Context(), evs...), "Append")
		log := newAttemptLog()
		var running, most atomic.Int32
		enter := func() {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
		}
		cfg := eventlog.ConsumerConfig{Group: "g", Workers: 1,
			Handler: func(ctx context.Context, ev canonical.Event) error {
				enter()
				defer running.Add(-1)
				if ev.ID != "slow-1" {
					log.add(ev.ID)
					return nil
				}
				calls := 0
				_, err := retry.Do(ctx, retry.Policy{MaxAttempts: 2}, func(context.Context) (int, error) {
					calls++
					if calls == 1 {
						running.Add(-1) // the wait that follows is not running
						return 0, retry.WithRetryAfter(errors.New("rate limited"), time.Minute)
					}
					enter()
					return calls, nil
				})
				log.add(ev.ID)
				return err
			}}
		assert.ErrorIs(t, runFor(t, m, cfg, time.Hour), context.Canceled, "Run")
		assert.Equal(t, []time.Duration{time.Minute}, log.get("slow-1"), "slow-1 is done after its call's retry")
		for _, ev := range evs[1:] {
			assert.Equal(t, []time.Duration{0}, log.get(ev.ID), "%s is handled while slow-1's call waits", ev.ID)
		}
		assert.Equal(t, int32(1), most.Load(), "handlers running at once, at most (Workers)")
	})
}
