package shipbob_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms"
	"github.com/distsync/distsync/wms/shipbob"
	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
)

// readAll reads the whole feed from cursor with pages of limit events.
func readAll(t *testing.T, c connector.EventFeed, cursor connector.Cursor, limit int) ([]canonical.Event, connector.Cursor) {
	t.Helper()
	var all []canonical.Event
	for range 1000 {
		p, err := c.PollEvents(t.Context(), cursor, limit)
		require.NoError(t, err, "PollEvents after %q", cursor)
		if len(p.Events) == 0 {
			require.Equal(t, cursor, p.Next, "an empty page keeps the cursor")
			return all, cursor
		}
		all = append(all, p.Events...)
		cursor = p.Next
	}
	t.Fatal("the feed did not end")
	return nil, ""
}

// settle steps the emulator n times.
func settle(t *testing.T, w *world, n int) {
	t.Helper()
	for range n {
		_, err := w.emu.Step(t.Context())
		require.NoError(t, err)
	}
}

// ofType returns the events of type typ about subject.
func ofType(es []canonical.Event, typ canonical.EventType, subject string) []canonical.Event {
	return slices.DeleteFunc(slices.Clone(es), func(e canonical.Event) bool { return e.Type != typ || e.Subject != subject })
}

// TestFeedLifecycle drives three fulfilment orders through ShipBob's
// statuses (shipped; out of stock, restocked and shipped; cancelled) and
// checks the canonical events the polling feed makes of them.
func TestFeedLifecycle(t *testing.T) {
	w := newWorld(t, roomy, nil)
	c := w.client(t, nil)
	ctx := t.Context()

	ship := kitFO(1)
	short := kitFO(2)
	short.Lines = short.Lines[:1]
	short.Lines[0].Quantity = canonical.MustParseQuantity("150", "EA") // WH-EAST holds 120
	cancel := kitFO(3)
	for _, fo := range []canonical.FulfillmentOrder{ship, short, cancel} {
		_, err := c.Release(ctx, fo)
		require.NoError(t, err, "Release(%s)", fo.ID)
	}
	res, err := c.CancelRelease(ctx, "k-3", connector.CancelRequest{FulfillmentOrderID: cancel.ID})
	require.NoError(t, err)
	assert.Equal(t, []connector.LineQuantity{
		{LineID: cancel.Lines[0].ID, Quantity: cancel.Lines[0].Quantity},
		{LineID: cancel.Lines[1].ID, Quantity: cancel.Lines[1].Quantity},
	}, res.Cancelled, "CancelRelease of an unstepped order cancels all")
	settle(t, w, 5)

	events, end := readAll(t, c, "", 2)
	for _, e := range events {
		require.NoError(t, e.Validate(), "event %s", e.ID)
		assert.Equal(t, shipbob.DefaultSource, e.Source)
	}
	assert.Len(t, ofType(events, canonical.EventFulfillmentReleased, ship.ID), 1, "released %s", ship.ID)
	shipped := ofType(events, canonical.EventFulfillmentShipped, ship.ID)
	require.Len(t, shipped, 1, "shipped %s", ship.ID)
	s, err := canonical.DecodeData[canonical.Shipment](shipped[0])
	require.NoError(t, err)
	assert.True(t, s.FinalForFulfillment, "one shipment of all is final")
	assert.Len(t, s.TrackingNumbers, 1, "a tracking number")
	assert.Equal(t, "UPSN", s.Carrier.SCAC)
	require.Len(t, s.Lines, 2)
	assert.Equal(t, ship.Lines[1].ID, s.Lines[1].FulfillmentLineID)
	assert.True(t, s.Lines[1].Quantity.Equal(ship.Lines[1].Quantity), "shipped %v", s.Lines[1].Quantity)

	// WH-EAST had 118 left: ShipBob ships those and holds the rest in an
	// Exception shipment.
	partial := ofType(events, canonical.EventFulfillmentShipped, short.ID)
	require.Len(t, partial, 1, "partial shipment of %s: %v", short.ID, types(events))
	s, err = canonical.DecodeData[canonical.Shipment](partial[0])
	require.NoError(t, err)
	assert.False(t, s.FinalForFulfillment, "a partial shipment is not final")
	assert.Equal(t, "118", s.Lines[0].Quantity.Value.String())
	back := ofType(events, canonical.EventFulfillmentBackordered, short.ID)
	require.Len(t, back, 1, "backordered %s", short.ID)
	u, err := canonical.DecodeData[canonical.AllocationUpdate](back[0])
	require.NoError(t, err)
	assert.Equal(t, "32", u.Lines[0].Backordered.Value.String())

	cancelled := ofType(events, canonical.EventFulfillmentCancelled, cancel.ID)
	require.Len(t, cancelled, 1, "cancelled %s", cancel.ID)
	assert.Empty(t, ofType(events, canonical.EventFulfillmentShipped, cancel.ID), "a cancelled order ships nothing")

	// Stock arrives: the exception clears and the order ships.
	_, err = w.emu.WMS().Adjust(ctx, canonical.InventoryAdjustment{
		ID: "adj-1", Item: canonical.ItemRef{SKU: "SKU-100"}, Location: "WH-EAST", Status: canonical.InventoryAvailable,
		Delta: canonical.MustParseQuantity("100", "EA"), Reason: "found", AdjustedAt: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC),
	})
	require.NoError(t, err)
	settle(t, w, 5)
	more, _ := readAll(t, c, end, 0)
	// The changed order is read again: events seen before come again with
	// their keys, for consumers to drop.
	more = slices.DeleteFunc(more, func(e canonical.Event) bool {
		return slices.ContainsFunc(events, func(o canonical.Event) bool { return o.Key() == e.Key() })
	})
	got := ofType(more, canonical.EventFulfillmentShipped, short.ID)
	require.Len(t, got, 1, "the restocked order ships: %v", types(more))
	s, err = canonical.DecodeData[canonical.Shipment](got[0])
	require.NoError(t, err)
	assert.Equal(t, "32", s.Lines[0].Quantity.Value.String())
	assert.True(t, s.FinalForFulfillment, "the last shipment is final")

	// A replayed cancel cancels nothing more and answers the same.
	again, err := c.CancelRelease(ctx, "k-3-other", connector.CancelRequest{FulfillmentOrderID: cancel.ID})
	require.NoError(t, err)
	assert.Equal(t, res, again)
	assert.Equal(t, 1, w.emu.WMS().Counts().Cancellations)
}

