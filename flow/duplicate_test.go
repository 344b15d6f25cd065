package flow_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/pgtest"
)

// wmsShipmentEvent returns the WMS feed's first shipment event of order id.
func wmsShipmentEvent(t *testing.T, w *world, id string) canonical.Event {
	t.Helper()
	page, err := w.wms.PollEvents(context.Background(), "", 1000)
	require.NoError(t, err, "wms PollEvents")
	for _, e := range page.Events {
		if e.Type != canonical.EventFulfillmentShipped {
			continue
		}
		s, err := canonical.DecodeData[canonical.Shipment](e)
		require.NoError(t, err, "decode shipment %s", e.ID)
		if s.OrderID == id {
			return e
		}
	}
	t.Fatalf("the WMS's feed has no shipment of %s", id)
	return canonical.Event{}
}

// TestChangedDuplicate appends again, under new event IDs, an order's
// submission and its shipment: once as they were (duplicates: counted,
// nothing changes) and once with other content under the same order
// version and shipment ID (not duplicates: each dead-lettered with
// ErrChangedDuplicate naming both fingerprints, nothing changes in the
// systems); in memory, and with the log and the order states in SQLite or
// PostgreSQL and a new flow after the order completed.
func TestChangedDuplicate(t *testing.T) {
	for _, store := range []string{"memory", "sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "flow.db")
			var pgURL, prefix string
			if store == "postgres" {
				pgURL = pgtest.URL(t)
				var b [6]byte
				_, _ = rand.Read(b[:])
				prefix = "flowdup_" + hex.EncodeToString(b[:]) + "_"
			}
			synctest.Test(t, func(t *testing.T) {
				w := newSystems(t)
				ctx := context.Background()
				restart := func() {
					var (
						db      *sql.DB
						dialect = eventlog.SQLite
						sdial   = idempotency.SQLite
					)
					switch store {
					case "memory":
						if w.flow == nil {
							w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
							w.connect(t, nil, flow.Config{Log: w.log})
						}
						return
					case "sqlite":
						db = openSQLite(t, path)
						t.Cleanup(func() { _ = db.Close() })
					case "postgres":
						db = pgtest.Open(t, pgURL)
						dialect, sdial = eventlog.Postgres, idempotency.Postgres
					}
					el, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: dialect, Prefix: prefix})
					require.NoError(t, err, "eventlog.NewSQL")
					require.NoError(t, el.Migrate(ctx), "eventlog Migrate")
					st, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: sdial, Prefix: prefix})
					require.NoError(t, err, "NewSQLState")
					require.NoError(t, st.Migrate(ctx), "SQLState Migrate")
					if store == "postgres" && w.flow == nil { // once, first in last out
						t.Cleanup(func() {
							assert.NoError(t, el.Drop(context.Background()), "drop the log")
							assert.NoError(t, st.Drop(context.Background()), "drop the states")
						})
					}
					w.log = el
					w.connect(t, nil, flow.Config{Log: el, State: st, Cursors: st})
				}
				restart()
				id := w.submit(t, "ACC-0002", "SKU-100:3")
				w.settle(t)
				before := w.agree(t, id)
				require.Equal(t, canonical.FulfillmentShipped, before.Status.Fulfillment, "fulfilment of %s", id)
				restart()

				sub := crmOrderEvent(t, w, id)
				o, err := canonical.DecodeData[canonical.Order](sub)
				require.NoError(t, err, "decode the order")
				o.Lines[0].Quantity = canonical.MustParseQuantity("5", "EA")
				changedSub, err := canonical.NewEvent(canonical.EventOrderSubmitted, o)
				require.NoError(t, err, "NewEvent changed order")
				changedSub.Source, changedSub.Subject, changedSub.PartitionKey = sub.Source, id, id

				ship := wmsShipmentEvent(t, w, id)
				s, err := canonical.DecodeData[canonical.Shipment](ship)
				require.NoError(t, err, "decode the shipment")
				s.TrackingNumbers = []string{"1ZCHANGED"}
				changedShip, err := canonical.NewEvent(canonical.EventFulfillmentShipped, s)
				require.NoError(t, err, "NewEvent changed shipment")
				changedShip.Source, changedShip.Subject, changedShip.PartitionKey = ship.Source, ship.Subject, ship.PartitionKey

				sub.ID, ship.ID, changedSub.ID, changedShip.ID = "again-1", "again-2", "changed-1", "changed-2"
				for _, e := range []*canonical.Event{&sub, &ship, &changedSub, &changedShip} {
					e.CorrelationID = before.CorrelationID
				}
				dups := w.metrics.get(flow.CounterDuplicate)
				require.NoError(t, w.log.Append(ctx, sub, ship, changedSub, changedShip), "Append")
				w.settle(t)

				assert.Equal(t, dups+2, w.metrics.get(flow.CounterDuplicate), "the unchanged repeats are duplicates")
				v := w.agree(t, id)
				require.Len(t, v.DeadLetters, 2, "dead letters of %s", id)
				for i, want := range []string{"order " + id + " version 1 submitted with fingerprint ", "shipment " + s.ID + " of order " + id + " with fingerprint "} {
					d := v.DeadLetters[i]
					assert.Equal(t, []string{"changed-1", "changed-2"}[i], d.Event.ID, "dead letter %d", i)
					assert.Equal(t, eventlog.ReasonPermanent, d.Reason, "reason of %s", d.Event.ID)
					assert.Contains(t, d.Error, flow.ErrChangedDuplicate.Error(), "error of %s", d.Event.ID)
					assert.Contains(t, d.Error, want, "error of %s", d.Event.ID)
					assert.Contains(t, d.Error, ", applied with ", "error of %s gives both fingerprints", d.Event.ID)
				}
				assert.Equal(t, before.Order.Lines[0].Quantity, v.Order.Lines[0].Quantity, "ordered quantity")
				assert.Equal(t, before.Shipments, v.Shipments, "shipments")
				assert.Equal(t, 1, w.erp.Counts().Orders, "ERP orders")
				assert.Equal(t, 1, w.erp.InvoiceCount(id), "ERP invoices")
			})
		})
	}
}
