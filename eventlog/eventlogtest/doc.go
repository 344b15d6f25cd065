// Package eventlogtest checks that an [eventlog.Backend] implementation
// keeps the contract, and that a [eventlog.Consumer] over it keeps its
// delivery guarantees, in the manner of [testing/fstest.TestFS]: call
// [Run] from a test with a function that creates a fresh, empty storage
// and returns an [Opener], a function opening it. Each call of the Opener
// must open the same storage anew, as a restarted process would (for an
// SQL backend, a new *sql.DB over the same database); a memory backend
// returns the same instance each time. Each failure quotes the contract
// sentence it broke.
//
//	func TestConformance(t *testing.T) {
//		eventlogtest.Run(t, func(t *testing.T) eventlogtest.Opener {
//			m := eventlog.NewMemory(eventlog.MemoryConfig{})
//			return func(t *testing.T) eventlog.Backend { return m }
//		})
//	}
//
// The kit checks: append and read in order, atomic rejection of an invalid
// batch, concurrent appenders losing and reordering nothing (run it with
// -race); cursors that never move back and survive a reopen, retry states;
// fencing: each Claim begins a later epoch, and Commit, SaveRetry and Put
// with a superseded epoch are refused with ErrFenced and write nothing,
// so that a second consumer of a group stops the first (on a backend
// whose group lock does not keep the second waiting);
// dead letters stored, updated, filtered, replayed, discarded and resolved
// with their audit trail, and updated by ID (a correction); Replay (by ID and by filter), Discard and
// Resolve racing on the same dead letters, each changing a dead letter
// only from the state it expects and the audit trail recording each
// successful action exactly once; for a backend that is an
// [eventlog.Pruner] (skipped, saying so, otherwise), trimming the events
// every listed group committed with [eventlog.ErrTrimmed] for a read
// before the trim, and purging the settled dead letters older than a
// time (a purge racing Replay purging or replaying each dead letter once;
// a dead letter purged while its replay runs and fails again dropped, not
// holding back its key); per-key order with parallel keys and retried failures;
// at-least-once delivery after a crash between handling and
// acknowledging, with the dedupe store suppressing the second effect; a
// handler that fails once being redelivered and handled; a handler that
// always fails reaching the dead letters after its budget while other keys
// flow and the later events of its key wait; a permanent failure
// dead-lettered at once and handled again after a replay; and a shutdown
// that never dead-letters the events in flight.
//
// The checks wait for real timers of a millisecond or so (the error
// policy's backoff), never for fixed sleeps.
//
// [RunGroups] checks partitioned consumer groups the same way: call it
// with a function that creates a fresh store of groups and returns a
// [GroupStore], whose Open opens the store anew as one process would (its
// own connections) and returns a [GroupConn] from which the kit makes and
// runs members ([GroupMember]). It checks members leaving, crashing and
// joining mid-run (every event handled, in order per key, no key by two
// members at once, a crashed member's partitions taken over within the
// store's bound), ways of disturbing a member the store adds
// (GroupStore.Disrupt), the fencing of a partition's former owner, and
// WaitIdle over the whole group from a member that does not run.
// [KeyChecker], the handler it checks order with, is exported for a
// backend's own group tests.
//
// [Check] runs the same checks outside a test (from a program, or an
// example) and returns what failed as an error.
package eventlogtest
