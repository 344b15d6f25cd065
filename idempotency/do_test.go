package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/idempotency/idempotencytest"
	"github.com/distsync/distsync/retry"
)

type charge struct {
	ID     string `json:"id"`
	Amount string `json:"amount"`
}

// fixture is a memory store on a manual clock and a Guard over it.
type fixture struct {
	clock *idempotencytest.Clock
	store *idempotency.MemoryStore
	guard idempotency.Guard
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := idempotencytest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := newMemoryStore(t, idempotency.MemoryConfig{Now: clock.Now, ReapInterval: -1})
	return &fixture{clock: clock, store: s, guard: idempotency.Guard{Store: s, Lease: time.Minute}}
}

func (f *fixture) requireFree(t *testing.T, k idempotency.Key) {
	t.Helper()
	_, err := f.store.Lookup(context.Background(), k)
	require.ErrorIs(t, err, idempotency.ErrNotFound, "key %s must be free (released)", k)
}

var fp1 = idempotency.FingerprintBytes([]byte("amount=10.00"))

// codedError is like a connector error: it knows whether retrying helps.
type codedError struct{ retryable bool }

func (e codedError) Error() string   { return fmt.Sprintf("retryable=%v", e.retryable) }
func (e codedError) Retryable() bool { return e.retryable }

func TestDefaultPolicy(t *testing.T) {
	base := errors.New("declined")
	tests := []struct {
		name string
		err  error
		want idempotency.Outcome
	}{
		{"success", nil, idempotency.Replay},
		{"plain error", base, idempotency.Retry},
		{"retry.Permanent", retry.Permanent(base), idempotency.Replay},
		{"wrapped retry.Permanent", fmt.Errorf("charge: %w", retry.Permanent(base)), idempotency.Replay},
		{"joined with a permanent error", errors.Join(base, retry.Permanent(base)), idempotency.Replay},
		{"cancelled", context.Canceled, idempotency.Retry},
		{"deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), idempotency.Retry},
		{"cancelled marked permanent", retry.Permanent(context.Canceled), idempotency.Retry},
		{"replayed failure", &idempotency.ReplayedError{Msg: "x"}, idempotency.Replay},
		{"mismatch", fmt.Errorf("w: %w", &idempotency.MismatchError{}), idempotency.Replay},
		{"Retryable() false (permanent connector code)", fmt.Errorf("w: %w", codedError{retryable: false}), idempotency.Replay},
		{"Retryable() true (transient connector code)", codedError{retryable: true}, idempotency.Retry},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, idempotency.DefaultPolicy(tt.err), "DefaultPolicy(%s: %v)", tt.name, tt.err)
	}
}

func TestDoRunsOnceAndReplays(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := idempotency.Derive("tenant-1", "payments/charge", "order-7", "1")
	var calls atomic.Int32
	fn := func(context.Context) (charge, error) {
		calls.Add(1)
		return charge{ID: "ch_1", Amount: "10.00"}, nil
	}
	for i := range 3 {
		got, err := idempotency.Do(ctx, f.guard, k, fp1, fn)
		require.NoError(t, err, "call %d of Do(%s)", i, k)
		assert.Equal(t, charge{ID: "ch_1", Amount: "10.00"}, got, "call %d of Do(%s)", i, k)
	}
	assert.EqualValues(t, 1, calls.Load(), "fn calls for 3 calls of Do(%s)", k)

	other := idempotency.FingerprintBytes([]byte("amount=99.00"))
	_, err := idempotency.Do(ctx, f.guard, k, other, fn)
	assert.ErrorIs(t, err, idempotency.ErrMismatch, "Do(%s) with another fingerprint", k)
	var me *idempotency.MismatchError
	if assert.ErrorAs(t, err, &me, "Do(%s) with another fingerprint", k) {
		assert.Equal(t, idempotency.MismatchError{Key: k, Stored: fp1, Got: other}, *me, "Do(%s) with another fingerprint", k)
	}
	assert.True(t, retry.IsPermanent(err), "a mismatch is permanent")
	assert.EqualValues(t, 1, calls.Load(), "fn calls after the mismatch")
}

