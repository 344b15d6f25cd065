package flow_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/wms"
)

// The warehouses of the two-WMS world: the distributor's own DC runs
// WH-EAST and WH-SOUTH on one WMS ("dc"), a 3PL runs WH-WEST on another
// ("3pl").
var (
	dcWarehouses  = []string{"WH-EAST", "WH-SOUTH"}
	tplWarehouses = []string{"WH-WEST"}
)

// newTwoWMSSystems builds the reference systems of the demo world with its
// warehouses and stock split over two WMS simulators, "dc" (wms) and "3pl"
// (tpl), without a flow.
func newTwoWMSSystems(t testing.TB) *world {
	t.Helper()
	w := newSystems(t)
	shift := max(0, time.Until(erp.DemoEpoch().Add(time.Minute)))
	clock := func() time.Time { return time.Now().Add(shift) }
	mk := func(name string, owns []string) *wms.Memory {
		cfg := wms.Config{Name: name, Items: wms.DemoItems(), Clock: clock}
		if name == "3pl" { // its own GS1 prefix and tracking numbers
			cfg.CompanyPrefix, cfg.Seed = "0614142", 2
		}
		for _, l := range wms.DemoWarehouses() {
			if slices.Contains(owns, l.ID) {
				cfg.Warehouses = append(cfg.Warehouses, l)
			}
		}
		for _, s := range wms.DemoStock() {
			if slices.Contains(owns, s.Warehouse) {
				cfg.Stock = append(cfg.Stock, s)
			}
		}
		m, err := wms.New(cfg)
		require.NoError(t, err, "wms.New %s", name)
		return m
	}
	w.wms, w.tpl = mk("dc", dcWarehouses), mk("3pl", tplWarehouses)
	return w
}

// newTwoWMSWorld is newWorld over two WMS.
func newTwoWMSWorld(t testing.TB) *world {
	t.Helper()
	w := newTwoWMSSystems(t)
	w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
	w.connect(t, nil, flow.Config{Log: w.log})
	return w
}

// checkTwoFeeds checks that both systems' feeds have a cursor of their own
// in the SQLState over db, and that both had releases.
func checkTwoFeeds(t testing.TB, db *sql.DB, w *world) {
	t.Helper()
	st, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.SQLite})
	require.NoError(t, err, "NewSQLState")
	for feed, want := range map[string]bool{flow.FeedWMSEvents + "/dc": true, flow.FeedWMSEvents + "/3pl": true, flow.FeedWMSEvents: false} {
		c, err := st.Load(context.Background(), feed)
		require.NoError(t, err, "Load cursor %s", feed)
		assert.Equal(t, want, c != "", "cursor of %s stored: %q", feed, c)
	}
	assert.Positive(t, w.wms.Counts().Releases, "releases in the DC's WMS")
	assert.Positive(t, w.tpl.Counts().Releases, "releases in the 3PL's WMS")
}

// TestTwoWMSSplitOrder: an order that no one warehouse can fill is split
// over WH-EAST (the DC's WMS) and WH-WEST (the 3PL's): each fulfilment
// order is released to the system that owns its warehouse, both ship, the
// ERP invoices once per shipment, and Where says which system holds which
// fulfilment order.
func TestTwoWMSSplitOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTwoWMSWorld(t)
		// SKU-101: 80 in WH-EAST, none in WH-SOUTH, 30 in WH-WEST.
		id := w.submit(t, "ACC-0001", "SKU-101:100")
		w.settle(t)
		v := w.agree(t, id)
		require.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "fulfilment of %s", id)
		require.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "billing of %s", id)
		require.Len(t, v.FulfillmentOrders, 2, "fulfilment orders of %s", id)
		assert.Equal(t, map[string]string{id + "-WH-EAST": "dc", id + "-WH-WEST": "3pl"}, v.Systems, "systems of %s", id)
		assert.Equal(t, 1, w.wms.Counts().Releases, "releases in the DC's WMS")
		assert.Equal(t, 1, w.tpl.Counts().Releases, "releases in the 3PL's WMS")
		whs := map[string]bool{}
		for _, s := range v.Shipments {
			whs[s.Warehouse] = true
		}
		assert.Equal(t, map[string]bool{"WH-EAST": true, "WH-WEST": true}, whs, "warehouses of the shipments of %s", id)
		assert.Len(t, v.Invoices, len(v.Shipments), "one invoice per shipment of %s", id)
		// The timeline names each WMS as the decorators were told.
		systems := map[string]bool{}
		for _, s := range v.Timeline {
			systems[s.System] = true
		}
		assert.True(t, systems["wms-dc"] && systems["wms-3pl"], "timeline of %s names both WMS: %v", id, systems)
	})
}

