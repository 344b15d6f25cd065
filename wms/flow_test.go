package wms_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms"
)

// testWorld has three warehouses and three SKUs:
//
//	        WH-A (OH)  WH-B (TX)  WH-C (NV)
//	SKU-1       5         10          0
//	SKU-2       0          3          8
//	SKU-3       0          0          0
func testWorld(strategy wms.Strategy) wms.Config {
	wh := func(id, region string) canonical.Location {
		return canonical.Location{ID: id, Name: id, Kind: canonical.LocationWarehouse,
			Address: canonical.Address{Lines: []string{"1 Main St"}, City: "City", Region: region, Country: "US"}}
	}
	item := func(sku string) canonical.Item { return canonical.Item{SKU: sku, BaseUnit: "EA"} }
	st := func(wh, sku, q string) wms.Stock { return wms.Stock{Warehouse: wh, SKU: sku, Quantity: dec(q)} }
	return wms.Config{
		Warehouses: []canonical.Location{wh("WH-A", "OH"), wh("WH-B", "TX"), wh("WH-C", "NV")},
		Items:      []canonical.Item{item("SKU-1"), item("SKU-2"), item("SKU-3")},
		Stock:      []wms.Stock{st("WH-A", "SKU-1", "5"), st("WH-B", "SKU-1", "10"), st("WH-B", "SKU-2", "3"), st("WH-C", "SKU-2", "8")},
		Strategy:   strategy,
	}
}

func testOrder(region string, lines ...line) canonical.Order {
	o := canonical.Order{ID: "SO-1", Version: 2, Currency: "USD",
		SoldTo: canonical.PartyRef{ID: "C-1"},
		ShipTo: canonical.PartyRef{ID: "C-1-DC", Address: &canonical.Address{Lines: []string{"1 Dock Rd"}, City: "Austin", Region: region, Country: "US"}}}
	for i, l := range lines {
		o.Lines = append(o.Lines, canonical.OrderLine{ID: string(rune('1' + i)), Item: canonical.ItemRef{SKU: l.sku}, Quantity: qty(l.qty),
			UnitPrice: canonical.MustParseMoney("1.00", "USD")})
	}
	return o
}

// planOf flattens a plan to warehouse → order line → quantity.
func planOf(fos []canonical.FulfillmentOrder) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, fo := range fos {
		out[fo.Warehouse] = map[string]string{}
		for _, l := range fo.Lines {
			out[fo.Warehouse][l.OrderLineID] = l.Quantity.Value.String()
		}
	}
	return out
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name     string
		strategy wms.Strategy
		region   string
		lines    []line
		want     map[string]map[string]string
		order    []string // warehouses in result order
	}{
		{"nearest spills over", wms.StrategyNearest, "TX", []line{{"SKU-1", "12"}, {"SKU-2", "4"}},
			map[string]map[string]string{"WH-B": {"1": "10", "2": "3"}, "WH-A": {"1": "2"}, "WH-C": {"2": "1"}}, []string{"WH-B", "WH-A", "WH-C"}},
		{"split by most stock", wms.StrategySplit, "TX", []line{{"SKU-1", "12"}, {"SKU-2", "4"}},
			map[string]map[string]string{"WH-B": {"1": "10"}, "WH-A": {"1": "2"}, "WH-C": {"2": "4"}}, []string{"WH-B", "WH-A", "WH-C"}},
		{"fill from one never splits a line", wms.StrategyFillFromOne, "TX", []line{{"SKU-1", "12"}, {"SKU-2", "4"}},
			map[string]map[string]string{"WH-B": {"1": "12"}, "WH-C": {"2": "4"}}, []string{"WH-B", "WH-C"}},
		{"fill from one: one warehouse fills all", wms.StrategyFillFromOne, "OH", []line{{"SKU-1", "4"}, {"SKU-2", "3"}},
			map[string]map[string]string{"WH-B": {"1": "4", "2": "3"}}, []string{"WH-B"}},
		{"nearest: region first", wms.StrategyNearest, "OH", []line{{"SKU-1", "4"}},
			map[string]map[string]string{"WH-A": {"1": "4"}}, []string{"WH-A"}},
		{"shortage backordered at the nearest", wms.StrategyNearest, "NV", []line{{"SKU-3", "7"}},
			map[string]map[string]string{"WH-C": {"1": "7"}}, []string{"WH-C"}},
		{"split: shortage at the nearest", wms.StrategySplit, "NV", []line{{"SKU-2", "20"}},
			map[string]map[string]string{"WH-C": {"1": "17"}, "WH-B": {"1": "3"}}, []string{"WH-C", "WH-B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newSim(t, testWorld(tt.strategy))
			fos, err := m.Plan(context.Background(), testOrder(tt.region, tt.lines...))
			require.NoError(t, err, "Plan(%v to %s)", tt.lines, tt.region)
			assert.Equal(t, tt.want, planOf(fos), "plan of %v to %s with %v", tt.lines, tt.region, tt.strategy)
			var got []string
			for i, fo := range fos {
				got = append(got, fo.Warehouse)
				require.NoError(t, fo.Validate(), "planned fulfilment order %d", i)
				assert.Equal(t, canonical.SplitPosition{Group: "SO-1", Index: i + 1, Count: len(fos)}, fo.Split, "split of %s", fo.ID)
				assert.Equal(t, "SO-1-"+fo.Warehouse, fo.ID, "ID of fulfilment order %d", i)
			}
			assert.Equal(t, tt.order, got, "warehouse order of %v to %s", tt.lines, tt.region)
			again, err := m.Plan(context.Background(), testOrder(tt.region, tt.lines...))
			require.NoError(t, err)
			assert.Equal(t, fos, again, "planning twice gives the same plan")
		})
	}
}

