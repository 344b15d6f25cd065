package eventlog_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/internal/sqlq"
)

// placeholders rewrites ? into $n for PostgreSQL.
func placeholders(s *eventlog.SQL, q string) string {
	return sqlq.Rebind(strings.HasPrefix(s.String(), "postgres"), q)
}

// placeOrder is the application's own write and its events, in one
// transaction; commit decides whether both happen.
func placeOrder(t *testing.T, s *eventlog.SQL, db *sql.DB, table, order string, commit bool, evs ...canonical.Event) {
	t.Helper()
	ctx := t.Context()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err, "begin transaction for %s", order)
	_, err = tx.ExecContext(ctx, placeholders(s, "INSERT INTO "+table+" (id) VALUES (?)"), order)
	require.NoError(t, err, "insert order %s", order)
	require.NoError(t, s.AppendTx(ctx, tx, evs...), "AppendTx for %s", order)
	if commit {
		require.NoError(t, tx.Commit(), "commit %s", order)
	} else {
		require.NoError(t, tx.Rollback(), "roll back %s", order)
	}
}

func readIDs(t *testing.T, s *eventlog.SQL) []string {
	t.Helper()
	entries, err := s.Read(t.Context(), 0, 1000)
	require.NoError(t, err, "Read")
	var ids []string
	for _, e := range entries {
		require.NoError(t, e.Err, "entry %d", e.Offset)
		ids = append(ids, e.Event.ID)
	}
	return ids
}

func TestOutboxIntoLog(t *testing.T) {
	sqlBackends(t, func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string) {
		ctx := t.Context()
		table := prefix + "orders"
		_, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (id TEXT PRIMARY KEY)")
		require.NoError(t, err, "create the application's table")
		t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table) })

		placeOrder(t, s, db, table, "o1", true, eventlogtest.Event("o1", 1), eventlogtest.Event("o1", 2))
		placeOrder(t, s, db, table, "o2", false, eventlogtest.Event("o2", 1))
		placeOrder(t, s, db, table, "o3", true, eventlogtest.Event("o3", 1))
		assert.Empty(t, readIDs(t, s), "nothing is in the log before the relay runs")

		bad := eventlogtest.Event("o4", 1)
		bad.ID = ""
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err, "begin")
		assert.ErrorIs(t, s.AppendTx(ctx, tx, bad), eventlog.ErrInvalidEvent, "AppendTx of an event without ID")
		assert.ErrorIs(t, s.AppendTx(ctx, nil, eventlogtest.Event("o4", 1)), eventlog.ErrInvalidConfig, "AppendTx without a transaction")
		require.NoError(t, tx.Rollback(), "rollback")

		n, err := s.RelayOnce(ctx, eventlog.RelayConfig{BatchSize: 2})
		require.NoError(t, err, "RelayOnce")
		assert.Equal(t, 2, n, "first round moves a batch of 2")
		n, err = s.RelayOnce(ctx, eventlog.RelayConfig{BatchSize: 2})
		require.NoError(t, err, "RelayOnce")
		assert.Equal(t, 1, n, "second round moves the rest")
		n, err = s.RelayOnce(ctx, eventlog.RelayConfig{})
		require.NoError(t, err, "RelayOnce of an empty outbox")
		assert.Equal(t, 0, n, "an empty outbox moves nothing")
		assert.Equal(t, []string{"o1-1", "o1-2", "o3-1"}, readIDs(t, s), "committed events, in outbox order; the rolled-back one is absent")

		var orders int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&orders), "count orders")
		assert.Equal(t, 2, orders, "the application's writes committed with their events")
	})
}

func TestOutboxPublishAtLeastOnce(t *testing.T) {
	sqlBackends(t, func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string) {
		ctx := t.Context()
		table := prefix + "orders"
		_, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (id TEXT PRIMARY KEY)")
		require.NoError(t, err, "create the application's table")
		t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table) })
		placeOrder(t, s, db, table, "o1", true, eventlogtest.Event("o1", 1), eventlogtest.Event("o1", 2))

		// An undecodable outbox row is dead-lettered and does not block.
		q := placeholders(s, "INSERT INTO "+prefix+"outbox (pkey, payload) VALUES (?, ?)")
		_, err = db.ExecContext(ctx, q, "o1", []byte(`{"broken":`))
		require.NoError(t, err, "insert an undecodable outbox row")
		placeOrder(t, s, db, table, "o2", true, eventlogtest.Event("o2", 1))

		var published []string
		fail := true
		cfg := eventlog.RelayConfig{Publish: func(_ context.Context, evs []canonical.Event) error {
			if fail {
				return errors.New("broker down")
			}
			for _, ev := range evs {
				published = append(published, ev.ID)
			}
			return nil
		}}
		_, err = s.RelayOnce(ctx, cfg)
		require.Error(t, err, "RelayOnce with a failing publisher")
		assert.Empty(t, published, "nothing published")
		fail = false
		n, err := s.RelayOnce(ctx, cfg)
		require.NoError(t, err, "RelayOnce after the publisher recovered")
		assert.Equal(t, 4, n, "rows removed, the undecodable one included")
		assert.Equal(t, []string{"o1-1", "o1-2", "o2-1"}, published, "published in outbox order after the failure")
		assert.Empty(t, readIDs(t, s), "a Publish target leaves the log alone")

		dls, err := s.List(ctx, eventlog.Filter{Consumer: eventlog.OutboxConsumer})
		require.NoError(t, err, "List outbox dead letters")
		require.Len(t, dls, 1, "outbox dead letters")
		assert.Equal(t, eventlog.ReasonUndecodable, dls[0].Reason, "reason")
		assert.Equal(t, []byte(`{"broken":`), dls[0].Raw, "raw")
	})
}

func TestRelayLoop(t *testing.T) {
	db := openSQLite(t, t.TempDir()+"/events.db")
	s := newSQL(t, db, eventlog.SQLite, "")
	got := make(chan string, 10)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		errc <- s.Relay(ctx, eventlog.RelayConfig{PollInterval: time.Millisecond,
			Publish: func(_ context.Context, evs []canonical.Event) error {
				for _, ev := range evs {
					got <- ev.ID
				}
				return nil
			}})
	}()
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err, "begin")
	require.NoError(t, s.AppendTx(t.Context(), tx, eventlogtest.Event("a", 1), eventlogtest.Event("a", 2)), "AppendTx")
	require.NoError(t, tx.Commit(), "commit")
	for _, want := range []string{"a-1", "a-2"} {
		select {
		case id := <-got:
			assert.Equal(t, want, id, "relayed event")
		case <-time.After(20 * time.Second):
			t.Fatalf("the relay did not publish %s", want)
		}
	}
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled, "Relay's error")
	assert.ErrorIs(t, s.Relay(t.Context(), eventlog.RelayConfig{BatchSize: -1}), eventlog.ErrInvalidConfig, "Relay with a negative batch")
}

// TestOutboxTxDoesNotBlockAppend: an open application transaction that
// wrote to the outbox holds no lock a plain Append waits for; its events
// reach the log once, in order, when it commits and the relay runs.
func TestOutboxTxDoesNotBlockAppend(t *testing.T) {
	url := postgresURL(t)
	db := openPostgres(t, url)
	prefix := uniquePrefix()
	s := newSQL(t, db, eventlog.Postgres, prefix)
	t.Cleanup(func() { _ = s.Drop(context.Background()) })
	ctx := t.Context()

	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err, "begin the application's transaction")
	defer func() { _ = tx.Rollback() }()
	require.NoError(t, s.AppendTx(ctx, tx, eventlogtest.Event("o", 1), eventlogtest.Event("o", 2)), "AppendTx o-1, o-2")

	// Another writer (another goroutine, another connection) appends
	// while the transaction is open.
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Append(actx, eventlogtest.Event("p", 1)) }()
	require.NoError(t, <-errc, "Append while an application transaction with AppendTx is open")
	require.NoError(t, s.AppendTx(ctx, tx, eventlogtest.Event("o", 3)), "AppendTx o-3 after the Append")
	assert.Equal(t, []string{"p-1"}, readIDs(t, s), "the log before the transaction commits")

	require.NoError(t, tx.Commit(), "commit the application's transaction")
	n, err := s.RelayOnce(ctx, eventlog.RelayConfig{})
	require.NoError(t, err, "RelayOnce")
	assert.Equal(t, 3, n, "rows relayed")
	n, err = s.RelayOnce(ctx, eventlog.RelayConfig{})
	require.NoError(t, err, "RelayOnce again")
	assert.Zero(t, n, "nothing left to relay")
	assert.Equal(t, []string{"p-1", "o-1", "o-2", "o-3"}, readIDs(t, s), "the log after the relay: each event once, o in order")
}

