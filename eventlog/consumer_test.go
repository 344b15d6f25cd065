package eventlog_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// attemptLog records when each event's handler ran, in bubble time.
type attemptLog struct {
	mu sync.Mutex
	at map[string][]time.Duration
	t0 time.Time
}

func newAttemptLog() *attemptLog {
	return &attemptLog{at: map[string][]time.Duration{}, t0: time.Now()}
}

func (l *attemptLog) add(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at[id] = append(l.at[id], time.Since(l.t0))
	return len(l.at[id])
}

func (l *attemptLog) get(id string) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.at[id]...)
}

// runFor runs a consumer inside the current synctest bubble for d of fake
// time and returns Run's error.
func runFor(t *testing.T, b eventlog.Backend, cfg eventlog.ConsumerConfig, d time.Duration) error {
	t.Helper()
	c, err := eventlog.NewConsumer(b, cfg)
	require.NoError(t, err, "NewConsumer")
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	time.Sleep(d)
	synctest.Wait()
	cancel()
	return <-errc
}

type afterErr struct{ d time.Duration }

func (e afterErr) Error() string             { return "rate limited" }
func (e afterErr) RetryAfter() time.Duration { return e.d }

func TestPolicyTiming(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		policy   eventlog.ErrorPolicy
		err      func(attempt int) error // nil error: success
		want     []time.Duration         // attempt times
		reason   eventlog.Reason         // "" when no dead letter
		attempts int
		nums     []int // eventlog.Attempt at each attempt
	}{
		{
			name:   "backoff doubles up to the cap, then dead letter",
			policy: eventlog.ErrorPolicy{MaxAttempts: 4, Backoff: retry.Backoff{InitialInterval: s, MaxInterval: 3 * s, Multiplier: 2, Jitter: retry.NoJitter}},
			err:    func(int) error { return errors.New("down") },
			want:   []time.Duration{0, s, 3 * s, 6 * s}, reason: eventlog.ReasonExhausted, attempts: 4, nums: []int{1, 2, 3, 4},
		},
		{
			name:   "Retry-After longer than the backoff is honoured",
			policy: eventlog.ErrorPolicy{MaxAttempts: 3, Backoff: retry.Backoff{InitialInterval: s, Jitter: retry.NoJitter}},
			err:    func(int) error { return afterErr{10 * s} },
			want:   []time.Duration{0, 10 * s, 20 * s}, reason: eventlog.ReasonExhausted, attempts: 3, nums: []int{1, 2, 3},
		},
		{
			name:   "IgnoreRetryAfter uses the backoff",
			policy: eventlog.ErrorPolicy{MaxAttempts: 3, IgnoreRetryAfter: true, Backoff: retry.Backoff{InitialInterval: s, Multiplier: 1, Jitter: retry.NoJitter}},
			err:    func(int) error { return afterErr{10 * s} },
			want:   []time.Duration{0, s, 2 * s}, reason: eventlog.ReasonExhausted, attempts: 3, nums: []int{1, 2, 3},
		},
		{
			name:   "circuit open parks until the breaker's time without spending attempts",
			policy: eventlog.ErrorPolicy{MaxAttempts: 1},
			err: func(a int) error {
				if a <= 3 {
					return &retry.OpenError{Name: "erp", Until: time.Now().Add(7 * s)}
				}
				return nil
			},
			want: []time.Duration{0, 7 * s, 14 * s, 21 * s}, nums: []int{1, 1, 1, 1},
		},
		{
			name:   "circuit open without a time rechecks after OpenRecheck",
			policy: eventlog.ErrorPolicy{MaxAttempts: 1, OpenRecheck: 2 * s},
			err: func(a int) error {
				if a <= 2 {
					return retry.ErrCircuitOpen
				}
				return nil
			},
			want: []time.Duration{0, 2 * s, 4 * s}, nums: []int{1, 1, 1},
		},
		{
			name:   "Retry-After at MaxRetryAfter is honoured",
			policy: eventlog.ErrorPolicy{MaxAttempts: 3, MaxRetryAfter: 20 * s, Backoff: retry.Backoff{InitialInterval: s, Jitter: retry.NoJitter}},
			err:    func(int) error { return afterErr{20 * s} },
			want:   []time.Duration{0, 20 * s, 40 * s}, reason: eventlog.ReasonExhausted, attempts: 3, nums: []int{1, 2, 3},
		},
		{
			name:   "Retry-After beyond MaxRetryAfter is dead-lettered at once",
			policy: eventlog.ErrorPolicy{MaxAttempts: 3, MaxRetryAfter: 20 * s, Backoff: retry.Backoff{InitialInterval: s, Jitter: retry.NoJitter}},
			err:    func(int) error { return afterErr{21 * s} },
			want:   []time.Duration{0}, reason: eventlog.ReasonRetryAfter, attempts: 1, nums: []int{1},
		},
		{
			name:   "IgnoreRetryAfter does not dead-letter a Retry-After beyond MaxRetryAfter",
			policy: eventlog.ErrorPolicy{MaxAttempts: 2, MaxRetryAfter: 20 * s, IgnoreRetryAfter: true, Backoff: retry.Backoff{InitialInterval: s, Jitter: retry.NoJitter}},
			err:    func(int) error { return afterErr{1e6 * s} },
			want:   []time.Duration{0, s}, reason: eventlog.ReasonExhausted, attempts: 2, nums: []int{1, 2},
		},
		{
			name:   "circuit open beyond MaxRetryAfter is probed again at MaxRetryAfter",
			policy: eventlog.ErrorPolicy{MaxAttempts: 1, MaxRetryAfter: 20 * s},
			err: func(a int) error {
				if a <= 2 {
					return &retry.OpenError{Name: "erp", Until: time.Now().Add(1e6 * s)}
				}
				return nil
			},
			want: []time.Duration{0, 20 * s, 40 * s}, nums: []int{1, 1, 1},
		},
		{
			name:   "a claim held beyond MaxRetryAfter is tried again at MaxRetryAfter",
			policy: eventlog.ErrorPolicy{MaxAttempts: 1, MaxRetryAfter: 20 * s},
			err: func(a int) error {
				if a == 1 {
					return &idempotency.InProgressError{RetryAfter: 1e6 * s}
				}
				return nil
			},
			want: []time.Duration{0, 20 * s}, nums: []int{1, 1},
		},
		{
			name:   "permanent error is dead-lettered at once",
			policy: eventlog.ErrorPolicy{MaxAttempts: 5, Backoff: retry.Backoff{InitialInterval: s, Jitter: retry.NoJitter}},
			err:    func(int) error { return retry.Permanent(errors.New("rejected")) },
			want:   []time.Duration{0}, reason: eventlog.ReasonPermanent, attempts: 1, nums: []int{1},
		},
		{
			name:   "a panicking handler is retried",
			policy: eventlog.ErrorPolicy{MaxAttempts: 3, Backoff: retry.Backoff{InitialInterval: s, Multiplier: 1, Jitter: retry.NoJitter}},
			err: func(a int) error {
				if a == 1 {
					panic("nil map")
				}
				return nil
			},
			want: []time.Duration{0, s}, nums: []int{1, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := eventlog.NewMemory(eventlog.MemoryConfig{})
				require.NoError(t, m.Append(t.Context(), eventlogtest.Event("a", 1), eventlogtest.Event("a", 2)), "Append")
				log := newAttemptLog()
				var (
					mu     sync.Mutex
					nums   []int
					hooked []eventlog.DeadLetter
				)
				cfg := eventlog.ConsumerConfig{Group: "g", Policy: tt.policy, Handler: func(ctx context.Context, ev canonical.Event) error {
					n := log.add(ev.ID)
					if ev.ID == "a-1" {
						mu.Lock()
						nums = append(nums, eventlog.Attempt(ctx))
						mu.Unlock()
						return tt.err(n)
					}
					return nil
				}, OnDeadLetter: func(_ context.Context, d eventlog.DeadLetter) {
					mu.Lock()
					hooked = append(hooked, d)
					mu.Unlock()
				}}
				require.ErrorIs(t, runFor(t, m, cfg, time.Minute), context.Canceled, "Run")
				assert.Equal(t, tt.want, log.get("a-1"), "attempt times of a-1 (%s)", tt.name)
				mu.Lock()
				assert.Equal(t, tt.nums, nums, "eventlog.Attempt at each attempt of a-1 (%s)", tt.name)
				mu.Unlock()
				a2 := log.get("a-2")
				require.Len(t, a2, 1, "a-2 is handled once after a-1 is done")
				assert.Equal(t, tt.want[len(tt.want)-1], a2[0], "a-2 waits behind a-1")
				dls, err := m.List(t.Context(), eventlog.Filter{})
				require.NoError(t, err, "List")
				mu.Lock()
				require.Len(t, hooked, len(dls), "OnDeadLetter is called once per stored dead letter (%s)", tt.name)
				for i := range dls {
					assert.Equal(t, dls[i].ID, hooked[i].ID, "OnDeadLetter's dead letter ID")
					assert.Equal(t, dls[i].Reason, hooked[i].Reason, "OnDeadLetter's reason")
					assert.Equal(t, dls[i].Attempts, hooked[i].Attempts, "OnDeadLetter's attempts")
					assert.Equal(t, dls[i].Event.ID, hooked[i].Event.ID, "OnDeadLetter's event")
				}
				mu.Unlock()
				if tt.reason == "" {
					assert.Empty(t, dls, "dead letters")
					return
				}
				require.Len(t, dls, 1, "dead letters")
				assert.Equal(t, tt.reason, dls[0].Reason, "reason")
				assert.Equal(t, tt.attempts, dls[0].Attempts, "attempts")
				assert.Equal(t, log.t0, dls[0].FirstFailure, "first failure")
				assert.Equal(t, log.t0.Add(tt.want[len(tt.want)-1]), dls[0].LastFailure, "last failure")
			})
		})
	}
}

func TestRetryStateSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		require.NoError(t, m.Append(t.Context(), eventlogtest.Event("a", 1)), "Append")
		log := newAttemptLog()
		cfg := eventlog.ConsumerConfig{Group: "g",
			Policy: eventlog.ErrorPolicy{MaxAttempts: 3, Backoff: retry.Backoff{InitialInterval: time.Hour, MaxInterval: time.Hour, Multiplier: 1, Jitter: retry.NoJitter}},
			Handler: func(_ context.Context, ev canonical.Event) error {
				log.add(ev.ID)
				return errors.New("down")
			}}
		// First process: one failure, then it stops 10 minutes later.
		require.ErrorIs(t, runFor(t, m, cfg, 10*time.Minute), context.Canceled, "first Run")
		st, err := m.Group(t.Context(), "g")
		require.NoError(t, err, "Group")
		require.Len(t, st.Retries, 1, "retry state after one failure")
		assert.Equal(t, 1, st.Retries[0].Attempts, "attempts stored")
		// Second process: waits until the stored due time, fails twice more,
		// dead-letters with the attempts of both processes.
		require.ErrorIs(t, runFor(t, m, cfg, 3*time.Hour), context.Canceled, "second Run")
		assert.Equal(t, []time.Duration{0, time.Hour, 2 * time.Hour}, log.get("a-1"), "attempt times across a restart")
		dls, err := m.List(t.Context(), eventlog.Filter{})
		require.NoError(t, err, "List")
		require.Len(t, dls, 1, "dead letters")
		assert.Equal(t, 3, dls[0].Attempts, "attempts across a restart")
		st, err = m.Group(t.Context(), "g")
		require.NoError(t, err, "Group")
		assert.Equal(t, uint64(1), st.Cursor, "cursor once dead-lettered")
		assert.Empty(t, st.Retries, "retry state once dead-lettered")
	})
}