func TestDoPermanentFailureIsReplayed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := idempotency.MustParse("charge-permanent")
	declined := errors.New("card declined")
	calls := 0
	fn := func(context.Context) (charge, error) {
		calls++
		return charge{}, retry.Permanent(declined)
	}
	_, err := idempotency.Do(ctx, f.guard, k, fp1, fn)
	assert.ErrorIs(t, err, declined, "first Do(%s) returns fn's own error", k)
	_, err = idempotency.Do(ctx, f.guard, k, fp1, fn)
	var re *idempotency.ReplayedError
	require.ErrorAs(t, err, &re, "second Do(%s)", k)
	assert.Equal(t, "card declined", re.Msg, "replayed failure text of %s", k)
	assert.Equal(t, 1, calls, "fn calls for %s", k)
}

func TestDoTransientFailureReleases(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := idempotency.MustParse("charge-transient")
	unavailable := errors.New("gateway unavailable")
	calls := 0
	fn := func(context.Context) (charge, error) {
		calls++
		if calls == 1 {
			return charge{}, unavailable
		}
		return charge{ID: "ch_2"}, nil
	}
	_, err := idempotency.Do(ctx, f.guard, k, fp1, fn)
	require.ErrorIs(t, err, unavailable, "first Do(%s)", k)
	f.requireFree(t, k)
	got, err := idempotency.Do(ctx, f.guard, k, fp1, fn)
	require.NoError(t, err, "second Do(%s) after a transient failure", k)
	assert.Equal(t, "ch_2", got.ID, "second Do(%s) ran fn again", k)
	assert.Equal(t, 2, calls, "fn calls for %s", k)
}

func TestDoPanicReleases(t *testing.T) {
	f := newFixture(t)
	k := idempotency.MustParse("charge-panics")
	func() {
		defer func() {
			assert.Equal(t, "boom", recover(), "the panic of fn reaches the caller of Do(%s)", k)
		}()
		_, _ = idempotency.Do(context.Background(), f.guard, k, fp1, func(context.Context) (int, error) { panic("boom") })
		t.Errorf("Do(%s) returned although fn panicked", k)
	}()
	f.requireFree(t, k)
	got, err := idempotency.Do(context.Background(), f.guard, k, fp1, func(context.Context) (int, error) { return 7, nil })
	require.NoError(t, err, "Do(%s) after a panic", k)
	assert.Equal(t, 7, got, "Do(%s) after a panic", k)
}

func TestDoCancelledContextReleases(t *testing.T) {
	f := newFixture(t)
	k := idempotency.MustParse("charge-cancelled")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := idempotency.Do(ctx, f.guard, k, fp1, func(ctx context.Context) (int, error) {
		cancel()
		return 0, ctx.Err()
	})
	require.ErrorIs(t, err, context.Canceled, "Do(%s) whose context was cancelled during fn", k)
	f.requireFree(t, k) // released although ctx was done

	_, err = idempotency.Do(ctx, f.guard, k, fp1, func(context.Context) (int, error) {
		t.Errorf("fn ran with a cancelled context")
		return 0, nil
	})
	assert.ErrorIs(t, err, context.Canceled, "Do(%s) with an already cancelled context", k)
}

func TestDoInProgress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := idempotency.MustParse("charge-slow")
	got, err := idempotency.Do(ctx, f.guard, k, fp1, func(ctx context.Context) (string, error) {
		f.clock.Advance(15 * time.Second)
		_, err := idempotency.Do(ctx, f.guard, k, fp1, func(context.Context) (string, error) {
			t.Errorf("a second fn ran while the first held %s", k)
			return "", nil
		})
		assert.ErrorIs(t, err, idempotency.ErrInProgress, "nested Do(%s)", k)
		var ip *idempotency.InProgressError
		if assert.ErrorAs(t, err, &ip, "nested Do(%s)", k) {
			assert.Equal(t, 45*time.Second, ip.RetryAfter, "RetryAfter of nested Do(%s)", k)
			assert.Equal(t, k, ip.Key, "InProgressError.Key")
		}
		return "done", nil
	})
	require.NoError(t, err, "outer Do(%s)", k)
	assert.Equal(t, "done", got, "outer Do(%s)", k)
}

