package crm_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
)

// shipped converts an order of 10 SKU-100 (L1) and 5 SKU-104 (L2) and
// shows 6 of L1 shipped.
func shipped(t *testing.T, m *crm.Memory) canonical.Order {
	t.Helper()
	op, err := m.OpenOpportunity(t.Context(), opp("ACC-0001",
		crm.OpportunityLine{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
		crm.OpportunityLine{SKU: "SKU-104", Quantity: canonical.MustParseQuantity("5", "EA"), UnitPrice: canonical.MustParseMoney("3.10", "USD")}))
	require.NoError(t, err, "OpenOpportunity")
	o, err := m.ConvertOpportunity(t.Context(), op.ID)
	require.NoError(t, err, "ConvertOpportunity")
	require.NoError(t, m.PublishStatus(t.Context(), connector.OrderStatus{OrderID: o.ID, Sequence: 1,
		Status: canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentPartiallyShipped, Billing: canonical.BillingPartiallyInvoiced},
		Lines:  []connector.LineStatus{{LineID: "L1", Shipped: canonical.MustParseQuantity("6", "EA")}}}), "PublishStatus")
	return o
}

func TestAuthorizeReturn(t *testing.T) {
	ctx := t.Context()
	m := newCRM(t)
	o := shipped(t, m)
	r, err := m.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: o.ID, Warehouse: "WH-EAST",
		Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("6", "EA"), Reason: "wrong size"}}})
	require.NoError(t, err, "AuthorizeReturn")
	require.NoError(t, r.Validate(), "the return is valid")
	assert.Equal(t, "RET-000001", r.ID, "return ID")
	assert.Equal(t, "RMA-000001", r.RMANumber, "RMA number")
	assert.Equal(t, o.ID, r.OrderID, "order")
	assert.Equal(t, "C-1", r.Customer.ID, "customer is the sold-to party")
	assert.Equal(t, t0, r.AuthorizedAt, "authorized at the CRM's clock")
	require.Len(t, r.Lines, 1, "lines")
	assert.Equal(t, canonical.ReturnLine{ID: "R1", OrderLineID: "L1", Item: canonical.ItemRef{SKU: "SKU-100"},
		Authorized: canonical.MustParseQuantity("6", "EA"), Received: canonical.MustParseQuantity("0", "EA"), Reason: "wrong size"}, r.Lines[0], "line")
	ref, ok := r.Refs.Get(crm.System, crm.RefReturn)
	require.True(t, ok, "CRM return ref")
	assert.Equal(t, r.ID, ref.Value, "CRM return ref")

	page, err := m.PollOrders(ctx, "", 10)
	require.NoError(t, err, "PollOrders")
	require.Len(t, page.Events, 2, "the order and the return on the feed")
	e := page.Events[1]
	require.NoError(t, e.Validate(), "return event")
	assert.Equal(t, canonical.EventReturnAuthorized, e.Type, "type")
	assert.Equal(t, r.ID, e.Subject, "subject is the return")
	assert.Equal(t, o.ID, e.Partition(), "partitioned by the order")
	assert.Equal(t, "crm-evt-000002", e.ID, "event ID")
	got, err := canonical.DecodeData[canonical.Return](e)
	require.NoError(t, err, "DecodeData")
	assert.Equal(t, r, got, "the event carries the return")

	kept, ok := m.Return(r.ID)
	require.True(t, ok, "Return %s", r.ID)
	assert.Equal(t, r, kept, "the CRM keeps the return")
	_, ok = m.Return("RET-404")
	assert.False(t, ok, "unknown return")
	assert.Equal(t, 1, m.Counts().Returns, "returns counted")

	// A second RMA is checked against what shows shipped only; the flow
	// counts the first.
	r2, err := m.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: o.ID, Warehouse: "WH-EAST",
		Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("1", "EA")}}})
	require.NoError(t, err, "second AuthorizeReturn")
	assert.Equal(t, "RET-000002", r2.ID, "second return ID")
}

