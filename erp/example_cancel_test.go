package erp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
)

// Four of ten ship; the other six are cancelled, so the ERP no longer
// expects to ship or invoice them and the order is complete.
func ExampleMemory_CancelOrderLines() {
	ctx := context.Background()
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	m, _ := erp.New(erp.Config{Clock: clock})
	o := canonical.Order{ID: "ord-2001", Version: 1, Currency: "USD",
		SoldTo: canonical.PartyRef{ID: "C-1"}, ShipTo: canonical.PartyRef{ID: "C-1-DC"},
		Lines: []canonical.OrderLine{{ID: "L1", Item: canonical.ItemRef{SKU: "SKU-100"},
			Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}}
	if _, err := m.AcceptOrder(ctx, "accept-ord-2001", &o); err != nil {
		fmt.Println(err)
		return
	}
	_, _ = m.PostShipment(ctx, "post-shp-1", canonical.Shipment{ID: "shp-1", Version: 1, OrderID: o.ID, FulfillmentOrderID: "fo-1",
		Warehouse: "WH-EAST", Carrier: canonical.Carrier{SCAC: "UPSN"}, ShippedAt: clock(),
		Lines: []canonical.ShipmentLine{{ID: "S1", OrderLineID: "L1", FulfillmentLineID: "FL1", Item: o.Lines[0].Item, Quantity: canonical.MustParseQuantity("4", "EA")}}})
	c := connector.OrderCancellation{OrderID: o.ID, Reason: "remainder cancelled",
		Lines: []connector.LineQuantity{{LineID: "L1", Quantity: canonical.MustParseQuantity("6", "EA")}}}
	view, err := m.CancelOrderLines(ctx, "cancel-ord-2001-1", c)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(view.Lines[0].Buckets)
	fmt.Println(string(b), view.Status())
	again, _ := m.CancelOrderLines(ctx, "cancel-ord-2001-1", c) // a retry: nothing more
	fmt.Println(again.Lines[0].Buckets.Get(canonical.BucketCancelled), "cancelled after a retry;", m.Counts().Cancellations, "cancellation")
	_, err = m.CancelOrderLines(ctx, "cancel-ord-2001-2", c)
	fmt.Println(connector.CodeOf(err))
	// Output:
	// {"ordered":"10","confirmed":"10","cancelled":"6","shipped":"4","invoiced":"4"} accepted/shipped/invoiced
	// 6 cancelled after a retry; 1 cancellation
	// conflict
}
