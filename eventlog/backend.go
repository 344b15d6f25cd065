package eventlog

import (
	"context"
	"time"

	"github.com/distsync/distsync/canonical"
)

// Entry is one event read from a log, with its offset. Offsets start at 1
// and grow with each appended event; they are the order of the log. An
// Entry is a plain value, safe for concurrent reads. The zero value is not
// an entry of any log (offsets start at 1).
type Entry struct {
	// Offset is the entry's position in the log, from 1.
	Offset uint64
	// Event is the decoded event. It is the zero Event when Err is set.
	Event canonical.Event
	// Raw is the stored payload when it could not be decoded (Err is
	// set), kept so that the dead letter shows what was stored.
	Raw []byte
	// Err is a *[DecodeError] when the stored payload is not a valid
	// event. The consumer dead-letters such an entry at once.
	Err error
}

// Log is the ordered, durable sequence of events. Implementations must be
// safe for concurrent use.
// The zero value, nil, is no implementation.
type Log interface {
	// Append adds events at the end of the log, in the order given, all
	// or none. Each event must pass [canonical.Event.Validate]; otherwise
	// nothing is appended and the error matches [ErrInvalidEvent].
	// Append must not keep the slice events once it returns
	// (it copies what it keeps): the caller may reuse it.
	Append(ctx context.Context, events ...canonical.Event) error
	// Read returns up to limit entries with offsets greater than after,
	// in offset order. No entry is ever skipped: an entry not yet visible
	// to Read is never followed by a visible one of higher offset.
	Read(ctx context.Context, after uint64, limit int) ([]Entry, error)
}

// Retry is the durable retry state of one event of a consumer group: how
// often its handler failed and when it is due again. It is a plain value,
// safe for concurrent reads. The zero value is "not failed yet".
type Retry struct {
	// Offset is the event's offset.
	Offset uint64
	// Attempts is how many attempts failed with an error that spends the
	// budget (not counting circuit-open parks).
	Attempts int
	// FirstFailure and LastFailure are when the first and the last attempt
	// failed.
	FirstFailure, LastFailure time.Time
	// Due is when the event may be handled again.
	Due time.Time
}

// GroupState is the durable state of a consumer group: its cursor, the
// low-water mark below which every event is done (acknowledged or
// dead-lettered), and the retry state of events after it. It is a plain
// value, safe for concurrent reads. The zero value is the state of a group
// that has consumed nothing.
type GroupState struct {
	// Cursor is the highest offset such that every event at or before it
	// is done. Zero means nothing is done yet.
	Cursor uint64
	// Retries are the retry states of events after Cursor, in offset
	// order.
	Retries []Retry
}

// Cursors keeps the durable state of consumer groups. Implementations must
// be safe for concurrent use.
//
// # Fencing
//
// A consumer group has an epoch, a number that [Cursors.Claim] increases.
// A consumer claims its group when it starts and passes the epoch it got
// to every write of the group's state (Commit, SaveRetry, and Put through
// [DeadLetter.Epoch]); a write with an epoch that is not the group's
// current one is refused with an error matching [ErrFenced], atomically
// with the write: once Claim returned, no write of an earlier claimant
// lands. A consumer that lost its group lock without noticing yet (a
// stale holder) can thus not move the cursor or write retry states and
// dead letters. Epoch 0 writes without fencing, for tools and tests.
// The zero value, nil, is no implementation.
type Cursors interface {
	// Group returns the state of group; a group never seen has the zero
	// GroupState.
	Group(ctx context.Context, group string) (GroupState, error)
	// Claim begins a new epoch of group and returns it (1 for a group
	// never claimed, and one more at each claim): from then on, writes
	// with an earlier epoch are refused with [ErrFenced]. A write of an
	// earlier epoch that Claim overtook either landed before Claim
	// returned or is refused.
	Claim(ctx context.Context, group string) (epoch uint64, err error)
	// Commit moves the cursor of group to cursor (never backwards: a lower
	// value leaves it as it is) and deletes the retry states at or before
	// it. It writes nothing and returns an error matching [ErrFenced] when
	// epoch is neither 0 nor the group's current epoch.
	Commit(ctx context.Context, group string, epoch, cursor uint64) error
	// SaveRetry stores the retry state of one event of group, replacing
	// the previous one. It writes nothing and returns an error matching
	// [ErrFenced] when epoch is neither 0 nor the group's current epoch.
	SaveRetry(ctx context.Context, group string, epoch uint64, r Retry) error
}

// Pruner is an optional interface of a [Backend] that deletes what is no
// longer needed, for the size of the storage and for personal data held
// in events and dead letters. Nothing is deleted unless it is called (or,
// on [Memory], MemoryConfig.TrimGroups is set): call it periodically, as
// the package documentation's Retention section describes. [Memory] and
// [SQL] implement it. Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type Pruner interface {
	// TrimEvents deletes the events that every one of groups has
	// committed: those at or before the lowest of their cursors, but never
	// the last event of the log. A group that has never committed holds
	// everything, and no groups trims nothing. It returns the offset
	// through which the log is trimmed, which never goes back: from then
	// on a Read that starts before it fails with an error matching
	// [ErrTrimmed], so list every group that reads the log; a group added
	// later starts after the mark once its cursor is committed there
	// ([Cursors.Commit]). Offsets are never reused.
	TrimEvents(ctx context.Context, groups ...string) (through uint64, err error)
	// PurgeDeadLetters deletes, with their audit trail, the dead letters
	// in one of states whose LastFailure is before olderThan, and returns
	// how many it deleted. No states means [StateResolved] and
	// [StateDiscarded], the dead letters an operator settled. The same
	// event dead-lettered again later gets a new ID. A dead letter in
	// [StateReplaying] deleted while a consumer handles its replay is not
	// stored again when that replay fails: the consumer drops it, with a
	// Warn log.
	PurgeDeadLetters(ctx context.Context, olderThan time.Time, states ...State) (int, error)
}

// Backend is what a [Consumer] needs of a storage: the log, the group
// cursors and the dead letters, over one storage so that a consumer
// reopened after a crash finds all three as they were. [Memory] and [SQL]
// implement it; the eventlogtest package is the conformance kit any
// implementation runs. Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type Backend interface {
	Log
	Cursors
	DeadLetters
}
