package eventlog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/distsync/distsync/canonical"
)

// TestPartViewRead checks that a partition's view of the log returns
// exactly that partition's entries in offset order, whatever the limit,
// including those appended after a read that scanned to the end, and
// that a read starting before a trim fails with ErrTrimmed.
func TestPartViewRead(t *testing.T) {
	const parts = 3
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "events.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	require.NoError(t, err, "open SQLite")
	t.Cleanup(func() { _ = db.Close() })
	s, err := NewSQL(db, SQLConfig{Dialect: SQLite})
	require.NoError(t, err, "NewSQL")
	ctx := context.Background()
	require.NoError(t, s.Migrate(ctx), "Migrate")
	want := map[int][]uint64{}
	off := uint64(0)
	appendRounds := func(keys, from, to int) {
		var evs []canonical.Event
		for round := from; round <= to; round++ {
			for k := range keys {
				e := partEvent(fmt.Sprintf("k%d", k), round)
				evs = append(evs, e)
				off++
				want[PartitionOf(e.Partition(), parts)] = append(want[PartitionOf(e.Partition(), parts)], off)
			}
		}
		for len(evs) > 0 {
			n := min(len(evs), 1000)
			require.NoError(t, s.Append(ctx, evs[:n]...), "Append rounds %d to %d", from, to)
			evs = evs[n:]
		}
	}
	appendRound := func(keys, round int) { appendRounds(keys, round, round) }
	// More rows than a member's tail holds, so that a partition that
	// starts at the beginning reads the database alone until it reaches
	// the tail, and its reads scan more than one query's worth
	// (scanRows) before they fill a large limit.
	appendRounds(10, 1, tailRows/10+100)
	for _, limit := range []int{3, 256, 2000} {
		tl := &tail{} // shared by the partitions, as a member's is
		for n := range parts {
			v := &partView{SQL: s, n: n, parts: parts, tail: tl, poll: time.Hour}
			var got []uint64
			after := uint64(0)
			for {
				es, err := v.Read(ctx, after, limit)
				require.NoError(t, err, "Read partition %d after %d limit %d", n, after, limit)
				require.LessOrEqual(t, len(es), limit, "Read returns at most limit entries")
				for _, e := range es {
					require.NoError(t, e.Err, "entry %d decodes", e.Offset)
					require.Equal(t, n, PartitionOf(e.Event.Partition(), parts), "entry %d is of partition %d", e.Offset, n)
					got = append(got, e.Offset)
					after = e.Offset
				}
				if len(es) < limit {
					break
				}
			}
			require.Equal(t, want[n], got, "partition %d read with limit %d", n, limit)
			// Appended after a read that scanned to the end, and read
			// from the same position.
			before := len(want[n])
			appendRound(10, 1000+limit)
			es, err := v.Read(ctx, after, 10000)
			require.NoError(t, err, "Read partition %d after the new round", n)
			var more []uint64
			for _, e := range es {
				more = append(more, e.Offset)
			}
			require.Equal(t, want[n][before:], more, "partition %d: the events appended after the read", n)
			// The other partitions' expectations grew too; later loops
			// read from the start again.
		}
	}
	through, err := s.TrimEvents(ctx, PartitionGroup("g", 0))
	require.NoError(t, err, "TrimEvents")
	require.Zero(t, through, "a group that never committed holds everything")
	require.NoError(t, s.Commit(ctx, PartitionGroup("g", 0), 0, 100), "Commit")
	through, err = s.TrimEvents(ctx, PartitionGroup("g", 0))
	require.NoError(t, err, "TrimEvents")
	require.Equal(t, uint64(100), through, "trimmed through the cursor")
	v := &partView{SQL: s, n: 0, parts: parts, tail: &tail{}, poll: time.Hour}
	_, err = v.Read(ctx, 10, 5)
	require.ErrorIs(t, err, ErrTrimmed, "a read of a partition before the trim")
	es, err := v.Read(ctx, 100, 5)
	require.NoError(t, err, "a read from the trim")
	require.NotEmpty(t, es, "entries after the trim")
}

// partEvent returns a valid event of key, numbered n.
func partEvent(key string, n int) canonical.Event {
	return canonical.Event{ID: key + "-" + strconv.Itoa(n), Source: "/eventlog/test", SpecVersion: canonical.EventSpecVersion,
		Type: "dev.distsync.eventlog.test.v1", Subject: key, Data: json.RawMessage(`{"n":` + strconv.Itoa(n) + `}`)}
}
