package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/retry"
)

// fakeClock is an injected clock, safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func fail(context.Context) error    { return errBoom }
func succeed(context.Context) error { return nil }

func newBreaker(t *testing.T, cfg retry.BreakerConfig) (*retry.Breaker, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	cfg.Now = clock.Now
	b, err := retry.NewBreaker(cfg)
	require.NoError(t, err, "NewBreaker(%+v)", cfg)
	return b, clock
}

func TestBreakerConsecutiveFailures(t *testing.T) {
	b, clock := newBreaker(t, retry.BreakerConfig{Name: "erp", ConsecutiveFailures: 3, OpenTimeout: 10 * time.Second})
	ctx := t.Context()

	for i := range 2 {
		assert.ErrorIs(t, b.Do(ctx, fail), errBoom, "failure %d", i+1)
	}
	require.NoError(t, b.Do(ctx, succeed), "a success resets the count")
	for i := range 2 {
		assert.ErrorIs(t, b.Do(ctx, fail), errBoom, "failure %d after the reset", i+1)
	}
	assert.Equal(t, retry.StateClosed, b.State(), "two failures in a row")
	assert.ErrorIs(t, b.Do(ctx, fail), errBoom, "third failure in a row")
	assert.Equal(t, retry.StateOpen, b.State(), "three failures in a row")

	called := false
	err := b.Do(ctx, func(context.Context) error { called = true; return nil })
	require.ErrorIs(t, err, retry.ErrCircuitOpen, "call while open")
	assert.False(t, called, "fn is not called while open")
	var oe *retry.OpenError
	require.ErrorAs(t, err, &oe, "call while open")
	assert.Equal(t, "erp", oe.Name, "OpenError.Name")
	assert.Equal(t, clock.Now().Add(10*time.Second), oe.Until, "OpenError.Until")
	assert.Equal(t, "retry: circuit open: erp", err.Error(), "error text")

	clock.Advance(10*time.Second - time.Nanosecond)
	assert.Equal(t, retry.StateOpen, b.State(), "just before the open timeout")
	clock.Advance(time.Nanosecond)
	assert.Equal(t, retry.StateHalfOpen, b.State(), "at the open timeout")

	require.NoError(t, b.Do(ctx, succeed), "probe")
	assert.Equal(t, retry.StateClosed, b.State(), "after a successful probe")
}

func TestBreakerHalfOpen(t *testing.T) {
	b, clock := newBreaker(t, retry.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenProbes: 2})
	ctx := t.Context()
	require.ErrorIs(t, b.Do(ctx, fail), errBoom, "tripping failure")
	clock.Advance(time.Second)

	// Two probes in flight; a third call is rejected.
	release := make(chan struct{})
	var wg sync.WaitGroup
	started := make(chan struct{}, 2)
	for range 2 {
		wg.Go(func() {
			assert.NoError(t, b.Do(ctx, func(context.Context) error {
				started <- struct{}{}
				<-release
				return nil
			}), "probe")
		})
	}
	<-started
	<-started
	err := b.Do(ctx, succeed)
	require.ErrorIs(t, err, retry.ErrCircuitOpen, "third call while two probes are in flight")
	var oe *retry.OpenError
	require.ErrorAs(t, err, &oe, "third call")
	assert.True(t, oe.Until.IsZero(), "Until is zero while probes are in flight")
	close(release)
	wg.Wait()
	assert.Equal(t, retry.StateClosed, b.State(), "after two successful probes")

	// A failed probe opens again.
	require.ErrorIs(t, b.Do(ctx, fail), errBoom, "tripping failure")
	clock.Advance(time.Second)
	require.NoError(t, b.Do(ctx, succeed), "first probe")
	assert.Equal(t, retry.StateHalfOpen, b.State(), "one of two probes succeeded")
	require.ErrorIs(t, b.Do(ctx, fail), errBoom, "second probe fails")
	assert.Equal(t, retry.StateOpen, b.State(), "after a failed probe")
}

