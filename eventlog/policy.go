package eventlog

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/retry"
)

// Defaults of [ErrorPolicy].
const (
	DefaultMaxAttempts     = retry.DefaultMaxAttempts
	DefaultInitialInterval = retry.DefaultInitialInterval
	DefaultMaxInterval     = retry.DefaultMaxInterval
	DefaultMultiplier      = retry.DefaultMultiplier
	DefaultOpenRecheck     = 5 * time.Second
	DefaultMaxRetryAfter   = 5 * time.Minute
)

// ErrorPolicy is what a [Consumer] does when its handler fails: one unit,
// applied in one order, whatever the error.
//
//  1. An error matching retry.ErrCircuitOpen parks the event until the
//     breaker's retry.OpenError.Until, or OpenRecheck from now, without
//     spending an attempt; so does idempotency.ErrInProgress (another
//     delivery of the event holds its key), until that lease ends. Either
//     park lasts MaxRetryAfter at most: then the event is tried again
//     (and parked again if the circuit is still open).
//  2. An error that retry.IsPermanent reports permanent (marked with
//     retry.Permanent, or whose Retryable() reports false) dead-letters
//     the event at once ([ReasonPermanent]).
//  3. Any other error spends an attempt. Once MaxAttempts attempts failed,
//     the event is dead-lettered ([ReasonExhausted]); before that it is
//     parked for the backoff delay, or the error's RetryAfter() when
//     longer and IgnoreRetryAfter is false. A RetryAfter() longer than
//     MaxRetryAfter dead-letters the event at once ([ReasonRetryAfter]):
//     retrying sooner would go against what the remote asked, and waiting
//     that long would hold back its key (and, once MaxPending events are
//     read behind it, every key).
//
// Every wait is thereby bounded: a backoff delay by MaxInterval (jitter
// included), every other one by MaxRetryAfter.
//
// A parked event holds back the later events of its key; other keys go on.
// MayHaveApplied is not consulted: delivery is at least once, so handlers
// must be idempotent anyway (see ConsumerConfig.Dedupe), which makes their
// retry safe. The zero value is the documented defaults. It is a plain value, safe for
// concurrent use.
type ErrorPolicy struct {
	// MaxAttempts is how many attempts an event gets, the first included.
	// Zero means [DefaultMaxAttempts].
	MaxAttempts int
	// InitialInterval is the delay after the first failed attempt; each
	// later one is Multiplier times longer, up to MaxInterval. Zero means
	// [DefaultInitialInterval].
	InitialInterval time.Duration
	// MaxInterval caps the delay. Zero means [DefaultMaxInterval].
	MaxInterval time.Duration
	// Multiplier is the growth factor, at least 1. Zero means
	// [DefaultMultiplier].
	Multiplier float64
	// Jitter randomizes each delay d into [d*(1-Jitter), d*(1+Jitter)],
	// and no more than MaxInterval. Zero means none; at most 1.
	Jitter float64
	// IgnoreRetryAfter, when true, ignores the delay an error asks for
	// through RetryAfter() time.Duration. By default it is honoured.
	IgnoreRetryAfter bool
	// OpenRecheck is how long an event parked on an open circuit waits
	// before it is tried again, when the error does not say. Zero means
	// [DefaultOpenRecheck].
	OpenRecheck time.Duration
	// MaxRetryAfter caps the waits an error asks for. An error whose
	// RetryAfter() is longer dead-letters its event at once
	// ([ReasonRetryAfter]), so that one key a remote put off for hours or
	// days does not hold back the others; an open circuit's Until or an
	// in-progress claim's lease further away is checked again after
	// MaxRetryAfter. Zero means [DefaultMaxRetryAfter].
	MaxRetryAfter time.Duration
}

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (p ErrorPolicy) Validate() error {
	switch {
	case p.MaxAttempts < 0:
		return fmt.Errorf("eventlog: ErrorPolicy.MaxAttempts %d is negative: %w", p.MaxAttempts, ErrInvalidConfig)
	case p.InitialInterval < 0 || p.MaxInterval < 0 || p.OpenRecheck < 0 || p.MaxRetryAfter < 0:
		return fmt.Errorf("eventlog: ErrorPolicy has a negative interval: %w", ErrInvalidConfig)
	case p.Multiplier != 0 && (p.Multiplier < 1 || math.IsNaN(p.Multiplier) || math.IsInf(p.Multiplier, 0)):
		return fmt.Errorf("eventlog: ErrorPolicy.Multiplier %v is below 1: %w", p.Multiplier, ErrInvalidConfig)
	case p.Jitter < 0 || p.Jitter > 1 || math.IsNaN(p.Jitter):
		return fmt.Errorf("eventlog: ErrorPolicy.Jitter %v is outside [0, 1]: %w", p.Jitter, ErrInvalidConfig)
	}
	return nil
}