// TestTwoWMSCancelRemainder: with the DC's part of a split order shipped
// and the 3PL's not, cancelling the order's remainder goes to the 3PL's
// WMS only, and the systems agree on what shipped and what was cancelled.
func TestTwoWMSCancelRemainder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTwoWMSWorld(t)
		ctx := context.Background()
		id := w.submit(t, "ACC-0001", "SKU-101:100")
		var v flow.OrderView
		for range 50 {
			require.NoError(t, w.flow.Drain(ctx), "Drain")
			var err error
			v, err = w.flow.Where(ctx, id)
			require.NoError(t, err, "Where %s", id)
			if len(v.Shipments) > 0 {
				break
			}
			_, err = w.wms.Step(ctx) // the DC works, the 3PL does not
			require.NoError(t, err, "dc Step")
		}
		require.Len(t, v.Shipments, 1, "the DC's shipment of %s", id)
		require.Equal(t, "WH-EAST", v.Shipments[0].Warehouse, "the DC's shipment of %s", id)
		_, err := w.crm.RequestCancellation(ctx, id, nil, "customer changed mind")
		require.NoError(t, err, "RequestCancellation %s", id)
		w.settle(t)
		v = w.agree(t, id)
		assert.Equal(t, 0, w.wms.Counts().Cancellations, "nothing to cancel in the DC's WMS")
		assert.Equal(t, 1, w.tpl.Counts().Cancellations, "the remainder cancelled in the 3PL's WMS")
		l := v.Order.Lines[0]
		assert.Equal(t, "80", l.Buckets.Get(canonical.BucketShipped).String(), "shipped of %s", id)
		assert.Equal(t, "20", l.Buckets.Get(canonical.BucketCancelled).String(), "cancelled of %s", id)
		assert.Len(t, v.Shipments, 1, "shipments of %s", id)
	})
}

// TestTwoWMSReturnAndInventory: a return received in the 3PL's warehouse is
// registered with the 3PL's WMS and credited; the stock moves of both
// systems reach the ERP and the CRM.
func TestTwoWMSReturnAndInventory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTwoWMSWorld(t)
		ctx := context.Background()
		id := w.submit(t, "ACC-0001", "SKU-101:100")
		w.settle(t)
		r, err := w.crm.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: id, Warehouse: "WH-WEST",
			Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("3", "EA"), Reason: "damaged box"}}})
		require.NoError(t, err, "CRM AuthorizeReturn")
		w.settle(t)
		_, err = w.tpl.ReceiveReturn(ctx, r.ID, []wms.ReturnReceipt{{LineID: r.Lines[0].ID, Quantity: canonical.MustParseQuantity("3", "EA"),
			Condition: canonical.ReturnCondition("opened"), Disposition: canonical.Disposition("restock")}})
		require.NoError(t, err, "3PL ReceiveReturn")
		w.adjust(t, "ADJ-DC", "SKU-102", "WH-EAST", "7")
		w.adjust(t, "ADJ-3PL", "SKU-102", "WH-WEST", "9")
		w.settle(t)
		v := w.agree(t, id)
		require.Len(t, v.CreditMemos, 1, "credit memos of %s", id)
		assert.Equal(t, "3", v.Order.Lines[0].Buckets.Get(canonical.BucketReturned).String(), "returned of %s", id)
		assert.Equal(t, "3pl", v.Systems[r.ID], "system of return %s", r.ID)
		other := r
		other.ID, other.RMANumber, other.Warehouse, other.Lines = "RET-NORTH", "RMA-NORTH", "WH-NORTH", slices.Clone(r.Lines)
		for i := range other.Lines {
			other.Lines[i].Received = canonical.Quantity{}
		}
		assert.ErrorIs(t, w.flow.AuthorizeReturn(ctx, other), flow.ErrUnownedWarehouse, "a return to a warehouse no WMS owns")
		_, err = w.wms.FulfillmentOrder(ctx, id+"-WH-WEST")
		assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err), "the DC's WMS does not hold the 3PL's fulfilment order")
		for _, c := range []struct {
			m       *wms.Memory
			sku, wh string
			want    string
		}{
			{w.wms, "SKU-102", "WH-EAST", "487"}, // 480 + 7
			{w.tpl, "SKU-102", "WH-WEST", "9"},   // 0 + 9
			{w.tpl, "SKU-101", "WH-WEST", "13"},  // 30 - 20 shipped + 3 restocked
		} {
			got := inventoryAgrees(t, c.m, w.erp, w.crm, c.sku, c.wh)
			assert.Equal(t, c.want, got.onHand.String(), "on hand of %s@%s", c.sku, c.wh)
		}
		dls, err := w.flow.DeadLetters(ctx, eventlogFilter())
		require.NoError(t, err, "DeadLetters")
		assert.Empty(t, dls, "dead letters")
	})
}

