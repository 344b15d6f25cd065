package connector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// DefaultTimeout is the per-attempt timeout of the decorators when
// [Options.Timeout] is zero.
const DefaultTimeout = 30 * time.Second

// ErrInvalidConfig is matched (with errors.Is) by the error
// [Options.Validate] returns, and so by the errors of [WrapERP], [WrapWMS]
// and [WrapCRM] for unusable options.
var ErrInvalidConfig = errors.New("connector: invalid configuration")

// Options configures the decorators that [WrapERP], [WrapWMS] and [WrapCRM]
// put around an implementation. The zero value of each field is its
// documented default, so the zero Options retry five times with backoff,
// time out each attempt after [DefaultTimeout], and break the circuit
// after five failures in a row. Options is read once by the constructor;
// the functions and interfaces it holds are called concurrently and must be
// safe for concurrent use.
type Options struct {
	// System names the system in timeline steps, metrics, errors and the
	// breaker; "" means "erp", "wms" or "crm" by constructor.
	System string
	// Timeout bounds each attempt (not the whole call, so a retry gets
	// time of its own); 0 means DefaultTimeout. An attempt that runs out
	// of time fails with a [CodeTimeout] error, with MayHaveApplied true for
	// operations with an effect.
	Timeout time.Duration
	// MaxAttempts is how many attempts a call makes in all; 0 means
	// retry.DefaultMaxAttempts and 1 disables retrying.
	MaxAttempts int
	// Backoff is the wait between attempts, the same value as
	// retry.Policy's and the event log's: its zero value is 100ms doubling
	// up to 10s, with a jitter of 0.5. A server's Retry-After is honoured
	// when it is longer.
	Backoff retry.Backoff
	// MaxElapsed bounds the waits of one call; 0 means no bound beyond the
	// attempts and the context.
	MaxElapsed time.Duration
	// Breaker configures the circuit breaker shared by every call through
	// one decorated implementation. Its zero value is the retry package's
	// defaults, with Name set to System, Now to the Now below and
	// IsFailure to [IsBreakerFailure].
	Breaker retry.BreakerConfig
	// NoBreaker leaves the circuit breaker out.
	NoBreaker bool
	// Recorder, when not nil, receives one [tracing.Step] per attempt,
	// with the correlation ID of the call's context.
	Recorder tracing.Recorder
	// Metrics, when not nil, observes every call and retry.
	Metrics Metrics
	// Now is the clock of steps, latencies and the breaker; nil means
	// time.Now.
	Now func() time.Time
}

// Validate reports whether o is usable: no negative duration or count, a
// valid Backoff and a valid Breaker. The error matches ErrInvalidConfig.
func (o Options) Validate() error {
	switch {
	case o.Timeout < 0:
		return fmt.Errorf("%w: Timeout %v is negative", ErrInvalidConfig, o.Timeout)
	case o.MaxAttempts < 0:
		return fmt.Errorf("%w: MaxAttempts %d is negative", ErrInvalidConfig, o.MaxAttempts)
	case o.MaxElapsed < 0:
		return fmt.Errorf("%w: MaxElapsed %v is negative", ErrInvalidConfig, o.MaxElapsed)
	}
	if err := o.Backoff.Validate(); err != nil {
		return fmt.Errorf("%w: Backoff: %w", ErrInvalidConfig, err)
	}
	if err := o.Breaker.Validate(); err != nil {
		return fmt.Errorf("%w: Breaker: %w", ErrInvalidConfig, err)
	}
	return nil
}

// Metrics observes the calls through a decorated implementation: calls,
// errors by code, retries and latency. Implementations must be safe for
// concurrent use and must not block; they are called on the calling
// goroutine with no lock held.
// The zero value, nil, is no implementation; Options.Metrics says what nil
// means there.
type Metrics interface {
	// ObserveCall is called once per call, after its last attempt.
	ObserveCall(ctx context.Context, c CallStats)
	// ObserveRetry is called after each failed attempt that will be
	// retried, before the wait.
	ObserveRetry(ctx context.Context, r RetryStats)
}

// CallStats describes one call through a decorator. It is a plain value,
// safe for concurrent use. The zero value is empty.
type CallStats struct {
	System string
	Op     string
	// Err is the error the call returned, nil for a success.
	Err error
	// Code is the code of Err (CodeUnknown for a cancellation, another
	// error without a code, and a success: check Err first).
	Code Code
	// Attempts is how many attempts were made.
	Attempts int
	// Latency is the time from the call to its return, waits included.
	Latency time.Duration
}

// RetryStats describes one failed attempt that will be retried. It is a
// plain value, safe for concurrent use. The zero value is empty.
type RetryStats struct {
	System string
	Op     string
	// Attempt is the 1-based number of the failed attempt.
	Attempt int
	// Code is the code of its error.
	Code Code
	// Delay is the wait before the next attempt.
	Delay time.Duration
}

// IsBreakerFailure is the default [retry.BreakerConfig.IsFailure] of the
// decorators: an error counts against the remote when its code says the
// remote is down or broken (unavailable, timeout, internal) or when it has
// no code and is not a cancellation. Rejections of the request (invalid,
// not found, conflict, unauthorized) show the remote is up, and rate
// limiting is the remote asking to slow down, which the retry honours.
func IsBreakerFailure(err error) bool {
	switch CodeOf(err) {
	case CodeUnavailable, CodeTimeout, CodeInternal:
		return true
	case CodeUnknown:
		return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	default:
		return false
	}
}