func TestDoLeaseLostAfterTakeover(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := idempotency.MustParse("charge-overran")
	got, err := idempotency.Do(ctx, f.guard, k, fp1, func(ctx context.Context) (string, error) {
		f.clock.Advance(2 * time.Minute) // overrun the 1-minute lease
		v, err := idempotency.Do(ctx, f.guard, k, fp1, func(context.Context) (string, error) { return "taker", nil })
		require.NoError(t, err, "takeover Do(%s)", k)
		assert.Equal(t, "taker", v, "takeover Do(%s)", k)
		return "overran", nil
	})
	assert.Equal(t, "overran", got, "Do(%s) returns fn's value although it could not store it", k)
	assert.ErrorIs(t, err, idempotency.ErrLeaseLost, "Do(%s) whose lease was taken over", k)
	v, err := idempotency.Do(ctx, f.guard, k, fp1, func(context.Context) (string, error) { return "third", nil })
	require.NoError(t, err, "Do(%s) after the takeover", k)
	assert.Equal(t, "taker", v, "the fenced-out holder did not overwrite %s", k)
}

func TestDoPolicyAndConfig(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g := f.guard
	g.Policy = func(error) idempotency.Outcome { return idempotency.Retry }
	k := idempotency.MustParse("never-stored")
	for i := range 2 {
		_, err := idempotency.Do(ctx, g, k, fp1, func(context.Context) (int, error) { return i, nil })
		require.NoError(t, err, "Do(%s) #%d with an always-retry policy", k, i)
		f.requireFree(t, k)
	}

	for _, bad := range []idempotency.Guard{{}, {Store: f.store, Lease: -time.Second}} {
		_, err := idempotency.Do(ctx, bad, k, fp1, func(context.Context) (int, error) { return 0, nil })
		assert.ErrorIs(t, err, idempotency.ErrInvalidConfig, "Do with Guard %+v", bad)
	}

	// A value that cannot be encoded is recorded as a permanent failure:
	// the effect ran, so a retry must not run it again.
	ck := idempotency.MustParse("unencodable")
	runs := 0
	unencodable := func(context.Context) (chan int, error) { runs++; return make(chan int), nil }
	_, err := idempotency.Do(ctx, f.guard, ck, fp1, unencodable)
	assert.ErrorContains(t, err, "encode result", "Do(%s) returning a channel", ck)
	_, err = idempotency.Do(ctx, f.guard, ck, fp1, unencodable)
	var re *idempotency.ReplayedError
	assert.ErrorAs(t, err, &re, "second Do(%s) returning a channel", ck)
	assert.ErrorContains(t, err, "encode result", "second Do(%s) returning a channel", ck)
	assert.Equal(t, 1, runs, "runs of the effect whose result could not be encoded")

	// A stored result that does not decode as T says so.
	_, err = idempotency.Do(ctx, f.guard, idempotency.MustParse("typed"), fp1, func(context.Context) (string, error) { return "text", nil })
	require.NoError(t, err, "Do(typed) as string")
	_, err = idempotency.Do(ctx, f.guard, idempotency.MustParse("typed"), fp1, func(context.Context) (int, error) { return 0, nil })
	assert.ErrorContains(t, err, "decode stored result", "Do(typed) as int after storing a string")
}

