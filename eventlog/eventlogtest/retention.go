package eventlogtest

// The checks of retention, for a backend that implements eventlog.Pruner:
// trimming the events every listed group committed, and purging settled
// dead letters.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/internal/kit"
	"github.com/distsync/distsync/retry"
)

// pruner returns b as an eventlog.Pruner, skipping the test (saying why)
// when it is not one: retention is an optional ability.
func pruner(t kit.T, b eventlog.Backend) eventlog.Pruner {
	t.Helper()
	p, ok := b.(eventlog.Pruner)
	if !ok {
		t.Skipf("%T does not implement eventlog.Pruner", b)
	}
	return p
}

// offsets returns the offsets of entries.
func offsets(entries []eventlog.Entry) []uint64 {
	var out []uint64
	for _, e := range entries {
		out = append(out, e.Offset)
	}
	return out
}

// testTrimEvents: TrimEvents deletes the events every listed group
// committed, never the last one; the mark never goes back and survives a
// reopen; a read before it fails with ErrTrimmed rather than skipping
// events; offsets are not reused; a consumer of a listed group goes on.
func testTrimEvents(t kit.T, open opener) {
	b := open(t)
	p := pruner(t, b)
	ctx := t.Context()
	for i := 1; i <= 10; i++ {
		appendAll(t, b, Event("t", i))
	}
	require.NoError(t, b.Commit(ctx, "g1", 0, 6), "Commit g1 6")
	require.NoError(t, b.Commit(ctx, "g2", 0, 4), "Commit g2 4")

	steps := []struct {
		name   string
		groups []string
		want   uint64
	}{
		{"no groups trims nothing", nil, 0},
		{"a group that never committed holds everything", []string{"g1", "never"}, 0},
		{"the lowest cursor of the groups", []string{"g1", "g2"}, 4},
		{"a group listed twice", []string{"g1", "g1"}, 6},
		{"the mark never goes back", []string{"g2"}, 6},
	}
	for _, st := range steps {
		got, err := p.TrimEvents(ctx, st.groups...)
		require.NoError(t, err, "TrimEvents: %s", st.name)
		assert.Equal(t, st.want, got, "TrimEvents returns the trim mark: %s", st.name)
	}
	check := func(b eventlog.Backend, through uint64, last uint64, when string) {
		t.Helper()
		for after := range through {
			_, err := b.Read(ctx, after, 3)
			assert.ErrorIs(t, err, eventlog.ErrTrimmed, "Read after %d, before the trim mark %d (%s)", after, through, when)
		}
		entries, err := b.Read(ctx, through, 100)
		require.NoError(t, err, "Read after the trim mark %d (%s)", through, when)
		var want []uint64
		for off := through + 1; off <= last; off++ {
			want = append(want, off)
		}
		assert.Equal(t, want, offsets(entries), "offsets after the trim mark %d (%s)", through, when)
	}
	check(b, 6, 10, "after trimming")
	check(open(t), 6, 10, "after reopening")

	require.NoError(t, b.Commit(ctx, "g1", 0, 10), "Commit g1 10")
	require.NoError(t, b.Commit(ctx, "g2", 0, 10), "Commit g2 10")
	got, err := p.TrimEvents(ctx, "g1", "g2")
	require.NoError(t, err, "TrimEvents of a log every group committed")
	assert.Equal(t, uint64(9), got, "TrimEvents keeps the last event of the log")
	check(b, 9, 10, "after trimming all but the last event")
	appendAll(t, b, Event("t", 11), Event("t", 12))
	check(b, 9, 12, "appending after the trim: offsets are not reused")

	// A consumer of a listed group goes on over a trimmed log.
	rec := newRecorder()
	stop := start(t, b, eventlog.ConsumerConfig{Group: "g1", Policy: fastPolicy(3),
		Handler: func(_ context.Context, ev canonical.Event) error { rec.add(ev.ID); return nil }})
	rec.wait(t, "the events after g1's cursor", func(seen []string) bool { return len(seen) >= 2 })
	require.ErrorIs(t, stop(), context.Canceled, "Run's error")
	assert.Equal(t, []string{"t-11", "t-12"}, rec.snapshot(), "a consumer over a trimmed log continues after its cursor")
}

