package eventlog_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strconv"
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
	"github.com/distsync/distsync/internal/sqlspy"
)

var errKilled = errors.New("the process was killed")

// TestGroupCommitCrash kills a consumer over SQLite many times right after
// a handler made its effect and deferred its write (eventlog.Defer), that
// is between the handler's effects and the group commit of its batch, and
// at random moments; a killed process reaches neither the database nor
// the outside system again. Each restart opens the database afresh. At the
// end every event's deferred write is stored exactly once (a second one
// would violate the table's primary key), every dedupe claim is
// completed, nothing is dead-lettered, and the outside system saw each
// event's effect once more for each time the event was handled in a run
// that was killed before its batch committed, and never else: an event
// whose batch committed is never handled again.
func TestGroupCommitCrash(t *testing.T) {
	const (
		events = 300
		keys   = 25
	)
	path := filepath.Join(t.TempDir(), "log.db")
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 11))
		var (
			mu      sync.Mutex
			dead    bool
			effects = map[string]int{} // effects the outside system saw, by event ID
			allowed = map[string]int{} // repeats allowed: handled in a killed run, not committed
			ran     map[string]bool    // events whose effect the current run made
			kills   int
			lost    int // events handled in a killed run and not committed
		)
		kill := func(cancel context.CancelFunc) {
			if !dead {
				dead = true
				kills++
				cancel()
			}
		}
		open := func() (*sql.DB, *sql.DB, *eventlog.SQL, *idempotency.SQLStore) {
			raw := openSQLite(t, path)
			db, err := sqlspy.Open(raw, sqliteDSN(path), &sqlspy.Spy{Fail: func() error {
				mu.Lock()
				defer mu.Unlock()
				if dead {
					return errKilled
				}
				return nil
			}})
			require.NoError(t, err, "sqlspy.Open")
			db.SetMaxOpenConns(1)
			b := newSQL(t, db, eventlog.SQLite, "")
			st, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
			require.NoError(t, err, "NewSQLStore")
			require.NoError(t, st.Migrate(ctx), "idempotency Migrate")
			_, err = db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS applied (id TEXT PRIMARY KEY)")
			require.NoError(t, err, "create applied")
			return raw, db, b, st
		}
		raw, db, b, st := open()
		var evs []canonical.Event
		for i := range events {
			evs = append(evs, eventlogtest.Event("key"+strconv.Itoa(i%keys), i/keys+1))
		}
		require.NoError(t, b.Append(ctx, evs...), "Append")

		for round := 0; ; round++ {
			require.Less(t, round, 200, "rounds to handle every event")
			runCtx, cancel := context.WithCancel(ctx)
			mu.Lock()
			ran = map[string]bool{}
			armed := kills < 12
			mu.Unlock()
			c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", Workers: 4, Dedupe: st,
				Lease: 200 * time.Millisecond, PollInterval: time.Millisecond,
				Handler: func(hctx context.Context, ev canonical.Event) error {
					mu.Lock()
					defer mu.Unlock()
					if dead {
						return errKilled
					}
					effects[ev.ID]++
					ran[ev.ID] = true
					id := ev.ID
					ok := eventlog.Defer(hctx, db, func(ctx context.Context, tx *sql.Tx) error {
						_, err := tx.ExecContext(ctx, "INSERT INTO applied (id) VALUES (?)", id)
						return err
					}, nil)
					if !ok {
						return errors.New("Defer did not defer")
					}
					if armed && rng.IntN(10) == 0 {
						kill(cancel) // after the effect, before the group commit
					}
					return nil
				}})
			require.NoError(t, err, "NewConsumer")
			var timer *time.Timer
			if armed && rng.IntN(3) == 0 {
				timer = time.AfterFunc(time.Duration(rng.IntN(20))*time.Millisecond, func() {
					mu.Lock()
					defer mu.Unlock()
					kill(cancel)
				})
			}
			runErr := make(chan error, 1)
			go func() { runErr <- c.Run(runCtx) }()
			idle := c.WaitIdle(runCtx)
			cancel()
			<-runErr
			if timer != nil {
				timer.Stop()
			}
			mu.Lock()
			killed := dead
			dead = false
			mu.Unlock()
			if killed {
				// Which events the killed run handled but did not commit:
				// they are handled again, their effect repeated once.
				committed := appliedIDs(t, raw)
				mu.Lock()
				for id := range ran {
					if !committed[id] {
						allowed[id]++
						lost++
					}
				}
				mu.Unlock()
				require.NoError(t, st.Close(), "close idempotency store")
				require.NoError(t, db.Close(), "close database")
				require.NoError(t, raw.Close(), "close database")
				raw, db, b, st = open()
				continue
			}
			require.NoError(t, idle, "WaitIdle")
			break
		}

		committed := appliedIDs(t, raw)
		assert.Len(t, committed, events, "deferred writes stored")
		dls, err := b.List(ctx, eventlog.Filter{Consumer: "g"})
		require.NoError(t, err, "List")
		assert.Empty(t, dls, "dead letters")
		gs, err := b.Group(ctx, "g")
		require.NoError(t, err, "Group")
		assert.Equal(t, uint64(events), gs.Cursor, "the group's cursor")
		for _, ev := range evs {
			assert.True(t, committed[ev.ID], "write of %s stored", ev.ID)
			assert.Equal(t, 1+allowed[ev.ID], effects[ev.ID], "effects of %s (handled in %d killed runs before its batch committed)", ev.ID, allowed[ev.ID])
			rec, err := st.Lookup(ctx, idempotency.EventKey("g", ev.Source, ev.ID))
			if assert.NoError(t, err, "dedupe record of %s", ev.ID) {
				assert.Equal(t, idempotency.Completed, rec.Status, "dedupe record of %s", ev.ID)
			}
		}
		t.Logf("%d events, %d kills, %d events handled in a killed run and not committed", events, kills, lost)
		assert.GreaterOrEqual(t, kills, 10, "kills")
		assert.Positive(t, lost, "events lost to kills between their effect and the group commit")
		require.NoError(t, st.Close(), "close idempotency store")
		require.NoError(t, db.Close(), "close database")
		require.NoError(t, raw.Close(), "close database")
	})
}

// appliedIDs returns the IDs in the applied table, read through db.
func appliedIDs(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT id FROM applied")
	require.NoError(t, err, "read applied")
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id), "scan applied")
		ids[id] = true
	}
	require.NoError(t, rows.Err(), "read applied")
	return ids
}
