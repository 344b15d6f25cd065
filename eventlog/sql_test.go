package eventlog_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/internal/pgtest"
)

// sqliteDSN opens path in WAL mode with a busy timeout and immediate
// transactions, as the SQLite dialect's documentation recommends.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// openSQLite opens a new *sql.DB over the SQLite file path, closed at the
// end of the test.
func openSQLite(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteDSN(path))
	require.NoError(t, err, "open SQLite %s", path)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// postgresURL returns the test server's URL (see [pgtest.URL]).
func postgresURL(t testing.TB) string { return pgtest.URL(t) }

// openPostgres opens a new *sql.DB, closed at the end of the test.
func openPostgres(t testing.TB, url string) *sql.DB { return pgtest.Open(t, url) }

// openDialect opens a new database of dialect d, closed at the end of the
// test: a new SQLite file, or the PostgreSQL test server with a table
// prefix no other test uses ("" on SQLite); it returns the *sql.DB, its
// data source name and the prefix.
func openDialect(t testing.TB, d eventlog.Dialect) (*sql.DB, string, string) {
	t.Helper()
	if d == eventlog.SQLite {
		path := filepath.Join(t.TempDir(), "log.db")
		return openSQLite(t, path), sqliteDSN(path), ""
	}
	dsn := postgresURL(t)
	return openPostgres(t, dsn), dsn, uniquePrefix()
}

// uniquePrefix returns a table prefix no other test uses.
func uniquePrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "elt_" + hex.EncodeToString(b[:]) + "_"
}

// newSQL returns a migrated backend over db with the given prefix.
func newSQL(t testing.TB, db *sql.DB, d eventlog.Dialect, prefix string) *eventlog.SQL {
	t.Helper()
	s, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: d, Prefix: prefix})
	require.NoError(t, err, "NewSQL %v", d)
	require.NoError(t, s.Migrate(context.Background()), "Migrate %v", d)
	return s
}

func TestSQLiteConformance(t *testing.T) {
	eventlogtest.Run(t, func(t *testing.T) eventlogtest.Opener {
		path := filepath.Join(t.TempDir(), "events.db")
		return func(t *testing.T) eventlog.Backend {
			return newSQL(t, openSQLite(t, path), eventlog.SQLite, "")
		}
	})
}

// TestSQLiteOneConnectionConformance runs the kit over a *sql.DB of one
// connection, as the SQLite dialect's documentation recommends: no
// operation may need a second connection while it holds one (a
// transaction preparing a statement on the pool would wait forever).
func TestSQLiteOneConnectionConformance(t *testing.T) {
	eventlogtest.Run(t, func(t *testing.T) eventlogtest.Opener {
		path := filepath.Join(t.TempDir(), "events.db")
		return func(t *testing.T) eventlog.Backend {
			db := openSQLite(t, path)
			db.SetMaxOpenConns(1)
			return newSQL(t, db, eventlog.SQLite, "")
		}
	})
}

func TestPostgresConformance(t *testing.T) {
	url := postgresURL(t)
	eventlogtest.Run(t, func(t *testing.T) eventlogtest.Opener {
		prefix := uniquePrefix()
		t.Cleanup(func() {
			db, err := sql.Open("pgx", url)
			if err == nil {
				s, _ := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.Postgres, Prefix: prefix})
				_ = s.Drop(context.Background())
				_ = db.Close()
			}
		})
		return func(t *testing.T) eventlog.Backend {
			return newSQL(t, openPostgres(t, url), eventlog.Postgres, prefix)
		}
	})
}

// sqlBackends runs fn against SQLite and, when configured, PostgreSQL,
// with a fresh migrated backend and its *sql.DB.
func sqlBackends(t *testing.T, fn func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string)) {
	t.Run("sqlite", func(t *testing.T) {
		db := openSQLite(t, filepath.Join(t.TempDir(), "events.db"))
		fn(t, newSQL(t, db, eventlog.SQLite, eventlog.DefaultPrefix), db, eventlog.DefaultPrefix)
	})
	t.Run("postgres", func(t *testing.T) {
		db := openPostgres(t, postgresURL(t))
		prefix := uniquePrefix()
		s := newSQL(t, db, eventlog.Postgres, prefix)
		t.Cleanup(func() { _ = s.Drop(context.Background()) })
		fn(t, s, db, prefix)
	})
}

func TestSQLUndecodableRow(t *testing.T) {
	sqlBackends(t, func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string) {
		ctx := t.Context()
		require.NoError(t, s.Append(ctx, eventlogtest.Event("a", 1)), "Append a-1")
		bad := []struct {
			name    string
			payload string
		}{
			{"not JSON", `{"specversion":"1.0",`},
			{"missing id", `{"specversion":"1.0","source":"urn:x","type":"t"}`},
			{"wrong spec version", `{"specversion":"0.3","id":"1","source":"urn:x","type":"t"}`},
		}
		q := "INSERT INTO " + prefix + "events (pkey, payload) VALUES (?, ?)"
		if strings.HasPrefix(s.String(), "postgres") {
			q = "INSERT INTO " + prefix + "events (pkey, payload) VALUES ($1, $2)"
		}
		for _, b := range bad {
			_, err := db.ExecContext(ctx, q, "a", []byte(b.payload))
			require.NoError(t, err, "insert a row that is %s", b.name)
		}
		require.NoError(t, s.Append(ctx, eventlogtest.Event("a", 2), eventlogtest.Event("b", 1)), "Append a-2, b-1")

		entries, err := s.Read(ctx, 0, 10)
		require.NoError(t, err, "Read")
		require.Len(t, entries, 6, "entries")
		for i, b := range bad {
			e := entries[1+i]
			assert.ErrorIs(t, e.Err, eventlog.ErrUndecodable, "entry of a row that is %s", b.name)
			var de *eventlog.DecodeError
			require.ErrorAs(t, e.Err, &de, "entry of a row that is %s", b.name)
			assert.Equal(t, e.Offset, de.Offset, "DecodeError offset of a row that is %s", b.name)
			assert.Equal(t, []byte(b.payload), e.Raw, "raw payload of a row that is %s", b.name)
		}

		var mu sync.Mutex
		var handled []string
		done := make(chan struct{})
		c, err := eventlog.NewConsumer(s, eventlog.ConsumerConfig{Group: "g",
			Handler: func(_ context.Context, ev canonical.Event) error {
				mu.Lock()
				defer mu.Unlock()
				handled = append(handled, ev.ID)
				if len(handled) == 3 {
					close(done)
				}
				return nil
			}})
		require.NoError(t, err, "NewConsumer")
		rctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() { errc <- c.Run(rctx) }()
		<-done
		// Undecodable rows have keys of their own, so they may still be
		// on their way to the dead letters when the events are handled.
		require.Eventually(t, func() bool {
			dls, err := s.List(ctx, eventlog.Filter{Consumer: "g"})
			return err == nil && len(dls) == len(bad)
		}, 10*time.Second, 5*time.Millisecond, "every undecodable row is dead-lettered")
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled, "Run")
		assert.ElementsMatch(t, []string{"a-1", "a-2", "b-1"}, handled, "the decodable events are handled")
		dls, err := s.List(ctx, eventlog.Filter{Consumer: "g"})
		require.NoError(t, err, "List")
		require.Len(t, dls, len(bad), "dead letters")
		slices.SortFunc(dls, func(a, b eventlog.DeadLetter) int { return cmp.Compare(a.Offset, b.Offset) })
		for i, d := range dls {
			assert.Equal(t, eventlog.ReasonUndecodable, d.Reason, "reason of %s", bad[i].name)
			assert.Equal(t, 1, d.Attempts, "attempts of %s", bad[i].name)
			assert.Equal(t, []byte(bad[i].payload), d.Raw, "raw of %s", bad[i].name)
			assert.Contains(t, d.Error, "undecodable event at offset", "error of %s", bad[i].name)
		}
		st, err := s.Group(ctx, "g")
		require.NoError(t, err, "Group")
		assert.Equal(t, uint64(6), st.Cursor, "undecodable rows do not hold the cursor back")
	})
}

func TestSQLNotMigrated(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "events.db"))
	s, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
	require.NoError(t, err, "NewSQL")
	err = s.Append(t.Context(), eventlogtest.Event("a", 1))
	assert.ErrorIs(t, err, eventlog.ErrNotMigrated, "Append before Migrate")
	_, err = s.Read(t.Context(), 0, 1)
	assert.ErrorIs(t, err, eventlog.ErrNotMigrated, "Read before Migrate")
}

func TestSQLConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  eventlog.SQLConfig
		ok   bool
	}{
		{"sqlite", eventlog.SQLConfig{Dialect: eventlog.SQLite}, true},
		{"postgres with prefix", eventlog.SQLConfig{Dialect: eventlog.Postgres, Prefix: "app_events_"}, true},
		{"no dialect", eventlog.SQLConfig{}, false},
		{"prefix with a quote", eventlog.SQLConfig{Dialect: eventlog.SQLite, Prefix: `x"; DROP TABLE t; --`}, false},
		{"prefix starting with a digit", eventlog.SQLConfig{Dialect: eventlog.SQLite, Prefix: "1x"}, false},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.ok {
			assert.NoError(t, err, "Validate %s", tt.name)
		} else {
			assert.ErrorIs(t, err, eventlog.ErrInvalidConfig, "Validate %s", tt.name)
		}
	}
	_, err := eventlog.NewSQL(nil, eventlog.SQLConfig{Dialect: eventlog.SQLite})
	assert.ErrorIs(t, err, eventlog.ErrInvalidConfig, "NewSQL with a nil db")
}

// TestSQLPrefixCase: prefixes that differ only in case name the same
// tables (unquoted names are folded by both databases), so they must be
// one backend, locks included.
func TestSQLPrefixCase(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "events.db"))
	for _, prefix := range []string{"App_Events_", "APP_EVENTS_", "app_events_"} {
		s, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite, Prefix: prefix})
		require.NoError(t, err, "NewSQL with prefix %q", prefix)
		assert.Equal(t, "sqlite:app_events_", s.String(), "String of the backend with prefix %q", prefix)
	}

	url := postgresURL(t)
	prefix := uniquePrefix()
	upper := newSQL(t, openPostgres(t, url), eventlog.Postgres, strings.ToUpper(prefix))
	t.Cleanup(func() { _ = upper.Drop(context.Background()) })
	lower := newSQL(t, openPostgres(t, url), eventlog.Postgres, prefix)
	unlock, ok, err := upper.TryLockGroup(t.Context(), "g")
	require.NoError(t, err, "TryLockGroup through the upper-case prefix")
	require.True(t, ok, "a free group lock is taken")
	defer unlock.Unlock()
	_, ok, err = lower.TryLockGroup(t.Context(), "g")
	require.NoError(t, err, "TryLockGroup through the lower-case prefix")
	assert.False(t, ok, "the same tables share the group lock, whatever the prefix's case")
}

