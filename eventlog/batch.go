package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/distsync/distsync/idempotency"
)

// This file owns the group commit of a Consumer over an SQL backend: the
// writes its handlers defer (Defer), the dedupe completions, and the
// group's cursor are committed in one transaction for the events done
// together.

// TxWrite is a write a handler defers to the transaction that commits its
// event (see [Defer]). It must use only tx (with statements prepared
// before: on SQLite, with one connection, preparing on the database waits
// for the connection tx holds), and must not commit or roll it back. An
// error rolls the transaction back. The zero value, nil, is no write.
type TxWrite func(ctx context.Context, tx *sql.Tx) error

// batchKey is the context key of the item whose handler runs, set when
// its consumer commits in batches.
type batchKey struct{}

// batchCommitter is implemented by a backend that commits a group's cursor
// in the transaction of writes deferred by the handlers: [SQL].
type batchCommitter interface {
	// usesDB reports whether db is the backend's database.
	usesDB(db *sql.DB) bool
	// commitBatch runs writes in one transaction on the backend's
	// database, committing there the group's cursor too when cursor is not
	// 0, and commits it.
	commitBatch(ctx context.Context, group string, epoch, cursor uint64, writes []TxWrite) error
}

var _ batchCommitter = (*SQL)(nil)

func (s *SQL) usesDB(db *sql.DB) bool { return db != nil && db == s.db }

func (s *SQL) commitBatch(ctx context.Context, group string, epoch, cursor uint64, writes []TxWrite) error {
	var cs cursorStatements
	if cursor != 0 {
		var err error
		if cs, err = s.cursorStmts(ctx); err != nil {
			return s.wrap("commit batch", err)
		}
	}
	return s.inTx(ctx, "commit batch", func(tx *sql.Tx) error {
		for _, w := range writes {
			if err := w(ctx, tx); err != nil {
				return err
			}
		}
		if cursor == 0 {
			return nil
		}
		return s.commitIn(ctx, tx, cs, group, epoch, cursor)
	})
}

// Defer registers write to run in the transaction that commits the event
// handled by the handler called with ctx, and after, when not nil, to be
// called once that transaction committed, and reports true. It does so
// only when the handler's [Consumer] runs over an [SQL] backend on db, for
// an event of the log (not a replayed dead letter); otherwise it registers
// nothing and reports false, and the caller writes at once.
//
// A Consumer over an SQL backend commits in groups: the writes deferred by
// the handlers of the events done since its last commit, the completions
// of their dedupe claims (when ConsumerConfig.Dedupe is an
// [idempotency.TxCompleter] on the same database, as an
// [idempotency.SQLStore] is) and the group's cursor go into one
// transaction, so that they are durable together: a crash before it
// commits leaves all of them undone, and the events are delivered again.
// The next event of a key is handed to a handler only after that commit,
// so an event's handler always finds the deferred writes of the key's
// previous event durable. When the group's transaction fails, each event's
// writes are tried again in a transaction of their own, and an event whose
// writes fail there is handled as if its handler had failed with that
// error (the error policy retries it).
//
// Call Defer only while the handler runs, from its goroutine. after is
// called from the consumer's loop: it must be quick and must not block.
func Defer(ctx context.Context, db *sql.DB, write TxWrite, after func()) bool {
	it, ok := ctx.Value(batchKey{}).(*item)
	if !ok || it.batch == nil || !it.batch.usesDB(db) || write == nil {
		return false
	}
	it.writes = append(it.writes, write)
	if after != nil {
		it.afters = append(it.afters, after)
	}
	return true
}

// Defers reports whether [Defer] would defer a write to db for the handler
// called with ctx.
func Defers(ctx context.Context, db *sql.DB) bool {
	it, ok := ctx.Value(batchKey{}).(*item)
	return ok && it.batch != nil && it.batch.usesDB(db)
}

// deferredStore is a consumer's dedupe store whose completions the
// consumer commits with its cursor (see Defer).
type deferredStore struct {
	idempotency.Store
	txc idempotency.TxCompleter
	db  *sql.DB
}

// Complete defers the completion to the group's transaction when the
// handler's consumer commits in batches.
func (s deferredStore) Complete(ctx context.Context, l idempotency.Lease, res idempotency.Result) error {
	if Defer(ctx, s.db, func(ctx context.Context, tx *sql.Tx) error { return s.txc.CompleteTx(ctx, tx, l, res) }, nil) {
		return nil
	}
	return s.Store.Complete(ctx, l, res)
}

// sqlDB returns the database of an SQL backend.
func (s *SQL) sqlDB() *sql.DB { return s.db }

// batching returns the batch committer of b and its database, when b
// commits in batches.
func batching(b Backend) (batchCommitter, *sql.DB) {
	if s, ok := b.(*SQL); ok {
		return s, s.sqlDB()
	}
	return nil, nil
}

// flush commits the writes deferred by the items done since the last
// commit (r.unflushed) and the group's cursor in one transaction, and
// finishes those items. When that fails other than by fencing, each
// item's writes are tried in a transaction of their own; an item whose
// writes fail is handled as a failure of its handler.
func (r *run) flush(ctx context.Context, stopping bool) {
	c := r.c
	items := r.unflushed
	r.unflushed = nil
	for _, it := range items {
		it.done = true // for the low-water mark, undone below unless committed
	}
	lwm := r.lowWater()
	cursor := uint64(0)
	if lwm > r.committed {
		cursor = lwm
	}
	var writes []TxWrite
	for _, it := range items {
		writes = append(writes, it.writes...)
	}
	for _, it := range items {
		it.done = false
	}
	err := c.batch.commitBatch(ctx, c.cfg.Group, r.epoch, cursor, writes)
	if err == nil {
		if cursor != 0 {
			r.committed = cursor
		}
		for _, it := range items {
			r.flushed(it)
		}
		return
	}
	if r.noteFenced(err); errors.Is(err, ErrFenced) {
		// The run stops: another run of the group delivers these events
		// again.
		c.log.ErrorContext(ctx, "eventlog: group commit refused", "group", c.cfg.Group, "err", err)
		return
	}
	c.log.ErrorContext(ctx, "eventlog: group commit failed; committing each event's writes alone",
		"group", c.cfg.Group, "events", len(items), "err", err)
	for _, it := range items {
		err := c.batch.commitBatch(ctx, c.cfg.Group, r.epoch, 0, it.writes)
		if err == nil {
			r.flushed(it)
			continue
		}
		it.writes, it.afters = nil, nil
		it.err = fmt.Errorf("eventlog: the writes deferred by the handler failed: %w", err)
		r.complete(ctx, it, stopping)
	}
}

// flushed finishes an item whose deferred writes committed and calls its
// after functions.
func (r *run) flushed(it *item) {
	afters := it.afters
	it.writes, it.afters = nil, nil
	r.finish(it)
	for _, f := range afters {
		f()
	}
}

// lowWater returns the offset below which every item read is done.
func (r *run) lowWater() uint64 {
	for i := r.whead; i < len(r.window); i++ {
		if !r.window[i].done {
			return r.window[i].off - 1
		}
	}
	return r.readPos
}
