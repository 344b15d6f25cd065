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

func lq(line, qty, unit string) connector.LineQuantity {
	return connector.LineQuantity{LineID: line, Quantity: canonical.MustParseQuantity(qty, unit)}
}

func TestCancelOrderLines(t *testing.T) {
	ctx := context.Background()
	m := newERP(t, erp.Config{})
	o := newOrder("ord-c1", "C-1", line{"SKU-100", "10", "EA", "12.50"}, line{"SKU-104", "2", "XCS", "37.20"})
	_, err := m.AcceptOrder(ctx, "accept-c1", &o)
	require.NoError(t, err, "AcceptOrder")
	_, err = m.PostShipment(ctx, "ship-c1", shipment(o, "shp-c1", "4", ""))
	require.NoError(t, err, "PostShipment 4 of L1")

	tests := []struct {
		name  string
		c     connector.OrderCancellation
		code  connector.Code
		field string // named in the error
	}{
		{name: "unknown order", c: connector.OrderCancellation{OrderID: "nope", Lines: []connector.LineQuantity{lq("L1", "1", "EA")}}, code: connector.CodeNotFound, field: `"nope"`},
		{name: "unknown line", c: connector.OrderCancellation{OrderID: "ord-c1", Lines: []connector.LineQuantity{lq("L9", "1", "EA")}}, code: connector.CodeInvalid, field: "lines[0].lineId"},
		{name: "wrong unit", c: connector.OrderCancellation{OrderID: "ord-c1", Lines: []connector.LineQuantity{lq("L2", "1", "EA")}}, code: connector.CodeInvalid, field: "lines[0].quantity.unit"},
		{name: "zero", c: connector.OrderCancellation{OrderID: "ord-c1", Lines: []connector.LineQuantity{lq("L1", "0", "EA")}}, code: connector.CodeInvalid, field: "lines[0].quantity.value"},
		{name: "more than open and unshipped", c: connector.OrderCancellation{OrderID: "ord-c1", Lines: []connector.LineQuantity{lq("L1", "7", "EA")}}, code: connector.CodeConflict, field: "exceed the open, unshipped 6"},
		{name: "the same line twice adds up", c: connector.OrderCancellation{OrderID: "ord-c1", Lines: []connector.LineQuantity{lq("L1", "4", "EA"), lq("L1", "3", "EA")}}, code: connector.CodeConflict, field: "cancelling 7"},
	}
	for _, tt := range tests {
		_, err := m.CancelOrderLines(ctx, "cancel-"+tt.name, tt.c)
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: code of %v", tt.name, err)
		if err != nil {
			assert.Contains(t, err.Error(), tt.field, "%s: error names the field", tt.name)
		}
	}
	_, err = m.CancelOrderLines(ctx, "", connector.OrderCancellation{OrderID: "ord-c1", Lines: []connector.LineQuantity{lq("L1", "1", "EA")}})
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "no key")
	assert.Zero(t, m.Counts().Cancellations, "refused cancellations have no effect")

	got, err := m.CancelOrderLines(ctx, "cancel-rest", connector.OrderCancellation{OrderID: "ord-c1",
		Lines: []connector.LineQuantity{lq("L1", "6", "EA"), lq("L2", "2", "XCS")}})
	require.NoError(t, err, "cancel the rest")
	assert.Equal(t, "6", got.Line("L1").Buckets.Get(canonical.BucketCancelled).String(), "L1 cancelled")
	assert.Equal(t, "2", got.Line("L2").Buckets.Get(canonical.BucketCancelled).String(), "L2 cancelled")
	assert.Equal(t, canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced},
		got.Status(), "the shipped part is all that is left")
	_, err = m.CancelOrderLines(ctx, "cancel-more", connector.OrderCancellation{OrderID: "ord-c1", Lines: []connector.LineQuantity{lq("L1", "1", "EA")}})
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "nothing is left to cancel")
	_, err = m.PostShipment(ctx, "ship-c1-2", shipment(o, "shp-c1-2", "1", ""))
	assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "a cancelled quantity cannot ship")
	assert.Equal(t, 1, m.Counts().Cancellations, "one cancellation")
}

// TestCancelOrderLinesFreesCredit cancels an order of a customer with a low
// credit limit: its value leaves the exposure, so the next order is not
// held.
func TestCancelOrderLinesFreesCredit(t *testing.T) {
	ctx := context.Background()
	m := newERP(t, erp.Config{})
	first := newOrder("ord-credit-1", "C-3", line{"SKU-103", "5", "EA", "89.00"})
	ack, err := m.AcceptOrder(ctx, "accept-credit-1", &first)
	require.NoError(t, err, "AcceptOrder first")
	require.Equal(t, canonical.AckAccepted, ack.Outcome, "first order inside the limit")
	second := newOrder("ord-credit-2", "C-3", line{"SKU-103", "6", "EA", "89.00"})
	v, err := m.ValidateOrder(ctx, &second)
	require.NoError(t, err, "ValidateOrder second")
	require.Equal(t, canonical.AckOnHold, v.Outcome, "second order beyond the limit while the first is open")

	_, err = m.CancelOrderLines(ctx, "cancel-credit-1", connector.OrderCancellation{OrderID: first.ID, Lines: []connector.LineQuantity{lq("L1", "5", "EA")}})
	require.NoError(t, err, "cancel the first order")
	v, err = m.ValidateOrder(ctx, &second)
	require.NoError(t, err, "ValidateOrder second again")
	assert.Equal(t, canonical.AckAccepted, v.Outcome, "the cancelled order no longer counts against the credit limit")
	view, err := m.GetOrder(ctx, first.ID)
	require.NoError(t, err, "GetOrder")
	assert.Equal(t, canonical.CommercialCancelled, view.Status().Commercial, "an order cancelled in full")
}

