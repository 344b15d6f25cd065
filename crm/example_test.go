package crm_test

import (
	"context"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
)

// A sales rep converts an opportunity; the flows read the order from the
// feed and later publish its status, which the CRM then shows.
func ExampleMemory_ConvertOpportunity() {
	ctx := context.Background()
	m, _ := crm.New(crm.Config{Clock: func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }})
	opp, _ := m.OpenOpportunity(ctx, crm.Opportunity{
		AccountID: "ACC-0001", Name: "Spring restock",
		Lines: []crm.OpportunityLine{{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("24", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}},
	})
	order, _ := m.ConvertOpportunity(ctx, opp.ID)
	fmt.Println(opp.ID, "→", order.ID, "sold to", order.SoldTo.ID)

	page, _ := m.PollOrders(ctx, "", 10)
	for _, e := range page.Events {
		fmt.Println(e.Type, e.Subject, "next cursor", page.Next)
	}

	_ = m.PublishStatus(ctx, connector.OrderStatus{OrderID: order.ID, Sequence: 2, TrackingNumbers: []string{"1Z999AA10123456784"},
		Status: canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced}})
	_ = m.PublishStatus(ctx, connector.OrderStatus{OrderID: order.ID, Sequence: 1, // late and stale: ignored
		Status: canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentAllocated, Billing: canonical.BillingNotInvoiced}})
	shown, _ := m.ShownStatus(order.ID)
	fmt.Println("shown:", shown.Status, shown.TrackingNumbers)
	// Output:
	// OPP-000001 → ORD-000001 sold to C-1
	// distsync.order.submitted.v1 ORD-000001 next cursor 1
	// shown: accepted/shipped/invoiced [1Z999AA10123456784]
}
