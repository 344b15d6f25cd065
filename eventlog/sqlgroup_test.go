package eventlog_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/idempotency"
)

func TestGroupConfigValidate(t *testing.T) {
	h := func(context.Context, canonical.Event) error { return nil }
	c := eventlog.ConsumerConfig{Group: "g", Handler: h}
	tests := []struct {
		name string
		cfg  eventlog.GroupConfig
		ok   bool
	}{
		{"defaults", eventlog.GroupConfig{Consumer: c}, true},
		{"short lease", eventlog.GroupConfig{Consumer: c, LeaseTTL: 100 * time.Millisecond, Renew: 20 * time.Millisecond}, true},
		{"most partitions", eventlog.GroupConfig{Consumer: c, Partitions: eventlog.MaxPartitions}, true},
		{"no handler", eventlog.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "g"}}, false},
		{"too many partitions", eventlog.GroupConfig{Consumer: c, Partitions: eventlog.MaxPartitions + 1}, false},
		{"negative partitions", eventlog.GroupConfig{Consumer: c, Partitions: -1}, false},
		{"negative lease", eventlog.GroupConfig{Consumer: c, LeaseTTL: -time.Second}, false},
		{"lease below 10ms", eventlog.GroupConfig{Consumer: c, LeaseTTL: 3 * time.Nanosecond}, false},
		{"renew not below half the lease", eventlog.GroupConfig{Consumer: c, LeaseTTL: 2 * time.Second, Renew: time.Second}, false},
		{"renew not below half the default lease", eventlog.GroupConfig{Consumer: c, Renew: eventlog.DefaultLeaseTTL / 2}, false},
		{"negative renew", eventlog.GroupConfig{Consumer: c, Renew: -1}, false},
		{"group too long for the partition suffix", eventlog.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: strings.Repeat("g", 196), Handler: h}}, false},
		{"member too long", eventlog.GroupConfig{Consumer: c, Member: strings.Repeat("m", 201)}, false},
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
	tests := []struct {
		parts int
		keys  int
	}{{1, 10}, {4, 100}, {16, 400}, {eventlog.MaxPartitions, 20000}}
	for _, tt := range tests {
		seen := map[int]bool{}
		for i := range tt.keys {
			key := fmt.Sprintf("order-%d", i)
			n := eventlog.PartitionOf(key, tt.parts)
			h := fnv.New32a()
			_, _ = h.Write([]byte(key))
			require.Equal(t, int(h.Sum32()%uint32(tt.parts)), n, "PartitionOf(%q, %d) is FNV-1a modulo P", key, tt.parts)
			seen[n] = true
		}
		require.Len(t, seen, tt.parts, "%d keys reach each of %d partitions", tt.keys, tt.parts)
	}
	assert.Equal(t, 0, eventlog.PartitionOf("k", 0), "PartitionOf with no partitions")
	assert.Equal(t, "orders/p3", eventlog.PartitionGroup("orders", 3), "PartitionGroup")
}