// testPurgeDeadLetters: PurgeDeadLetters deletes the resolved and
// discarded dead letters whose last failure is older than the time given
// (or those in the states given), with their audit trail, and nothing
// else; the same event dead-lettered again gets a new ID.
func testPurgeDeadLetters(t kit.T, open opener) {
	b := open(t)
	p := pruner(t, b)
	ctx := t.Context()
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	cutoff := t0.Add(24 * time.Hour)
	put := func(n int, last time.Time) int64 {
		ev := Event("purge", n)
		id, err := b.Put(ctx, eventlog.DeadLetter{Consumer: "purge", Offset: uint64(n), Event: ev,
			Reason: eventlog.ReasonPermanent, Error: "boom", Attempts: 1, FirstFailure: t0, LastFailure: last,
			CorrelationID: ev.CorrelationID})
		require.NoError(t, err, "Put purge-%d", n)
		return id
	}
	resolve := func(id int64) {
		n, err := b.Replay(ctx, eventlog.Filter{ID: id}, eventlog.Audit{By: "kit"})
		require.NoError(t, err, "Replay %d", id)
		require.Equal(t, 1, n, "Replay %d", id)
		require.NoError(t, b.Resolve(ctx, id), "Resolve %d", id)
	}
	old, recent := t0, cutoff.Add(time.Hour)
	resolvedOld := put(1, old)
	resolve(resolvedOld)
	discardedOld := put(2, old)
	require.NoError(t, b.Discard(ctx, discardedOld, eventlog.Audit{By: "kit"}), "Discard")
	replayingOld := put(3, old)
	n, err := b.Replay(ctx, eventlog.Filter{ID: replayingOld}, eventlog.Audit{By: "kit"})
	require.NoError(t, err, "Replay")
	require.Equal(t, 1, n, "Replay")
	deadOld := put(4, old)
	resolvedRecent := put(5, recent)
	resolve(resolvedRecent)
	atCutoff := put(6, cutoff)
	require.NoError(t, b.Discard(ctx, atCutoff, eventlog.Audit{By: "kit"}), "Discard")

	n, err = p.PurgeDeadLetters(ctx, cutoff)
	require.NoError(t, err, "PurgeDeadLetters")
	assert.Equal(t, 2, n, "PurgeDeadLetters deletes the settled dead letters older than the cutoff")
	b = open(t)
	for _, id := range []int64{resolvedOld, discardedOld} {
		_, err := b.Get(ctx, id)
		assert.ErrorIs(t, err, eventlog.ErrNotFound, "Get of purged dead letter %d", id)
		assert.ErrorIs(t, b.Discard(ctx, id, eventlog.Audit{By: "kit"}), eventlog.ErrNotFound, "Discard of purged dead letter %d", id)
	}
	left, err := b.List(ctx, eventlog.Filter{Consumer: "purge"})
	require.NoError(t, err, "List")
	var ids []int64
	for _, d := range left {
		ids = append(ids, d.ID)
	}
	assert.Equal(t, []int64{replayingOld, deadOld, resolvedRecent, atCutoff}, ids,
		"kept: not settled, settled after the cutoff, last failure at the cutoff")

	n, err = p.PurgeDeadLetters(ctx, cutoff, eventlog.StateDead, eventlog.StateReplaying)
	require.NoError(t, err, "PurgeDeadLetters of dead and replaying")
	assert.Equal(t, 2, n, "PurgeDeadLetters with states deletes those states")
	// A consumer stores a failed replay by ID: the letter may have been
	// purged meanwhile.
	_, err = b.Put(ctx, eventlog.DeadLetter{ID: replayingOld, Consumer: "purge", Offset: 3, Event: Event("purge", 3),
		Reason: eventlog.ReasonPermanent, Error: "again", Attempts: 1, LastFailure: recent})
	assert.ErrorIs(t, err, eventlog.ErrNotFound, "Put by the ID of a purged dead letter")
	assert.ErrorIs(t, b.Resolve(ctx, replayingOld), eventlog.ErrNotFound, "Resolve of a purged dead letter")
	n, err = p.PurgeDeadLetters(ctx, cutoff)
	require.NoError(t, err, "PurgeDeadLetters again")
	assert.Equal(t, 0, n, "PurgeDeadLetters again deletes nothing")

	again := put(1, recent)
	assert.Greater(t, again, atCutoff, "a purged event dead-lettered again gets a new ID")
	d, err := b.Get(ctx, again)
	require.NoError(t, err, "Get %d", again)
	assert.Equal(t, eventlog.StateDead, d.State, "state of the event dead-lettered again")
	assert.Equal(t, 0, d.Replays, "its replay count starts again")
	assert.Len(t, d.Audit, 1, "its audit trail starts again: the purged one is gone")
}

