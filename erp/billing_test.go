package erp_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
)

// accepted accepts o and returns the ERP's view of it.
func accepted(t *testing.T, m *erp.Memory, o canonical.Order) canonical.Order {
	t.Helper()
	ack, err := m.AcceptOrder(t.Context(), "accept-"+o.ID, &o)
	require.NoError(t, err, "AcceptOrder(%s)", o.ID)
	require.NotEqual(t, canonical.AckRejected, ack.Outcome, "AcceptOrder(%s)", o.ID)
	got, err := m.GetOrder(t.Context(), o.ID)
	require.NoError(t, err, "GetOrder(%s)", o.ID)
	return got
}

func TestPostShipmentInvoices(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	o := newOrder("ord-1", "C-1", line{"SKU-100", "10", "EA", "12.50"}, line{"SKU-102", "3", "XCS", "102.00"})
	o.Charges = []canonical.Charge{{Type: "freight", Amount: money("15.00")}}
	o = accepted(t, m, o)

	// First a partial shipment: 4 hammers.
	s1 := shipment(o, "shp-1", "4", "")
	inv, err := m.PostShipment(ctx, "post-shp-1", s1)
	require.NoError(t, err)
	require.NoError(t, inv.Validate())
	assert.Equal(t, "INV-000001", inv.Number)
	assert.Equal(t, canonical.InvoiceStandard, inv.Kind)
	assert.Equal(t, "ord-1", inv.OrderID)
	assert.Equal(t, "C-1", inv.BillTo.ID)
	assert.Equal(t, "NET30", inv.PaymentTerms)
	assert.Equal(t, t0.AddDate(0, 0, 30), inv.DueDate, "NET30")
	require.Len(t, inv.Lines, 1)
	assert.Equal(t, "50.00", inv.Lines[0].Amount.Amount.String(), "4 × 12.50")
	assert.Equal(t, "15.00", inv.Totals.Charges.Amount.String(), "freight on the first invoice")
	assert.Equal(t, "3.13", inv.Totals.Tax.Amount.String(), "6.25 % IL of 50.00 = 3.125, rounded half away from zero")
	assert.Equal(t, "68.13", inv.Totals.Total.Amount.String())
	require.Len(t, inv.Taxes, 1)
	assert.Equal(t, "US-IL", inv.Taxes[0].Jurisdiction)

	// Replays: the same key, and the same shipment under another key.
	again, err := m.PostShipment(ctx, "post-shp-1", s1)
	require.NoError(t, err)
	assert.Equal(t, inv, again, "same key: the same invoice")
	other, err := m.PostShipment(ctx, "post-shp-1-retry", s1)
	require.NoError(t, err)
	assert.Equal(t, inv, other, "same shipment, another key: the same invoice")
	assert.Equal(t, 1, m.InvoiceCount("ord-1"))

	changed := s1
	changed.Lines = []canonical.ShipmentLine{s1.Lines[0]}
	changed.Lines[0].Quantity = canonical.MustParseQuantity("5", "EA")
	_, err = m.PostShipment(ctx, "post-shp-1", changed)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "same key, another shipment")
	_, err = m.PostShipment(ctx, "post-shp-1-changed", changed)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "same shipment ID, other content")

	// The rest: 6 hammers and 3 cases; no freight this time.
	inv2, err := m.PostShipment(ctx, "post-shp-2", shipment(o, "shp-2", "6", "3"))
	require.NoError(t, err)
	assert.Equal(t, "INV-000002", inv2.Number)
	assert.Equal(t, "0.00", inv2.Totals.Charges.Amount.String(), "freight billed once")
	assert.Equal(t, "359.40", inv2.Totals.Subtotal.Amount.String(), "6 × 12.50 + 3 × 94.80 (72 EA reach the 48 EA break)")
	assert.Equal(t, "22.46", inv2.Totals.Tax.Amount.String())
	assert.Equal(t, 2, m.InvoiceCount("ord-1"))

	got, err := m.GetOrder(ctx, "ord-1")
	require.NoError(t, err)
	for _, l := range got.Lines {
		assert.True(t, l.Buckets.Get(canonical.BucketShipped).Equal(l.Quantity.Value), "line %s shipped", l.ID)
		assert.True(t, l.Buckets.Get(canonical.BucketInvoiced).Equal(l.Quantity.Value), "line %s invoiced", l.ID)
	}
	st := got.Status()
	assert.Equal(t, canonical.FulfillmentShipped, st.Fulfillment)
	assert.Equal(t, canonical.BillingInvoiced, st.Billing)

	acct, _ := m.Account("C-1")
	assert.Equal(t, "449.99", acct.OpenBalance.String(), "68.13 + 381.86")

	_, err = m.PostShipment(ctx, "post-shp-3", shipment(o, "shp-3", "1", ""))
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "nothing left open")
}