// groupChecker is a handler that detects two handlers of one key at once
// and a key's event handled before the previous one of its key was.
type groupChecker struct {
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

func newGroupChecker(want int) *groupChecker {
	return &groupChecker{active: map[string]int{}, done: map[string]int{}, handled: map[string]bool{}, want: want, all: make(chan struct{})}
}

func (c *groupChecker) handle(ctx context.Context, ev canonical.Event) error {
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

func (c *groupChecker) state() (handled int, violations []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.handled), append([]string(nil), c.violations...)
}

// groupLogger logs to stderr when DISTSYNC_TEST_DEBUG is set.
func groupLogger(name string) *slog.Logger {
	if os.Getenv("DISTSYNC_TEST_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("member", name)
}

// groupDB opens the databases of the members of a test, each as its own
// process would: its own *sql.DB, on PostgreSQL with the application
// name PREFIXname, by which a test finds its sessions.
type groupDB struct {
	dialect eventlog.Dialect
	prefix  string
	path    string // SQLite's file
	url     string // PostgreSQL's
}

func (d groupDB) open(t *testing.T, name string) *sql.DB {
	t.Helper()
	if d.dialect == eventlog.SQLite {
		db := openSQLite(t, d.path)
		db.SetMaxOpenConns(1)
		return db
	}
	u, err := url.Parse(d.url)
	require.NoError(t, err, "parse the PostgreSQL URL")
	q := u.Query()
	q.Set("application_name", d.prefix+name)
	u.RawQuery = q.Encode()
	db := openPostgres(t, u.String())
	db.SetMaxIdleConns(8)
	return db
}

// withPrefix returns d with a table prefix no other test uses, the
// tables dropped at the end of the test.
func (d groupDB) withPrefix(t *testing.T) groupDB {
	d.prefix = uniquePrefix()
	t.Cleanup(func() {
		db, err := sql.Open(map[eventlog.Dialect]string{eventlog.SQLite: "sqlite", eventlog.Postgres: "pgx"}[d.dialect],
			map[eventlog.Dialect]string{eventlog.SQLite: sqliteDSN(d.path), eventlog.Postgres: d.url}[d.dialect])
		if err != nil {
			return
		}
		defer db.Close()
		if s, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: d.dialect, Prefix: d.prefix}); err == nil {
			_ = s.Drop(context.Background())
		}
		_, _ = db.Exec("DROP TABLE IF EXISTS " + d.prefix + "idem")
	})
	return d
}

// groupDBs runs fn against SQLite (one file, a *sql.DB per member) and
// PostgreSQL.
func groupDBs(t *testing.T, fn func(t *testing.T, d groupDB)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, groupDB{dialect: eventlog.SQLite, path: filepath.Join(t.TempDir(), "events.db")}.withPrefix(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, groupDB{dialect: eventlog.Postgres, url: postgresURL(t)}.withPrefix(t))
	})
}

// The lease of the real-time test members.
const (
	groupTTL   = 2 * time.Second
	groupRenew = 250 * time.Millisecond
)

// groupMember is one member of a group over its own *sql.DB, as a process
// would be.
type groupMember struct {
	name   string
	db     *sql.DB
	s      *eventlog.SQL
	g      *eventlog.Group
	cancel context.CancelFunc
	done   chan error
}

func startGroupMember(t *testing.T, d groupDB, name string, parts int, h eventlog.Handler) *groupMember {
	t.Helper()
	db := d.open(t, name)
	s := newSQL(t, db, d.dialect, d.prefix)
	idem, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: d.dialect, Table: d.prefix + "idem"})
	require.NoError(t, err, "NewSQLStore for %s", name)
	require.NoError(t, idem.Migrate(t.Context()), "Migrate the idempotency store for %s", name)
	g, err := s.NewGroup(eventlog.GroupConfig{
		Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: h, Dedupe: idem, Lease: 2 * time.Second,
			PollInterval: 50 * time.Millisecond, DrainTimeout: 5 * time.Second,
			Policy: eventlog.ErrorPolicy{MaxAttempts: 1000}, Logger: groupLogger(name)},
		Partitions: parts, Member: name, LeaseTTL: groupTTL, Renew: groupRenew,
	})
	require.NoError(t, err, "NewGroup for %s", name)
	ctx, cancel := context.WithCancel(context.Background())
	m := &groupMember{name: name, db: db, s: s, g: g, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- g.Run(ctx) }()
	t.Cleanup(m.stop)
	return m
}

// stop stops the member as a leaving process does.
func (m *groupMember) stop() {
	if m.cancel != nil {
		m.cancel()
		<-m.done
		m.cancel = nil
	}
}

// crash closes the member's database first, so that it releases
// nothing, then stops it.
func (m *groupMember) crash() {
	_ = m.db.Close()
	m.stop()
}

