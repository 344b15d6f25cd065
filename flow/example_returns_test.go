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

// Example_returns ships an order, authorizes the return of part of it in
// the CRM and receives it in the WMS: the ERP credits what came back with
// one credit memo, and the CRM shows the returned quantity and the credit.
func Example_returns() {
	ctx := context.Background()
	e, _ := erp.New(erp.Config{})
	w, _ := wms.New(wms.Config{Start: wms.DemoEpoch().Add(time.Hour)})
	c, _ := crm.New(crm.Config{})
	f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		PollInterval: time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	opp, _ := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{
		{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
	order, _ := c.ConvertOpportunity(ctx, opp.ID)
	for { // the flow and the warehouses work until the order has shipped
		if err := f.Drain(ctx); err != nil {
			fmt.Println(err)
			return
		}
		if n, _ := w.Step(ctx); n == 0 {
			break
		}
	}
	v, _ := f.Where(ctx, order.ID)
	wh := v.FulfillmentOrders[0].Warehouse

	r, err := c.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: order.ID, Warehouse: wh,
		Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("3", "EA"), Reason: "too many"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = f.Drain(ctx) // the WMS now expects the return
	_, err = w.ReceiveReturn(ctx, r.ID, []wms.ReturnReceipt{{LineID: "R1", Quantity: canonical.MustParseQuantity("3", "EA"),
		Condition: canonical.ConditionOpened, Disposition: canonical.DispositionRestock}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = f.Drain(ctx)

	v, _ = f.Where(ctx, order.ID)
	fmt.Println("flow:", v.Status, "returned", v.Order.Lines[0].Buckets.Get(canonical.BucketReturned))
	for _, m := range v.CreditMemos {
		fmt.Println("credit memo:", m.Number, "for", m.ReturnID, m.Lines[0].Quantity, "×", m.Lines[0].UnitPrice, "total", m.Totals.Total)
	}
	shown, _ := c.ShownStatus(order.ID)
	fmt.Println("crm:", shown.Status, "returned", shown.Lines[0].Returned, "credits", shown.Returns[0].Credits)
	// Output:
	// flow: accepted/shipped/credited returned 3
	// credit memo: CM-000001 for RET-000001/2 3 EA × 12.50 USD total 37.50 USD
	// crm: accepted/shipped/credited returned 3 EA credits [{CM-000001 37.50 USD}]
}
