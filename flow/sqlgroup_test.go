package flow_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/pgtest"
	"github.com/distsync/distsync/wms"
)

var (
	_ flow.Consumer       = (*eventlog.Group)(nil)
	_ flow.ConsumerGroups = (*eventlog.Group)(nil)
)

// TestFlowOnSQLGroup runs the order-to-cash flow as two members of one
// partitioned group of an SQL log (eventlog.SQL.GroupConsumer), as two
// processes would (each over its own *sql.DB), sharing one database for
// the log, the order states, the feeds' cursors and the dedupe store, on
// SQLite and PostgreSQL. A coordinator that runs no member waits for the
// group with WaitIdle. Every order goes through: accepted once by the
// ERP, released once per fulfilment order, invoiced once per shipment,
// the flow's view agreeing with the systems; both members handle events
// and nothing is dead-lettered.
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

			e, err := erp.New(erp.Config{})
			require.NoError(t, err)
			w, err := wms.New(wms.Config{})
			require.NoError(t, err)
			c, err := crm.New(crm.Config{})
			require.NoError(t, err)

			ctx, cancel := context.WithCancel(t.Context())
			type member struct {
				f       *flow.Flow
				g       *eventlog.Group
				handled atomic.Int64
				done    chan error
			}
			members := make([]*member, 2)
			for i := range members {
				m := &member{done: make(chan error, 1)}
				members[i] = m
				_, mel, mst, midem := open()
				// The default lease (4s): a short one is lost on a loaded
				// machine, and the partitions then move back and forth.
				mk := mel.GroupConsumer(eventlog.GroupConfig{Partitions: parts, Member: fmt.Sprintf("m%d", i), Renew: 500 * time.Millisecond})
				m.f, err = flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: mel, State: mst, Cursors: mst, Dedupe: midem,
					PollInterval: 20 * time.Millisecond, DedupeLease: 5 * time.Second,
					NewConsumer: func(cc eventlog.ConsumerConfig) (flow.Consumer, error) {
						g, err := mk(cc)
						m.g = g
						return g, err
					},
					Middleware: func(next eventlog.Handler) eventlog.Handler {
						return func(ctx context.Context, ev canonical.Event) error {
							m.handled.Add(1)
							return next(ctx, ev)
						}
					}})
				require.NoError(t, err, "flow.New of member %d", i)
				go func() { m.done <- m.f.Run(ctx) }()
			}
			defer func() {
				cancel()
				for _, m := range members {
					<-m.done
				}
			}()
			require.Eventually(t, func() bool {
				return len(members[0].g.Owned()) == parts/2 && len(members[1].g.Owned()) == parts/2
			}, 30*time.Second, 20*time.Millisecond, "the members share the partitions")

			var ids []string
			for i := range 8 {
				opp, err := c.OpenOpportunity(t.Context(), crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
					SKU: "SKU-100", Quantity: canonical.MustParseQuantity(strconv.Itoa(1+i), "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
				require.NoError(t, err, "open opportunity %d", i)
				o, err := c.ConvertOpportunity(t.Context(), opp.ID)
				require.NoError(t, err, "convert opportunity %d", i)
				ids = append(ids, o.ID)
			}
			// The coordinator: a Group of the flow's group over its own
			// database that runs no member.
			_, wel, _, _ := open()
			watcher, err := wel.NewGroup(eventlog.GroupConfig{Partitions: parts, Consumer: eventlog.ConsumerConfig{Group: flow.DefaultGroup,
				Handler: func(context.Context, canonical.Event) error { return nil }}})
			require.NoError(t, err, "NewGroup of the watcher")
			// Generous bounds: on a loaded machine a round of the two
			// members may take many seconds.
			deadline := time.Now().Add(3 * time.Minute)
			for {
				wctx, wcancel := context.WithDeadline(t.Context(), deadline)
				require.NoError(t, watcher.WaitIdle(wctx), "the group catches up")
				wcancel()
				n, err := w.Step(t.Context())
				require.NoError(t, err, "warehouse step")
				if n == 0 && allInvoiced(t, members[0].f, ids) {
					break
				}
				require.True(t, time.Now().Before(deadline), "the orders are invoiced within 3 minutes")
				time.Sleep(50 * time.Millisecond) // the members' next poll of the feeds
			}
			fos := 0
			for _, id := range ids {
				v, err := members[1].f.Where(t.Context(), id)
				require.NoError(t, err, "Where %s", id)
				assert.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "order %s invoiced", id)
				assert.Equal(t, len(v.Shipments), e.InvoiceCount(id), "order %s: one invoice per shipment", id)
				assert.NotEmpty(t, v.Shipments, "order %s shipped", id)
				fos += len(v.FulfillmentOrders)
			}
			assert.Equal(t, len(ids), e.Counts().Orders, "one ERP acceptance per order")
			assert.Equal(t, fos, w.Counts().Releases, "one WMS release per fulfilment order")
			for i, m := range members {
				assert.Positive(t, m.handled.Load(), "member %d handled events", i)
			}
			dls, err := members[0].f.DeadLetters(t.Context(), eventlog.Filter{})
			require.NoError(t, err, "DeadLetters")
			assert.Empty(t, dls, "no dead letters")
		})
	}
}

// allInvoiced reports whether every order is invoiced in full.
func allInvoiced(t *testing.T, f *flow.Flow, ids []string) bool {
	t.Helper()
	for _, id := range ids {
		v, err := f.Where(t.Context(), id)
		if err != nil || v.Status.Billing != canonical.BillingInvoiced {
			return false
		}
	}
	return true
}
