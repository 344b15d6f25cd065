package flow_test

import (
	"context"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// Example runs one order from the CRM to cash on the reference systems,
// driving the warehouses step by step and the flow with Drain.
func Example() {
	ctx := context.Background()
	e, _ := erp.New(erp.Config{})
	w, _ := wms.New(wms.Config{})
	c, _ := crm.New(crm.Config{})
	f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		PollInterval: time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	opp, _ := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
		SKU: "SKU-101", Quantity: canonical.MustParseQuantity("100", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")}}})
	order, _ := c.ConvertOpportunity(ctx, opp.ID)
	for {
		if err := f.Drain(ctx); err != nil {
			fmt.Println(err)
			return
		}
		if n, _ := w.Step(ctx); n == 0 {
			break
		}
	}
	v, _ := f.Where(ctx, order.ID)
	fmt.Println("flow:", v.Status)
	fmt.Println("crm: ", v.CRM.Status)
	for _, fo := range v.FulfillmentOrders {
		fmt.Println("released to", fo.Warehouse, fo.Lines[0].Quantity)
	}
	for _, in := range v.Invoices {
		fmt.Println("invoice", in.Number, in.Totals.Total)
	}
	// Output:
	// flow: accepted/shipped/invoiced
	// crm:  accepted/shipped/invoiced
	// released to WH-EAST 80 EA
	// released to WH-WEST 20 EA
	// invoice INV-000001 784.00 USD
	// invoice INV-000002 196.00 USD
}
