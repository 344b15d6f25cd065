package idempotency_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
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

// TestSQLStoreClaimBatchStatements claims batches of keys and counts what
// reaches the database. 120 new keys take one statement on its own and no
// transaction (on SQLite they took a statement per key, on PostgreSQL a
// transaction: BEGIN and COMMIT are two more round trips). 130 keys, ten
// of them in the way of a record (held, completed, or held with another
// fingerprint), take that statement, then one transaction for the ten,
// which offers them again and reads each; every answer is the one a claim
// alone would give. 300 keys take one transaction (on SQLite, of two
// statements). When that transaction fails, the batch fails and the keys
// it claimed are free again.
func TestSQLStoreClaimBatchStatements(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T, spy *sqlspy.Spy) *idempotency.SQLStore
	}{
		{"sqlite", func(t *testing.T, spy *sqlspy.Spy) *idempotency.SQLStore {
			path := filepath.Join(t.TempDir(), "idem.db")
			dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_txlock=immediate"
			raw, err := sql.Open("sqlite", dsn)
			require.NoError(t, err, "open SQLite %s", path)
			t.Cleanup(func() { _ = raw.Close() })
			db, err := sqlspy.Open(raw, dsn, spy)
			require.NoError(t, err, "sqlspy.Open")
			t.Cleanup(func() { _ = db.Close() })
			db.SetMaxOpenConns(1)
			return newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
		}},
		{"postgres", func(t *testing.T, spy *sqlspy.Spy) *idempotency.SQLStore {
			url := pgtest.URL(t)
			db, err := sqlspy.Open(pgtest.Open(t, url), url, spy)
			require.NoError(t, err, "sqlspy.Open")
			t.Cleanup(func() { _ = db.Close() })
			return newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.Postgres})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var spy sqlspy.Spy
			var txs atomic.Int64   // transactions that came to their commit
			var failTx atomic.Bool // fail them
			spy.FailCommit = func([]string) error {
				txs.Add(1)
				if failTx.Load() {
					return errors.New("the test failed the commit")
				}
				return nil
			}
			s := tc.open(t, &spy)
			ctx := t.Context()
			fp, other := idempotency.FingerprintBytes([]byte("fp")), idempotency.FingerprintBytes([]byte("other"))
			batch := func(prefix string, n int) []idempotency.ClaimRequest {
				reqs := make([]idempotency.ClaimRequest, n)
				for i := range reqs {
					reqs[i] = idempotency.ClaimRequest{Key: idempotency.Derive("test", prefix, fmt.Sprint(i)), Fingerprint: fp}
				}
				return reqs
			}
			count := func(f func()) (stmts, commits, transactions int64) {
				s0, c0, t0 := spy.Stmts.Load(), spy.Commits.Load(), txs.Load()
				f()
				return spy.Stmts.Load() - s0, spy.Commits.Load() - c0, txs.Load() - t0
			}

			reqs := batch("fresh", 120)
			var got []idempotency.Claim
			stmts, commits, transactions := count(func() {
				var err error
				got, err = s.ClaimBatch(ctx, reqs, time.Minute)
				require.NoError(t, err, "ClaimBatch of %d new keys", len(reqs))
			})
			for i, c := range got {
				require.Equal(t, idempotency.Claimed, c.Status, "answer to %s", reqs[i].Key)
			}
			assert.Equal(t, [3]int64{1, 1, 0}, [3]int64{stmts, commits, transactions},
				"statements, commits and transactions of ClaimBatch of %d new keys", len(reqs))

			reqs = batch("mixed", 130)
			want := make([]idempotency.Status, len(reqs))
			for i := range reqs {
				want[i] = idempotency.Claimed
				if i%13 != 5 {
					continue
				}
				switch i % 3 {
				case 0: // held
					c, err := s.Claim(ctx, reqs[i].Key, fp, time.Minute)
					require.NoError(t, err, "claim %s", reqs[i].Key)
					require.Equal(t, idempotency.Claimed, c.Status, "claim %s", reqs[i].Key)
					want[i] = idempotency.InProgress
				case 1: // completed
					c, err := s.Claim(ctx, reqs[i].Key, fp, time.Minute)
					require.NoError(t, err, "claim %s", reqs[i].Key)
					require.NoError(t, s.Complete(ctx, c.Lease, idempotency.Result{Data: []byte("done")}), "complete %s", reqs[i].Key)
					want[i] = idempotency.Completed
				case 2: // held with another fingerprint
					_, err := s.Claim(ctx, reqs[i].Key, other, time.Minute)
					require.NoError(t, err, "claim %s", reqs[i].Key)
					want[i] = idempotency.Mismatch
				}
			}
			stmts, commits, transactions = count(func() {
				var err error
				got, err = s.ClaimBatch(ctx, reqs, time.Minute)
				require.NoError(t, err, "ClaimBatch of %d keys", len(reqs))
			})
			assert.Equal(t, [3]int64{1 + 1 + 10, 2, 1}, [3]int64{stmts, commits, transactions},
				"statements, commits and transactions of ClaimBatch of %d keys, 10 of them in the way", len(reqs))
			for i, c := range got {
				require.Equal(t, want[i], c.Status, "answer to %s", reqs[i].Key)
				if c.Status != idempotency.Claimed {
					continue
				}
				again, err := s.Claim(ctx, reqs[i].Key, fp, time.Minute)
				require.NoError(t, err, "claim %s again", reqs[i].Key)
				assert.Equal(t, idempotency.InProgress, again.Status, "claim %s again", reqs[i].Key)
				require.NoError(t, s.Complete(ctx, c.Lease, idempotency.Result{Data: []byte("batch")}), "complete %s with the batch's lease", reqs[i].Key)
			}

			// More keys than one SQLite statement offers (256): on SQLite
			// they are claimed in one transaction, by two statements.
			reqs = batch("big", 300)
			for _, i := range []int{0, 150, 299} {
				_, err := s.Claim(ctx, reqs[i].Key, other, time.Minute)
				require.NoError(t, err, "claim %s", reqs[i].Key)
			}
			stmts, _, transactions = count(func() {
				var err error
				got, err = s.ClaimBatch(ctx, reqs, time.Minute)
				require.NoError(t, err, "ClaimBatch of %d keys", len(reqs))
			})
			for i, c := range got {
				want := idempotency.Claimed
				if i == 0 || i == 150 || i == 299 {
					want = idempotency.Mismatch
				}
				require.Equal(t, want, c.Status, "answer to %s", reqs[i].Key)
			}
			assert.Equal(t, int64(1), transactions, "transactions of ClaimBatch of %d keys", len(reqs))
			if tc.name == "sqlite" {
				assert.Equal(t, int64(2+3), stmts, "statements of ClaimBatch of %d keys on SQLite, 3 in the way", len(reqs))
			}

			// The transaction for the keys in the way fails: nothing stays
			// claimed.
			reqs = batch("failing", 20)
			_, err := s.Claim(ctx, reqs[3].Key, other, time.Minute)
			require.NoError(t, err, "claim %s", reqs[3].Key)
			failTx.Store(true)
			_, err = s.ClaimBatch(ctx, reqs, time.Minute)
			failTx.Store(false)
			require.Error(t, err, "ClaimBatch whose transaction fails")
			for i, r := range reqs {
				if i == 3 {
					continue
				}
				_, err := s.Lookup(ctx, r.Key)
				assert.ErrorIs(t, err, idempotency.ErrNotFound, "%s after the batch failed", r.Key)
			}
		})
	}
}
