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

// An order ships what is in stock and backorders the rest; the customer
// then changes it in the CRM (version 2): fewer of the backordered item,
// more of the shipped one. The warehouse takes the reduction off the
// backorder, the ERP prices and confirms the increase, the warehouse adds
// it to the fulfilment order (still open for the backorder) and ships it,
// and the CRM shows per line what was applied.
func Example_orderChange() {
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

	_, err = c.ReviseOrder(ctx, order.ID, func(o *canonical.Order) error {
		o.Lines[0].Quantity = canonical.MustParseQuantity("8", "EA") // 3 more
		o.Lines[1].Quantity = canonical.MustParseQuantity("2", "EA") // 5 fewer
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	settle()
	v, _ := f.Where(ctx, order.ID)
	fmt.Println("version", v.Order.Version, v.Status)
	for _, r := range v.CRM.Changes {
		fmt.Printf("%s %s: %s, applied %s\n", r.LineID, r.Field, r.Outcome, r.Applied)
	}
	for _, l := range v.Order.Lines {
		fmt.Printf("%s %s: ordered %s, cancelled %s, shipped %s\n", l.ID, l.Item.SKU, l.Buckets.Get(canonical.BucketOrdered),
			l.Buckets.Get(canonical.BucketCancelled), l.Buckets.Get(canonical.BucketShipped))
	}
	for _, fo := range v.FulfillmentOrders {
		fmt.Println("fulfilment order", fo.ID)
	}
	// Output:
	// version 2 accepted/partially_shipped/partially_invoiced
	// L1 quantity: applied, applied 3 EA
	// L2 quantity: applied, applied -5 EA
	// L1 SKU-100: ordered 8, cancelled 0, shipped 8
	// L2 SKU-105: ordered 7, cancelled 5, shipped 0
	// fulfilment order ORD-000001-WH-EAST
}
