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
// reused for a different request is caught ([Mismatch], a [*MismatchError]
// naming both fingerprints) instead of replaying the wrong result.
//
// # Stores
//
// A [Store] claims keys atomically under a lease, completes and releases
// them. A claim answers [Claimed] (run the effect), [Completed] (replay the
// stored result), [InProgress] (someone else holds a live lease) or
// [Mismatch]. An expired lease is taken over with a new token, and the
// token fences the old holder: its Complete or Release fails with
// [ErrLeaseLost].
//
// [MemoryStore] serves one process; its memory is bounded (by default one
// million records and 256 MiB of keys and results), and when it is full a
// new key is refused with [ErrStoreFull] rather than a record forgotten.
// [SQLStore] keeps keys in SQLite (the embedded default: open the file with
// [github.com/distsync/distsync/sqlite.Open], which sets the WAL journal, a
// busy timeout and one connection, see [SQLite]) or PostgreSQL (shared by
// several processes, for example with github.com/jackc/pgx/v5/stdlib). The
// idempotencytest package is the conformance kit any Store implementation
// runs. An SQLStore commits the claims made at the same time by several
// goroutines in one transaction (each Claim returns once its claim is
// committed), and as a [TxCompleter] it completes a claim inside a
// transaction of the caller's on the same database: an eventlog consumer
// over that database completes its claims in the transaction that commits
// its cursor. As a [BatchClaimer] it claims many keys in one transaction
// (on PostgreSQL in one statement): that consumer claims the keys of the
// events it hands to its handlers together.
//
// # Retention
//
// A record is kept for the store's retention ([DefaultRetention], 24
// hours, unless MemoryConfig.Retention or SQLConfig.Retention says
// otherwise) after it was completed, or after it was claimed for a claim
// that was never completed nor released (and at least until its lease
// ends). A released key is deleted at once. Within the retention a
// duplicate is caught; after it the key counts as absent at once, and the
// operation would run again: choose a retention longer than any client,
// feed or redelivery retries. The retention is stamped on each record when
// it is written, so a changed Retention applies to the records written
// after the change.
//
// Records past their retention are deleted, which also removes the
// responses and results they hold: a [MemoryStore] does so itself every
// minute (MemoryConfig.ReapInterval) and when it is full; for an
// [SQLStore] run [RunReaper] (for example every minute) in one or all of
// the processes sharing the table, or call [SQLStore.Reap] from your own
// scheduler. Both stores implement [Reaper].
//
// # Running effects
//
// [Do] wraps a function: it claims the key, runs the function, stores its
// JSON-encoded result and replays it to later calls. [Guard.HandleEvent] does
// the same for event consumers, keyed by the event's CloudEvents source and
// id. What a failure does to the key is decided by a [Policy]:
// [DefaultPolicy] stores successes and permanent failures (marked with
// [retry.Permanent], or any error whose Retryable() bool method reports
// false; see [retry.IsPermanent]) and releases the key after anything
// else. The event is named by an [EventRef], built from the event's fields,
// which may carry a fingerprint of its content: an event whose source and
// id were already seen with other content is then refused with a permanent
// [*MismatchError], for the consumer to dead-letter, rather than dropped as
// a duplicate.
//
// # HTTP
//
// [Middleware] implements the Idempotency-Key header of the IETF draft
// "The Idempotency-Key HTTP Header Field" for a server: replays completed
// requests, refuses a key reused for another request (another method,
// path, query string or body: 422) or still in flight (409 with a short
// Retry-After), and answers in RFC 9457 problem documents. Keys are scoped
// by the request's principal (MiddlewareConfig.Principal, required unless
// AllowAnonymous is set). A response is stored up to
// MiddlewareConfig.MaxResponseBytes (1 MiB by default); a request whose
// client went away before anything was written releases its key, and one
// whose client went away while the response was being written keeps its
// key completed but not its body: a retry gets 410, never a truncated
// response replayed as if whole. A client sends a key with [FormatHeader].
package idempotency
