package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// ErrExhausted is matched (with errors.Is) by the [*ExhaustedError] that
// [Do] returns when its budget is spent: the attempts, the elapsed time, or
// the time left before the context's deadline.
var ErrExhausted = errors.New("retry: budget exhausted")

// ErrInvalidRetryAfter is matched (with errors.Is) by the error
// [ParseRetryAfter] returns for a value that is neither delay-seconds nor an
// HTTP-date.
var ErrInvalidRetryAfter = errors.New("retry: invalid Retry-After")

// RetryAfterer is implemented by errors that carry a delay the server asked
// for, such as the Retry-After of an HTTP 429 or 503 response. [Do] waits at
// least that long before the next attempt. A zero or negative delay means
// the server gave none. Implementations must be safe for concurrent use.
type RetryAfterer interface {
	RetryAfter() time.Duration
}

// MayHaveApplied is implemented by errors that know whether the remote may
// already have applied the operation (say, a timeout after the request was
// sent). When MayHaveApplied reports true, [Do] does not retry unless the
// operation is idempotent (see [Policy.Idempotent]); an error must report
// false only when the remote certainly did not apply the operation.
// Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type MayHaveApplied interface {
	MayHaveApplied() bool
}

// Retryable is implemented by errors that know whether retrying can help,
// such as connector errors classified by a code: a rate limit or an outage
// can pass, a rejected document cannot. When Retryable reports false, Do
// returns the error at once, as for [Permanent]. Reporting true does not
// override the other rules: a [MayHaveApplied] error is still not retried
// unless the operation is [Policy.Idempotent]. Implementations must be safe
// for concurrent use.
// The zero value, nil, is no implementation.
type Retryable interface {
	Retryable() bool
}

// PermanentError marks an error that must not be retried; create it with
// [Permanent]. It is safe for concurrent use when the wrapped error is. The
// zero value wraps no error; use [Permanent] instead.
type PermanentError struct {
	// Err is the error that must not be retried.
	Err error
}

// Error returns the text of the wrapped error.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent returns err marked so that [Do] stops at once and returns it.
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// afterError is the error [WithRetryAfter] returns.
type afterError struct {
	err   error
	delay time.Duration
}

// Error returns the text of the wrapped error.
func (e *afterError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *afterError) Unwrap() error { return e.err }

// RetryAfter returns the server-given delay.
func (e *afterError) RetryAfter() time.Duration { return e.delay }

// WithRetryAfter returns err annotated with a server-given delay: it
// implements [RetryAfterer] and unwraps to err. WithRetryAfter(nil, d) is nil.
func WithRetryAfter(err error, delay time.Duration) error {
	if err == nil {
		return nil
	}
	return &afterError{err: err, delay: delay}
}

// ExhaustedError is returned by [Do] when it gives up on an error it could
// retry because its budget is spent. It matches [ErrExhausted] with
// errors.Is and unwraps to the last error. It is safe for concurrent use
// when the wrapped error is. Its zero value wraps no error; [Do] fills it
// in.
type ExhaustedError struct {
	// Attempts is how many attempts were made.
	Attempts int
	// Reason is which budget was spent: "max attempts", "max elapsed time"
	// or "context deadline".
	Reason string
	// Err is the error of the last attempt.
	Err error
}

// Error returns "retry: gave up after N attempts (REASON): LAST ERROR".
func (e *ExhaustedError) Error() string {
	return "retry: gave up after " + strconv.Itoa(e.Attempts) + " attempts (" + e.Reason + "): " + e.Err.Error()
}

// Is reports whether target is [ErrExhausted].
func (e *ExhaustedError) Is(target error) bool { return target == ErrExhausted }

// Unwrap returns the error of the last attempt.
func (e *ExhaustedError) Unwrap() error { return e.Err }

// Defaults of [Policy] and [Backoff], used for their zero fields.
const (
	DefaultMaxAttempts     = 5
	DefaultInitialInterval = 100 * time.Millisecond
	DefaultMaxInterval     = 10 * time.Second
	DefaultMultiplier      = 2
	DefaultJitter          = 0.5
)

