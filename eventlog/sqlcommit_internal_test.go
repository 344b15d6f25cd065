package eventlog

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/internal/sqlspy"
)

// TestCommitBatchCursorAndAppend commits a group's cursor and appends
// events with commitBatch, on SQLite and PostgreSQL: on PostgreSQL the
// cursor and the events take one statement (commitAppendIn; they took two
// round trips), on SQLite three (the cursor, the trim of the retries, the
// events). The events are appended in order and the cursor committed; a
// commit with an epoch that is no longer the group's fails matching
// ErrFenced and appends nothing.
func TestCommitBatchCursorAndAppend(t *testing.T) {
	for _, tc := range []struct {
		d     Dialect
		stmts int64
	}{{SQLite, 3}, {Postgres, 1}} {
		t.Run(tc.d.String(), func(t *testing.T) {
			ctx := t.Context()
			var spy sqlspy.Spy
			db, prefix := openSpied(t, tc.d, &spy, "cab_")
			var err error
			s, err := NewSQL(db, SQLConfig{Dialect: tc.d, Prefix: prefix})
			require.NoError(t, err, "NewSQL")
			require.NoError(t, s.Migrate(ctx), "Migrate")
			if tc.d == Postgres {
				t.Cleanup(func() { _ = s.Drop(t.Context()) })
			}
			var evs []canonical.Event
			for i := range 5 {
				evs = append(evs, canonical.Event{SpecVersion: "1.0", ID: fmt.Sprint("e", i), Source: "test", Type: "test.event",
					Subject: fmt.Sprint("k", i%2), Data: []byte(`{}`)})
			}
			require.NoError(t, s.Append(ctx, evs[:2]...), "Append")
			epoch, err := s.Claim(ctx, "g")
			require.NoError(t, err, "Claim")
			payloads, err := encode(evs[2:])
			require.NoError(t, err, "encode")
			_, err = s.cursorStmts(ctx) // prepared before, as by an earlier commit
			require.NoError(t, err, "cursorStmts")
			before := spy.Stmts.Load()
			require.NoError(t, s.commitBatch(ctx, "g", epoch, 2, nil, []deferredAppend{{s: s, events: evs[2:], payloads: payloads}}),
				"commitBatch of the cursor and 3 events")
			// commitBatch prepares SQLite's insert before its transaction.
			stmts := spy.Stmts.Load() - before
			assert.Equal(t, tc.stmts, stmts, "statements of the commit of a cursor and an append")
			es, err := s.Read(ctx, 0, 10)
			require.NoError(t, err, "Read")
			require.Len(t, es, 5, "events in the log")
			for i, e := range es {
				assert.Equal(t, evs[i].ID, e.Event.ID, "event at offset %d", e.Offset)
			}
			st, err := s.Group(ctx, "g")
			require.NoError(t, err, "Group")
			assert.Equal(t, uint64(2), st.Cursor, "cursor")

			_, err = s.Claim(ctx, "g") // another run takes the group
			require.NoError(t, err, "Claim again")
			err = s.commitBatch(ctx, "g", epoch, 4, nil, []deferredAppend{{s: s, events: evs[2:3], payloads: payloads[:1]}})
			require.ErrorIs(t, err, ErrFenced, "commitBatch with the old epoch")
			es, err = s.Read(ctx, 0, 10)
			require.NoError(t, err, "Read")
			assert.Len(t, es, 5, "events in the log after the fenced commit")
			st, err = s.Group(ctx, "g")
			require.NoError(t, err, "Group")
			assert.Equal(t, uint64(2), st.Cursor, "cursor after the fenced commit")
		})
	}
}