func TestPostShipmentErrors(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	o := accepted(t, m, newOrder("ord-1", "C-1", line{"SKU-100", "10", "EA", "12.50"}))
	wrongLine := shipment(o, "s-line")
	wrongLine.Lines[0].OrderLineID = "L9"
	wrongUnit := shipment(o, "s-unit")
	wrongUnit.Lines[0].Quantity = canonical.MustParseQuantity("1", "XCS")
	unknown := shipment(o, "s-unknown")
	unknown.OrderID = "ord-404"
	tests := []struct {
		name  string
		key   string
		s     canonical.Shipment
		code  connector.Code
		field string
	}{
		{"no key", "", shipment(o, "s"), connector.CodeInvalid, "key"},
		{"invalid shipment", "k", canonical.Shipment{ID: "s"}, connector.CodeInvalid, "orderId"},
		{"unknown order line", "k", wrongLine, connector.CodeInvalid, "lines[0].orderLineId"},
		{"another unit", "k", wrongUnit, connector.CodeInvalid, "lines[0].quantity.unit"},
		{"unknown order", "k", unknown, connector.CodeNotFound, ""},
		{"more than ordered", "k", shipment(o, "s-more", "11"), connector.CodeConflict, ""},
	}
	for _, tt := range tests {
		_, err := m.PostShipment(ctx, tt.key, tt.s)
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: %v", tt.name, err)
		if tt.field != "" {
			var ve *canonical.ValidationError
			require.ErrorAs(t, err, &ve, tt.name)
			assert.True(t, ve.Has(tt.field), "%s: %v names %s", tt.name, err, tt.field)
		}
	}
	assert.Zero(t, m.InvoiceCount("ord-1"))
}

func TestPostShipmentConcurrent(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	o := accepted(t, m, newOrder("ord-1", "C-1", line{"SKU-100", "10", "EA", "12.50"}))
	s := shipment(o, "shp-1")
	const n = 16
	invs := make([]canonical.Invoice, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := "post-shp-1"
			if i%2 == 1 {
				key = "another-key" // the same shipment under another key
			}
			invs[i], errs[i] = m.PostShipment(ctx, key, s)
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "call %d", i)
		assert.Equal(t, invs[0], invs[i], "call %d", i)
	}
	assert.Equal(t, 1, m.InvoiceCount("ord-1"), "exactly one invoice per shipment")
	assert.Equal(t, 1, m.Counts().Invoices)
}

