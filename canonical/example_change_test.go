package canonical_test

import (
	"fmt"

	"github.com/distsync/distsync/canonical"
)

// ExampleDiffOrders computes the change between two versions of an order:
// one line up, one removed, one added, and ship-complete switched on.
func ExampleDiffOrders() {
	line := func(id, sku, qty string) canonical.OrderLine {
		return canonical.OrderLine{ID: id, Item: canonical.ItemRef{SKU: sku}, Quantity: canonical.MustParseQuantity(qty, "EA")}
	}
	v1 := canonical.Order{ID: "ORD-1", Version: 1, Lines: []canonical.OrderLine{line("L1", "WIDGET", "10"), line("L2", "GADGET", "4")}}
	v2 := canonical.Order{ID: "ORD-1", Version: 2, ShipComplete: true, Lines: []canonical.OrderLine{line("L1", "WIDGET", "12"), line("L3", "BOLT", "100")}}
	c, err := canonical.DiffOrders(v1, v2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("version %d → %d, ship complete %v\n", c.FromVersion, c.ToVersion, *c.ShipComplete)
	for _, l := range c.Lines {
		fmt.Printf("%s %s %s: %s → %s (%s)\n", l.LineID, l.Kind, l.Item.SKU, l.From, l.To, l.Delta)
	}
	_, err = canonical.DiffOrders(v2, v1)
	fmt.Println(err != nil)
	// Output:
	// version 1 → 2, ship complete true
	// L1 updated WIDGET: 10 EA → 12 EA (2 EA)
	// L3 added BOLT: 0 EA → 100 EA (100 EA)
	// L2 removed GADGET: 4 EA → 0 EA (-4 EA)
	// true
}
