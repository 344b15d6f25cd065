package erp_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
)

// result returns the result of field of line (or of the order, line "")
// in a.
func result(t *testing.T, a canonical.ChangeAck, line, field string) canonical.ChangeResult {
	t.Helper()
	for _, r := range a.Results {
		if r.LineID == line && r.Field == field {
			return r
		}
	}
	t.Fatalf("no result for %s %s in %+v", line, field, a.Results)
	return canonical.ChangeResult{}
}

func changed(o canonical.Order, edit func(o *canonical.Order)) canonical.Order {
	n := o
	n.Lines = append([]canonical.OrderLine(nil), o.Lines...)
	n.Version++
	edit(&n)
	return n
}

func TestChangeOrder(t *testing.T) {
	ctx := context.Background()
	q := canonical.MustParseQuantity
	m := newERP(t, erp.Config{})
	// L1 10 hammers (4 shipped), L2 5 drills, L3 2 cases of glasses.
	o := newOrder("ord-ch", "C-1", line{"SKU-100", "10", "EA", "12.50"}, line{"SKU-103", "5", "EA", "89.00"}, line{"SKU-104", "2", "XCS", "37.20"})
	_, err := m.AcceptOrder(ctx, "accept-ch", &o)
	require.NoError(t, err)
	_, err = m.PostShipment(ctx, "ship-ch", shipment(o, "shp-ch", "4", "", ""))
	require.NoError(t, err)

	// v2: L1 down to 2 (only 6 open: 6 applied, 2 refused as shipped),
	// L2 up to 30 drills (20 in stock, 5 of them ours: 15 more applied),
	// L3 removed, L4 added: 60 work gloves (none in stock), ship-complete.
	v2 := changed(o, func(n *canonical.Order) {
		n.Lines[0].Quantity = q("2", "EA")
		n.Lines[1].Quantity = q("30", "EA")
		n.Lines = append(n.Lines[:2], canonical.OrderLine{ID: "L4", Item: canonical.ItemRef{SKU: "SKU-105"}, Quantity: q("60", "EA"), UnitPrice: money("6.40")})
		n.ShipComplete = true
	})
	c, err := canonical.DiffOrders(o, v2)
	require.NoError(t, err)
	ack, err := m.ChangeOrder(ctx, "change-ch-2", c)
	require.NoError(t, err)
	require.NoError(t, ack.Validate(), "the ack is valid")
	assert.Equal(t, canonical.ChangePartiallyApplied, ack.Outcome)

	r := result(t, ack, "L1", canonical.ChangeFieldQuantity)
	assert.Equal(t, canonical.ChangePartiallyApplied, r.Outcome, "L1")
	assert.Equal(t, "-6 EA", r.Applied.String(), "L1: what was open")
	assert.Equal(t, "-2 EA", r.Refused.String(), "L1: the rest shipped")
	assert.Equal(t, canonical.ChangeReasonShipped, r.Reason)

	r = result(t, ack, "L2", canonical.ChangeFieldQuantity)
	assert.Equal(t, canonical.ChangePartiallyApplied, r.Outcome, "L2")
	assert.Equal(t, "15 EA", r.Applied.String(), "L2: the drills available to promise")
	assert.Equal(t, "10 EA", r.Refused.String(), "L2")
	assert.Equal(t, canonical.ChangeReasonStock, r.Reason)

	// A second order asks for 3 more drills: none left to promise; and 5
	// more hammers, well in stock, granted in full.
	o2 := newOrder("ord-ch2", "C-1", line{"SKU-100", "1", "EA", "12.50"}, line{"SKU-103", "1", "EA", "89.00"})
	_, err = m.AcceptOrder(ctx, "accept-ch2", &o2)
	require.NoError(t, err)
	c2, err := canonical.DiffOrders(o2, changed(o2, func(n *canonical.Order) {
		n.Lines[0].Quantity = q("6", "EA")
		n.Lines[1].Quantity = q("4", "EA")
	}))
	require.NoError(t, err)
	ack2, err := m.ChangeOrder(ctx, "change-ch2", c2)
	require.NoError(t, err)
	r2 := result(t, ack2, "L1", canonical.ChangeFieldQuantity)
	assert.Equal(t, canonical.ChangeApplied, r2.Outcome, "an increase within stock")
	assert.Equal(t, "5 EA", r2.Applied.String())
	assert.True(t, r2.Refused.IsZero(), "nothing refused: %s", r2.Refused)
	r2 = result(t, ack2, "L2", canonical.ChangeFieldQuantity)
	assert.Equal(t, canonical.ChangeRefused, r2.Outcome, "no drills left")
	assert.Equal(t, canonical.ChangeReasonStock, r2.Reason)

	r = result(t, ack, "L3", canonical.ChangeFieldQuantity)
	assert.Equal(t, canonical.ChangeApplied, r.Outcome, "L3 removed")
	assert.Equal(t, "-2 XCS", r.Applied.String())

	r = result(t, ack, "L4", canonical.ChangeFieldQuantity)
	assert.Equal(t, canonical.ChangeRefused, r.Outcome, "L4: no gloves in stock")
	assert.Equal(t, canonical.ChangeReasonStock, r.Reason)

	r = result(t, ack, "", canonical.ChangeFieldShipComplete)
	assert.Equal(t, canonical.ChangeRefused, r.Outcome, "ship-complete after a partial shipment")
	assert.Equal(t, canonical.ChangeReasonShipped, r.Reason)

	got, err := m.GetOrder(ctx, "ord-ch")
	require.NoError(t, err)
	assert.Equal(t, int64(2), got.Version, "the ERP holds the decided version")
	bk := func(line string, b canonical.Bucket) string { return got.Line(line).Buckets.Get(b).String() }
	assert.Equal(t, "6", bk("L1", canonical.BucketCancelled), "L1 cancelled")
	assert.Equal(t, "30", bk("L2", canonical.BucketOrdered), "L2 ordered")
	assert.Equal(t, "20", bk("L2", canonical.BucketConfirmed), "L2 confirmed")
	assert.Equal(t, "10", bk("L2", canonical.BucketRejected), "L2 rejected")
	assert.Equal(t, "2", bk("L3", canonical.BucketCancelled), "L3 cancelled")
	require.NotNil(t, got.Line("L4"), "L4 recorded")
	assert.Equal(t, "60", bk("L4", canonical.BucketRejected), "L4 rejected")
	require.NoError(t, got.Validate(), "the order stays valid")
	assert.Equal(t, 2, m.Counts().Changes)

	// The same key again: the same ack, nothing more.
	again, err := m.ChangeOrder(ctx, "change-ch-2", c)
	require.NoError(t, err)
	assert.Equal(t, ack, again, "replay")
	// The same version with another key: stale, nothing more.
	stale, err := m.ChangeOrder(ctx, "change-ch-2-dup", c)
	require.NoError(t, err)
	assert.Equal(t, canonical.ChangeRefused, stale.Outcome)
	for _, r := range stale.Results {
		assert.Equal(t, canonical.ChangeReasonStale, r.Reason, "%s %s", r.LineID, r.Field)
	}
	assert.Equal(t, 2, m.Counts().Changes, "a stale change changes nothing")
	after, err := m.GetOrder(ctx, "ord-ch")
	require.NoError(t, err)
	assert.Equal(t, got, after, "the order is as it was")

	// The same key with another change.
	other := c
	other.ToVersion = 3
	_, err = m.ChangeOrder(ctx, "change-ch-2", other)
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "key reused")
}

