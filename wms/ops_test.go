package wms_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms"
)

func TestCancelRelease(t *testing.T) {
	tests := []struct {
		name      string
		qty       string // of SKU-103 in WH-EAST, 10 on hand
		steps     int    // before cancelling
		lines     []connector.LineQuantity
		cancelled string // "" when nothing
		shipped   string // in the end
		available string // of SKU-103 in WH-EAST in the end
	}{
		{"before allocation", "4", 0, nil, "4", "0", "10"},
		{"allocated, part of it", "4", 1, []connector.LineQuantity{{LineID: "FO-1:1", Quantity: qty("3")}}, "3", "1", "9"},
		{"picked goods go back to stock", "4", 2, nil, "4", "0", "10"},
		{"open remainder after a partial shipment", "15", 3, nil, "5", "10", "0"},
		{"at most what is open", "15", 3, []connector.LineQuantity{{LineID: "FO-1:1", Quantity: qty("8")}}, "5", "10", "0"},
		{"nothing after a full shipment", "4", 3, nil, "", "4", "6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m := newSim(t, wms.Config{})
			first := release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-103", tt.qty}))
			step(t, m, tt.steps)
			before := m.Counts()
			req := connector.CancelRequest{FulfillmentOrderID: "FO-1", Lines: tt.lines, Reason: "customer changed mind"}
			res, err := m.CancelRelease(ctx, "cancel-1", req)
			require.NoError(t, err, "CancelRelease after %d steps", tt.steps)
			cancelEvents := ofType(allEvents(t, m), canonical.EventFulfillmentCancelled, "FO-1")
			if tt.cancelled == "" {
				assert.Empty(t, res.Cancelled, "cancelled after a full shipment")
				assert.Empty(t, cancelEvents, "no cancel event when nothing was cancelled")
				assert.Equal(t, before.Cancellations, m.Counts().Cancellations)
			} else {
				require.Len(t, res.Cancelled, 1)
				assert.Equal(t, tt.cancelled, res.Cancelled[0].Quantity.Value.String(), "cancelled")
				require.Len(t, cancelEvents, 1, "one cancel event")
				doc, err := canonical.DecodeData[canonical.FulfillmentOrder](cancelEvents[0])
				require.NoError(t, err)
				assert.Equal(t, tt.cancelled, doc.Lines[0].Quantity.Value.String(), "cancel event carries the cancelled quantity")
				assert.Equal(t, before.Cancellations+1, m.Counts().Cancellations)
			}
			again, err := m.CancelRelease(ctx, "cancel-1", req)
			require.NoError(t, err, "replay")
			assert.Equal(t, res, again, "replay returns the first result")
			assert.Len(t, ofType(allEvents(t, m), canonical.EventFulfillmentCancelled, "FO-1"), len(cancelEvents), "replay emits nothing")
			assert.Equal(t, first, release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-103", tt.qty})), "a release replayed after a cancellation returns the first result")

			_, err = m.Settle(ctx, 10)
			require.NoError(t, err)
			shipped := sumShipped(t, shipments(t, m, "FO-1"))
			assert.Equal(t, tt.shipped, cmpOr(shipped["FO-1:1"], "0"), "shipped in the end")
			_, avail := onHand(t, m, "WH-EAST", "SKU-103")
			assert.Equal(t, tt.available, avail, "available in the end")
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestCancelReleaseErrors(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-100", "4"}))
	_, err := m.CancelRelease(ctx, "k1", connector.CancelRequest{FulfillmentOrderID: "FO-1", Lines: []connector.LineQuantity{{LineID: "FO-1:1", Quantity: qty("1")}}})
	require.NoError(t, err)
	tests := []struct {
		name  string
		key   string
		req   connector.CancelRequest
		code  connector.Code
		field string
	}{
		{"key reused with another request", "k1", connector.CancelRequest{FulfillmentOrderID: "FO-1"}, connector.CodeConflict, ""},
		{"unknown fulfilment order", "k2", connector.CancelRequest{FulfillmentOrderID: "FO-9"}, connector.CodeNotFound, ""},
		{"no fulfilment order", "k3", connector.CancelRequest{}, connector.CodeInvalid, "fulfillmentOrderId"},
		{"no key", "", connector.CancelRequest{FulfillmentOrderID: "FO-1"}, connector.CodeInvalid, "key"},
		{"unknown line", "k4", connector.CancelRequest{FulfillmentOrderID: "FO-1", Lines: []connector.LineQuantity{{LineID: "X", Quantity: qty("1")}}}, connector.CodeInvalid, "lines[0].lineId"},
		{"other unit", "k5", connector.CancelRequest{FulfillmentOrderID: "FO-1", Lines: []connector.LineQuantity{{LineID: "FO-1:1", Quantity: canonical.MustParseQuantity("1", "XCS")}}}, connector.CodeInvalid, "lines[0].quantity.unit"},
		{"zero quantity", "k6", connector.CancelRequest{FulfillmentOrderID: "FO-1", Lines: []connector.LineQuantity{{LineID: "FO-1:1", Quantity: qty("0")}}}, connector.CodeInvalid, "lines[0].quantity.value"},
	}
	for _, tt := range tests {
		_, err := m.CancelRelease(ctx, tt.key, tt.req)
		assert.Equal(t, tt.code, connector.CodeOf(err), "CancelRelease with %s: %v", tt.name, err)
		if tt.field != "" {
			var ve *canonical.ValidationError
			if assert.ErrorAs(t, err, &ve, "CancelRelease with %s", tt.name) {
				assert.True(t, ve.Has(tt.field), "CancelRelease with %s names %s: %v", tt.name, tt.field, err)
			}
		}
	}
}

func TestReturns(t *testing.T) {
	tests := []struct {
		name        string
		condition   canonical.ReturnCondition
		disposition canonical.Disposition
		available   string // of SKU-100 in WH-EAST afterwards; 120 before
		held        string // quality hold on hand afterwards
		adjustments int
	}{
		{"restock adds stock", canonical.ConditionNew, canonical.DispositionRestock, "123", "0", 1},
		{"opened goods restock too", canonical.ConditionOpened, canonical.DispositionRestock, "123", "0", 1},
		{"scrap adds nothing", canonical.ConditionDamaged, canonical.DispositionScrap, "120", "0", 0},
		{"return to vendor adds nothing", canonical.ConditionDefective, canonical.DispositionReturnToVendor, "120", "0", 0},
		{"quarantine holds", canonical.ConditionOpened, canonical.DispositionQuarantine, "120", "3", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m := newSim(t, wms.Config{})
			r := kitReturn(1)
			r.Lines[0].Authorized = qty("5")
			auth, err := m.AuthorizeReturn(ctx, r)
			require.NoError(t, err)
			ref, ok := auth.Refs.Get("wms", "expectedReceipt")
			assert.True(t, ok, "authorized return has the WMS's ref")
			assert.Equal(t, "RT-000001", ref.Value)

			got, err := m.ReceiveReturn(ctx, r.ID, []wms.ReturnReceipt{{LineID: r.Lines[0].ID, Quantity: qty("3"), Condition: tt.condition, Disposition: tt.disposition}})
			require.NoError(t, err, "ReceiveReturn %s/%s", tt.condition, tt.disposition)
			require.NoError(t, got.Validate(), "received return")
			assert.Equal(t, "3", got.Lines[0].Received.Value.String())
			assert.Equal(t, tt.disposition, got.Lines[0].Disposition)

			es := allEvents(t, m)
			rec := ofType(es, canonical.EventReturnReceived, r.ID)
			require.Len(t, rec, 1, "return received events")
			doc, err := canonical.DecodeData[canonical.Return](rec[0])
			require.NoError(t, err)
			assert.Equal(t, got.Lines, doc.Lines, "event data is the received return")
			assert.Equal(t, r.OrderID, rec[0].Partition(), "returns are partitioned by order")
			assert.Len(t, ofType(es, canonical.EventInventoryAdjusted, "SKU-100@WH-EAST"), tt.adjustments, "adjustment events")

			_, avail := onHand(t, m, "WH-EAST", "SKU-100")
			assert.Equal(t, tt.available, avail, "available SKU-100 in WH-EAST")
			ps, err := m.Inventory(ctx, connector.InventoryQuery{SKUs: []string{"SKU-100"}, Locations: []string{"WH-EAST"}})
			require.NoError(t, err)
			held := "0"
			for _, p := range ps {
				if p.Status == canonical.InventoryQualityHold {
					held = p.OnHand.Value.String()
					assert.True(t, p.Available.IsZero(), "stock on hold is not available")
				}
			}
			assert.Equal(t, tt.held, held, "on quality hold")

			_, err = m.ReceiveReturn(ctx, r.ID, []wms.ReturnReceipt{{LineID: r.Lines[0].ID, Quantity: qty("1"), Condition: tt.condition, Disposition: tt.disposition}})
			assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "receiving a line twice: %v", err)
			replay, err := m.AuthorizeReturn(ctx, r)
			require.NoError(t, err)
			assert.Equal(t, auth, replay, "authorizing again after the receipt returns the first result")
			now, err := m.Return(ctx, r.ID)
			require.NoError(t, err)
			assert.Equal(t, got, now, "Return shows the received state")
		})
	}
}

func TestReceiveReturnErrors(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	r := kitReturn(1)
	_, err := m.AuthorizeReturn(ctx, r)
	require.NoError(t, err)
	id := r.Lines[0].ID
	tests := []struct {
		name     string
		returnID string
		rc       wms.ReturnReceipt
		code     connector.Code
		field    string
	}{
		{"unknown return", "RET-9", wms.ReturnReceipt{LineID: id, Quantity: qty("1"), Condition: "new", Disposition: "restock"}, connector.CodeNotFound, ""},
		{"unknown line", r.ID, wms.ReturnReceipt{LineID: "X", Quantity: qty("1"), Condition: "new", Disposition: "restock"}, connector.CodeInvalid, "receipts[0].lineId"},
		{"more than authorized", r.ID, wms.ReturnReceipt{LineID: id, Quantity: qty("2"), Condition: "new", Disposition: "restock"}, connector.CodeInvalid, "receipts[0].quantity.value"},
		{"restocking damaged goods", r.ID, wms.ReturnReceipt{LineID: id, Quantity: qty("1"), Condition: "damaged", Disposition: "restock"}, connector.CodeInvalid, "receipts[0].disposition"},
		{"unknown condition", r.ID, wms.ReturnReceipt{LineID: id, Quantity: qty("1"), Condition: "shiny", Disposition: "scrap"}, connector.CodeInvalid, "receipts[0].condition"},
	}
	for _, tt := range tests {
		_, err := m.ReceiveReturn(ctx, tt.returnID, []wms.ReturnReceipt{tt.rc})
		assert.Equal(t, tt.code, connector.CodeOf(err), "ReceiveReturn with %s: %v", tt.name, err)
		if tt.field != "" {
			var ve *canonical.ValidationError
			if assert.ErrorAs(t, err, &ve, "ReceiveReturn with %s", tt.name) {
				assert.True(t, ve.Has(tt.field), "ReceiveReturn with %s names %s: %v", tt.name, tt.field, err)
			}
		}
	}
	assert.Zero(t, m.Counts().ReturnsReceived, "failed receipts receive nothing")
}

func TestSSCCAndTracking(t *testing.T) {
	tests := []struct {
		name     string
		prefix   string
		capacity string
		qty      string
		packages int
	}{
		{"default prefix, 10 per package", "", "", "25", 3},
		{"long prefix", "123456789012", "", "10", 1},
		{"short prefix, 4 per package", "123456", "4", "9", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := wms.Config{CompanyPrefix: tt.prefix, Seed: 7}
			if tt.capacity != "" {
				cfg.PackageCapacity = dec(tt.capacity)
			}
			m := newSim(t, cfg)
			release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-100", tt.qty}))
			release(t, m, makeFO("FO-2", "WH-EAST", line{"SKU-101", "3"}, line{"SKU-102", "3"}))
			step(t, m, 3)
			prefix := cmpOr(tt.prefix, "0614141")
			seen := map[string]bool{}
			ss := append(shipments(t, m, "FO-1"), shipments(t, m, "FO-2")...)
			require.Len(t, ss, 2)
			require.Len(t, ss[0].Packages, tt.packages, "packages of %s EA", tt.qty)
			for _, s := range ss {
				require.NoError(t, s.Validate(), "shipment %s", s.ID)
				packed := map[string]canonical.Decimal{}
				for _, p := range s.Packages {
					_, err := canonical.ParseSSCC(string(p.SSCC))
					require.NoError(t, err, "SSCC %s", p.SSCC)
					assert.True(t, strings.HasPrefix(string(p.SSCC), "0"+prefix), "SSCC %s has extension digit 0 and prefix %s", p.SSCC, prefix)
					assert.False(t, seen[string(p.SSCC)], "SSCC %s is unique", p.SSCC)
					seen[string(p.SSCC)] = true
					assert.Regexp(t, `^1Z[0-9A-Z]{16}$`, p.TrackingNumber, "tracking number")
					assert.False(t, seen[p.TrackingNumber], "tracking number %s is unique", p.TrackingNumber)
					seen[p.TrackingNumber] = true
					assert.Contains(t, s.TrackingNumbers, p.TrackingNumber)
					for _, pl := range p.Lines {
						v, err := packed[pl.ShipmentLineID].Add(pl.Quantity.Value)
						require.NoError(t, err)
						packed[pl.ShipmentLineID] = v
					}
				}
				for _, l := range s.Lines {
					assert.True(t, packed[l.ID].Equal(l.Quantity.Value), "line %s: packed %s of %s", l.ID, packed[l.ID], l.Quantity.Value)
				}
			}
		})
	}
}

func TestReleaseIdempotentAndInvalid(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	fo := makeFO("FO-1", "WH-EAST", line{"SKU-100", "4"})
	first := release(t, m, fo)
	ref, ok := first.Refs.Get("wms", "outboundOrder")
	require.True(t, ok, "released order has the WMS's ref")
	assert.Equal(t, "OB-000001", ref.Value)
	assert.Equal(t, wms.DemoEpoch(), first.ReleasedAt)

	again := release(t, m, fo)
	assert.Equal(t, first, again, "releasing the same ID again returns the first result")

	other := func(f func(*canonical.FulfillmentOrder)) canonical.FulfillmentOrder {
		c := makeFO("FO-1", "WH-EAST", line{"SKU-100", "4"})
		f(&c)
		return c
	}
	fresh := func(f func(*canonical.FulfillmentOrder)) canonical.FulfillmentOrder {
		c := makeFO("FO-2", "WH-EAST", line{"SKU-100", "4"})
		f(&c)
		return c
	}
	tests := []struct {
		name  string
		fo    canonical.FulfillmentOrder
		code  connector.Code
		field string
	}{
		{"same ID, other quantity", other(func(f *canonical.FulfillmentOrder) { f.Lines[0].Quantity = qty("5") }), connector.CodeConflict, ""},
		{"same ID, other warehouse", other(func(f *canonical.FulfillmentOrder) { f.Warehouse = "WH-WEST" }), connector.CodeConflict, ""},
		{"same ID, other SKU", other(func(f *canonical.FulfillmentOrder) { f.Lines[0].Item.SKU = "SKU-101" }), connector.CodeConflict, ""},
		{"unknown warehouse", fresh(func(f *canonical.FulfillmentOrder) { f.Warehouse = "WH-MOON" }), connector.CodeInvalid, "warehouse"},
		{"unknown SKU", fresh(func(f *canonical.FulfillmentOrder) { f.Lines[0].Item.SKU = "SKU-999" }), connector.CodeInvalid, "lines[0].item.sku"},
		{"not the base unit", fresh(func(f *canonical.FulfillmentOrder) { f.Lines[0].Quantity = canonical.MustParseQuantity("1", "XCS") }), connector.CodeInvalid, "lines[0].quantity.unit"},
		{"too much", fresh(func(f *canonical.FulfillmentOrder) { f.Lines[0].Quantity = qty("1000000000000") }), connector.CodeInvalid, "lines[0].quantity.value"},
		{"zero quantity", fresh(func(f *canonical.FulfillmentOrder) { f.Lines[0].Quantity = qty("0") }), connector.CodeInvalid, "lines[0].quantity.value"},
		{"no ID", fresh(func(f *canonical.FulfillmentOrder) { f.ID = "" }), connector.CodeInvalid, "id"},
	}
	for _, tt := range tests {
		_, err := m.Release(ctx, tt.fo)
		assert.Equal(t, tt.code, connector.CodeOf(err), "Release with %s: %v", tt.name, err)
		if tt.code == connector.CodeConflict {
			assert.ErrorIs(t, err, wms.ErrConflict, "Release with %s", tt.name)
		}
		if tt.field != "" {
			var ve *canonical.ValidationError
			if assert.ErrorAs(t, err, &ve, "Release with %s", tt.name) {
				assert.True(t, ve.Has(tt.field), "Release with %s names %s: %v", tt.name, tt.field, err)
			}
		}
	}
	assert.Equal(t, 1, m.Counts().Releases, "only the first release counts")
	assert.Len(t, ofType(allEvents(t, m), canonical.EventFulfillmentReleased, ""), 1, "one released event")
}

func TestConcurrentReleases(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	const orders, dups = 20, 4
	var wg sync.WaitGroup
	errs := make(chan error, orders*dups+orders)
	for i := range orders {
		for range dups {
			wg.Go(func() {
				fo := makeFO(fmt.Sprintf("FO-%02d", i), "WH-EAST", line{"SKU-100", "5"}, line{"SKU-105", "1"})
				if _, err := m.Release(ctx, fo); err != nil {
					errs <- err
				}
			})
		}
		wg.Go(func() {
			if _, err := m.Step(ctx); err != nil {
				errs <- err
			}
			if _, err := m.PollEvents(ctx, "", 10); err != nil {
				errs <- err
			}
			if _, err := m.Inventory(ctx, connector.InventoryQuery{}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	assert.Equal(t, orders, m.Counts().Releases, "each fulfilment order released once")
	_, err := m.Settle(ctx, 50)
	require.NoError(t, err)
	es := allEvents(t, m)
	assert.Len(t, ofType(es, canonical.EventFulfillmentReleased, ""), orders, "released events")
	var shipped canonical.Decimal
	for _, e := range ofType(es, canonical.EventFulfillmentShipped, "") {
		s, err := canonical.DecodeData[canonical.Shipment](e)
		require.NoError(t, err)
		for _, l := range s.Lines {
			shipped, _ = shipped.Add(l.Quantity.Value)
		}
	}
	assert.Equal(t, "100", shipped.String(), "20 × 5 SKU-100 shipped, SKU-105 backordered")
	oh, _ := onHand(t, m, "WH-EAST", "SKU-100")
	assert.Equal(t, "20", oh, "120 − 100 SKU-100 left")
}

func TestAdjust(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	release(t, m, makeFO("FO-1", "WH-SOUTH", line{"SKU-100", "30"}))
	step(t, m, 1) // 30 of 40 allocated
	adj := func(id, sku, wh, delta string, reason canonical.AdjustmentReason) canonical.InventoryAdjustment {
		return canonical.InventoryAdjustment{ID: id, Item: canonical.ItemRef{SKU: sku}, Location: wh, Status: canonical.InventoryAvailable,
			Delta: qty(delta), Reason: reason, AdjustedAt: wms.DemoEpoch()}
	}
	first, err := m.Adjust(ctx, adj("A-1", "SKU-100", "WH-SOUTH", "-4", canonical.AdjustDamage))
	require.NoError(t, err)
	assert.Equal(t, int64(1), first.Sequence, "first inventory event of SKU-100@WH-SOUTH")
	again, err := m.Adjust(ctx, adj("A-1", "SKU-100", "WH-SOUTH", "-4", canonical.AdjustDamage))
	require.NoError(t, err)
	assert.Equal(t, first, again, "replay by ID")
	// The refs returned are the caller's: changing them, or appending to
	// them, changes neither a replay's nor another call's.
	want := slices.Clone(first.Refs)
	first.Refs[0].Value = "changed"
	_ = append(first.Refs, canonical.ExternalRef{System: "x", Type: "y", Value: "z"})
	again.Refs = append(again.Refs[:0], canonical.ExternalRef{System: "x", Type: "y", Value: "z"})
	third, err := m.Adjust(ctx, adj("A-1", "SKU-100", "WH-SOUTH", "-4", canonical.AdjustDamage))
	require.NoError(t, err)
	assert.Equal(t, want, third.Refs, "replay by ID after the caller changed the refs returned")
	// The WMS's ref replaces one of its system and type in place, after
	// the caller's other refs (canonical.Refs.With).
	withRefs := adj("A-9", "SKU-100", "WH-SOUTH", "1", canonical.AdjustFound)
	withRefs.Refs = canonical.Refs{{System: "wms", Type: "adjustment", Value: "OLD"}, {System: "crm", Type: "case", Value: "C-1"}}
	got, err := newSim(t, wms.Config{}).Adjust(ctx, withRefs)
	require.NoError(t, err)
	if assert.Len(t, got.Refs, 2, "refs of an adjustment with a WMS ref of its own") {
		assert.Equal(t, "wms", got.Refs[0].System, "the WMS's ref stays first")
		assert.NotEqual(t, "OLD", got.Refs[0].Value, "the WMS's ref is replaced")
		assert.Equal(t, withRefs.Refs[1], got.Refs[1], "the caller's other ref is kept")
	}
	tests := []struct {
		name  string
		adj   canonical.InventoryAdjustment
		code  connector.Code
		field string
	}{
		{"ID reused", adj("A-1", "SKU-100", "WH-SOUTH", "-5", canonical.AdjustDamage), connector.CodeConflict, ""},
		{"below allocated", adj("A-2", "SKU-100", "WH-SOUTH", "-7", canonical.AdjustShrinkage), connector.CodeConflict, ""},
		{"unknown SKU", adj("A-3", "SKU-9", "WH-SOUTH", "1", canonical.AdjustFound), connector.CodeInvalid, "item.sku"},
		{"unknown warehouse", adj("A-4", "SKU-100", "WH-X", "1", canonical.AdjustFound), connector.CodeInvalid, "location"},
		{"zero delta", adj("A-5", "SKU-100", "WH-SOUTH", "0", canonical.AdjustFound), connector.CodeInvalid, "delta.value"},
	}
	for _, tt := range tests {
		_, err := m.Adjust(ctx, tt.adj)
		assert.Equal(t, tt.code, connector.CodeOf(err), "Adjust with %s: %v", tt.name, err)
		if tt.field != "" {
			var ve *canonical.ValidationError
			if assert.ErrorAs(t, err, &ve, "Adjust with %s", tt.name) {
				assert.True(t, ve.Has(tt.field), "Adjust with %s names %s: %v", tt.name, tt.field, err)
			}
		}
	}
	oh, avail := onHand(t, m, "WH-SOUTH", "SKU-100")
	assert.Equal(t, "36", oh, "40 − 4 damaged")
	assert.Equal(t, "6", avail, "36 − 30 allocated")
	assert.Equal(t, 1, m.Counts().Adjustments)
}

func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	q := connector.InventoryQuery{SKUs: []string{"SKU-104"}}
	ps, err := m.Snapshot(ctx, q)
	require.NoError(t, err)
	require.Len(t, ps, 4, "SKU-104: two lots in WH-EAST, one position each in WH-SOUTH and WH-WEST")
	es := ofType(allEvents(t, m), canonical.EventInventorySnapshot, "")
	require.Len(t, es, 4, "one snapshot event per position")
	for i, e := range es {
		p, err := canonical.DecodeData[canonical.InventoryPosition](e)
		require.NoError(t, err)
		assert.Equal(t, ps[i], p, "event %d carries the position", i)
		assert.Equal(t, uint64(p.Sequence), e.Sequence, "position sequence is the event's")
		assert.Equal(t, "SKU-104@"+p.Location, e.Subject)
	}
	assert.Equal(t, []uint64{1, 2, 1, 1}, []uint64{es[0].Sequence, es[1].Sequence, es[2].Sequence, es[3].Sequence}, "per-subject sequences")
	inv, err := m.Inventory(ctx, q)
	require.NoError(t, err)
	for i := range inv {
		assert.Equal(t, lastSeq(es, inv[i].Location), inv[i].Sequence, "Inventory %d carries the last sequence of its item and warehouse", i)
		inv[i].Sequence = ps[i].Sequence
	}
	assert.Equal(t, ps, inv, "Inventory returns what the snapshot said")

	all, err := m.Inventory(ctx, connector.InventoryQuery{SKUs: []string{"SKU-105"}})
	require.NoError(t, err)
	require.Len(t, all, 3, "a zero position per warehouse for an item without stock")
	for _, p := range all {
		assert.True(t, p.OnHand.IsZero(), "SKU-105 at %s", p.Location)
		require.NoError(t, p.Validate())
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := newSim(t, wms.Config{})
	calls := map[string]func() error{
		"Plan":    func() error { _, err := m.Plan(ctx, testOrder("TX", line{"SKU-100", "1"})); return err },
		"Step":    func() error { _, err := m.Step(ctx); return err },
		"Adjust":  func() error { _, err := m.Adjust(ctx, canonical.InventoryAdjustment{}); return err },
		"Receive": func() error { _, err := m.ReceiveReturn(ctx, "R", nil); return err },
		"Snap":    func() error { _, err := m.Snapshot(ctx, connector.InventoryQuery{}); return err },
		"Health":  func() error { return m.Health(ctx) },
	}
	for name, call := range calls {
		err := call()
		assert.True(t, errors.Is(err, context.Canceled), "%s with a cancelled context: %v", name, err)
	}
	assert.Equal(t, wms.Counts{}, m.Counts(), "cancelled calls have no effect")
	require.NoError(t, m.Health(context.Background()))

	errShutdown := errors.New("shutting down")
	cctx, ccancel := context.WithCancelCause(context.Background())
	ccancel(errShutdown)
	_, err := m.Release(cctx, makeFO("FO-1", "WH-EAST", line{"SKU-100", "1"}))
	assert.ErrorIs(t, err, context.Canceled, "Release with a cause")
	assert.ErrorIs(t, err, errShutdown, "Release reports the cause")
	assert.Equal(t, connector.CodeUnknown, connector.CodeOf(err), "the caller's cancellation carries no connector code")
	dctx, dcancel := context.WithDeadline(context.Background(), wms.DemoEpoch())
	defer dcancel()
	_, err = m.Inventory(dctx, connector.InventoryQuery{})
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Inventory past its deadline")
	assert.Zero(t, m.Counts().Releases)
}

// lastSeq returns the sequence of the last event of es about SKU-104 at
// location.
func lastSeq(es []canonical.Event, location string) int64 {
	var seq int64
	for _, e := range es {
		if e.Subject == "SKU-104@"+location {
			seq = int64(e.Sequence)
		}
	}
	return seq
}

func TestReturnInCases(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	r := kitReturn(1)
	r.Warehouse = "WH-WEST"
	r.Lines[0].Item.SKU = "SKU-104"
	r.Lines[0].Authorized = canonical.MustParseQuantity("2", "XCS")
	r.Lines[0].Received = canonical.MustParseQuantity("0", "XCS")
	_, err := m.AuthorizeReturn(ctx, r)
	require.NoError(t, err)
	_, err = m.ReceiveReturn(ctx, r.ID, []wms.ReturnReceipt{{LineID: r.Lines[0].ID, Quantity: canonical.MustParseQuantity("2", "XCS"),
		Condition: canonical.ConditionNew, Disposition: canonical.DispositionRestock}})
	require.NoError(t, err)
	_, avail := onHand(t, m, "WH-WEST", "SKU-104")
	assert.Equal(t, "144", avail, "120 EA + 2 cases of 12 restocked")
	adj := ofType(allEvents(t, m), canonical.EventInventoryAdjusted, "SKU-104@WH-WEST")
	require.Len(t, adj, 1)
	doc, err := canonical.DecodeData[canonical.InventoryAdjustment](adj[0])
	require.NoError(t, err)
	assert.Equal(t, "24 EA", doc.Delta.String(), "the adjustment is in the base unit")
	assert.Equal(t, canonical.AdjustReturnToStock, doc.Reason)
}

func TestAuthorizeReturnErrors(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	first, err := m.AuthorizeReturn(ctx, kitReturn(1))
	require.NoError(t, err)
	mod := func(f func(*canonical.Return)) canonical.Return {
		r := kitReturn(1)
		r.Lines = append([]canonical.ReturnLine(nil), r.Lines...)
		f(&r)
		return r
	}
	fresh := func(f func(*canonical.Return)) canonical.Return {
		return mod(func(r *canonical.Return) { r.ID = "kit-ret-2"; f(r) })
	}
	tests := []struct {
		name  string
		ret   canonical.Return
		code  connector.Code
		field string
	}{
		{"same ID, other quantity", mod(func(r *canonical.Return) { r.Lines[0].Authorized = qty("4") }), connector.CodeConflict, ""},
		{"same ID, other warehouse", mod(func(r *canonical.Return) { r.Warehouse = "WH-WEST" }), connector.CodeConflict, ""},
		{"unknown warehouse", fresh(func(r *canonical.Return) { r.Warehouse = "WH-X" }), connector.CodeInvalid, "warehouse"},
		{"unknown SKU", fresh(func(r *canonical.Return) { r.Lines[0].Item.SKU = "SKU-X" }), connector.CodeInvalid, "lines[0].item.sku"},
		{"no conversion", fresh(func(r *canonical.Return) {
			r.Lines[0].Authorized = canonical.MustParseQuantity("1", "XCS")
			r.Lines[0].Received = canonical.MustParseQuantity("0", "XCS")
		}), connector.CodeInvalid, "lines[0].authorized.unit"},
		{"already received", fresh(func(r *canonical.Return) {
			r.ReceivedAt = wms.DemoEpoch()
			r.Lines[0].Received = qty("1")
			r.Lines[0].Condition, r.Lines[0].Disposition = canonical.ConditionNew, canonical.DispositionRestock
		}), connector.CodeInvalid, "receivedAt"},
	}
	for _, tt := range tests {
		_, err := m.AuthorizeReturn(ctx, tt.ret)
		assert.Equal(t, tt.code, connector.CodeOf(err), "AuthorizeReturn with %s: %v", tt.name, err)
		if tt.field != "" {
			var ve *canonical.ValidationError
			if assert.ErrorAs(t, err, &ve, "AuthorizeReturn with %s", tt.name) {
				assert.True(t, ve.Has(tt.field), "AuthorizeReturn with %s names %s: %v", tt.name, tt.field, err)
			}
		}
	}
	assert.Equal(t, 1, m.Counts().ReturnAuthorizations, "failed authorizations count for nothing")
	_, err = m.Return(ctx, "kit-ret-9")
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err), "Return of an unknown ID")
	got, err := m.Return(ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, first, got)
}

func TestLookups(t *testing.T) {
	ctx := context.Background()
	m := newSim(t, wms.Config{})
	fo := release(t, m, makeFO("FO-1", "WH-EAST", line{"SKU-100", "1"}))
	got, err := m.FulfillmentOrder(ctx, "FO-1")
	require.NoError(t, err)
	assert.Equal(t, fo, got, "FulfillmentOrder returns what Release returned")
	_, err = m.FulfillmentOrder(ctx, "FO-9")
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err), "FulfillmentOrder of an unknown ID")
	assert.ErrorIs(t, err, wms.ErrNotFound)

	assert.Equal(t, wms.DemoWarehouses(), m.Warehouses(), "demo warehouses")
	assert.Equal(t, wms.DemoItems(), m.Items(), "demo items, sorted by SKU")
	whs := m.Warehouses()
	whs[0].ID = "changed"
	assert.Equal(t, "WH-EAST", m.Warehouses()[0].ID, "Warehouses returns a copy")
}
