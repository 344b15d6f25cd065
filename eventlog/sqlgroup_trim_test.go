package eventlog_test

// The trim of a partitioned group's log: the cursor of a partition that
// receives no events follows the log, so that TrimEvents over the
// partitions' groups trims through the events handled.

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

// trimParts is the partitions of the groups of the trim tests; their
// events go to partitions 0 and 1 only, 2 and 3 stay quiet.
const trimParts = 4

// busyKeys returns n keys whose events go to partitions 0 and 1 of
// trimParts, and none to the others.
func busyKeys(t *testing.T, n int) []string {
	t.Helper()
	var keys []string
	for i := 0; len(keys) < n; i++ {
		require.Less(t, i, 10000, "keys of partitions 0 and 1")
		k := fmt.Sprintf("order-%d", i)
		if eventlog.PartitionOf(k, trimParts) <= 1 {
			keys = append(keys, k)
		}
	}
	return keys
}

// trimDBs returns the databases of the trim tests: a new SQLite file and
// PostgreSQL, each with tables of its own.
func trimDBs(t *testing.T) map[string]func(t *testing.T) groupDB {
	return map[string]func(t *testing.T) groupDB{
		"sqlite": func(t *testing.T) groupDB {
			return groupDB{dialect: eventlog.SQLite, path: filepath.Join(t.TempDir(), "events.db")}.withPrefix(t)
		},
		"postgres": func(t *testing.T) groupDB {
			return groupDB{dialect: eventlog.Postgres, url: postgresURL(t)}.withPrefix(t)
		},
	}
}

// startTrimGroup runs one member of the group "orders" (trimParts
// partitions, polling every 10ms, handlers cancelled a second into a
// drain) with handler h until the end of the
// test, and waits until it owns every partition.
func startTrimGroup(t *testing.T, s *eventlog.SQL, h eventlog.Handler, renew time.Duration) *eventlog.Group {
	t.Helper()
	g, err := s.NewGroup(eventlog.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: h,
		PollInterval: 10 * time.Millisecond, DrainTimeout: time.Second, Logger: groupLogger("m")},
		Partitions: trimParts, Member: "m", LeaseTTL: 3 * renew, Renew: renew})
	require.NoError(t, err, "NewGroup")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	require.Eventually(t, func() bool { return len(g.Owned()) == trimParts }, 10*time.Second, 5*time.Millisecond,
		"the lone member owns every partition")
	return g
}

// appendKeys appends the events numbered n of keys and returns the offset
// of the last one.
func appendKeys(t *testing.T, s *eventlog.SQL, keys []string, n int) uint64 {
	t.Helper()
	ctx := t.Context()
	var evs []canonical.Event
	for _, k := range keys {
		evs = append(evs, eventlogtest.Event(k, n))
	}
	require.NoError(t, s.Append(ctx, evs...), "Append round %d", n)
	from, err := s.TrimEvents(ctx) // no groups: the trim mark
	require.NoError(t, err, "TrimEvents without groups")
	entries, err := s.Read(ctx, from, 1<<20)
	require.NoError(t, err, "Read the log")
	return entries[len(entries)-1].Offset
}

// cursorOf returns the committed cursor of group.
func cursorOf(t *testing.T, s *eventlog.SQL, group string) uint64 {
	t.Helper()
	st, err := s.Group(t.Context(), group)
	require.NoError(t, err, "Group %s", group)
	return st.Cursor
}

// waitTrimmed waits until TrimEvents over the groups of g trims through
// want (it trims as far as it may at each try), failing the test after
// ten seconds.
func waitTrimmed(t *testing.T, s *eventlog.SQL, g *eventlog.Group, want uint64, when string) {
	t.Helper()
	var through uint64
	require.Eventually(t, func() bool {
		var err error
		through, err = s.TrimEvents(t.Context(), g.ConsumerGroups()...)
		require.NoError(t, err, "TrimEvents %s", when)
		return through == want
	}, 10*time.Second, 10*time.Millisecond, "TrimEvents over %v trims through %d %s", g.ConsumerGroups(), want, when)
}

// TestGroupTrimQuietPartitions: events go to two of four partitions
// only; once they are handled, TrimEvents over the four partitions'
// groups trims through them (all but the last event, which a trim keeps),
// the quiet partitions' cursors having followed the log.
func TestGroupTrimQuietPartitions(t *testing.T) {
	for name, open := range trimDBs(t) {
		t.Run(name, func(t *testing.T) {
			d := open(t)
			s := newSQL(t, d.open(t, "m"), d.dialect, d.prefix)
			chk := eventlogtest.NewKeyChecker(0)
			g := startTrimGroup(t, s, chk.Handle, eventlogtest.GroupRenew)
			keys := busyKeys(t, 6)
			var last uint64
			for n := 1; n <= 3; n++ {
				last = appendKeys(t, s, keys, n)
			}
			require.NoError(t, g.WaitIdle(t.Context()), "WaitIdle")
			waitTrimmed(t, s, g, last-1, "(the log but its last event)")
			for n := 2; n < trimParts; n++ {
				assert.GreaterOrEqual(t, cursorOf(t, s, eventlog.PartitionGroup("orders", n)), last-1,
					"the cursor of quiet partition %d follows the log", n)
			}
			// The group goes on after the trim.
			last = appendKeys(t, s, keys, 4)
			require.NoError(t, g.WaitIdle(t.Context()), "WaitIdle after the trim")
			handled, violations := chk.State()
			assert.Empty(t, violations, "no key handled out of order")
			assert.Equal(t, 4*len(keys), handled, "every event handled once")
			waitTrimmed(t, s, g, last-1, "after more events")
		})
	}
}

