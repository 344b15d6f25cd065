package flow_test

import (
	"context"
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
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/wms"
)

func TestInventorySourcer(t *testing.T) {
	w, err := wms.New(wms.Config{})
	require.NoError(t, err, "wms.New")
	line := func(id, sku, qty string) canonical.OrderLine {
		return canonical.OrderLine{ID: id, Item: canonical.ItemRef{SKU: sku}, Quantity: canonical.MustParseQuantity(qty, "EA")}
	}
	tests := []struct {
		name         string
		lines        []canonical.OrderLine
		shipComplete bool
		// want is "WAREHOUSE LINE QTY" per fulfilment line, in plan order.
		want []string
	}{
		{name: "one warehouse fills all", lines: []canonical.OrderLine{line("L1", "SKU-100", "10"), line("L2", "SKU-104", "5")},
			want: []string{"WH-EAST L1 10", "WH-EAST L2 5"}},
		{name: "prefers the one warehouse that fills all", lines: []canonical.OrderLine{line("L1", "SKU-100", "100"), line("L2", "SKU-102", "300")},
			want: []string{"WH-EAST L1 100", "WH-EAST L2 300"}},
		{name: "split by most available", lines: []canonical.OrderLine{line("L1", "SKU-101", "100")},
			want: []string{"WH-EAST L1 80", "WH-WEST L1 20"}},
		{name: "ship complete never splits", lines: []canonical.OrderLine{line("L1", "SKU-101", "100")}, shipComplete: true,
			want: []string{"WH-EAST L1 100"}},
		{name: "missing stock backordered at the best warehouse", lines: []canonical.OrderLine{line("L1", "SKU-105", "7")},
			want: []string{"WH-EAST L1 7"}},
		{name: "over total stock", lines: []canonical.OrderLine{line("L1", "SKU-103", "30")},
			want: []string{"WH-EAST L1 20", "WH-SOUTH L1 5", "WH-WEST L1 5"}},
		{name: "unit other than the stock's", lines: []canonical.OrderLine{{ID: "L1", Item: canonical.ItemRef{SKU: "SKU-102"},
			Quantity: canonical.MustParseQuantity("2", "XCS")}},
			want: []string{"WH-EAST L1 2"}},
	}
	s := &flow.InventorySourcer{Inventory: w}
	for _, tt := range tests {
		o := canonical.Order{ID: "O1", Version: 1, Lines: tt.lines, ShipComplete: tt.shipComplete}
		fos, err := s.Plan(context.Background(), o)
		require.NoError(t, err, "Plan %s", tt.name)
		var got []string
		for i, fo := range fos {
			assert.Equal(t, canonical.SplitPosition{Group: "O1", Index: i + 1, Count: len(fos)}, fo.Split, "split of %s", tt.name)
			assert.Equal(t, "O1-"+fo.Warehouse, fo.ID, "ID of %s", tt.name)
			for _, l := range fo.Lines {
				got = append(got, fo.Warehouse+" "+l.OrderLineID+" "+l.Quantity.Value.String())
			}
		}
		assert.Equal(t, tt.want, got, "plan of %s", tt.name)
	}
}

func TestInventorySourcerNoReader(t *testing.T) {
	_, err := (&flow.InventorySourcer{}).Plan(context.Background(), canonical.Order{ID: "O1"})
	require.ErrorIs(t, err, flow.ErrInvalidConfig, "nil Inventory")
}