// TestTwoWMSForeignEvents: a WMS speaks for its own warehouses only. An
// event of the DC's source about the 3PL's warehouse, or about a warehouse
// no system owns, is dead-lettered with ErrForeignSource before it has an
// effect; a shipment of the DC's source for the 3PL's fulfilment order,
// naming the DC's warehouse, is dead-lettered as a bad event.
func TestTwoWMSForeignEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTwoWMSWorld(t)
		ctx := context.Background()
		id := w.submit(t, "ACC-0001", "SKU-101:100")
		w.settle(t)
		v := w.agree(t, id)
		i := slices.IndexFunc(v.Shipments, func(s canonical.Shipment) bool { return s.Warehouse == "WH-WEST" })
		require.GreaterOrEqual(t, i, 0, "the 3PL's shipment of %s", id)
		invoices := w.erp.InvoiceCount(id)

		shipment := func(evID string, mod func(*canonical.Shipment)) canonical.Event {
			s := v.Shipments[i]
			s.ID += "-" + evID
			mod(&s)
			e, err := canonical.NewEvent(canonical.EventFulfillmentShipped, s)
			require.NoError(t, err, "NewEvent %s", evID)
			e.ID, e.Source, e.Subject, e.PartitionKey, e.Time = evID, "wms://dc", s.ID, id, time.Now()
			return e
		}
		adjustment := func(evID, wh string) canonical.Event {
			a := canonical.InventoryAdjustment{ID: evID, Item: canonical.ItemRef{SKU: "SKU-100"}, Location: wh,
				Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("5", "EA"), Reason: canonical.AdjustFound,
				AdjustedAt: time.Now(), Sequence: 1_000_000}
			e, err := canonical.NewEvent(canonical.EventInventoryAdjusted, a)
			require.NoError(t, err, "NewEvent %s", evID)
			e.ID, e.Source, e.Subject, e.PartitionKey, e.Time = evID, "wms://dc", "SKU-100@"+wh, "SKU-100@"+wh, time.Now()
			return e
		}
		// A return authorized for the DC's WH-EAST that the 3PL says it
		// received at WH-WEST.
		r, err := w.crm.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: id, Warehouse: "WH-EAST",
			Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("1", "EA"), Reason: "test"}}})
		require.NoError(t, err, "CRM AuthorizeReturn")
		w.settle(t)
		credits := w.erp.Counts().CreditMemos
		got := r
		got.Version, got.Warehouse, got.ReceivedAt, got.Lines = 1, "WH-WEST", time.Now(), slices.Clone(r.Lines)
		got.Lines[0].Received, got.Lines[0].Condition, got.Lines[0].Disposition = got.Lines[0].Authorized, "opened", "restock"
		received, err := canonical.NewEvent(canonical.EventReturnReceived, got)
		require.NoError(t, err, "NewEvent return.received")
		received.ID, received.Source, received.Subject, received.PartitionKey, received.Time = "F5", "wms://3pl", r.ID, id, time.Now()

		tests := []struct {
			name string
			ev   canonical.Event
			want error
			text string
		}{
			{"shipment of the 3PL's warehouse from the DC", shipment("F1", func(*canonical.Shipment) {}), flow.ErrForeignSource, `owned by WMS "3pl"`},
			{"inventory of the 3PL's warehouse from the DC", adjustment("F2", "WH-WEST"), flow.ErrForeignSource, `owned by WMS "3pl"`},
			{"inventory of an unowned warehouse", adjustment("F3", "WH-NORTH"), flow.ErrForeignSource, "owned by no WMS"},
			{"shipment of the 3PL's fulfilment order at the DC's warehouse", shipment("F4", func(s *canonical.Shipment) { s.Warehouse = "WH-EAST" }),
				flow.ErrBadEvent, `is of warehouse "WH-WEST", not "WH-EAST"`},
			{"return of the DC's warehouse received by the 3PL", received, flow.ErrBadEvent, `authorized for warehouse "WH-EAST", received at "WH-WEST"`},
		}
		for _, tt := range tests {
			require.NoError(t, w.log.Append(ctx, tt.ev), "Append %s", tt.name)
		}
		require.NoError(t, w.flow.Drain(ctx), "Drain")
		dls, err := w.flow.DeadLetters(ctx, eventlogFilter())
		require.NoError(t, err, "DeadLetters")
		for _, tt := range tests {
			i := slices.IndexFunc(dls, func(d eventlog.DeadLetter) bool { return d.Event.ID == tt.ev.ID })
			if !assert.GreaterOrEqual(t, i, 0, "%s: dead-lettered", tt.name) {
				continue
			}
			assert.Contains(t, dls[i].Error, tt.want.Error(), "%s: error", tt.name)
			assert.Contains(t, dls[i].Error, tt.text, "%s: error", tt.name)
		}
		assert.Equal(t, invoices, w.erp.InvoiceCount(id), "no invoice for a refused shipment of %s", id)
		assert.Equal(t, credits, w.erp.Counts().CreditMemos, "no credit for a refused receipt")
		_, ok := w.erp.Stock("SKU-100", "WH-NORTH")
		assert.False(t, ok, "no stock posted for an unowned warehouse")
	})
}

