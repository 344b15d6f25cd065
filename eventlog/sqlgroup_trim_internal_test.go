package eventlog

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/internal/sqlspy"
)

// TestGroupQuietCursorCadence runs a member of a group of four partitions
// over SQLite in a synctest bubble, every event in partition 0, and counts
// the cursor commits: the quiet partitions' cursors follow the log, are
// not written at the polls of an idle log, and while the log grows each
// is written at most once per PollInterval, not at every read.
func TestGroupQuietCursorCadence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			parts = 4
			poll  = 100 * time.Millisecond
		)
		var writes atomic.Int64
		spy := &sqlspy.Spy{OnStmt: func(q string) {
			if strings.Contains(q, "cursors (grp, cur)") {
				writes.Add(1)
			}
		}}
		db, _ := openSpied(t, SQLite, spy, "")
		s, err := NewSQL(db, SQLConfig{Dialect: SQLite})
		require.NoError(t, err, "NewSQL")
		require.NoError(t, s.Migrate(context.Background()), "Migrate")
		g, err := s.NewGroup(GroupConfig{Consumer: ConsumerConfig{Group: "orders", PollInterval: poll,
			Handler: func(context.Context, canonical.Event) error { return nil }}, Partitions: parts, Member: "m"})
		require.NoError(t, err, "NewGroup")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		defer func() { cancel(); <-done }()
		time.Sleep(10 * time.Millisecond)
		require.Len(t, g.Owned(), parts, "the lone member owns every partition")

		var key string
		for i := 0; key == ""; i++ {
			if k := fmt.Sprintf("order-%d", i); PartitionOf(k, parts) == 0 {
				key = k
			}
		}
		n, last := 0, uint64(0)
		appendOne := func() {
			n++
			require.NoError(t, s.Append(context.Background(), partEvent(key, n)), "Append event %d", n)
			last++
		}
		quietAt := func(want uint64, when string) {
			t.Helper()
			for p := 1; p < parts; p++ {
				st, err := s.Group(context.Background(), PartitionGroup("orders", p))
				require.NoError(t, err, "Group of partition %d", p)
				assert.Equal(t, want, st.Cursor, "the cursor of quiet partition %d %s", p, when)
			}
		}
		for range 10 {
			appendOne()
		}
		time.Sleep(2 * poll)
		quietAt(last, "follows the log")

		idle := writes.Load()
		time.Sleep(20 * poll)
		assert.Equal(t, idle, writes.Load(), "no cursor is written at the 20 polls of an idle log")

		before := writes.Load()
		const events, gap = 100, 10 * time.Millisecond
		for range events {
			appendOne()
			time.Sleep(gap)
		}
		time.Sleep(2 * poll)
		quietAt(last, "follows the growing log")
		// Partition 0 commits at most once per event; each quiet one at
		// most once per poll of the 1.2 s (one read per append would be
		// 100 each).
		polls := int64((events*gap+2*poll)/poll) + 1
		got := writes.Load() - before
		assert.LessOrEqual(t, got, int64(events)+(parts-1)*polls,
			"cursor commits while %d events were appended over %v: partition 0's and at most one per poll of each quiet partition", events, events*gap)
		t.Logf("%d cursor commits for %d events over %v", got, events, events*gap)
	})
}
