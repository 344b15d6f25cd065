// Package idempotency makes effects happen once although the requests and
// messages that cause them may arrive more than once.
//
// Delivery is at least once everywhere; an effect (an order accepted, a
// shipment posted, a card charged) is made exactly once by claiming a key
// before it, completing the key with the effect's result after it, and
// releasing the key when it failed, so that the failed attempt can be made
// again. A failed attempt never marks its key done: the mistake of
// deduplicators that record a message as seen before handling it, and so
// drop the redelivery of a message whose handler failed.
//
// # Keys and fingerprints
//
// A [Key] names one logical operation. [Derive] makes it from a scope, an
// operation and the business identity of what the operation acts on, the
// same in every process; [Parse] validates a key a client chose. A
// [Fingerprint] of the request is stored with the key, so that the key
// reused for a different request is caught ([Mismatch]) instead of
// replaying the wrong result.
//
// # Stores
//
// A [Store] claims keys atomically under a lease, completes and releases
// them. A claim answers [Claimed] (run the effect), [Completed] (replay the
// stored result), [InProgress] (someone else holds a live lease) or
// [Mismatch]. An expired lease is taken over with a new token, and the
// token fences the old holder: its Complete or Release fails with
// [ErrLeaseLost]. Records expire after a retention (default 24 hours).
//
// [MemoryStore] serves one process. [SQLStore] keeps keys in SQLite (the
// embedded default, for example with the pure-Go modernc.org/sqlite
// driver) or PostgreSQL (shared by several processes, for example with
// github.com/jackc/pgx/v5/stdlib); [RunReaper] deletes its expired rows.
// The idempotencytest package is the conformance kit any Store
// implementation runs.
//
// # Running effects
//
// [Do] wraps a function: it claims the key, runs the function, stores its
// JSON-encoded result and replays it to later calls. [Guard.HandleEvent] does
// the same for event consumers, keyed by the event's CloudEvents source and
// id. What a failure does to the key is decided by a [Policy]:
// [DefaultPolicy] stores successes and permanent failures (marked with
// [Permanent], or any error with a Permanent() bool method) and releases
// the key after anything else.
//
// # HTTP
//
// [Middleware] implements the Idempotency-Key header of the IETF draft
// "The Idempotency-Key HTTP Header Field" for a server: replays completed
// requests, refuses a key reused with another body (422) or still in
// flight (409), and answers in RFC 9457 problem documents. A client sends
// a key with [FormatHeader].
package idempotency