// NoJitter, as [Backoff.Jitter], turns jitter off: every delay is exactly
// the exponential one.
const NoJitter = -1

// Backoff is an exponential backoff: the delay after the first failed
// attempt is InitialInterval, each later one Multiplier times longer, up to
// MaxInterval, each randomized by Jitter. The zero value is the documented
// defaults: 100ms doubling up to 10s, with a jitter of 0.5. It is a plain
// value, safe to copy and for concurrent use.
type Backoff struct {
	// InitialInterval is the delay after the first failed attempt. Zero
	// means [DefaultInitialInterval], or MaxInterval when that is set and
	// smaller.
	InitialInterval time.Duration
	// MaxInterval caps the delay, jitter included: a jittered delay drawn
	// above MaxInterval is cut to MaxInterval. Zero means
	// [DefaultMaxInterval], or InitialInterval when that is larger. When
	// both are set, InitialInterval must not exceed MaxInterval.
	MaxInterval time.Duration
	// Multiplier is the growth factor, at least 1 (1 keeps the delay
	// constant). Zero means [DefaultMultiplier].
	Multiplier float64
	// Jitter randomizes each delay d into a value between d*(1-Jitter) and
	// d*(1+Jitter), so that clients that failed together do not retry
	// together. Zero means [DefaultJitter]; at most 1; [NoJitter] (or any
	// negative value) means none.
	Jitter float64
}

// Validate reports whether b is usable: no negative interval, InitialInterval
// at most MaxInterval when both are set, Multiplier zero or at least 1 and
// finite, Jitter at most 1 and not NaN. The error matches [ErrInvalidConfig].
func (b Backoff) Validate() error {
	switch {
	case b.InitialInterval < 0:
		return fmt.Errorf("%w: Backoff.InitialInterval %v is negative", ErrInvalidConfig, b.InitialInterval)
	case b.MaxInterval < 0:
		return fmt.Errorf("%w: Backoff.MaxInterval %v is negative", ErrInvalidConfig, b.MaxInterval)
	case b.MaxInterval > 0 && b.InitialInterval > b.MaxInterval:
		return fmt.Errorf("%w: Backoff.InitialInterval %v exceeds MaxInterval %v", ErrInvalidConfig, b.InitialInterval, b.MaxInterval)
	case b.Multiplier != 0 && !(b.Multiplier >= 1 && !math.IsInf(b.Multiplier, 0)):
		return fmt.Errorf("%w: Backoff.Multiplier %v is not a finite number of at least 1", ErrInvalidConfig, b.Multiplier)
	case math.IsNaN(b.Jitter) || b.Jitter > 1:
		return fmt.Errorf("%w: Backoff.Jitter %v is above 1", ErrInvalidConfig, b.Jitter)
	}
	return nil
}

// Delay returns the delay after the given failed attempt (from 1; a
// smaller number counts as 1): InitialInterval times Multiplier to the
// power attempt-1, at most MaxInterval, then randomized by Jitter and cut
// to MaxInterval again. Zero fields are the defaults, as for the zero
// Backoff. It is the one backoff computation of the SDK: [Do], the event
// log's error policy and the connector decorators all use it. b should be
// valid ([Backoff.Validate]); Delay is safe for concurrent use.
func (b Backoff) Delay(attempt int) time.Duration {
	b = b.withDefaults()
	eb := &backoff.ExponentialBackOff{
		InitialInterval: b.InitialInterval,
		Multiplier:      b.Multiplier,
		MaxInterval:     b.MaxInterval,
		Stop:            backoff.Stop,
		Clock:           backoff.SystemClock,
	}
	eb.Reset()
	// Step without jitter to the attempt's interval; once at MaxInterval,
	// or when it no longer grows, the interval stays.
	prev := time.Duration(-1)
	for i := 1; i < attempt; i++ {
		d := eb.NextBackOff()
		if d >= b.MaxInterval || d == prev {
			break
		}
		prev = d
	}
	eb.RandomizationFactor = b.Jitter
	return min(eb.NextBackOff(), b.MaxInterval)
}