func TestAuthorizeReturnRefused(t *testing.T) {
	tests := []struct {
		name string
		req  func(orderID string) crm.ReturnRequest
		code connector.Code
		text string
	}{
		{name: "unknown order", req: func(string) crm.ReturnRequest {
			return crm.ReturnRequest{OrderID: "ORD-404", Warehouse: "WH-EAST", Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("1", "EA")}}}
		}, code: connector.CodeNotFound, text: `order "ORD-404"`},
		{name: "no warehouse, no lines", req: func(id string) crm.ReturnRequest { return crm.ReturnRequest{OrderID: id} },
			code: connector.CodeInvalid, text: "warehouse: required; lines: at least one line is required"},
		{name: "unknown line", req: func(id string) crm.ReturnRequest {
			return crm.ReturnRequest{OrderID: id, Warehouse: "WH-EAST", Lines: []crm.ReturnRequestLine{{OrderLineID: "L7", Quantity: canonical.MustParseQuantity("1", "EA")}}}
		}, code: connector.CodeInvalid, text: `lines[0].orderLineId: order ORD-000001 has no line "L7"`},
		{name: "other unit", req: func(id string) crm.ReturnRequest {
			return crm.ReturnRequest{OrderID: id, Warehouse: "WH-EAST", Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("1", "XCS")}}}
		}, code: connector.CodeInvalid, text: `lines[0].quantity.unit: must be the order line's unit EA, is "XCS"`},
		{name: "zero", req: func(id string) crm.ReturnRequest {
			return crm.ReturnRequest{OrderID: id, Warehouse: "WH-EAST", Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("0", "EA")}}}
		}, code: connector.CodeInvalid, text: "lines[0].quantity.value: must be > 0, is 0"},
		{name: "more than shown shipped", req: func(id string) crm.ReturnRequest {
			return crm.ReturnRequest{OrderID: id, Warehouse: "WH-EAST", Lines: []crm.ReturnRequestLine{
				{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("2", "EA")},
				{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("5", "EA")}}}
		}, code: connector.CodeInvalid, text: "lines[1].quantity.value: must not exceed the 6 shown as shipped on line L1, is 7"},
		{name: "nothing shown shipped", req: func(id string) crm.ReturnRequest {
			return crm.ReturnRequest{OrderID: id, Warehouse: "WH-EAST", Lines: []crm.ReturnRequestLine{{OrderLineID: "L2", Quantity: canonical.MustParseQuantity("1", "EA")}}}
		}, code: connector.CodeInvalid, text: "lines[0].quantity.value: must not exceed the 0 shown as shipped on line L2, is 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newCRM(t)
			o := shipped(t, m)
			_, err := m.AuthorizeReturn(t.Context(), tt.req(o.ID))
			require.Error(t, err, "AuthorizeReturn %s", tt.name)
			assert.Equal(t, tt.code, connector.CodeOf(err), "code of %s: %v", tt.name, err)
			assert.Contains(t, err.Error(), tt.text, "error of %s", tt.name)
			page, err := m.PollOrders(t.Context(), "", 10)
			require.NoError(t, err, "PollOrders")
			assert.Len(t, page.Events, 1, "nothing appended for %s", tt.name)
			assert.Equal(t, 0, m.Counts().Returns, "nothing counted for %s", tt.name)
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		m := newCRM(t)
		o := shipped(t, m)
		ctx, cancel := context.WithCancelCause(t.Context())
		cancel(fmt.Errorf("test stop"))
		_, err := m.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: o.ID})
		assert.EqualError(t, err, "test stop", "AuthorizeReturn after cancel")
	})
}

// A sales rep authorizes the return of goods that shipped; the RMA goes
// out on the order feed for the flows.
func ExampleMemory_AuthorizeReturn() {
	ctx := context.Background()
	m, _ := crm.New(crm.Config{})
	opp, _ := m.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0001",
		Lines: []crm.OpportunityLine{{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("24", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
	order, _ := m.ConvertOpportunity(ctx, opp.ID)
	// The flow shows the order shipped.
	_ = m.PublishStatus(ctx, connector.OrderStatus{OrderID: order.ID, Sequence: 1,
		Status: canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced},
		Lines:  []connector.LineStatus{{LineID: "L1", Shipped: canonical.MustParseQuantity("24", "EA")}}})

	r, err := m.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: order.ID, Warehouse: "WH-EAST",
		Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("4", "EA"), Reason: "damaged in transit"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.ID, r.RMANumber, "for", r.OrderID, r.Lines[0].Item.SKU, r.Lines[0].Authorized)
	page, _ := m.PollOrders(ctx, "1", 10)
	for _, e := range page.Events {
		fmt.Println(e.Type, e.Subject, "partition", e.Partition())
	}
	_, err = m.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: order.ID, Warehouse: "WH-EAST",
		Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("25", "EA")}}})
	fmt.Println(err)
	// Output:
	// RET-000001 RMA-000001 for ORD-000001 SKU-100 4 EA
	// distsync.return.authorized.v1 RET-000001 partition ORD-000001
	// connector: crm AuthorizeReturn: invalid: canonical: invalid return: lines[0].quantity.value: must not exceed the 24 shown as shipped on line L1, is 25
}
