package erp_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
)

func TestValidateOrderPricing(t *testing.T) {
	tests := []struct {
		name      string
		customer  string
		line      line
		wantPrice string // ERP price per line unit
		changed   bool
	}{
		{"list price", "C-1", line{"SKU-100", "10", "EA", "12.50"}, "12.50", false},
		{"list price, order says otherwise", "C-1", line{"SKU-100", "10", "EA", "13.00"}, "12.50", true},
		{"break at 50", "C-1", line{"SKU-100", "50", "EA", "12.50"}, "11.75", true},
		{"just below the break", "C-1", line{"SKU-100", "49", "EA", "12.50"}, "12.50", false},
		{"break at 200", "C-2", line{"SKU-100", "200", "EA", "11.75"}, "10.90", true},
		{"customer price", "C-2", line{"SKU-103", "1", "EA", "89.00"}, "82.00", true},
		{"customer price as ordered", "C-2", line{"SKU-103", "1", "EA", "82.00"}, "82.00", false},
		{"other customer pays list", "C-1", line{"SKU-103", "1", "EA", "89.00"}, "89.00", false},
		{"customer break not reached: list", "C-1", line{"SKU-105", "99", "EA", "6.40"}, "6.40", false},
		{"customer break reached", "C-1", line{"SKU-105", "100", "EA", "6.40"}, "5.90", true},
		{"case of 24 at the 48 EA break", "C-1", line{"SKU-102", "2", "XCS", "102.00"}, "94.80", true},
		{"one case below the break", "C-1", line{"SKU-102", "1", "XCS", "102.00"}, "102.00", false},
		{"no price given", "C-1", line{"SKU-101", "1", "EA", "0"}, "9.80", true},
	}
	for _, tt := range tests {
		m := newERP(t, erp.Config{})
		o := newOrder("ord-price", tt.customer, tt.line)
		ack, err := m.ValidateOrder(t.Context(), &o)
		require.NoError(t, err, tt.name)
		require.NoError(t, ack.Validate(), "%s: ack must be valid", tt.name)
		require.Len(t, ack.Lines, 1, tt.name)
		al := ack.Lines[0]
		if tt.changed {
			require.NotNil(t, al.UnitPrice, "%s: a changed price is returned", tt.name)
			assert.Equal(t, tt.wantPrice, al.UnitPrice.Amount.String(), tt.name)
			assert.Contains(t, []canonical.LineResult{canonical.LinePriceChanged, canonical.LineBackordered}, al.Result, tt.name)
			assert.Equal(t, canonical.AckAcceptedWithChanges, ack.Outcome, tt.name)
		} else {
			assert.Nil(t, al.UnitPrice, "%s: no price change", tt.name)
		}
		wantSub, err := canonical.MustParseMoney(tt.wantPrice, "USD").Mul(canonical.MustParseDecimal(tt.line.qty))
		require.NoError(t, err)
		require.NotNil(t, ack.Totals, tt.name)
		assert.True(t, wantSub.Round().Equal(ack.Totals.Subtotal), "%s: subtotal %s, want %s", tt.name, ack.Totals.Subtotal, wantSub)
	}
}