// withDefaults returns b with its zero fields set to the defaults and a
// negative Jitter set to 0.
func (b Backoff) withDefaults() Backoff {
	switch {
	case b.InitialInterval == 0 && b.MaxInterval == 0:
		b.InitialInterval, b.MaxInterval = DefaultInitialInterval, DefaultMaxInterval
	case b.InitialInterval == 0:
		b.InitialInterval = min(DefaultInitialInterval, b.MaxInterval)
	case b.MaxInterval == 0:
		b.MaxInterval = max(DefaultMaxInterval, b.InitialInterval)
	}
	if b.Multiplier == 0 {
		b.Multiplier = DefaultMultiplier
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = DefaultJitter
	case b.Jitter < 0:
		b.Jitter = 0
	}
	return b
}

// Policy configures [Do]: how many attempts, how long in all and per
// attempt, the backoff between attempts, whether the operation is
// idempotent, and a hook on each retry. The zero value is the documented
// defaults: five attempts, the zero [Backoff], no elapsed-time budget or
// per-attempt timeout beyond the context's, not idempotent. It is a plain
// value, safe for concurrent use when OnRetry is.
type Policy struct {
	// MaxAttempts is how many attempts Do makes in all, the first
	// included; 1 disables retrying. Zero means [DefaultMaxAttempts].
	MaxAttempts int
	// MaxElapsed is a budget for the whole call: Do does not start a wait
	// that would end later than MaxElapsed after it was called. Zero means
	// no limit beyond the attempts and the context.
	MaxElapsed time.Duration
	// AttemptTimeout gives each attempt a context with this timeout. An
	// attempt that fails because its own timeout expired is retried like
	// any other failure. Zero means no per-attempt timeout.
	AttemptTimeout time.Duration
	// Backoff is the delay between attempts; its zero value is the
	// defaults.
	Backoff Backoff
	// Idempotent declares that the operation is idempotent (for example,
	// it sends an idempotency key), so errors reporting that the remote may
	// have applied it ([MayHaveApplied]) may be retried. By default they are
	// not.
	Idempotent bool
	// OnRetry, when not nil, is called after each failed attempt that will
	// be retried, before the wait, with the 1-based number of the failed
	// attempt, its error and the delay before the next attempt. It runs on
	// the calling goroutine; use it for logs, metrics and timelines.
	OnRetry func(attempt int, err error, delay time.Duration)
}

// Validate reports whether p is usable: no negative count or duration and
// a valid Backoff. The error matches [ErrInvalidConfig].
func (p Policy) Validate() error {
	switch {
	case p.MaxAttempts < 0:
		return fmt.Errorf("%w: Policy.MaxAttempts %d is negative", ErrInvalidConfig, p.MaxAttempts)
	case p.MaxElapsed < 0:
		return fmt.Errorf("%w: Policy.MaxElapsed %v is negative", ErrInvalidConfig, p.MaxElapsed)
	case p.AttemptTimeout < 0:
		return fmt.Errorf("%w: Policy.AttemptTimeout %v is negative", ErrInvalidConfig, p.AttemptTimeout)
	}
	if err := p.Backoff.Validate(); err != nil {
		return fmt.Errorf("%w (Policy.Backoff)", err)
	}
	return nil
}

