package faults_test

import (
	"context"
	"fmt"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
)

// stockWMS answers Inventory with nothing. Its other methods are not used
// here.
type stockWMS struct{ connector.WMS }

func (stockWMS) Inventory(context.Context, connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	return nil, nil
}

func ExampleOutage() {
	wms, _ := faults.WrapWMS(stockWMS{}, faults.Config{Outage: faults.Outage{FromCall: 2, UntilCall: 4}})
	for i := 1; i <= 5; i++ {
		_, err := wms.Inventory(context.Background(), connector.InventoryQuery{})
		if err == nil {
			fmt.Println("call", i, "ok")
			continue
		}
		fmt.Println("call", i, connector.CodeOf(err))
	}
	// Output:
	// call 1 ok
	// call 2 unavailable
	// call 3 unavailable
	// call 4 ok
	// call 5 ok
}

func ExampleConfig_seed() {
	run := func(seed uint64) string {
		wms, _ := faults.WrapWMS(stockWMS{}, faults.Config{Seed: seed, Unavailable: 0.3, RateLimited: 0.2})
		s := ""
		for range 12 {
			_, err := wms.Inventory(context.Background(), connector.InventoryQuery{})
			if err == nil {
				s += "."
				continue
			}
			s += map[connector.Code]string{connector.CodeUnavailable: "U", connector.CodeRateLimited: "R"}[connector.CodeOf(err)]
		}
		return s
	}
	first, again, other := run(1), run(1), run(2)
	fmt.Println(first == again, first == other)
	// Output:
	// true false
}
