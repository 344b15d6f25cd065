package eventlog_test

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// sqlGroupStores runs the group kit against SQLite (one file, a *sql.DB
// per member) and PostgreSQL (a *sql.DB per member, with the disruption
// "terminate": every session of the member ended ten times while it runs,
// as a server restart or an administrator would).
func TestGroups(t *testing.T) {
	// The bound of a crash, LeaseTTL + 2×Renew, with three seconds of
	// slack for -race on a loaded 2-core machine.
	const bound = eventlogtest.GroupLeaseTTL + 2*eventlogtest.GroupRenew + 3*time.Second
	newStore := func(d groupDB) func(t *testing.T, parts int) eventlogtest.GroupStore {
		return func(t *testing.T, parts int) eventlogtest.GroupStore {
			d := d.withPrefix(t) // each store its own tables
			st := eventlogtest.GroupStore{Takeover: bound, Open: func(t *testing.T, name string) eventlogtest.GroupConn {
				db := d.open(t, name)
				s := newSQL(t, db, d.dialect, d.prefix)
				idem, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: d.dialect, Table: d.prefix + "idem"})
				require.NoError(t, err, "NewSQLStore for %s", name)
				require.NoError(t, idem.Migrate(t.Context()), "Migrate the idempotency store for %s", name)
				return eventlogtest.GroupConn{Backend: s, Dedupe: idem, Cut: func() { _ = db.Close() },
					NewGroup: func(cfg eventlogtest.GroupConfig) (eventlogtest.GroupMember, error) {
						if cfg.Consumer.Logger == nil {
							cfg.Consumer.Logger = groupLogger(cfg.Member)
						}
						return s.NewGroup(eventlog.GroupConfig{Consumer: cfg.Consumer, Partitions: parts, Member: cfg.Member,
							LeaseTTL: cfg.LeaseTTL, Renew: cfg.Renew})
					}}
			}}
			if d.dialect == eventlog.Postgres {
				st.Disrupt = map[string]func(t *testing.T, member string){"terminate": func(t *testing.T, member string) {
					admin := openPostgres(t, postgresURL(t))
					killed := 0
					for range 10 {
						killed += terminate(t, admin, d.prefix, member)
						time.Sleep(50 * time.Millisecond)
					}
					t.Logf("terminated %d sessions of %s", killed, member)
					require.Positive(t, killed, "%s had sessions to terminate", member)
				}}
			}
			return st
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		eventlogtest.RunGroups(t, newStore(groupDB{dialect: eventlog.SQLite, path: filepath.Join(t.TempDir(), "events.db")}))
	})
	t.Run("postgres", func(t *testing.T) {
		eventlogtest.RunGroups(t, newStore(groupDB{dialect: eventlog.Postgres, url: postgresURL(t)}))
	})
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

// TestGroupPartitionsFixed checks that a member configured with another
// number of partitions than the group has is refused.
func TestGroupPartitionsFixed(t *testing.T) {
	for _, d := range []groupDB{{dialect: eventlog.SQLite}, {dialect: eventlog.Postgres}} {
		t.Run(d.dialect.String(), func(t *testing.T) {
			if d.dialect == eventlog.SQLite {
				d.path = filepath.Join(t.TempDir(), "events.db")
			} else {
				d.url = postgresURL(t)
			}
			d := d.withPrefix(t)
			h := eventlogtest.NewKeyChecker(1).Handle
			run := func(name string, parts int) (*eventlog.Group, func(context.Context) error) {
				s := newSQL(t, d.open(t, name), d.dialect, d.prefix)
				g, err := s.NewGroup(eventlog.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: h},
					Partitions: parts, Member: name, LeaseTTL: eventlogtest.GroupLeaseTTL, Renew: eventlogtest.GroupRenew})
				require.NoError(t, err, "NewGroup with %d partitions", parts)
				return g, g.Run
			}
			four, run4 := run("four", 4)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- run4(ctx) }()
			defer func() { cancel(); <-done }()
			require.Eventually(t, func() bool { return len(four.Owned()) == 4 }, 10*time.Second, 10*time.Millisecond,
				"a lone member of 4 partitions owns them all")
			_, run8 := run("eight", 8)
			ctx8, cancel8 := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel8()
			err := run8(ctx8)
			require.ErrorIs(t, err, eventlog.ErrInvalidConfig, "Run with 8 partitions of a group of 4")
			assert.Contains(t, err.Error(), `group "orders" has 4 partitions`, "the error names the group and its partitions")
			assert.Equal(t, []int{0, 1, 2, 3}, four.Owned(), "the running member keeps its partitions")
		})
	}
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
		chk := eventlogtest.NewKeyChecker(keys * 6)
		type running struct {
			db   *sql.DB
			s    *eventlog.SQL
			g    *eventlog.Group
			stop context.CancelFunc
			done chan error
		}
		start := func(name string) *running {
			db, s := open()
			g, err := s.NewGroup(eventlog.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: chk.Handle,
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
			if n, _ := chk.State(); n == keys*3 {
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
		case <-chk.All():
		case <-time.After(time.Minute):
		}
		handled, violations := chk.State()
		assert.Empty(t, violations, "no key handled twice at once, none out of order")
		assert.Equal(t, keys*6, handled, "every event handled")
		a.stop()
		b.stop()
		<-a.done
		<-b.done
		require.NoError(t, b.db.Close(), "close b's database")
	})
}
