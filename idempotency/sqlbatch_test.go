package idempotency_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/pgtest"
	"github.com/distsync/distsync/internal/sqlspy"
)

// TestSQLStoreConcurrentClaimBatches races batches over the same keys,
// each in its own order, with claims alone: every key is claimed exactly
// once, and no batch fails (on PostgreSQL the batches take the rows in key
// order, so they do not deadlock).
func TestSQLStoreConcurrentClaimBatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *idempotency.SQLStore
	}{
		{"sqlite", func(t *testing.T) *idempotency.SQLStore {
			db := openSQLite(t)
			db.SetMaxOpenConns(1)
			return newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
		}},
		{"postgres", func(t *testing.T) *idempotency.SQLStore {
			db := openPostgres(t)
			db.SetMaxIdleConns(8)
			return newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.Postgres})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			const keys, batches = 40, 6
			var all []idempotency.ClaimRequest
			for i := range keys {
				all = append(all, idempotency.ClaimRequest{Key: idempotency.Derive("test", "batch", fmt.Sprint(i)),
					Fingerprint: idempotency.FingerprintBytes([]byte("same"))})
			}
			var mu sync.Mutex
			won := map[idempotency.Key]int{}
			var wg sync.WaitGroup
			for b := range batches {
				reqs := make([]idempotency.ClaimRequest, keys)
				for i := range keys {
					reqs[i] = all[(i*(2*b+1)+b)%keys] // each batch in its own order
				}
				wg.Go(func() {
					got, err := s.ClaimBatch(context.Background(), reqs, time.Minute)
					if !assert.NoError(t, err, "ClaimBatch %d", b) {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					for i, c := range got {
						if c.Status == idempotency.Claimed {
							won[reqs[i].Key]++
						} else {
							assert.Equal(t, idempotency.InProgress, c.Status, "answer of batch %d to %s", b, reqs[i].Key)
						}
					}
				})
			}
			for i := range keys {
				wg.Go(func() {
					c, err := s.Claim(context.Background(), all[i].Key, all[i].Fingerprint, time.Minute)
					if !assert.NoError(t, err, "Claim %s", all[i].Key) {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if c.Status == idempotency.Claimed {
						won[all[i].Key]++
					}
				})
			}
			wg.Wait()
			for _, r := range all {
				assert.Equal(t, 1, won[r.Key], "claims of %s that won", r.Key)
			}
		})
	}
}

// TestSQLStoreCompleteTxBatch completes the claims of many keys in one
// transaction with CompleteTxBatch: 33 completions take two statements
// (32, then one beside a row of NULLs); each key then replays its own
// result. With one lease among them lost, the call fails matching
// ErrLeaseLost and, rolled back, completes none; alone, that completion
// fails naming its key, while the others complete.
func TestSQLStoreCompleteTxBatch(t *testing.T) {
	const keys = 33 // two statements
	for _, tc := range []struct {
		name  string
		open  func(t *testing.T, spy *sqlspy.Spy) (*sql.DB, *idempotency.SQLStore)
		stmts int64
	}{
		{"sqlite", func(t *testing.T, spy *sqlspy.Spy) (*sql.DB, *idempotency.SQLStore) {
			path := filepath.Join(t.TempDir(), "idem.db")
			raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
			require.NoError(t, err, "open SQLite %s", path)
			t.Cleanup(func() { _ = raw.Close() })
			db, err := sqlspy.Open(raw, "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)", spy)
			require.NoError(t, err, "sqlspy.Open")
			t.Cleanup(func() { _ = db.Close() })
			db.SetMaxOpenConns(1)
			return db, newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
		}, 2},
		{"postgres", func(t *testing.T, spy *sqlspy.Spy) (*sql.DB, *idempotency.SQLStore) {
			url := pgtest.URL(t)
			db, err := sqlspy.Open(pgtest.Open(t, url), url, spy)
			require.NoError(t, err, "sqlspy.Open")
			t.Cleanup(func() { _ = db.Close() })
			return db, newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.Postgres})
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			var spy sqlspy.Spy
			db, s := tc.open(t, &spy)
			claim := func(prefix string) []idempotency.Completion {
				var cs []idempotency.Completion
				for i := range keys {
					k := idempotency.Derive("test", prefix, fmt.Sprint(i))
					c, err := s.Claim(ctx, k, idempotency.FingerprintBytes([]byte("fp")), time.Minute)
					require.NoError(t, err, "claim %s", k)
					require.Equal(t, idempotency.Claimed, c.Status, "claim %s", k)
					cs = append(cs, idempotency.Completion{Lease: c.Lease, Result: idempotency.Result{Data: []byte("r" + fmt.Sprint(i)), Failed: i%3 == 0}})
				}
				return cs
			}
			inTx := func(fn func(tx *sql.Tx) error) error {
				tx, err := db.BeginTx(ctx, nil)
				require.NoError(t, err, "BeginTx")
				if err := fn(tx); err != nil {
					require.NoError(t, tx.Rollback(), "Rollback")
					return err
				}
				return tx.Commit()
			}

			cs := claim("all")
			before := spy.Stmts.Load()
			require.NoError(t, inTx(func(tx *sql.Tx) error { return s.CompleteTxBatch(ctx, tx, cs) }), "CompleteTxBatch of %d", keys)
			assert.Equal(t, tc.stmts, spy.Stmts.Load()-before, "statements of CompleteTxBatch of %d completions", keys)
			for i, c := range cs {
				got, err := s.Claim(ctx, c.Lease.Key, idempotency.FingerprintBytes([]byte("fp")), time.Minute)
				require.NoError(t, err, "claim %s again", c.Lease.Key)
				assert.Equal(t, idempotency.Completed, got.Status, "claim %s again", c.Lease.Key)
				assert.Equal(t, cs[i].Result, got.Result, "result of %s", c.Lease.Key)
			}

			cs = claim("one-lost")
			lost := cs[7]
			require.NoError(t, s.Release(ctx, lost.Lease), "release %s", lost.Lease.Key)
			err := inTx(func(tx *sql.Tx) error { return s.CompleteTxBatch(ctx, tx, cs) })
			require.ErrorIs(t, err, idempotency.ErrLeaseLost, "CompleteTxBatch with the lease of %s lost", lost.Lease.Key)
			for _, c := range cs {
				if c.Lease != lost.Lease {
					rec, err := s.Lookup(ctx, c.Lease.Key)
					require.NoError(t, err, "lookup %s", c.Lease.Key)
					assert.Equal(t, idempotency.Claimed, rec.Status, "%s after the batch rolled back", c.Lease.Key)
				}
			}
			for _, c := range cs {
				err := inTx(func(tx *sql.Tx) error { return s.CompleteTxBatch(ctx, tx, []idempotency.Completion{c}) })
				if c.Lease == lost.Lease {
					require.ErrorIs(t, err, idempotency.ErrLeaseLost, "CompleteTxBatch of %s alone", c.Lease.Key)
					assert.Contains(t, err.Error(), c.Lease.Key.String(), "the error of %s alone names it", c.Lease.Key)
					continue
				}
				require.NoError(t, err, "CompleteTxBatch of %s alone", c.Lease.Key)
				rec, err := s.Lookup(ctx, c.Lease.Key)
				require.NoError(t, err, "lookup %s", c.Lease.Key)
				assert.Equal(t, idempotency.Completed, rec.Status, "%s completed alone", c.Lease.Key)
			}
		})
	}
}