func TestPlanInvalid(t *testing.T) {
	m := newSim(t, testWorld(wms.StrategyNearest))
	tests := []struct {
		name  string
		order canonical.Order
		field string
	}{
		{"unknown SKU", testOrder("TX", line{"SKU-9", "1"}), "lines[0].item.sku"},
		{"no lines", canonical.Order{ID: "SO-1", Currency: "USD"}, "lines"},
	}
	for _, tt := range tests {
		_, err := m.Plan(context.Background(), tt.order)
		assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "Plan with %s: %v", tt.name, err)
		var ve *canonical.ValidationError
		if assert.ErrorAs(t, err, &ve, "Plan with %s", tt.name) {
			assert.True(t, ve.Has(tt.field), "Plan with %s names %s: %v", tt.name, tt.field, err)
		}
	}
}

// TestSplitAcrossTwoWarehouses plans an order of 12 drills to Texas in the
// demo world (5 in WH-SOUTH, 10 in WH-EAST), releases both fulfilment
// orders and lets them ship.
func TestSplitAcrossTwoWarehouses(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	fos, err := m.Plan(ctx, testOrder("TX", line{"SKU-103", "12"}))
	require.NoError(t, err)
	require.Equal(t, map[string]map[string]string{"WH-SOUTH": {"1": "5"}, "WH-EAST": {"1": "7"}}, planOf(fos), "plan of 12 SKU-103 to TX")
	for _, fo := range fos {
		release(t, m, fo)
	}
	_, err = m.Settle(ctx, 20)
	require.NoError(t, err)
	for _, fo := range fos {
		ss := shipments(t, m, fo.ID)
		require.Len(t, ss, 1, "shipments of %s", fo.ID)
		assert.True(t, ss[0].FinalForFulfillment, "shipment of %s is final", fo.ID)
		assert.Equal(t, fo.Warehouse, ss[0].Warehouse, "shipment of %s", fo.ID)
		assert.Equal(t, map[string]string{fo.Lines[0].ID: fo.Lines[0].Quantity.Value.String()}, sumShipped(t, ss), "shipped of %s", fo.ID)
	}
	oh, _ := onHand(t, m, "WH-SOUTH", "SKU-103")
	assert.Equal(t, "0", oh, "SKU-103 left in WH-SOUTH")
	oh, _ = onHand(t, m, "WH-EAST", "SKU-103")
	assert.Equal(t, "3", oh, "SKU-103 left in WH-EAST")
}

