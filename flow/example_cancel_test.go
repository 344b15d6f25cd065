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

// An order ships what is in stock; customer service then cancels the
// backordered remainder in the ERP. The flow reads the request from the
// ERP's event feed, cancels the open quantity in the warehouse, and the
// ERP and the CRM show what was cancelled.
func Example_cancelRemainder() {
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
	settle := func() {
		for {
			if err := f.Drain(ctx); err != nil {
				fmt.Println(err)
				return
			}
			if n, _ := w.Step(ctx); n == 0 {
				return
			}
		}
	}
	opp, _ := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0001", Lines: []crm.OpportunityLine{
		{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("5", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
		{SKU: "SKU-105", Quantity: canonical.MustParseQuantity("7", "EA"), UnitPrice: canonical.MustParseMoney("6.40", "USD")}}})
	order, _ := c.ConvertOpportunity(ctx, opp.ID)
	settle()
	v, _ := f.Where(ctx, order.ID)
	fmt.Println("before:", v.Status)

	if _, err := e.RequestCancellation(ctx, order.ID, nil, "customer no longer needs the rest"); err != nil {
		fmt.Println(err)
		return
	}
	settle()
	v, _ = f.Where(ctx, order.ID)
	fmt.Println("after: ", v.Status)
	for i, l := range v.Order.Lines {
		fmt.Printf("%s %s: shipped %s, cancelled %s (ERP %s, CRM %s)\n", l.ID, l.Item.SKU,
			l.Buckets.Get(canonical.BucketShipped), l.Buckets.Get(canonical.BucketCancelled),
			v.ERP.Lines[i].Buckets.Get(canonical.BucketCancelled), v.CRM.Lines[i].Cancelled)
	}
	fmt.Println(v.CRM.Messages[len(v.CRM.Messages)-1])
	// Output:
	// before: accepted/partially_shipped/partially_invoiced
	// after:  accepted/shipped/invoiced
	// L1 SKU-100: shipped 5, cancelled 0 (ERP 0, CRM 0 EA)
	// L2 SKU-105: shipped 0, cancelled 7 (ERP 7, CRM 7 EA)
	// cancel request ECR-000001 from erp: cancelled L2 7 EA
}
