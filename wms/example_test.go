package wms_test

import (
	"context"
	"fmt"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/wms"
)

// A fulfilment order for more drills than the warehouse holds ships in
// part, backorders the rest, and completes once stock arrives.
func ExampleMemory_Step() {
	ctx := context.Background()
	m, err := wms.New(wms.Config{}) // the demo world
	if err != nil {
		panic(err)
	}
	fo := canonical.FulfillmentOrder{ID: "FO-1", Version: 1, OrderID: "SO-1", Warehouse: "WH-EAST",
		Split: canonical.SplitPosition{Group: "SO-1", Index: 1, Count: 1}, ShipTo: canonical.PartyRef{ID: "C-1-DC"},
		Lines: []canonical.FulfillmentLine{{ID: "FO-1:1", OrderLineID: "1", Item: canonical.ItemRef{SKU: "SKU-103"},
			Quantity: canonical.MustParseQuantity("12", "EA")}}}
	if _, err := m.Release(ctx, fo); err != nil {
		panic(err)
	}
	m.Settle(ctx, 10)
	if _, err := m.Adjust(ctx, canonical.InventoryAdjustment{ID: "RCPT-1", Item: canonical.ItemRef{SKU: "SKU-103"},
		Location: "WH-EAST", Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("5", "EA"),
		Reason: canonical.AdjustReceiptCorrection, AdjustedAt: wms.DemoEpoch()}); err != nil {
		panic(err)
	}
	m.Settle(ctx, 10)

	page, err := m.PollEvents(ctx, "", 100)
	if err != nil {
		panic(err)
	}
	for _, e := range page.Events {
		fmt.Printf("%-2d %-40s %s\n", e.Sequence, e.Type, e.Subject)
		if e.Type == canonical.EventFulfillmentShipped {
			s, _ := canonical.DecodeData[canonical.Shipment](e)
			fmt.Printf("   shipped %s, final %v, %d packages\n", s.Lines[0].Quantity, s.FinalForFulfillment, len(s.Packages))
		}
	}
	// Output:
	// 1  distsync.fulfillment.released.v1         FO-1
	// 2  distsync.fulfillment.backordered.v1      FO-1
	// 3  distsync.fulfillment.picked.v1           FO-1
	// 4  distsync.fulfillment.shipped.v1          FO-1
	//    shipped 10 EA, final false, 1 packages
	// 1  distsync.inventory.adjusted.v1           SKU-103@WH-EAST
	// 5  distsync.fulfillment.allocated.v1        FO-1
	// 6  distsync.fulfillment.picked.v1           FO-1
	// 7  distsync.fulfillment.shipped.v1          FO-1
	//    shipped 2 EA, final true, 1 packages
}

// Plan splits an order over the warehouses with the configured strategy:
// here the nearest warehouse first, spilling over to the next.
func ExampleMemory_Plan() {
	m, err := wms.New(wms.Config{Strategy: wms.StrategyNearest})
	if err != nil {
		panic(err)
	}
	order := canonical.Order{ID: "SO-7", Version: 1, Currency: "USD", SoldTo: canonical.PartyRef{ID: "C-3"},
		ShipTo: canonical.PartyRef{ID: "C-3-DC", Address: &canonical.Address{Lines: []string{"12 Congress Ave"}, City: "Austin", Region: "TX", Country: "US"}},
		Lines: []canonical.OrderLine{
			{ID: "1", Item: canonical.ItemRef{SKU: "SKU-103"}, Quantity: canonical.MustParseQuantity("8", "EA"), UnitPrice: canonical.MustParseMoney("89.00", "USD")},
			{ID: "2", Item: canonical.ItemRef{SKU: "SKU-100"}, Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
		}}
	fos, err := m.Plan(context.Background(), order)
	if err != nil {
		panic(err)
	}
	for _, fo := range fos {
		fmt.Printf("%s (%d of %d):", fo.ID, fo.Split.Index, fo.Split.Count)
		for _, l := range fo.Lines {
			fmt.Printf(" %s %s", l.Item.SKU, l.Quantity)
		}
		fmt.Println()
	}
	// Output:
	// SO-7-WH-SOUTH (1 of 2): SKU-103 5 EA SKU-100 2 EA
	// SO-7-WH-EAST (2 of 2): SKU-103 3 EA
}
