package canonical_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
)

func ExampleEncode() {
	u := canonical.AllocationUpdate{FulfillmentOrderID: "FO-1", OrderID: "ord-1001", Warehouse: "WH-EAST",
		AsOf: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Sequence: 1,
		Lines: []canonical.AllocationLine{{FulfillmentLineID: "FL-1", OrderLineID: "L1", Item: canonical.ItemRef{SKU: "HAM-16"},
			Allocated: canonical.MustParseQuantity("20", "EA"), Backordered: canonical.MustParseQuantity("4", "EA")}}}
	data, err := canonical.Encode(u)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(data))
	back, err := canonical.Decode[canonical.AllocationUpdate](data)
	fmt.Println(err == nil && back.Lines[0].Backordered.Value.Equal(u.Lines[0].Backordered.Value))
	// Output:
	// {"fulfillmentOrderId":"FO-1","orderId":"ord-1001","warehouse":"WH-EAST","asOf":"2026-11-02T09:00:00Z","sequence":1,"lines":[{"fulfillmentLineId":"FL-1","orderLineId":"L1","item":{"sku":"HAM-16"},"allocated":{"value":"20","unit":"EA"},"backordered":{"value":"4","unit":"EA"}}]}
	// true
}

func ExampleAppendEncode() {
	// Two positions in one buffer, as a JSON array: one allocation for
	// the buffer instead of one per document.
	asOf := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	positions := []canonical.InventoryPosition{
		{Item: canonical.ItemRef{SKU: "HAM-16"}, Location: "WH-EAST", Status: canonical.InventoryAvailable,
			Kind: canonical.QuantitySnapshot, OnHand: canonical.MustParseQuantity("24", "EA"), AsOf: asOf, Sequence: 7},
		{Item: canonical.ItemRef{SKU: "SAW-2"}, Location: "WH-EAST", Status: canonical.InventoryAvailable,
			Kind: canonical.QuantitySnapshot, OnHand: canonical.MustParseQuantity("3", "EA"), AsOf: asOf, Sequence: 8},
	}
	b := make([]byte, 0, 1024)
	b = append(b, '[')
	for i := range positions {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = canonical.AppendEncode(b, &positions[i]); err != nil {
			fmt.Println(err)
			return
		}
	}
	b = append(b, ']')
	var back []canonical.InventoryPosition
	fmt.Println(json.Unmarshal(b, &back) == nil, len(back), back[1].Item.SKU, back[1].OnHand)
	// Output:
	// true 2 SAW-2 3 EA
}

func ExampleAppendEncodeOf() {
	// A shipment held in a variable, encoded where it is (AppendEncode
	// would copy it to the heap) in a buffer the caller reuses.
	s := canonical.Shipment{ID: "SHP-1", Version: 1, OrderID: "ord-1001", FulfillmentOrderID: "FO-1", Warehouse: "WH-EAST",
		Carrier: canonical.Carrier{SCAC: "UPSN"}, ShippedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
		Lines: []canonical.ShipmentLine{{ID: "SL-1", OrderLineID: "L1", FulfillmentLineID: "FL-1", Item: canonical.ItemRef{SKU: "HAM-16"},
			Quantity: canonical.MustParseQuantity("20", "EA")}}}
	buf := make([]byte, 0, 1024)
	buf, err := canonical.AppendEncodeOf(buf[:0], &s)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(buf))
	marshalled, _ := json.Marshal(s)
	fmt.Println(string(marshalled) == string(buf))
	// Output:
	// {"id":"SHP-1","version":1,"orderId":"ord-1001","fulfillmentOrderId":"FO-1","warehouse":"WH-EAST","carrier":{"scac":"UPSN"},"shippedAt":"2026-11-02T09:00:00Z","lines":[{"id":"SL-1","orderLineId":"L1","fulfillmentLineId":"FL-1","item":{"sku":"HAM-16"},"quantity":{"value":"20","unit":"EA"}}]}
	// true
}
