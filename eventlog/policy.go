package eventlog

import (
	"errors"
	"fmt"
	"time"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/retry"
)

// Defaults of [ErrorPolicy].
const (
	DefaultMaxAttempts   = retry.DefaultMaxAttempts
	DefaultOpenRecheck   = 5 * time.Second
	DefaultMaxRetryAfter = 5 * time.Minute
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
//     parked for the backoff delay (Backoff.Delay), or the error's RetryAfter() when
//     longer and IgnoreRetryAfter is false. A RetryAfter() longer than
//     MaxRetryAfter dead-letters the event at once ([ReasonRetryAfter]):
//     retrying sooner would go against what the remote asked, and waiting
//     that long would hold back its key (and, once MaxPending events are
//     read behind it, every key).
//
// Every wait is thereby bounded: a backoff delay by Backoff.MaxInterval
// (jitter included), every other one by MaxRetryAfter.
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
	// Backoff is the delay after each failed attempt, the same value as
	// retry.Policy's: its zero value is 100ms doubling up to 10s, with a
	// jitter of 0.5 (retry.DefaultJitter); set Backoff.Jitter to
	// retry.NoJitter for exact delays.
	Backoff retry.Backoff
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
	case p.OpenRecheck < 0 || p.MaxRetryAfter < 0:
		return fmt.Errorf("eventlog: ErrorPolicy has a negative interval: %w", ErrInvalidConfig)
	}
	if err := p.Backoff.Validate(); err != nil {
		return fmt.Errorf("eventlog: ErrorPolicy.Backoff: %w: %w", err, ErrInvalidConfig)
	}
	return nil
}

// withDefaults returns p with its zero fields set to the defaults.
func (p ErrorPolicy) withDefaults() ErrorPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.OpenRecheck == 0 {
		p.OpenRecheck = DefaultOpenRecheck
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return p
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
			nj := p.Backoff
			nj.Jitter = retry.NoJitter
			d = nj.Delay(1) // the initial interval
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
	d := p.Backoff.Delay(attempts)
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
