package eventlogtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/kit"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// Opener opens the storage under test: every call returns a Backend over
// the same storage, as a process restarting would. The nil Opener is not
// usable.
type Opener func(t *testing.T) eventlog.Backend

// Source is the CloudEvents source of the events the kit appends.
const Source = "urn:distsync:eventlogtest"

// Event returns a valid event of the given partition key, numbered n: its
// ID is "KEY-N", its Subject and CorrelationID are derived from key and
// its Data holds n.
func Event(key string, n int) canonical.Event {
	return canonical.Event{
		ID:            key + "-" + strconv.Itoa(n),
		Source:        Source,
		SpecVersion:   canonical.EventSpecVersion,
		Type:          "dev.distsync.eventlogtest.v1",
		Subject:       key,
		CorrelationID: "corr-" + key,
		Data:          json.RawMessage(`{"n":` + strconv.Itoa(n) + `}`),
	}
}

// timeout bounds every wait of the kit.
const timeout = 20 * time.Second

// Run runs the conformance checks against the storage newStorage creates,
// each as a subtest of t named for its contract; a failure quotes the
// contract sentence it broke. newStorage creates a fresh, empty storage
// and returns its [Opener] (not a Backend, since the checks reopen the
// storage as a restarted process would); it registers any cleanup with
// t.Cleanup.
func Run(t *testing.T, newStorage func(t *testing.T) Opener) {
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			open := newStorage(t)
			c.fn(kit.Contract(t, c.contract), func(t kit.T) eventlog.Backend { return open(kit.Testing(t)) })
		})
	}
}

// Check runs the checks of [Run] outside a test and returns their
// failures joined into one error, each prefixed with the name of its
// check and the contract sentence it broke; nil means the backend
// passed. newStorage creates a fresh, empty storage for each check and
// returns a function opening it, as newStorage of [Run] does; every
// backend it opens that has a Close method (an [io.Closer]) is closed
// when its check ends.
func Check(newStorage func() (open func() (eventlog.Backend, error), err error)) error {
	var errs []error
	for _, c := range checks {
		errs = append(errs, kit.Run(c.name, func(t kit.T) {
			t = kit.Contract(t, c.contract)
			open, err := newStorage()
			require.NoError(t, err, "creating the storage")
			c.fn(t, func(t kit.T) eventlog.Backend {
				b, err := open()
				require.NoError(t, err, "opening the storage")
				if closer, ok := b.(io.Closer); ok {
					t.Cleanup(func() { _ = closer.Close() })
				}
				return b
			})
		}))
	}
	return errors.Join(errs...)
}

// opener opens the storage under test for a check, as an [Opener] does.
type opener func(t kit.T) eventlog.Backend

// checks are the checks of the kit, in the order they run.
// checks are the checks of the kit, in the order they run, each with the
// sentence of the contract it checks.
var checks = []struct {
	name, contract string
	fn             func(t kit.T, open opener)
}{
	{"AppendRead", "Appended events read back in order, each with its offset.", testAppendRead},
	{"AppendInvalid", "A batch with an invalid event is rejected whole.", testAppendInvalid},
	{"ConcurrentAppenders", "Concurrent appenders lose and reorder nothing.", testConcurrentAppenders},
	{"Cursors", "A group's cursor never moves back, and its retry states are saved and replaced by offset.", testCursors},
	{"Fencing", "Each Claim begins a later epoch, and Commit, SaveRetry and Put with a superseded epoch are refused with ErrFenced and write nothing.", testFencing},
	{"SecondRunFencesFirst", "A second consumer of a group stops the first.", testSecondRunFencesFirst},
	{"DeadLetters", "Dead letters are stored, updated, filtered, replayed, discarded and resolved with their audit trail.", testDeadLetters},
	{"DeadLetterRaces", "Replay, Discard and Resolve racing on a dead letter each change it only from the state they expect, and the audit trail records each successful action once.", testDeadLetterRaces},
	{"TrimEvents", "A Pruner trims only the events every listed group committed, and a read before the trim fails with ErrTrimmed.", testTrimEvents},
	{"PurgeDeadLetters", "A Pruner purges the settled dead letters older than a time, and only those.", testPurgeDeadLetters},
	{"PurgeDuringReplay", "A dead letter purged while its replay runs and fails again is dropped, not holding back its key.", testPurgeDuringReplay},
	{"PurgeRacesReplay", "A purge racing Replay purges or replays each dead letter once.", testPurgeRacesReplay},
	{"PutByID", "Put with a dead letter's ID updates that dead letter (a correction).", testPutByID},
	{"OrderPerKey", "Events of one key are handled in order, with parallel keys and retried failures.", testOrderPerKey},
	{"CrashBeforeAck", "After a crash between handling and acknowledging, the event is delivered again and the dedupe store suppresses the second effect.", testCrashBeforeAck},
	{"CursorDurable", "A committed cursor survives a reopen: a restarted consumer continues after it.", testCursorDurable},
	{"FailOnceRedelivered", "A handler that fails once is redelivered and handled.", testFailOnce},
	{"PoisonKey", "A handler that always fails reaches the dead letters after its budget while other keys flow and the later events of its key wait.", testPoisonKey},
	{"PermanentReplay", "A permanent failure is dead-lettered at once and handled again after a replay.", testPermanentReplay},
	{"ShutdownInFlight", "A shutdown never dead-letters the events in flight.", testShutdownInFlight},
	{"WaitIdle", "WaitIdle returns once the consumer has handled the events and replays waiting for it; without Run it waits until its context ends.", testWaitIdle},
}

// recorder records what handlers saw and lets the test wait for it.
type recorder struct {
	mu      sync.Mutex
	seen    []string
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.seen = append(r.seen, s)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// wait waits until cond holds for what was recorded.
func (r *recorder) wait(t kit.T, what string, cond func(seen []string) bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, ch := cond(r.seen), r.changed
		n := len(r.seen)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s (%d handled)", timeout, what, n)
		}
	}
}

// count returns how often s was recorded.
func count(seen []string, s string) int {
	n := 0
	for _, x := range seen {
		if x == s {
			n++
		}
	}
	return n
}

// start runs a consumer over b until the returned stop is called; stop
// returns Run's error.
func start(t kit.T, b eventlog.Backend, cfg eventlog.ConsumerConfig) (stop func() error) {
	t.Helper()
	c, err := eventlog.NewConsumer(b, cfg)
	require.NoError(t, err, "NewConsumer for group %q", cfg.Group)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-errc:
			case <-time.After(timeout):
				runErr = errors.New("eventlogtest: Run did not return after its context was cancelled")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// fastPolicy retries quickly so that the kit runs fast.
func fastPolicy(attempts int) eventlog.ErrorPolicy {
	return eventlog.ErrorPolicy{MaxAttempts: attempts, OpenRecheck: time.Millisecond, Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 4 * time.Millisecond, Jitter: retry.NoJitter}}
}

func appendAll(t kit.T, b eventlog.Backend, evs ...canonical.Event) {
	t.Helper()
	require.NoError(t, b.Append(t.Context(), evs...), "Append %d events", len(evs))
}

func testAppendRead(t kit.T, open opener) {
	b := open(t)
	ctx := t.Context()
	entries, err := b.Read(ctx, 0, 10)
	require.NoError(t, err, "Read of an empty log")
	assert.Empty(t, entries, "Read of an empty log")
	var evs []canonical.Event
	for i := 1; i <= 7; i++ {
		evs = append(evs, Event("k"+strconv.Itoa(i%3), i))
	}
	appendAll(t, b, evs[:3]...)
	appendAll(t, b, evs[3:]...)
	require.NoError(t, b.Append(ctx), "Append of no events")

	tests := []struct {
		after uint64
		limit int
		want  []int // event numbers
	}{
		{0, 10, []int{1, 2, 3, 4, 5, 6, 7}},
		{0, 3, []int{1, 2, 3}},
		{2, 2, []int{3, 4}},
		{6, 5, []int{7}},
		{7, 5, nil},
		{100, 5, nil},
	}
	for _, tt := range tests {
		entries, err := b.Read(ctx, tt.after, tt.limit)
		require.NoError(t, err, "Read(after %d, limit %d)", tt.after, tt.limit)
		var got []int
		for _, e := range entries {
			require.NoError(t, e.Err, "entry %d decodes", e.Offset)
			n := int(e.Offset)
			got = append(got, n)
			assert.Equal(t, evs[n-1].ID, e.Event.ID, "Read(after %d): event at offset %d", tt.after, n)
			assert.Equal(t, evs[n-1].Subject, e.Event.Subject, "Read(after %d): subject at offset %d", tt.after, n)
			assert.JSONEq(t, string(evs[n-1].Data), string(e.Event.Data), "Read(after %d): data at offset %d", tt.after, n)
		}
		assert.Equal(t, tt.want, got, "Read(after %d, limit %d) offsets", tt.after, tt.limit)
	}
	// A reopened backend reads the same log.
	entries, err = open(t).Read(ctx, 0, 100)
	require.NoError(t, err, "Read after reopening")
	assert.Len(t, entries, 7, "entries after reopening")
}

func testAppendInvalid(t kit.T, open opener) {
	b := open(t)
	bad := Event("k", 2)
	bad.Source = ""
	err := b.Append(t.Context(), Event("k", 1), bad)
	require.ErrorIs(t, err, eventlog.ErrInvalidEvent, "Append of a batch with an event without source")
	entries, err := b.Read(t.Context(), 0, 10)
	require.NoError(t, err, "Read after a rejected batch")
	assert.Empty(t, entries, "a rejected batch appends nothing")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.Error(t, b.Append(ctx, Event("k", 3)), "Append with a cancelled context")
}

