// Package eventlog is a durable, at-least-once event log with consumer
// groups, per-key ordering, one error policy, dead letters with replay and,
// for SQL databases, a transactional outbox.
//
// # Log and backends
//
// A [Log] holds [canonical.Event] values in the order they were appended,
// numbered by offsets from 1. A [Backend] is a Log together with the durable
// state of consumer groups ([Cursors]) and the dead letters
// ([DeadLetters]), all in one storage: [Memory] for one process and tests,
// [SQL] for SQLite (the embedded default) and PostgreSQL (shared by several
// processes). The eventlogtest package is the conformance kit every backend
// runs.
//
// # Consumers
//
// A [Consumer] is one consumer group: it reads the log from its group's
// cursor and calls its [Handler] with each event. Events are partitioned by
// [canonical.Event.Partition] (the partition key, else the subject): the
// events of one key are handled one at a time in log order, different keys
// in parallel on ConsumerConfig.Workers goroutines. An event is
// acknowledged after its handler returned nil.
//
// A consumer learns of new events from the backend's [Notifier] (appends
// in this process) and by reading the log every
// ConsumerConfig.PollInterval (appends by other processes). A driver that
// must know when everything appended so far is handled (a test, a batch
// job) calls [Consumer.WaitIdle]: it returns once a read made after the
// call finds nothing new and every event read is done, without polling.
//
// # Cursor and crash semantics
//
// The durable cursor of a group is its low-water mark: every event at or
// before it is done (acknowledged or dead-lettered). Events after it may be
// done too, in memory, while an earlier one is still parked; the cursor
// moves over them once the earlier one is done. Next to the cursor the
// backend keeps the retry state (attempts, failure times, due time) of each
// failing event, and the dead letters. After a crash, a new Run starts after
// the cursor: events handled but not yet covered by the cursor are
// delivered again (at least once), with their retry state restored. Set
// ConsumerConfig.Dedupe to an idempotency store to suppress the second
// effect: the handler then runs under an idempotency claim keyed by the
// group and the event's source and id, completed after success and
// released after failure, so a failed event is always handled again.
//
// # Group commit
//
// A consumer over an [SQL] backend commits in groups: the writes its
// handlers deferred with [Defer], the completions of the dedupe claims
// (when ConsumerConfig.Dedupe is an [idempotency.TxCompleter] on the same
// database, as an idempotency.SQLStore is) and the cursor go into one
// transaction for the events done since its last commit, so that a
// handler's state and its event's acknowledgement are durable together,
// with one commit for many events. A key's next event is handed to a
// handler only after that commit. A crash before it leaves every one of
// those events to be delivered again, with their dedupe claims held until
// their lease ends, as for a crash inside a handler.
//
// # Error policy
//
// A handler's error is classified once, by [ErrorPolicy], through the
// interfaces of package retry (connector errors implement them):
//
//   - retry.ErrCircuitOpen (a dependency is down) parks the event until the
//     breaker lets a probe through, or OpenRecheck, without spending an
//     attempt; so does idempotency.ErrInProgress;
//   - a permanent error (retry.Permanent, Retryable() false) is
//     dead-lettered at once, as is an event the backend cannot decode;
//   - anything else is retried with exponential backoff, at least the
//     error's RetryAfter(), up to MaxAttempts, then dead-lettered; an
//     error asking to wait longer than MaxRetryAfter (5 minutes by
//     default) is dead-lettered at once, with [ReasonRetryAfter].
//
// Every wait is bounded: backoff by Backoff.MaxInterval, a circuit or claim wait
// and the Retry-After honoured by MaxRetryAfter.
//
// A parked event (waiting for its due time) holds back the later events of
// its key, which keeps their order; other keys go on, as long as fewer than
// ConsumerConfig.MaxPending events were read after the oldest event not
// yet done (the consumer holds those in memory; beyond that it pauses
// reading until that event is done or dead-lettered). Once an event is
// dead-lettered it no longer holds back its key: the next event of the key
// is handled. A handler that panics fails with a transient error. When the
// dead letter cannot be stored, the event stays parked and storing is tried
// again after OpenRecheck; the handler does not run again.
//
// # Dead letters
//
// A [DeadLetter] records the event (or, when it could not be decoded, its
// stored bytes), the [Reason], the last error and its class (as
// tracing.ErrorClass gives it), the attempts, the first and last failure
// times, the consumer and the correlation ID, with an audit trail of what
// happened to it. [DeadLetters.List] filters them, [DeadLetters.Get]
// inspects one, [DeadLetters.Replay] asks for one, a filter or all to be
// handled again (the consumer group picks them up at its next poll; a
// success resolves the dead letter, a failure makes it dead again, and the
// replay count is kept), and [DeadLetters.Discard] drops one with who and
// why in its audit trail. A replayed event is handled behind the events of
// its key already queued; its retries are not persisted.
//
// # Transactional outbox
//
// With the SQL backend an application appends events in its own
// transaction with [SQL.AppendTx]: they are kept in an outbox table and
// exist if and only if the transaction commits. [SQL.Relay] (or one round,
// [SQL.RelayOnce]) publishes the committed rows in outbox order: into the
// backend's own log, in the transaction that removes them from the outbox
// (exactly once), or to a RelayConfig.Publish function, removing them only
// after it succeeded (at least once; a failed batch is published again
// before anything after it, so the order per key holds).
//
// # Scope
//
// A consumer group is run by one [Consumer] at a time. Across processes
// sharing a PostgreSQL database this is enforced: the SQL backend is a
// [GroupLocker], and a second process running the group waits as a standby
// until the first stops. The lock is held on one database session, which
// can die without its holder knowing: the holder checks it every
// SQLConfig.LockCheck (default 2s) and stops with [ErrLockLost] when it is
// gone; a standby that takes over a lock not released cleanly waits
// 3×LockCheck first, so that the two never handle events at the same
// time (provided handlers return within LockCheck once cancelled). Every
// run also claims a new epoch of its group ([Cursors.Claim]); the cursor,
// retry states and dead letters are written with it, and a stale run's
// writes are refused with [ErrFenced]. Within one process over [Memory]
// or SQLite, the epoch makes a second Run of a group stop the first at its
// next write. The package does not spread one group's keys over
// several instances; the Group of package eventlog/jetstream does, with
// one Consumer per partition and a lease per partition.
//
// # Retention
//
// Nothing is deleted by itself: events, dead letters and their audit
// trails (which hold the events' data, personal data included) are kept
// until the application deletes them through [Pruner], which [Memory] and
// [SQL] implement. Call it periodically, for example hourly from a
// goroutine of the application's own:
//
//   - [Pruner.TrimEvents] with every consumer group that reads the log
//     deletes the events all of them have committed (the last event of the
//     log is kept). A group left out that reads before the trim gets
//     [ErrTrimmed] rather than missing events. [Memory] can also trim by
//     itself as groups commit: MemoryConfig.TrimGroups.
//   - [Pruner.PurgeDeadLetters] deletes the dead letters an operator
//     settled (resolved or discarded) whose last failure is older than a
//     time, 30 days say; given states, it deletes those instead (dead
//     ones too, when personal data must go).
//
// The idempotency keys of ConsumerConfig.Dedupe expire after their
// store's own retention (see package idempotency).
//
// # Shutdown
//
// When Run's context is done the consumer stops reading, lets the handlers
// in flight finish (cancelling their context after DrainTimeout), records
// their successes, commits the cursor and returns. Work interrupted by the
// shutdown is never dead-lettered nor charged an attempt: it is delivered
// again at the next Run.
package eventlog