func TestPostReturnCreditMemo(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	o := accepted(t, m, newOrder("ord-1", "C-1", line{"SKU-100", "10", "EA", "12.50"}, line{"SKU-101", "2", "EA", "9.80"}))
	inv, err := m.PostShipment(ctx, "ship", shipment(o, "shp-1"))
	require.NoError(t, err)
	before, _ := m.Account("C-1")

	tests := []struct {
		name        string
		ret         canonical.Return
		disposition canonical.Disposition
		wantTotal   string
	}{
		{"restocked", received(o, "ret-1", "L1", "3", canonical.DispositionRestock), canonical.DispositionRestock, "39.84"},          // 37.50 + 2.34
		{"scrapped", received(o, "ret-2", "L2", "1", canonical.DispositionScrap), canonical.DispositionScrap, "10.41"},               // 9.80 + 0.61
		{"the rest of L1", received(o, "ret-3", "L1", "7", canonical.DispositionRefurbish), canonical.DispositionRefurbish, "92.97"}, // 87.50 + 5.47
	}
	var credited canonical.Decimal
	for i, tt := range tests {
		memo, err := m.PostReturn(ctx, "post-"+tt.ret.ID, tt.ret)
		require.NoError(t, err, tt.name)
		require.NoError(t, memo.Validate(), tt.name)
		assert.Equal(t, canonical.InvoiceCreditMemo, memo.Kind, tt.name)
		assert.Equal(t, "CM-00000"+string(rune('1'+i)), memo.Number, tt.name)
		assert.Equal(t, inv.ID, memo.CreditsInvoiceID, tt.name)
		assert.Equal(t, tt.ret.ID, memo.ReturnID, tt.name)
		assert.Equal(t, tt.wantTotal, memo.Totals.Total.Amount.String(), tt.name)
		again, err := m.PostReturn(ctx, "post-"+tt.ret.ID, tt.ret)
		require.NoError(t, err, tt.name)
		assert.Equal(t, memo, again, "%s: replay", tt.name)
		credited, _ = credited.Add(memo.Totals.Total.Amount)
	}
	got, err := m.GetOrder(ctx, "ord-1")
	require.NoError(t, err)
	assert.Equal(t, "10", got.Lines[0].Buckets.Get(canonical.BucketReturned).String())
	assert.Equal(t, canonical.BillingCredited, got.Status().Billing)
	after, _ := m.Account("C-1")
	diff, _ := before.OpenBalance.Sub(after.OpenBalance)
	assert.True(t, diff.Equal(credited), "balance falls by the credits: %s vs %s", diff, credited)
	assert.Equal(t, 3, m.Counts().CreditMemos)
	assert.Len(t, m.Invoices("ord-1"), 4, "one invoice, three credit memos")
	assert.Equal(t, 1, m.InvoiceCount("ord-1"))

	_, err = m.PostReturn(ctx, "post-ret-4", received(o, "ret-4", "L2", "2", canonical.DispositionRestock))
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "only 1 of L2 is left to return")
	noOrder := received(o, "ret-5", "L2", "1", canonical.DispositionRestock)
	noOrder.OrderID = ""
	_, err = m.PostReturn(ctx, "post-ret-5", noOrder)
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err))
	unknown := received(o, "ret-6", "L2", "1", canonical.DispositionRestock)
	unknown.OrderID = "ord-404"
	_, err = m.PostReturn(ctx, "post-ret-6", unknown)
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err))
	_, err = m.PostReturn(ctx, "post-ret-1", received(o, "ret-7", "L2", "1", canonical.DispositionRestock))
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "used key, another return")
}

func TestPostReturnBeforeInvoice(t *testing.T) {
	m := newERP(t, erp.Config{})
	o := accepted(t, m, newOrder("ord-1", "C-1", line{"SKU-100", "10", "EA", "12.50"}))
	_, err := m.PostReturn(t.Context(), "k", received(o, "ret-1", "L1", "1", canonical.DispositionRestock))
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "nothing invoiced to credit")
}

