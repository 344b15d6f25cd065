package crm_test

import (
	"context"
	"fmt"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
)

// A customer changes an order after its conversion: the CRM appends the
// new version to its order feed, for the flow to apply.
func ExampleMemory_ReviseOrder() {
	ctx := context.Background()
	c, _ := crm.New(crm.Config{})
	opp, _ := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0001", Lines: []crm.OpportunityLine{
		{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("5", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
	order, _ := c.ConvertOpportunity(ctx, opp.ID)
	v2, err := c.ReviseOrder(ctx, order.ID, func(o *canonical.Order) error {
		o.Lines[0].Quantity = canonical.MustParseQuantity("8", "EA")
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	page, _ := c.PollOrders(ctx, "", 10)
	for _, e := range page.Events {
		o, _ := canonical.DecodeData[canonical.Order](e)
		fmt.Println(e.Type, e.Sequence, o.ID, "version", o.Version, o.Lines[0].Quantity)
	}
	fmt.Println(v2.Version)
	// Output:
	// distsync.order.submitted.v1 1 ORD-000001 version 1 5 EA
	// distsync.order.submitted.v1 2 ORD-000001 version 2 8 EA
	// 2
}
