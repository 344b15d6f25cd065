package flow_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/flowgrouptest"
	"github.com/distsync/distsync/internal/pgtest"
)

var (
	_ flow.Consumer       = (*eventlog.Group)(nil)
	_ flow.ConsumerGroups = (*eventlog.Group)(nil)
)

// TestFlowOnSQLGroup runs the order-to-cash flow as two members of one
// partitioned group of an SQL log (eventlog.SQL.GroupConsumer), as two
// processes would (each over its own *sql.DB), sharing one database for
// the log, the order states, the feeds' cursors and the dedupe store, on
// SQLite and PostgreSQL, with the check of internal/flowgrouptest.
func TestFlowOnSQLGroup(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			const parts = 4
			path := filepath.Join(t.TempDir(), "flow.db")
			var pgURL, prefix string
			dialect, sdial := eventlog.SQLite, idempotency.SQLite
			if store == "postgres" {
				pgURL = pgtest.URL(t)
				var b [6]byte
				_, _ = rand.Read(b[:])
				prefix = "flowgrp_" + hex.EncodeToString(b[:]) + "_"
				dialect, sdial = eventlog.Postgres, idempotency.Postgres
			}
			// open opens the database as a process of its own would.
			open := func() (*sql.DB, *eventlog.SQL, *flow.SQLState, *idempotency.SQLStore) {
				var db *sql.DB
				if store == "sqlite" {
					db = openSQLite(t, path)
					t.Cleanup(func() { _ = db.Close() })
				} else {
					db = pgtest.Open(t, pgURL)
				}
				el, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: dialect, Prefix: prefix})
				require.NoError(t, err, "eventlog.NewSQL")
				st, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: sdial, Prefix: prefix})
				require.NoError(t, err, "NewSQLState")
				idem, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: sdial, Table: prefix + "idem"})
				require.NoError(t, err, "idempotency.NewSQLStore")
				return db, el, st, idem
			}
			db, el, st, idem := open()
			require.NoError(t, el.Migrate(t.Context()), "eventlog Migrate")
			require.NoError(t, st.Migrate(t.Context()), "SQLState Migrate")
			require.NoError(t, idem.Migrate(t.Context()), "idempotency Migrate")
			if store == "postgres" {
				t.Cleanup(func() { // after the members stopped
					assert.NoError(t, el.Drop(context.Background()), "drop the log")
					assert.NoError(t, st.Drop(context.Background()), "drop the states")
					_, err := db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+prefix+"idem")
					assert.NoError(t, err, "drop the dedupe store")
				})
			}
			flowgrouptest.Run(t, parts, func(t *testing.T, name string) flowgrouptest.Process {
				_, el, st, idem := open()
				return flowgrouptest.Process{
					Config: flow.Config{Log: el, State: st, Cursors: st, Dedupe: idem},
					Member: func(member string, renew time.Duration) func(eventlog.ConsumerConfig) (flow.Consumer, error) {
						return flow.ConsumerOf(el.GroupConsumer(eventlog.GroupConfig{Partitions: parts, Member: member, Renew: renew}))
					},
					Watcher: func() (flow.Consumer, error) {
						return el.NewGroup(eventlog.GroupConfig{Partitions: parts, Consumer: eventlog.ConsumerConfig{Group: flow.DefaultGroup,
							Handler: func(context.Context, canonical.Event) error { return nil }}})
					},
				}
			})
		})
	}
}