func TestChangeOrderCreditHold(t *testing.T) {
	ctx := context.Background()
	m := newERP(t, erp.Config{})
	// C-3 has a 1000 USD limit: 5 drills (445 + tax) fit, 10 more do not.
	o := newOrder("ord-cr", "C-3", line{"SKU-103", "5", "EA", "89.00"}, line{"SKU-100", "10", "EA", "12.50"})
	ack0, err := m.AcceptOrder(ctx, "accept-cr", &o)
	require.NoError(t, err)
	require.Equal(t, canonical.AckAccepted, ack0.Outcome, "%+v", ack0.Messages)
	v2 := changed(o, func(n *canonical.Order) {
		n.Lines[0].Quantity = canonical.MustParseQuantity("15", "EA")
		n.Lines[1].Quantity = canonical.MustParseQuantity("4", "EA")
	})
	c, err := canonical.DiffOrders(o, v2)
	require.NoError(t, err)
	ack, err := m.ChangeOrder(ctx, "change-cr", c)
	require.NoError(t, err)
	require.NoError(t, ack.Validate())
	assert.Equal(t, canonical.ChangeHeld, result(t, ack, "L1", canonical.ChangeFieldQuantity).Outcome, "the increase is held")
	assert.Equal(t, canonical.ChangeReasonCredit, result(t, ack, "L1", canonical.ChangeFieldQuantity).Reason)
	assert.Equal(t, canonical.ChangeApplied, result(t, ack, "L2", canonical.ChangeFieldQuantity).Outcome, "the decrease is applied")
	assert.Equal(t, canonical.ChangePartiallyApplied, ack.Outcome)
	require.Len(t, ack.Holds, 1)
	assert.Equal(t, canonical.HoldCredit, ack.Holds[0].Kind)
	got, err := m.GetOrder(ctx, "ord-cr")
	require.NoError(t, err)
	assert.Equal(t, "5", got.Line("L1").Buckets.Get(canonical.BucketOrdered).String(), "nothing of a held increase is recorded")
	assert.Equal(t, canonical.CommercialOnHold, got.Status().Commercial, "the order is on credit hold")
}

