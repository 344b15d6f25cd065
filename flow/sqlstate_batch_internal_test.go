package flow

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/pgtest"
	"github.com/distsync/distsync/internal/sqlspy"
)

// TestSQLStateWriteSaves saves many orders' states with the write of the
// SQLState's TxBatch (the saves of a consumer's group commit), on SQLite
// and PostgreSQL: on SQLite the updates of 20 orders take one statement,
// the inserts of 3 new ones two (one per bit of their count); on
// PostgreSQL all 23 take one statement; every state is stored. With one order not at the version before
// its save, the call fails matching ErrStateConflict without calling any
// save's failed function, and changes nothing once rolled back; saved
// alone, that save fails with its own error naming its order, and calls
// its failed function, while the others succeed.
func TestSQLStateWriteSaves(t *testing.T) {
	const orders, fresh = 20, 3
	for _, tc := range []struct {
		d     idempotency.Dialect
		stmts int64 // of 20 updates and 3 inserts
	}{{idempotency.SQLite, 1 + 2}, {idempotency.Postgres, 1}} {
		t.Run(tc.d.String(), func(t *testing.T) {
			ctx := t.Context()
			var spy sqlspy.Spy
			var db *sql.DB
			var err error
			prefix := ""
			if tc.d == idempotency.SQLite {
				path := filepath.Join(t.TempDir(), "state.db")
				dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_txlock=immediate"
				raw, err := sql.Open("sqlite", dsn)
				require.NoError(t, err, "open SQLite")
				t.Cleanup(func() { _ = raw.Close() })
				db, err = sqlspy.Open(raw, dsn, &spy)
				require.NoError(t, err, "sqlspy.Open")
				db.SetMaxOpenConns(1)
			} else {
				url := pgtest.URL(t)
				db, err = sqlspy.Open(pgtest.Open(t, url), url, &spy)
				require.NoError(t, err, "sqlspy.Open")
				var r [6]byte
				_, _ = rand.Read(r[:])
				prefix = "sts_" + hex.EncodeToString(r[:]) + "_"
			}
			t.Cleanup(func() { _ = db.Close() })
			s, err := NewSQLState(db, SQLStateConfig{Dialect: tc.d, Prefix: prefix})
			require.NoError(t, err, "NewSQLState")
			require.NoError(t, s.Migrate(ctx), "Migrate")
			t.Cleanup(func() { _ = s.Drop(context.Background()) })
			for i := range orders {
				require.NoError(t, s.SaveState(ctx, StoredState{OrderID: fmt.Sprint("SO-", i), Data: []byte(`{"v":1}`), Version: 1}), "save SO-%d", i)
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
			failed := map[string]error{}
			saves := func(version int64, ids ...string) []stateSave {
				var out []stateSave
				for _, id := range ids {
					data := fmt.Appendf(nil, `{"id":%q,"v":%d,"quote":"\"\\\u0001"}`, id, version)
					out = append(out, stateSave{st: StoredState{OrderID: id, Data: data, Held: version%2 == 0, Final: id == "SO-3", Version: version},
						failed: func(_ context.Context, err error) { failed[id] = err }})
				}
				return out
			}
			var ids []string
			for i := range orders {
				ids = append(ids, fmt.Sprint("SO-", i))
			}
			batch := append(saves(2, ids...), saves(1, "NEW-1", `NEW-"2\`, "NEW-\x013")...)
			stmts := spy.Stmts.Load()
			require.NoError(t, inTx(func(tx *sql.Tx) error { return s.writeSaves(ctx, tx, batch) }), "writeSaves of %d saves", len(batch))
			assert.Equal(t, tc.stmts, spy.Stmts.Load()-stmts, "statements of %d updates and %d inserts", orders, fresh)
			for _, sv := range batch {
				got, ok, err := s.LoadState(ctx, sv.st.OrderID)
				require.NoError(t, err, "load %q", sv.st.OrderID)
				require.True(t, ok, "%q stored", sv.st.OrderID)
				assert.Equal(t, sv.st, got, "stored state of %q", sv.st.OrderID)
			}
			assert.Empty(t, failed, "failed saves")

			// SO-7 is at version 2: a save of version 5 is in conflict.
			batch = saves(3, ids...)
			batch[7].st.Version = 5
			err = inTx(func(tx *sql.Tx) error { return s.writeSaves(ctx, tx, batch) })
			require.ErrorIs(t, err, ErrStateConflict, "writeSaves with SO-7 in conflict")
			assert.Empty(t, failed, "failed saves after the group's call")
			for _, id := range ids {
				got, _, err := s.LoadState(ctx, id)
				require.NoError(t, err, "load %s", id)
				assert.Equal(t, int64(2), got.Version, "version of %s after the batch rolled back", id)
			}
			for _, sv := range batch {
				err := inTx(func(tx *sql.Tx) error { return s.writeSaves(ctx, tx, []stateSave{sv}) })
				if sv.st.OrderID == "SO-7" {
					require.ErrorIs(t, err, ErrStateConflict, "save of SO-7 alone")
					assert.Contains(t, err.Error(), `"SO-7"`, "the error of SO-7 alone names it")
					assert.True(t, errors.Is(failed["SO-7"], ErrStateConflict), "failed function of SO-7 called with its error")
					continue
				}
				require.NoError(t, err, "save of %s alone", sv.st.OrderID)
			}
			assert.Len(t, failed, 1, "failed saves")
		})
	}
}

// BenchmarkSQLStateWriteSaves compares the saves of a group commit of 16
// orders (states of 1.5 KB) written by saveRows (batch) and one statement
// each (alone), in one transaction per round, on SQLite and, with the
// test server, PostgreSQL. It reports cpu-ns/save, this process's CPU
// per save, and on PostgreSQL server-cpu-ns/save, the CPU of the one
// backend the rounds run on (read from /proc/PID/stat, in 10ms ticks,
// when the server runs on this machine).
func BenchmarkSQLStateWriteSaves(b *testing.B) {
	const orders = 16
	for _, d := range []idempotency.Dialect{idempotency.SQLite, idempotency.Postgres} {
		for _, mode := range []string{"batch", "alone"} {
			b.Run(d.String()+"/"+mode, func(b *testing.B) {
				ctx := context.Background()
				var db *sql.DB
				var err error
				prefix := ""
				if d == idempotency.SQLite {
					path := filepath.Join(b.TempDir(), "state.db")
					db, err = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate")
					require.NoError(b, err, "open SQLite")
					b.Cleanup(func() { _ = db.Close() })
				} else {
					db = pgtest.Open(b, pgtest.URL(b))
					var r [6]byte
					_, _ = rand.Read(r[:])
					prefix = "stb_" + hex.EncodeToString(r[:]) + "_"
				}
				db.SetMaxOpenConns(1)
				s, err := NewSQLState(db, SQLStateConfig{Dialect: d, Prefix: prefix})
				require.NoError(b, err, "NewSQLState")
				require.NoError(b, s.Migrate(ctx), "Migrate")
				b.Cleanup(func() {
					if d == idempotency.Postgres {
						_ = s.Drop(context.Background())
					}
				})
				data := make([]byte, 1500)
				for i := range data {
					data[i] = 'a' + byte(i%26)
				}
				saves := make([]stateSave, orders)
				for i := range saves {
					saves[i].st = StoredState{OrderID: fmt.Sprint("SO-", i), Data: data, Version: 1}
					require.NoError(b, s.SaveState(ctx, saves[i].st), "save SO-%d", i)
				}
				_, err = s.stmts(ctx)
				require.NoError(b, err, "prepare")
				backend := -1
				if d == idempotency.Postgres {
					require.NoError(b, db.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&backend), "pg_backend_pid")
				}
				b.ReportAllocs()
				cpu0, server0 := processCPU(), backendCPU(backend)
				for b.Loop() {
					for i := range saves {
						saves[i].st.Version++
					}
					tx, err := db.BeginTx(ctx, nil)
					require.NoError(b, err, "BeginTx")
					if mode == "batch" {
						err = s.writeSaves(ctx, tx, saves)
					} else {
						for _, sv := range saves {
							if err = s.saveIn(ctx, tx, sv.st); err != nil {
								break
							}
						}
					}
					require.NoError(b, err, "save")
					require.NoError(b, tx.Commit(), "Commit")
				}
				b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N*orders), "cpu-ns/save")
				if server1 := backendCPU(backend); server0 >= 0 && server1 >= 0 {
					b.ReportMetric(float64((server1-server0).Nanoseconds())/float64(b.N*orders), "server-cpu-ns/save")
				}
			})
		}
	}
}

// backendCPU returns the user and system CPU time of process pid so far,
// from /proc/PID/stat, or -1 when it cannot be read.
func backendCPU(pid int) time.Duration {
	if pid < 0 {
		return -1
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	end := bytes.LastIndexByte(stat, ')')
	f := strings.Fields(string(stat[end+1:]))
	if end < 0 || len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100
}

// processCPU returns the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
