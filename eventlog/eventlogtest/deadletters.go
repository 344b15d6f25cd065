package eventlogtest

// The checks of dead-letter state changes under concurrency: Replay,
// Discard and Resolve change a dead letter only from the state they
// expect, and the audit trail records each successful action once.

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/internal/kit"
)

// putLetters stores n dead letters of consumer (events KEY-1 ... KEY-n
// of key) and returns their IDs; putting them again makes them dead again.
func putLetters(t kit.T, b eventlog.Backend, consumer, key string, n int) []int64 {
	t.Helper()
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]int64, n)
	for i := range n {
		ev := Event(key, i+1)
		id, err := b.Put(t.Context(), eventlog.DeadLetter{Consumer: consumer, Offset: uint64(i + 1), Event: ev,
			Reason: eventlog.ReasonPermanent, Error: "boom", Attempts: 1, FirstFailure: at, LastFailure: at,
			CorrelationID: ev.CorrelationID})
		require.NoError(t, err, "Put dead letter %s", ev.ID)
		ids[i] = id
	}
	return ids
}

// since returns the actions of the audit trail after its last
// dead-lettered entry.
func since(d eventlog.DeadLetter) []string {
	var out []string
	for _, a := range d.Audit {
		if a.Action == eventlog.ActionDeadLettered {
			out = out[:0]
			continue
		}
		out = append(out, a.Action)
	}
	return out
}