func TestConsumerConfigValidate(t *testing.T) {
	h := func(context.Context, canonical.Event) error { return nil }
	tests := []struct {
		name string
		cfg  eventlog.ConsumerConfig
		ok   bool
	}{
		{"minimal", eventlog.ConsumerConfig{Group: "g", Handler: h}, true},
		{"no group", eventlog.ConsumerConfig{Handler: h}, false},
		{"long group", eventlog.ConsumerConfig{Group: string(make([]byte, 201)), Handler: h}, false},
		{"no handler", eventlog.ConsumerConfig{Group: "g"}, false},
		{"negative workers", eventlog.ConsumerConfig{Group: "g", Handler: h, Workers: -1}, false},
		{"negative poll", eventlog.ConsumerConfig{Group: "g", Handler: h, PollInterval: -1}, false},
		{"negative attempts", eventlog.ConsumerConfig{Group: "g", Handler: h, Policy: eventlog.ErrorPolicy{MaxAttempts: -1}}, false},
		{"multiplier below 1", eventlog.ConsumerConfig{Group: "g", Handler: h, Policy: eventlog.ErrorPolicy{Backoff: retry.Backoff{Multiplier: 0.5}}}, false},
		{"backoff initial above max", eventlog.ConsumerConfig{Group: "g", Handler: h, Policy: eventlog.ErrorPolicy{Backoff: retry.Backoff{InitialInterval: time.Second, MaxInterval: time.Millisecond}}}, false},
		{"no jitter", eventlog.ConsumerConfig{Group: "g", Handler: h, Policy: eventlog.ErrorPolicy{Backoff: retry.Backoff{Jitter: retry.NoJitter}}}, true},
		{"jitter above 1", eventlog.ConsumerConfig{Group: "g", Handler: h, Policy: eventlog.ErrorPolicy{Backoff: retry.Backoff{Jitter: 1.5}}}, false},
		{"jitter", eventlog.ConsumerConfig{Group: "g", Handler: h, Policy: eventlog.ErrorPolicy{Backoff: retry.Backoff{Jitter: 0.5}}}, true},
		{"negative MaxRetryAfter", eventlog.ConsumerConfig{Group: "g", Handler: h, Policy: eventlog.ErrorPolicy{MaxRetryAfter: -1}}, false},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		_, nerr := eventlog.NewConsumer(eventlog.NewMemory(eventlog.MemoryConfig{}), tt.cfg)
		if tt.ok {
			assert.NoError(t, err, "Validate %s", tt.name)
			assert.NoError(t, nerr, "NewConsumer %s", tt.name)
		} else {
			assert.ErrorIs(t, err, eventlog.ErrInvalidConfig, "Validate %s", tt.name)
			assert.ErrorIs(t, nerr, eventlog.ErrInvalidConfig, "NewConsumer %s", tt.name)
		}
	}
	_, err := eventlog.NewConsumer(nil, eventlog.ConsumerConfig{Group: "g", Handler: h})
	assert.ErrorIs(t, err, eventlog.ErrInvalidConfig, "NewConsumer with a nil backend")
}