// TestSQLDeadLetterKeepsRawAndReplays: a dead letter keeps the event as it
// arrived, raw bytes for an undecodable row and unvalidated CloudEvents
// JSON (not a Go struct dump) for an invalid event an application
// dead-letters; an operator reads it with Get, corrects it with Put under
// its ID, replays it, and the consumer handles it.
func TestSQLDeadLetterKeepsRawAndReplays(t *testing.T) {
	sqlBackends(t, func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string) {
		ctx := t.Context()
		broken := []byte(`{"specversion":"1.0","id":"x-1","source":"urn:distsync:eventlogtest","type":"t",`)
		_, err := db.ExecContext(ctx, placeholders(s, "INSERT INTO "+prefix+"events (pkey, payload) VALUES (?, ?)"), "x", broken)
		require.NoError(t, err, "insert an undecodable row")
		invalid := eventlogtest.Event("y", 1)
		invalid.Type = "" // fails validation: cannot be encoded by MarshalJSON
		invID, err := s.Put(ctx, eventlog.DeadLetter{Consumer: "g", Event: invalid, Reason: eventlog.ReasonPermanent,
			Error: "invalid event", ErrorClass: "invalid", Attempts: 1, CorrelationID: invalid.CorrelationID})
		require.NoError(t, err, "Put an invalid event")

		var mu sync.Mutex
		var handled []string
		c, err := eventlog.NewConsumer(s, eventlog.ConsumerConfig{Group: "g", PollInterval: 5 * time.Millisecond,
			Handler: func(_ context.Context, ev canonical.Event) error {
				mu.Lock()
				defer mu.Unlock()
				handled = append(handled, ev.ID)
				return nil
			}})
		require.NoError(t, err, "NewConsumer")
		rctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() { errc <- c.Run(rctx) }()
		defer func() { cancel(); <-errc }()
		require.NoError(t, c.WaitIdle(ctx), "WaitIdle")

		dls, err := s.List(ctx, eventlog.Filter{Consumer: "g", Reason: eventlog.ReasonUndecodable})
		require.NoError(t, err, "List undecodable")
		require.Len(t, dls, 1, "the undecodable row is dead-lettered")
		undecID := dls[0].ID
		d, err := s.Get(ctx, undecID)
		require.NoError(t, err, "Get the undecodable dead letter")
		assert.Equal(t, broken, d.Raw, "Get shows the row's raw bytes")
		assert.Empty(t, d.Event.ID, "an undecodable dead letter has no event")

		d, err = s.Get(ctx, invID)
		require.NoError(t, err, "Get the invalid event's dead letter")
		var fields map[string]any
		require.NoError(t, json.Unmarshal(d.Raw, &fields), "the invalid event is kept as JSON: %s", d.Raw)
		assert.Equal(t, "y-1", fields["id"], "id of the kept invalid event")
		assert.Equal(t, "corr-y", fields["correlationid"], "correlation ID of the kept invalid event")
		assert.Equal(t, map[string]any{"n": float64(1)}, fields["data"], "data of the kept invalid event")
		assert.NotContains(t, fields, "type", "the missing type stays missing")

		// Replayed as they are, both fail again and stay dead letters.
		n, err := s.Replay(ctx, eventlog.Filter{Consumer: "g"}, eventlog.Audit{By: "op", Why: "try as is"})
		require.NoError(t, err, "Replay as is")
		assert.Equal(t, 2, n, "replayed")
		require.NoError(t, c.WaitIdle(ctx), "WaitIdle after the first replay")
		all, err := s.List(ctx, eventlog.Filter{Consumer: "g"})
		require.NoError(t, err, "List")
		require.Len(t, all, 2, "a failed replay updates its dead letter, it adds none")
		for _, d := range all {
			assert.Equal(t, eventlog.StateDead, d.State, "state of dead letter %d after a failed replay", d.ID)
		}

		// The operator corrects both and replays them.
		fixed := eventlogtest.Event("x", 1)
		raw, err := fixed.MarshalJSON()
		require.NoError(t, err, "encode the corrected x-1")
		_, err = s.Put(ctx, eventlog.DeadLetter{ID: undecID, Consumer: "g", Offset: dls[0].Offset, Raw: raw,
			Reason: eventlog.ReasonUndecodable, Error: "corrected by op", Attempts: 1})
		require.NoError(t, err, "Put the corrected bytes under the dead letter's ID")
		_, err = s.Put(ctx, eventlog.DeadLetter{ID: invID, Consumer: "g", Event: eventlogtest.Event("y", 1),
			Reason: eventlog.ReasonPermanent, Error: "corrected by op", Attempts: 1})
		require.NoError(t, err, "Put the corrected event under the dead letter's ID")
		_, err = s.Put(ctx, eventlog.DeadLetter{ID: invID + undecID, Consumer: "g", Event: fixed})
		assert.ErrorIs(t, err, eventlog.ErrNotFound, "Put under an ID that names no dead letter")
		n, err = s.Replay(ctx, eventlog.Filter{Consumer: "g"}, eventlog.Audit{By: "op", Why: "corrected"})
		require.NoError(t, err, "Replay the corrected")
		assert.Equal(t, 2, n, "replayed")
		require.NoError(t, c.WaitIdle(ctx), "WaitIdle after the second replay")

		mu.Lock()
		assert.ElementsMatch(t, []string{"x-1", "y-1"}, handled, "the corrected events are handled, once each")
		mu.Unlock()
		all, err = s.List(ctx, eventlog.Filter{Consumer: "g"})
		require.NoError(t, err, "List")
		require.Len(t, all, 2, "dead letters")
		for _, d := range all {
			assert.Equal(t, eventlog.StateResolved, d.State, "state of dead letter %d after the corrected replay", d.ID)
		}
	})
}