func TestValidateOrderTax(t *testing.T) {
	addr := func(region string) *canonical.Address {
		return &canonical.Address{Lines: []string{"1 Main St"}, City: "Anytown", Region: region, Country: "US"}
	}
	tests := []struct {
		name     string
		customer string
		shipTo   *canonical.Address
		wantTax  string // on a subtotal of 125.00 (10 × SKU-100)
		wantHold bool
	}{
		{"IL from the customer's ship-to", "C-1", nil, "7.81", false},
		{"OR has no sales tax", "C-2", nil, "0.00", false},
		{"TX from the order address", "C-1", addr("TX"), "7.81", false},
		{"CA", "C-1", addr("CA"), "9.06", false},
		{"NY", "C-1", addr("NY"), "5.00", false},
		{"unknown region: tax hold", "C-1", addr("ZZ"), "0.00", true},
		{"other country: tax hold", "C-1", &canonical.Address{Lines: []string{"1 Rue"}, City: "Paris", Country: "FR"}, "0.00", true},
	}
	for _, tt := range tests {
		m := newERP(t, erp.Config{})
		o := newOrder("ord-tax", tt.customer, line{"SKU-100", "10", "EA", "12.50"})
		o.ShipTo.Address = tt.shipTo
		ack, err := m.ValidateOrder(t.Context(), &o)
		require.NoError(t, err, tt.name)
		require.NoError(t, ack.Validate(), "%s: ack must be valid", tt.name)
		require.NotNil(t, ack.Totals, tt.name)
		assert.Equal(t, tt.wantTax, ack.Totals.Tax.Amount.String(), "%s: tax", tt.name)
		assert.Equal(t, tt.wantHold, ack.Outcome == canonical.AckOnHold, "%s: outcome %s", tt.name, ack.Outcome)
		if tt.wantHold {
			require.Len(t, ack.Holds, 1, tt.name)
			assert.Equal(t, canonical.HoldTax, ack.Holds[0].Kind, tt.name)
		}
		total, err := ack.Totals.Subtotal.Add(ack.Totals.Tax)
		require.NoError(t, err)
		assert.True(t, total.Equal(ack.Totals.Total), "%s: total %s = subtotal + tax", tt.name, ack.Totals.Total)
	}
}

func TestValidateOrderRejections(t *testing.T) {
	blocked := erp.DemoAccounts()
	blocked[1].Customer.Blocked = true
	tests := []struct {
		name        string
		cfg         erp.Config
		order       canonical.Order
		outcome     canonical.AckOutcome
		rejected    []int  // indexes of rejected lines
		field       string // a message must name it
		messageLine int    // -1: order-level message
	}{
		{"unknown item", erp.Config{}, newOrder("o", "C-1", line{"SKU-100", "1", "EA", "12.50"}, line{"NOPE-1", "1", "EA", "1.00"}),
			canonical.AckAcceptedWithChanges, []int{1}, "lines[1].item.sku", 1},
		{"every item unknown", erp.Config{}, newOrder("o", "C-1", line{"NOPE-1", "1", "EA", "1.00"}),
			canonical.AckRejected, []int{0}, "lines[0].item.sku", 0},
		{"unit the item is not sold in", erp.Config{}, newOrder("o", "C-1", line{"SKU-100", "1", "KGM", "12.50"}, line{"SKU-101", "1", "EA", "9.80"}),
			canonical.AckAcceptedWithChanges, []int{0}, "lines[0].quantity.unit", 0},
		{"blocked customer", erp.Config{Accounts: blocked}, newOrder("o", "C-2", line{"SKU-100", "1", "EA", "12.50"}),
			canonical.AckRejected, []int{0}, "soldTo.id", -1},
		{"unknown customer", erp.Config{}, newOrder("o", "C-404", line{"SKU-100", "1", "EA", "12.50"}),
			canonical.AckRejected, []int{0}, "soldTo.id", -1},
	}
	for _, tt := range tests {
		m := newERP(t, tt.cfg)
		ack, err := m.ValidateOrder(t.Context(), &tt.order)
		require.NoError(t, err, "%s: a rejection is an ack, not an error", tt.name)
		require.NoError(t, ack.Validate(), "%s: ack must be valid", tt.name)
		assert.Equal(t, tt.outcome, ack.Outcome, tt.name)
		for _, i := range tt.rejected {
			assert.Equal(t, canonical.LineRejected, ack.Lines[i].Result, "%s: line %d", tt.name, i)
		}
		msgs := ack.Messages
		if tt.messageLine >= 0 {
			msgs = ack.Lines[tt.messageLine].Messages
		}
		found := false
		for _, msg := range msgs {
			found = found || msg.Field == tt.field
		}
		assert.True(t, found, "%s: a message names %s: %+v", tt.name, tt.field, msgs)
	}
}