func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := eventlog.NewConsumer(eventlog.NewMemory(eventlog.MemoryConfig{}), eventlog.ConsumerConfig{Group: "g",
			Handler: func(context.Context, canonical.Event) error { return nil }})
		require.NoError(t, err, "NewConsumer")
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx) }()
		synctest.Wait()
		assert.ErrorIs(t, c.Run(ctx), eventlog.ErrRunning, "a second Run at once")
		cancel()
		assert.ErrorIs(t, <-errc, context.Canceled, "first Run")
	})
}

// failingPuts fails the first n calls of Put.
type failingPuts struct {
	eventlog.Backend
	mu sync.Mutex
	n  int
}

func (f *failingPuts) Put(ctx context.Context, d eventlog.DeadLetter) (int64, error) {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return 0, errors.New("database is locked")
	}
	return f.Backend.Put(ctx, d)
}

func TestDeadLetterStoreFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		require.NoError(t, m.Append(t.Context(), eventlogtest.Event("a", 1), eventlogtest.Event("a", 2)), "Append")
		log := newAttemptLog()
		b := &failingPuts{Backend: m, n: 2}
		cfg := eventlog.ConsumerConfig{Group: "g", Policy: eventlog.ErrorPolicy{OpenRecheck: 10 * time.Second},
			Handler: func(_ context.Context, ev canonical.Event) error {
				log.add(ev.ID)
				if ev.ID == "a-1" {
					return retry.Permanent(errors.New("rejected"))
				}
				return nil
			}}
		require.ErrorIs(t, runFor(t, b, cfg, time.Minute), context.Canceled, "Run")
		assert.Equal(t, []time.Duration{0}, log.get("a-1"), "the handler is not run again while the dead letter cannot be stored")
		assert.Equal(t, []time.Duration{20 * time.Second}, log.get("a-2"), "a-2 waits until a-1's dead letter is stored (third Put)")
		dls, err := m.List(t.Context(), eventlog.Filter{})
		require.NoError(t, err, "List")
		require.Len(t, dls, 1, "dead letters")
		assert.Equal(t, eventlog.ReasonPermanent, dls[0].Reason, "reason")
	})
}

func TestMaxPendingBoundsMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		evs := []canonical.Event{eventlogtest.Event("a", 1)}
		for i := 1; i <= 6; i++ {
			evs = append(evs, eventlogtest.Event("b", i))
		}
		require.NoError(t, m.Append(t.Context(), evs...), "Append")
		log := newAttemptLog()
		cfg := eventlog.ConsumerConfig{Group: "g", MaxPending: 4,
			Policy: eventlog.ErrorPolicy{Backoff: retry.Backoff{InitialInterval: time.Minute, MaxInterval: time.Minute, Jitter: retry.NoJitter}},
			Handler: func(_ context.Context, ev canonical.Event) error {
				if log.add(ev.ID) == 1 && ev.ID == "a-1" {
					return errors.New("down")
				}
				return nil
			}}
		require.ErrorIs(t, runFor(t, m, cfg, 2*time.Minute), context.Canceled, "Run")
		for i := 1; i <= 3; i++ {
			assert.Equal(t, []time.Duration{0}, log.get("b-"+strconv.Itoa(i)), "b-%d is read with a-1 and handled at once", i)
		}
		for i := 4; i <= 6; i++ {
			assert.Equal(t, []time.Duration{time.Minute}, log.get("b-"+strconv.Itoa(i)), "b-%d is read once a-1 is done", i)
		}
	})
}

func TestHandlerContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		ev := eventlogtest.Event("a", 1)
		ev.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		noTrace := eventlogtest.Event("b", 1)
		noTrace.CorrelationID = ""
		require.NoError(t, m.Append(t.Context(), ev, noTrace), "Append")
		type seen struct {
			corr, cause, trace string
			hasSpan            bool
		}
		var mu sync.Mutex
		got := map[string]seen{}
		cfg := eventlog.ConsumerConfig{Group: "g", Handler: func(ctx context.Context, ev canonical.Event) error {
			sc, ok := tracing.SpanContextFrom(ctx)
			s := seen{corr: tracing.CorrelationID(ctx), cause: tracing.CausationID(ctx), hasSpan: ok}
			if ok {
				s.trace = sc.Traceparent()
			}
			mu.Lock()
			got[ev.ID] = s
			mu.Unlock()
			return nil
		}}
		require.ErrorIs(t, runFor(t, m, cfg, time.Second), context.Canceled, "Run")
		assert.Equal(t, seen{corr: "corr-a", cause: "a-1", trace: ev.TraceParent, hasSpan: true}, got["a-1"], "context of an event with a traceparent")
		assert.Equal(t, seen{cause: "b-1"}, got["b-1"], "context of an event without correlation ID or traceparent")
	})
}

