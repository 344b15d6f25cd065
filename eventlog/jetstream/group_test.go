package jetstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
)

func TestGroupConfigValidate(t *testing.T) {
	h := func(context.Context, canonical.Event) error { return nil }
	c := eventlog.ConsumerConfig{Group: "g", Handler: h}
	tests := []struct {
		name string
		cfg  jetstream.GroupConfig
		ok   bool
	}{
		{"defaults", jetstream.GroupConfig{Consumer: c}, true},
		{"short lease", jetstream.GroupConfig{Consumer: c, LeaseTTL: time.Second, Renew: 200 * time.Millisecond}, true},
		{"no handler", jetstream.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "g"}}, false},
		{"lease below 1s", jetstream.GroupConfig{Consumer: c, LeaseTTL: 500 * time.Millisecond}, false},
		{"renew not below half the lease", jetstream.GroupConfig{Consumer: c, LeaseTTL: 2 * time.Second, Renew: time.Second}, false},
		{"negative renew", jetstream.GroupConfig{Consumer: c, Renew: -1}, false},
		{"group too long for the partition suffix", jetstream.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: strings.Repeat("g", 196), Handler: h}}, false},
		{"member too long", jetstream.GroupConfig{Consumer: c, Member: strings.Repeat("m", 201)}, false},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.ok {
			assert.NoError(t, err, "Validate of %s", tt.name)
		} else {
			assert.ErrorIs(t, err, eventlog.ErrInvalidConfig, "Validate of %s", tt.name)
		}
	}
}

func TestPartitionOf(t *testing.T) {
	srv := natstest.Start(t)
	b, _ := openFresh(t, srv)
	require.Equal(t, jetstream.DefaultPartitions, b.Partitions(), "default partitions")
	seen := map[int]bool{}
	for i := range 200 {
		n := b.PartitionOf(fmt.Sprintf("order-%d", i))
		require.True(t, n >= 0 && n < b.Partitions(), "partition %d of order-%d in range", n, i)
		require.Equal(t, n, b.PartitionOf(fmt.Sprintf("order-%d", i)), "PartitionOf is deterministic")
		seen[n] = true
	}
	require.Len(t, seen, b.Partitions(), "200 keys reach every partition")
}