func TestBreakerFailureRatio(t *testing.T) {
	b, clock := newBreaker(t, retry.BreakerConfig{ConsecutiveFailures: 100, FailureRatio: 0.5, MinRequests: 4, Window: 10 * time.Second})
	ctx := t.Context()

	// Old failures slide out of the window.
	_ = b.Do(ctx, fail)
	_ = b.Do(ctx, fail)
	clock.Advance(11 * time.Second)
	_ = b.Do(ctx, succeed)
	_ = b.Do(ctx, fail)
	_ = b.Do(ctx, succeed)
	assert.Equal(t, retry.StateClosed, b.State(), "1 failure of 3 in the window")
	_ = b.Do(ctx, succeed)
	assert.Equal(t, retry.StateClosed, b.State(), "1 failure of 4 in the window")
	_ = b.Do(ctx, fail)
	assert.Equal(t, retry.StateClosed, b.State(), "2 failures of 5 in the window")
	_ = b.Do(ctx, fail)
	assert.Equal(t, retry.StateOpen, b.State(), "3 failures of 6 in the window")
}

func TestBreakerMinRequests(t *testing.T) {
	b, _ := newBreaker(t, retry.BreakerConfig{ConsecutiveFailures: 100, FailureRatio: 0.1, MinRequests: 5})
	for i := range 4 {
		_ = b.Do(t.Context(), fail)
		assert.Equal(t, retry.StateClosed, b.State(), "%d failures, fewer than MinRequests", i+1)
	}
	_ = b.Do(t.Context(), fail)
	assert.Equal(t, retry.StateOpen, b.State(), "5 failures")
}

func TestBreakerWhatCounts(t *testing.T) {
	b, _ := newBreaker(t, retry.BreakerConfig{ConsecutiveFailures: 2})
	for i := range 5 {
		assert.Error(t, b.Do(t.Context(), func(context.Context) error { return retry.Permanent(errBoom) }), "permanent error %d", i)
	}
	assert.Equal(t, retry.StateClosed, b.State(), "permanent errors do not count")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for i := range 5 {
		_ = b.Do(ctx, func(context.Context) error { cancel(); return context.Canceled })
		assert.ErrorIs(t, b.Do(ctx, succeed), context.Canceled, "call %d on a cancelled context", i)
	}
	assert.Equal(t, retry.StateClosed, b.State(), "cancellations do not count")

	custom, _ := newBreaker(t, retry.BreakerConfig{ConsecutiveFailures: 1, IsFailure: func(err error) bool { return !errors.Is(err, errBoom) }})
	_ = custom.Do(t.Context(), fail)
	assert.Equal(t, retry.StateClosed, custom.State(), "custom IsFailure ignores errBoom")
	_ = custom.Do(t.Context(), func(context.Context) error { return errors.New("other") })
	assert.Equal(t, retry.StateOpen, custom.State(), "custom IsFailure counts other errors")
}

func TestBreakerPanicCountsAsFailure(t *testing.T) {
	b, _ := newBreaker(t, retry.BreakerConfig{ConsecutiveFailures: 1})
	assert.PanicsWithValue(t, "kaboom", func() {
		_ = b.Do(t.Context(), func(context.Context) error { panic("kaboom") })
	}, "panicking fn")
	assert.Equal(t, retry.StateOpen, b.State(), "after a panic")
}

func TestBreakerStaleResultIgnored(t *testing.T) {
	b, clock := newBreaker(t, retry.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Second})
	ctx := t.Context()
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- b.Do(ctx, func(context.Context) error { close(started); <-release; return nil })
	}()
	<-started
	require.ErrorIs(t, b.Do(ctx, fail), errBoom, "tripping failure")
	clock.Advance(time.Second)
	require.Equal(t, retry.StateHalfOpen, b.State(), "after the open timeout")
	close(release)
	require.NoError(t, <-done, "slow call")
	assert.Equal(t, retry.StateHalfOpen, b.State(), "a call started before the trip does not close the breaker")
}