// Do calls op until it succeeds, an error must not be retried, or the budget
// of p is spent, waiting between attempts with exponential backoff and
// jitter. The rules, in order:
//
//   - when ctx is done (cancelled or past its deadline), Do stops and never
//     retries; an error from op is returned as it is, and during a wait the
//     error matches both context.Cause(ctx) and the last error;
//   - an error marked with [Permanent], or whose [Retryable] reports false,
//     is returned as it is;
//   - an error matching [ErrCircuitOpen] is returned as it is, so the
//     caller can park the work until the dependency is back;
//   - an error whose [MayHaveApplied] reports true is returned as it is,
//     unless p.Idempotent is set;
//   - any other error is retried; when it implements [RetryAfterer], the
//     wait is at least the server's delay;
//   - when the attempts are spent, or the next wait would end past
//     p.MaxElapsed or the context's deadline, Do returns an
//     [*ExhaustedError] wrapping the last error.
//
// Under a context of [ReleaseWhileWaiting], Do gives the caller's
// resource up while it waits between attempts.
//
// The errors are classified with errors.As and errors.Is, never by their
// text. An invalid p ([Policy.Validate]) is returned as an error matching
// [ErrInvalidConfig] before op is called. Do is safe for concurrent use; it
// starts no goroutines.
func Do[T any](ctx context.Context, p Policy, op func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := p.Validate(); err != nil {
		return zero, err
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}

	if ctx.Err() != nil {
		return zero, context.Cause(ctx)
	}
	var start time.Time // set only when MaxElapsed needs it
	if p.MaxElapsed > 0 {
		start = time.Now()
	}
	held := claimHeld(ctx)
	if held.n > 0 {
		defer held.unclaim()
	}
	for attempt := 1; ; attempt++ {
		v, err := runAttempt(ctx, op, p.AttemptTimeout)
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil || !retryable(err, p.Idempotent) {
			return zero, err
		}
		if attempt >= p.MaxAttempts {
			return zero, &ExhaustedError{Attempts: attempt, Reason: "max attempts", Err: err}
		}
		delay := p.Backoff.Delay(attempt)
		var ra RetryAfterer
		if errors.As(err, &ra) && ra.RetryAfter() > delay {
			delay = ra.RetryAfter()
		}
		now := time.Now()
		if p.MaxElapsed > 0 && now.Add(delay).Sub(start) > p.MaxElapsed {
			return zero, &ExhaustedError{Attempts: attempt, Reason: "max elapsed time", Err: err}
		}
		if deadline, ok := ctx.Deadline(); ok && now.Add(delay).After(deadline) {
			return zero, &ExhaustedError{Attempts: attempt, Reason: "context deadline", Err: err}
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, err, delay)
		}
		held.release()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return zero, fmt.Errorf("retry: stopped after %d attempts: %w; last error: %w", attempt, context.Cause(ctx), err)
		case <-t.C:
		}
		if aerr := held.acquire(ctx); aerr != nil {
			return zero, fmt.Errorf("retry: stopped after %d attempts: %w; last error: %w", attempt, aerr, err)
		}
	}
}

func runAttempt[T any](ctx context.Context, op func(context.Context) (T, error), timeout time.Duration) (T, error) {
	if timeout <= 0 {
		return op(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return op(ctx)
}

// retryable applies the classification rules of Do to an error of op, the
// caller's context being still alive.
func retryable(err error, idempotent bool) bool {
	if IsPermanent(err) {
		return false
	}
	if errors.Is(err, ErrCircuitOpen) {
		return false
	}
	var ma MayHaveApplied
	if errors.As(err, &ma) && ma.MayHaveApplied() && !idempotent {
		return false
	}
	return true
}

// IsPermanent reports whether err says that retrying cannot help: its chain
// holds a [*PermanentError] (see [Permanent]) or an error whose [Retryable]
// method reports false (a connector error with a permanent code, an
// idempotency mismatch). It is the one definition of "permanent" that [Do],
// the idempotency result policy and the event log's error policy share.
// IsPermanent(nil) is false.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return true
	}
	var rc Retryable
	return errors.As(err, &rc) && !rc.Retryable()
}

// ParseRetryAfter parses the value of an HTTP Retry-After header (RFC 9110
// section 10.2.3) into a delay from now: either delay-seconds (a
// non-negative decimal integer) or an HTTP-date, in any of the three formats
// a recipient must accept. A date in the past gives 0. Surrounding
// whitespace is ignored. Any other value returns an error matching
// [ErrInvalidRetryAfter].
func ParseRetryAfter(value string, now time.Time) (time.Duration, error) {
	v := strings.Trim(value, " \t")
	if v == "" {
		return 0, fmt.Errorf("%w: empty value", ErrInvalidRetryAfter)
	}
	if isDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("%w: %q seconds is out of range", ErrInvalidRetryAfter, v)
		}
		return time.Duration(secs) * time.Second, nil
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is neither delay-seconds nor an HTTP-date", ErrInvalidRetryAfter, v)
	}
	return max(t.Sub(now), 0), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