// withDefaults returns p with its zero fields set to the defaults.
func (p ErrorPolicy) withDefaults() ErrorPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.InitialInterval == 0 {
		p.InitialInterval = DefaultInitialInterval
	}
	if p.MaxInterval == 0 {
		p.MaxInterval = DefaultMaxInterval
	}
	if p.Multiplier == 0 {
		p.Multiplier = DefaultMultiplier
	}
	if p.OpenRecheck == 0 {
		p.OpenRecheck = DefaultOpenRecheck
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return p
}

// backoff returns the delay after the given failed attempt (from 1),
// jittered, before Retry-After: at most MaxInterval. The policy must have
// its defaults set.
func (p ErrorPolicy) backoff(attempt int) time.Duration {
	d := float64(p.InitialInterval) * math.Pow(p.Multiplier, float64(attempt-1))
	if d > float64(p.MaxInterval) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(p.MaxInterval)
	}
	if p.Jitter > 0 {
		d *= 1 - p.Jitter + 2*p.Jitter*rand.Float64()
	}
	return min(time.Duration(d), p.MaxInterval)
}

// verdict is what the policy decides about one failure.
type verdict int

const (
	vPark      verdict = iota + 1 // park without spending an attempt
	vRetry                        // spend an attempt, park for backoff
	vDead                         // dead-letter as permanent
	vDeadEx                       // dead-letter as exhausted
	vDeadAfter                    // dead-letter: Retry-After beyond MaxRetryAfter
)

// decide classifies err after the given number of failed attempts (err's
// attempt included when it spends one) and returns the verdict, the delay
// before the next attempt (at most MaxRetryAfter; -1 for an open circuit's
// Until, which the caller caps; for vDeadAfter the delay asked for) and
// the attempts.
func (p ErrorPolicy) decide(err error, attempts int) (verdict, time.Duration, int) {
	if errors.Is(err, retry.ErrCircuitOpen) {
		d := p.OpenRecheck
		var oe *retry.OpenError
		if errors.As(err, &oe) && !oe.Until.IsZero() {
			// Until is absolute; the caller turns the delay into a due time
			// from its own clock, so return -1 to say "use Until".
			return vPark, -1, attempts
		}
		return vPark, d, attempts
	}
	var ip *idempotency.InProgressError
	if errors.As(err, &ip) {
		d := ip.RetryAfter
		if d <= 0 {
			d = p.InitialInterval
		}
		return vPark, min(d, p.MaxRetryAfter), attempts
	}
	if permanent(err) {
		return vDead, 0, attempts + 1
	}
	attempts++
	if attempts >= p.MaxAttempts {
		return vDeadEx, 0, attempts
	}
	d := p.backoff(attempts)
	var ra retry.RetryAfterer
	if !p.IgnoreRetryAfter && errors.As(err, &ra) && ra.RetryAfter() > d {
		d = ra.RetryAfter()
		if d > p.MaxRetryAfter {
			return vDeadAfter, d, attempts
		}
	}
	return vRetry, d, attempts
}

// permanent reports whether err says retrying cannot help: what
// [retry.IsPermanent] says, and an undecodable event.
func permanent(err error) bool {
	return retry.IsPermanent(err) || errors.Is(err, ErrUndecodable)
}
