package eventlogtest

// This file owns the kit of partitioned consumer groups: RunGroups, what
// a backend hands it (GroupStore, GroupConn, GroupMember), its checks,
// and KeyChecker, the handler that detects a key handled twice at once or
// out of order.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/kit"
	"github.com/distsync/distsync/retry"
)

// GroupMember is one member of a partitioned consumer group, as the
// group kit drives it: *eventlog.Group and the eventlog/jetstream
// package's *Group are.
type GroupMember interface {
	// Run runs the member until ctx is done.
	Run(ctx context.Context) error
	// Owned returns the partitions the member owns now, in increasing
	// order.
	Owned() []int
	// WaitIdle waits until the whole group is idle, whichever members
	// run it.
	WaitIdle(ctx context.Context) error
	// ConsumerGroups returns the consumer groups of the partitions,
	// [eventlog.PartitionGroup](group, n) for each n.
	ConsumerGroups() []string
}

// GroupConfig is the configuration of a member the kit asks
// [GroupConn.NewGroup] for; the backend maps it onto its own group
// configuration, with the store's number of partitions. It is a plain
// value.
type GroupConfig struct {
	// Consumer configures the consumer of each partition;
	// Consumer.Group names the group. Its Dedupe is GroupConn.Dedupe.
	Consumer eventlog.ConsumerConfig
	// Member names the member.
	Member string
	// LeaseTTL and Renew are the member's lease: zero means the
	// backend's defaults.
	LeaseTTL, Renew time.Duration
}

// GroupConn is what one process opened of a shared store: its own
// connections (an *sql.DB, a NATS connection), as [GroupStore.Open]
// returns it. Backend, NewGroup and Cut are required.
type GroupConn struct {
	// Backend is the log over these connections: the kit appends with
	// it, and checks fencing and dead letters with it.
	Backend eventlog.Backend
	// Dedupe is a dedupe store over these connections, shared through
	// the store by every member (nil: none).
	Dedupe idempotency.Store
	// NewGroup returns a member over these connections; it does not run
	// it.
	NewGroup func(cfg GroupConfig) (GroupMember, error)
	// Cut closes these connections while a member runs over them, as a
	// crash or a network partition would: from then on nothing the
	// member does reaches the store, and it releases nothing.
	Cut func()
}

// GroupStore is a fresh, empty store of partitioned groups, as the
// newStore function of [RunGroups] returns it. Open is required.
type GroupStore struct {
	// Open opens the store anew as the process called name would: every
	// call returns connections of their own. It registers their closing
	// with t.Cleanup.
	Open func(t *testing.T, name string) GroupConn
	// Takeover is how long after a member crashed the others own its
	// partitions at the latest: the backend's documented bound with the
	// members' lease ([GroupLeaseTTL], [GroupRenew]), plus any slack it
	// allows a loaded machine.
	Takeover time.Duration
	// Disrupt names further ways of disturbing a member while it runs
	// (ending its database sessions, say): the check Members runs each
	// on the first of two members, which goes on running.
	Disrupt map[string]func(t *testing.T, member string)
}

// The lease of the members the group kit runs: short, since the leases
// run in real time.
const (
	GroupLeaseTTL = 2 * time.Second
	GroupRenew    = 250 * time.Millisecond
)

// RunGroups runs the checks of partitioned consumer groups against the
// stores newStore creates, each check as a subtest of t named for its
// contract; a failure quotes the contract sentence it broke. newStore
// creates a fresh, empty store whose groups have partitions partitions
// and registers any cleanup with t.Cleanup; the check Members calls it
// once more, without opening the store, to learn GroupStore.Disrupt.
//
// The checks: members leaving (stopped), crashing (their connections cut
// first, so that they release nothing) or disturbed as
// GroupStore.Disrupt says, with two and three members, and a member
// joining mid-run: every event handled, in order per key, no key by two
// members at once, the partitions balanced (each owned once, no member
// over its share) and a crashed member's taken over within
// GroupStore.Takeover; a partition's former owner's cursor commit,
// retry state and dead letter refused with [eventlog.ErrFenced] once a
// member took it over, nothing written; and WaitIdle of a member that
// does not run: idle on an empty log, not idle while no member consumes,
// idle only once every event, every event a handler appended and every
// retry is handled, and not idle while a replayed dead letter waits; and,
// when the Backend is an [eventlog.Pruner], TrimEvents over the
// partitions' consumer groups trims through the events handled (but the
// log's last) while some partitions receive none, an event not handled
// holds it, and a stale run moves no quiet partition's cursor.
func RunGroups(t *testing.T, newStore func(t *testing.T, partitions int) GroupStore) {
	for _, c := range groupChecks {
		t.Run(c.name, func(t *testing.T) {
			c.fn(kit.Contract(t, c.contract), newStore)
		})
	}
}