func TestConfigValidate(t *testing.T) {
	w, err := wms.New(wms.Config{})
	require.NoError(t, err, "wms.New")
	ok := newWorld(t, nil)
	base := func() flow.Config {
		return flow.Config{ERP: ok.erp, WMS: w, CRM: ok.crm, Log: ok.log}
	}
	tests := []struct {
		name   string
		modify func(*flow.Config)
		want   string
	}{
		{name: "valid", modify: func(*flow.Config) {}},
		{name: "no ERP", modify: func(c *flow.Config) { c.ERP = nil }, want: "ERP is required"},
		{name: "no WMS", modify: func(c *flow.Config) { c.WMS = nil }, want: "WMS is required"},
		{name: "no CRM", modify: func(c *flow.Config) { c.CRM = nil }, want: "CRM is required"},
		{name: "no log", modify: func(c *flow.Config) { c.Log = nil }, want: "Log is required"},
		{name: "negative workers", modify: func(c *flow.Config) { c.Workers = -1 }, want: "Workers"},
		{name: "negative page size", modify: func(c *flow.Config) { c.PageSize = -1 }, want: "PageSize"},
		{name: "negative poll interval", modify: func(c *flow.Config) { c.PollInterval = -1 }, want: "PollInterval"},
		{name: "bad policy", modify: func(c *flow.Config) { c.Policy.MaxAttempts = -1 }, want: "Policy"},
		{name: "empty order sources", modify: func(c *flow.Config) { c.OrderSources = []string{} }, want: "OrderSources is empty"},
		{name: "empty order source", modify: func(c *flow.Config) { c.OrderSources = []string{crm.Source, ""} }, want: "OrderSources has an empty source"},
		{name: "CRM without a source", modify: func(c *flow.Config) { c.CRM = sourcelessCRM{c.CRM} }, want: "OrderSources is required"},
		{name: "CRM without a source, OrderSources set", modify: func(c *flow.Config) {
			c.CRM, c.OrderSources = sourcelessCRM{c.CRM}, []string{"urn:example:crm"}
		}},
		{name: "ERP with a feed, without a source", modify: func(c *flow.Config) { c.ERP = sourcelessFeedERP{c.ERP, c.ERP.(connector.EventFeed)} },
			want: "ERPSources is required"},
		{name: "ERP with a feed, without a source, ERPSources set", modify: func(c *flow.Config) {
			c.ERP, c.ERPSources = sourcelessFeedERP{c.ERP, c.ERP.(connector.EventFeed)}, []string{"urn:example:erp"}
		}},
		{name: "ERP without a feed or a source", modify: func(c *flow.Config) { c.ERP = sourcelessERP{c.ERP} }},
		{name: "empty ERP source", modify: func(c *flow.Config) { c.ERPSources = []string{""} }, want: "ERPSources has an empty source"},
		{name: "empty ERP sources", modify: func(c *flow.Config) { c.ERPSources = []string{} }},
		{name: "WMS without a source", modify: func(c *flow.Config) { c.WMS = sourcelessWMS{c.WMS} }, want: "WMSSources is required"},
		{name: "WMS without a source, WMSSources set", modify: func(c *flow.Config) {
			c.WMS, c.WMSSources = sourcelessWMS{c.WMS}, []string{"urn:example:wms"}
		}},
		{name: "empty WMS sources", modify: func(c *flow.Config) { c.WMSSources = []string{} }, want: "WMSSources is empty"},
		{name: "empty WMS source", modify: func(c *flow.Config) { c.WMSSources = []string{""} }, want: "WMSSources has an empty source"},
		{name: "negative max event size", modify: func(c *flow.Config) { c.MaxEventSize = -1 }, want: "MaxEventSize is negative"},
		{name: "negative max lines", modify: func(c *flow.Config) { c.MaxLines = -1 }, want: "MaxLines is negative"},
		{name: "negative dedupe lease", modify: func(c *flow.Config) { c.DedupeLease = -time.Second }, want: "DedupeLease"},
	}
	for _, tt := range tests {
		c := base()
		tt.modify(&c)
		err := c.Validate()
		_, nerr := flow.New(c)
		if tt.want == "" {
			assert.NoError(t, err, "Validate %s", tt.name)
			assert.NoError(t, nerr, "New %s", tt.name)
			continue
		}
		require.ErrorIs(t, err, flow.ErrInvalidConfig, "Validate %s", tt.name)
		assert.Contains(t, err.Error(), tt.want, "Validate %s", tt.name)
		assert.ErrorIs(t, nerr, flow.ErrInvalidConfig, "New %s", tt.name)
	}
}

// sourcelessCRM hides the Source method of a CRM.
type sourcelessCRM struct{ connector.CRM }

// sourcelessWMS hides the Source method of a WMS.
type sourcelessWMS struct{ connector.WMS }

// sourcelessERP hides the Source method and the optional roles of an ERP.
type sourcelessERP struct{ connector.ERP }

// sourcelessFeedERP is an ERP with an event feed and no Source method.
type sourcelessFeedERP struct {
	connector.ERP
	connector.EventFeed
}

var _ connector.InventoryReader = (*wms.Memory)(nil)

// stockReader returns fixed positions.
type stockReader []canonical.InventoryPosition

func (s stockReader) Inventory(context.Context, connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	return s, nil
}

