package main_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/examples/customconnector/tinyerp"
	"github.com/distsync/distsync/retry"
)

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

// order returns a valid order numbered n that tinyerp accepts: a known
// customer and items at list price.
func order(n int) canonical.Order {
	return canonical.Order{
		ID: fmt.Sprintf("order-%d", n), Version: 1, Currency: "USD", OrderedAt: t0,
		SoldTo: canonical.PartyRef{ID: "cust-1"}, ShipTo: canonical.PartyRef{ID: "cust-1-dock"},
		Lines: []canonical.OrderLine{
			{ID: fmt.Sprintf("order-%d-1", n), Item: canonical.ItemRef{SKU: "SKU-A"}, Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
			{ID: fmt.Sprintf("order-%d-2", n), Item: canonical.ItemRef{SKU: "SKU-B"}, Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("4.20", "USD")},
		},
	}
}

// positions returns inventory snapshots with sequence n.
func positions(n int) []canonical.InventoryPosition {
	q := canonical.NewQuantity(canonical.DecimalFromInt(int64(50+n)), "EA")
	zero := canonical.MustParseQuantity("0", "EA")
	return []canonical.InventoryPosition{{
		Item: canonical.ItemRef{SKU: "SKU-A"}, Location: "WH1", Status: canonical.InventoryAvailable,
		Kind: canonical.QuantitySnapshot, OnHand: q, Allocated: zero, Available: q, Inbound: zero,
		AsOf: t0.Add(time.Duration(n) * time.Minute), Sequence: int64(n),
	}}
}

// harness adapts a tinyerp to the kit; erp is what the kit calls (tinyerp
// itself or a wrapper around it).
func harness(e *tinyerp.ERP, erp connector.ERP) connectortest.ERPHarness {
	return connectortest.ERPHarness{
		ERP:       erp,
		Order:     order,
		Positions: positions,
		Effects: func() connectortest.ERPEffects {
			s := e.Stats()
			return connectortest.ERPEffects{Orders: s.Orders, Invoices: s.Invoices, CreditMemos: s.CreditMemos, InventoryApplications: s.InventoryPostings}
		},
	}
}

func TestConformance(t *testing.T) {
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		e := tinyerp.New(tinyerp.Config{Now: func() time.Time { return t0 }})
		return harness(e, e)
	})
}

// TestConformanceWithFaults runs the kit over tinyerp behind injected
// faults (transient errors, timeouts after the effect, an outage) and the
// SDK's retry decorator: idempotency keys make the retries safe.
func TestConformanceWithFaults(t *testing.T) {
	seed := uint64(0)
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		e := tinyerp.New(tinyerp.Config{Now: func() time.Time { return t0 }})
		seed++
		f, err := faults.WrapERP(e, faults.Config{
			Seed: seed, Unavailable: 0.2, RateLimited: 0.05, RetryAfter: time.Millisecond,
			AmbiguousTimeout: 0.2, Outage: faults.Outage{FromCall: 5, UntilCall: 8},
		})
		require.NoError(t, err)
		w, err := connector.WrapERP(f, connector.Options{MaxAttempts: 12, NoBreaker: true, Backoff: retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond}})
		require.NoError(t, err)
		return harness(e, w)
	})
}

func TestBusinessRules(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*canonical.Order)
		outcome canonical.AckOutcome
	}{
		{"list prices", func(*canonical.Order) {}, canonical.AckAccepted},
		{"price below list", func(o *canonical.Order) { o.Lines[0].UnitPrice = canonical.MustParseMoney("10.00", "USD") }, canonical.AckAcceptedWithChanges},
		{"unknown item", func(o *canonical.Order) { o.Lines[1].Item.SKU = "SKU-X" }, canonical.AckAcceptedWithChanges},
		{"every item unknown", func(o *canonical.Order) { o.Lines[0].Item.SKU, o.Lines[1].Item.SKU = "SKU-X", "SKU-Y" }, canonical.AckRejected},
		{"over the credit limit", func(o *canonical.Order) { o.Lines[0].Quantity = canonical.MustParseQuantity("1000", "EA") }, canonical.AckOnHold},
		{"unknown customer", func(o *canonical.Order) { o.SoldTo.ID = "cust-9" }, canonical.AckOnHold},
	}
	for _, tt := range tests {
		e := tinyerp.New(tinyerp.Config{Now: func() time.Time { return t0 }})
		o := order(1)
		tt.edit(&o)
		ack, err := e.ValidateOrder(context.Background(), &o)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.outcome, ack.Outcome, tt.name)
		assert.NoError(t, ack.Validate(), "%s: ack valid", tt.name)
	}
}
