package idempotency

import (
	"errors"
	"strconv"
	"time"
)

// Sentinel errors. Match them with [errors.Is]; the text of each is API and
// does not change.
var (
	// ErrInvalidKey is matched by the error for a key that is empty, longer
	// than MaxKeyLen bytes or not printable ASCII, and by the error for an
	// Idempotency-Key header that cannot be parsed. The error is a *KeyError.
	ErrInvalidKey = errors.New("idempotency: invalid key")

	// ErrInProgress is returned by Do and Guard.HandleEvent when another
	// caller holds a live lease on the key: the operation is running
	// elsewhere and its outcome is not known yet. The error is an
	// *InProgressError that says when to try again.
	ErrInProgress = errors.New("idempotency: operation in progress")

	// ErrMismatch is matched by the error Do and Guard.HandleEvent return
	// when the key was already used with a different fingerprint: the same
	// key for a different request, or an event id reused for different
	// content. The error is a *MismatchError.
	ErrMismatch = errors.New("idempotency: key reused with a different fingerprint")

	// ErrLeaseLost is returned by Store.Complete and Store.Release when the
	// lease no longer holds the key: it expired and was taken over by
	// another caller, the key was released, or the record was removed. The
	// store is left unchanged, so the new holder's work is never
	// overwritten.
	ErrLeaseLost = errors.New("idempotency: lease lost")

	// ErrNotFound is returned by Lookup when the key has no live record.
	ErrNotFound = errors.New("idempotency: key not found")

	// ErrStoreFull is returned by MemoryStore.Claim for a new key when the
	// store holds as many records or bytes as its configuration allows and
	// none of them has expired. It is transient: the claim can succeed once
	// records expire or are released. The HTTP middleware answers it with
	// 503 and Retry-After.
	ErrStoreFull = errors.New("idempotency: store is full")

	// ErrInvalidConfig is matched by the error of every Validate method and
	// constructor given a bad configuration.
	ErrInvalidConfig = errors.New("idempotency: invalid configuration")
)

// KeyError describes a key that failed validation: what was given, where
// the problem is and what it is. It matches [ErrInvalidKey]. Like other
// error values it is not modified after it is returned, so it is safe to
// read concurrently. The zero value describes no key; [ParseKey] fills it
// in.
type KeyError struct {
	// Input is the rejected text (the key, or the whole header value).
	Input string
	// Offset is the byte offset of the problem in Input, or -1 when the
	// problem is not at one place (an empty key).
	Offset int
	// Reason says what is wrong, such as "empty".
	Reason string
}

// Error returns a message naming the problem and, where it has one, its
// offset. The input itself is quoted, cut to 64 bytes.
func (e *KeyError) Error() string {
	in := e.Input
	if len(in) > 64 {
		in = in[:64] + "..."
	}
	msg := "idempotency: invalid key " + strconv.Quote(in) + ": " + e.Reason
	if e.Offset >= 0 {
		msg += " (at byte " + strconv.Itoa(e.Offset) + ")"
	}
	return msg
}

// Is reports whether target is [ErrInvalidKey].
func (e *KeyError) Is(target error) bool { return target == ErrInvalidKey }

// InProgressError is returned when a live lease held by another caller
// blocks the key. It matches [ErrInProgress]. It is safe to read
// concurrently. The zero value is usable.
type InProgressError struct {
	// Key is the blocked key.
	Key Key
	// RetryAfter is how long the current lease still runs: the earliest
	// time, from now, at which retrying can take the key over.
	RetryAfter time.Duration
}

// Error returns "idempotency: operation in progress: key K, retry after D".
func (e *InProgressError) Error() string {
	return ErrInProgress.Error() + ": key " + strconv.Quote(e.Key.String()) + ", retry after " + e.RetryAfter.String()
}

// Is reports whether target is [ErrInProgress].
func (e *InProgressError) Is(target error) bool { return target == ErrInProgress }

// MismatchError is returned by [Do] and [Guard.HandleEvent] when the key is
// held or completed with another fingerprint than the call's: the key was
// reused for a different request, or the event's source and id for
// different content. It matches [ErrMismatch] and is permanent
// ([MismatchError.Retryable] reports false): trying again with the same key
// and request gets the same answer. It is safe to read concurrently. The
// zero value is usable.
type MismatchError struct {
	// Key is the key that was reused.
	Key Key
	// Source and ID are the event's CloudEvents source and id when the
	// error comes from HandleEvent; both are empty from Do.
	Source, ID string
	// Stored is the fingerprint the key was first used with.
	Stored Fingerprint
	// Got is the fingerprint of the call that was refused.
	Got Fingerprint
}

// Error returns, from Do, "idempotency: key reused with a different
// fingerprint: key K: stored S, got G" and, from HandleEvent,
// "idempotency: key reused with a different fingerprint: event source S id
// I was already seen with content fingerprint F1, this delivery has F2".
func (e *MismatchError) Error() string {
	if e.Source != "" || e.ID != "" {
		return ErrMismatch.Error() + ": event source " + strconv.Quote(e.Source) + " id " + strconv.Quote(e.ID) +
			" was already seen with content fingerprint " + e.Stored.String() + ", this delivery has " + e.Got.String()
	}
	return ErrMismatch.Error() + ": key " + strconv.Quote(e.Key.String()) + ": stored " + e.Stored.String() + ", got " + e.Got.String()
}

// Is reports whether target is [ErrMismatch].
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// Retryable returns false: the key stays used for its first request, so
// retrying cannot succeed. It makes the error permanent for
// [retry.IsPermanent], so a consumer's error policy dead-letters the event.
func (e *MismatchError) Retryable() bool { return false }

// ReplayedError is the error Do returns when it replays a stored permanent
// failure: the operation failed permanently on an earlier call and is not
// run again. Msg is the text of the original error; its type and chain are
// not kept. A ReplayedError is itself permanent ([ReplayedError.Retryable]
// reports false). It is safe to read concurrently. The zero value is usable
// and reads as an empty message.
type ReplayedError struct {
	// Msg is the Error() text of the original failure.
	Msg string
}

// Error returns the original error text.
func (e *ReplayedError) Error() string { return e.Msg }

// Retryable returns false: a replayed failure will not change on retry. It
// makes the error permanent for [retry.IsPermanent].
func (e *ReplayedError) Retryable() bool { return false }
