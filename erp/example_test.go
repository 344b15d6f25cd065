package erp_test

import (
	"context"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp"
)

// An order of the demo customer C-3 exceeds its credit limit: the ERP
// records it on hold, a credit controller releases the hold, the warehouse
// ships and the ERP invoices.
func ExampleMemory_AcceptOrder() {
	ctx := context.Background()
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	m, err := erp.New(erp.Config{Clock: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	o := canonical.Order{
		ID: "ord-1001", Version: 1, Currency: "USD",
		SoldTo: canonical.PartyRef{ID: "C-3"}, ShipTo: canonical.PartyRef{ID: "C-3-DC"},
		Lines: []canonical.OrderLine{
			{ID: "L1", Item: canonical.ItemRef{SKU: "SKU-103"}, Quantity: canonical.MustParseQuantity("12", "EA"), UnitPrice: canonical.MustParseMoney("85.00", "USD")},
		},
	}
	ack, err := m.AcceptOrder(ctx, "accept-ord-1001-v1", &o)
	if err != nil {
		fmt.Println(err)
		return
	}
	so, _ := ack.Refs.Get(erp.System, erp.RefSalesOrder)
	fmt.Println(so.Value, ack.Outcome, ack.Lines[0].Result, ack.Lines[0].UnitPrice, ack.Totals.Total)
	fmt.Println(ack.Holds[0].Kind, "hold:", ack.Holds[0].Reason)

	view, _ := m.ReleaseHold(ctx, "ord-1001", canonical.HoldCredit)
	fmt.Println("after release:", view.Status())

	s := canonical.Shipment{
		ID: "shp-1", Version: 1, OrderID: "ord-1001", FulfillmentOrderID: "fo-1", Warehouse: "WH-SOUTH",
		Carrier: canonical.Carrier{SCAC: "UPSN"}, ShippedAt: clock(),
		Lines: []canonical.ShipmentLine{{ID: "S1", OrderLineID: "L1", FulfillmentLineID: "FL1", Item: o.Lines[0].Item, Quantity: o.Lines[0].Quantity}},
	}
	inv, _ := m.PostShipment(ctx, "post-shp-1", s)
	fmt.Println(inv.Number, inv.Totals.Subtotal, "+ tax", inv.Totals.Tax, "=", inv.Totals.Total, "due", inv.DueDate.Format(time.DateOnly))
	view, _ = m.GetOrder(ctx, "ord-1001")
	fmt.Println("after invoicing:", view.Status())
	// Output:
	// SO-000001 on_hold price_changed 89.00 USD 1134.75 USD
	// credit hold: credit limit 1000.00 USD exceeded: exposure 1134.75 USD
	// after release: accepted/unfulfilled/not_invoiced
	// INV-000001 1068.00 USD + tax 66.75 USD = 1134.75 USD due 2026-03-17
	// after invoicing: accepted/shipped/invoiced
}