func TestValidateOrderInvalid(t *testing.T) {
	bad := func(edit func(*canonical.Order)) *canonical.Order {
		o := newOrder("ord-bad", "C-1", line{"SKU-100", "1", "EA", "12.50"}, line{"SKU-101", "1", "EA", "9.80"})
		edit(&o)
		return &o
	}
	tests := []struct {
		name  string
		order *canonical.Order
		field string
	}{
		{"nil order", nil, ""},
		{"no ID", bad(func(o *canonical.Order) { o.ID = "" }), "id"},
		{"no lines", bad(func(o *canonical.Order) { o.Lines = nil }), "lines"},
		{"zero quantity", bad(func(o *canonical.Order) { o.Lines[1].Quantity.Value = canonical.Decimal{} }), "lines[1].quantity.value"},
		{"bad unit", bad(func(o *canonical.Order) { o.Lines[0].Quantity.Unit = "CS" }), "lines[0].quantity.unit"},
		{"duplicate line", bad(func(o *canonical.Order) { o.Lines[1].ID = "L1" }), "lines[1].id"},
		{"no SKU", bad(func(o *canonical.Order) { o.Lines[0].Item.SKU = "" }), "lines[0].item.sku"},
		{"price in another currency", bad(func(o *canonical.Order) { o.Lines[1].UnitPrice.Currency = "EUR" }), "lines[1].unitPrice.currency"},
		{"no sold-to", bad(func(o *canonical.Order) { o.SoldTo.ID = "" }), "soldTo.id"},
		{"bad currency", bad(func(o *canonical.Order) { o.Currency = "usd" }), "currency"},
	}
	for _, tt := range tests {
		m := newERP(t, erp.Config{})
		for _, op := range []string{"ValidateOrder", "AcceptOrder"} {
			var err error
			if op == "ValidateOrder" {
				_, err = m.ValidateOrder(t.Context(), tt.order)
			} else {
				_, err = m.AcceptOrder(t.Context(), "k-"+tt.name, tt.order)
			}
			require.Error(t, err, "%s %s", op, tt.name)
			assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "%s %s: %v", op, tt.name, err)
			var ce *connector.Error
			require.ErrorAs(t, err, &ce, "%s %s", op, tt.name)
			assert.Equal(t, "erp", ce.System(), "%s %s", op, tt.name)
			assert.Equal(t, op, ce.Op(), tt.name)
			if tt.field != "" {
				var ve *canonical.ValidationError
				require.ErrorAs(t, err, &ve, "%s %s", op, tt.name)
				assert.True(t, ve.Has(tt.field), "%s %s: %v names %s", op, tt.name, err, tt.field)
			}
		}
		assert.Zero(t, m.Counts().Orders, tt.name)
	}
}

func TestValidateOrderHasNoEffect(t *testing.T) {
	m := newERP(t, erp.Config{})
	o := newOrder("ord-1", "C-1", line{"SKU-103", "20", "EA", "89.00"})
	atp, _ := m.AvailableToPromise("SKU-103")
	for range 3 {
		ack, err := m.ValidateOrder(t.Context(), &o)
		require.NoError(t, err)
		assert.Equal(t, canonical.AckAccepted, ack.Outcome, "20 of the 20 drills in stock")
		assert.Empty(t, ack.Refs, "no sales order number before acceptance")
	}
	_, err := m.GetOrder(t.Context(), "ord-1")
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err))
	after, _ := m.AvailableToPromise("SKU-103")
	assert.True(t, atp.Equal(after), "ATP unchanged: %s, then %s", atp, after)
	assert.Equal(t, erp.Counts{}, m.Counts())
}

