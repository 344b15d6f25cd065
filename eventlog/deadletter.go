package eventlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/distsync/distsync/canonical"
)

// Reason says why an event was dead-lettered. It is a plain value, safe for
// concurrent use. The zero value is not a reason any backend records.
type Reason string

// The reasons an event is dead-lettered.
const (
	// ReasonPermanent: the handler returned an error that retrying cannot
	// fix (marked with retry.Permanent, or whose Retryable() is false).
	ReasonPermanent Reason = "permanent"
	// ReasonExhausted: the handler kept failing with transient errors until
	// [ErrorPolicy.MaxAttempts] was spent.
	ReasonExhausted Reason = "exhausted"
	// ReasonUndecodable: the stored event could not be decoded.
	ReasonUndecodable Reason = "undecodable"
	// ReasonRetryAfter: the handler's error asked to retry after a delay
	// (RetryAfter(), such as an HTTP Retry-After) longer than
	// [ErrorPolicy.MaxRetryAfter]. The dead letter's Error ends with the
	// delay asked for; replay it once that time has passed.
	ReasonRetryAfter Reason = "retry-after"
)

// State is the life-cycle state of a dead letter. It is a plain value, safe
// for concurrent use. The zero value is not a state any backend records.
type State string

// The states of a dead letter.
const (
	// StateDead: waiting for an operator.
	StateDead State = "dead"
	// StateReplaying: an operator asked for a replay; the consumer group
	// will deliver the event to its handler again. A failure makes it
	// dead again; a success resolves it.
	StateReplaying State = "replaying"
	// StateResolved: a replay was handled successfully.
	StateResolved State = "resolved"
	// StateDiscarded: an operator discarded it.
	StateDiscarded State = "discarded"
)

// Audit is one entry of a dead letter's audit trail: who did what, why and
// when. It is a plain value, safe for concurrent reads. The zero value is
// an empty entry.
type Audit struct {
	// At is when it happened; DeadLetters methods set it from their clock
	// when it is zero.
	At time.Time `json:"at"`
	// Action is "dead-lettered", "replay", "resolved" or "discard".
	Action string `json:"action"`
	// By names the operator or component that acted.
	By string `json:"by,omitempty"`
	// Why is the operator's reason or the error text.
	Why string `json:"why,omitempty"`
}

// The audit actions.
const (
	ActionDeadLettered = "dead-lettered"
	ActionReplay       = "replay"
	ActionResolved     = "resolved"
	ActionDiscard      = "discard"
)

// DeadLetter is an event a consumer group gave up on, with why and how
// often it failed. It is a plain value, safe for concurrent reads. The zero
// value is not a dead letter of any backend; backends fill it in.
type DeadLetter struct {
	// ID identifies the dead letter in its store, from 1.
	ID int64
	// Consumer is the consumer group that gave up.
	Consumer string
	// Offset is the event's offset in the log (0 for a replayed event
	// whose offset is not known).
	Offset uint64
	// Event is the event. It is the zero Event when Reason is
	// [ReasonUndecodable]; Raw then holds the stored payload.
	Event canonical.Event
	// Raw is the stored payload of an undecodable event, as it was read.
	// On SQL, an event that could not be encoded (an invalid event an
	// application dead-letters) is kept in Raw too, in CloudEvents JSON
	// without validation, and Event is then the zero Event when read back.
	Raw []byte
	// Reason says why it was dead-lettered.
	Reason Reason
	// Error is the text of the last error.
	Error string
	// ErrorClass is the class of the last error, as tracing.ErrorClass
	// gives it (a connector error's code, such as "invalid").
	ErrorClass string
	// Attempts is how many attempts failed.
	Attempts int
	// FirstFailure and LastFailure are when the first and last attempts
	// failed.
	FirstFailure, LastFailure time.Time
	// CorrelationID is the event's correlation ID.
	CorrelationID string
	// State is the life-cycle state.
	State State
	// Replays counts the replays asked for.
	Replays int
	// Audit is the trail of what happened to the dead letter, oldest
	// first.
	Audit []Audit
	// Epoch, when not zero, fences Put: it is the epoch of the consumer
	// group Consumer under which the writer runs (see [Cursors.Claim]),
	// and Put refuses the dead letter with an error matching [ErrFenced]
	// when it is no longer the group's current epoch. It is not stored:
	// dead letters read back have Epoch 0.
	Epoch uint64
}