func TestBreakerCallbacksWithoutLock(t *testing.T) {
	var (
		b           *retry.Breaker
		transitions []string
	)
	clock := newFakeClock()
	b, err := retry.NewBreaker(retry.BreakerConfig{
		Name:                "wms",
		ConsecutiveFailures: 1,
		OpenTimeout:         time.Second,
		Now:                 clock.Now,
		OnStateChange: func(name string, from, to retry.State) {
			// Calling back into the breaker would deadlock if a lock were held.
			transitions = append(transitions, fmt.Sprintf("%s %s->%s (now %s)", name, from, to, b.State()))
			if to == retry.StateOpen {
				assert.ErrorIs(t, b.Do(t.Context(), succeed), retry.ErrCircuitOpen, "Do from the callback")
			}
		},
	})
	require.NoError(t, err)
	_ = b.Do(t.Context(), fail)
	clock.Advance(time.Second)
	require.NoError(t, b.Do(t.Context(), succeed), "probe")
	assert.Equal(t, []string{
		"wms closed->open (now open)",
		"wms open->half-open (now half-open)",
		"wms half-open->closed (now closed)",
	}, transitions, "transitions")
}

func TestBreakerConcurrent(t *testing.T) {
	var mu sync.Mutex
	counts := map[retry.State]int{}
	clock := newFakeClock()
	b, err := retry.NewBreaker(retry.BreakerConfig{
		ConsecutiveFailures: 3, FailureRatio: 0.5, MinRequests: 10, OpenTimeout: time.Millisecond, HalfOpenProbes: 2,
		Now: clock.Now,
		OnStateChange: func(_ string, _, to retry.State) {
			mu.Lock()
			counts[to]++
			mu.Unlock()
		},
	})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				clock.Advance(time.Duration(rand.IntN(100)) * time.Microsecond)
				err := b.Do(t.Context(), func(context.Context) error {
					if rand.IntN(3) == 0 {
						return errBoom
					}
					return nil
				})
				if err != nil && !errors.Is(err, errBoom) && !errors.Is(err, retry.ErrCircuitOpen) {
					t.Errorf("goroutine %d call %d: unexpected error %v", g, i, err)
				}
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	assert.Positive(t, counts[retry.StateOpen], "the breaker opened at least once")
	assert.Positive(t, counts[retry.StateHalfOpen], "the breaker turned half-open at least once")
}

func TestBreakerConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   retry.BreakerConfig
		field string
	}{
		{"negative consecutive failures", retry.BreakerConfig{ConsecutiveFailures: -1}, "ConsecutiveFailures"},
		{"ratio above 1", retry.BreakerConfig{FailureRatio: 1.5}, "FailureRatio"},
		{"negative ratio", retry.BreakerConfig{FailureRatio: -0.1}, "FailureRatio"},
		{"NaN ratio", retry.BreakerConfig{FailureRatio: math.NaN()}, "FailureRatio"},
		{"negative min requests", retry.BreakerConfig{MinRequests: -1}, "MinRequests"},
		{"negative window", retry.BreakerConfig{Window: -time.Second}, "Window"},
		{"negative open timeout", retry.BreakerConfig{OpenTimeout: -time.Second}, "OpenTimeout"},
		{"negative probes", retry.BreakerConfig{HalfOpenProbes: -1}, "HalfOpenProbes"},
	}
	for _, tt := range tests {
		b, err := retry.NewBreaker(tt.cfg)
		require.ErrorIs(t, err, retry.ErrInvalidConfig, "NewBreaker with %s", tt.name)
		assert.Contains(t, err.Error(), tt.field, "error for %s", tt.name)
		assert.Nil(t, b, "breaker for %s", tt.name)
	}
	assert.NoError(t, retry.BreakerConfig{}.Validate(), "zero config")
	assert.Equal(t, "half-open", retry.StateHalfOpen.String(), "State.String")
	assert.Equal(t, "State(7)", retry.State(7).String(), "unknown State.String")
}

func TestDoStopsOnOpenBreaker(t *testing.T) {
	b, _ := newBreaker(t, retry.BreakerConfig{ConsecutiveFailures: 2})
	calls := 0
	p := retry.Policy{MaxAttempts: 10, Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Jitter: retry.NoJitter}}
	_, err := retry.Do(t.Context(), p, func(ctx context.Context) (int, error) {
		return 0, b.Do(ctx, func(context.Context) error { calls++; return errBoom })
	})
	require.ErrorIs(t, err, retry.ErrCircuitOpen, "Do through an opening breaker")
	assert.NotErrorIs(t, err, retry.ErrExhausted, "Do through an opening breaker")
	assert.Equal(t, 2, calls, "calls reaching the dependency")
}