// groupChecks are the checks of RunGroups, in the order they run.
var groupChecks = []struct {
	name, contract string
	fn             func(t kit.T, newStore func(t *testing.T, partitions int) GroupStore)
}{
	{"Members", "Members leave, crash and join while every event is handled in order per key, no key by two members at once, and a crashed member's partitions are taken over within the bound.", testGroupMembers},
	{"FencesStaleOwner", "Once a member took a partition over, its former owner's cursor commit, retry state and dead letter are refused with ErrFenced and write nothing.", testGroupFencesStaleOwner},
	{"WaitIdle", "WaitIdle of a group returns once every partition handled its events, the events handlers appended, the retries and the replays, whichever members run them.", testGroupWaitIdle},
	{"TrimsQuietPartitions", "Once a group handled its events, TrimEvents over its partitions' consumer groups trims through them (but the log's last), partitions that received no events included, and the group goes on after the trim.", testGroupTrimsQuietPartitions},
	{"TrimHeldByUnhandled", "An event whose handler has not returned holds TrimEvents over the partitions' groups before it, while the other partitions, quiet ones included, move past it; once it is handled, the trim goes on.", testGroupTrimHeldByUnhandled},
	{"TrimFencedQuietPartition", "The stale run of a quiet partition, another run having claimed its group, does not move its cursor as the log grows: its commit is refused and its consumer stops.", testGroupTrimFencedQuietPartition},
}

// running is a member the kit runs.
type running struct {
	name   string
	conn   GroupConn
	g      GroupMember
	cancel context.CancelFunc
	done   chan error
}

// startGroupMember opens the store as process name and runs a member of
// the group "orders" there, handling with h.
func startGroupMember(t kit.T, st GroupStore, name string, h eventlog.Handler) *running {
	t.Helper()
	conn := st.Open(kit.Testing(t), name)
	g, err := conn.NewGroup(GroupConfig{
		Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: h, Dedupe: conn.Dedupe, Lease: 2 * time.Second,
			PollInterval: 50 * time.Millisecond, DrainTimeout: 5 * time.Second,
			Policy: eventlog.ErrorPolicy{MaxAttempts: 1000}},
		Member: name, LeaseTTL: GroupLeaseTTL, Renew: GroupRenew,
	})
	require.NoError(t, err, "NewGroup for %s", name)
	ctx, cancel := context.WithCancel(context.Background())
	m := &running{name: name, conn: conn, g: g, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- g.Run(ctx) }()
	t.Cleanup(m.stop)
	return m
}

// stop stops the member as a leaving process does.
func (m *running) stop() {
	if m.cancel != nil {
		m.cancel()
		<-m.done
		m.cancel = nil
	}
}

// crash cuts the member's connections first, so that it releases
// nothing, then stops it.
func (m *running) crash() {
	m.conn.Cut()
	m.stop()
}

// waitBalanced waits until members own every partition between them,
// none owned twice, each at most ceil(P/len(members)), and returns how
// long it took.
func waitBalanced(t kit.T, parts int, members []*running, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	limit := (parts + len(members) - 1) / len(members)
	var last string
	for time.Since(start) < within {
		owner := map[int]string{}
		ok := true
		for _, m := range members {
			own := m.g.Owned()
			if len(own) > limit {
				ok = false
			}
			for _, n := range own {
				if _, dup := owner[n]; dup {
					ok = false
				}
				owner[n] = m.name
			}
		}
		last = fmt.Sprint(owner)
		if ok && len(owner) == parts {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond) // the members' leases run in real time
	}
	t.Fatalf("partitions not balanced over %d members within %v; last owners %s", len(members), within, last)
	return 0
}