func testConcurrentAppenders(t kit.T, open opener) {
	b := open(t)
	const writers, batches, per = 6, 10, 4
	const total = writers * batches * per
	// A reader tails the log while the writers append: it must never skip
	// an offset (an entry committed late behind a visible later one).
	tailDone := make(chan struct{})
	var tailed []uint64
	var tailErr error
	go func() {
		defer close(tailDone)
		var after uint64
		for len(tailed) < total {
			entries, err := b.Read(t.Context(), after, 7)
			if err != nil {
				tailErr = err
				return
			}
			for _, e := range entries {
				tailed = append(tailed, e.Offset)
				after = e.Offset
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			key := "w" + strconv.Itoa(w)
			for i := range batches {
				var evs []canonical.Event
				for j := range per {
					evs = append(evs, Event(key, i*per+j+1))
				}
				if err := b.Append(t.Context(), evs...); err != nil {
					errs <- fmt.Errorf("writer %d batch %d: %w", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "concurrent Append")
	}
	var all []eventlog.Entry
	for {
		entries, err := b.Read(t.Context(), uint64(len(all)), 17)
		require.NoError(t, err, "Read after %d", len(all))
		if len(entries) == 0 {
			break
		}
		all = append(all, entries...)
	}
	require.Len(t, all, total, "entries appended concurrently")
	select {
	case <-tailDone:
	case <-time.After(timeout):
		t.Fatalf("the tailing reader did not see every entry")
	}
	require.NoError(t, tailErr, "tailing Read")
	for i, off := range tailed {
		require.Equal(t, uint64(i+1), off, "the tailing reader saw offsets in order without skipping")
	}
	next := map[string]int{}
	for i, e := range all {
		require.Equal(t, uint64(i+1), e.Offset, "offsets are contiguous from 1")
		k := e.Event.Subject
		next[k]++
		assert.Equal(t, k+"-"+strconv.Itoa(next[k]), e.Event.ID, "writer %s's events keep their order", k)
	}
}

func testCursors(t kit.T, open opener) {
	b := open(t)
	ctx := t.Context()
	st, err := b.Group(ctx, "g")
	require.NoError(t, err, "Group of an unknown group")
	assert.Equal(t, eventlog.GroupState{}, st, "an unknown group has the zero state")

	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r5 := eventlog.Retry{Offset: 5, Attempts: 2, FirstFailure: now, LastFailure: now.Add(time.Second), Due: now.Add(time.Minute)}
	r9 := eventlog.Retry{Offset: 9, Attempts: 1, FirstFailure: now, LastFailure: now, Due: now.Add(time.Hour)}
	require.NoError(t, b.SaveRetry(ctx, "g", 0, r9), "SaveRetry offset 9")
	require.NoError(t, b.SaveRetry(ctx, "g", 0, eventlog.Retry{Offset: 5, Attempts: 1}), "SaveRetry offset 5")
	require.NoError(t, b.SaveRetry(ctx, "g", 0, r5), "SaveRetry offset 5 again replaces it")
	require.NoError(t, b.Commit(ctx, "g", 0, 3), "Commit 3")
	require.NoError(t, b.Commit(ctx, "other", 0, 1), "Commit 1 of another group")

	b = open(t)
	st, err = b.Group(ctx, "g")
	require.NoError(t, err, "Group after reopening")
	assert.Equal(t, uint64(3), st.Cursor, "cursor survives a reopen")
	require.Len(t, st.Retries, 2, "retry states survive a reopen")
	assertRetry(t, r5, st.Retries[0])
	assertRetry(t, r9, st.Retries[1])

	require.NoError(t, b.Commit(ctx, "g", 0, 2), "Commit 2 (backwards)")
	st, err = b.Group(ctx, "g")
	require.NoError(t, err, "Group")
	assert.Equal(t, uint64(3), st.Cursor, "a cursor never moves back")

	require.NoError(t, b.Commit(ctx, "g", 0, 5), "Commit 5")
	st, err = b.Group(ctx, "g")
	require.NoError(t, err, "Group")
	assert.Equal(t, uint64(5), st.Cursor, "cursor after Commit 5")
	require.Len(t, st.Retries, 1, "Commit 5 deletes the retry state of offset 5")
	assert.Equal(t, uint64(9), st.Retries[0].Offset, "the retry state of offset 9 stays")

	st, err = b.Group(ctx, "other")
	require.NoError(t, err, "Group other")
	assert.Equal(t, eventlog.GroupState{Cursor: 1}, st, "groups are independent")
}

func testFencing(t kit.T, open opener) {
	b := open(t)
	ctx := t.Context()
	e1, err := b.Claim(ctx, "g")
	require.NoError(t, err, "Claim of a new group")
	require.NotZero(t, e1, "Claim returns a non-zero epoch")
	require.NoError(t, b.Commit(ctx, "g", e1, 2), "Commit with the current epoch")
	require.NoError(t, b.SaveRetry(ctx, "g", e1, eventlog.Retry{Offset: 4, Attempts: 1}), "SaveRetry with the current epoch")
	_, err = b.Put(ctx, eventlog.DeadLetter{Consumer: "g", Offset: 3, Event: Event("f", 1), Reason: eventlog.ReasonPermanent,
		Error: "boom", Attempts: 1, Epoch: e1})
	require.NoError(t, err, "Put with the current epoch")

	b = open(t) // another process claims the group
	e2, err := b.Claim(ctx, "g")
	require.NoError(t, err, "second Claim")
	require.Greater(t, e2, e1, "each Claim begins a later epoch")
	other, err := b.Claim(ctx, "other")
	require.NoError(t, err, "Claim of another group")

	assert.ErrorIs(t, b.Commit(ctx, "g", e1, 9), eventlog.ErrFenced, "Commit with a superseded epoch")
	assert.ErrorIs(t, b.SaveRetry(ctx, "g", e1, eventlog.Retry{Offset: 5, Attempts: 1}), eventlog.ErrFenced,
		"SaveRetry with a superseded epoch")
	_, err = b.Put(ctx, eventlog.DeadLetter{Consumer: "g", Offset: 6, Event: Event("f", 2), Reason: eventlog.ReasonPermanent,
		Error: "boom", Attempts: 1, Epoch: e1})
	assert.ErrorIs(t, err, eventlog.ErrFenced, "Put with a superseded epoch")
	assert.ErrorIs(t, b.Commit(ctx, "g", e2+1, 9), eventlog.ErrFenced, "Commit with an epoch not claimed yet")
	assert.ErrorIs(t, b.Commit(ctx, "never-claimed", 1, 9), eventlog.ErrFenced, "Commit with an epoch of a group never claimed")

	st, err := b.Group(ctx, "g")
	require.NoError(t, err, "Group")
	assert.Equal(t, uint64(2), st.Cursor, "a fenced Commit leaves the cursor")
	require.Len(t, st.Retries, 1, "a fenced SaveRetry stores nothing")
	assert.Equal(t, uint64(4), st.Retries[0].Offset, "the retry state written with the current epoch stays")
	dls, err := b.List(ctx, eventlog.Filter{Consumer: "g"})
	require.NoError(t, err, "List")
	require.Len(t, dls, 1, "a fenced Put stores nothing")
	assert.Equal(t, "f-1", dls[0].Event.ID, "the dead letter written with the current epoch")
	assert.Zero(t, dls[0].Epoch, "Epoch is not stored")

	require.NoError(t, b.Commit(ctx, "g", e2, 3), "Commit with the new epoch")
	require.NoError(t, b.Commit(ctx, "g", 0, 4), "Commit with epoch 0 is not fenced")
	require.NoError(t, b.Commit(ctx, "other", other, 1), "another group's epoch is its own")
	st, err = b.Group(ctx, "g")
	require.NoError(t, err, "Group")
	assert.Equal(t, uint64(4), st.Cursor, "cursor after the new epoch's commits")
}

// testPutByID: Put with an ID updates that dead letter, whatever its
// event, keeping its ID, first failure and audit trail; an ID of another
// consumer or of no dead letter is not found.
func testPutByID(t kit.T, open opener) {
	b := open(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	id, err := b.Put(ctx, eventlog.DeadLetter{Consumer: "g", Offset: 7, Raw: []byte(`{"broken":`),
		Reason: eventlog.ReasonUndecodable, Error: "undecodable", Attempts: 1, FirstFailure: t0, LastFailure: t0})
	require.NoError(t, err, "Put an undecodable dead letter")
	fixed := Event("p", 1)
	got, err := b.Put(ctx, eventlog.DeadLetter{ID: id, Consumer: "g", Offset: 7, Event: fixed, Reason: eventlog.ReasonPermanent,
		Error: "corrected", Attempts: 1, FirstFailure: t0.Add(time.Hour), LastFailure: t0.Add(time.Hour)})
	require.NoError(t, err, "Put a corrected event under the dead letter's ID")
	assert.Equal(t, id, got, "Put by ID returns the ID")
	d, err := b.Get(ctx, id)
	require.NoError(t, err, "Get")
	assert.Equal(t, fixed.ID, d.Event.ID, "the corrected event replaces the stored one")
	assert.True(t, d.FirstFailure.Equal(t0), "first failure kept: %v", d.FirstFailure)
	assert.Len(t, d.Audit, 2, "audit trail of a dead letter put twice")
	all, err := b.List(ctx, eventlog.Filter{Consumer: "g"})
	require.NoError(t, err, "List")
	assert.Len(t, all, 1, "Put by ID adds no dead letter")
	_, err = b.Put(ctx, eventlog.DeadLetter{ID: id, Consumer: "other", Event: fixed})
	assert.ErrorIs(t, err, eventlog.ErrNotFound, "Put by the ID of another consumer's dead letter")
	_, err = b.Put(ctx, eventlog.DeadLetter{ID: id + 1000, Consumer: "g", Event: fixed})
	assert.ErrorIs(t, err, eventlog.ErrNotFound, "Put by an ID that names no dead letter")
}

// testSecondRunFencesFirst: a second consumer of the same group claims
// it; the first stops with ErrFenced at its next write instead of running
// the group alongside it. (Backends that are a GroupLocker keep the second
// waiting instead; the check then does not apply.)
func testSecondRunFencesFirst(t kit.T, open opener) {
	b := open(t)
	if gl, ok := b.(eventlog.GroupLocker); ok {
		lock, ok, err := gl.TryLockGroup(t.Context(), "fence")
		require.NoError(t, err, "TryLockGroup")
		require.True(t, ok, "TryLockGroup of a free group")
		lock2, shared, err := open(t).(eventlog.GroupLocker).TryLockGroup(t.Context(), "fence")
		require.NoError(t, err, "TryLockGroup again")
		if shared {
			lock2.Unlock()
		}
		lock.Unlock()
		if !shared {
			t.Skipf("the backend's group lock keeps a second consumer waiting; fencing is checked by the Fencing subtest")
		}
	}
	seen := newRecorder()
	cfg := eventlog.ConsumerConfig{Group: "fence", PollInterval: time.Millisecond, Policy: fastPolicy(3),
		Handler: func(_ context.Context, ev canonical.Event) error { seen.add(ev.ID); return nil }}
	first, err := eventlog.NewConsumer(b, cfg)
	require.NoError(t, err, "NewConsumer first")
	errc := make(chan error, 1)
	go func() { errc <- first.Run(t.Context()) }()
	appendAll(t, b, Event("k", 1))
	seen.wait(t, "k-1 handled by the first consumer", func(s []string) bool { return count(s, "k-1") == 1 })
	require.NoError(t, first.WaitIdle(t.Context()), "WaitIdle first")

	cfg2 := cfg
	cfg2.Handler = func(_ context.Context, ev canonical.Event) error { seen.add("second:" + ev.ID); return nil }
	second, err := eventlog.NewConsumer(open(t), cfg2)
	require.NoError(t, err, "NewConsumer second")
	ctx2, stop2 := context.WithCancel(t.Context())
	defer stop2()
	errc2 := make(chan error, 1)
	go func() { errc2 <- second.Run(ctx2) }()
	// Once it is idle, the second consumer has claimed the group.
	require.NoError(t, second.WaitIdle(t.Context()), "WaitIdle second")
	appendAll(t, b, Event("k", 2))
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, eventlog.ErrFenced, "the first consumer's Run after the second claimed the group")
	case <-time.After(timeout):
		t.Fatalf("the first consumer kept running the group after a second one claimed it")
	}
	seen.wait(t, "k-2 handled by the second consumer", func(s []string) bool { return count(s, "second:k-2") == 1 })
	stop2()
	require.ErrorIs(t, <-errc2, context.Canceled, "the second consumer's Run")
}

func assertRetry(t kit.T, want, got eventlog.Retry) {
	t.Helper()
	assert.Equal(t, want.Offset, got.Offset, "retry offset")
	assert.Equal(t, want.Attempts, got.Attempts, "retry attempts of offset %d", want.Offset)
	assert.True(t, want.FirstFailure.Equal(got.FirstFailure), "first failure of offset %d: want %v, got %v", want.Offset, want.FirstFailure, got.FirstFailure)
	assert.True(t, want.LastFailure.Equal(got.LastFailure), "last failure of offset %d: want %v, got %v", want.Offset, want.LastFailure, got.LastFailure)
	assert.True(t, want.Due.Equal(got.Due), "due time of offset %d: want %v, got %v", want.Offset, want.Due, got.Due)
}

func testDeadLetters(t kit.T, open opener) {
	b := open(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(consumer, key string, n int, reason eventlog.Reason, class string, at time.Time) eventlog.DeadLetter {
		ev := Event(key, n)
		return eventlog.DeadLetter{Consumer: consumer, Offset: uint64(n), Event: ev, Reason: reason,
			Error: "boom " + ev.ID, ErrorClass: class, Attempts: 3, FirstFailure: at, LastFailure: at,
			CorrelationID: ev.CorrelationID}
	}
	inputs := []eventlog.DeadLetter{
		mk("billing", "o1", 1, eventlog.ReasonPermanent, "invalid", t0),
		mk("billing", "o2", 2, eventlog.ReasonExhausted, "unavailable", t0.Add(time.Hour)),
		mk("crm", "o1", 1, eventlog.ReasonExhausted, "rate_limited", t0.Add(2*time.Hour)),
		{Consumer: "crm", Offset: 9, Raw: []byte(`{not json`), Reason: eventlog.ReasonUndecodable,
			Error: "bad json", ErrorClass: "error", Attempts: 1, FirstFailure: t0, LastFailure: t0.Add(3 * time.Hour)},
	}
	for i, d := range inputs {
		id, err := b.Put(ctx, d)
		require.NoError(t, err, "Put dead letter %d", i)
		assert.Equal(t, int64(i+1), id, "ID of dead letter %d", i)
	}
	// The same event of the same consumer updates the record.
	again := mk("billing", "o1", 1, eventlog.ReasonExhausted, "unavailable", t0.Add(30*time.Minute))
	again.Attempts = 5
	id, err := b.Put(ctx, again)
	require.NoError(t, err, "Put of the same event again")
	assert.Equal(t, int64(1), id, "Put of the same event keeps its ID")

	b = open(t)
	d, err := b.Get(ctx, 1)
	require.NoError(t, err, "Get 1 after reopening")
	assert.Equal(t, eventlog.ReasonExhausted, d.Reason, "updated reason")
	assert.Equal(t, 5, d.Attempts, "updated attempts")
	assert.True(t, t0.Equal(d.FirstFailure), "first failure is kept: %v", d.FirstFailure)
	assert.True(t, t0.Add(30*time.Minute).Equal(d.LastFailure), "last failure is updated: %v", d.LastFailure)
	assert.Equal(t, eventlog.StateDead, d.State, "state of a new dead letter")
	assert.Equal(t, "o1-1", d.Event.ID, "event ID")
	assert.Equal(t, "corr-o1", d.CorrelationID, "correlation ID")
	assert.JSONEq(t, `{"n":1}`, string(d.Event.Data), "event data")
	require.Len(t, d.Audit, 2, "audit trail of a dead letter put twice")
	assert.Equal(t, eventlog.ActionDeadLettered, d.Audit[0].Action, "first audit action")

	d4, err := b.Get(ctx, 4)
	require.NoError(t, err, "Get 4")
	assert.Equal(t, []byte(`{not json`), d4.Raw, "raw payload of an undecodable event")
	assert.Equal(t, uint64(9), d4.Offset, "offset of an undecodable event")

	_, err = b.Get(ctx, 99)
	assert.ErrorIs(t, err, eventlog.ErrNotFound, "Get of an unknown ID")

	ids := func(ds []eventlog.DeadLetter) []int64 {
		var out []int64
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	filters := []struct {
		name string
		f    eventlog.Filter
		want []int64
	}{
		{"all", eventlog.Filter{}, []int64{1, 2, 3, 4}},
		{"consumer", eventlog.Filter{Consumer: "crm"}, []int64{3, 4}},
		{"reason", eventlog.Filter{Reason: eventlog.ReasonExhausted}, []int64{1, 2, 3}},
		{"class", eventlog.Filter{ErrorClass: "unavailable"}, []int64{1, 2}},
		{"correlation", eventlog.Filter{CorrelationID: "corr-o1"}, []int64{1, 3}},
		{"since", eventlog.Filter{Since: t0.Add(time.Hour)}, []int64{2, 3, 4}},
		{"until", eventlog.Filter{Until: t0.Add(time.Hour)}, []int64{1}},
		{"range", eventlog.Filter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, []int64{2, 3}},
		{"id", eventlog.Filter{ID: 2}, []int64{2}},
		{"limit", eventlog.Filter{Limit: 2}, []int64{1, 2}},
		{"combined", eventlog.Filter{Consumer: "billing", CorrelationID: "corr-o2"}, []int64{2}},
		{"none", eventlog.Filter{Consumer: "nobody"}, nil},
	}
	for _, tt := range filters {
		got, err := b.List(ctx, tt.f)
		require.NoError(t, err, "List %s", tt.name)
		assert.Equal(t, tt.want, ids(got), "List %s", tt.name)
	}

	n, err := b.Replay(ctx, eventlog.Filter{Consumer: "billing"}, eventlog.Audit{By: "ops@example.com", Why: "ERP fixed"})
	require.NoError(t, err, "Replay billing")
	assert.Equal(t, 2, n, "Replay billing moves both")
	n, err = b.Replay(ctx, eventlog.Filter{Consumer: "billing"}, eventlog.Audit{By: "ops"})
	require.NoError(t, err, "Replay billing again")
	assert.Equal(t, 0, n, "a replaying dead letter is not replayed again")
	got, err := b.List(ctx, eventlog.Filter{State: eventlog.StateReplaying})
	require.NoError(t, err, "List replaying")
	require.Equal(t, []int64{1, 2}, ids(got), "List replaying")
	assert.Equal(t, 1, got[0].Replays, "replay count")
	require.NotEmpty(t, got[0].Audit, "audit trail after Replay")
	last := got[0].Audit[len(got[0].Audit)-1]
	assert.Equal(t, eventlog.Audit{At: last.At, Action: eventlog.ActionReplay, By: "ops@example.com", Why: "ERP fixed"}, last, "replay audit entry")
	assert.False(t, last.At.IsZero(), "replay audit time is set")

	require.NoError(t, b.Resolve(ctx, 1), "Resolve 1")
	assert.ErrorIs(t, b.Resolve(ctx, 1), eventlog.ErrState, "Resolve of a resolved dead letter")
	assert.ErrorIs(t, b.Resolve(ctx, 3), eventlog.ErrState, "Resolve of a dead letter not replaying")
	assert.ErrorIs(t, b.Discard(ctx, 2, eventlog.Audit{By: "ops"}), eventlog.ErrState, "Discard of a replaying dead letter")
	assert.ErrorIs(t, b.Discard(ctx, 42, eventlog.Audit{By: "ops"}), eventlog.ErrNotFound, "Discard of an unknown ID")

	at := t0.Add(24 * time.Hour)
	require.NoError(t, b.Discard(ctx, 3, eventlog.Audit{At: at, By: "ops@example.com", Why: "order cancelled"}), "Discard 3")
	b = open(t)
	d3, err := b.Get(ctx, 3)
	require.NoError(t, err, "Get 3")
	assert.Equal(t, eventlog.StateDiscarded, d3.State, "state after Discard")
	require.Len(t, d3.Audit, 2, "audit trail after Discard")
	assert.Equal(t, eventlog.ActionDiscard, d3.Audit[1].Action, "discard audit action")
	assert.Equal(t, "ops@example.com", d3.Audit[1].By, "discard audit by")
	assert.Equal(t, "order cancelled", d3.Audit[1].Why, "discard audit why")
	assert.True(t, at.Equal(d3.Audit[1].At), "discard audit time: %v", d3.Audit[1].At)
	d1, err := b.Get(ctx, 1)
	require.NoError(t, err, "Get 1")
	assert.Equal(t, eventlog.StateResolved, d1.State, "state after Resolve")
	require.NotEmpty(t, d1.Audit, "audit trail after Resolve")
	assert.Equal(t, eventlog.ActionResolved, d1.Audit[len(d1.Audit)-1].Action, "resolve audit action")

	// A dead letter put again after a replay is dead again and keeps its
	// replay count.
	_, err = b.Put(ctx, inputs[1])
	require.NoError(t, err, "Put 2 again")
	d2, err := b.Get(ctx, 2)
	require.NoError(t, err, "Get 2")
	assert.Equal(t, eventlog.StateDead, d2.State, "state of a replay that failed again")
	assert.Equal(t, 1, d2.Replays, "replay count is kept")
}

func testOrderPerKey(t kit.T, open opener) {
	b := open(t)
	const keys, per = 8, 25
	var evs []canonical.Event
	for i := 1; i <= per; i++ {
		for k := range keys {
			evs = append(evs, Event("key"+strconv.Itoa(k), i))
		}
	}
	appendAll(t, b, evs...)
	rec := newRecorder()
	var mu sync.Mutex
	failed := map[string]bool{}
	var violations []string
	lastSeen := map[string]int{}
	stop := start(t, b, eventlog.ConsumerConfig{
		Group: "order", Workers: 4, BatchSize: 16, Policy: fastPolicy(5),
		Handler: func(ctx context.Context, ev canonical.Event) error {
			suffix, _ := strings.CutPrefix(ev.ID, ev.Subject+"-")
			n, _ := strconv.Atoi(suffix)
			mu.Lock()
			if n <= lastSeen[ev.Subject] {
				violations = append(violations, fmt.Sprintf("%s after %s-%d", ev.ID, ev.Subject, lastSeen[ev.Subject]))
			}
			// Every third event fails once with a transient error.
			if n%3 == 0 && !failed[ev.ID] {
				failed[ev.ID] = true
				mu.Unlock()
				return errors.New("transient")
			}
			lastSeen[ev.Subject] = n
			mu.Unlock()
			if got := tracing.CorrelationID(ctx); got != ev.CorrelationID {
				return retry.Permanent(fmt.Errorf("correlation ID in ctx %q, want %q", got, ev.CorrelationID))
			}
			if got := tracing.CausationID(ctx); got != ev.ID {
				return retry.Permanent(fmt.Errorf("causation ID in ctx %q, want %q", got, ev.ID))
			}
			rec.add(ev.ID)
			return nil
		},
	})
	rec.wait(t, "all events", func(seen []string) bool { return len(seen) >= len(evs) })
	require.ErrorIs(t, stop(), context.Canceled, "Run's error after stop")
	mu.Lock()
	assert.Empty(t, violations, "per-key order violations")
	mu.Unlock()
	seen := rec.snapshot()
	assert.Len(t, seen, len(evs), "each event handled once")
	for _, ev := range evs {
		assert.Equal(t, 1, count(seen, ev.ID), "successful handlings of %s", ev.ID)
	}
	dls, err := b.List(t.Context(), eventlog.Filter{})
	require.NoError(t, err, "List")
	assert.Empty(t, dls, "no dead letters")
	st, err := b.Group(t.Context(), "order")
	require.NoError(t, err, "Group")
	assert.Equal(t, uint64(len(evs)), st.Cursor, "cursor after all events")
	assert.Empty(t, st.Retries, "no retry state after all events")
}

// dropCommits is a Backend whose commits never reach the storage, as if
// the process died before each of them.
type dropCommits struct{ eventlog.Backend }

func (dropCommits) Commit(context.Context, string, uint64, uint64) error { return nil }

func testCrashBeforeAck(t kit.T, open opener) {
	b := open(t)
	var evs []canonical.Event
	for i := 1; i <= 12; i++ {
		evs = append(evs, Event("c"+strconv.Itoa(i%4), i))
	}
	appendAll(t, b, evs...)
	dedupe, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1})
	require.NoError(t, err, "NewMemoryStore")
	t.Cleanup(func() { _ = dedupe.Close() })

	for round, withDedupe := range []bool{true, false} {
		kit.Sub(t, "dedupe="+strconv.FormatBool(withDedupe), func(t kit.T) {
			group := "crash-" + strconv.FormatBool(withDedupe)
			var store idempotency.Store
			if withDedupe {
				store = dedupe
			}
			effects := newRecorder()
			handler := func(_ context.Context, ev canonical.Event) error { effects.add(ev.ID); return nil }
			cfg := eventlog.ConsumerConfig{Group: group, Handler: handler, Dedupe: store, Policy: fastPolicy(3)}
			stop := start(t, dropCommits{open(t)}, cfg)
			effects.wait(t, "the first delivery", func(seen []string) bool { return len(seen) >= len(evs) })
			require.ErrorIs(t, stop(), context.Canceled, "Run's error")

			// The "restarted process": a new backend over the same storage.
			b2 := open(t)
			st, err := b2.Group(t.Context(), group)
			require.NoError(t, err, "Group after the crash")
			assert.Equal(t, uint64(0), st.Cursor, "nothing was acknowledged before the crash")
			// One marker per key: once every marker is handled, every
			// earlier event of its key was delivered again.
			var markers []canonical.Event
			for k := range 4 {
				markers = append(markers, Event("c"+strconv.Itoa(k), 100+round))
			}
			appendAll(t, b2, markers...)
			stop = start(t, b2, cfg)
			effects.wait(t, "the markers", func(seen []string) bool {
				for _, m := range markers {
					if count(seen, m.ID) != 1 {
						return false
					}
				}
				return true
			})
			require.ErrorIs(t, stop(), context.Canceled, "Run's error")
			seen := effects.snapshot()
			for _, ev := range evs {
				want := 2 // at least once: delivered again
				if withDedupe {
					want = 1 // the dedupe store suppresses the second effect
				}
				assert.Equal(t, want, count(seen, ev.ID), "effects of %s", ev.ID)
			}
			evs = append(evs, markers...)
			st, err = open(t).Group(t.Context(), group)
			require.NoError(t, err, "Group after the second run")
			assert.Equal(t, uint64(len(evs)), st.Cursor, "cursor after the second run")
		})
	}
}

func testCursorDurable(t kit.T, open opener) {
	b := open(t)
	appendAll(t, b, Event("a", 1), Event("b", 1), Event("a", 2))
	rec := newRecorder()
	cfg := eventlog.ConsumerConfig{Group: "durable", Policy: fastPolicy(3),
		Handler: func(_ context.Context, ev canonical.Event) error { rec.add(ev.ID); return nil }}
	stop := start(t, b, cfg)
	rec.wait(t, "three events", func(seen []string) bool { return len(seen) == 3 })
	require.ErrorIs(t, stop(), context.Canceled, "Run's error")
	b = open(t)
	st, err := b.Group(t.Context(), "durable")
	require.NoError(t, err, "Group after a clean stop")
	assert.Equal(t, uint64(3), st.Cursor, "cursor after a clean stop")
	appendAll(t, b, Event("b", 2))
	stop = start(t, b, cfg)
	rec.wait(t, "the fourth event", func(seen []string) bool { return len(seen) >= 4 })
	require.ErrorIs(t, stop(), context.Canceled, "Run's error")
	assert.Equal(t, []string{"b-2"}, rec.snapshot()[3:], "a restarted consumer continues after its cursor")
}

func testFailOnce(t kit.T, open opener) {
	b := open(t)
	var evs []canonical.Event
	for i := 1; i <= 6; i++ {
		evs = append(evs, Event("f"+strconv.Itoa(i%2), i))
	}
	appendAll(t, b, evs...)
	rec := newRecorder()
	var mu sync.Mutex
	calls := map[string]int{}
	dedupe, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1})
	require.NoError(t, err, "NewMemoryStore")
	t.Cleanup(func() { _ = dedupe.Close() })
	stop := start(t, b, eventlog.ConsumerConfig{Group: "once", Dedupe: dedupe, Policy: fastPolicy(3),
		Handler: func(_ context.Context, ev canonical.Event) error {
			mu.Lock()
			calls[ev.ID]++
			n := calls[ev.ID]
			mu.Unlock()
			if n == 1 {
				return errors.New("first attempt fails")
			}
			rec.add(ev.ID)
			return nil
		}})
	rec.wait(t, "every event handled", func(seen []string) bool { return len(seen) >= len(evs) })
	require.ErrorIs(t, stop(), context.Canceled, "Run's error")
	for _, ev := range evs {
		assert.Equal(t, 1, count(rec.snapshot(), ev.ID), "%s is handled after failing once (never dropped)", ev.ID)
	}
	dls, err := b.List(t.Context(), eventlog.Filter{})
	require.NoError(t, err, "List")
	assert.Empty(t, dls, "an event that failed once is not dead-lettered")
}

func testPoisonKey(t kit.T, open opener) {
	b := open(t)
	const others = 40
	evs := []canonical.Event{Event("poison", 1)}
	for i := 1; i <= others; i++ {
		evs = append(evs, Event("ok"+strconv.Itoa(i%5), i))
	}
	evs = append(evs, Event("poison", 2))
	appendAll(t, b, evs...)

	rec := newRecorder()
	othersDone := make(chan struct{})
	var mu sync.Mutex
	okCount, attempts := 0, 0
	var problems []string
	stop := start(t, b, eventlog.ConsumerConfig{Group: "poison", Workers: 2, Policy: fastPolicy(3),
		Handler: func(ctx context.Context, ev canonical.Event) error {
			switch ev.ID {
			case "poison-1":
				mu.Lock()
				attempts++
				a := attempts
				mu.Unlock()
				if a == 2 {
					// The other keys must flow while this key is parked:
					// wait for all of them before failing again.
					select {
					case <-othersDone:
					case <-ctx.Done():
					case <-time.After(timeout):
						mu.Lock()
						problems = append(problems, "other keys did not flow while poison-1 was parked")
						mu.Unlock()
					}
				}
				return connectorLikeError{transient: true}
			case "poison-2":
				// poison-1 must have been dead-lettered before its key moves on.
				dls, err := b.List(ctx, eventlog.Filter{Consumer: "poison"})
				mu.Lock()
				if err != nil || len(dls) != 1 || dls[0].Event.ID != "poison-1" {
					problems = append(problems, fmt.Sprintf("poison-2 handled before poison-1 was dead-lettered (%d dead letters, err %v)", len(dls), err))
				}
				mu.Unlock()
			default:
				mu.Lock()
				okCount++
				if okCount == others {
					close(othersDone)
				}
				mu.Unlock()
			}
			rec.add(ev.ID)
			return nil
		}})
	rec.wait(t, "poison-2", func(seen []string) bool { return count(seen, "poison-2") == 1 })
	require.ErrorIs(t, stop(), context.Canceled, "Run's error")
	mu.Lock()
	assert.Empty(t, problems, "problems seen by the handler")
	assert.Equal(t, 3, attempts, "attempts of poison-1 (MaxAttempts)")
	mu.Unlock()
	dls, err := b.List(t.Context(), eventlog.Filter{Consumer: "poison"})
	require.NoError(t, err, "List")
	require.Len(t, dls, 1, "dead letters")
	d := dls[0]
	assert.Equal(t, eventlog.ReasonExhausted, d.Reason, "reason")
	assert.Equal(t, 3, d.Attempts, "attempts")
	assert.Equal(t, "unavailable", d.ErrorClass, "error class")
	assert.Equal(t, "corr-poison", d.CorrelationID, "correlation ID")
	assert.Equal(t, "connector-like: transient", d.Error, "error text")
	assert.False(t, d.FirstFailure.After(d.LastFailure), "first failure %v not after last %v", d.FirstFailure, d.LastFailure)
	assert.Equal(t, uint64(1), d.Offset, "offset")
	st, err := b.Group(t.Context(), "poison")
	require.NoError(t, err, "Group")
	assert.Equal(t, uint64(len(evs)), st.Cursor, "a dead-lettered event does not hold the cursor back")
}

// connectorLikeError is classified as connector.Error is, without
// importing it: Retryable, ErrorClass.
type connectorLikeError struct{ transient bool }

func (e connectorLikeError) Error() string {
	if e.transient {
		return "connector-like: transient"
	}
	return "connector-like: invalid"
}
func (e connectorLikeError) Retryable() bool { return e.transient }
func (e connectorLikeError) ErrorClass() string {
	if e.transient {
		return "unavailable"
	}
	return "invalid"
}

func testPermanentReplay(t kit.T, open opener) {
	b := open(t)
	appendAll(t, b, Event("p", 1), Event("p", 2), Event("q", 1))
	rec := newRecorder()
	var mu sync.Mutex
	fixed := false
	dedupe, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1})
	require.NoError(t, err, "NewMemoryStore")
	t.Cleanup(func() { _ = dedupe.Close() })
	cfg := eventlog.ConsumerConfig{Group: "perm", Dedupe: dedupe, Policy: fastPolicy(5), PollInterval: 5 * time.Millisecond,
		Handler: func(_ context.Context, ev canonical.Event) error {
			mu.Lock()
			ok := fixed
			mu.Unlock()
			if ev.ID == "p-1" && !ok {
				rec.add("fail:" + ev.ID)
				return fmt.Errorf("decode order document: %w", retry.Permanent(errors.New("unexpected end of JSON input")))
			}
			rec.add(ev.ID)
			return nil
		}}
	stop := start(t, b, cfg)
	rec.wait(t, "p-2 and q-1", func(seen []string) bool { return count(seen, "p-2") == 1 && count(seen, "q-1") == 1 })
	assert.Equal(t, 1, count(rec.snapshot(), "fail:p-1"), "a permanent error is not retried")
	dls, err := b.List(t.Context(), eventlog.Filter{Consumer: "perm", State: eventlog.StateDead})
	require.NoError(t, err, "List")
	require.Len(t, dls, 1, "dead letters")
	assert.Equal(t, eventlog.ReasonPermanent, dls[0].Reason, "reason")
	assert.Equal(t, 1, dls[0].Attempts, "attempts")
	assert.Equal(t, "error", dls[0].ErrorClass, "error class")
	assert.Contains(t, dls[0].Error, "decode order document", "error text")

	mu.Lock()
	fixed = true
	mu.Unlock()
	n, err := b.Replay(t.Context(), eventlog.Filter{ID: dls[0].ID}, eventlog.Audit{By: "ops", Why: "decoder fixed"})
	require.NoError(t, err, "Replay")
	require.Equal(t, 1, n, "Replay count")
	rec.wait(t, "p-1 replayed", func(seen []string) bool { return count(seen, "p-1") == 1 })
	require.ErrorIs(t, stop(), context.Canceled, "Run's error")
	d, err := b.Get(t.Context(), dls[0].ID)
	require.NoError(t, err, "Get")
	assert.Equal(t, eventlog.StateResolved, d.State, "state after a successful replay")
	assert.Equal(t, 1, d.Replays, "replays")
	var actions []string
	for _, a := range d.Audit {
		actions = append(actions, a.Action)
	}
	assert.Equal(t, []string{eventlog.ActionDeadLettered, eventlog.ActionReplay, eventlog.ActionResolved}, actions, "audit trail")
}