// lockedFor is a GroupLocker whose group lock is held elsewhere for the
// first n tries.
type lockedFor struct {
	*eventlog.Memory
	mu       sync.Mutex
	n        int
	unlocked bool
}

func (l *lockedFor) TryLockGroup(context.Context, string) (eventlog.GroupLock, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		l.n--
		return nil, false, nil
	}
	return testLock{unlock: func() { l.mu.Lock(); l.unlocked = true; l.mu.Unlock() }}, true, nil
}

// testLock is a GroupLock that is lost when lost is closed.
type testLock struct {
	lost   chan struct{}
	unlock func()
}

func (l testLock) Lost() <-chan struct{} { return l.lost }
func (l testLock) Err() error {
	select {
	case <-l.lost:
		return errors.New("connection reset")
	default:
		return nil
	}
}
func (l testLock) Unlock() { l.unlock() }

func TestRunWaitsForGroupLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &lockedFor{Memory: eventlog.NewMemory(eventlog.MemoryConfig{}), n: 3}
		require.NoError(t, b.Append(t.Context(), eventlogtest.Event("a", 1)), "Append")
		log := newAttemptLog()
		cfg := eventlog.ConsumerConfig{Group: "g", PollInterval: time.Second,
			Handler: func(_ context.Context, ev canonical.Event) error { log.add(ev.ID); return nil }}
		require.ErrorIs(t, runFor(t, b, cfg, time.Minute), context.Canceled, "Run")
		assert.Equal(t, []time.Duration{3 * time.Second}, log.get("a-1"), "handled once the lock was free (fourth try)")
		assert.True(t, b.unlocked, "the lock is released when Run returns")

		never := &lockedFor{Memory: eventlog.NewMemory(eventlog.MemoryConfig{}), n: 1 << 30}
		assert.ErrorIs(t, runFor(t, never, cfg, time.Minute), context.Canceled, "Run waiting for a lock ends with its context")
	})
}

// losableLock is a GroupLocker over Memory whose lock the test can lose.
type losableLock struct {
	*eventlog.Memory
	lost     chan struct{}
	unlocked chan struct{}
}

func (l *losableLock) TryLockGroup(context.Context, string) (eventlog.GroupLock, bool, error) {
	return testLock{lost: l.lost, unlock: func() { close(l.unlocked) }}, true, nil
}

// TestRunStopsWhenLockLost: when the group lock is lost, Run cancels the
// handlers in flight with ErrLockLost as the cause, waits for them, commits
// what was done and returns an error matching ErrLockLost, handling
// nothing more.
func TestRunStopsWhenLockLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &losableLock{Memory: eventlog.NewMemory(eventlog.MemoryConfig{}), lost: make(chan struct{}), unlocked: make(chan struct{})}
		ctx := t.Context()
		require.NoError(t, b.Append(ctx, eventlogtest.Event("a", 1), eventlogtest.Event("b", 1)), "Append")
		var mu sync.Mutex
		var handled []string
		var cause error
		c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", PollInterval: time.Second,
			DrainTimeout: time.Hour, // a lost lock does not wait for the drain
			Handler: func(ctx context.Context, ev canonical.Event) error {
				mu.Lock()
				handled = append(handled, ev.ID)
				mu.Unlock()
				if ev.ID == "b-1" { // in flight when the lock is lost
					<-ctx.Done()
					mu.Lock()
					cause = context.Cause(ctx)
					mu.Unlock()
					return ctx.Err()
				}
				return nil
			}})
		require.NoError(t, err, "NewConsumer")
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx) }()
		time.Sleep(time.Second)
		synctest.Wait()
		start := time.Now()
		close(b.lost)
		err = <-errc
		assert.ErrorIs(t, err, eventlog.ErrLockLost, "Run's error after the lock was lost")
		assert.ErrorContains(t, err, "connection reset", "Run's error says why the lock was lost")
		assert.Zero(t, time.Since(start), "Run stopped without waiting (DrainTimeout does not apply)")
		assert.ErrorIs(t, cause, eventlog.ErrLockLost, "cause of the cancelled handler's context")
		<-b.unlocked
		require.NoError(t, b.Append(ctx, eventlogtest.Event("a", 2)), "Append after the stop")
		synctest.Wait()
		mu.Lock()
		assert.ElementsMatch(t, []string{"a-1", "b-1"}, handled, "handled before the lock was lost, nothing after")
		mu.Unlock()
		st, err := b.Group(ctx, "g")
		require.NoError(t, err, "Group")
		assert.Equal(t, uint64(1), st.Cursor, "a-1 was committed; b-1 is delivered again by the next holder")
	})
}