// TestGroupTrimHeldByUnhandled: an event of a partition whose handler has
// not returned holds the trim at the event before it, while the other
// partitions, quiet ones included, move past it; once it is handled, the
// trim goes on.
func TestGroupTrimHeldByUnhandled(t *testing.T) {
	for name, open := range trimDBs(t) {
		t.Run(name, func(t *testing.T) {
			d := open(t)
			s := newSQL(t, d.open(t, "m"), d.dialect, d.prefix)
			keys := busyKeys(t, 6)
			held := keys[0]
			release, started := make(chan struct{}), make(chan struct{}, 1)
			h := func(ctx context.Context, ev canonical.Event) error {
				if ev.ID == eventlogtest.Event(held, 2).ID {
					started <- struct{}{}
					select {
					case <-release:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return nil
			}
			g := startTrimGroup(t, s, h, eventlogtest.GroupRenew)
			appendKeys(t, s, keys, 1)
			heldAt := appendKeys(t, s, keys[:1], 2) // the held event
			var last uint64
			for n := 3; n <= 5; n++ {
				last = appendKeys(t, s, keys[1:], n)
			}
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Fatal("the held event's handler did not start")
			}
			heldGroup := eventlog.PartitionGroup("orders", eventlog.PartitionOf(held, trimParts))
			require.Eventually(t, func() bool {
				for _, grp := range g.ConsumerGroups() {
					if grp != heldGroup && cursorOf(t, s, grp) < last {
						return false
					}
				}
				return true
			}, 10*time.Second, 10*time.Millisecond, "every partition but %s commits through %d", heldGroup, last)
			through, err := s.TrimEvents(t.Context(), g.ConsumerGroups()...)
			require.NoError(t, err, "TrimEvents")
			assert.Equal(t, heldAt-1, through, "the trim stops before the event not handled, at %d", heldAt)
			// Once the quiet partitions followed more events of the
			// others (polls later), the held partition's cursor still
			// has not passed it.
			last = appendKeys(t, s, keys[1:], 6)
			require.Eventually(t, func() bool {
				return cursorOf(t, s, eventlog.PartitionGroup("orders", 2)) == last && cursorOf(t, s, eventlog.PartitionGroup("orders", 3)) == last
			}, 10*time.Second, 10*time.Millisecond, "the quiet partitions follow the log to %d", last)
			assert.Equal(t, heldAt-1, cursorOf(t, s, heldGroup), "the cursor of %s stays before the event not handled", heldGroup)
			through, err = s.TrimEvents(t.Context(), g.ConsumerGroups()...)
			require.NoError(t, err, "TrimEvents")
			assert.Equal(t, heldAt-1, through, "the trim still stops before the event not handled")
			close(release)
			require.NoError(t, g.WaitIdle(t.Context()), "WaitIdle once the event is handled")
			waitTrimmed(t, s, g, last-1, "once the event is handled")
		})
	}
}

// TestGroupTrimFencedQuietPartition: a member whose quiet partition was
// claimed by another run (a new epoch) does not move that partition's
// cursor as the log grows: its commit is refused and its consumer stops.
func TestGroupTrimFencedQuietPartition(t *testing.T) {
	for name, open := range trimDBs(t) {
		t.Run(name, func(t *testing.T) {
			d := open(t)
			s := newSQL(t, d.open(t, "m"), d.dialect, d.prefix)
			chk := eventlogtest.NewKeyChecker(0)
			// A long Renew: the member takes the partition back only
			// at its next renewal, seconds after the fence.
			g := startTrimGroup(t, s, chk.Handle, 4*time.Second)
			keys := busyKeys(t, 6)
			first := appendKeys(t, s, keys, 1)
			quiet := eventlog.PartitionGroup("orders", 2)
			require.Eventually(t, func() bool { return cursorOf(t, s, quiet) == first }, 10*time.Second, 5*time.Millisecond,
				"the cursor of quiet partition 2 follows the log to %d", first)
			_, err := s.Claim(t.Context(), quiet)
			require.NoError(t, err, "Claim %s: the member's run is stale", quiet)
			appendKeys(t, s, keys, 2)
			require.Eventually(t, func() bool { return !slices.Contains(g.Owned(), 2) }, 3*time.Second, time.Millisecond,
				"the fenced consumer of partition 2 stops at its refused commit")
			assert.Equal(t, first, cursorOf(t, s, quiet), "the fenced run did not move the cursor of %s", quiet)
		})
	}
}