func testShutdownInFlight(t kit.T, open opener) {
	b := open(t)
	appendAll(t, b, Event("s", 1), Event("s", 2))
	rec := newRecorder()
	started := make(chan struct{})
	var once sync.Once
	cfg := eventlog.ConsumerConfig{Group: "shutdown", DrainTimeout: 10 * time.Millisecond, Policy: fastPolicy(1),
		Handler: func(ctx context.Context, ev canonical.Event) error {
			once.Do(func() { close(started) })
			<-ctx.Done() // blocks until the drain timeout cancels it
			return context.Cause(ctx)
		}}
	stop := start(t, b, cfg)
	select {
	case <-started:
	case <-time.After(timeout):
		t.Fatalf("the handler never started")
	}
	require.ErrorIs(t, stop(), context.Canceled, "Run's error")
	dls, err := b.List(t.Context(), eventlog.Filter{})
	require.NoError(t, err, "List")
	assert.Empty(t, dls, "shutdown dead-letters nothing, even with MaxAttempts 1")
	st, err := open(t).Group(t.Context(), "shutdown")
	require.NoError(t, err, "Group")
	assert.Equal(t, uint64(0), st.Cursor, "the interrupted event is not acknowledged")

	cfg.Handler = func(_ context.Context, ev canonical.Event) error { rec.add(ev.ID); return nil }
	stop = start(t, open(t), cfg)
	rec.wait(t, "redelivery", func(seen []string) bool { return len(seen) == 2 })
	require.ErrorIs(t, stop(), context.Canceled, "Run's error")
	assert.Equal(t, []string{"s-1", "s-2"}, rec.snapshot(), "interrupted events are delivered again, in order")
}

