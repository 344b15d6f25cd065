package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/sqlspy"
)

// errRowTaken is the precise error of a row of TestFlushTxBatch that
// another already wrote.
var errRowTaken = errors.New("row taken")

// TestFlushTxBatch flushes items whose handlers deferred a row each to one
// TxBatch, a write (Defer) and a dedupe completion, on SQLite and
// PostgreSQL. The rows of all the items are written by one call of the
// batch's write, in the group's transaction, and the completions by one
// statement; then, with one row in the way (its write inserts rows that
// must be new), the group's transaction fails and each item is written
// alone: the item of that row fails with the row's own error and its
// dedupe claim is released, the others commit, their after functions run,
// their claims completed.
func TestFlushTxBatch(t *testing.T) {
	const items = 8 // one statement of completions on SQLite too
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			ctx := t.Context()
			var spy sqlspy.Spy
			db, prefix := openSpied(t, d, &spy, "txb_")
			var err error
			s, err := NewSQL(db, SQLConfig{Dialect: d, Prefix: prefix})
			require.NoError(t, err, "NewSQL")
			require.NoError(t, s.Migrate(ctx), "Migrate")
			store, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: d, Table: prefix + "keys"})
			require.NoError(t, err, "NewSQLStore")
			require.NoError(t, store.Migrate(ctx), "idempotency Migrate")
			rows := prefix + "rows"
			_, err = db.ExecContext(ctx, "CREATE TABLE "+rows+" (id TEXT PRIMARY KEY)")
			require.NoError(t, err, "create %s", rows)
			t.Cleanup(func() {
				_ = store.Close()
				if d == Postgres {
					_ = s.Drop(context.Background())
					_, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+rows+", "+prefix+"keys")
				}
			})
			c, err := NewConsumer(s, ConsumerConfig{Group: "g", Dedupe: store,
				Handler: func(context.Context, canonical.Event) error { return nil }})
			require.NoError(t, err, "NewConsumer")
			require.NotNil(t, c.batch, "the consumer commits in batches")

			// The batch's write inserts its rows, which must be new, in
			// one statement.
			type call struct {
				tx   *sql.Tx
				rows []string
				err  error
			}
			var calls []call
			writeTx := map[string][]*sql.Tx{} // the transactions of each item's TxWrite
			batch := NewTxBatch(func(ctx context.Context, tx *sql.Tx, ids []string) error {
				var q strings.Builder
				q.WriteString("INSERT INTO " + rows + " (id) VALUES ")
				args := make([]any, len(ids))
				for i, id := range ids {
					if i > 0 {
						q.WriteString(", ")
					}
					if d == Postgres {
						fmt.Fprintf(&q, "($%d)", i+1)
					} else {
						q.WriteString("(?)")
					}
					args[i] = id
				}
				q.WriteString(" ON CONFLICT (id) DO NOTHING")
				r, err := tx.ExecContext(ctx, q.String(), args...)
				if err == nil {
					var n int64
					if n, err = r.RowsAffected(); err == nil && n != int64(len(ids)) {
						err = fmt.Errorf("%d of %d rows new", n, len(ids))
						if len(ids) == 1 {
							err = fmt.Errorf("row %s: %w", ids[0], errRowTaken)
						}
					}
				}
				calls = append(calls, call{tx: tx, rows: ids, err: err})
				return err
			})

			// run flushes items of round, and returns them, which ran
			// their after functions, and the statements of the flush.
			run := func(round string) ([]*item, map[string]bool, int64) {
				// stopping: a failed item is left as it is.
				r := &run{c: c, keys: map[string]*keyq{}, commits: make(chan *commitJob, 1), stopping: true}
				var its []*item
				afters := map[string]bool{}
				for i := range items {
					id := fmt.Sprintf("%s-%d", round, i)
					it := &item{key: id, ev: &canonical.Event{ID: id}, batch: c.batch}
					r.keys[id] = &keyq{items: []*item{it}, busy: true}
					hctx := context.WithValue(ctx, batchKey{}, it)
					claim, err := store.Claim(ctx, idempotency.EventKey("g", "test", id), idempotency.Fingerprint{}, time.Minute)
					require.NoError(t, err, "claim %s", id)
					require.True(t, batch.Defer(hctx, db, id, func() { afters[id] = true }), "TxBatch.Defer of %s", id)
					require.True(t, Defer(hctx, db, func(ctx context.Context, tx *sql.Tx) error {
						writeTx[id] = append(writeTx[id], tx)
						return nil
					}, nil), "Defer of %s", id)
					require.NoError(t, c.guard.Store.Complete(hctx, claim.Lease, idempotency.Result{Data: []byte(id)}), "Complete %s", id)
					its = append(its, it)
					r.unflushed = append(r.unflushed, it)
				}
				stmts := spy.Stmts.Load()
				r.commitLast(ctx)
				return its, afters, spy.Stmts.Load() - stmts
			}
			// The rows and completions of a flush, in one statement each.
			calls = nil
			its, afters, stmts := run("a")
			require.Len(t, calls, 1, "calls of the batch's write for %d items", items)
			assert.Len(t, calls[0].rows, items, "rows of the one call")
			for _, it := range its {
				assert.Equal(t, []*sql.Tx{calls[0].tx}, writeTx[it.key], "transactions of the TxWrite of %s", it.key)
				assert.NoError(t, it.err, "item %s", it.key)
				assert.True(t, afters[it.key], "after of %s", it.key)
				assert.True(t, it.done, "item %s finished", it.key)
				rec, err := store.Lookup(ctx, idempotency.EventKey("g", "test", it.key))
				require.NoError(t, err, "dedupe record of %s", it.key)
				assert.Equal(t, idempotency.Completed, rec.Status, "dedupe record of %s", it.key)
			}
			// The rows' insert, the completions' update; BEGIN and COMMIT
			// are not statements.
			assert.Equal(t, int64(2), stmts, "statements of a flush of %d items", items)

			// One row in the way: it fails alone, the others commit.
			_, err = db.ExecContext(ctx, "INSERT INTO "+rows+" (id) VALUES ('b-5')")
			require.NoError(t, err, "insert b-5 first")
			calls = nil
			its, afters, _ = run("b")
			require.Len(t, calls, 1+items, "calls of the batch's write: the group's, then one per item")
			assert.Error(t, calls[0].err, "the group's call")
			for i, it := range its {
				assert.Equal(t, []string{it.key}, calls[1+i].rows, "rows of the call of %s alone", it.key)
				assert.Equal(t, []*sql.Tx{calls[0].tx, calls[1+i].tx}, writeTx[it.key], "transactions of the TxWrite of %s: the group's, its own", it.key)
				rec, err := store.Lookup(ctx, idempotency.EventKey("g", "test", it.key))
				if it.key == "b-5" {
					assert.ErrorIs(t, it.err, errRowTaken, "item %s", it.key)
					assert.False(t, afters[it.key], "after of %s", it.key)
					assert.False(t, it.done, "item %s finished", it.key)
					assert.ErrorIs(t, err, idempotency.ErrNotFound, "dedupe record of %s, released", it.key)
					continue
				}
				assert.NoError(t, it.err, "item %s", it.key)
				assert.True(t, afters[it.key], "after of %s", it.key)
				assert.True(t, it.done, "item %s finished", it.key)
				require.NoError(t, err, "dedupe record of %s", it.key)
				assert.Equal(t, idempotency.Completed, rec.Status, "dedupe record of %s", it.key)
			}
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+rows).Scan(&n), "count rows")
			assert.Equal(t, 2*items, n, "rows written")
		})
	}
}
