package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
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
var noJitter = retry.Backoff{InitialInterval: 100 * time.Millisecond, MaxInterval: time.Second, Multiplier: 2, Jitter: retry.NoJitter}

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
		policy    retry.Policy
		wantCalls int
		wantErr   error // nil means success
		exhausted bool
		elapsed   time.Duration
	}{
		{"first attempt succeeds", nil, retry.Policy{}, 1, nil, false, 0},
		{"transient errors then success", []error{errBoom, errBoom}, retry.Policy{}, 3, nil, false, 300 * time.Millisecond},
		{"attempts exhausted", []error{errBoom, errBoom, errBoom}, retry.Policy{MaxAttempts: 3}, 3, errBoom, true, 300 * time.Millisecond},
		{"max attempts 1 disables retrying", []error{errBoom}, retry.Policy{MaxAttempts: 1}, 1, errBoom, true, 0},
		{"permanent stops at once", []error{retry.Permanent(errBoom)}, retry.Policy{}, 1, errBoom, false, 0},
		{"may have applied is not retried", []error{appliedError{true}}, retry.Policy{}, 1, appliedError{true}, false, 0},
		{"may have applied is retried when idempotent", []error{appliedError{true}}, retry.Policy{Idempotent: true}, 2, nil, false, 100 * time.Millisecond},
		{"certainly not applied is retried", []error{appliedError{false}}, retry.Policy{}, 2, nil, false, 100 * time.Millisecond},
		{"not retryable stops at once", []error{fmt.Errorf("w: %w", codedError{retryable: false})}, retry.Policy{}, 1, codedError{retryable: false}, false, 0},
		{"not retryable stops even when idempotent", []error{codedError{retryable: false}}, retry.Policy{Idempotent: true}, 1, codedError{retryable: false}, false, 0},
		{"retryable is retried", []error{codedError{retryable: true}}, retry.Policy{}, 2, nil, false, 100 * time.Millisecond},
		{"retryable but may have applied is not retried", []error{codedError{retryable: true, applied: true}}, retry.Policy{}, 1, codedError{retryable: true, applied: true}, false, 0},
		{"retryable and applied is retried when idempotent", []error{codedError{retryable: true, applied: true}}, retry.Policy{Idempotent: true}, 2, nil, false, 100 * time.Millisecond},
		{"circuit open is not retried", []error{fmt.Errorf("erp: %w", retry.ErrCircuitOpen)}, retry.Policy{}, 1, retry.ErrCircuitOpen, false, 0},
		{"retry-after waits at least the server's delay", []error{retry.WithRetryAfter(errBoom, 5*time.Second)}, retry.Policy{}, 2, nil, false, 5 * time.Second},
		{"retry-after shorter than the backoff", []error{errBoom, retry.WithRetryAfter(errBoom, 50*time.Millisecond)}, retry.Policy{}, 3, nil, false, 300 * time.Millisecond},
		{"retry-after past max elapsed gives up at once", []error{retry.WithRetryAfter(errBoom, time.Minute)}, retry.Policy{MaxElapsed: 30 * time.Second}, 1, errBoom, true, 0},
		{"max elapsed", []error{errBoom, errBoom, errBoom}, retry.Policy{MaxElapsed: 250 * time.Millisecond}, 2, errBoom, true, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				start := time.Now()
				p := tt.policy
				p.Backoff = noJitter
				got, err := retry.Do(t.Context(), p, script(&calls, tt.errs...))
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
		p := retry.Policy{MaxAttempts: 3, Backoff: noJitter, OnRetry: func(attempt int, err error, delay time.Duration) {
			got = append(got, call{attempt, err, delay})
		}}
		_, err := retry.Do(t.Context(), p, script(&calls, errBoom, retry.WithRetryAfter(errBoom, 2*time.Second), errBoom))
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
		p := retry.Policy{
			MaxAttempts: 5,
			Backoff:     retry.Backoff{InitialInterval: 100 * time.Millisecond, MaxInterval: 300 * time.Millisecond, Multiplier: 2, Jitter: 0.5},
			OnRetry:     func(_ int, _ error, d time.Duration) { delays = append(delays, d) },
		}
		_, _ = retry.Do(t.Context(), p, script(&calls, errBoom, errBoom, errBoom, errBoom, errBoom))
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
		_, err := retry.Do(ctx, retry.Policy{}, script(&calls))
		assert.ErrorIs(t, err, cause, "Do on a cancelled context")
		assert.Zero(t, calls, "calls on a cancelled context")
	})
	t.Run("cancelled during the attempt: not retried", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			calls := 0
			_, err := retry.Do(ctx, retry.Policy{}, func(ctx context.Context) (int, error) {
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
			_, err := retry.Do(ctx, retry.Policy{}, func(ctx context.Context) (int, error) {
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
			_, err := retry.Do(ctx, retry.Policy{Backoff: noJitter}, script(&calls, errBoom, errBoom))
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
			_, err := retry.Do(ctx, retry.Policy{Backoff: noJitter}, script(&calls, errBoom, errBoom, errBoom))
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
			got, err := retry.Do(t.Context(), retry.Policy{Backoff: noJitter, AttemptTimeout: time.Second}, func(ctx context.Context) (string, error) {
				calls++
				if calls == 1 {
					<-ctx.Done()
					return "", ctx.Err()
				}
				_, hasDeadline := ctx.Deadline()
				assert.True(t, hasDeadline, "attempt %d has a deadline", calls)
				return "ok", nil
			})
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

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy retry.Policy
		ok     bool
	}{
		{"zero", retry.Policy{}, true},
		{"all set", retry.Policy{MaxAttempts: 3, MaxElapsed: time.Minute, AttemptTimeout: time.Second, Idempotent: true,
			Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: time.Second, Multiplier: 1.5, Jitter: 1}}, true},
		{"no jitter", retry.Policy{Backoff: retry.Backoff{Jitter: retry.NoJitter}}, true},
		{"only initial, above the default max", retry.Policy{Backoff: retry.Backoff{InitialInterval: time.Minute}}, true},
		{"negative attempts", retry.Policy{MaxAttempts: -1}, false},
		{"negative max elapsed", retry.Policy{MaxElapsed: -1}, false},
		{"negative attempt timeout", retry.Policy{AttemptTimeout: -1}, false},
		{"negative initial", retry.Policy{Backoff: retry.Backoff{InitialInterval: -1}}, false},
		{"negative max", retry.Policy{Backoff: retry.Backoff{MaxInterval: -1}}, false},
		{"initial above max", retry.Policy{Backoff: retry.Backoff{InitialInterval: time.Second, MaxInterval: time.Millisecond}}, false},
		{"multiplier below 1", retry.Policy{Backoff: retry.Backoff{Multiplier: 0.5}}, false},
		{"multiplier infinite", retry.Policy{Backoff: retry.Backoff{Multiplier: math.Inf(1)}}, false},
		{"multiplier NaN", retry.Policy{Backoff: retry.Backoff{Multiplier: math.NaN()}}, false},
		{"jitter above 1", retry.Policy{Backoff: retry.Backoff{Jitter: 1.5}}, false},
		{"jitter NaN", retry.Policy{Backoff: retry.Backoff{Jitter: math.NaN()}}, false},
	}
	for _, tt := range tests {
		err := tt.policy.Validate()
		calls := 0
		_, doErr := retry.Do(t.Context(), tt.policy, script(&calls))
		if tt.ok {
			assert.NoError(t, err, "Validate of %s", tt.name)
			assert.NoError(t, doErr, "Do with %s", tt.name)
			continue
		}
		assert.ErrorIs(t, err, retry.ErrInvalidConfig, "Validate of %s", tt.name)
		assert.ErrorIs(t, doErr, retry.ErrInvalidConfig, "Do with %s", tt.name)
		assert.Zero(t, calls, "Do with %s must not call op", tt.name)
	}
}

// TestBackoffZeroValue checks the documented defaults of the zero Backoff
// and of one whose intervals are only partly set.
func TestBackoffZeroValue(t *testing.T) {
	tests := []struct {
		name    string
		backoff retry.Backoff
		want    []time.Duration // before jitter
		jitter  float64
	}{
		{"zero: 100ms doubling, jitter 0.5", retry.Backoff{}, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}, 0.5},
		{"no jitter", retry.Backoff{Jitter: retry.NoJitter}, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}, 0},
		{"only max, below the default initial", retry.Backoff{MaxInterval: 50 * time.Millisecond, Jitter: retry.NoJitter}, []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}, 0},
		{"only initial, above the default max", retry.Backoff{InitialInterval: 20 * time.Second, Jitter: retry.NoJitter}, []time.Duration{20 * time.Second, 20 * time.Second, 20 * time.Second, 20 * time.Second}, 0},
		{"multiplier 3", retry.Backoff{Multiplier: 3, Jitter: retry.NoJitter}, []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond, 2700 * time.Millisecond}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var delays []time.Duration
				calls := 0
				p := retry.Policy{Backoff: tt.backoff, OnRetry: func(_ int, _ error, d time.Duration) { delays = append(delays, d) }}
				_, err := retry.Do(t.Context(), p, script(&calls, errBoom, errBoom, errBoom, errBoom, errBoom))
				require.ErrorIs(t, err, retry.ErrExhausted, "Do with %s", tt.name)
				assert.Equal(t, retry.DefaultMaxAttempts, calls, "the zero MaxAttempts is DefaultMaxAttempts")
				require.Len(t, delays, len(tt.want), "delays with %s", tt.name)
				for i, w := range tt.want {
					lo, hi := time.Duration(float64(w)*(1-tt.jitter)), time.Duration(float64(w)*(1+tt.jitter))
					assert.True(t, delays[i] >= lo && delays[i] <= hi, "delay %d with %s: %v not in [%v, %v]", i+1, tt.name, delays[i], lo, hi)
				}
			})
		})
	}
}

