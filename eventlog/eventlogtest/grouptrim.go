package eventlogtest

// This file owns the group kit's checks of trimming a partitioned
// group's log: the cursor of a partition that receives no events follows
// the log, so that TrimEvents over the partitions' groups trims through
// the events handled.

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/internal/kit"
)

// trimParts is the partitions of the stores of the trim checks; their
// events go to partitions 0 and 1 only, 2 and 3 stay quiet.
const trimParts = 4

// trimGroup is the one member of the group "orders" a trim check runs,
// with the log it appends to and trims.
type trimGroup struct {
	t kit.T
	*running
	p eventlog.Pruner
}

// startTrimGroup runs one member of the group "orders" of a new store
// (polling every 10ms, handlers cancelled a second into a drain, renewing
// every renew) with handler h until the end of the check, and waits
// until it owns every partition. It skips the check when the store's
// Backend is no [eventlog.Pruner].
func startTrimGroup(t kit.T, newStore func(t *testing.T, partitions int) GroupStore, h eventlog.Handler, renew time.Duration) *trimGroup {
	t.Helper()
	st := newStore(kit.Testing(t), trimParts)
	conn := st.Open(kit.Testing(t), "m")
	p := pruner(t, conn.Backend)
	g, err := conn.NewGroup(GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: h,
		PollInterval: 10 * time.Millisecond, DrainTimeout: time.Second},
		Member: "m", LeaseTTL: max(GroupLeaseTTL, 3*renew), Renew: renew})
	require.NoError(t, err, "NewGroup")
	ctx, cancel := context.WithCancel(context.Background())
	m := &running{name: "m", conn: conn, g: g, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- g.Run(ctx) }()
	t.Cleanup(m.stop)
	require.Eventually(t, func() bool { return len(g.Owned()) == trimParts }, 10*time.Second, 5*time.Millisecond,
		"the lone member owns every partition")
	return &trimGroup{t: t, running: m, p: p}
}

// busyKeys returns n keys whose events go to partitions 0 and 1 of
// trimParts, and none to the others.
func busyKeys(t kit.T, n int) []string {
	t.Helper()
	var keys []string
	for i := 0; len(keys) < n; i++ {
		require.Less(t, i, 10000, "keys of partitions 0 and 1")
		if k := "order-" + strconv.Itoa(i); eventlog.PartitionOf(k, trimParts) <= 1 {
			keys = append(keys, k)
		}
	}
	return keys
}

// append appends the events numbered n of keys and returns the offset
// of the log's last event.
func (g *trimGroup) append(keys []string, n int) uint64 {
	t := g.t
	t.Helper()
	var evs []canonical.Event
	for _, k := range keys {
		evs = append(evs, Event(k, n))
	}
	require.NoError(t, g.conn.Backend.Append(t.Context(), evs...), "Append round %d", n)
	from, err := g.p.TrimEvents(t.Context()) // no groups: the trim mark
	require.NoError(t, err, "TrimEvents without groups")
	entries, err := g.conn.Backend.Read(t.Context(), from, 1<<20)
	require.NoError(t, err, "Read the log")
	require.NotEmpty(t, entries, "the log after round %d", n)
	return entries[len(entries)-1].Offset
}

// cursor returns the committed cursor of group.
func (g *trimGroup) cursor(group string) uint64 {
	g.t.Helper()
	st, err := g.conn.Backend.Group(g.t.Context(), group)
	require.NoError(g.t, err, "Group %s", group)
	return st.Cursor
}

// trim trims the log over the partitions' groups and returns the offset
// it trimmed through.
func (g *trimGroup) trim() uint64 {
	g.t.Helper()
	through, err := g.p.TrimEvents(g.t.Context(), g.g.ConsumerGroups()...)
	require.NoError(g.t, err, "TrimEvents over %v", g.g.ConsumerGroups())
	return through
}

// waitTrimmed waits until TrimEvents over the partitions' groups trims
// through want (it trims as far as it may at each try), failing the
// check after ten seconds.
func (g *trimGroup) waitTrimmed(want uint64, when string) {
	g.t.Helper()
	var through uint64
	require.Eventually(g.t, func() bool { through = g.trim(); return through == want }, 10*time.Second, 10*time.Millisecond,
		"TrimEvents over %v trims through %d %s", g.g.ConsumerGroups(), want, when)
}