// testDeadLetterRaces races Replay (by ID and by filter), Discard and
// Resolve on the same dead letters. Contract: each changes a dead letter
// only from the state it expects (Replay and Discard from dead, Resolve
// from replaying), a refused Discard or Resolve matches
// eventlog.ErrState, and the audit trail records every successful action
// exactly once and no refused one.
func testDeadLetterRaces(t kit.T, open opener) {
	b := open(t)
	ctx := t.Context()
	const letters, workers, rounds = 6, 8, 3
	var ids []int64
	replaysBefore := map[int64]int{}
	for round := range rounds {
		ids = putLetters(t, b, "race", "r", letters)

		var mu sync.Mutex
		replayed, discarded, resolved := 0, map[int64]int{}, map[int64]int{}
		var unexpected []string
		startGate := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				<-startGate
				for k := range letters {
					// Each worker visits the letters in its own order and
					// tries each action on each: the outcome depends on
					// who comes first.
					id := ids[(k+w)%letters]
					for j := range 3 {
						var err error
						switch (w + k + j) % 4 {
						case 0:
							var n int
							n, err = b.Replay(ctx, eventlog.Filter{ID: id}, eventlog.Audit{By: "worker " + strconv.Itoa(w)})
							mu.Lock()
							replayed += n
							mu.Unlock()
						case 1:
							var n int
							n, err = b.Replay(ctx, eventlog.Filter{Consumer: "race"}, eventlog.Audit{By: "worker " + strconv.Itoa(w)})
							mu.Lock()
							replayed += n
							mu.Unlock()
						case 2:
							err = b.Discard(ctx, id, eventlog.Audit{By: "worker " + strconv.Itoa(w), Why: "race"})
							if err == nil {
								mu.Lock()
								discarded[id]++
								mu.Unlock()
							}
						case 3:
							err = b.Resolve(ctx, id)
							if err == nil {
								mu.Lock()
								resolved[id]++
								mu.Unlock()
							}
						}
						if err != nil && !errors.Is(err, eventlog.ErrState) {
							mu.Lock()
							unexpected = append(unexpected, err.Error())
							mu.Unlock()
						}
					}
				}
			})
		}
		close(startGate)
		wg.Wait()
		require.Empty(t, unexpected, "round %d: errors other than ErrState from concurrent Replay, Discard and Resolve", round)

		got, err := b.List(ctx, eventlog.Filter{Consumer: "race"})
		require.NoError(t, err, "round %d: List", round)
		require.Len(t, got, letters, "round %d: dead letters", round)
		replayEntries := 0
		for _, d := range got {
			actions := since(d)
			var want eventlog.State
			switch fmt.Sprint(actions) {
			case fmt.Sprint([]string{eventlog.ActionReplay}):
				want = eventlog.StateReplaying
			case fmt.Sprint([]string{eventlog.ActionReplay, eventlog.ActionResolved}):
				want = eventlog.StateResolved
			case fmt.Sprint([]string{eventlog.ActionDiscard}):
				want = eventlog.StateDiscarded
			default:
				t.Errorf("round %d: dead letter %d: audit actions %v after it was dead-lettered; want one replay (then at most one resolve) or one discard", round, d.ID, actions)
				continue
			}
			assert.Equal(t, want, d.State, "round %d: dead letter %d: state after the actions %v", round, d.ID, actions)
			n := count(actions, eventlog.ActionReplay)
			replayEntries += n
			assert.Equal(t, replaysBefore[d.ID]+n, d.Replays, "round %d: dead letter %d: replay count against its audit trail", round, d.ID)
			replaysBefore[d.ID] = d.Replays
			assert.Equal(t, discarded[d.ID], count(actions, eventlog.ActionDiscard), "round %d: dead letter %d: discard entries against successful Discard calls", round, d.ID)
			assert.Equal(t, resolved[d.ID], count(actions, eventlog.ActionResolved), "round %d: dead letter %d: resolve entries against successful Resolve calls", round, d.ID)
		}
		assert.Equal(t, replayed, replayEntries, "round %d: replay audit entries against the dead letters Replay reported moving", round)
	}

	// Concurrent replays of one filter move each dead letter once.
	ids = putLetters(t, b, "race", "r", letters)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	var errs []error
	startGate := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			<-startGate
			n, err := b.Replay(ctx, eventlog.Filter{Consumer: "race"}, eventlog.Audit{By: "filter " + strconv.Itoa(w)})
			mu.Lock()
			total += n
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		})
	}
	close(startGate)
	wg.Wait()
	require.Empty(t, errs, "concurrent Replay of one filter")
	assert.Equal(t, letters, total, "concurrent Replays of one filter move each dead letter once in all")
	for _, id := range ids {
		d, err := b.Get(ctx, id)
		require.NoError(t, err, "Get %d", id)
		assert.Equal(t, eventlog.StateReplaying, d.State, "dead letter %d after concurrent Replays of one filter", id)
		assert.Equal(t, []string{eventlog.ActionReplay}, since(d), "dead letter %d: one replay entry after concurrent Replays of one filter", id)
		assert.Equal(t, replaysBefore[id]+1, d.Replays, "dead letter %d: replay count after concurrent Replays of one filter", id)
	}

	// A refused action leaves no trace.
	require.NoError(t, b.Resolve(ctx, ids[0]), "Resolve a replaying dead letter")
	before, err := b.Get(ctx, ids[0])
	require.NoError(t, err, "Get %d", ids[0])
	assert.ErrorIs(t, b.Discard(ctx, ids[0], eventlog.Audit{By: "ops"}), eventlog.ErrState, "Discard of a resolved dead letter")
	assert.ErrorIs(t, b.Resolve(ctx, ids[0]), eventlog.ErrState, "Resolve of a resolved dead letter")
	n, err := b.Replay(ctx, eventlog.Filter{ID: ids[0]}, eventlog.Audit{By: "ops"})
	require.NoError(t, err, "Replay of a resolved dead letter")
	assert.Equal(t, 0, n, "Replay of a resolved dead letter moves nothing")
	after, err := b.Get(ctx, ids[0])
	require.NoError(t, err, "Get %d", ids[0])
	assert.Equal(t, eventlog.StateResolved, after.State, "state after refused actions")
	assert.Len(t, after.Audit, len(before.Audit), "refused actions add no audit entry")
	assert.Equal(t, before.Replays, after.Replays, "a refused replay is not counted")
}