func TestApplyInventory(t *testing.T) {
	ctx := t.Context()
	pos := func(sku, loc string, kind canonical.QuantityEventKind, qty string, seq int64, asOf time.Time) canonical.InventoryPosition {
		q := canonical.MustParseQuantity(qty, "EA")
		zero := canonical.MustParseQuantity("0", "EA")
		return canonical.InventoryPosition{Item: canonical.ItemRef{SKU: sku}, Location: loc, Status: canonical.InventoryAvailable,
			Kind: kind, OnHand: q, Allocated: zero, Available: q, Inbound: zero, AsOf: asOf, Sequence: seq}
	}
	snap, delta := canonical.QuantitySnapshot, canonical.QuantityDelta
	tests := []struct {
		name    string
		p       canonical.InventoryPosition
		want    string // on hand of SKU-101 at WH-WEST afterwards (demo: 30)
		applied bool
	}{
		{"newer snapshot", pos("SKU-101", "WH-WEST", snap, "50", 2, t0), "50", true},
		{"older sequence ignored", pos("SKU-101", "WH-WEST", snap, "10", 1, t0.Add(time.Hour)), "50", false},
		{"same sequence, older time ignored", pos("SKU-101", "WH-WEST", snap, "10", 2, t0.Add(-time.Hour)), "50", false},
		{"same sequence and time ignored", pos("SKU-101", "WH-WEST", snap, "10", 2, t0), "50", false},
		{"same sequence, later time applied", pos("SKU-101", "WH-WEST", snap, "45", 2, t0.Add(time.Minute)), "45", true},
		{"newer delta adds", pos("SKU-101", "WH-WEST", delta, "-5", 3, t0.Add(time.Hour)), "40", true},
		{"repeated delta ignored", pos("SKU-101", "WH-WEST", delta, "-5", 3, t0.Add(time.Hour)), "40", false},
		{"other location untouched", pos("SKU-101", "WH-EAST", snap, "0", 9, t0), "40", true},
	}
	m := newERP(t, erp.Config{})
	for i, tt := range tests {
		before := m.Counts().InventoryApplications
		require.NoError(t, m.ApplyInventory(ctx, "inv-"+tt.name, []canonical.InventoryPosition{tt.p}), tt.name)
		q, ok := m.Stock("SKU-101", "WH-WEST")
		require.True(t, ok, tt.name)
		assert.Equal(t, tt.want, q.Value.String(), "step %d %s", i, tt.name)
		assert.Equal(t, tt.applied, m.Counts().InventoryApplications > before, "%s: counted", tt.name)
	}
	atp, _ := m.AvailableToPromise("SKU-101")
	assert.Equal(t, "40 EA", atp.String(), "WH-EAST 0 + WH-WEST 40 + WH-SOUTH 0")

	// Idempotent by key.
	p := []canonical.InventoryPosition{pos("SKU-100", "WH-EAST", delta, "5", 7, t0)}
	require.NoError(t, m.ApplyInventory(ctx, "once", p))
	require.NoError(t, m.ApplyInventory(ctx, "once", p))
	q, _ := m.Stock("SKU-100", "WH-EAST")
	assert.Equal(t, "125", q.Value.String(), "120 + 5 once")
	other := []canonical.InventoryPosition{pos("SKU-100", "WH-EAST", delta, "6", 8, t0)}
	err := m.ApplyInventory(ctx, "once", other)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "same key, other positions")

	// Cases are converted to the base unit.
	cases := pos("SKU-102", "WH-WEST", snap, "2", 5, t0)
	cases.OnHand = canonical.MustParseQuantity("2", "XCS")
	cases.Allocated = canonical.MustParseQuantity("0", "XCS")
	cases.Available, cases.Inbound = cases.OnHand, cases.Allocated
	require.NoError(t, m.ApplyInventory(ctx, "cases", []canonical.InventoryPosition{cases}))
	q, _ = m.Stock("SKU-102", "WH-WEST")
	assert.Equal(t, "48 EA", q.String())

	// Invalid input names the position; nothing is applied.
	bad := []canonical.InventoryPosition{pos("SKU-100", "WH-EAST", snap, "1", 99, t0), pos("NOPE", "WH-EAST", snap, "1", 1, t0)}
	err = m.ApplyInventory(ctx, "bad", bad)
	require.Equal(t, connector.CodeInvalid, connector.CodeOf(err))
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("positions[1].item.sku"), "%v", err)
	q, _ = m.Stock("SKU-100", "WH-EAST")
	assert.Equal(t, "125", q.Value.String(), "a batch with a bad position changes nothing")
	noLoc := []canonical.InventoryPosition{pos("SKU-100", "", snap, "1", 99, t0)}
	err = m.ApplyInventory(ctx, "bad-2", noLoc)
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("positions[0].location"), "%v", err)
}

func TestShippedStockFreesPromises(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	o := accepted(t, m, newOrder("ord-1", "C-2", line{"SKU-103", "20", "EA", "82.00"}))
	atp, _ := m.AvailableToPromise("SKU-103")
	assert.Equal(t, "0 EA", atp.String(), "all 20 drills promised")
	_, err := m.PostShipment(ctx, "ship", shipment(o, "shp-1"))
	require.NoError(t, err)
	// The warehouse reports its stock after shipping: 0 on hand.
	zero := canonical.MustParseQuantity("0", "EA")
	var ps []canonical.InventoryPosition
	for _, wh := range []string{"WH-EAST", "WH-SOUTH", "WH-WEST"} {
		ps = append(ps, canonical.InventoryPosition{Item: canonical.ItemRef{SKU: "SKU-103"}, Location: wh, Status: canonical.InventoryAvailable,
			Kind: canonical.QuantitySnapshot, OnHand: zero, Allocated: zero, Available: zero, Inbound: zero, AsOf: t0, Sequence: 2})
	}
	require.NoError(t, m.ApplyInventory(ctx, "after-ship", ps))
	atp, _ = m.AvailableToPromise("SKU-103")
	assert.Equal(t, "0 EA", atp.String(), "shipped demand no longer counts")
}
