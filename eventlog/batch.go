package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/distsync/distsync/canonical"
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
	// 0, then appends the events of appends (last, so that on PostgreSQL
	// the append lock is held only until the commit), and commits it.
	commitBatch(ctx context.Context, group string, epoch, cursor uint64, writes []TxWrite, appends []deferredAppend) error
}

var _ batchCommitter = (*SQL)(nil)

func (s *SQL) usesDB(db *sql.DB) bool { return db != nil && db == s.db }

func (s *SQL) commitBatch(ctx context.Context, group string, epoch, cursor uint64, writes []TxWrite, appends []deferredAppend) error {
	var cs cursorStatements
	if cursor != 0 {
		var err error
		if cs, err = s.cursorStmts(ctx); err != nil {
			return s.wrap("commit batch", err)
		}
	}
	// The events to append, merged per log in the order of the items
	// (usually one log: the consumer's own), with the statements SQLite
	// needs prepared before the transaction takes the one connection.
	appends = mergeAppends(appends)
	preps := make([]*sql.Stmt, len(appends))
	for i, a := range appends {
		if a.s.dialect != Postgres && len(a.events) <= insertRows {
			var err error
			if preps[i], err = a.s.prepared(ctx, insertQuery("events", len(a.events))); err != nil {
				return s.wrap("commit batch", err)
			}
		}
	}
	err := s.inTx(ctx, "commit batch", func(tx *sql.Tx) error {
		for _, w := range writes {
			if err := w(ctx, tx); err != nil {
				return err
			}
		}
		appends := appends
		switch {
		case cursor != 0 && s.dialect == Postgres && len(appends) == 1 && appends[0].s == s && len(appends[0].events) <= insertRows:
			// The cursor and the events of the log's own appends in one
			// statement: one round trip fewer.
			a := appends[0]
			appends = nil
			if err := s.commitAppendIn(ctx, tx, group, epoch, cursor, a.events, a.payloads); err != nil {
				return err
			}
		case cursor != 0:
			if err := s.commitIn(ctx, tx, cs, group, epoch, cursor); err != nil {
				return err
			}
		}
		// Appended last: on PostgreSQL the append lock is taken by the
		// last statement before the commit, and held only until it.
		for i, a := range appends {
			if err := a.s.insertIn(ctx, tx, a.events, a.payloads, preps[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for _, a := range appends {
			a.s.appended()
		}
	}
	return err
}

// deferredAppend is an append to the log of s deferred to a group commit
// (SQL.DeferAppend): events and their encodings.
type deferredAppend struct {
	s        *SQL
	events   []canonical.Event
	payloads [][]byte
}

// mergeAppends merges the appends of the same log, keeping their order.
func mergeAppends(as []deferredAppend) []deferredAppend {
	if len(as) <= 1 {
		return as
	}
	out := make([]deferredAppend, 0, 1)
	for _, a := range as {
		i := slices.IndexFunc(out, func(o deferredAppend) bool { return o.s == a.s })
		if i < 0 {
			out = append(out, deferredAppend{s: a.s, events: slices.Clone(a.events), payloads: slices.Clone(a.payloads)})
			continue
		}
		out[i].events = append(out[i].events, a.events...)
		out[i].payloads = append(out[i].payloads, a.payloads...)
	}
	return out
}

// DeferAppend appends events to the log in the transaction that commits
// the event handled by the handler called with ctx, as [Defer] defers a
// write, and calls after, when not nil, once that transaction committed;
// it reports true. It does so only when [SQL.Defers] reports true for
// ctx; otherwise it appends nothing and reports false, and the caller
// appends at once (with [SQL.Append]). The error matches
// [ErrInvalidEvent] for an invalid event, and nothing is deferred.
//
// The events are appended as [SQL.Append] appends them, in the order
// given, after the events appended by the handlers of the events committed
// before in the group, and they are durable (and delivered) if and only if
// the transaction commits, together with the handler's other deferred
// writes and its event's acknowledgement: a crash before the commit
// loses them with the rest, and the handler runs again. They are appended
// by the last statement of the transaction: on PostgreSQL it takes the
// append lock (as every append does, so that offsets become visible in
// order), which is held only until the commit. Consumers waiting on
// [SQL.Appended] are woken once the transaction committed. When the
// group's transaction fails and the event's writes are tried again alone,
// its appends are too; when those fail, the events are not appended and the
// handler is handled as failed (see [Defer]): it must not take them for
// appended before after was called.
//
// Call DeferAppend only while the handler runs, from its goroutine.
func (s *SQL) DeferAppend(ctx context.Context, after func(), events ...canonical.Event) (bool, error) {
	it, ok := ctx.Value(batchKey{}).(*item)
	if !ok || it.batch == nil || !it.batch.usesDB(s.db) {
		return false, nil
	}
	payloads, err := encode(events)
	if err != nil {
		return false, err
	}
	if len(events) == 0 {
		return false, nil
	}
	it.appends = append(it.appends, deferredAppend{s: s, events: slices.Clone(events), payloads: payloads})
	if after != nil {
		it.afters = append(it.afters, after)
	}
	return true, nil
}

// Defers reports whether [SQL.DeferAppend] would defer an append for the
// handler called with ctx: whether its [Consumer] commits in groups on
// s's database (a consumer over an SQL backend on that database, for an
// event of the log, not a replayed dead letter).
func (s *SQL) Defers(ctx context.Context) bool {
	return Defers(ctx, s.db)
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
// called from the consumer's loop once the writes committed, before the
// key's next event starts: it must be quick and must not block. A write
// that many handlers make alike (a row of the same table each) is cheaper
// deferred as a row of a [TxBatch]: one statement writes the rows of all
// the events of a group.
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

// TxBatch is a kind of row that handlers defer one at a time to the
// transaction that commits their events (see [TxBatch.Defer]), and that
// one call of its write function writes for all the events of a group
// commit: many handlers' rows in one statement rather than one each.
//
// A TxBatch is safe for concurrent use, by the handlers of any number of
// consumers: it holds no rows, only its write function. The zero value is
// not usable; create one with [NewTxBatch].
type TxBatch[T any] struct {
	write func(ctx context.Context, tx *sql.Tx, rows []T) error
}

// NewTxBatch returns a TxBatch whose rows write writes, in a transaction
// of the consumer's, as a [TxWrite] does: it must use only tx (with
// statements prepared before it began) and must not commit or roll it
// back.
//
// write is given the rows of one group commit, in the order their events
// were done; the events of a group have distinct keys, so its rows are of
// distinct keys too, but two of them may still name the same record (two
// keys' handlers saving one record): write must then not report both
// applied. An error rolls the group's transaction back, and each event's
// writes are tried again in a transaction of their own, where write is
// called once for each of its rows with that row alone: the error of a
// call with many rows need not say which row failed (a count of the rows
// a statement changed short of len(rows) is enough), the error of a call
// with one row is the event's (see [Defer]).
func NewTxBatch[T any](write func(ctx context.Context, tx *sql.Tx, rows []T) error) *TxBatch[T] {
	return &TxBatch[T]{write: write}
}

// Defer registers row to be written by b in the transaction that commits
// the event handled by the handler called with ctx, and after, when not
// nil, to be called once that transaction committed, and reports true, as
// [Defer] does for a [TxWrite] and under the same conditions; otherwise
// it registers nothing and reports false, and the caller writes at once.
// The rows of the events committed together are written by one call of
// b's write function; the order in which the group's TxWrites and the
// calls of its batches run is not specified, so none of an event's writes
// may depend on another of its writes having run.
func (b *TxBatch[T]) Defer(ctx context.Context, db *sql.DB, row T, after func()) bool {
	it, ok := ctx.Value(batchKey{}).(*item)
	if !ok || it.batch == nil || !it.batch.usesDB(db) || b == nil || b.write == nil {
		return false
	}
	it.rows = append(it.rows, batchRow[T]{b: b, row: row})
	if after != nil {
		it.afters = append(it.afters, after)
	}
	return true
}

// deferredRow is a row deferred to a TxBatch, seen by the group commit without
// its type.
type deferredRow interface {
	// gather adds the row to the rows of its batch in gs, or to a new
	// group appended to gs, and returns gs.
	gather(gs []rowGroup) []rowGroup
	// writeAlone writes the row by itself in tx.
	writeAlone(ctx context.Context, tx *sql.Tx) error
}

// rowGroup is the rows of one TxBatch in a group commit.
type rowGroup interface {
	// write writes the rows in tx: a TxWrite.
	write(ctx context.Context, tx *sql.Tx) error
}

// batchRow is a row of type T deferred to b.
type batchRow[T any] struct {
	b   *TxBatch[T]
	row T
}

func (r batchRow[T]) gather(gs []rowGroup) []rowGroup {
	for _, g := range gs {
		if g, ok := g.(*batchRows[T]); ok && g.b == r.b {
			g.rows = append(g.rows, r.row)
			return gs
		}
	}
	return append(gs, &batchRows[T]{b: r.b, rows: []T{r.row}})
}

func (r batchRow[T]) writeAlone(ctx context.Context, tx *sql.Tx) error {
	return r.b.write(ctx, tx, []T{r.row})
}

// batchRows is the rows of b in a group commit.
type batchRows[T any] struct {
	b    *TxBatch[T]
	rows []T
}

func (g *batchRows[T]) write(ctx context.Context, tx *sql.Tx) error {
	return g.b.write(ctx, tx, g.rows)
}

// Defers reports whether [Defer] would defer a write to db for the handler
// called with ctx.
func Defers(ctx context.Context, db *sql.DB) bool {
	it, ok := ctx.Value(batchKey{}).(*item)
	return ok && it.batch != nil && it.batch.usesDB(db)
}

// deferredStore is a consumer's dedupe store over an SQL backend: its
// completions are committed with the group's cursor (see Defer) when it is
// a TxCompleter on the backend's database, by one call for the group when
// it is a TxBatchCompleter too, and a handler's claim is the
// one made for its event with those of the other ready events (see
// claimReady) when it is a BatchClaimer.
type deferredStore struct {
	idempotency.Store
	txc idempotency.TxCompleter // nil: completions are not deferred
	// completions writes the deferred completions of a group commit
	// together, when txc is an idempotency.TxBatchCompleter; nil: one by
	// one.
	completions *TxBatch[idempotency.Completion]
	db          *sql.DB
}

// batchStore returns the dedupe store the consumer's guard uses: store,
// wrapped in a deferredStore when the backend commits in batches and store
// can complete in its transactions or claim in batches. It sets c.claimer.
func (c *Consumer) batchStore(store idempotency.Store, db *sql.DB) idempotency.Store {
	if c.batch == nil {
		return store
	}
	ds := deferredStore{Store: store, db: db}
	if txc, ok := store.(idempotency.TxCompleter); ok && txc.Uses(db) {
		ds.txc = txc // completed in the group's transaction
		if bc, ok := store.(idempotency.TxBatchCompleter); ok {
			ds.completions = NewTxBatch(bc.CompleteTxBatch) // by one statement
		}
	}
	c.claimer, _ = store.(idempotency.BatchClaimer)
	if ds.txc == nil && c.claimer == nil {
		return store
	}
	return ds
}

// Claim returns the claim made for the handler's event with those of the
// other ready events (claimReady), the first time the handler claims its
// key, and claims alone otherwise.
func (s deferredStore) Claim(ctx context.Context, key idempotency.Key, fp idempotency.Fingerprint, lease time.Duration) (idempotency.Claim, error) {
	if it, ok := ctx.Value(batchKey{}).(*item); ok && it.pre.set && !it.pre.used && it.pre.key == key && it.pre.fp == fp {
		it.pre.used = true
		return it.pre.claim, nil
	}
	return s.Store.Claim(ctx, key, fp, lease)
}

// Complete defers the completion to the group's transaction when the
// handler's consumer commits in batches.
func (s deferredStore) Complete(ctx context.Context, l idempotency.Lease, res idempotency.Result) error {
	if s.txc != nil {
		if it, ok := ctx.Value(batchKey{}).(*item); ok {
			deferred := false
			if s.completions != nil {
				deferred = s.completions.Defer(ctx, s.db, idempotency.Completion{Lease: l, Result: res}, nil)
			} else {
				deferred = Defer(ctx, s.db, func(ctx context.Context, tx *sql.Tx) error { return s.txc.CompleteTx(ctx, tx, l, res) }, nil)
			}
			if deferred {
				it.dedupe = l // released if the group's commit fails for it (landed)
				return nil
			}
		}
	}
	return s.Store.Complete(ctx, l, res)
}

// preClaim is the dedupe claim of an item made with those of the other
// ready items, before its handler runs (claimReady).
type preClaim struct {
	key   idempotency.Key
	fp    idempotency.Fingerprint
	claim idempotency.Claim
	// set is written by the loop before the item is queued; used by the
	// handler's goroutine, when its claim took the claim, and read by the
	// loop once the item's outcome was collected or it was taken back.
	set, used bool
}

// claimReady claims the dedupe keys of the ready items that are about to
// be queued for the workers (the first BatchSize of them) in one call of
// the store's BatchClaimer, so that they cost one transaction together
// rather than one each; their handlers' claims take these (see
// deferredStore.Claim). A claim made so is one like any other: it fences
// its key, is completed in the group's commit or released after a failure,
// and is left to expire by its lease after a crash; an event whose key is
// found completed is skipped, one found in progress parked. When the batch
// claim fails, each handler claims alone.
func (r *run) claimReady(ctx context.Context) {
	c := r.c
	if c.claimer == nil {
		return
	}
	var reqs []idempotency.ClaimRequest
	var its []*item
	for _, it := range r.ready {
		it.pre = preClaim{}
		if len(its) == c.cfg.BatchSize || it.replay != nil || it.decErr != nil || it.ev.Source == "" || it.ev.ID == "" {
			continue
		}
		if its == nil {
			n := min(len(r.ready), c.cfg.BatchSize)
			reqs, its = make([]idempotency.ClaimRequest, 0, n), make([]*item, 0, n)
		}
		it.pre.key = idempotency.EventKey(c.cfg.Group, it.ev.Source, it.ev.ID)
		it.pre.fp = c.fingerprint(it.ev)
		reqs = append(reqs, idempotency.ClaimRequest{Key: it.pre.key, Fingerprint: it.pre.fp})
		its = append(its, it)
	}
	if len(reqs) == 0 {
		return
	}
	claims, err := c.claimer.ClaimBatch(ctx, reqs, c.lease())
	if err != nil {
		if ctx.Err() == nil {
			c.log.ErrorContext(ctx, "eventlog: claiming the dedupe keys of ready events together failed; each handler claims alone",
				"group", c.cfg.Group, "events", len(reqs), "err", err)
		}
		return
	}
	for i, it := range its {
		it.pre.claim, it.pre.set = claims[i], true
	}
}

// lease returns the dedupe claims' lease.
func (c *Consumer) lease() time.Duration {
	if c.cfg.Lease == 0 {
		return idempotency.DefaultLease
	}
	return c.cfg.Lease
}

// releaseUnstarted releases, once the loop has stopped, the claims made
// (claimReady) for items whose handlers never ran: those a stopping run
// took back from its workers, each the head of its key. Otherwise the next
// Run would find their keys in progress until the leases end.
func (r *run) releaseUnstarted(ctx context.Context) {
	if r.c.claimer == nil {
		return
	}
	for _, q := range r.keys {
		if len(q.items) == 0 {
			continue
		}
		it := q.items[0]
		if it.pre.set && !it.pre.used && it.pre.claim.Status == idempotency.Claimed {
			r.releaseDedupe(ctx, it.pre.claim.Lease, "a claim made for an event not handled")
		}
		it.pre = preClaim{}
	}
}

// releaseDedupe releases the dedupe claim l, so that its event is handled
// again at once rather than when its lease ends; what is the claim of
// says which, in the log of a failure.
func (r *run) releaseDedupe(ctx context.Context, l idempotency.Lease, what string) {
	c := r.c
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.lease())
	defer cancel()
	if err := c.cfg.Dedupe.Release(rctx, l); err != nil && !errors.Is(err, idempotency.ErrLeaseLost) {
		c.log.ErrorContext(ctx, "eventlog: releasing "+what+" failed; it is free once its lease ends",
			"group", c.cfg.Group, "key", l.Key.String(), "err", err)
	}
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

// commitJob is a commit of the group's run handed to its committer
// goroutine (see run.commitGroup): the items done since the last commit,
// whose deferred writes it commits, and the cursor, 0 for none; then what
// came of it.
type commitJob struct {
	items  []*item
	cursor uint64
	// err is the error of the group's transaction. When it failed other
	// than by fencing, each item's writes were tried in a transaction of
	// their own, and alone holds the error of each item's.
	err   error
	alone []error
}

// commitGroup hands the writes deferred by the items done since the last
// commit (r.unflushed) and the group's cursor, when it moved, to a
// goroutine that commits them in one transaction (runCommit), and returns
// at once: the loop goes on claiming, reading and handling the events of
// the other keys, and finishes those items when the result comes back
// (landed), so that the next event of their keys starts only after the
// commit. One commit is in flight at a time, so that cursors and appends
// commit in order: the items done meanwhile wait for the next one. A
// commit of the cursor alone that failed is tried again after
// PollInterval, not at once.
func (r *run) commitGroup(ctx context.Context) {
	r.advance()
	if r.committing || r.fenced != nil {
		return // a fenced run's writes are refused: it stops
	}
	items := r.unflushed
	for _, it := range items {
		it.done = true // for the low-water mark, undone below: not committed yet
	}
	lwm := r.lowWater()
	for _, it := range items {
		it.done = false
	}
	cursor := uint64(0)
	if lwm > r.committed {
		cursor = lwm
	}
	if len(items) == 0 && (cursor == 0 || time.Now().Before(r.commitRetry)) {
		return
	}
	r.unflushed = nil
	r.committing = true
	go r.runCommit(ctx, &commitJob{items: items, cursor: cursor})
}

// runCommit commits j, on the committer goroutine, and sends it back to
// the loop. It reads the items' deferred writes, which nothing else
// touches while the commit is in flight, and writes only j.
func (r *run) runCommit(ctx context.Context, j *commitJob) {
	c := r.c
	defer func() { r.commits <- j }()
	if len(j.items) == 0 {
		j.err = c.b.Commit(ctx, c.cfg.Group, r.epoch, j.cursor)
		return
	}
	var writes []TxWrite
	var groups []rowGroup
	var appends []deferredAppend
	for _, it := range j.items {
		writes = append(writes, it.writes...)
		for _, row := range it.rows {
			groups = row.gather(groups)
		}
		appends = append(appends, it.appends...)
	}
	for _, g := range groups {
		writes = append(writes, g.write)
	}
	j.err = c.batch.commitBatch(ctx, c.cfg.Group, r.epoch, j.cursor, writes, appends)
	if j.err == nil || errors.Is(j.err, ErrFenced) {
		return
	}
	c.log.ErrorContext(ctx, "eventlog: group commit failed; committing each event's writes alone",
		"group", c.cfg.Group, "events", len(j.items), "err", j.err)
	j.alone = make([]error, len(j.items))
	for i, it := range j.items {
		writes := slices.Clip(it.writes) // its rows appended, each alone
		for _, row := range it.rows {
			writes = append(writes, row.writeAlone)
		}
		j.alone[i] = c.batch.commitBatch(ctx, c.cfg.Group, r.epoch, 0, writes, it.appends)
	}
}

// landed applies the result of the commit j on the loop: it finishes the
// items whose writes committed, and handles an item whose writes failed
// alone as a failure of its handler. A fenced commit stops the run
// (another run of the group delivers its events again).
func (r *run) landed(ctx context.Context, j *commitJob) {
	c := r.c
	r.committing = false
	switch {
	case j.err == nil:
		if j.cursor > r.committed {
			r.committed = j.cursor
		}
		for _, it := range j.items {
			r.flushed(it)
		}
		return
	case errors.Is(j.err, ErrFenced):
		r.noteFenced(j.err)
		c.log.ErrorContext(ctx, "eventlog: group commit refused", "group", c.cfg.Group, "err", j.err)
		return
	case len(j.items) == 0:
		r.noteFenced(j.err)
		r.commitRetry = time.Now().Add(c.cfg.PollInterval) // the time of the ticker, not c.now
		c.log.ErrorContext(ctx, "eventlog: commit failed; will retry", "group", c.cfg.Group, "cursor", j.cursor, "err", j.err)
		return
	}
	for i, it := range j.items {
		err := j.alone[i]
		if err == nil {
			r.flushed(it)
			continue
		}
		it.writes, it.rows, it.appends, it.afters = nil, nil, nil, nil
		if l := it.dedupe; l.Token != 0 {
			// Its completion rolled back: the event is handled again, and
			// its retry must find the key free, as after a handler's
			// failure, not in progress until the lease ends.
			it.dedupe = idempotency.Lease{}
			r.releaseDedupe(ctx, l, "the dedupe claim of an event whose writes failed")
		}
		it.err = fmt.Errorf("eventlog: the writes deferred by the handler failed: %w", err)
		r.complete(ctx, it, r.stopping)
	}
}

// commitLast commits what the run leaves once its loop stopped: it waits
// for the commit in flight, then commits the items done since and the
// cursor, trying a failed cursor commit once more at once.
func (r *run) commitLast(ctx context.Context) {
	for range 3 {
		if r.committing {
			r.landed(ctx, <-r.commits)
		}
		r.commitRetry = time.Time{}
		r.commit(ctx)
		if !r.committing {
			return
		}
	}
	r.landed(ctx, <-r.commits)
}

// flushed calls the after functions of an item whose deferred writes
// committed, then finishes it: the key's next event, which finishing may
// start, finds what they record (a saved state's new version).
func (r *run) flushed(it *item) {
	for _, f := range it.afters {
		f()
	}
	it.writes, it.rows, it.appends, it.afters, it.dedupe = nil, nil, nil, nil, idempotency.Lease{}
	r.finish(it)
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