// TestWarehousesValidate checks Config.Warehouses: each warehouse owned by
// exactly one named system with its sources, and not beside Config.WMS.
func TestWarehousesValidate(t *testing.T) {
	w := newTwoWMSSystems(t)
	base := func() flow.Config {
		return flow.Config{ERP: w.erp, CRM: w.crm, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
			Warehouses: []flow.WarehouseSystem{
				{Name: "dc", WMS: w.wms, Locations: []string{"WH-EAST", "WH-SOUTH"}},
				{Name: "3pl", WMS: w.tpl, Locations: []string{"WH-WEST"}},
			}}
	}
	tests := []struct {
		name   string
		modify func(*flow.Config)
		want   string // "" means valid
	}{
		{"valid", func(*flow.Config) {}, ""},
		{"explicit sources", func(c *flow.Config) {
			c.Warehouses[0].Sources = []string{"wms://dc", "https://dc.example/webhooks"}
		}, ""},
		{"one system", func(c *flow.Config) { c.Warehouses = c.Warehouses[:1] }, ""},
		{"beside WMS", func(c *flow.Config) { c.WMS = w.wms }, "WMS and Warehouses are exclusive"},
		{"beside WMSSources", func(c *flow.Config) { c.WMSSources = []string{"wms://dc"} }, "WMSSources is for WMS"},
		{"no name", func(c *flow.Config) { c.Warehouses[1].Name = "" }, "Warehouses[1].Name is required"},
		{"duplicate name", func(c *flow.Config) { c.Warehouses[1].Name = "dc" }, `Warehouses[1] ("dc").Name is Warehouses[0]'s too`},
		{"no WMS", func(c *flow.Config) { c.Warehouses[1].WMS = nil }, `Warehouses[1] ("3pl").WMS is required`},
		{"no locations", func(c *flow.Config) { c.Warehouses[1].Locations = nil }, `Warehouses[1] ("3pl").Locations is empty`},
		{"empty location", func(c *flow.Config) { c.Warehouses[1].Locations = []string{""} }, "Locations has an empty warehouse"},
		{"warehouse owned twice", func(c *flow.Config) { c.Warehouses[1].Locations = []string{"WH-WEST", "WH-EAST"} },
			`Warehouses[1] ("3pl").Locations: warehouse "WH-EAST" is owned by Warehouses[0] ("dc") too`},
		{"warehouse named twice", func(c *flow.Config) { c.Warehouses[1].Locations = []string{"WH-WEST", "WH-WEST"} },
			`Locations names "WH-WEST" twice`},
		{"empty sources", func(c *flow.Config) { c.Warehouses[0].Sources = []string{} }, "Sources is empty"},
		{"empty source", func(c *flow.Config) { c.Warehouses[0].Sources = []string{""} }, "Sources has an empty source"},
		{"shared source", func(c *flow.Config) { c.Warehouses[1].Sources = []string{"wms://dc"} },
			`Warehouses[1] ("3pl").Sources: source "wms://dc" is Warehouses[0]'s ("dc") too`},
		{"no source reported", func(c *flow.Config) { c.Warehouses[1].WMS = sourceless{w.tpl} },
			`Warehouses[1] ("3pl").Sources is required`},
		{"neither WMS nor Warehouses", func(c *flow.Config) { c.Warehouses = nil }, "WMS is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.modify(&cfg)
			err := cfg.Validate()
			_, nerr := flow.New(cfg)
			if tt.want == "" {
				require.NoError(t, err, "Validate %s", tt.name)
				require.NoError(t, nerr, "New %s", tt.name)
				return
			}
			require.ErrorIs(t, err, flow.ErrInvalidConfig, "Validate %s", tt.name)
			assert.Contains(t, err.Error(), tt.want, "Validate %s", tt.name)
			require.ErrorIs(t, nerr, flow.ErrInvalidConfig, "New %s", tt.name)
		})
	}
}