func TestBackorderThenAllocation(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-105", "4"}))
	step(t, m, 1)
	typ, u := lastAllocation(t, m, "FO-1")
	assert.Equal(t, canonical.EventFulfillmentBackordered, typ, "event after allocating a SKU without stock")
	assert.Equal(t, "4", u.Lines[0].Backordered.Value.String(), "backordered")
	assert.Equal(t, "0", u.Lines[0].Allocated.Value.String(), "allocated")

	n, err := m.Settle(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a backordered order waits: the first step emits nothing")
	assert.Empty(t, shipments(t, m, "FO-1"), "nothing ships without stock")

	adjust(t, m, "ADJ-1", "WH-EAST", "SKU-105", "10")
	step(t, m, 1)
	typ, u = lastAllocation(t, m, "FO-1")
	assert.Equal(t, canonical.EventFulfillmentAllocated, typ, "event after stock arrived")
	assert.Equal(t, "0", u.Lines[0].Backordered.Value.String(), "backordered after stock arrived")
	assert.Equal(t, "4", u.Lines[0].Allocated.Value.String(), "allocated after stock arrived")
	_, avail := onHand(t, m, "WH-EAST", "SKU-105")
	assert.Equal(t, "6", avail, "available after allocating 4 of 10")

	step(t, m, 2)
	ss := shipments(t, m, "FO-1")
	require.Len(t, ss, 1)
	assert.True(t, ss[0].FinalForFulfillment)
	assert.Equal(t, "4", ss[0].Lines[0].Quantity.Value.String())
}

func TestBackordersAllocatedOldestFirst(t *testing.T) {
	m := newSim(t, wms.Config{})
	release(t, m, makeFO("FO-OLD", "WH-WEST", line{"SKU-105", "3"}))
	release(t, m, makeFO("FO-NEW", "WH-WEST", line{"SKU-105", "3"}))
	step(t, m, 2)
	adjust(t, m, "ADJ-1", "WH-WEST", "SKU-105", "4")
	step(t, m, 1)
	_, old := lastAllocation(t, m, "FO-OLD")
	_, young := lastAllocation(t, m, "FO-NEW")
	assert.Equal(t, "3", old.Lines[0].Allocated.Value.String(), "the older release is served first")
	assert.Equal(t, "1", young.Lines[0].Allocated.Value.String(), "the newer release gets the rest")
	assert.Equal(t, "2", young.Lines[0].Backordered.Value.String(), "the newer release keeps a backorder")
}

func TestPartialShipmentThenCompletion(t *testing.T) {
	m := newSim(t, wms.Config{})
	release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-103", "15"}, line{"SKU-100", "2"}))
	step(t, m, 3) // allocate, pick, ship
	ss := shipments(t, m, "FO-1")
	require.Len(t, ss, 1, "first shipment")
	assert.False(t, ss[0].FinalForFulfillment, "a partial shipment is not final")
	assert.Equal(t, map[string]string{"FO-1:1": "10", "FO-1:2": "2"}, sumShipped(t, ss))
	require.NoError(t, ss[0].Validate())

	adjust(t, m, "ADJ-1", "WH-EAST", "SKU-103", "5")
	step(t, m, 3)
	ss = shipments(t, m, "FO-1")
	require.Len(t, ss, 2, "second shipment")
	assert.True(t, ss[1].FinalForFulfillment, "the completing shipment is final")
	assert.Equal(t, map[string]string{"FO-1:1": "15", "FO-1:2": "2"}, sumShipped(t, ss))
	assert.NotEqual(t, ss[0].ID, ss[1].ID)
	ref0, _ := ss[0].Refs.Get("wms", "shipment")
	ref1, _ := ss[1].Refs.Get("wms", "shipment")
	assert.Equal(t, "SHP-000001", ref0.Value)
	assert.Equal(t, "SHP-000002", ref1.Value)
	oh, avail := onHand(t, m, "WH-EAST", "SKU-103")
	assert.Equal(t, "0", oh, "on hand after shipping everything")
	assert.Equal(t, "0", avail)

	n, err := m.Step(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "a completed fulfilment order emits nothing more")
}

func TestShipComplete(t *testing.T) {
	m := newSim(t, wms.Config{})
	fo := makeFO("FO-1", "WH-EAST", line{"SKU-103", "12"})
	fo.ShipComplete = true
	release(t, m, fo)
	step(t, m, 5)
	assert.Empty(t, shipments(t, m, "FO-1"), "ship-complete order waits for its backorder")
	typ, _ := lastAllocation(t, m, "FO-1")
	assert.Equal(t, canonical.EventFulfillmentBackordered, typ, "and is not picked")
	adjust(t, m, "ADJ-1", "WH-EAST", "SKU-103", "2")
	step(t, m, 3)
	ss := shipments(t, m, "FO-1")
	require.Len(t, ss, 1)
	assert.True(t, ss[0].FinalForFulfillment)
	assert.Equal(t, "12", ss[0].Lines[0].Quantity.Value.String())
}

func TestLotsFEFO(t *testing.T) {
	m := newSim(t, wms.Config{})
	release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-104", "150"}))
	step(t, m, 3)
	ss := shipments(t, m, "FO-1")
	require.Len(t, ss, 1)
	lots := ss[0].Lines[0].Lots
	require.Len(t, lots, 2, "150 of SKU-104 come from two lots")
	assert.Equal(t, "L2601", lots[0].Lot, "the lot expiring first goes first")
	assert.Equal(t, "100", lots[0].Quantity.Value.String())
	assert.Equal(t, "L2602", lots[1].Lot)
	assert.Equal(t, "50", lots[1].Quantity.Value.String())
	require.NoError(t, ss[0].Validate())
}

// TestCases ships lines ordered in cases (XCS of 12 for SKU-104), whole
// cases from one lot, first expiring first.
func TestCases(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	fo := makeFO("FO-1", "WH-EAST", line{"SKU-104", "10"})
	fo.Lines[0].Quantity.Unit = "XCS"
	release(t, m, fo)
	step(t, m, 3)
	ss := shipments(t, m, "FO-1")
	require.Len(t, ss, 1)
	require.NoError(t, ss[0].Validate())
	l := ss[0].Lines[0]
	assert.Equal(t, "10 XCS", l.Quantity.String(), "shipped in the line's unit")
	require.Len(t, l.Lots, 2)
	assert.Equal(t, "L2601 8 XCS", l.Lots[0].Lot+" "+l.Lots[0].Quantity.String(), "8 whole cases of the 100 EA of L2601")
	assert.Equal(t, "L2602 2 XCS", l.Lots[1].Lot+" "+l.Lots[1].Quantity.String())
	oh, _ := onHand(t, m, "WH-EAST", "SKU-104")
	assert.Equal(t, "180", oh, "300 − 120 EA")

	// 4 loose EA are left in L2601: the next case comes from L2602.
	fo2 := makeFO("FO-2", "WH-EAST", line{"SKU-104", "1"})
	fo2.Lines[0].Quantity.Unit = "XCS"
	release(t, m, fo2)
	step(t, m, 3)
	ss = shipments(t, m, "FO-2")
	require.Len(t, ss, 1)
	assert.Equal(t, "L2602", ss[0].Lines[0].Lots[0].Lot, "a case is never split over lots")

	// A case line planned in the demo world: WH-SOUTH holds 10 cases.
	order := testOrder("TX", line{"SKU-104", "12"})
	order.Lines[0].Quantity.Unit = "XCS"
	fos, err := m.Plan(ctx, order)
	require.NoError(t, err)
	assert.Equal(t, map[string]map[string]string{"WH-SOUTH": {"1": "10"}, "WH-EAST": {"1": "2"}}, planOf(fos), "plan of 12 XCS to TX")

	// Cancelling a case gives its 12 EA back.
	fo3 := makeFO("FO-3", "WH-SOUTH", line{"SKU-104", "2"})
	fo3.Lines[0].Quantity.Unit = "XCS"
	release(t, m, fo3)
	step(t, m, 1)
	_, avail := onHand(t, m, "WH-SOUTH", "SKU-104")
	assert.Equal(t, "96", avail, "120 − 2 cases")
	_, err = m.CancelRelease(ctx, "c", connector.CancelRequest{FulfillmentOrderID: "FO-3", Lines: []connector.LineQuantity{{LineID: "FO-3:1", Quantity: canonical.MustParseQuantity("1", "XCS")}}})
	require.NoError(t, err)
	_, avail = onHand(t, m, "WH-SOUTH", "SKU-104")
	assert.Equal(t, "108", avail, "one case back")
}

func TestStrategyString(t *testing.T) {
	for s, want := range map[wms.Strategy]string{wms.StrategyNearest: "nearest", wms.StrategyFillFromOne: "fill_from_one", wms.StrategySplit: "split", 7: "Strategy(7)"} {
		assert.Equal(t, want, s.String(), "Strategy(%d).String()", int(s))
	}
}
