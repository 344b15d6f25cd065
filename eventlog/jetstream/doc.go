// Package jetstream keeps distsync's durable state on NATS JetStream: an
// [eventlog.Backend] ([Backend]), an [idempotency.Store]
// ([IdempotencyStore]) and the flow's [flow.StateStore] and
// [flow.CursorStore] ([FlowState]), so that a cluster of processes needs
// only NATS (PostgreSQL stays a choice). The three share one package, one
// dependency on the client and one way of writing: every change of shared
// state is a key-value write conditional on the key's revision. The nats.go client is compiled
// into a program only when it imports this package; the NATS server is
// not a dependency of it at all (tests embed one).
//
// # Layout
//
// The log is one stream (Config.Stream, file storage, Config.Replicas
// replicas) on the subjects SUBJECT.p.N, N an event's partition. There is
// one partition today (N is 0); partitioned consumer groups will hash
// [canonical.Event.Partition] into N, so a partition is a subject filter
// of the same stream and offsets stay the stream's sequence numbers. An
// entry's offset is its stream sequence: offsets grow by one per stored
// event and are never reused.
//
// Two key-value buckets hold the rest: PREFIX_groups holds one key per
// consumer group (its fencing epoch, cursor and retry states, in one
// value) and PREFIX_deadletters holds the dead letters (one key per dead
// letter, its audit trail inside, an index key per consumer and event, and
// a counter of IDs).
//
// # Appends
//
// Each event is published with its dedupe key (source and id) as
// Nats-Msg-Id: the stream stores an event appended again within
// Config.DuplicateWindow once, so an outbox relay that publishes a batch
// again after a crash ([Backend.Publish]) adds nothing. A batch of up to
// [MaxAtomicBatch] events is one JetStream atomic batch (all or none). An
// Append returns once the server acknowledged the events, which are then
// on disk on the stream's replicas: a restarted server keeps them.
//
// # Ownership and fencing
//
// Ownership of a consumer group is a revision-checked epoch in the
// group's key (the JetStream KV compare-and-set), not a broker-side lock:
// [Backend.Claim] increments it with a write conditional on the revision
// read, and Commit and SaveRetry check the epoch and write the state in
// one conditional write, so a stale owner's write is refused with
// [eventlog.ErrFenced] or lands before the Claim that superseded it. A
// fenced [Backend.Put] of a dead letter checks the epoch before writing
// and confirms it after with a conditional rewrite of the group's key; if
// a Claim came in between it undoes its write and returns ErrFenced (a
// reader may see that dead letter until then). The epoch is the fencing
// token that partition leases will reuse, one key per group and partition.
//
// # Retention
//
// The stream's limits (Config.MaxAge, MaxBytes, MaxMsgs) bound the log:
// the server deletes the oldest events beyond them whether or not every
// group has committed them, so size them with room. [Backend.TrimEvents]
// purges only what every listed group committed. A Read that starts
// before the first event left fails with [eventlog.ErrTrimmed]. Dead
// letters stay until [Backend.PurgeDeadLetters] deletes them.
//
// # Idempotency records and flow states
//
// [IdempotencyStore] keeps one key per idempotency key; a lease's token is
// the revision of the write that claimed the key, so a holder whose lease
// was taken over can neither complete nor release it, and each write
// carries a per-key TTL of the record's retention (the server deletes
// expired records by itself). [FlowState] keeps one key per order; a save
// of version v is conditional on the revision at which version v−1 was
// read, so of two flows saving the same version one gets
// [flow.ErrStateConflict].
//
// # Costs
//
// A Read is one batched direct get of the stream (no consumer on the
// server: the cursor is the group's key), and List of dead letters reads
// the whole dead letters bucket: keep it small by
// purging settled dead letters. [Backend.Appended] tells of this process's
// appends only; a consumer finds other processes' appends at its next poll
// (ConsumerConfig.PollInterval).
package jetstream
