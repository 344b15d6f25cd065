//go:build !race

// Under -race the allocation counts include the detector's own.

package flow

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/memtest"
)

// fixedStock is an InventoryReader whose positions never change.
type fixedStock []canonical.InventoryPosition

func (s fixedStock) Inventory(context.Context, connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	return s, nil
}

// TestPlanBytes: InventorySourcer.Plan points to the order's lines, not
// copies of them (448 bytes a line, per line planned and per stock
// lookup): planning a one-line order in one of three warehouses allocates
// 560 bytes (1,040 before).
func TestPlanBytes(t *testing.T) {
	var stock fixedStock
	for _, wh := range []string{"WH-EAST", "WH-SOUTH", "WH-WEST"} {
		q := canonical.MustParseQuantity("100", "EA")
		stock = append(stock, canonical.InventoryPosition{Item: canonical.ItemRef{SKU: "SKU-100"}, Location: wh,
			Status: canonical.InventoryAvailable, Kind: canonical.QuantitySnapshot, OnHand: q, Available: q, AsOf: time.Now()})
	}
	s := &InventorySourcer{Inventory: stock}
	o := canonical.Order{ID: "ORD-1", Version: 1, SoldTo: canonical.PartyRef{ID: "C-1"}, ShipTo: canonical.PartyRef{ID: "C-1-DC"},
		Lines: []canonical.OrderLine{{ID: "L1", Item: canonical.ItemRef{SKU: "SKU-100"}, Quantity: canonical.MustParseQuantity("3", "EA")}}}
	plan := func() {
		p, err := s.Plan(t.Context(), o)
		if err != nil || len(p) != 1 {
			t.Fatal(p, err)
		}
	}
	plan()
	const runs = 100
	allocated := memtest.Allocated(func() {
		for range runs {
			plan()
		}
	})
	perPlan := float64(allocated) / runs
	t.Logf("%.0f bytes per Plan", perPlan)
	require.Positive(t, perPlan, "Plan allocates its result")
	assert.LessOrEqual(t, perPlan, 800.0, "bytes per Plan of a one-line order")
}