func testGroupMembers(t kit.T, newStore func(t *testing.T, partitions int) GroupStore) {
	const (
		parts  = 8
		keys   = 24
		perKey = 20
	)
	type how struct {
		name    string
		members int
	}
	var hows []how
	for _, n := range []int{2, 3} {
		hows = append(hows, how{"leave", n}, how{"crash", n})
	}
	// The disruptions are the store's: a store, not opened, names them.
	disrupts := newStore(kit.Testing(t), parts).Disrupt
	for _, name := range slices.Sorted(maps.Keys(disrupts)) {
		hows = append(hows, how{name, 2})
	}
	for _, tt := range hows {
		kit.Sub(t, fmt.Sprintf("%s members=%d", tt.name, tt.members), func(t kit.T) {
			st := newStore(kit.Testing(t), parts)
			appender := st.Open(kit.Testing(t), "appender").Backend
			chk := NewKeyChecker(keys * perKey)
			var ms []*running
			for j := range tt.members {
				ms = append(ms, startGroupMember(t, st, "m"+strconv.Itoa(j), chk.Handle))
			}
			took := waitBalanced(t, parts, ms, 20*time.Second)
			t.Logf("balanced over %d members in %v", tt.members, took)
			appendRange := func(from, to int) error {
				for n := from; n <= to; n++ {
					var evs []canonical.Event
					for k := range keys {
						evs = append(evs, Event(fmt.Sprintf("k%02d", k), n))
					}
					if err := appender.Append(context.Background(), evs...); err != nil {
						return fmt.Errorf("append round %d: %w", n, err)
					}
				}
				return nil
			}
			require.NoError(t, appendRange(1, perKey/2), "Append the first half")
			for { // events in flight before member 0 goes
				if n, _ := chk.State(); n >= keys*perKey/4 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			appended := make(chan error, 1)
			rest := ms[1:]
			switch tt.name {
			case "leave", "crash":
				t0 := time.Now()
				if tt.name == "crash" {
					ms[0].crash()
				} else {
					ms[0].stop()
				}
				go func() { appended <- appendRange(perKey/2+1, perKey) }()
				waitBalanced(t, parts, rest, st.Takeover+5*time.Second)
				took = time.Since(t0)
				t.Logf("partitions taken over %v after the member was stopped (%s)", took, tt.name)
				assert.LessOrEqual(t, took, st.Takeover, "takeover within the bound")
			default:
				go func() { appended <- appendRange(perKey/2+1, perKey) }()
				st.Disrupt[tt.name](kit.Testing(t), ms[0].name)
				rest = ms
			}
			// A member joining mid-run gets its share (20s: a join waits
			// for the others to drain their surplus, slow under -race on
			// a loaded machine; no bound is claimed beyond Renew + drain).
			late := startGroupMember(t, st, "late", chk.Handle)
			took = waitBalanced(t, parts, append(rest, late), 20*time.Second)
			t.Logf("a joining member got its share in %v", took)
			require.NoError(t, <-appended, "Append the second half")
			select {
			case <-chk.All():
			case <-time.After(30 * time.Second):
			}
			handled, violations := chk.State()
			t.Logf("%d events, %d handler calls", keys*perKey, chk.Calls())
			assert.Empty(t, violations, "no key handled twice at once, none out of order")
			assert.Equal(t, keys*perKey, handled, "every event handled")
		})
	}
}

func testGroupFencesStaleOwner(t kit.T, newStore func(t *testing.T, partitions int) GroupStore) {
	const parts = 4
	st := newStore(kit.Testing(t), parts)
	b := st.Open(kit.Testing(t), "stale").Backend
	g := eventlog.PartitionGroup("orders", 0)
	stale, err := b.Claim(t.Context(), g)
	require.NoError(t, err, "Claim as the former owner")
	chk := NewKeyChecker(4)
	m := startGroupMember(t, st, "m", chk.Handle)
	waitBalanced(t, parts, []*running{m}, 10*time.Second)
	var evs []canonical.Event
	for k := 0; len(evs) < 4; k++ {
		if e := Event(fmt.Sprintf("k%d", k), 1); eventlog.PartitionOf(e.Partition(), parts) == 0 {
			evs = append(evs, e)
		}
	}
	require.NoError(t, b.Append(t.Context(), evs...), "Append")
	select {
	case <-chk.All():
	case <-time.After(20 * time.Second):
		t.Fatalf("events of partition 0 not handled")
	}
	var before eventlog.GroupState
	for deadline := time.Now().Add(10 * time.Second); before.Cursor < 4; {
		require.True(t, time.Now().Before(deadline), "the new owner commits its cursor")
		before, err = b.Group(t.Context(), g)
		require.NoError(t, err, "Group")
		time.Sleep(10 * time.Millisecond) // the commit is asynchronous
	}
	require.ErrorIs(t, b.Commit(t.Context(), g, stale, before.Cursor+100), eventlog.ErrFenced, "the stale owner's commit")
	require.ErrorIs(t, b.SaveRetry(t.Context(), g, stale, eventlog.Retry{Offset: before.Cursor + 1, Attempts: 1}),
		eventlog.ErrFenced, "the stale owner's retry state")
	_, err = b.Put(t.Context(), eventlog.DeadLetter{Consumer: g, Epoch: stale, Event: evs[0], Reason: eventlog.ReasonPermanent, Error: "late"})
	require.ErrorIs(t, err, eventlog.ErrFenced, "the stale owner's dead letter")
	after, err := b.Group(t.Context(), g)
	require.NoError(t, err, "Group")
	require.Equal(t, before, after, "the partition's state is unchanged")
	dls, err := b.List(t.Context(), eventlog.Filter{Consumer: g})
	require.NoError(t, err, "List")
	require.Empty(t, dls, "no dead letter of the stale owner")
}

// testGroupWaitIdle waits for a partitioned group from a member over its
// own connections that does not run, as a coordinating process would,
// while two members (each over its own connections) handle the events.
func testGroupWaitIdle(t kit.T, newStore func(t *testing.T, partitions int) GroupStore) {
	const parts, n = 4, 20
	st := newStore(kit.Testing(t), parts)
	conn := st.Open(kit.Testing(t), "watcher")
	ws := conn.Backend
	noop := func(context.Context, canonical.Event) error { return nil }
	watcher, err := conn.NewGroup(GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: noop}})
	require.NoError(t, err, "NewGroup of the watcher")
	assert.Equal(t, []string{"orders/p0", "orders/p1", "orders/p2", "orders/p3"}, watcher.ConsumerGroups(), "one consumer group per partition")

	wait := func(within time.Duration) error {
		ctx, cancel := context.WithTimeout(t.Context(), within)
		defer cancel()
		return watcher.WaitIdle(ctx)
	}
	require.NoError(t, wait(10*time.Second), "an empty log is idle")

	for i := range n {
		require.NoError(t, ws.Append(t.Context(), Event("order-"+strconv.Itoa(i), 1)), "append %d", i)
	}
	require.NoError(t, ws.Append(t.Context(), Event("poison", 1)), "append the poison event")
	err = wait(300 * time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded, "not idle while no member consumes")
	assert.Regexp(t, `partition \d+.*cursor 0, last event \d+`, err.Error(), "WaitIdle's error names the partition it waited for")

	var mu sync.Mutex
	handled := map[string]bool{}
	attempts := map[string]int{}
	replayed := false
	h := func(ctx context.Context, ev canonical.Event) error {
		mu.Lock()
		attempts[ev.ID]++
		first := attempts[ev.ID] == 1
		poisoned := ev.Subject == "poison" && !replayed
		mu.Unlock()
		switch {
		case poisoned:
			return retry.Permanent(errors.New("poison"))
		case first && len(ev.Subject) == len("order-10"): // order-10 to order-19: one failed attempt each
			return errors.New("transient")
		}
		time.Sleep(2 * time.Millisecond) // slow, so that WaitIdle finds work in flight
		if ev.Type != "follow-up" {
			// Under another key, likely another partition: WaitIdle
			// must wait for it too.
			f := Event("next-"+ev.Subject, 1)
			f.Type = "follow-up"
			if err := ws.Append(ctx, f); err != nil {
				return err
			}
		}
		mu.Lock()
		handled[ev.ID] = true
		mu.Unlock()
		return nil
	}
	startGroupMember(t, st, "a", h)
	startGroupMember(t, st, "b", h)

	require.NoError(t, wait(time.Minute), "idle once the members caught up")
	mu.Lock()
	assert.Len(t, handled, 2*n, "every event but the poison one, and every follow-up, handled when WaitIdle returned")
	assert.Equal(t, 2, attempts["order-10-1"], "order-10 was retried once")
	mu.Unlock()
	poisonGroup := eventlog.PartitionGroup("orders", eventlog.PartitionOf("poison", parts))
	dls, err := ws.List(t.Context(), eventlog.Filter{Consumer: poisonGroup})
	require.NoError(t, err, "List the dead letters of %s", poisonGroup)
	require.Len(t, dls, 1, "the poison event is dead-lettered under %s", poisonGroup)
	assert.Equal(t, eventlog.StateDead, dls[0].State, "the poison event's state")

	mu.Lock()
	replayed = true
	mu.Unlock()
	replays, err := ws.Replay(t.Context(), eventlog.Filter{Consumer: poisonGroup}, eventlog.Audit{By: "test"})
	require.NoError(t, err, "Replay")
	require.Equal(t, 1, replays, "one dead letter replayed")
	require.NoError(t, wait(time.Minute), "idle once the replay is done")
	mu.Lock()
	assert.True(t, handled["poison-1"], "the replayed event handled when WaitIdle returned")
	assert.True(t, handled["next-poison-1"], "the replayed event's follow-up handled when WaitIdle returned")
	assert.Len(t, handled, 2*n+2, "every event handled")
	mu.Unlock()
}