func TestWaitIdle(t *testing.T) {
	tests := []struct {
		name     string
		failures int           // attempts of "k-1" that fail before it succeeds
		cancel   bool          // cancel Run while WaitIdle waits
		want     error         // WaitIdle's error
		elapsed  time.Duration // bubble time WaitIdle took
	}{
		{name: "idle at once when the log is handled", elapsed: 0},
		{name: "waits for retries due later", failures: 2, elapsed: 3 * time.Second},
		{name: "ErrStopped when Run returns first", failures: 100, cancel: true, want: eventlog.ErrStopped, elapsed: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := eventlog.NewMemory(eventlog.MemoryConfig{})
				require.NoError(t, b.Append(t.Context(), eventlogtest.Event("k", 1), eventlogtest.Event("k", 2)), "Append")
				var mu sync.Mutex
				attempts := 0
				c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", PollInterval: time.Hour,
					Policy: eventlog.ErrorPolicy{MaxAttempts: 1000, Backoff: retry.Backoff{InitialInterval: time.Second, MaxInterval: 2 * time.Second, Multiplier: 2, Jitter: retry.NoJitter}},
					Handler: func(_ context.Context, ev canonical.Event) error {
						if ev.ID != "k-1" {
							return nil
						}
						mu.Lock()
						defer mu.Unlock()
						attempts++
						if attempts <= tt.failures {
							return errors.New("transient")
						}
						return nil
					}})
				require.NoError(t, err, "NewConsumer")
				ctx, cancel := context.WithCancel(t.Context())
				errc := make(chan error, 1)
				go func() { errc <- c.Run(ctx) }()
				if tt.cancel {
					time.AfterFunc(tt.elapsed, cancel)
				}
				t0 := time.Now()
				err = c.WaitIdle(t.Context())
				assert.Equal(t, tt.elapsed, time.Since(t0), "bubble time WaitIdle took")
				if tt.want != nil {
					require.ErrorIs(t, err, tt.want, "WaitIdle")
				} else {
					require.NoError(t, err, "WaitIdle")
					st, err := b.Group(t.Context(), "g")
					require.NoError(t, err, "Group")
					assert.Equal(t, uint64(2), st.Cursor, "both events done when WaitIdle returns")
				}
				cancel()
				require.ErrorIs(t, <-errc, context.Canceled, "Run's error")
			})
		})
	}
}

// TestWaitIdleConsumerMadeOutsideBubble checks that a Consumer made
// outside a testing/synctest bubble and run inside it blocks only on
// channels of the bubble, so the bubble's time advances to its retry.
func TestWaitIdleConsumerMadeOutsideBubble(t *testing.T) {
	b := eventlog.NewMemory(eventlog.MemoryConfig{})
	var mu sync.Mutex
	calls := 0
	c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", PollInterval: time.Hour,
		Policy: eventlog.ErrorPolicy{MaxAttempts: 3, Backoff: retry.Backoff{InitialInterval: time.Second, Multiplier: 1, Jitter: retry.NoJitter}},
		Handler: func(context.Context, canonical.Event) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				return errors.New("transient")
			}
			return nil
		}})
	require.NoError(t, err, "NewConsumer")
	synctest.Test(t, func(t *testing.T) {
		// An append inside the bubble gives the backend a notification
		// channel of the bubble.
		require.NoError(t, b.Append(t.Context(), eventlogtest.Event("k", 1)), "Append")
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- c.Run(ctx) }()
		t0 := time.Now()
		require.NoError(t, c.WaitIdle(t.Context()), "WaitIdle")
		assert.Equal(t, time.Second, time.Since(t0), "WaitIdle returns after the retry's backoff")
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled, "Run's error")
	})
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 2, calls, "handler calls")
}

// TestDedupeRefusesReusedEventID: with a dedupe store, a second delivery of
// a handled event is suppressed, while an event that reuses the source and
// id of a handled one for other content is dead-lettered as permanent,
// naming both fingerprints, and never dropped as a duplicate.
//
// It runs with an idempotency.MemoryStore, which gets the per-process
// fingerprint, and with the same store behind a wrapper the consumer does
// not recognise, which gets the SHA-256 one.
func TestDedupeRefusesReusedEventID(t *testing.T) {
	for _, tt := range []struct {
		name string
		wrap func(*idempotency.MemoryStore) idempotency.Store
	}{
		{"memory store", func(s *idempotency.MemoryStore) idempotency.Store { return s }},
		{"other store", func(s *idempotency.MemoryStore) idempotency.Store { return opaqueStore{s} }},
	} {
		t.Run(tt.name, func(t *testing.T) { testDedupeRefusesReusedEventID(t, tt.wrap) })
	}
}

// opaqueStore hides the type of the store it holds.
type opaqueStore struct{ idempotency.Store }

func testDedupeRefusesReusedEventID(t *testing.T, wrap func(*idempotency.MemoryStore) idempotency.Store) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		m := eventlog.NewMemory(eventlog.MemoryConfig{})
		mem, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		require.NoError(t, err, "NewMemoryStore")
		defer mem.Close()
		store := wrap(mem)
		first := eventlogtest.Event("a", 1)
		redelivered := first
		redelivered.CorrelationID, redelivered.TraceParent = "another-path", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		reformatted := first // as re-encoded by another path, or stored by the SQL backend
		reformatted.Data = []byte("{ \"n\" : 1 }\n")
		reused := first
		reused.Data = []byte(`{"n":99}`)
		require.NoError(t, m.Append(ctx, first, redelivered, reformatted, reused), "Append")
		var mu sync.Mutex
		var handled []string
		cfg := eventlog.ConsumerConfig{Group: "g", Dedupe: store,
			Handler: func(_ context.Context, ev canonical.Event) error {
				mu.Lock()
				defer mu.Unlock()
				handled = append(handled, string(ev.Data))
				return nil
			}}
		require.ErrorIs(t, runFor(t, m, cfg, time.Minute), context.Canceled, "Run")
		assert.Equal(t, []string{`{"n":1}`}, handled,
			"handled once; the redeliveries with other tracing attributes or other JSON whitespace are duplicates")
		dls, err := m.List(ctx, eventlog.Filter{})
		require.NoError(t, err, "List")
		require.Len(t, dls, 1, "the reused ID is dead-lettered")
		assert.Equal(t, eventlog.ReasonPermanent, dls[0].Reason, "reason")
		assert.Equal(t, 1, dls[0].Attempts, "dead-lettered at once")
		assert.Equal(t, uint64(4), dls[0].Offset, "the fourth event")
		assert.Len(t, dls[0].Audit, 1, "dead-lettered once (the reformatted event would share its dead letter)")
		assert.Contains(t, dls[0].Error, "fingerprint", "the reason names the fingerprints")
		assert.JSONEq(t, `{"n":99}`, string(dls[0].Event.Data), "the dead letter keeps the reused event")
	})
}