func TestHandleEventRedeliveryAfterFailure(t *testing.T) {
	// The case Watermill's and Benthos' deduplicators get wrong: they mark
	// the event seen before the handler runs, so the redelivery of an
	// event whose handler failed is dropped and the effect never happens.
	f := newFixture(t)
	ctx := context.Background()
	ev := idempotency.EventRef{Source: "//wms.example/warehouse/7", ID: "shipment-1001"}
	var effects []string
	fail := true
	handler := func(context.Context) error {
		if fail {
			return errors.New("ERP unavailable")
		}
		effects = append(effects, "post shipment 1001")
		return nil
	}
	dup, err := f.guard.HandleEvent(ctx, "erp-posting", ev, handler)
	require.Error(t, err, "first delivery, handler fails")
	assert.False(t, dup, "first delivery is not a duplicate")

	fail = false
	dup, err = f.guard.HandleEvent(ctx, "erp-posting", ev, handler)
	require.NoError(t, err, "redelivery after the failure")
	assert.False(t, dup, "the redelivery after a failure must run the handler, not be dropped as a duplicate")

	dup, err = f.guard.HandleEvent(ctx, "erp-posting", ev, handler)
	require.NoError(t, err, "third delivery")
	assert.True(t, dup, "third delivery, after success, is a duplicate")
	assert.Equal(t, []string{"post shipment 1001"}, effects, "effects of three deliveries of one event")

	// Another consumer of the same event has its own key.
	ran := false
	dup, err = f.guard.HandleEvent(ctx, "crm-status", ev, func(context.Context) error { ran = true; return nil })
	require.NoError(t, err, "second consumer")
	assert.False(t, dup, "second consumer is not a duplicate of the first")
	assert.True(t, ran, "second consumer ran")
}

func TestHandleEventPermanentFailureAndBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ev := idempotency.EventRef{Source: "//crm.example", ID: "evt-9"}
	calls := 0
	handler := func(context.Context) error { calls++; return retry.Permanent(errors.New("unknown customer")) }
	dup, err := f.guard.HandleEvent(ctx, "c", ev, handler)
	assert.False(t, dup, "first delivery")
	assert.ErrorContains(t, err, "unknown customer", "first delivery")
	dup, err = f.guard.HandleEvent(ctx, "c", ev, handler)
	assert.True(t, dup, "redelivery of a permanently failed event")
	var re *idempotency.ReplayedError
	assert.ErrorAs(t, err, &re, "redelivery of a permanently failed event")
	assert.Equal(t, 1, calls, "handler calls")

	for _, bad := range []idempotency.EventRef{{Source: "", ID: "id"}, {Source: "src", ID: ""}, {}} {
		_, err := f.guard.HandleEvent(ctx, "c", bad, func(context.Context) error { t.Error("handler ran for a bad event"); return nil })
		assert.ErrorIs(t, err, idempotency.ErrInvalidKey, "HandleEvent(source %q, id %q)", bad.Source, bad.ID)
	}
	assert.Equal(t, idempotency.EventKey("c", "//crm.example", "evt-9"), idempotency.Derive("c", "cloudevents", "//crm.example", "evt-9"), "EventKey derivation")
}

func TestHandleEventConcurrentDeliveries(t *testing.T) {
	f := newFixture(t)
	ev := idempotency.EventRef{Source: "//wms.example", ID: "evt-concurrent"}
	const n = 16
	var (
		runs, inProgress atomic.Int32
		wg               sync.WaitGroup
		others           sync.WaitGroup
	)
	others.Add(n - 1)
	for range n {
		wg.Go(func() {
			_, err := f.guard.HandleEvent(context.Background(), "c", ev, func(context.Context) error {
				if runs.Add(1) > 1 {
					return nil // a bug: reported below
				}
				// Hold the key until every other delivery was turned
				// away; the timeout only keeps a broken store from
				// hanging the test.
				turnedAway := make(chan struct{})
				go func() { others.Wait(); close(turnedAway) }()
				select {
				case <-turnedAway:
				case <-time.After(10 * time.Second):
					t.Error("timed out waiting for the other deliveries to be turned away")
				}
				return nil
			})
			if errors.Is(err, idempotency.ErrInProgress) {
				inProgress.Add(1)
				others.Done()
				return
			}
			assert.NoError(t, err, "the delivery that ran the handler")
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, runs.Load(), "handler runs for %d concurrent deliveries", n)
	assert.EqualValues(t, n-1, inProgress.Load(), "deliveries turned away as in progress")
}
