package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/distsync/distsync/retry"
)

// DefaultLease is the lease of a claim made by [Do] and [Guard.HandleEvent]
// when Guard.Lease is zero.
const DefaultLease = 5 * time.Minute

// Outcome is what a [Policy] decides to do with a key once the operation
// returned. It is a plain value, safe for concurrent use. The zero value is
// not a valid Outcome: a Policy returns [Replay] or [Retry].
type Outcome int

// The outcomes a Policy can choose.
const (
	// Replay completes the key with the operation's result (its value,
	// or its error text when it failed): later calls replay it and the
	// operation never runs again for this key.
	Replay Outcome = iota + 1
	// Retry releases the key: the next call runs the operation again.
	Retry
)

// String returns "replay" or "retry".
func (o Outcome) String() string {
	switch o {
	case Replay:
		return "replay"
	case Retry:
		return "retry"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Policy decides, from the error an operation returned (nil for success),
// whether its result is stored and replayed or the key is released. It must
// be safe for concurrent use and must not block.
//
// A Policy is how this package learns the error classification of the rest
// of a program without importing it: write one that asks your own
// classifier, or mark errors for [DefaultPolicy]. The nil Policy means
// [DefaultPolicy] wherever a Policy is configured. A Policy is called
// concurrently and must be safe for concurrent use.
type Policy func(err error) Outcome

// DefaultPolicy is the Policy used when Guard.Policy is nil:
//
//   - success (nil) is stored and replayed;
//   - an error that [retry.IsPermanent] classifies as permanent is stored
//     and replayed: one wrapped with [retry.Permanent], and one whose
//     Retryable() bool method reports false, such as a connector error with
//     a permanent code or a [*MismatchError];
//   - everything else, context cancellation and deadlines included, is
//     transient: the key is released so the operation runs again on the
//     next delivery or retry.
func DefaultPolicy(err error) Outcome {
	if err == nil {
		return Replay
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Retry
	}
	if retry.IsPermanent(err) {
		return Replay
	}
	return Retry
}

// Guard carries what [Do] and [Guard.HandleEvent] need: the store, the
// lease and the result policy. Store is required; the other zero values
// are the documented defaults.
//
// A Guard is a plain value: copy it freely. It is safe for concurrent use
// when its Store and Policy are.
type Guard struct {
	// Store keeps the keys. Required.
	Store Store
	// Lease is how long a claim holds its key before another caller may
	// take it over. Choose it longer than the operation ever runs. Zero
	// means [DefaultLease].
	Lease time.Duration
	// Policy decides what a result does to the key. Nil means
	// [DefaultPolicy].
	Policy Policy
	// Logger receives failures that cannot be returned: a key that could
	// not be released while a panic unwinds. Nil means discard.
	Logger *slog.Logger
}

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (g Guard) Validate() error {
	switch {
	case g.Store == nil:
		return fmt.Errorf("idempotency: Guard.Store is nil: %w", ErrInvalidConfig)
	case g.Lease < 0:
		return fmt.Errorf("idempotency: Guard.Lease %v is negative: %w", g.Lease, ErrInvalidConfig)
	}
	return nil
}

func (g Guard) lease() time.Duration {
	if g.Lease == 0 {
		return DefaultLease
	}
	return g.Lease
}

func (g Guard) policy() Policy {
	if g.Policy == nil {
		return DefaultPolicy
	}
	return g.Policy
}

// Do runs fn at most once per key to completion and returns its result,
// replaying the stored result to every later call with the same key.
//
// Do claims key with fingerprint fp in g.Store. When it gets the claim it
// runs fn and then, as g.Policy decides, completes the key with fn's result
// (encoded with [encoding/json], so T must be JSON-encodable) or releases
// it. When the key was completed before, fn does not run: Do returns the
// stored value, or a [*ReplayedError] carrying the stored failure. When
// another caller holds a live lease, Do returns an [*InProgressError]
// (matching [ErrInProgress]); when the key was used with a different
// fingerprint, a [*MismatchError] (matching [ErrMismatch]) naming both
// fingerprints.
//
// A failed attempt never marks the key done unless the policy says the
// failure is permanent: a transient error, a cancelled context or a panic
// in fn releases the key (a panic then continues unwinding). Completing and
// releasing use a context detached from ctx's cancellation, bounded by the
// lease, so they happen even when ctx ended during fn.
//
// If fn succeeded but its result could not be stored (the lease was lost
// to a takeover, the store failed), Do returns fn's value together with an
// error saying so: the effect did happen. A value that [encoding/json]
// cannot encode is recorded as a permanent failure (under [DefaultPolicy]),
// for the same reason: a retry must not repeat the effect.
func Do[T any](ctx context.Context, g Guard, key Key, fp Fingerprint, fn func(ctx context.Context) (T, error)) (T, error) {
	var v T
	_, err := run(ctx, g, key, fp, nil,
		func(ctx context.Context) ([]byte, error) {
			var err error
			v, err = fn(ctx)
			if err != nil {
				return nil, err
			}
			data, jerr := json.Marshal(v)
			if jerr != nil {
				// The effect happened: releasing the key would let a
				// retry repeat it. Record the failure instead.
				return nil, retry.Permanent(fmt.Errorf("idempotency: encode result of %q: %w", key.s, jerr))
			}
			return data, nil
		},
		func(data []byte) error {
			if err := json.Unmarshal(data, &v); err != nil {
				return fmt.Errorf("idempotency: decode stored result of %q as %T: %w", key.s, v, err)
			}
			return nil
		})
	return v, err
}

// eventID names the event a claim is for, in HandleEvent.
type eventID struct{ source, id string }

// run is Do without generics. op runs the operation and returns its
// encoded result; replay decodes a stored one. ev is set by HandleEvent.
// It reports whether the result was replayed.
func run(ctx context.Context, g Guard, key Key, fp Fingerprint, ev *eventID, op func(context.Context) ([]byte, error), replay func([]byte) error) (replayed bool, err error) {
	if err := g.Validate(); err != nil {
		return false, err
	}
	c, err := g.Store.Claim(ctx, key, fp, g.lease())
	if err != nil {
		return false, err
	}
	if c.Status == Mismatch && ev != nil && fp.IsZero() != c.Fingerprint.IsZero() {
		// The content of one of the two deliveries is unknown (an
		// EventRef without a Fingerprint, or a record stored without a
		// content fingerprint): the source and id alone decide, as they did
		// before content was fingerprinted.
		if c, err = g.Store.Claim(ctx, key, c.Fingerprint, g.lease()); err != nil {
			return false, err
		}
	}
	switch c.Status {
	case Completed:
		if c.Result.Failed {
			return true, &ReplayedError{Msg: string(c.Result.Data)}
		}
		return true, replay(c.Result.Data)
	case InProgress:
		return false, &InProgressError{Key: key, RetryAfter: c.RetryAfter}
	case Mismatch:
		me := &MismatchError{Key: key, Stored: c.Fingerprint, Got: fp}
		if ev != nil {
			me.Source, me.ID = ev.source, ev.id
		}
		return false, me
	case Claimed:
	default:
		return false, fmt.Errorf("idempotency: claim %q: store returned unknown status %v", key.s, c.Status)
	}

	l := c.Lease
	finished := false
	defer func() {
		if finished {
			return
		}
		// fn panicked (or called runtime.Goexit): free the key for the
		// next attempt while the panic unwinds.
		if err := g.release(ctx, l); err != nil {
			loggerOrDiscard(g.Logger).LogAttrs(ctx, slog.LevelError, "idempotency: releasing the key of a panicking operation failed",
				slog.String("key", key.s), slog.Any("error", err))
		}
	}()
	data, opErr := op(ctx)
	finished = true

	if g.policy()(opErr) == Retry {
		if err := g.release(ctx, l); err != nil {
			return false, errors.Join(opErr, err)
		}
		return false, opErr
	}
	res := Result{Data: data}
	if opErr != nil {
		res = Result{Data: []byte(opErr.Error()), Failed: true}
	}
	if err := g.complete(ctx, l, res); err != nil {
		err = fmt.Errorf("idempotency: %q ran but its result was not stored: %w", key.s, err)
		return false, errors.Join(opErr, err)
	}
	return false, opErr
}

// complete completes the claim l with res, under a context detached from
// ctx's cancellation and bounded by the lease.
func (g Guard) complete(ctx context.Context, l Lease, res Result) error {
	if m, ok := g.Store.(*MemoryStore); ok {
		// Its calls return at once and use no context value: no
		// deadline can pass during them, and a context and a timer per
		// call would be pure cost.
		return m.complete(l, res)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.lease())
	defer cancel()
	return g.Store.Complete(fctx, l, res)
}

// release releases the claim l as complete completes it.
func (g Guard) release(ctx context.Context, l Lease) error {
	if m, ok := g.Store.(*MemoryStore); ok {
		return m.release(l)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.lease())
	defer cancel()
	return g.Store.Release(fctx, l)
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// EventRef is what [Guard.HandleEvent] needs of an event: its CloudEvents
// source and id, which together identify it, and optionally a fingerprint
// of its content. Build it from any event type's fields, for example
// EventRef{Source: e.Source, ID: e.ID} for a canonical.Event. It is a small
// comparable value, safe to copy and to use concurrently. The zero value is
// not valid: Source and ID are required.
type EventRef struct {
	// Source and ID are the event's CloudEvents source and id. Both are
	// required.
	Source, ID string

	// Fingerprint is a fingerprint of the event's content (for example
	// [FingerprintBytes] of its type, subject and data, or
	// [FingerprintJSON] of them). HandleEvent stores it with the event's
	// key, so that another event reusing a source and id already seen is
	// told apart from a redelivery. The zero Fingerprint, the default,
	// means the content is unknown and not compared: every event with the
	// same source and id is then a duplicate.
	Fingerprint Fingerprint
}

// EventKey returns the key under which consumer handles the event with the
// given CloudEvents source and id. Each consumer (a handler with its own
// effect) has its own keys, so two consumers of one event do not suppress
// each other.
func EventKey(consumer, source, id string) Key {
	return Derive(consumer, "cloudevents", source, id)
}

// HandleEvent runs fn for ev unless consumer already handled it,
// deduplicating redeliveries by the event's CloudEvents source and id with
// the same claim, complete and release discipline as [Do]: fn's success
// (and a failure g.Policy deems permanent) is recorded, while a transient
// failure or a panic releases the key, so the redelivery of an event whose
// handler failed runs the handler again. (Deduplicators that mark an event
// seen before the handler runs drop that redelivery.)
//
// It returns duplicate == true when the event had been handled before and
// fn did not run; err is then nil, or a [*ReplayedError] when the earlier
// handling failed permanently. While another delivery of the event is being
// handled, it returns an error matching [ErrInProgress]: do not
// acknowledge the message, let it come back. An empty source or id is
// rejected with an error matching [ErrInvalidKey].
//
// When ev.Fingerprint is set, it is stored with the key. An event whose source and id were already seen but whose
// content fingerprint differs is not a duplicate: fn does not run and
// HandleEvent returns duplicate == false with a [*MismatchError] (matching
// [ErrMismatch]) that names the event and both fingerprints. That error is
// permanent ([MismatchError.Retryable]), so a consumer dead-letters the
// event instead of dropping it or retrying it. When the content of one of
// the two is unknown (a zero fingerprint, given by the caller or stored
// before fingerprints were given), the source and id alone
// decide.
func (g Guard) HandleEvent(ctx context.Context, consumer string, ev EventRef, fn func(ctx context.Context) error) (duplicate bool, err error) {
	source, id := ev.Source, ev.ID
	if source == "" || id == "" {
		return false, &KeyError{Input: source + " " + id, Offset: -1, Reason: "event source and id must both be non-empty"}
	}
	if m, ok := g.Store.(*MemoryStore); ok {
		return m.handleEvent(ctx, g, consumer, ev, fn) // without allocating the key
	}
	return run(ctx, g, EventKey(consumer, source, id), ev.Fingerprint, &eventID{source: source, id: id},
		func(ctx context.Context) ([]byte, error) { return nil, fn(ctx) },
		func([]byte) error { return nil })
}