// TestBackoffDelay checks the one delay computation: exponential, capped at
// MaxInterval, and a jittered delay cut to MaxInterval too.
func TestBackoffDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		backoff retry.Backoff
		want    []time.Duration // attempts 1, 2, ... before jitter
		jitter  float64
	}{
		{"no jitter", retry.Backoff{InitialInterval: 100 * ms, MaxInterval: time.Second, Multiplier: 2, Jitter: retry.NoJitter},
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}, 0},
		{"multiplier 1", retry.Backoff{InitialInterval: 30 * ms, Multiplier: 1, Jitter: retry.NoJitter},
			[]time.Duration{30 * ms, 30 * ms, 30 * ms}, 0},
		{"zero value: default jitter 0.5", retry.Backoff{}, []time.Duration{100 * ms, 200 * ms, 400 * ms}, retry.DefaultJitter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, w := range tt.want {
				d := tt.backoff.Delay(i + 1)
				lo, hi := time.Duration(float64(w)*(1-tt.jitter)), time.Duration(float64(w)*(1+tt.jitter))
				assert.True(t, d >= lo && d <= hi, "Delay(%d): %v not in [%v, %v]", i+1, d, lo, hi)
			}
		})
	}
	t.Run("far attempt", func(t *testing.T) {
		b := retry.Backoff{InitialInterval: ms, MaxInterval: time.Minute, Jitter: retry.NoJitter}
		assert.Equal(t, time.Minute, b.Delay(1_000_000), "Delay of attempt 1e6")
		assert.Equal(t, ms, b.Delay(0), "Delay(0) counts as attempt 1")
	})
	t.Run("full jitter cut at MaxInterval", func(t *testing.T) {
		b := retry.Backoff{InitialInterval: 10 * time.Second, MaxInterval: 10 * time.Second, Jitter: 1}
		for range 200 {
			d := b.Delay(3)
			require.LessOrEqual(t, d, 10*time.Second, "jittered delay")
			require.GreaterOrEqual(t, d, time.Duration(0), "jittered delay")
		}
	})
}