// KeyChecker is a handler of the events [Event] makes that detects two
// handlings of one key at once and an event of a key handled before the
// previous one of its key was, and counts the events handled. Create it
// with [NewKeyChecker]; the zero value is not usable. It is safe for
// concurrent use.
type KeyChecker struct {
	mu         sync.Mutex
	active     map[string]int
	done       map[string]int // the highest n of each key handled in order
	handled    map[string]bool
	calls      int
	violations []string
	want       int
	all        chan struct{} // closed once every event was handled
	closed     bool
}

// NewKeyChecker returns a KeyChecker that expects want events.
func NewKeyChecker(want int) *KeyChecker {
	return &KeyChecker{active: map[string]int{}, done: map[string]int{}, handled: map[string]bool{}, want: want, all: make(chan struct{})}
}

// Handle is the handler: it records the event, works for about a
// millisecond (so that events are in flight when members change) and
// returns context.Cause(ctx) when ctx ends meanwhile, nil otherwise.
func (c *KeyChecker) Handle(ctx context.Context, ev canonical.Event) error {
	var d struct{ N int }
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return err
	}
	key := ev.Partition()
	c.mu.Lock()
	c.calls++
	c.active[key]++
	if c.active[key] > 1 {
		c.violations = append(c.violations, fmt.Sprintf("key %s handled twice at once (event %d)", key, d.N))
	}
	if d.N > c.done[key]+1 {
		c.violations = append(c.violations, fmt.Sprintf("key %s: event %d handled before event %d", key, d.N, c.done[key]+1))
	}
	c.mu.Unlock()
	select { // some work, so that events are in flight when members change
	case <-time.After(time.Millisecond):
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active[key]--
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if d.N == c.done[key]+1 {
		c.done[key] = d.N
	}
	c.handled[ev.ID] = true
	if len(c.handled) == c.want && !c.closed {
		close(c.all)
		c.closed = true
	}
	return nil
}

// State returns how many distinct events were handled and what went
// wrong: each key handled twice at once, each event handled before the
// previous one of its key.
func (c *KeyChecker) State() (handled int, violations []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.handled), append([]string(nil), c.violations...)
}

// Calls returns how often Handle was called.
func (c *KeyChecker) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// All returns a channel closed once the expected number of distinct
// events was handled.
func (c *KeyChecker) All() <-chan struct{} { return c.all }