func TestCreditHoldAndRelease(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	// C-3 has a 1000 USD limit; 12 drills are 1068 USD before tax.
	o := newOrder("ord-c3", "C-3", line{"SKU-103", "12", "EA", "89.00"})
	ack, err := m.AcceptOrder(ctx, "k1", &o)
	require.NoError(t, err)
	require.NoError(t, ack.Validate())
	assert.Equal(t, canonical.AckOnHold, ack.Outcome)
	require.Len(t, ack.Holds, 1)
	assert.Equal(t, canonical.HoldCredit, ack.Holds[0].Kind)
	assert.Contains(t, ack.Holds[0].Reason, "credit limit 1000.00 USD exceeded")
	ref, ok := ack.Refs.Get("erp", erp.RefSalesOrder)
	require.True(t, ok, "a held order has a sales order number")
	assert.Equal(t, "SO-000001", ref.Value)

	got, err := m.GetOrder(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, canonical.CommercialOnHold, got.Status().Commercial)
	_, err = m.PostShipment(ctx, "s1", shipment(got, "shp-1"))
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "a held order does not ship: %v", err)

	_, err = m.ReleaseHold(ctx, o.ID, canonical.HoldPricing)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "no pricing hold to release")
	_, err = m.ReleaseHold(ctx, "nope", canonical.HoldCredit)
	assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err))
	_, err = m.ReleaseHold(ctx, o.ID, "bogus")
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err))

	rel, err := m.ReleaseHold(ctx, o.ID, canonical.HoldCredit)
	require.NoError(t, err)
	assert.Equal(t, canonical.CommercialAccepted, rel.Status().Commercial)
	assert.Equal(t, t0, rel.Holds[0].ReleasedAt)
	_, err = m.ReleaseHold(ctx, o.ID, canonical.HoldCredit)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "released twice")

	inv, err := m.PostShipment(ctx, "s1", shipment(rel, "shp-1"))
	require.NoError(t, err, "a released order ships")
	assert.Equal(t, "1134.75", inv.Totals.Total.Amount.String(), "1068.00 + 6.25 % TX tax")
}

func TestCreditExposure(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name    string
		orders  []string // quantity of SKU-101 (9.80 USD, TX 6.25 %) per order of C-3
		payment string   // paid before the last order, "" for none
		want    []canonical.AckOutcome
	}{
		{"under the limit", []string{"50"}, "", []canonical.AckOutcome{canonical.AckAccepted}},
		{"open orders count", []string{"50", "50"}, "", []canonical.AckOutcome{canonical.AckAccepted, canonical.AckOnHold}},
		{"invoices count until paid", []string{"50", "50"}, "600.00", []canonical.AckOutcome{canonical.AckAccepted, canonical.AckAccepted}},
	}
	for _, tt := range tests {
		m := newERP(t, erp.Config{})
		for i, qty := range tt.orders {
			o := newOrder(fmt.Sprintf("ord-%d", i), "C-3", line{"SKU-101", qty, "EA", "9.80"})
			if i == len(tt.orders)-1 && tt.payment != "" {
				prev, err := m.GetOrder(ctx, fmt.Sprintf("ord-%d", i-1))
				require.NoError(t, err)
				_, err = m.PostShipment(ctx, "ship", shipment(prev, "shp"))
				require.NoError(t, err, tt.name)
				require.NoError(t, m.RecordPayment(ctx, "C-3", money(tt.payment)), tt.name)
			}
			ack, err := m.AcceptOrder(ctx, o.ID, &o)
			require.NoError(t, err, tt.name)
			assert.Equal(t, tt.want[i], ack.Outcome, "%s: order %d", tt.name, i)
		}
	}
}

