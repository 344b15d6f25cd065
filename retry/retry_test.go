package retry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/retry"
)

var errBoom = errors.New("boom")

// appliedError is a fake connector error reporting whether the remote may
// have applied the operation.
type appliedError struct{ applied bool }

func (e appliedError) Error() string        { return fmt.Sprintf("applied=%v", e.applied) }
func (e appliedError) MayHaveApplied() bool { return e.applied }

// codedError is a fake connector error that knows whether retrying helps.
type codedError struct {
	retryable bool
	applied   bool
}

func (e codedError) Error() string {
	return fmt.Sprintf("retryable=%v applied=%v", e.retryable, e.applied)
}
func (e codedError) Retryable() bool      { return e.retryable }
func (e codedError) MayHaveApplied() bool { return e.applied }

// noJitter makes delays exact: 100ms, 200ms, 400ms...
var noJitter = retry.Backoff(100*time.Millisecond, time.Second, 2, 0)

type call struct {
	attempt int
	err     error
	delay   time.Duration
}

// script returns an op that returns errs in turn, then "ok", counting calls.
func script(calls *int, errs ...error) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		*calls++
		if *calls <= len(errs) {
			return "", errs[*calls-1]
		}
		return "ok", nil
	}
}

func TestDoClassification(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		opts      []retry.Option
		wantCalls int
		wantErr   error // nil means success
		exhausted bool
		elapsed   time.Duration
	}{
		{"first attempt succeeds", nil, nil, 1, nil, false, 0},
		{"transient errors then success", []error{errBoom, errBoom}, nil, 3, nil, false, 300 * time.Millisecond},
		{"attempts exhausted", []error{errBoom, errBoom, errBoom}, []retry.Option{retry.MaxAttempts(3)}, 3, errBoom, true, 300 * time.Millisecond},
		{"max attempts below 1 means 1", []error{errBoom}, []retry.Option{retry.MaxAttempts(0)}, 1, errBoom, true, 0},
		{"permanent stops at once", []error{retry.Permanent(errBoom)}, nil, 1, errBoom, false, 0},
		{"may have applied is not retried", []error{appliedError{true}}, nil, 1, appliedError{true}, false, 0},
		{"may have applied is retried when idempotent", []error{appliedError{true}}, []retry.Option{retry.Idempotent()}, 2, nil, false, 100 * time.Millisecond},
		{"certainly not applied is retried", []error{appliedError{false}}, nil, 2, nil, false, 100 * time.Millisecond},
		{"not retryable stops at once", []error{fmt.Errorf("w: %w", codedError{retryable: false})}, nil, 1, codedError{retryable: false}, false, 0},
		{"not retryable stops even when idempotent", []error{codedError{retryable: false}}, []retry.Option{retry.Idempotent()}, 1, codedError{retryable: false}, false, 0},
		{"retryable is retried", []error{codedError{retryable: true}}, nil, 2, nil, false, 100 * time.Millisecond},
		{"retryable but may have applied is not retried", []error{codedError{retryable: true, applied: true}}, nil, 1, codedError{retryable: true, applied: true}, false, 0},
		{"retryable and applied is retried when idempotent", []error{codedError{retryable: true, applied: true}}, []retry.Option{retry.Idempotent()}, 2, nil, false, 100 * time.Millisecond},
		{"circuit open is not retried", []error{fmt.Errorf("erp: %w", retry.ErrCircuitOpen)}, nil, 1, retry.ErrCircuitOpen, false, 0},
		{"retry-after waits at least the server's delay", []error{retry.WithRetryAfter(errBoom, 5*time.Second)}, nil, 2, nil, false, 5 * time.Second},
		{"retry-after shorter than the backoff", []error{errBoom, retry.WithRetryAfter(errBoom, 50*time.Millisecond)}, nil, 3, nil, false, 300 * time.Millisecond},
		{"retry-after past max elapsed gives up at once", []error{retry.WithRetryAfter(errBoom, time.Minute)}, []retry.Option{retry.MaxElapsed(30 * time.Second)}, 1, errBoom, true, 0},
		{"max elapsed", []error{errBoom, errBoom, errBoom}, []retry.Option{retry.MaxElapsed(250 * time.Millisecond)}, 2, errBoom, true, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				start := time.Now()
				got, err := retry.Do(t.Context(), script(&calls, tt.errs...), append([]retry.Option{noJitter}, tt.opts...)...)
				assert.Equal(t, tt.wantCalls, calls, "calls for %s", tt.name)
				assert.Equal(t, tt.elapsed, time.Since(start), "time spent for %s", tt.name)
				if tt.wantErr == nil {
					require.NoError(t, err, "Do for %s", tt.name)
					assert.Equal(t, "ok", got, "value for %s", tt.name)
					return
				}
				require.ErrorIs(t, err, tt.wantErr, "Do for %s", tt.name)
				assert.Equal(t, tt.exhausted, errors.Is(err, retry.ErrExhausted), "exhausted for %s: %v", tt.name, err)
				assert.Empty(t, got, "value for %s", tt.name)
			})
		})
	}
}

func TestDoNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []call
		calls := 0
		_, err := retry.Do(t.Context(), script(&calls, errBoom, retry.WithRetryAfter(errBoom, 2*time.Second), errBoom),
			noJitter, retry.MaxAttempts(3),
			retry.OnRetry(func(attempt int, err error, delay time.Duration) {
				got = append(got, call{attempt, err, delay})
			}))
		var ex *retry.ExhaustedError
		require.ErrorAs(t, err, &ex, "Do with three failures")
		assert.Equal(t, 3, ex.Attempts, "attempts")
		assert.Equal(t, "max attempts", ex.Reason, "reason")
		assert.Equal(t, "retry: gave up after 3 attempts (max attempts): boom", err.Error(), "error text")
		require.Len(t, got, 2, "notifications (none after the last attempt)")
		assert.Equal(t, 1, got[0].attempt, "first notification")
		assert.Equal(t, 100*time.Millisecond, got[0].delay, "first delay")
		assert.Equal(t, 2, got[1].attempt, "second notification")
		assert.Equal(t, 2*time.Second, got[1].delay, "second delay honours Retry-After")
		assert.ErrorIs(t, got[1].err, errBoom, "second error")
	})
}

func TestDoJitterBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var delays []time.Duration
		calls := 0
		_, _ = retry.Do(t.Context(), script(&calls, errBoom, errBoom, errBoom, errBoom, errBoom),
			retry.Backoff(100*time.Millisecond, 300*time.Millisecond, 2, 0.5), retry.MaxAttempts(5),
			retry.OnRetry(func(_ int, _ error, d time.Duration) { delays = append(delays, d) }))
		want := []time.Duration{100, 200, 300, 300}
		require.Len(t, delays, len(want), "delays")
		for i, w := range want {
			w *= time.Millisecond
			assert.GreaterOrEqual(t, delays[i], w/2, "delay %d", i+1)
			assert.LessOrEqual(t, delays[i], w*3/2, "delay %d", i+1)
		}
	})
}

func TestDoContext(t *testing.T) {
	t.Run("already cancelled: op not called", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		cause := errors.New("shutting down")
		cancel(cause)
		calls := 0
		_, err := retry.Do(ctx, script(&calls))
		assert.ErrorIs(t, err, cause, "Do on a cancelled context")
		assert.Zero(t, calls, "calls on a cancelled context")
	})
	t.Run("cancelled during the attempt: not retried", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			calls := 0
			_, err := retry.Do(ctx, func(ctx context.Context) (int, error) {
				calls++
				cancel()
				return 0, ctx.Err()
			})
			assert.ErrorIs(t, err, context.Canceled, "Do cancelled during the attempt")
			assert.Equal(t, 1, calls, "calls")
		})
	})
	t.Run("deadline during the attempt: not retried", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			calls := 0
			_, err := retry.Do(ctx, func(ctx context.Context) (int, error) {
				calls++
				<-ctx.Done()
				return 0, ctx.Err()
			})
			assert.ErrorIs(t, err, context.DeadlineExceeded, "Do past the caller's deadline")
			assert.Equal(t, 1, calls, "calls")
		})
	})
	t.Run("cancelled during the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			calls := 0
			go func() {
				time.Sleep(50 * time.Millisecond)
				cancel()
			}()
			_, err := retry.Do(ctx, script(&calls, errBoom, errBoom), noJitter)
			assert.ErrorIs(t, err, context.Canceled, "Do cancelled during the wait")
			assert.ErrorIs(t, err, errBoom, "Do cancelled during the wait keeps the last error")
			assert.NotErrorIs(t, err, retry.ErrExhausted, "Do cancelled during the wait")
			assert.Equal(t, 1, calls, "calls")
		})
	})
	t.Run("next attempt past the caller's deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
			defer cancel()
			calls := 0
			start := time.Now()
			_, err := retry.Do(ctx, script(&calls, errBoom, errBoom, errBoom), noJitter)
			var ex *retry.ExhaustedError
			require.ErrorAs(t, err, &ex, "Do with a short deadline")
			assert.Equal(t, "context deadline", ex.Reason, "reason")
			assert.Equal(t, 2, calls, "calls: the 200ms wait would pass the deadline")
			assert.Equal(t, 100*time.Millisecond, time.Since(start), "time spent")
		})
	})
	t.Run("attempt timeout is retried", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			calls := 0
			start := time.Now()
			got, err := retry.Do(t.Context(), func(ctx context.Context) (string, error) {
				calls++
				if calls == 1 {
					<-ctx.Done()
					return "", ctx.Err()
				}
				_, hasDeadline := ctx.Deadline()
				assert.True(t, hasDeadline, "attempt %d has a deadline", calls)
				return "ok", nil
			}, noJitter, retry.AttemptTimeout(time.Second))
			require.NoError(t, err, "Do with an attempt timeout")
			assert.Equal(t, "ok", got, "value")
			assert.Equal(t, 2, calls, "calls")
			assert.Equal(t, time.Second+100*time.Millisecond, time.Since(start), "time spent")
		})
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"120", 2 * time.Minute},
		{"0", 0},
		{" 5\t", 5 * time.Second},
		{"007", 7 * time.Second},
		{"Fri, 27 Nov 2026 21:01:30 GMT", 90 * time.Second},
		{"Friday, 27-Nov-26 21:00:10 GMT", 10 * time.Second},
		{"Fri Nov 27 21:00:03 2026", 3 * time.Second},
		{"Fri, 27 Nov 2026 20:00:00 GMT", 0},
	}
	for _, tt := range tests {
		got, err := retry.ParseRetryAfter(tt.in, now)
		require.NoError(t, err, "ParseRetryAfter(%q)", tt.in)
		assert.Equal(t, tt.want, got, "ParseRetryAfter(%q)", tt.in)
	}
	for _, in := range []string{"", "  ", "-1", "+3", "1.5", "soon", "1e3", "9223372036854775807", "99999999999999999999", "Fri, 27 Nov 2026 21:01:30 CET"} {
		_, err := retry.ParseRetryAfter(in, now)
		require.ErrorIs(t, err, retry.ErrInvalidRetryAfter, "ParseRetryAfter(%q)", in)
		assert.Contains(t, err.Error(), "Retry-After", "error for %q", in)
	}
}

