package wms_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms"
)

func newSim(t testing.TB, cfg wms.Config) *wms.Memory {
	t.Helper()
	m, err := wms.New(cfg)
	require.NoError(t, err, "New(%+v)", cfg)
	return m
}

func qty(v string) canonical.Quantity { return canonical.MustParseQuantity(v, "EA") }

func dec(v string) canonical.Decimal { return canonical.MustParseDecimal(v) }

// line is a fulfilment line of sku and quantity, for makeFO.
type line struct {
	sku string
	qty string
}

// makeFO returns a valid fulfilment order id for warehouse wh.
func makeFO(id, wh string, lines ...line) canonical.FulfillmentOrder {
	fo := canonical.FulfillmentOrder{ID: id, Version: 1, OrderID: "order-" + id, OrderVersion: 1, Warehouse: wh,
		Split: canonical.SplitPosition{Group: "order-" + id, Index: 1, Count: 1}, ShipTo: canonical.PartyRef{ID: "C-1-DC"}}
	for i, l := range lines {
		fo.Lines = append(fo.Lines, canonical.FulfillmentLine{ID: fmt.Sprintf("%s:%d", id, i+1), OrderLineID: fmt.Sprint(i + 1),
			Item: canonical.ItemRef{SKU: l.sku}, Quantity: qty(l.qty)})
	}
	return fo
}

// release releases fo and fails the test on error.
func release(t testing.TB, m *wms.Memory, fo canonical.FulfillmentOrder) canonical.FulfillmentOrder {
	t.Helper()
	got, err := m.Release(context.Background(), fo)
	require.NoError(t, err, "Release(%s)", fo.ID)
	return got
}

// step steps m n times.
func step(t testing.TB, m *wms.Memory, n int) {
	t.Helper()
	for range n {
		_, err := m.Step(context.Background())
		require.NoError(t, err, "Step")
	}
}

// adjust adds delta of sku in wh.
func adjust(t testing.TB, m *wms.Memory, id, wh, sku, delta string) {
	t.Helper()
	_, err := m.Adjust(context.Background(), canonical.InventoryAdjustment{ID: id, Item: canonical.ItemRef{SKU: sku}, Location: wh,
		Status: canonical.InventoryAvailable, Delta: qty(delta), Reason: canonical.AdjustFound, AdjustedAt: wms.DemoEpoch()})
	require.NoError(t, err, "Adjust(%s %s %s %s)", id, wh, sku, delta)
}

// allEvents reads the whole feed of m.
func allEvents(t testing.TB, m *wms.Memory) []canonical.Event {
	t.Helper()
	var out []canonical.Event
	var cur connector.Cursor
	for {
		p, err := m.PollEvents(context.Background(), cur, 1000)
		require.NoError(t, err, "PollEvents(%q)", cur)
		out = append(out, p.Events...)
		cur = p.Next
		if !p.More {
			return out
		}
	}
}

// ofType returns the events of type typ about subject ("" for any).
func ofType(es []canonical.Event, typ canonical.EventType, subject string) []canonical.Event {
	var out []canonical.Event
	for _, e := range es {
		if e.Type == typ && (subject == "" || e.Subject == subject) {
			out = append(out, e)
		}
	}
	return out
}

// shipments decodes the shipments on the feed of fo.
func shipments(t testing.TB, m *wms.Memory, fo string) []canonical.Shipment {
	t.Helper()
	var out []canonical.Shipment
	for _, e := range ofType(allEvents(t, m), canonical.EventFulfillmentShipped, fo) {
		s, err := canonical.DecodeData[canonical.Shipment](e)
		require.NoError(t, err, "decoding shipment event %s", e.ID)
		out = append(out, s)
	}
	return out
}

// lastAllocation decodes the last allocation update on the feed of fo.
func lastAllocation(t testing.TB, m *wms.Memory, fo string) (canonical.EventType, canonical.AllocationUpdate) {
	t.Helper()
	var last canonical.Event
	for _, e := range allEvents(t, m) {
		if e.Subject == fo && (e.Type == canonical.EventFulfillmentAllocated || e.Type == canonical.EventFulfillmentBackordered || e.Type == canonical.EventFulfillmentPicked) {
			last = e
		}
	}
	require.NotEmpty(t, last.ID, "no allocation update for %s", fo)
	u, err := canonical.DecodeData[canonical.AllocationUpdate](last)
	require.NoError(t, err, "decoding allocation update %s", last.ID)
	return last.Type, u
}

// onHand returns on hand and available of sku in wh, summed over lots of
// status available.
func onHand(t testing.TB, m *wms.Memory, wh, sku string) (onHand, available string) {
	t.Helper()
	ps, err := m.Inventory(context.Background(), connector.InventoryQuery{SKUs: []string{sku}, Locations: []string{wh}})
	require.NoError(t, err, "Inventory(%s, %s)", sku, wh)
	var oh, av canonical.Decimal
	for _, p := range ps {
		if p.Status != canonical.InventoryAvailable {
			continue
		}
		oh, err = oh.Add(p.OnHand.Value)
		require.NoError(t, err)
		av, err = av.Add(p.Available.Value)
		require.NoError(t, err)
	}
	return oh.String(), av.String()
}

// sumShipped returns the quantity shipped per fulfilment line over ss.
func sumShipped(t testing.TB, ss []canonical.Shipment) map[string]string {
	t.Helper()
	sums := map[string]canonical.Decimal{}
	for _, s := range ss {
		for _, l := range s.Lines {
			v, err := sums[l.FulfillmentLineID].Add(l.Quantity.Value)
			require.NoError(t, err)
			sums[l.FulfillmentLineID] = v
		}
	}
	out := map[string]string{}
	for k, v := range sums {
		out[k] = v.String()
	}
	return out
}

// fixedClock is an injected clock that moves only when told.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }
