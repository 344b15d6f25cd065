package eventlog_test

// Tests of the bounds on the error policy's waits: MaxRetryAfter and the
// backoff's MaxInterval.

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/retry"
)

// TestRetryAfterBeyondCapDoesNotStallOtherKeys: one key answered with a
// Retry-After of 10^6 s, with the default MaxRetryAfter and a MaxPending
// that the events of the other keys exceed. The key's event is
// dead-lettered at once with ReasonRetryAfter, the later event of its key
// and every event of the other keys are handled without waiting.
func TestRetryAfterBeyondCapDoesNotStallOtherKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		const others = 40
		evs := []canonical.Event{eventlogtest.Event("slow", 1), eventlogtest.Event("slow", 2)}
		for i := range others {
			evs = append(evs, eventlogtest.Event("o"+strconv.Itoa(i%5), i+1))
		}
		require.NoError(t, m.Append(t.Context(), evs...), "Append")
		log := newAttemptLog()
		cfg := eventlog.ConsumerConfig{Group: "g", Workers: 2, MaxPending: 8,
			Handler: func(_ context.Context, ev canonical.Event) error {
				log.add(ev.ID)
				if ev.ID == "slow-1" {
					return afterErr{1e6 * time.Second}
				}
				return nil
			}}
		require.ErrorIs(t, runFor(t, m, cfg, time.Hour), context.Canceled, "Run")

		assert.Equal(t, []time.Duration{0}, log.get("slow-1"), "slow-1 is tried once, not again after the cap")
		for _, ev := range evs[1:] {
			assert.Equal(t, []time.Duration{0}, log.get(ev.ID), "%s is handled once, without waiting for slow-1", ev.ID)
		}
		dls, err := m.List(t.Context(), eventlog.Filter{})
		require.NoError(t, err, "List")
		require.Len(t, dls, 1, "dead letters")
		assert.Equal(t, "slow-1", dls[0].Event.ID, "dead-lettered event")
		assert.Equal(t, eventlog.ReasonRetryAfter, dls[0].Reason, "reason")
		assert.Equal(t, 1, dls[0].Attempts, "attempts")
		assert.Equal(t, "rate limited (asked to retry after 277h46m40s, beyond MaxRetryAfter 5m0s)", dls[0].Error,
			"the dead letter's error says what was asked for and the cap")
		st, err := m.Group(t.Context(), "g")
		require.NoError(t, err, "Group")
		assert.Equal(t, uint64(len(evs)), st.Cursor, "cursor")
	})
}

// TestBackoffJitterCappedAtMaxInterval: with full jitter a delay may be
// drawn up to twice the backoff; it is cut to MaxInterval.
func TestBackoffJitterCappedAtMaxInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		require.NoError(t, m.Append(t.Context(), eventlogtest.Event("a", 1)), "Append")
		const attempts = 20
		log := newAttemptLog()
		cfg := eventlog.ConsumerConfig{Group: "g",
			Policy: eventlog.ErrorPolicy{MaxAttempts: attempts, Backoff: retry.Backoff{InitialInterval: 10 * time.Second, MaxInterval: 10 * time.Second, Multiplier: 1, Jitter: 1}},
			Handler: func(_ context.Context, ev canonical.Event) error {
				log.add(ev.ID)
				return afterErr{} // no Retry-After: the backoff alone
			}}
		require.ErrorIs(t, runFor(t, m, cfg, time.Hour), context.Canceled, "Run")
		at := log.get("a-1")
		require.Len(t, at, attempts, "attempts of a-1")
		for i := 1; i < len(at); i++ {
			assert.LessOrEqual(t, at[i]-at[i-1], 10*time.Second, "delay before attempt %d", i+1)
		}
	})
}