// sourceless hides the Source method of a WMS.
type sourceless struct{ connector.WMS }

// TestTwoWMSUnownedRelease: a Sourcer that plans a warehouse no system
// owns gets the order's release dead-lettered with ErrUnownedWarehouse,
// and nothing released anywhere.
func TestTwoWMSUnownedRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTwoWMSSystems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, nil, flow.Config{Log: w.log, Sourcer: northSourcer{}})
		id := w.submit(t, "ACC-0001", "SKU-100:1")
		require.NoError(t, w.flow.Drain(context.Background()), "Drain")
		dls, err := w.flow.DeadLetters(context.Background(), eventlogFilter())
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 1, "dead letters of %s", id)
		assert.Contains(t, dls[0].Error, flow.ErrUnownedWarehouse.Error(), "dead letter of %s", id)
		assert.Contains(t, dls[0].Error, `"WH-NORTH"`, "dead letter of %s", id)
		assert.Zero(t, w.releases(), "releases")
	})
}

// northSourcer plans every order whole from WH-NORTH.
type northSourcer struct{}

func (northSourcer) Plan(_ context.Context, o canonical.Order) ([]canonical.FulfillmentOrder, error) {
	fo := canonical.FulfillmentOrder{ID: o.ID + "-WH-NORTH", OrderID: o.ID, Warehouse: "WH-NORTH", ShipTo: o.ShipTo}
	for _, l := range o.Lines {
		fo.Lines = append(fo.Lines, canonical.FulfillmentLine{ID: fo.ID + ":" + l.ID, OrderLineID: l.ID, Item: l.Item, Quantity: l.Quantity})
	}
	if fo.ShipTo.ID == "" {
		return nil, errors.New("order has no ship-to")
	}
	return []canonical.FulfillmentOrder{fo}, nil
}
