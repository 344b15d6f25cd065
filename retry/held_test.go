package retry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/retry"
)

// place is a place in a semaphore of one, recording what Do does with it.
type place struct {
	sem      chan struct{}
	held     bool
	releases int
	acquires int
	// acquireErr, when not nil, is what Acquire returns instead of
	// waiting.
	acquireErr error
}

func (p *place) Release() {
	p.releases++
	p.held = false
	<-p.sem
}

func (p *place) Acquire(ctx context.Context) error {
	p.acquires++
	if p.acquireErr != nil {
		return p.acquireErr
	}
	select {
	case p.sem <- struct{}{}:
		p.held = true
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// TestReleaseWhileWaiting checks that Do gives the caller's place up while
// it waits between attempts: a second caller queued for the place gets it
// at once, not when the first call's retry has waited and succeeded, and
// the first call's next attempt runs holding the place again.
func TestReleaseWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		p := &place{sem: make(chan struct{}, 1)}
		require.NoError(t, p.Acquire(ctx), "first caller's place")
		start := time.Now()
		var wg sync.WaitGroup
		var secondAt time.Time
		wg.Go(func() {
			p.sem <- struct{}{} // the second caller queues for the place
			secondAt = time.Now()
			<-p.sem
		})
		synctest.Wait() // the second caller is queued
		calls := 0
		var heldThen []bool
		_, err := retry.Do(retry.ReleaseWhileWaiting(ctx, p), retry.Policy{Backoff: noJitter}, func(context.Context) (string, error) {
			heldThen = append(heldThen, p.held)
			return script(&calls, retry.WithRetryAfter(errBoom, time.Second))(ctx)
		})
		require.NoError(t, err, "Do")
		assert.Equal(t, []bool{true, true}, heldThen, "each attempt held the place")
		assert.Equal(t, start.Add(time.Second), time.Now(), "the first call's retry waited its Retry-After")
		assert.True(t, p.held, "the place is held when Do returns")
		assert.Equal(t, 1, p.releases, "releases")
		assert.Equal(t, 2, p.acquires, "acquires (the caller's and one after the wait)")
		<-p.sem // the first caller is done with the place
		wg.Wait()
		assert.Equal(t, start, secondAt, "the second caller got the place while the first call waited")
	})
}

// TestReleaseWhileWaitingOutermost checks that only the outermost Do under
// the context gives the place up: a Do nested in its operation waits
// holding it, and a later Do under the same context claims it again.
func TestReleaseWhileWaitingOutermost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &place{sem: make(chan struct{}, 1)}
		ctx := retry.ReleaseWhileWaiting(t.Context(), p)
		require.NoError(t, p.Acquire(ctx), "caller's place")
		outer, inner := 0, 0
		_, err := retry.Do(ctx, retry.Policy{Backoff: noJitter}, func(ctx context.Context) (string, error) {
			if _, err := retry.Do(ctx, retry.Policy{Backoff: noJitter}, script(&inner, errBoom)); err != nil {
				return "", err
			}
			inner = 0
			return script(&outer, errBoom)(ctx)
		})
		require.NoError(t, err, "outer Do")
		assert.Equal(t, 1, p.releases, "releases: the outer Do's one wait, not the nested Do's")
		assert.True(t, p.held, "the place is held when Do returns")

		calls := 0
		_, err = retry.Do(ctx, retry.Policy{Backoff: noJitter}, script(&calls, errBoom))
		require.NoError(t, err, "a later Do")
		assert.Equal(t, 2, p.releases, "releases after a later Do under the same context")
		assert.True(t, p.held, "the place is held after the later Do")
	})
}

// TestReleaseWhileWaitingEnds checks the two ways Do returns without the
// place: the context ending during a wait (no Acquire) and a failed
// Acquire, whose error Do returns.
func TestReleaseWhileWaitingEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		time.AfterFunc(150*time.Millisecond, cancel) // in the second wait (100ms, then 200ms)
		p := &place{sem: make(chan struct{}, 1)}
		require.NoError(t, p.Acquire(ctx), "caller's place")
		calls := 0
		_, err := retry.Do(retry.ReleaseWhileWaiting(ctx, p), retry.Policy{Backoff: noJitter}, script(&calls, errBoom, errBoom))
		require.ErrorIs(t, err, context.Canceled, "Do cut by the context")
		assert.False(t, p.held, "the place is not held after a wait cut short")
		assert.Equal(t, 2, p.releases, "releases")
		assert.Equal(t, 2, p.acquires, "acquires: the caller's and one after the first wait, none after the cut one")

		errAcquire := errors.New("no place")
		p = &place{sem: make(chan struct{}, 1)}
		require.NoError(t, p.Acquire(t.Context()), "caller's place")
		p.acquireErr = errAcquire
		calls = 0
		_, err = retry.Do(retry.ReleaseWhileWaiting(t.Context(), p), retry.Policy{Backoff: noJitter}, script(&calls, errBoom))
		require.ErrorIs(t, err, errAcquire, "Do after a failed Acquire")
		require.ErrorIs(t, err, errBoom, "Do's error names the last attempt's")
		assert.Equal(t, 1, calls, "attempts: none without the place")
		assert.False(t, p.held, "the place is not held after a failed Acquire")
	})
}

// namedHeld records its Release and Acquire calls in a shared list.
type namedHeld struct {
	name string
	log  *[]string
}

func (h namedHeld) Release() { *h.log = append(*h.log, "release "+h.name) }

func (h namedHeld) Acquire(context.Context) error {
	*h.log = append(*h.log, "acquire "+h.name)
	return nil
}

// TestReleaseWhileWaitingNested checks that Do gives up every Held of its
// context, the inner one first, and takes the outer one back first: the
// order in which their holders took them (a worker's place, then a lock).
func TestReleaseWhileWaitingNested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log []string
		ctx := retry.ReleaseWhileWaiting(t.Context(), namedHeld{"outer", &log})
		ctx = retry.ReleaseWhileWaiting(ctx, namedHeld{"inner", &log})
		calls := 0
		_, err := retry.Do(ctx, retry.Policy{Backoff: noJitter}, script(&calls, errBoom))
		require.NoError(t, err, "Do")
		assert.Equal(t, []string{"release inner", "release outer", "acquire outer", "acquire inner"}, log, "calls")
	})
}