// key is the identity of the dead letter within its consumer group: a
// digest of the event's dedupe key (source and id, length-prefixed), or its
// offset when it could not be decoded. It is printable ASCII, so that any
// database can store it as text.
func (d *DeadLetter) key() string {
	if d.Event.ID == "" {
		return "offset:" + strconv.FormatUint(d.Offset, 10)
	}
	h := sha256.New()
	h.Write([]byte(strconv.Itoa(len(d.Event.Source)) + ":" + d.Event.Source + d.Event.ID))
	return "event:" + hex.EncodeToString(h.Sum(nil))
}

// Filter selects dead letters. The zero Filter selects all; each set field
// narrows the selection. It is a plain value, safe for concurrent use.
type Filter struct {
	// ID selects one dead letter.
	ID int64
	// Consumer selects one consumer group.
	Consumer string
	// Reason selects one reason.
	Reason Reason
	// ErrorClass selects one error class.
	ErrorClass string
	// CorrelationID selects the dead letters of one business transaction.
	CorrelationID string
	// State selects one state.
	State State
	// Since and Until select by LastFailure: Since <= LastFailure < Until.
	Since, Until time.Time
	// Limit caps the number returned by List; zero means no cap.
	Limit int
}

// Match reports whether d is selected by f (ignoring Limit).
func (f Filter) Match(d *DeadLetter) bool {
	switch {
	case f.ID != 0 && d.ID != f.ID,
		f.Consumer != "" && d.Consumer != f.Consumer,
		f.Reason != "" && d.Reason != f.Reason,
		f.ErrorClass != "" && d.ErrorClass != f.ErrorClass,
		f.CorrelationID != "" && d.CorrelationID != f.CorrelationID,
		f.State != "" && d.State != f.State,
		!f.Since.IsZero() && d.LastFailure.Before(f.Since),
		!f.Until.IsZero() && !d.LastFailure.Before(f.Until):
		return false
	}
	return true
}

// DeadLetters stores dead letters and their audit trail. Implementations
// must be safe for concurrent use.
//
// Replay, Discard and Resolve are atomic state changes: each changes a
// dead letter only from the state it expects ([StateDead] for Replay and
// Discard, [StateReplaying] for Resolve), checked and changed in one step
// together with its audit entry. Of concurrent calls on one dead letter
// exactly one of those expecting its state succeeds; the others find it
// in another state. The audit trail holds one entry per successful call
// and none for a refused one.
// The zero value, nil, is no implementation.
type DeadLetters interface {
	// Put records d for d.Consumer in [StateDead], adding an audit entry,
	// unless d.Epoch is fenced off (see [DeadLetter.Epoch]).
	// A dead letter of the same consumer and event (its source and id, or
	// its offset when undecodable) is updated instead of duplicated: its
	// ID, FirstFailure, Replays and Audit are kept. When d.ID is not zero,
	// the dead letter with that ID (of d.Consumer) is updated instead, or
	// Put returns an error matching [ErrNotFound]: a consumer stores a
	// failed replay so, and an operator corrects a dead letter's Event or
	// Raw bytes so before replaying it (a dead letter without Event is
	// decoded from Raw when replayed). Put returns the ID.
	Put(ctx context.Context, d DeadLetter) (int64, error)
	// List returns the dead letters f selects, oldest ID first.
	List(ctx context.Context, f Filter) ([]DeadLetter, error)
	// Get returns one dead letter, or an error matching [ErrNotFound].
	Get(ctx context.Context, id int64) (DeadLetter, error)
	// Replay moves the dead letters f selects that are in [StateDead] to
	// [StateReplaying], counting the replay and recording a in their audit
	// trail, and returns how many it moved. A dead letter that another
	// call moved first (a concurrent Replay or Discard) is not moved, so
	// concurrent replays of one filter move each dead letter once.
	// f.State and f.Limit are ignored.
	Replay(ctx context.Context, f Filter, a Audit) (int, error)
	// Discard moves one dead letter from [StateDead] to [StateDiscarded],
	// recording a. It returns an error matching [ErrNotFound] or
	// [ErrState].
	Discard(ctx context.Context, id int64, a Audit) error
	// Resolve marks a dead letter in [StateReplaying] as [StateResolved]
	// after its replay was handled, recording it in the audit trail.
	// Consumers call it. It returns an error matching [ErrNotFound] or
	// [ErrState].
	Resolve(ctx context.Context, id int64) error
}
