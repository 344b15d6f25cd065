package eventlog

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with errors.Is; the text of each is API and
// does not change.
var (
	// ErrInvalidConfig is matched by the error of every Validate method and
	// constructor given a bad configuration.
	ErrInvalidConfig = errors.New("eventlog: invalid configuration")

	// ErrInvalidEvent is matched by the error Append returns for an event
	// that fails canonical validation; nothing of the batch is appended.
	ErrInvalidEvent = errors.New("eventlog: invalid event")

	// ErrNotFound is returned by DeadLetters.Get and Discard for an ID that
	// names no dead letter.
	ErrNotFound = errors.New("eventlog: dead letter not found")

	// ErrState is returned by Discard for a dead letter that is not in
	// [StateDead] (it is being replayed, was resolved or was discarded
	// already), and by Resolve for one not in [StateReplaying].
	ErrState = errors.New("eventlog: dead letter in another state")

	// ErrRunning is returned by Consumer.Run when the consumer is already
	// running.
	ErrRunning = errors.New("eventlog: consumer already running")

	// ErrStopped is returned by Consumer.WaitIdle when the consumer's Run
	// returned before it was idle.
	ErrStopped = errors.New("eventlog: consumer stopped")

	// ErrNotMigrated is matched by the error of an SQL backend used before
	// its tables exist; call SQL.Migrate first.
	ErrNotMigrated = errors.New("eventlog: tables missing, call Migrate")

	// ErrTrimmed is matched by the error Read returns for a read that
	// starts before the first event the log still holds: the events it
	// asks for were deleted by [Pruner.TrimEvents] (or, on [Memory],
	// MemoryConfig.TrimGroups), so that a consumer group left out of the
	// trim finds out rather than missing events.
	ErrTrimmed = errors.New("eventlog: events trimmed from the log")

	// ErrLockLost is matched by the error Consumer.Run returns when the
	// group lock it held was lost (see [GroupLock]): it stopped handling,
	// so that the process that takes the lock over does not run the group
	// at the same time.
	ErrLockLost = errors.New("eventlog: consumer group lock lost")

	// ErrFenced is matched by the error of a write to a consumer group's
	// state (Commit, SaveRetry, and Put of a dead letter with an Epoch)
	// made with an epoch that is no longer the group's current one:
	// another consumer claimed the group since (see [Cursors.Claim]), and
	// the write is refused. Consumer.Run stops with it.
	ErrFenced = errors.New("eventlog: consumer group claimed by another consumer")

	// ErrUndecodable is matched by the error of an [Entry] whose stored
	// payload is not a valid event, and by the Cause of its dead letter.
	ErrUndecodable = errors.New("eventlog: undecodable event")
)

// DecodeError describes a stored event that cannot be decoded: the offset
// it is stored at and why decoding failed. It matches [ErrUndecodable] and
// unwraps to the decoder's error. It is not modified after it is returned,
// so it is safe for concurrent use. Its zero value names no offset; the
// backends fill it in.
type DecodeError struct {
	// Offset is the entry's offset in the log.
	Offset uint64
	// Err is the decoder's error.
	Err error
}

// Error returns "eventlog: undecodable event at offset N: REASON".
func (e *DecodeError) Error() string {
	return fmt.Sprintf("eventlog: undecodable event at offset %d: %v", e.Offset, e.Err)
}

// Is reports whether target is [ErrUndecodable].
func (e *DecodeError) Is(target error) bool { return target == ErrUndecodable }

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }
