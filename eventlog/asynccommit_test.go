package eventlog_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

// TestCommitInFlight holds the group commit of one key's event in the
// middle of its transaction (a deferred write that waits) and checks that
// the consumer goes on handling the events of another key meanwhile,
// while the key of the held event waits: its next event starts only once
// the commit is done, and finds it done. Before the commit ran on a
// goroutine of its own, the consumer's loop waited in it, the other key's
// events waited too, and the held write gave up.
func TestCommitInFlight(t *testing.T) {
	backends := map[string]func(t *testing.T) (*sql.DB, eventlog.Dialect, string){
		"sqlite": func(t *testing.T) (*sql.DB, eventlog.Dialect, string) {
			return openSQLite(t, filepath.Join(t.TempDir(), "log.db")), eventlog.SQLite, ""
		},
		"postgres": func(t *testing.T) (*sql.DB, eventlog.Dialect, string) {
			return openPostgres(t, postgresURL(t)), eventlog.Postgres, uniquePrefix()
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			db, d, prefix := open(t)
			b := newSQL(t, db, d, prefix)
			ctx := t.Context()
			const others = 5
			evs := []canonical.Event{eventlogtest.Event("a", 1)}
			for i := range others {
				evs = append(evs, eventlogtest.Event("b", i+1))
			}
			evs = append(evs, eventlogtest.Event("a", 2))
			err := b.Append(ctx, evs...)
			require.NoError(t, err, "Append")

			var (
				mu        sync.Mutex
				handled   []string
				committed bool // a-1's write committed (its after ran)
				sawCommit bool // a-2's handler found it so
			)
			aHandled := make(chan struct{})
			bDone := make(chan struct{})
			held := make(chan error, 1)
			var once sync.Once
			handler := func(ctx context.Context, ev canonical.Event) error {
				mu.Lock()
				handled = append(handled, ev.ID)
				if ev.ID == "a-2" {
					sawCommit = committed
				}
				mu.Unlock()
				switch ev.ID {
				case "a-1":
					first := true
					require.True(t, eventlog.Defer(ctx, db, func(ctx context.Context, tx *sql.Tx) error {
						if !first {
							return nil
						}
						first = false
						// Held until the other key's events are all
						// handled, at most 10 s.
						select {
						case <-bDone:
							held <- nil
						case <-time.After(10 * time.Second):
							held <- errors.New("the other key's events were not handled while the commit was in flight")
						}
						return nil
					}, func() {
						mu.Lock()
						committed = true
						mu.Unlock()
					}), "Defer")
					close(aHandled)
				case "b-1":
					// Done after a-1, so that the loop has a-1's
					// commit to make before b-2 can start.
					<-aHandled
				case "b-5":
					once.Do(func() { close(bDone) })
				}
				return nil
			}
			c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", Handler: handler, Workers: 4, PollInterval: time.Hour})
			require.NoError(t, err, "NewConsumer")
			runCtx, stop := context.WithCancel(ctx)
			errc := make(chan error, 1)
			go func() { errc <- c.Run(runCtx) }()
			require.NoError(t, <-held, "the held commit")
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			require.NoError(t, c.WaitIdle(wctx), "WaitIdle")
			stop()
			require.ErrorIs(t, <-errc, context.Canceled, "Run")

			mu.Lock()
			defer mu.Unlock()
			assert.ElementsMatch(t, []string{"a-1", "b-1", "b-2", "b-3", "b-4", "b-5", "a-2"}, handled, "events handled once each")
			assert.Equal(t, "a-2", handled[len(handled)-1], "a-2 is handled last, after a-1's commit")
			assert.True(t, sawCommit, "a-2's handler ran after a-1's write committed")
			st, err := b.Group(ctx, "g")
			require.NoError(t, err, "Group")
			assert.Equal(t, uint64(len(evs)), st.Cursor, "the group's cursor")
		})
	}
}