func TestChangeOrderErrors(t *testing.T) {
	ctx := context.Background()
	q := canonical.MustParseQuantity
	m := newERP(t, erp.Config{})
	o := newOrder("ord-ce", "C-1", line{"SKU-100", "10", "EA", "12.50"})
	_, err := m.AcceptOrder(ctx, "accept-ce", &o)
	require.NoError(t, err)
	up := canonical.LineChange{LineID: "L1", Kind: canonical.LineChangeUpdated, Item: canonical.ItemRef{SKU: "SKU-100"}, From: q("10", "EA"), To: q("12", "EA"), Delta: q("2", "EA")}
	tests := []struct {
		name  string
		c     canonical.OrderChange
		code  connector.Code
		field string
	}{
		{"unknown order", canonical.OrderChange{OrderID: "nope", FromVersion: 1, ToVersion: 2, Lines: []canonical.LineChange{up}}, connector.CodeNotFound, `"nope"`},
		{"no order ID", canonical.OrderChange{FromVersion: 1, ToVersion: 2}, connector.CodeInvalid, "orderId"},
		{"versions", canonical.OrderChange{OrderID: "ord-ce", FromVersion: 2, ToVersion: 2}, connector.CodeInvalid, "toVersion"},
		{"from another version", canonical.OrderChange{OrderID: "ord-ce", FromVersion: 0, ToVersion: 2, Lines: []canonical.LineChange{up}}, connector.CodeConflict, "at version 1"},
		{"unknown line", canonical.OrderChange{OrderID: "ord-ce", FromVersion: 1, ToVersion: 2, Lines: []canonical.LineChange{func() canonical.LineChange { l := up; l.LineID = "L9"; return l }()}}, connector.CodeConflict, `"L9"`},
		{"wrong unit", canonical.OrderChange{OrderID: "ord-ce", FromVersion: 1, ToVersion: 2, Lines: []canonical.LineChange{{LineID: "L1", Kind: canonical.LineChangeUpdated, Item: up.Item, From: q("1", "XCS"), To: q("2", "XCS"), Delta: q("1", "XCS")}}}, connector.CodeInvalid, "lines[0].delta.unit"},
	}
	for _, tt := range tests {
		_, err := m.ChangeOrder(ctx, "k-"+tt.name, tt.c)
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: %v", tt.name, err)
		if err != nil {
			assert.Contains(t, err.Error(), tt.field, "%s names the field", tt.name)
		}
	}
	_, err = m.ChangeOrder(ctx, "", canonical.OrderChange{OrderID: "ord-ce", FromVersion: 1, ToVersion: 2, Lines: []canonical.LineChange{up}})
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "no key")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = m.ChangeOrder(cctx, "k-cancelled", canonical.OrderChange{OrderID: "ord-ce", FromVersion: 1, ToVersion: 2, Lines: []canonical.LineChange{up}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, m.Counts().Changes, "no error changed anything")
}