// checker is a handler that detects two handlers of one key at once and
// a key's event handled before the previous one of its key was.
type checker struct {
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

func newChecker(want int) *checker {
	return &checker{active: map[string]int{}, done: map[string]int{}, handled: map[string]bool{}, want: want, all: make(chan struct{})}
}

func (c *checker) handle(ctx context.Context, ev canonical.Event) error {
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

func (c *checker) state() (handled int, violations []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.handled), append([]string(nil), c.violations...)
}

// The lease of the test members: short, since KV keys expire in real
// time.
const (
	leaseTTL = 2 * time.Second
	renew    = 250 * time.Millisecond
)

// debugLogger logs to stderr when DISTSYNC_TEST_DEBUG is set.
func debugLogger(name string) *slog.Logger {
	if os.Getenv("DISTSYNC_TEST_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("member", name)
}

// member is one member of a group over its own connections, as a process
// would be.
type member struct {
	b      *jetstream.Backend
	idem   *jetstream.IdempotencyStore
	g      *jetstream.Group
	cancel context.CancelFunc
	done   chan error
}

func startMember(t *testing.T, cfg jetstream.Config, idemBucket string, name string, h eventlog.Handler) *member {
	t.Helper()
	b, err := jetstream.Open(t.Context(), cfg)
	require.NoError(t, err, "Open for %s", name)
	idem, err := jetstream.NewIdempotencyStore(t.Context(), jetstream.IdempotencyConfig{URL: cfg.URL, Bucket: idemBucket, Replicas: cfg.Replicas})
	require.NoError(t, err, "NewIdempotencyStore for %s", name)
	g, err := b.NewGroup(jetstream.GroupConfig{
		Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: h, Dedupe: idem, Lease: 2 * time.Second,
			PollInterval: 20 * time.Millisecond, DrainTimeout: 5 * time.Second,
			Policy: eventlog.ErrorPolicy{MaxAttempts: 1000}, Logger: debugLogger(name)},
		Member: name, LeaseTTL: leaseTTL, Renew: renew,
	})
	require.NoError(t, err, "NewGroup for %s", name)
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{b: b, idem: idem, g: g, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- g.Run(ctx) }()
	t.Cleanup(func() { m.stop(); _ = b.Close(); _ = idem.Close() })
	return m
}

// stop stops the member as a leaving process does.
func (m *member) stop() {
	if m.cancel != nil {
		m.cancel()
		<-m.done
		m.cancel = nil
	}
}

// crash cuts the member's connections first, so that it releases
// nothing, then stops it.
func (m *member) crash() {
	_ = m.b.Close()
	_ = m.idem.Close()
	m.stop()
}

// waitBalanced waits until members own every partition between them,
// none owned twice, each at most ceil(P/len(members)), and returns how
// long it took.
func waitBalanced(t *testing.T, parts int, members []*member, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	limit := (parts + len(members) - 1) / len(members)
	var last string
	for time.Since(start) < within {
		owner := map[int]int{}
		ok := true
		for i, m := range members {
			own := m.g.Owned()
			if len(own) > limit {
				ok = false
			}
			for _, n := range own {
				if _, dup := owner[n]; dup {
					ok = false
				}
				owner[n] = i
			}
		}
		last = fmt.Sprint(owner)
		if ok && len(owner) == parts {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond) // KV leases expire in real time
	}
	t.Fatalf("partitions not balanced over %d members within %v; last owners %s", len(members), within, last)
	return 0
}

// TestGroupMembers runs a partitioned group on two and three members
// against one server, stops (leaving) or crashes one of them mid-run,
// then adds a member, and checks that every event is handled, in order per key, no key by two
// members at once, and that the stopped member's partitions are taken
// over within the bound.
func TestGroupMembers(t *testing.T) {
	const (
		parts  = 8
		keys   = 24
		perKey = 20
	)
	// The bound of a crash, as the package documentation states it, with
	// four seconds of slack for -race on a loaded 2-core machine (the
	// leases expire in real time while the members wait for the CPU). A
	// leave is quicker: the leases are released.
	const bound = leaseTTL + 3*time.Second + renew + 4*time.Second
	tests := []struct {
		members int
		crash   bool
	}{{2, false}, {2, true}, {3, false}, {3, true}}
	srv := natstest.Start(t)
	for i, tt := range tests {
		t.Run(fmt.Sprintf("members=%d crash=%v", tt.members, tt.crash), func(t *testing.T) {
			cfg := jetstream.Config{URL: srv.URL(), Stream: fmt.Sprintf("GRP%d", i), Subject: fmt.Sprintf("grp%d", i),
				BucketPrefix: fmt.Sprintf("grp%d", i), Partitions: parts}
			appender := open(t, cfg)
			chk := newChecker(keys * perKey)
			var ms []*member
			for j := range tt.members {
				ms = append(ms, startMember(t, cfg, fmt.Sprintf("grp%d_idem", i), fmt.Sprintf("m%d", j), chk.handle))
			}
			took := waitBalanced(t, parts, ms, 10*time.Second)
			t.Logf("balanced over %d members in %v", tt.members, took)
			appendRange := func(from, to int) error {
				for n := from; n <= to; n++ {
					var evs []canonical.Event
					for k := range keys {
						evs = append(evs, eventlogtest.Event(fmt.Sprintf("k%02d", k), n))
					}
					if err := appender.Append(t.Context(), evs...); err != nil {
						return fmt.Errorf("append round %d: %w", n, err)
					}
				}
				return nil
			}
			require.NoError(t, appendRange(1, perKey/2), "Append the first half")
			// Stop or crash member 0 once events are in flight.
			for {
				if n, _ := chk.state(); n >= keys*perKey/4 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			t0 := time.Now()
			if tt.crash {
				ms[0].crash()
			} else {
				ms[0].stop()
			}
			appended := make(chan error, 1)
			go func() { appended <- appendRange(perKey/2+1, perKey) }()
			waitBalanced(t, parts, ms[1:], bound+5*time.Second)
			took = time.Since(t0)
			t.Logf("partitions taken over %v after the member was stopped (crash %v)", took, tt.crash)
			assert.LessOrEqual(t, took, bound, "takeover within the bound")
			// A member joining mid-run gets its share.
			late := startMember(t, cfg, fmt.Sprintf("grp%d_idem", i), "late", chk.handle)
			took = waitBalanced(t, parts, append(ms[1:], late), 10*time.Second)
			t.Logf("a joining member got its share in %v", took)
			require.NoError(t, <-appended, "Append the second half")
			select {
			case <-chk.all:
			case <-time.After(30 * time.Second):
			}
			handled, violations := chk.state()
			chk.mu.Lock()
			t.Logf("%d events, %d handler calls", keys*perKey, chk.calls)
			chk.mu.Unlock()
			assert.Empty(t, violations, "no key handled twice at once, none out of order")
			assert.Equal(t, keys*perKey, handled, "every event handled")
		})
	}
}

// TestGroupFencesStaleOwner checks that a partition's former owner's
// cursor commit, retry state and dead letter are refused once a member
// took the partition over.
func TestGroupFencesStaleOwner(t *testing.T) {
	srv := natstest.Start(t)
	b, cfg := openFresh(t, srv)
	stale, err := b.Claim(t.Context(), eventlog.PartitionGroup("orders", 0))
	require.NoError(t, err, "Claim as the former owner")
	chk := newChecker(4)
	m := startMember(t, cfg, "stale_idem", "m", chk.handle)
	waitBalanced(t, b.Partitions(), []*member{m}, 10*time.Second)
	var evs []canonical.Event
	for k := 0; len(evs) < 4; k++ {
		if e := eventlogtest.Event(fmt.Sprintf("k%d", k), 1); b.PartitionOf(e.Partition()) == 0 {
			evs = append(evs, e)
		}
	}
	require.NoError(t, b.Append(t.Context(), evs...), "Append")
	select {
	case <-chk.all:
	case <-time.After(20 * time.Second):
		t.Fatal("events of partition 0 not handled")
	}
	g := eventlog.PartitionGroup("orders", 0)
	var before eventlog.GroupState
	for deadline := time.Now().Add(10 * time.Second); before.Cursor < 4; {
		require.True(t, time.Now().Before(deadline), "the new owner commits its cursor")
		before, err = b.Group(t.Context(), g)
		require.NoError(t, err, "Group")
		time.Sleep(10 * time.Millisecond) // the commit is asynchronous
	}
	require.ErrorIs(t, b.Commit(t.Context(), g, stale, before.Cursor+100), eventlog.ErrFenced, "the stale owner's commit")
	require.ErrorIs(t, b.SaveRetry(t.Context(), g, stale, eventlog.Retry{Offset: before.Cursor + 1, Attempts: 1}), eventlog.ErrFenced, "the stale owner's retry state")
	_, err = b.Put(t.Context(), eventlog.DeadLetter{Consumer: g, Epoch: stale, Event: evs[0], Reason: eventlog.ReasonPermanent, Error: "late"})
	require.ErrorIs(t, err, eventlog.ErrFenced, "the stale owner's dead letter")
	after, err := b.Group(t.Context(), g)
	require.NoError(t, err, "Group")
	require.Equal(t, before, after, "the partition's state is unchanged")
	dls, err := b.List(t.Context(), eventlog.Filter{Consumer: g})
	require.NoError(t, err, "List")
	require.Empty(t, dls, "no dead letter of the stale owner")
}
