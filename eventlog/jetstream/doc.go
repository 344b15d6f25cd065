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
// replicas) on the subjects SUBJECT.p.N, N an event's partition: the
// FNV-1a hash of [canonical.Event.Partition] modulo Config.Partitions
// ([Backend.PartitionOf]). A partition is a subject filter of the same
// stream, so offsets stay the stream's sequence numbers whether a consumer
// reads the whole log or one partition. An entry's offset is its stream
// sequence: offsets grow by one per stored event and are never reused.
//
// Three key-value buckets hold the rest: PREFIX_groups holds one key per
// consumer group (its fencing epoch, cursor and retry states, in one
// value), PREFIX_deadletters holds the dead letters (one key per dead
// letter, its audit trail inside, an index key per consumer and event, and
// a counter of IDs) and PREFIX_leases the partition leases and member
// announcements of partitioned groups (keys with a per-key TTL).
//
// [Open] and [NewFlowState] create the stream and buckets, or update their
// settings to the Config's. A tool that reads a store a flow keeps sets
// Config.Existing (FlowStateConfig.Existing): it then opens them as they
// are, creates and changes nothing, and fails with a [*NotFoundError]
// naming a stream or bucket that is not there.
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
// dead letter lives in another bucket, and a JetStream atomic batch
// writes one stream only, so each group also has a fence in the dead
// letters bucket: a key holding its epoch, which Claim raises after the
// epoch and before it returns. A fenced [Backend.Put] writes the dead
// letter's record and rewrites the fence, conditional on the revision it
// read, in one atomic batch: the record is stored only if no Claim came
// in between, and a refused Put stores nothing that List or Get could
// see, not even for a moment.
//
// # Partitioned groups
//
// A plain [eventlog.Consumer] over a Backend reads every partition and is
// one process at a time. A [Group] is the scale-out path: every process
// runs a Group of the same name (a member), and the Config.Partitions
// partitions are shared among the members. The API is one type beside
// the eventlog's own: a Group's GroupConfig.Consumer is an ordinary
// [eventlog.ConsumerConfig], and each partition a member owns is consumed
// by an ordinary [eventlog.Consumer] reading only that partition, as the
// consumer group [eventlog.PartitionGroup](GROUP, N), so per-key order, the error
// policy, dead letters and replay are the eventlog's, unchanged.
//
// Ownership is JetStream KV, with revision-checked writes, not a broker
// consumer feature:
//
//   - A member announces itself with a key that lives GroupConfig.LeaseTTL
//     and renews it every GroupConfig.Renew. At each renewal it counts the
//     announced members M and owns at most ceil(P/M) partitions: it
//     releases the surplus (highest first) and takes free ones.
//   - A partition has one lease key, written only when it is absent (a
//     revision-checked create) and renewed with writes conditional on its
//     revision, each with a TTL of LeaseTTL. A holder that has not renewed
//     for LeaseTTL − Renew since the last successful renewal was sent
//     declares the lease lost, before the server can expire it; its
//     consumer then stops at once (handlers' contexts cancelled) and it
//     writes nothing more.
//   - Taking a partition is a Claim of its consumer group: a new epoch,
//     the fencing token. The former owner's cursor commits, retry states
//     and dead letters carry its older epoch and are refused with
//     [eventlog.ErrFenced], even if it has not noticed the loss yet.
//
// Partitions move within bounds (R the Renew, T the LeaseTTL, D the
// consumer's DrainTimeout):
//
//   - on leave (Run's context done) the member withdraws its
//     announcement, drains and commits each partition within D and
//     deletes its leases; the others take them at their next renewal:
//     within D + R;
//   - on join the others release their surplus at their next renewal
//     and hand it over after the drain: within R + D + R;
//   - on a crash the leases and the announcement expire on the server
//     (it rounds a TTL to the second, adds one, and expires keys on a
//     timer of its own) and the partitions are taken within about
//     T + 3s + R (8s with the defaults; the tests measured 2.2s to 2.4s
//     with a 1s lease and 3.1s to 4.4s with a 2s lease);
//   - an owner that cannot reach NATS stops its consumers once it has
//     not renewed for T − R, before the server can expire its lease;
//   - a NATS node lost from a cluster (R3) stops appends, reads and
//     renewals until the stream's and buckets' new leaders are elected
//     (a few seconds); an owner that could not renew for T − R meanwhile
//     releases its partitions, which are then taken as after a crash. An
//     acknowledged append is on a majority of the replicas and is not
//     lost.
//
// Order per key holds across a move: the new owner starts after the
// partition's committed cursor, and events the former owner handled
// after it are delivered again; set ConsumerConfig.Dedupe to one shared
// [IdempotencyStore] so that their effects are not repeated. A handler
// that ignores its context's cancellation can outlive its owner's lease;
// its writes to the group's state are fenced, its other effects are not:
// make them conditional or idempotent.
//
// # Flows across processes
//
// [Backend.GroupConsumer] returns the constructor of
// flow.Config.NewConsumer: every process runs the flow (flow.Run) with
// its handler on a member of the partitioned group of the flow's
// Config.Group, one [FlowState] as its State and Cursors and one
// [IdempotencyStore] as its Dedupe. An order's events carry its ID as
// their partition key, so the member that owns the order's partition
// handles it, and an order moves with its partition as above. The
// order's state is saved with writes conditional on the key's revision
// (the version the flow loaded), so a member that handled the order
// before the move cannot overwrite what the new owner saved: its save
// fails with flow.ErrStateConflict and it reloads.
//
// Every process polls the systems' feeds into the log (package flow,
// section Across processes): an event appended by two processes is one
// message, its dedupe key being the Nats-Msg-Id, within
// Config.DuplicateWindow. [Group.WaitIdle] waits until the whole group has
// caught up, read from the partitions' cursors and the stream, so that any
// process can wait for the others, running a member or not (flow.Drain
// uses it; examples/cluster's coordinator runs no member). The flow lists
// and replays the dead letters of every partition through
// [Group.ConsumerGroups].
//
// # Trimming a partitioned group's log
//
// For [Backend.TrimEvents], list the P partition groups
// ([Group.ConsumerGroups]): it purges the stream through their lowest
// cursor (never its last event). A partition that receives no events
// does not hold the trim back. Once a read of the partition found
// nothing, its consumer's next read (at most every 100ms; the reads
// between are ordinary) is a probe of the stream instead: one
// multi-last direct get, which returns the last event stored after the
// consumer's position of each partition that has one, and the stream's
// last sequence on the server that answered, in one snapshot of its
// store. When no event of the partition is among them, the server holds
// none of it up to that sequence, and can hold no other below it (the
// stream's leader assigns sequences in order, and each server stores
// them in order), so the consumer, having handled every event of its
// partition it read, moves its cursor to that sequence
// ([eventlog.Skipper]) and commits it at a poll, at most once per
// PollInterval and only when it moves, fenced by its epoch as any other
// commit. Before it moves, a stream info checks that the stream deleted
// no event after the consumer's position (by its limits, or a trim over
// other groups): then the read fails with [eventlog.ErrTrimmed], as a
// read of the partition there does, rather than pass over the events
// deleted. A partition with an event not yet done still holds the trim
// before that event.
//
// # Capacity
//
// A partition is consumed by one member at a time (its keys in parallel
// on ConsumerConfig.Workers handlers), so P partitions on N machines keep
// at most min(P, N) machines busy; choose P several times the largest N
// (P = 4N, say) so that each member's ceil(P/N) share stays even and a
// member that leaves does not double one machine's work. Per event the
// backend makes one stream write to append it (its encoded size: the
// envelope and data), a share of a batched read of its partition, a
// share of a cursor commit (one KV
// write for the events done together) and, with Dedupe, a claim and a
// completion (two KV writes); the handler's own effects come on top.
//
// The model, for the order-to-cash flow on N machines, each running one
// member with W handlers per partition it owns:
//
//	orders/s ≈ min( N × (C − I) / c,  W × P / (e × t),  S / e )
//
// where C is a machine's cores, I the member's idle cost (it reads each
// owned partition every ConsumerConfig.PollInterval and every feed every
// flow PollInterval, whether or not anything comes), c the CPU one order
// takes in the member (the flow, its connectors, the JetStream client), e
// the events per order, t the time one handler takes (its connector calls
// and the four or so KV writes above), and S the events per second the
// stream's leader server appends with the buckets' writes (about three
// KV writes per event: see the dispatch benchmark of this package for
// the server's cost per event). Only the first term grows with N, and
// only while N ≤ P.
//
// examples/cluster measures the inputs (BenchmarkWorkers: the
// order-to-cash script with 106 orders over the SAP, Salesforce and
// ShipBob emulators on loopback HTTP, one NATS server, P = 12, W = 4,
// partitions read every 25ms and feeds every 100ms): e = 6.3 events per
// order, stored at 1,264 bytes each (8 KB of stream per order). On a
// quiet 2-core VM (load average 3 to 5), 1, 2 and 3 worker processes did
// 17.6, 15.2 and 12.5 orders/s, with 32, 60 and 81 ms of worker CPU per
// order and 25 to 35 ms in the coordinator process (the NATS server, the
// three emulators, the script): the two cores are the limit, and each
// member adds its idle cost. Fitting the model to the 1- and 3-worker
// runs gives c ≈ 16 ms per order and I ≈ 0.27 core per member (a run of
// 306 orders on the VM loaded to an average of 35 gave 4 ms and 0.14
// core: the fit is rough). So a member on a 2-core machine would handle
// about (2 − 0.27) / 16 ms ≈ 110 orders/s on CPU, and N machines N times
// that while N ≤ P, up to the stream leader's S / 6.3. Loaded to an
// average of 35, the same runs did 3 to 7 orders/s whatever the workers:
// the processes then got about a third of a core.
//
// # Costs
//
// A Read is one batched direct get of the stream (no consumer on the
// server: the cursor is the group's key), its replies routed from one
// subscription per Backend. A read of one partition asks from the entry
// its consumer read last: when that entry is still stored nothing after
// it was trimmed, and only when it is not (the first read, or the
// stream's limits deleted it) does the read ask for the stream's state
// as well. A partition that found nothing probes the stream instead of
// reading it, at most every 100ms (see Trimming a partitioned group's
// log): the probe's reply holds the last new event of each partition
// that has one; when one is the partition's, the read follows (a second
// round trip), and when the stream grew without it, a stream info does;
// a read that finds the partition's first event after its cursor moved
// so asks for the stream's state too (the entry it reads from is
// another partition's). List of dead letters reads the whole dead
// letters bucket: keep it small by purging settled dead letters.
//
// # Wake-ups
//
// An Append publishes, once acknowledged, a notice on the core NATS
// subject _DISTSYNC.appended.STREAM (outside the stream, so not stored)
// naming the partitions it appended to. Every Backend of the stream
// subscribes to it and wakes its consumers ([Backend.Appended]), and a
// [Group]'s consumer of a partition only for appends to its partition,
// so another process's append is read within a NATS round trip rather
// than at the next ConsumerConfig.PollInterval. A notice is at most
// once: one lost (a slow subscriber, a reconnect) leaves the append to
// the next poll.
//
// The wake-ups need the NATS user of every Backend to be allowed to
// publish on and subscribe to _DISTSYNC.appended.STREAM (or _DISTSYNC.>).
// Without that permission the server refuses the subscription or the
// notices:
// appends are still read and handled, but only at the consumers' next
// ConsumerConfig.PollInterval. The Backend logs such a refusal once
// through Config.Logger.
package jetstream
