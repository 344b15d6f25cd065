package canonical_test

import (
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