func testGroupTrimsQuietPartitions(t kit.T, newStore func(t *testing.T, partitions int) GroupStore) {
	chk := NewKeyChecker(0)
	g := startTrimGroup(t, newStore, chk.Handle, GroupRenew)
	keys := busyKeys(t, 6)
	var last uint64
	for n := 1; n <= 3; n++ {
		last = g.append(keys, n)
	}
	require.NoError(t, g.g.WaitIdle(t.Context()), "WaitIdle")
	g.waitTrimmed(last-1, "(the log but its last event)")
	for n := 2; n < trimParts; n++ {
		assert.GreaterOrEqual(t, g.cursor(eventlog.PartitionGroup("orders", n)), last-1,
			"the cursor of quiet partition %d follows the log", n)
	}
	// The group goes on after the trim.
	last = g.append(keys, 4)
	require.NoError(t, g.g.WaitIdle(t.Context()), "WaitIdle after the trim")
	handled, violations := chk.State()
	assert.Empty(t, violations, "no key handled out of order")
	assert.Equal(t, 4*len(keys), handled, "every event handled once")
	g.waitTrimmed(last-1, "after more events")
}

func testGroupTrimHeldByUnhandled(t kit.T, newStore func(t *testing.T, partitions int) GroupStore) {
	keys := busyKeys(t, 6)
	held := keys[0]
	release, started := make(chan struct{}), make(chan struct{}, 1)
	h := func(ctx context.Context, ev canonical.Event) error {
		if ev.ID == Event(held, 2).ID {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	g := startTrimGroup(t, newStore, h, GroupRenew)
	g.append(keys, 1)
	heldAt := g.append(keys[:1], 2) // the held event
	var last uint64
	for n := 3; n <= 5; n++ {
		last = g.append(keys[1:], n)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatalf("the held event's handler did not start")
	}
	heldGroup := eventlog.PartitionGroup("orders", eventlog.PartitionOf(held, trimParts))
	require.Eventually(t, func() bool {
		for _, grp := range g.g.ConsumerGroups() {
			if grp != heldGroup && g.cursor(grp) < last {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "every partition but %s commits through %d", heldGroup, last)
	assert.Equal(t, heldAt-1, g.trim(), "the trim stops before the event not handled, at %d", heldAt)
	// Once the quiet partitions followed more events of the others
	// (polls later), the held partition's cursor still has not passed
	// it.
	last = g.append(keys[1:], 6)
	require.Eventually(t, func() bool {
		return g.cursor(eventlog.PartitionGroup("orders", 2)) == last && g.cursor(eventlog.PartitionGroup("orders", 3)) == last
	}, 10*time.Second, 10*time.Millisecond, "the quiet partitions follow the log to %d", last)
	assert.Equal(t, heldAt-1, g.cursor(heldGroup), "the cursor of %s stays before the event not handled", heldGroup)
	assert.Equal(t, heldAt-1, g.trim(), "the trim still stops before the event not handled")
	close(release)
	require.NoError(t, g.g.WaitIdle(t.Context()), "WaitIdle once the event is handled")
	g.waitTrimmed(last-1, "once the event is handled")
}

func testGroupTrimFencedQuietPartition(t kit.T, newStore func(t *testing.T, partitions int) GroupStore) {
	chk := NewKeyChecker(0)
	// A long Renew: the member takes the partition back only at its next
	// renewal, seconds after the fence.
	g := startTrimGroup(t, newStore, chk.Handle, 4*time.Second)
	keys := busyKeys(t, 6)
	first := g.append(keys, 1)
	quiet := eventlog.PartitionGroup("orders", 2)
	require.Eventually(t, func() bool { return g.cursor(quiet) == first }, 10*time.Second, 5*time.Millisecond,
		"the cursor of quiet partition 2 follows the log to %d", first)
	_, err := g.conn.Backend.Claim(t.Context(), quiet)
	require.NoError(t, err, "Claim %s: the member's run is stale", quiet)
	g.append(keys, 2)
	require.Eventually(t, func() bool { return !slices.Contains(g.g.Owned(), 2) }, 3*time.Second, time.Millisecond,
		"the fenced consumer of partition 2 stops at its refused commit")
	assert.Equal(t, first, g.cursor(quiet), "the fenced run did not move the cursor of %s", quiet)
}
