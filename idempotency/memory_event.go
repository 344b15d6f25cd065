package idempotency

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unsafe"
)

// handleEvent is [Guard.HandleEvent] for a Guard whose Store is s, with
// the same outcomes as run gives it (event_test.go runs the event tests on
// both paths). It differs in one thing: the event's key is derived into an
// array on the stack, and only a copy of it outlives the call (the record's
// own, inline, and an error's), where run takes a Key allocated for each
// event. Keep it in step with run.
func (s *MemoryStore) handleEvent(ctx context.Context, g Guard, consumer string, ev EventRef, fn func(ctx context.Context) error) (duplicate bool, err error) {
	if err := g.Validate(); err != nil {
		return false, err
	}
	var text [derivedLen]byte
	deriveInto(&text, consumer, "cloudevents", ev.Source, ev.ID)
	// The key's text is text: nothing below keeps key beyond the call but
	// through owned, which copies it.
	key := Key{s: unsafe.String(&text[0], len(text))}
	owned := func() Key { return Key{s: strings.Clone(key.s)} }
	lease := g.lease()

	fp := ev.Fingerprint
	c, err := s.Claim(ctx, key, fp, lease)
	if err != nil {
		return false, err
	}
	if c.Status == Mismatch && fp.IsZero() != c.Fingerprint.IsZero() {
		// The content of one of the two deliveries is unknown: the source
		// and id alone decide (see run).
		if c, err = s.Claim(ctx, key, c.Fingerprint, lease); err != nil {
			return false, err
		}
	}
	switch c.Status {
	case Completed:
		if c.Result.Failed {
			return true, &ReplayedError{Msg: string(c.Result.Data)}
		}
		return true, nil
	case InProgress:
		return false, &InProgressError{Key: owned(), RetryAfter: c.RetryAfter}
	case Mismatch:
		return false, &MismatchError{Key: owned(), Stored: c.Fingerprint, Got: fp, Source: ev.Source, ID: ev.ID}
	case Claimed:
	default:
		return false, fmt.Errorf("idempotency: claim %q: store returned unknown status %v", owned().s, c.Status)
	}

	l := c.Lease
	finished := false
	defer func() {
		if finished {
			return
		}
		// fn panicked (or called runtime.Goexit): free the key for the
		// next attempt while the panic unwinds.
		if err := s.release(l); err != nil {
			loggerOrDiscard(g.Logger).LogAttrs(ctx, slog.LevelError, "idempotency: releasing the key of a panicking operation failed",
				slog.String("key", owned().s), slog.Any("error", err))
		}
	}()
	opErr := fn(ctx)
	finished = true

	if g.policy()(opErr) == Retry {
		if err := s.release(l); err != nil {
			return false, errors.Join(opErr, err)
		}
		return false, opErr
	}
	var res Result
	if opErr != nil {
		res = Result{Data: []byte(opErr.Error()), Failed: true}
	}
	if err := s.complete(l, res); err != nil {
		err = fmt.Errorf("idempotency: %q ran but its result was not stored: %w", owned().s, err)
		return false, errors.Join(opErr, err)
	}
	return false, opErr
}