// TestOutboxTwoRelays runs two relays (each over its own *sql.DB, as two
// processes would) on one outbox while four writers append to it in
// transactions of three events of their own key: every event reaches the
// log exactly once, and the events of each key in the order they were
// written.
func TestOutboxTwoRelays(t *testing.T) {
	const writers, txs = 4, 60
	sqlBackends(t, func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string) {
		ctx := t.Context()
		d := eventlog.SQLite
		var other *sql.DB
		if strings.HasPrefix(s.String(), "postgres") {
			d, other = eventlog.Postgres, openPostgres(t, postgresURL(t))
		} else {
			var seq int
			var name, path string
			require.NoError(t, db.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &path), "the SQLite file")
			other = openSQLite(t, path)
		}
		s2, err := eventlog.NewSQL(other, eventlog.SQLConfig{Dialect: d, Prefix: prefix})
		require.NoError(t, err, "NewSQL of the second relay")
		rctx, stop := context.WithCancel(ctx)
		relayErr := make(chan error, 2)
		for _, r := range []*eventlog.SQL{s, s2} {
			go func() { relayErr <- r.Relay(rctx, eventlog.RelayConfig{BatchSize: 7, PollInterval: time.Millisecond}) }()
		}
		werr := make(chan error, writers)
		for w := range writers {
			go func() {
				key := "w" + string(rune('a'+w))
				for i := range txs {
					tx, err := db.BeginTx(ctx, nil)
					if err == nil {
						err = s.AppendTx(ctx, tx, eventlogtest.Event(key, 3*i+1), eventlogtest.Event(key, 3*i+2),
							eventlogtest.Event(key, 3*i+3))
						if err == nil {
							err = tx.Commit()
						} else {
							_ = tx.Rollback()
						}
					}
					if err != nil {
						werr <- err
						return
					}
				}
				werr <- nil
			}()
		}
		for range writers {
			require.NoError(t, <-werr, "writer")
		}
		total := writers * txs * 3
		deadline := time.Now().Add(60 * time.Second)
		var ids []string
		for {
			ids = readAllIDs(t, s)
			if len(ids) >= total || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // a duplicate relayed late would show now
		ids = readAllIDs(t, s)
		stop()
		for range 2 {
			assert.ErrorIs(t, <-relayErr, context.Canceled, "Relay's error")
		}
		seen := map[string]int{}
		last := map[string]int{}
		for _, id := range ids {
			seen[id]++
			var key string
			var n int
			i := strings.LastIndexByte(id, '-')
			key = id[:i]
			_, err := fmt.Sscan(id[i+1:], &n)
			require.NoError(t, err, "sequence of %s", id)
			assert.Greater(t, n, last[key], "%s after %s-%d: per-key order", id, key, last[key])
			last[key] = n
		}
		assert.Len(t, seen, total, "every event relayed")
		for id, n := range seen {
			assert.Equal(t, 1, n, "%s relayed once", id)
		}
	})
}

// readAllIDs reads the whole log, in pages.
func readAllIDs(t *testing.T, s *eventlog.SQL) []string {
	t.Helper()
	var ids []string
	var after uint64
	for {
		entries, err := s.Read(t.Context(), after, 500)
		require.NoError(t, err, "Read after %d", after)
		if len(entries) == 0 {
			return ids
		}
		for _, e := range entries {
			require.NoError(t, e.Err, "entry %d", e.Offset)
			ids = append(ids, e.Event.ID)
			after = e.Offset
		}
	}
}