func TestAcceptOrderIdempotent(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	o1 := newOrder("ord-1", "C-1", line{"SKU-100", "10", "EA", "12.50"})
	o2 := newOrder("ord-2", "C-1", line{"SKU-101", "1", "EA", "9.80"})

	first, err := m.AcceptOrder(ctx, "key-1", &o1)
	require.NoError(t, err)
	again, err := m.AcceptOrder(ctx, "key-1", &o1)
	require.NoError(t, err)
	assert.Equal(t, first, again, "same key, same ack")
	other, err := m.AcceptOrder(ctx, "key-other", &o1)
	require.NoError(t, err)
	assert.Equal(t, first, other, "same order version under another key: the first ack")
	assert.Equal(t, 1, m.Counts().Orders)

	_, err = m.AcceptOrder(ctx, "key-1", &o2)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "same key, another order")

	ack2, err := m.AcceptOrder(ctx, "key-2", &o2)
	require.NoError(t, err)
	r1, _ := first.Refs.Get("erp", erp.RefSalesOrder)
	r2, _ := ack2.Refs.Get("erp", erp.RefSalesOrder)
	assert.Equal(t, []string{"SO-000001", "SO-000002"}, []string{r1.Value, r2.Value})

	// A later version updates the order under the same number.
	v2 := o1
	v2.Version = 2
	v2.Lines = []canonical.OrderLine{o1.Lines[0]}
	v2.Lines[0].Quantity = canonical.MustParseQuantity("60", "EA")
	ack3, err := m.AcceptOrder(ctx, "key-1-v2", &v2)
	require.NoError(t, err)
	r3, _ := ack3.Refs.Get("erp", erp.RefSalesOrder)
	assert.Equal(t, "SO-000001", r3.Value)
	assert.Equal(t, "2", r3.Version)
	got, err := m.GetOrder(ctx, "ord-1")
	require.NoError(t, err)
	assert.Equal(t, "11.75", got.Lines[0].UnitPrice.Amount.String(), "repriced at the 50 break")
	assert.Equal(t, 3, m.Counts().Orders, "two orders and one update")

	_, err = m.PostShipment(ctx, "ship-1", shipment(got, "shp-1", "10"))
	require.NoError(t, err)
	v3 := v2
	v3.Version = 3
	_, err = m.AcceptOrder(ctx, "key-1-v3", &v3)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "no changes once shipped")
}

