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
// handlers deferred with [Defer] (and the rows deferred with
// [TxBatch.Defer], each batch's rows written by one call), the
// completions of the dedupe claims (when ConsumerConfig.Dedupe is an
// [idempotency.TxCompleter] on the same database, as an
// idempotency.SQLStore is; in one statement when it is an
// [idempotency.TxBatchCompleter] too), the cursor and, last, the events
// its handlers appended with [SQL.DeferAppend] go into one transaction
// for the events done since its last commit, so that a handler's state,
// the events it appended and its event's acknowledgement are durable
// together, with one commit for many events. The deferred appends are
// made by the transaction's last statements (on PostgreSQL each takes the
// append lock, held until the commit, so that offsets still become
// visible in order), and [SQL.Appended] is notified once it committed. A key's next event is handed to a
// handler only after that commit. The transaction runs beside the
// consumer's loop, one at a time: while it commits, the consumer goes on
// reading, claiming and handing out the events of the other keys, and the
// events done meanwhile go into the next one. A crash before it leaves every one of
// those events to be delivered again, with their dedupe claims held until
// their lease ends, as for a crash inside a handler. When the writes of an
// event fail (alone, after its group's transaction failed), the event is
// handled again as after a handler's failure, and its dedupe claim, whose
// completion rolled back with them, is released, so that the retry does
// not wait for the lease.
//
// The claims are batched too: when ConsumerConfig.Dedupe is an
// [idempotency.BatchClaimer] (as an idempotency.SQLStore is), the events
// about to be handed to the handlers together have their keys claimed in
// one transaction (on PostgreSQL, one statement) before their handlers
// run, rather than one each. Such a claim is one like any other: it fences
// its key, an event whose key is found completed is skipped and one found
// in progress parked, and a crash leaves it to expire by its lease. The
// claims of events a stopping Run took back unhandled are released when
// it returns.
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
// next write. To spread one group's keys over several processes, run a
// partitioned [Group] instead (next section); the Group of package
// eventlog/jetstream does the same on NATS JetStream, the path beyond
// one database.
//
// # Partitioned groups
//
// A [Group] shares one consumer group among several processes over one
// [SQL] database (PostgreSQL; SQLite only for processes on one machine).
// Every process runs a Group of the same name (a member); the events are
// spread over GroupConfig.Partitions partitions P by their partition key
// ([PartitionOf]), and each partition is consumed, by one member at a
// time, by an ordinary [Consumer] of the consumer group
// [PartitionGroup](GROUP, N) that reads only its partition, so per-key
// order, the error policy, dead letters and replay are those described
// above. The names and the partition function are those of the
// eventlog/jetstream package's Group. P is the group's for its life: a
// member configured with another P is refused.
//
// Ownership is kept in two tables, with compare-and-set updates and no
// clock compared across processes:
//
//   - A member announces itself with a row in PREFIXmembers whose version
//     it increments every GroupConfig.Renew. At each renewal it counts the
//     live members M and owns at most ceil(P/M) partitions: it releases
//     the surplus (highest first) and takes free ones.
//   - Each partition has a row in PREFIXleases: its holder, a random token
//     of the holding (empty when free) and a version. A member takes a
//     free or abandoned partition with an update conditional on the
//     version it read, renews it every Renew by incrementing the version
//     where the token is still its own, and frees it when it stops.
//   - A row whose version a member saw unchanged for GroupConfig.LeaseTTL,
//     on its own clock, is abandoned (a lease) or dead (a member). A
//     holder whose renewals did not succeed for LeaseTTL − Renew since the
//     last successful one was sent declares the lease lost: its consumer
//     stops at once (the handlers' contexts cancelled) and writes nothing
//     more, at least Renew before another member can take the partition.
//   - Taking a partition is a Claim of its consumer group: a new epoch, the
//     fencing token. The former owner's cursor commits, retry states and
//     dead letters carry its older epoch and are refused with [ErrFenced],
//     even if it has not noticed the loss yet.
//
// The leases are rows, not sessions: a killed connection (a server
// restart, pg_terminate_backend, a failover) costs a statement, tried
// again on a new connection, not the partition, unless no renewal gets
// through for LeaseTTL − Renew; and a pooler in transaction mode is fine.
// Renewals share the *sql.DB's pool with the consumers: give it room (on
// SQLite's one connection they queue behind the consumers' statements),
// or choose LeaseTTL well above the longest wait for a connection.
//
// Partitions move within a bound. On leave (Run's context done) the
// member withdraws its row, drains and commits each partition and frees
// its leases; the others take them at their next renewal. On join the
// others release their surplus within a Renew plus a drain, and the new
// member takes it at its next renewal. On a crash, or when a member is
// cut off from the database, its partitions are taken within LeaseTTL +
// 2×Renew (6s with the defaults). Order per key holds across a move: the
// new owner starts after the partition's committed cursor, and events the
// former owner handled after it are delivered again; set
// ConsumerConfig.Dedupe to one store shared by the members (an
// idempotency SQL store over the same database) so that their effects are
// not repeated. A handler that ignores its context's cancellation for
// longer than Renew can overlap the new owner; its writes to the group's
// state are fenced, its other effects are not: make them conditional or
// idempotent.
//
// The partition is computed from the partition key stored with each
// event, not stored itself, so appends are unchanged: each partition's
// consumer reads the log's rows in offset order and keeps those of its
// partition. A member's partitions share one tail of the log (its last
// 8,192 rows at most): while they keep up, a row is fetched once per
// member and decoded once, and a poll that found the end of the log
// serves the partitions polling within half a PollInterval after it
// (unless this process appended since); a partition behind the tail
// (just taken over, say) reads the database alone until it reaches it,
// remembering how far it scanned. Each partition's consumer still polls
// the replay requests every PollInterval. BenchmarkGroupDispatch on
// PostgreSQL: one member owning 1, 4 or 16 partitions spends about 1×,
// 1.3× and 3× the CPU per event of a plain Consumer. Besides, each member
// makes three statements per Renew to balance (more when it takes
// partitions or finds a member dead) and one per owned partition to
// renew. For [Pruner.TrimEvents], list the P partition groups
// ([Group.ConsumerGroups]). A partition that receives no events does not
// hold the trim back: once its consumer has handled every event of its
// partition that it read, and its reads of the log found none of its
// own up to a later offset, its cursor moves to that offset (appends
// take offsets in commit order, so no event can still appear below a
// row a read saw). It commits that cursor at a poll, at most once per
// PollInterval and only when it moves, fenced by its epoch as any other
// commit. A partition with an event not yet done still holds the trim
// before that event. A backend of another package whose partition view
// reads only its partition's entries takes part the same way by
// implementing [Skipper] (package eventlog/jetstream does).
//
// A Group runs a flow's handler across processes (package flow,
// Config.NewConsumer, with the constructor of [SQL.GroupConsumer]).
// [Group.WaitIdle] waits for the whole group, whichever process owns each
// partition: it reads from the database every partition's committed
// cursor, pending retries and replays, and the last event of each
// partition (the offsets and partition keys of the events it has not seen
// yet, once), so a process that runs no member can wait too.
// [Group.ConsumerGroups] lists the P partition groups.
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