// noNotify hides the backend's optional interfaces (Notifier), as a
// backend shared with other processes would be: appends are seen only by
// reading.
type noNotify struct{ eventlog.Backend }

func testWaitIdle(t kit.T, open opener) {
	b := open(t)
	ctx := t.Context()
	// A replay requested before the run.
	_, err := b.Put(ctx, eventlog.DeadLetter{Consumer: "idle", Event: Event("replayed", 1), Reason: eventlog.ReasonPermanent,
		Error: "boom", Attempts: 1, FirstFailure: time.Now(), LastFailure: time.Now()})
	require.NoError(t, err, "Put")
	n, err := b.Replay(ctx, eventlog.Filter{Consumer: "idle"}, eventlog.Audit{By: "kit"})
	require.NoError(t, err, "Replay")
	require.Equal(t, 1, n, "dead letters replayed")
	appendAll(t, b, Event("w", 1), Event("w", 2), Event("x", 1))

	rec := newRecorder()
	var mu sync.Mutex
	calls := map[string]int{}
	c, err := eventlog.NewConsumer(noNotify{b}, eventlog.ConsumerConfig{Group: "idle", Policy: fastPolicy(3),
		PollInterval: time.Hour, // WaitIdle must not depend on the poll
		Handler: func(ctx context.Context, ev canonical.Event) error {
			mu.Lock()
			calls[ev.ID]++
			n := calls[ev.ID]
			mu.Unlock()
			switch {
			case ev.ID == "x-1" && n == 1:
				return errors.New("first attempt fails")
			case ev.ID == "w-1":
				// A handler's append, which no notification announces.
				if err := b.Append(ctx, Event("chain", 1)); err != nil {
					return err
				}
			}
			rec.add(ev.ID)
			return nil
		}})
	require.NoError(t, err, "NewConsumer")
	wctx, cancelWait := context.WithTimeout(ctx, timeout)
	defer cancelWait()
	// Called before Run starts: it waits for Run.
	waited := make(chan error, 1)
	go func() { waited <- c.WaitIdle(wctx) }()
	rctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- c.Run(rctx) }()
	require.NoError(t, <-waited, "WaitIdle")
	assert.ElementsMatch(t, []string{"replayed-1", "w-1", "w-2", "x-1", "chain-1"}, rec.snapshot(),
		"handled when WaitIdle returns: the log, the handler's append, the retried event and the replay")
	st, err := b.Group(ctx, "idle")
	require.NoError(t, err, "Group")
	assert.Equal(t, uint64(4), st.Cursor, "cursor committed when WaitIdle returns")
	dls, err := b.List(ctx, eventlog.Filter{Consumer: "idle", State: eventlog.StateReplaying})
	require.NoError(t, err, "List replaying")
	assert.Empty(t, dls, "no replay pending when WaitIdle returns")

	// A second call sees what was appended before it, without a poll.
	appendAll(t, b, Event("y", 1))
	require.NoError(t, c.WaitIdle(wctx), "second WaitIdle")
	assert.Equal(t, 1, count(rec.snapshot(), "y-1"), "y-1 handled when the second WaitIdle returns")
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled, "Run's error")

	// Not running: WaitIdle waits for a Run until its context ends.
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelShort()
	assert.ErrorIs(t, c.WaitIdle(short), context.DeadlineExceeded, "WaitIdle without Run")
}