// decorator is the machinery shared by the wrapped systems.
type decorator struct {
	system   string
	timeout  time.Duration
	retry    retry.Policy
	breaker  *retry.Breaker
	recorder tracing.Recorder
	metrics  Metrics
	now      func() time.Time
}

func newDecorator(o Options, system string) (*decorator, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	d := &decorator{system: o.System, timeout: o.Timeout, recorder: o.Recorder, metrics: o.Metrics, now: o.Now}
	if d.system == "" {
		d.system = system
	}
	if d.timeout == 0 {
		d.timeout = DefaultTimeout
	}
	if d.now == nil {
		d.now = time.Now
	}
	// Every operation of the contracts is idempotent, by key, by document
	// ID, by sequence, or because it only reads: see roles.go.
	d.retry = retry.Policy{
		MaxAttempts: o.MaxAttempts,
		MaxElapsed:  o.MaxElapsed,
		Backoff:     o.Backoff,
		Idempotent:  true,
	}
	if !o.NoBreaker {
		bc := o.Breaker
		if bc.Name == "" {
			bc.Name = d.system
		}
		if bc.Now == nil {
			bc.Now = o.Now
		}
		if bc.IsFailure == nil {
			bc.IsFailure = IsBreakerFailure
		}
		b, err := retry.NewBreaker(bc)
		if err != nil {
			return nil, fmt.Errorf("%w: Breaker: %w", ErrInvalidConfig, err)
		}
		d.breaker = b
	}
	return d, nil
}

// errorClass is the class of err on a timeline: the connector code, or
// "circuit_open", or tracing's class.
func errorClass(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, retry.ErrCircuitOpen) {
		return "circuit_open"
	}
	if c := CodeOf(err); c != CodeUnknown {
		return c.String()
	}
	return tracing.ErrorClass(err)
}

// callState is what one call remembers between its attempts.
type callState struct {
	d        *decorator
	ctx      context.Context
	op       string
	attempts int
	pending  tracing.Step
	hasStep  bool
}

// onRetry records the failed attempt as retried and tells the metrics.
func (c *callState) onRetry(attempt int, err error, delay time.Duration) {
	if c.hasStep {
		c.pending.Outcome = tracing.OutcomeRetry
		c.d.recorder.Record(c.ctx, c.pending)
		c.hasStep = false
	}
	if c.d.metrics != nil {
		c.d.metrics.ObserveRetry(c.ctx, RetryStats{System: c.d.system, Op: c.op, Attempt: attempt, Code: CodeOf(err), Delay: delay})
	}
}

// call runs fn through the decorators, outermost first: tracing and
// metrics, retry, circuit breaker, per-attempt timeout. effect says
// whether the operation changes the remote, for the MayHaveApplied fact of
// a timeout.
func call[T any](ctx context.Context, d *decorator, op string, effect bool, fn func(context.Context) (T, error)) (T, error) {
	start := d.now()
	c := &callState{d: d, ctx: ctx, op: op}
	p := d.retry
	if d.recorder != nil || d.metrics != nil {
		p.OnRetry = c.onRetry
	}
	v, err := retry.Do(ctx, p, func(ctx context.Context) (T, error) {
		c.attempts++
		var s tracing.Step
		if d.recorder != nil {
			s = tracing.Step{CorrelationID: tracing.CorrelationID(ctx), System: d.system, Operation: op, Start: d.now(), Attempt: c.attempts}
		}
		v, err := attempt(ctx, d, op, effect, fn)
		if d.recorder != nil {
			s.Duration = d.now().Sub(s.Start)
			s.Outcome = tracing.OutcomeOK
			if err != nil {
				s.Outcome = tracing.OutcomeFailed
				s.ErrorClass = errorClass(err)
			}
			c.pending, c.hasStep = s, true
		}
		return v, err
	})
	if c.hasStep {
		d.recorder.Record(ctx, c.pending)
	}
	if d.metrics != nil {
		d.metrics.ObserveCall(ctx, CallStats{System: d.system, Op: op, Err: err, Code: CodeOf(err), Attempts: c.attempts, Latency: d.now().Sub(start)})
	}
	return v, err
}

// attempt runs one attempt of fn through the breaker with the per-attempt
// timeout.
func attempt[T any](ctx context.Context, d *decorator, op string, effect bool, fn func(context.Context) (T, error)) (T, error) {
	var v T
	run := func(ctx context.Context) error {
		actx, cancel := context.WithTimeout(ctx, d.timeout)
		defer cancel()
		var err error
		v, err = fn(actx)
		if err != nil && ctx.Err() == nil && actx.Err() != nil && CodeOf(err) == CodeUnknown {
			err = NewError(CodeTimeout, d.system, op, err, WithMayHaveApplied(effect))
		}
		return err
	}
	var err error
	if d.breaker != nil {
		err = d.breaker.Do(ctx, run)
		if err != nil && CodeOf(err) == CodeUnknown && errors.Is(err, retry.ErrCircuitOpen) {
			err = NewError(CodeUnavailable, d.system, op, err)
		}
	} else {
		err = run(ctx)
	}
	return v, err
}
