package eventlog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/internal/sqlspy"
)

// TestSQLRunStartStatements counts the statements of what a consumer's
// Run does at its start and end besides its reads: Group loads the cursor
// and the retries after it with one query (it took two), on SQLite and
// PostgreSQL; on PostgreSQL, Unlock marks the group released and releases
// the lock with one statement (it took two), and the next TryLockGroup,
// in another process, finds the group released and takes the lock
// without waiting.
func TestSQLRunStartStatements(t *testing.T) {
	for _, d := range []eventlog.Dialect{eventlog.SQLite, eventlog.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			ctx := t.Context()
			raw, dsn, prefix := openDialect(t, d)
			var spy sqlspy.Spy
			db, err := sqlspy.Open(raw, dsn, &spy)
			require.NoError(t, err, "sqlspy.Open")
			t.Cleanup(func() { _ = db.Close() })
			if d == eventlog.SQLite {
				db.SetMaxOpenConns(2) // TryLockGroup, a no-op on SQLite, holds none
			}
			s := newSQL(t, db, d, prefix)
			if prefix != "" {
				t.Cleanup(func() { _ = s.Drop(t.Context()) })
			}
			epoch, err := s.Claim(ctx, "g")
			require.NoError(t, err, "Claim")
			require.NoError(t, s.Commit(ctx, "g", epoch, 5), "Commit")
			at := time.Unix(1700000000, 0).UTC()
			for _, off := range []uint64{4, 7, 9} {
				require.NoError(t, s.SaveRetry(ctx, "g", epoch, eventlog.Retry{Offset: off, Attempts: int(off),
					FirstFailure: at, LastFailure: at.Add(time.Second), Due: at.Add(time.Minute)}), "SaveRetry %d", off)
			}
			before := spy.Stmts.Load()
			st, err := s.Group(ctx, "g")
			require.NoError(t, err, "Group")
			assert.Equal(t, int64(1), spy.Stmts.Load()-before, "statements of Group")
			assert.Equal(t, uint64(5), st.Cursor, "cursor")
			require.Len(t, st.Retries, 2, "retries after the cursor")
			for i, off := range []uint64{7, 9} {
				assert.Equal(t, eventlog.Retry{Offset: off, Attempts: int(off), FirstFailure: at, LastFailure: at.Add(time.Second),
					Due: at.Add(time.Minute)}, st.Retries[i], "retry %d", i)
			}
			st, err = s.Group(ctx, "new")
			require.NoError(t, err, "Group of a new group")
			assert.Equal(t, eventlog.GroupState{}, st, "state of a new group")
			if d != eventlog.Postgres {
				return
			}

			lock, ok, err := s.TryLockGroup(ctx, "h")
			require.NoError(t, err, "TryLockGroup")
			require.True(t, ok, "TryLockGroup of a free group")
			_, err = s.Claim(ctx, "h")
			require.NoError(t, err, "Claim h")
			before = spy.Stmts.Load()
			lock.Unlock()
			assert.Equal(t, int64(1), spy.Stmts.Load()-before, "statements of Unlock")
			other := newSQL(t, openPostgres(t, dsn), d, prefix) // another process
			start := time.Now()
			lock, ok, err = other.TryLockGroup(ctx, "h")
			require.NoError(t, err, "TryLockGroup after Unlock")
			require.True(t, ok, "TryLockGroup after Unlock")
			assert.Less(t, time.Since(start), eventlog.DefaultLockCheck, "TryLockGroup of a group released cleanly waited")
			lock.Unlock()
		})
	}
}