func TestCancelOrderLinesBackorder(t *testing.T) {
	ctx := context.Background()
	m := newERP(t, erp.Config{})
	o := newOrder("ord-bo", "C-1", line{"SKU-105", "700", "EA", "6.40"})
	_, err := m.AcceptOrder(ctx, "accept-bo", &o)
	require.NoError(t, err, "AcceptOrder")
	before, err := m.GetOrder(ctx, o.ID)
	require.NoError(t, err, "GetOrder")
	bo := before.Line("L1").Buckets.Get(canonical.BucketBackordered)
	require.True(t, bo.IsPos(), "700 of SKU-105 are backordered in part: %s", before.Line("L1").Buckets)
	got, err := m.CancelOrderLines(ctx, "cancel-bo", connector.OrderCancellation{OrderID: o.ID, Lines: []connector.LineQuantity{lq("L1", "650", "EA")}})
	require.NoError(t, err, "cancel 650")
	want := bo.Min(canonical.MustParseDecimal("50"))
	assert.Equal(t, want.String(), got.Line("L1").Buckets.Get(canonical.BucketBackordered).String(),
		"backordered %s before, at most the 50 left after: %s", bo, got.Line("L1").Buckets)
	t.Logf("backordered %s, then %s", bo, got.Line("L1").Buckets.Get(canonical.BucketBackordered))
}

func TestRequestCancellation(t *testing.T) {
	ctx := context.Background()
	m := newERP(t, erp.Config{})
	o := newOrder("ord-r1", "C-1", line{"SKU-100", "10", "EA", "12.50"})
	_, err := m.AcceptOrder(ctx, "accept-r1", &o)
	require.NoError(t, err, "AcceptOrder")
	tests := []struct {
		name  string
		order string
		lines []canonical.CancelLine
		code  connector.Code
		field string
	}{
		{name: "unknown order", order: "nope", code: connector.CodeNotFound, field: `"nope"`},
		{name: "unknown line", order: "ord-r1", lines: []canonical.CancelLine{{LineID: "L9", Quantity: canonical.MustParseQuantity("1", "EA")}}, code: connector.CodeInvalid, field: "lines[0].lineId"},
		{name: "wrong unit", order: "ord-r1", lines: []canonical.CancelLine{{LineID: "L1", Quantity: canonical.MustParseQuantity("1", "XCS")}}, code: connector.CodeInvalid, field: "lines[0].quantity.unit"},
		{name: "negative", order: "ord-r1", lines: []canonical.CancelLine{{LineID: "L1", Quantity: canonical.MustParseQuantity("-1", "EA")}}, code: connector.CodeInvalid, field: "lines[0].quantity.value"},
	}
	for _, tt := range tests {
		_, err := m.RequestCancellation(ctx, tt.order, tt.lines, "")
		assert.Equal(t, tt.code, connector.CodeOf(err), "%s: code of %v", tt.name, err)
		if err != nil {
			assert.Contains(t, err.Error(), tt.field, "%s: error names the field", tt.name)
		}
	}
	p, err := m.PollEvents(ctx, "", 10)
	require.NoError(t, err, "PollEvents")
	assert.Empty(t, p.Events, "refused requests put nothing on the feed")

	r1, err := m.RequestCancellation(ctx, "ord-r1", []canonical.CancelLine{{LineID: "L1", Quantity: canonical.MustParseQuantity("3", "EA")}}, "customer call")
	require.NoError(t, err, "RequestCancellation")
	r2, err := m.RequestCancellation(ctx, "ord-r1", nil, "")
	require.NoError(t, err, "RequestCancellation of the rest")
	assert.Equal(t, []string{"ECR-000001", "ECR-000002"}, []string{r1.ID, r2.ID}, "request IDs")
	p, err = m.PollEvents(ctx, "", 10)
	require.NoError(t, err, "PollEvents")
	require.Len(t, p.Events, 2, "two requests on the feed")
	for i, e := range p.Events {
		assert.Equal(t, canonical.EventOrderCancelRequested, e.Type, "event %d type", i)
		assert.Equal(t, erp.Source, e.Source, "event %d source", i)
		assert.Equal(t, "ord-r1", e.Partition(), "event %d partition", i)
		assert.Equal(t, uint64(i+1), e.Sequence, "event %d per-order sequence", i)
		r, err := canonical.DecodeData[canonical.CancelRequest](e)
		require.NoError(t, err, "decode event %d", i)
		assert.Equal(t, "erp", r.RequestedBy, "event %d requested by", i)
	}
	view, err := m.GetOrder(ctx, "ord-r1")
	require.NoError(t, err, "GetOrder")
	assert.True(t, view.Line("L1").Buckets.Get(canonical.BucketCancelled).IsZero(), "a request cancels nothing by itself")
	_, err = m.PollEvents(ctx, "x", 10)
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "unknown cursor")
}
