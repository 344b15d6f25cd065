package sqlspy_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/distsync/distsync/internal/sqlspy"
)

// TestSpy counts the commits and statements of each kind of call on
// SQLite, and fails every call while Fail says so.
func TestSpy(t *testing.T) {
	ctx := context.Background()
	dsn := "file:" + filepath.Join(t.TempDir(), "spy.db") + "?_pragma=journal_mode(WAL)"
	raw, err := sql.Open("sqlite", dsn)
	require.NoError(t, err, "open SQLite")
	defer raw.Close()
	errDead := errors.New("dead")
	dead := false
	spy := &sqlspy.Spy{Fail: func() error {
		if dead {
			return errDead
		}
		return nil
	}}
	db, err := sqlspy.Open(raw, dsn, spy)
	require.NoError(t, err, "sqlspy.Open")
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, "CREATE TABLE t (k INTEGER PRIMARY KEY)")
	require.NoError(t, err, "create")
	ins, err := db.PrepareContext(ctx, "INSERT INTO t (k) VALUES (?)")
	require.NoError(t, err, "prepare")
	defer ins.Close()
	k := 0
	for _, tc := range []struct {
		name           string
		run            func() error
		commits, stmts int64
	}{
		{"an insert outside a transaction", func() error { k++; _, err := db.ExecContext(ctx, "INSERT INTO t (k) VALUES (?)", k); return err }, 1, 1},
		{"a prepared insert outside a transaction", func() error { k++; _, err := ins.ExecContext(ctx, k); return err }, 1, 1},
		{"a select", func() error { var n int; return db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n) }, 0, 1},
		{"a transaction of two inserts", func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			for range 2 {
				k++
				if _, err := tx.StmtContext(ctx, ins).ExecContext(ctx, k); err != nil {
					_ = tx.Rollback()
					return err
				}
			}
			return tx.Commit()
		}, 1, 2},
		{"a transaction rolled back", func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO t (k) VALUES (1000)"); err != nil {
				return err
			}
			return tx.Rollback()
		}, 0, 1},
	} {
		c, s := spy.Commits.Load(), spy.Stmts.Load()
		require.NoError(t, tc.run(), tc.name)
		assert.Equal(t, tc.commits, spy.Commits.Load()-c, "commits of %s", tc.name)
		assert.Equal(t, tc.stmts, spy.Stmts.Load()-s, "statements of %s", tc.name)
	}

	dead = true
	_, err = db.ExecContext(ctx, "INSERT INTO t (k) VALUES (2000)")
	assert.ErrorIs(t, err, errDead, "an insert while Fail fails")
	_, err = db.BeginTx(ctx, nil)
	assert.ErrorIs(t, err, errDead, "a transaction while Fail fails")
	dead = false
	var n int
	require.NoError(t, raw.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n), "count")
	assert.Equal(t, k, n, "rows written")
}