func TestPermanentAndRetryAfterNil(t *testing.T) {
	assert.NoError(t, retry.Permanent(nil), "Permanent(nil)")
	assert.NoError(t, retry.WithRetryAfter(nil, time.Second), "WithRetryAfter(nil)")
	err := retry.Permanent(errBoom)
	assert.Equal(t, "boom", err.Error(), "Permanent keeps the text")
	var ra retry.RetryAfterer
	require.ErrorAs(t, fmt.Errorf("wrapped: %w", retry.WithRetryAfter(errBoom, 3*time.Second)), &ra, "WithRetryAfter through a wrap")
	assert.Equal(t, 3*time.Second, ra.RetryAfter(), "RetryAfter")
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "Fri, 27 Nov 2026 21:01:30 GMT", "Friday, 27-Nov-26 21:00:10 GMT", "Fri Nov 27 21:00:03 2026", "-1", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := retry.ParseRetryAfter(s, now)
		if err != nil {
			if !errors.Is(err, retry.ErrInvalidRetryAfter) {
				t.Fatalf("ParseRetryAfter(%q): error %v does not match ErrInvalidRetryAfter", s, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, negative", s, d)
		}
		// Round trip through both forms.
		secs := fmt.Sprint(int64(d / time.Second))
		if got, err := retry.ParseRetryAfter(secs, now); err != nil || got != d.Truncate(time.Second) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v; want %v (from %q)", secs, got, err, d.Truncate(time.Second), s)
		}
		if d < 100*365*24*time.Hour {
			date := now.Add(d).Format(time.RFC1123)
			date = date[:len(date)-3] + "GMT"
			if got, err := retry.ParseRetryAfter(date, now); err != nil || got != d.Truncate(time.Second) {
				t.Fatalf("ParseRetryAfter(%q) = %v, %v; want %v (from %q)", date, got, err, d.Truncate(time.Second), s)
			}
		}
	})
}

type permanentByMethod bool

func (p permanentByMethod) Error() string   { return "permanent by method" }
func (p permanentByMethod) Permanent() bool { return bool(p) }

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errBoom, false},
		{"Permanent", retry.Permanent(errBoom), true},
		{"wrapped Permanent", fmt.Errorf("w: %w", retry.Permanent(errBoom)), true},
		{"Retryable false", fmt.Errorf("w: %w", codedError{retryable: false}), true},
		{"Retryable true", codedError{retryable: true}, false},
		{"a Permanent() method is not a second spelling", permanentByMethod(true), false},
		{"circuit open", retry.ErrCircuitOpen, false},
		{"joined", errors.Join(errBoom, retry.Permanent(errBoom)), true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, retry.IsPermanent(tt.err), tt.name)
	}
}