func TestAcceptOrderConcurrent(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	const n = 16
	var wg sync.WaitGroup
	acks := make([]canonical.OrderAck, n)
	errs := make([]error, n)
	o := newOrder("ord-same", "C-1", line{"SKU-100", "10", "EA", "12.50"})
	for i := range n {
		wg.Go(func() {
			oi := o // each caller has its own copy of the same order
			acks[i], errs[i] = m.AcceptOrder(ctx, "same-key", &oi)
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "call %d", i)
		assert.Equal(t, acks[0], acks[i], "call %d returns the first ack", i)
	}
	assert.Equal(t, 1, m.Counts().Orders, "one order for one key")

	// Distinct orders at once get distinct numbers.
	numbers := make([]string, n)
	for i := range n {
		wg.Go(func() {
			oi := newOrder(fmt.Sprintf("ord-%d", i), "C-2", line{"SKU-104", "1", "EA", "3.10"})
			ack, err := m.AcceptOrder(ctx, oi.ID, &oi)
			errs[i] = err
			r, _ := ack.Refs.Get("erp", erp.RefSalesOrder)
			numbers[i] = r.Value
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		require.NoError(t, errs[i], "order %d", i)
		assert.False(t, seen[numbers[i]], "number %s given twice", numbers[i])
		seen[numbers[i]] = true
	}
	assert.Equal(t, 1+n, m.Counts().Orders)
}

func TestAcceptOrderBackorders(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name     string
		line     line
		wantBack string // backordered, in the line unit; "" for none
		promised string // promised date
	}{
		{"in stock", line{"SKU-103", "20", "EA", "82.00"}, "", "2026-03-04"},
		{"part of it", line{"SKU-103", "25", "EA", "82.00"}, "5", "2026-03-16"},
		{"none in stock", line{"SKU-105", "3", "EA", "6.40"}, "3", "2026-03-16"},
		{"cases: whole cases confirmed", line{"SKU-102", "31", "XCS", "94.80"}, "1", "2026-03-16"},
	}
	for _, tt := range tests {
		m := newERP(t, erp.Config{})
		o := newOrder("ord-bo", "C-2", tt.line)
		ack, err := m.AcceptOrder(ctx, "k", &o)
		require.NoError(t, err, tt.name)
		require.NoError(t, ack.Validate(), tt.name)
		al := ack.Lines[0]
		assert.Equal(t, tt.promised, al.PromisedDate.Format("2006-01-02"), "%s: promised date", tt.name)
		got, err := m.GetOrder(ctx, o.ID)
		require.NoError(t, err, tt.name)
		bs := got.Lines[0].Buckets
		assert.Equal(t, tt.line.qty, bs.Get(canonical.BucketConfirmed).String(), "%s: confirmed", tt.name)
		if tt.wantBack == "" {
			assert.Equal(t, canonical.LineAccepted, al.Result, tt.name)
			assert.True(t, bs.Get(canonical.BucketBackordered).IsZero(), tt.name)
			continue
		}
		assert.Equal(t, canonical.LineBackordered, al.Result, tt.name)
		require.NotNil(t, al.Quantity, tt.name)
		assert.Equal(t, tt.wantBack, al.Quantity.Value.String(), "%s: backordered in the ack", tt.name)
		assert.Equal(t, tt.wantBack, bs.Get(canonical.BucketBackordered).String(), "%s: backordered bucket", tt.name)
		assert.Equal(t, canonical.FulfillmentBackordered, got.Status().Fulfillment, tt.name)
	}

	// What one order takes is not promised to the next.
	m := newERP(t, erp.Config{})
	for i, want := range []canonical.LineResult{canonical.LineAccepted, canonical.LineBackordered} {
		o := newOrder(fmt.Sprintf("ord-%d", i), "C-2", line{"SKU-103", "15", "EA", "82.00"})
		ack, err := m.AcceptOrder(ctx, o.ID, &o)
		require.NoError(t, err)
		assert.Equal(t, want, ack.Lines[0].Result, "order %d of 15 drills out of 20", i)
	}
	atp, _ := m.AvailableToPromise("SKU-103")
	assert.Equal(t, "-10 EA", atp.String())
}

func TestCancelledContext(t *testing.T) {
	m := newERP(t, erp.Config{})
	cause := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(cause)
	o := newOrder("ord-1", "C-1", line{"SKU-100", "1", "EA", "12.50"})
	calls := map[string]func() error{
		"ValidateOrder": func() error { _, err := m.ValidateOrder(ctx, &o); return err },
		"AcceptOrder":   func() error { _, err := m.AcceptOrder(ctx, "k", &o); return err },
		"GetOrder":      func() error { _, err := m.GetOrder(ctx, "ord-1"); return err },
		"PostShipment":  func() error { _, err := m.PostShipment(ctx, "k", shipment(o, "s")); return err },
		"PostReturn": func() error {
			_, err := m.PostReturn(ctx, "k", received(o, "r", "L1", "1", canonical.DispositionRestock))
			return err
		},
		"ApplyInventory": func() error { return m.ApplyInventory(ctx, "k", erp.DemoStock()) },
		"ReleaseHold":    func() error { _, err := m.ReleaseHold(ctx, "ord-1", canonical.HoldCredit); return err },
		"RecordPayment":  func() error { return m.RecordPayment(ctx, "C-1", money("1")) },
	}
	for name, call := range calls {
		assert.ErrorIs(t, call(), cause, name)
	}
	assert.Equal(t, erp.Counts{}, m.Counts())
}

func TestNewRejectsBadConfig(t *testing.T) {
	dup := append(erp.DemoAccounts(), erp.DemoAccounts()[0])
	tests := []struct {
		name string
		cfg  erp.Config
		text string
	}{
		{"duplicate customer", erp.Config{Accounts: dup}, `accounts[3]: duplicate customer ID "C-1"`},
		{"price of unknown item", erp.Config{Prices: []erp.Price{{SKU: "X", UnitPrice: money("1")}}}, `prices[0]: unknown item "X"`},
		{"bad tax country", erp.Config{TaxRates: []erp.TaxRate{{Country: "XX"}}}, `taxRates[0]: invalid country "XX"`},
		{"negative lead time", erp.Config{LeadTime: -1}, "lead times"},
		{"stock of unknown item", erp.Config{Items: []canonical.Item{}, Prices: []erp.Price{}}, "stock[0].item.sku"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		require.ErrorIs(t, err, erp.ErrInvalidConfig, tt.name)
		assert.Contains(t, err.Error(), tt.text, tt.name)
	}
	assert.NoError(t, erp.Config{}.Validate(), "the demo world is valid")
}

func TestAcceptOrderResultIsACopy(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	o := newOrder("ord-1", "C-1", line{"SKU-100", "10", "EA", "13.00"})
	ack, err := m.AcceptOrder(ctx, "k", &o)
	require.NoError(t, err)
	require.NotNil(t, ack.Lines[0].UnitPrice)
	ack.Lines[0].UnitPrice.Amount = canonical.MustParseDecimal("1")
	ack.Lines[0].Messages[0].Text = "changed"
	ack.Totals.Total.Amount = canonical.MustParseDecimal("1")
	again, err := m.AcceptOrder(ctx, "k", &o)
	require.NoError(t, err)
	assert.Equal(t, "12.50", again.Lines[0].UnitPrice.Amount.String(), "the stored ack is not changed through a returned one")
	assert.NotEqual(t, "changed", again.Lines[0].Messages[0].Text)
	assert.Equal(t, "132.81", again.Totals.Total.Amount.String())

	got, err := m.GetOrder(ctx, "ord-1")
	require.NoError(t, err)
	got.Lines[0].Buckets.Set(canonical.BucketShipped, canonical.MustParseDecimal("5"))
	again2, err := m.GetOrder(ctx, "ord-1")
	require.NoError(t, err)
	assert.True(t, again2.Lines[0].Buckets.Get(canonical.BucketShipped).IsZero(), "GetOrder returns a copy")
}

func TestCreditExposureOfALaterVersion(t *testing.T) {
	ctx := t.Context()
	m := newERP(t, erp.Config{})
	// C-3 (limit 1000 USD, TX 6.25 %): 50 tape measures are 520.63 USD.
	v1 := newOrder("ord-1", "C-3", line{"SKU-101", "50", "EA", "9.80"})
	ack, err := m.AcceptOrder(ctx, "v1", &v1)
	require.NoError(t, err)
	require.Equal(t, canonical.AckAccepted, ack.Outcome)
	// Version 2 asks for 90 (937.13 USD): it replaces version 1, whose
	// exposure no longer counts.
	v2 := v1
	v2.Version = 2
	v2.Lines = []canonical.OrderLine{v1.Lines[0]}
	v2.Lines[0].Quantity = canonical.MustParseQuantity("90", "EA")
	ack, err = m.ValidateOrder(ctx, &v2)
	require.NoError(t, err)
	assert.Equal(t, canonical.AckAccepted, ack.Outcome, "validate: %+v", ack.Messages)
	ack, err = m.AcceptOrder(ctx, "v2", &v2)
	require.NoError(t, err)
	assert.Equal(t, canonical.AckAccepted, ack.Outcome, "accept: %+v", ack.Messages)
	// Another order of 10 (104.13 USD) now exceeds the limit.
	o2 := newOrder("ord-2", "C-3", line{"SKU-101", "10", "EA", "9.80"})
	ack, err = m.ValidateOrder(ctx, &o2)
	require.NoError(t, err)
	assert.Equal(t, canonical.AckOnHold, ack.Outcome)
}
