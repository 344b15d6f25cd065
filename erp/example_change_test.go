package erp_test

import (
	"context"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp"
)

// The customer changes an accepted order: 4 of 10 hammers have shipped,
// so of "only 2" the ERP takes away the 6 still open and refuses the rest;
// 5 more drills are priced and granted from stock; a line of work gloves,
// none in stock, is refused.
func ExampleMemory_ChangeOrder() {
	ctx := context.Background()
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	m, _ := erp.New(erp.Config{Clock: clock})
	line := func(id, sku, qty, price string) canonical.OrderLine {
		return canonical.OrderLine{ID: id, Item: canonical.ItemRef{SKU: sku},
			Quantity: canonical.MustParseQuantity(qty, "EA"), UnitPrice: canonical.MustParseMoney(price, "USD")}
	}
	v1 := canonical.Order{ID: "ord-3001", Version: 1, Currency: "USD",
		SoldTo: canonical.PartyRef{ID: "C-1"}, ShipTo: canonical.PartyRef{ID: "C-1-DC"},
		Lines: []canonical.OrderLine{line("L1", "SKU-100", "10", "12.50"), line("L2", "SKU-103", "2", "89.00")}}
	if _, err := m.AcceptOrder(ctx, "accept-ord-3001", &v1); err != nil {
		fmt.Println(err)
		return
	}
	_, _ = m.PostShipment(ctx, "post-shp-31", canonical.Shipment{ID: "shp-31", Version: 1, OrderID: v1.ID, FulfillmentOrderID: "fo-31",
		Warehouse: "WH-EAST", Carrier: canonical.Carrier{SCAC: "UPSN"}, ShippedAt: clock(),
		Lines: []canonical.ShipmentLine{{ID: "S1", OrderLineID: "L1", FulfillmentLineID: "FL1", Item: v1.Lines[0].Item, Quantity: canonical.MustParseQuantity("4", "EA")}}})

	v2 := v1
	v2.Version = 2
	v2.Lines = []canonical.OrderLine{line("L1", "SKU-100", "2", "12.50"), line("L2", "SKU-103", "7", "89.00"), line("L3", "SKU-105", "20", "6.40")}
	change, err := canonical.DiffOrders(v1, v2)
	if err != nil {
		fmt.Println(err)
		return
	}
	ack, err := m.ChangeOrder(ctx, "change-ord-3001-v2", change)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ack.Outcome)
	for _, r := range ack.Results {
		fmt.Printf("%s %s: applied %s, refused %s", r.LineID, r.Outcome, r.Applied, r.Refused)
		if r.Reason != "" {
			fmt.Printf(" (%s)", r.Reason)
		}
		fmt.Println()
	}
	// Output:
	// partially_applied
	// L1 partially_applied: applied -6 EA, refused -2 EA (shipped)
	// L2 applied: applied 5 EA, refused 0 EA
	// L3 refused: applied 0 EA, refused 20 EA (stock)
}