// waitGroupBalanced waits until members own every partition between
// them, none owned twice, each at most ceil(P/len(members)), and returns
// how long it took.
func waitGroupBalanced(t *testing.T, parts int, members []*groupMember, within time.Duration) time.Duration {
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

// terminate ends every PostgreSQL session of the member, as a server
// restart or an administrator would, and returns how many it ended.
func terminate(t *testing.T, admin *sql.DB, prefix, name string) int {
	t.Helper()
	var n int
	err := admin.QueryRow("SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) x",
		prefix+name).Scan(&n)
	require.NoError(t, err, "pg_terminate_backend of %s", name)
	return n
}

// TestGroupMembers runs a partitioned group on two members (each over its
// own *sql.DB, as two processes), stops one mid-run (leaving), crashes it
// (its database closed before it is stopped, so that it releases
// nothing) or, on PostgreSQL, kills its sessions over and over while it
// runs; then adds a member. It checks that every event is handled, in
// order per key, no key by two members at once, and that a stopped
// member's partitions are taken over within the bound.
func TestGroupMembers(t *testing.T) {
	const (
		parts  = 8
		keys   = 24
		perKey = 20
	)
	// The bound of a crash, LeaseTTL + 2×Renew, with three seconds of
	// slack for -race on a loaded 2-core machine.
	const bound = groupTTL + 2*groupRenew + 3*time.Second
	groupDBs(t, func(t *testing.T, d groupDB) {
		tests := []string{"leave", "crash", "terminate"}
		for _, how := range tests {
			t.Run(how, func(t *testing.T) {
				if how == "terminate" && d.dialect != eventlog.Postgres {
					t.Skip("sessions to terminate are PostgreSQL's")
				}
				d := d.withPrefix(t) // each case its own tables
				appender := newSQL(t, d.open(t, "appender"), d.dialect, d.prefix)
				chk := newGroupChecker(keys * perKey)
				ms := []*groupMember{startGroupMember(t, d, "m0", parts, chk.handle), startGroupMember(t, d, "m1", parts, chk.handle)}
				took := waitGroupBalanced(t, parts, ms, 20*time.Second)
				t.Logf("balanced over 2 members in %v", took)
				appendRange := func(from, to int) error {
					for n := from; n <= to; n++ {
						var evs []canonical.Event
						for k := range keys {
							evs = append(evs, eventlogtest.Event(fmt.Sprintf("k%02d", k), n))
						}
						if err := appender.Append(context.Background(), evs...); err != nil {
							return fmt.Errorf("append round %d: %w", n, err)
						}
					}
					return nil
				}
				require.NoError(t, appendRange(1, perKey/2), "Append the first half")
				for { // events in flight before member 0 goes
					if n, _ := chk.state(); n >= keys*perKey/4 {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				appended := make(chan error, 1)
				rest := ms[1:]
				switch how {
				case "leave", "crash":
					t0 := time.Now()
					if how == "crash" {
						ms[0].crash()
					} else {
						ms[0].stop()
					}
					go func() { appended <- appendRange(perKey/2+1, perKey) }()
					waitGroupBalanced(t, parts, ms[1:], bound+5*time.Second)
					took = time.Since(t0)
					t.Logf("partitions taken over %v after the member was stopped (%s)", took, how)
					assert.LessOrEqual(t, took, bound, "takeover within the bound")
				case "terminate":
					admin := openPostgres(t, postgresURL(t))
					go func() { appended <- appendRange(perKey/2+1, perKey) }()
					killed := 0
					for range 10 {
						killed += terminate(t, admin, d.prefix, "m0")
						time.Sleep(50 * time.Millisecond)
					}
					t.Logf("terminated %d sessions of m0", killed)
					require.Positive(t, killed, "m0 had sessions to terminate")
					rest = ms
				}
				// A member joining mid-run gets its share (20s: a join waits
				// for the others to drain their surplus, slow under -race on
				// a loaded machine; no bound is claimed beyond Renew + drain).
				late := startGroupMember(t, d, "late", parts, chk.handle)
				took = waitGroupBalanced(t, parts, append(rest, late), 20*time.Second)
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
	})
}

// TestGroupFencesStaleOwner checks that a partition's former owner's
// cursor commit, retry state and dead letter are refused once a member
// took the partition over.
func TestGroupFencesStaleOwner(t *testing.T) {
	groupDBs(t, func(t *testing.T, d groupDB) {
		const parts = 4
		b := newSQL(t, d.open(t, "stale"), d.dialect, d.prefix)
		g := eventlog.PartitionGroup("orders", 0)
		stale, err := b.Claim(t.Context(), g)
		require.NoError(t, err, "Claim as the former owner")
		chk := newGroupChecker(4)
		m := startGroupMember(t, d, "m", parts, chk.handle)
		waitGroupBalanced(t, parts, []*groupMember{m}, 10*time.Second)
		var evs []canonical.Event
		for k := 0; len(evs) < 4; k++ {
			if e := eventlogtest.Event(fmt.Sprintf("k%d", k), 1); eventlog.PartitionOf(e.Partition(), parts) == 0 {
				evs = append(evs, e)
			}
		}
		require.NoError(t, b.Append(t.Context(), evs...), "Append")
		select {
		case <-chk.all:
		case <-time.After(20 * time.Second):
			t.Fatal("events of partition 0 not handled")
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
	})
}

// TestGroupPartitionsFixed checks that a member configured with another
// number of partitions than the group has is refused.
func TestGroupPartitionsFixed(t *testing.T) {
	groupDBs(t, func(t *testing.T, d groupDB) {
		chk := newGroupChecker(1)
		m := startGroupMember(t, d, "four", 4, chk.handle)
		waitGroupBalanced(t, 4, []*groupMember{m}, 10*time.Second)
		s := newSQL(t, d.open(t, "eight"), d.dialect, d.prefix)
		g, err := s.NewGroup(eventlog.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: chk.handle},
			Partitions: 8, LeaseTTL: groupTTL, Renew: groupRenew})
		require.NoError(t, err, "NewGroup with 8 partitions")
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err = g.Run(ctx)
		require.ErrorIs(t, err, eventlog.ErrInvalidConfig, "Run with 8 partitions of a group of 4")
		assert.Contains(t, err.Error(), `group "orders" has 4 partitions`, "the error names the group and its partitions")
		assert.Equal(t, []int{0, 1, 2, 3}, m.g.Owned(), "the running member keeps its partitions")
	})
}

// TestGroupNotMigrated checks that Run over missing tables fails at once.
func TestGroupNotMigrated(t *testing.T) {
	s, err := eventlog.NewSQL(openSQLite(t, filepath.Join(t.TempDir(), "empty.db")), eventlog.SQLConfig{Dialect: eventlog.SQLite})
	require.NoError(t, err, "NewSQL")
	g, err := s.NewGroup(eventlog.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders",
		Handler: func(context.Context, canonical.Event) error { return nil }}})
	require.NoError(t, err, "NewGroup")
	require.ErrorIs(t, g.Run(t.Context()), eventlog.ErrNotMigrated, "Run before Migrate")
}

// TestGroupCutOffMember runs two members over one SQLite file in a
// synctest bubble, with the default lease, and cuts one off its database
// (its *sql.DB closed while it runs, so that every statement it makes
// fails and it releases nothing). It checks, on the bubble's exact clock,
// that each of its partitions is stopped there within LeaseTTL − Renew
// of the cut, taken by the other member at least Renew after that and
// within LeaseTTL + 2×Renew of the cut, and that every event is handled
// in order per key, none by two members at once.
func TestGroupCutOffMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			parts = 4
			keys  = 8
			ttl   = eventlog.DefaultLeaseTTL
			renew = ttl / 4
			step  = 10 * time.Millisecond // how often ownership is sampled
		)
		path := filepath.Join(t.TempDir(), "events.db")
		open := func() (*sql.DB, *eventlog.SQL) {
			db, err := sql.Open("sqlite", sqliteDSN(path))
			require.NoError(t, err, "open SQLite")
			db.SetMaxOpenConns(1)
			s, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
			require.NoError(t, err, "NewSQL")
			require.NoError(t, s.Migrate(context.Background()), "Migrate")
			return db, s
		}
		chk := newGroupChecker(keys * 6)
		type running struct {
			db   *sql.DB
			s    *eventlog.SQL
			g    *eventlog.Group
			stop context.CancelFunc
			done chan error
		}
		start := func(name string) *running {
			db, s := open()
			g, err := s.NewGroup(eventlog.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: chk.handle,
				Policy: eventlog.ErrorPolicy{MaxAttempts: 1000}, Logger: groupLogger(name)}, Partitions: parts, Member: name})
			require.NoError(t, err, "NewGroup %s", name)
			ctx, stop := context.WithCancel(context.Background())
			r := &running{db: db, s: s, g: g, stop: stop, done: make(chan error, 1)}
			go func() { r.done <- g.Run(ctx) }()
			return r
		}
		a := start("a")
		time.Sleep(step)
		require.Equal(t, []int{0, 1, 2, 3}, a.g.Owned(), "a lone member takes every partition at once")
		b := start("b")
		for i := 0; len(a.g.Owned()) != 2 || len(b.g.Owned()) != 2; i++ {
			require.Less(t, i, 1000, "two members share the partitions within 10s: a owns %v, b %v", a.g.Owned(), b.g.Owned())
			time.Sleep(step)
		}
		appendRound := func(n int) {
			var evs []canonical.Event
			for k := range keys {
				evs = append(evs, eventlogtest.Event(fmt.Sprintf("k%d", k), n))
			}
			require.NoError(t, b.s.Append(context.Background(), evs...), "Append round %d", n)
		}
		for n := 1; n <= 3; n++ {
			appendRound(n)
		}
		for i := 0; ; i++ {
			if n, _ := chk.state(); n == keys*3 {
				break
			}
			require.Less(t, i, 1000, "the first rounds handled within 10s")
			time.Sleep(step)
		}
		aOwned := a.g.Owned()
		cut := time.Now()
		require.NoError(t, a.db.Close(), "cut a off")
		for n := 4; n <= 6; n++ { // to be handled by b alone
			appendRound(n)
		}
		lost, taken := map[int]time.Duration{}, map[int]time.Duration{}
		for len(taken) < len(aOwned) {
			require.Less(t, time.Since(cut), 30*time.Second, "b takes a's partitions %v; lost %v, taken %v", aOwned, lost, taken)
			time.Sleep(step)
			own, bOwn := a.g.Owned(), b.g.Owned()
			for _, n := range aOwned {
				if _, ok := lost[n]; !ok && !slices.Contains(own, n) {
					lost[n] = time.Since(cut)
				}
				if _, ok := taken[n]; !ok && slices.Contains(bOwn, n) {
					taken[n] = time.Since(cut)
				}
			}
		}
		t.Logf("a's partitions %v: stopped at a %v, taken by b %v after the cut", aOwned, lost, taken)
		for _, n := range aOwned {
			assert.LessOrEqual(t, lost[n], ttl-renew+step, "partition %d stopped at a within LeaseTTL − Renew", n)
			assert.GreaterOrEqual(t, taken[n]-lost[n], renew-step, "partition %d taken by b at least Renew after a stopped it", n)
			assert.LessOrEqual(t, taken[n], ttl+2*renew+step, "partition %d taken by b within LeaseTTL + 2×Renew", n)
		}
		select {
		case <-chk.all:
		case <-time.After(time.Minute):
		}
		handled, violations := chk.state()
		assert.Empty(t, violations, "no key handled twice at once, none out of order")
		assert.Equal(t, keys*6, handled, "every event handled")
		a.stop()
		b.stop()
		<-a.done
		<-b.done
		require.NoError(t, b.db.Close(), "close b's database")
	})
}