// testPurgeDuringReplay: a dead letter purged while its replay is being
// handled (PurgeDeadLetters given StateReplaying, for personal data) whose
// replay fails again is not stored again and does not hold its key: the
// consumer drops it (it was deleted on purpose), handles the later events
// of the key and becomes idle.
func testPurgeDuringReplay(t kit.T, open opener) {
	b := open(t)
	p := pruner(t, b)
	ctx := t.Context()
	ev := Event("pr", 1)
	id, err := b.Put(ctx, eventlog.DeadLetter{Consumer: "pr", Offset: 0, Event: ev, Reason: eventlog.ReasonPermanent,
		Error: "boom", Attempts: 1, FirstFailure: time.Unix(1, 0), LastFailure: time.Unix(1, 0), CorrelationID: ev.CorrelationID})
	require.NoError(t, err, "Put")
	rec := newRecorder()
	c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "pr", Policy: fastPolicy(1), PollInterval: 5 * time.Millisecond,
		Handler: func(ctx context.Context, ev canonical.Event) error {
			rec.add(ev.ID)
			if ev.ID != "pr-1" {
				return nil
			}
			n, err := p.PurgeDeadLetters(ctx, time.Now(), eventlog.StateReplaying)
			if err != nil || n != 1 {
				return fmt.Errorf("purge during the replay: %d deleted, %w", n, err)
			}
			return retry.Permanent(errors.New("still failing"))
		}})
	require.NoError(t, err, "NewConsumer")
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- c.Run(rctx) }()
	n, err := b.Replay(ctx, eventlog.Filter{ID: id}, eventlog.Audit{By: "kit"})
	require.NoError(t, err, "Replay")
	require.Equal(t, 1, n, "Replay")
	rec.wait(t, "the replay", func(seen []string) bool { return count(seen, "pr-1") == 1 })
	appendAll(t, b, Event("pr", 2))
	wctx, wcancel := context.WithTimeout(ctx, timeout)
	defer wcancel()
	assert.NoError(t, c.WaitIdle(wctx), "WaitIdle after a purged replay failed again")
	assert.Equal(t, 1, count(rec.snapshot(), "pr-2"), "the next event of the key is handled")
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled, "Run's error")
	dls, err := b.List(ctx, eventlog.Filter{Consumer: "pr"})
	require.NoError(t, err, "List")
	assert.Empty(t, dls, "the purged dead letter is not stored again")
}

// testPurgeRacesReplay races PurgeDeadLetters of dead letters with
// Replay of all of them: each dead letter is either purged or replayed
// once (the counts the calls return add up), none is both, and a
// replayed one is kept with one replay in its audit trail.
func testPurgeRacesReplay(t kit.T, open opener) {
	const n = 120
	b := open(t)
	p := pruner(t, b)
	ctx := t.Context()
	putLetters(t, b, "prr", "prr", n)
	var replayed, purged atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 4 {
		wg.Go(func() {
			k, err := b.Replay(ctx, eventlog.Filter{Consumer: "prr"}, eventlog.Audit{By: "kit"})
			replayed.Add(int64(k))
			errs <- err
		})
	}
	for range 2 {
		wg.Go(func() {
			k, err := p.PurgeDeadLetters(ctx, time.Now(), eventlog.StateDead)
			purged.Add(int64(k))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "Replay or PurgeDeadLetters")
	}
	left, err := b.List(ctx, eventlog.Filter{Consumer: "prr"})
	require.NoError(t, err, "List")
	assert.Equal(t, int64(n), replayed.Load()+purged.Load(), "replayed (%d) and purged (%d) add up to the dead letters", replayed.Load(), purged.Load())
	assert.Len(t, left, int(replayed.Load()), "the replayed dead letters are kept, the purged ones gone")
	for _, d := range left {
		assert.Equal(t, eventlog.StateReplaying, d.State, "state of kept dead letter %d", d.ID)
		assert.Equal(t, 1, d.Replays, "replays of kept dead letter %d", d.ID)
		assert.Equal(t, []string{eventlog.ActionReplay}, since(d), "audit trail of kept dead letter %d", d.ID)
	}
}