func TestInventorySourcerConvertsUnits(t *testing.T) {
	pos := func(wh, kg string) canonical.InventoryPosition {
		return canonical.InventoryPosition{Item: canonical.ItemRef{SKU: "FLOUR"}, Location: wh, Status: canonical.InventoryAvailable,
			Kind: canonical.QuantitySnapshot, Available: canonical.MustParseQuantity(kg, "KGM")}
	}
	s := &flow.InventorySourcer{Inventory: stockReader{pos("WH-A", "1.5"), pos("WH-B", "3")}}
	tests := []struct {
		name string
		qty  canonical.Quantity
		want []string
	}{
		{name: "grams against stock in kilograms", qty: canonical.MustParseQuantity("2000", "GRM"), want: []string{"WH-B 2000 GRM"}},
		{name: "grams split over two warehouses", qty: canonical.MustParseQuantity("4000", "GRM"), want: []string{"WH-A 1000 GRM", "WH-B 3000 GRM"}},
		{name: "a unit of another dimension is unavailable", qty: canonical.MustParseQuantity("2", "EA"), want: []string{"WH-A 2 EA"}},
	}
	for _, tt := range tests {
		o := canonical.Order{ID: "O1", Version: 1, Lines: []canonical.OrderLine{{ID: "L1", Item: canonical.ItemRef{SKU: "FLOUR"}, Quantity: tt.qty}}}
		fos, err := s.Plan(context.Background(), o)
		require.NoError(t, err, "Plan %s", tt.name)
		var got []string
		for _, fo := range fos {
			for _, l := range fo.Lines {
				got = append(got, fo.Warehouse+" "+l.Quantity.Value.String()+" "+string(l.Quantity.Unit))
			}
		}
		assert.Equal(t, tt.want, got, "plan of %s", tt.name)
	}
}

// TestNotStockedDeadLetteredAtOnce sells an item the ERP knows but no
// warehouse stocks (the WMS's item master lacks it): no retry can source
// it, so the order's accepted event is dead-lettered after one attempt with
// ErrNotStocked naming the item, and nothing is released; a plan over a
// reader with no record of the item fails the same way.
func TestNotStockedDeadLetteredAtOnce(t *testing.T) {
	items := slices.DeleteFunc(wms.DemoItems(), func(it canonical.Item) bool { return it.SKU == "SKU-103" })
	var stock []wms.Stock
	for _, it := range items {
		stock = append(stock, wms.Stock{Warehouse: "WH-EAST", SKU: it.SKU, Quantity: canonical.DecimalFromInt(100)})
	}
	synctest.Test(t, func(t *testing.T) {
		w := newSystems(t)
		var err error
		w.wms, err = wms.New(wms.Config{Warehouses: wms.DemoWarehouses(), Items: items, Stock: stock,
			Clock: func() time.Time { return time.Now().Add(max(0, time.Until(erp.DemoEpoch().Add(time.Minute)))) }})
		require.NoError(t, err, "wms.New")
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, nil, flow.Config{Log: w.log})
		id := w.submit(t, "ACC-0002", "SKU-100:2", "SKU-103:1")
		w.settle(t)
		v, err := w.flow.Where(context.Background(), id)
		require.NoError(t, err, "Where %s", id)
		require.Len(t, v.DeadLetters, 1, "dead letters of %s", id)
		d := v.DeadLetters[0]
		assert.Equal(t, canonical.EventOrderAccepted, d.Event.Type, "dead-lettered event")
		assert.Equal(t, eventlog.ReasonPermanent, d.Reason, "reason")
		assert.Equal(t, 1, d.Attempts, "attempts")
		assert.Contains(t, d.Error, flow.ErrNotStocked.Error(), "error")
		assert.Contains(t, d.Error, `"SKU-103"`, "error names the item")
		assert.NotContains(t, d.Error, `"SKU-100"`, "error names only the item not stocked")
		assert.Equal(t, "accepted", v.Phase, "phase")
		assert.Zero(t, w.wms.Counts().Releases, "WMS releases")
	})

	s := &flow.InventorySourcer{Inventory: stockReader{}}
	_, err := s.Plan(context.Background(), canonical.Order{ID: "O1", Version: 1, Lines: []canonical.OrderLine{{ID: "L1",
		Item: canonical.ItemRef{SKU: "FLOUR"}, Quantity: canonical.MustParseQuantity("1", "KGM")}}})
	require.ErrorIs(t, err, flow.ErrNotStocked, "plan of an item no warehouse stocks")
	assert.True(t, retry.IsPermanent(err), "the error is permanent: %v", err)
}

// TestOutOfStockEverywhereBackordered: an item the warehouses stock but
// have none of (SKU-105: 0 everywhere in the demo stock) is not
// ErrNotStocked: the in-memory WMS reports its empty positions, so the
// order is released and backordered, and nothing is dead-lettered; stock
// that arrives later ships it.
func TestOutOfStockEverywhereBackordered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		id := w.submit(t, "ACC-0002", "SKU-105:3")
		w.settle(t)
		v, err := w.flow.Where(context.Background(), id)
		require.NoError(t, err, "Where %s", id)
		assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
		assert.Equal(t, "released", v.Phase, "phase")
		assert.Equal(t, canonical.FulfillmentBackordered, v.Status.Fulfillment, "fulfilment")
		assert.Equal(t, 1, w.wms.Counts().Releases, "WMS releases")
		w.adjust(t, "ADJ-105", "SKU-105", v.FulfillmentOrders[0].Warehouse, "3")
		w.settle(t)
		v = w.agree(t, id)
		assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "fulfilment after the stock arrived")
	})
}
