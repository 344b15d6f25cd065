package eventlog_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

// TestSQLReadGapIsNotTrim: a gap in the offsets that is not a trim (on
// PostgreSQL, offsets an aborted append drew) is read over, not reported
// as ErrTrimmed; a gap below the trim mark is.
func TestSQLReadGapIsNotTrim(t *testing.T) {
	sqlBackends(t, func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string) {
		ctx := t.Context()
		require.NoError(t, s.Append(ctx, eventlogtest.Event("a", 1)), "Append a-1")
		if strings.HasPrefix(s.String(), "postgres") {
			// Offsets 2-4 drawn by a transaction that rolls back.
			tx, err := db.BeginTx(ctx, nil)
			require.NoError(t, err, "begin")
			_, err = tx.ExecContext(ctx, "INSERT INTO "+prefix+"events (pkey, payload) VALUES ('a', 'x'), ('a', 'x'), ('a', 'x')")
			require.NoError(t, err, "insert three rows")
			require.NoError(t, tx.Rollback(), "rollback")
			require.NoError(t, s.Append(ctx, eventlogtest.Event("a", 2)), "Append a-2")
		} else {
			ev := eventlogtest.Event("a", 2)
			payload, err := ev.MarshalJSON()
			require.NoError(t, err, "MarshalJSON")
			_, err = db.ExecContext(ctx, "INSERT INTO "+prefix+"events (off, pkey, payload) VALUES (5, 'a', ?)", payload)
			require.NoError(t, err, "insert a row at offset 5")
		}

		for _, after := range []uint64{0, 1, 2, 4} {
			entries, err := s.Read(ctx, after, 10)
			require.NoError(t, err, "Read after %d over the gap 2-4", after)
			require.NotEmpty(t, entries, "Read after %d", after)
			assert.Equal(t, uint64(5), entries[len(entries)-1].Offset, "last offset read after %d", after)
		}

		require.NoError(t, s.Commit(ctx, "g", 0, 5), "Commit")
		require.NoError(t, s.Append(ctx, eventlogtest.Event("a", 3)), "Append a-3")
		through, err := s.TrimEvents(ctx, "g")
		require.NoError(t, err, "TrimEvents")
		require.Equal(t, uint64(5), through, "trim mark")
		for _, after := range []uint64{0, 1, 4} {
			_, err := s.Read(ctx, after, 10)
			assert.ErrorIs(t, err, eventlog.ErrTrimmed, "Read after %d, below the trim mark", after)
		}
	})
}
