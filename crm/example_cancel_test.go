package crm_test

import (
	"context"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
)

// A user asks in the CRM to cancel what has not shipped of an order; the
// request follows the order on the order feed, with the next per-order
// sequence, for the flow to honour.
func ExampleMemory_RequestCancellation() {
	ctx := context.Background()
	m, _ := crm.New(crm.Config{Clock: func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }})
	opp, _ := m.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0001", Lines: []crm.OpportunityLine{
		{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("24", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
	order, _ := m.ConvertOpportunity(ctx, opp.ID)
	req, err := m.RequestCancellation(ctx, order.ID, []canonical.CancelLine{{LineID: "L1", Quantity: canonical.MustParseQuantity("10", "EA")}}, "over-ordered")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.ID, "asks to cancel at most", req.Lines[0].Quantity, "of", req.OrderID, req.Lines[0].LineID)

	page, _ := m.PollOrders(ctx, "", 10)
	for _, e := range page.Events {
		fmt.Println(e.Type, e.Subject, "sequence", e.Sequence)
	}
	_, err = m.RequestCancellation(ctx, order.ID, []canonical.CancelLine{{LineID: "L7", Quantity: canonical.MustParseQuantity("1", "EA")}}, "")
	fmt.Println(err)
	// Output:
	// CCR-000001 asks to cancel at most 10 EA of ORD-000001 L1
	// distsync.order.submitted.v1 ORD-000001 sequence 1
	// distsync.order.cancel_requested.v1 ORD-000001 sequence 2
	// connector: crm RequestCancellation: invalid: canonical: invalid cancel_request: lines[0].lineId: order ORD-000001 has no line "L7"
}