func types(es []canonical.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.Type)+"/"+e.Subject)
	}
	return out
}

// TestReturnReceived checks that a return received at the warehouse comes
// out of the feed as return received, with what was received.
func TestReturnReceived(t *testing.T) {
	w := newWorld(t, roomy, nil)
	c := w.client(t, nil)
	r := kitReturn(1)
	got, err := c.AuthorizeReturn(t.Context(), r)
	require.NoError(t, err)
	require.Len(t, got.Refs, 1)
	_, end := readAll(t, c, "", 0)
	require.NoError(t, w.emu.ReceiveReturn(t.Context(), r.ID, []wms.ReturnReceipt{{
		LineID: r.ID + ":1", Quantity: canonical.MustParseQuantity("1", "EA"),
		Condition: canonical.ConditionNew, Disposition: canonical.DispositionRestock,
	}}))
	events, _ := readAll(t, c, end, 0)
	require.Len(t, events, 1)
	assert.Equal(t, canonical.EventReturnReceived, events[0].Type)
	rr, err := canonical.DecodeData[canonical.Return](events[0])
	require.NoError(t, err)
	assert.Equal(t, r.RMANumber, rr.RMANumber)
	assert.Equal(t, "1", rr.Lines[0].Received.Value.String())
	assert.Equal(t, canonical.DispositionRestock, rr.Lines[0].Disposition)
}

// TestCursorErrors checks that cursors the feed did not make are refused.
func TestCursorErrors(t *testing.T) {
	c := newWorld(t, roomy, nil).client(t, nil)
	for _, cur := range []connector.Cursor{"x", "v1|1:2|-", "v2|-|-", "v1|a:b:c|-", "v1|1:2:-1|-"} {
		_, err := c.PollEvents(context.Background(), cur, 1)
		assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "cursor %q", cur)
		assert.ErrorIs(t, err, shipbob.ErrCursor, "cursor %q", cur)
	}
}

// TestFeedPaging releases more orders than one list page holds (250) and
// checks that reading the feed in small pages gives every event of one
// big read, once.
func TestFeedPaging(t *testing.T) {
	var stock []wms.Stock
	for _, sku := range []string{"SKU-100", "SKU-104"} {
		stock = append(stock, wms.Stock{Warehouse: "WH-EAST", SKU: sku, Quantity: canonical.MustParseDecimal("100000")})
	}
	mem, err := wms.New(wms.Config{Warehouses: wms.DemoWarehouses(), Items: wms.DemoItems(), Stock: stock})
	require.NoError(t, err)
	w := newWorld(t, shipbobemu.Config{RateLimit: -1, WMS: mem}, nil)
	c := w.client(t, nil)
	const n = 260
	for i := range n {
		_, err := c.Release(t.Context(), kitFO(i+1))
		require.NoError(t, err)
	}
	settle(t, w, 4)
	all, _ := readAll(t, c, "", 1000)
	require.GreaterOrEqual(t, len(all), 2*n, "released and shipped per order")
	for _, limit := range []int{7, 250, 251} {
		got, _ := readAll(t, c, "", limit)
		assert.Equal(t, keys(all), keys(got), "limit %d", limit)
		assert.Len(t, got, len(all), "limit %d repeats nothing", limit)
	}
}
