package idempotency

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Store keeps one record per key: claimed under a lease while the effect
// runs, then completed with its result, or released after a failure so the
// operation can run again.
//
// Implementations must be safe for concurrent use, by goroutines and, for
// shared stores, by processes: of any number of concurrent claims of a key
// exactly one returns [Claimed]. Every method honours ctx and returns an
// error matching ctx's cause when ctx is done. [MemoryStore] and [SQLStore]
// implement Store; the idempotencytest package checks any implementation.
// The zero value, nil, is no implementation; a field of this type says what
// nil means there.
type Store interface {
	// Claim tries to take key for an operation whose request has
	// fingerprint fp, holding it for lease (which must be > 0). See
	// [Claim] for the four outcomes. A record whose retention has passed
	// counts as absent. A record still in progress whose lease has expired
	// is taken over (with a new [Lease.Token]) when fp matches.
	Claim(ctx context.Context, key Key, fp Fingerprint, lease time.Duration) (Claim, error)
	// Complete stores result for the key held by l and marks it
	// completed; it is then kept for the store's retention. If l no longer
	// holds the key it returns an error matching [ErrLeaseLost] and
	// changes nothing.
	Complete(ctx context.Context, l Lease, result Result) error
	// Release removes the claim held by l so the operation can be claimed
	// and run again. If l no longer holds the key it returns an error
	// matching [ErrLeaseLost] and changes nothing.
	Release(ctx context.Context, l Lease) error
}

// Looker is an optional interface of a [Store] that can report a key's
// record without changing it. All stores of this package implement it.
// Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type Looker interface {
	// Lookup returns the live record of key, or an error matching
	// [ErrNotFound] when there is none or its retention has passed.
	Lookup(ctx context.Context, key Key) (Record, error)
}

// TxCompleter is an optional interface of a [Store] kept in an SQL
// database: it completes a claim inside a transaction of the caller's on
// that database, so that the completion commits, or rolls back, with the
// caller's other writes (an event log's consumer completes the claims of
// the events it handled in the transaction that commits its cursor).
// [SQLStore] implements it. Implementations must be safe for concurrent
// use. The zero value, nil, is no implementation.
type TxCompleter interface {
	// Uses reports whether db is the database the store keeps its
	// records in: CompleteTx takes transactions of that database only.
	Uses(db *sql.DB) bool
	// CompleteTx is [Store.Complete] within tx, a transaction on the
	// store's database: the record is completed when tx commits. If l no
	// longer holds the key it returns an error matching [ErrLeaseLost].
	CompleteTx(ctx context.Context, tx *sql.Tx, l Lease, result Result) error
}

// TxBatchCompleter is an optional interface of a [TxCompleter] that
// completes many claims in one statement of a transaction of the
// caller's (an event log's consumer completes so the claims of all the
// events of its group commit). [SQLStore] implements it. Implementations
// must be safe for concurrent use. The zero value, nil, is no
// implementation.
type TxBatchCompleter interface {
	// CompleteTxBatch is [TxCompleter.CompleteTx] of each completion of
	// cs within tx, whose keys must be distinct. When one of the leases no
	// longer holds its key it returns an error matching [ErrLeaseLost],
	// which names the key only when cs holds one completion: the caller
	// rolls tx back, and completes one by one to learn which.
	CompleteTxBatch(ctx context.Context, tx *sql.Tx, cs []Completion) error
}

// Completion is one completion of [TxBatchCompleter.CompleteTxBatch]: the
// lease of a claim and the result to store, as [Store.Complete] takes
// them. It is safe for concurrent use when its Result.Data is not
// changed. The zero value is not a valid completion: its lease is zero.
type Completion struct {
	// Lease is the lease of the claim to complete.
	Lease Lease
	// Result is the result to store.
	Result Result
}

// BatchClaimer is an optional interface of a [Store] that makes many
// claims in one transaction of its database, so that claiming a batch of
// keys costs one commit rather than one per key (an event log's consumer
// claims together the events it is about to hand to its handlers).
// [SQLStore] implements it. Implementations must be safe for concurrent
// use. The zero value, nil, is no implementation.
type BatchClaimer interface {
	// ClaimBatch claims the key of each request with its fingerprint for
	// lease, as [Store.Claim] of each would, one after the other, and
	// returns their answers in the order of reqs. The claims that hold
	// their key (Claimed) are durable together, when the call returns;
	// each is then completed or released on its own. It is all or
	// nothing: when it returns an error, no key was claimed. A key given
	// twice is claimed by its first request; a later one answers as a
	// claim of a held key does (InProgress, or Mismatch for another
	// fingerprint).
	ClaimBatch(ctx context.Context, reqs []ClaimRequest, lease time.Duration) ([]Claim, error)
}

// ClaimRequest is one claim of [BatchClaimer.ClaimBatch]: a key and the
// fingerprint of its request, as [Store.Claim] takes them. It is a plain
// comparable value, safe for concurrent use. The zero value is not a valid
// request: its Key is zero.
type ClaimRequest struct {
	// Key is the key to claim. Required.
	Key Key
	// Fingerprint is the fingerprint of the request; the zero value is a
	// fingerprint like any other.
	Fingerprint Fingerprint
}

// Reaper is an optional interface of a [Store] that can delete the records
// whose retention has passed. Expiry is checked on every read, so reaping
// only reclaims space. Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type Reaper interface {
	// Reap deletes expired records and returns how many it deleted.
	Reap(ctx context.Context) (int, error)
}

// Status is the outcome of [Store.Claim]. It is a plain value, safe for
// concurrent use. The zero value is not a valid Status; stores return
// [Claimed] or another named constant.
type Status int

// The outcomes of a claim.
const (
	// Claimed: the caller holds the key under [Claim.Lease] and runs the
	// effect, then calls Complete or Release.
	Claimed Status = iota + 1
	// Completed: the operation already ran; [Claim.Result] is its stored
	// result, to be replayed.
	Completed
	// InProgress: another caller holds a live lease; [Claim.RetryAfter]
	// says when it ends.
	InProgress
	// Mismatch: the key is held or completed for a different fingerprint.
	Mismatch
)

// String returns the status name, such as "claimed".
func (s Status) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case Completed:
		return "completed"
	case InProgress:
		return "in progress"
	case Mismatch:
		return "mismatch"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Claim is the answer of [Store.Claim]. Which fields are set depends on
// Status. It is a plain value owned by the caller: safe for concurrent
// reads, not for concurrent writes. The zero value is not an answer of any
// store.
type Claim struct {
	// Status is the outcome.
	Status Status
	// Lease holds the key when Status is Claimed.
	Lease Lease
	// Result is the stored result when Status is Completed.
	Result Result
	// RetryAfter is how long the live lease still runs when Status is
	// InProgress.
	RetryAfter time.Duration
	// Fingerprint is the fingerprint the key is held or completed with
	// when Status is Mismatch, so that the caller can name both.
	Fingerprint Fingerprint
}

// Lease is a claim on a key. Its Token fences it: after the lease expired
// and another caller took the key over, the old Lease can neither complete
// nor release it. It is a plain value, safe for concurrent use. The zero
// value holds no key and is refused by every store.
type Lease struct {
	// Key is the claimed key.
	Key Key
	// Token identifies this claim among all claims of Key; a takeover
	// gets a new one. It is never 0.
	Token uint64
	// Expires is when the lease ends and the key may be taken over.
	Expires time.Time
}

// Result is what a completed operation left behind, replayed to later
// callers of the same key. Stores copy Data in and out, so a Result is
// owned by its holder: safe for concurrent reads, not for concurrent
// writes. The zero value is an empty result.
type Result struct {
	// Data is the encoded result, or the error text when Failed. Stores
	// keep their own copy.
	Data []byte
	// Failed records that the operation failed permanently: replaying it
	// returns the failure again rather than a value.
	Failed bool
}

// Record is a key's stored state, as reported by [Looker.Lookup]. It is a
// snapshot owned by the caller: safe for concurrent reads, not for
// concurrent writes. The zero value is an empty record.
type Record struct {
	// Key is the record's key.
	Key Key
	// Fingerprint is the fingerprint of the request that claimed it.
	Fingerprint Fingerprint
	// Status is Claimed while in progress (the lease may have expired:
	// compare LeaseExpires with the time) or Completed.
	Status Status
	// Token is the token of the current or last lease.
	Token uint64
	// LeaseExpires is when the lease ends; zero once Completed.
	LeaseExpires time.Time
	// Expires is when the record's retention ends and it counts as absent.
	Expires time.Time
	// Result is the stored result when Status is Completed.
	Result Result
}

// DefaultRetention is how long a record is kept after its last change when
// the configured retention is zero.
const DefaultRetention = 24 * time.Hour

// checkClaim validates the arguments common to every Claim implementation.
func checkClaim(ctx context.Context, key Key, lease time.Duration) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if key.IsZero() {
		return &KeyError{Input: "", Offset: -1, Reason: "zero Key"}
	}
	if lease <= 0 {
		return fmt.Errorf("idempotency: claim %q: lease %v is not positive: %w", key.s, lease, ErrInvalidConfig)
	}
	return nil
}

// checkLease validates the arguments common to Complete and Release.
func checkLease(ctx context.Context, l Lease) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if l.Key.IsZero() || l.Token == 0 {
		return fmt.Errorf("idempotency: zero lease (key %q, token %d): %w", l.Key.s, l.Token, ErrLeaseLost)
	}
	return nil
}

func leaseLost(l Lease) error {
	return fmt.Errorf("idempotency: key %q, token %d: %w", l.Key.s, l.Token, ErrLeaseLost)
}
