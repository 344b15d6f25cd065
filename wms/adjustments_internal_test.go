package wms

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// TestAdjustmentHashCollision checks that adjustments whose IDs have the
// same hash are kept apart: each replays its own first result, and an ID
// reused with another change is a conflict, whichever of them came first.
func TestAdjustmentHashCollision(t *testing.T) {
	ctx := context.Background()
	m, err := New(Config{})
	require.NoError(t, err, "New")
	m.w.hashAdjustmentID = func(string) uint64 { return 7 } // every ID collides
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.FixedZone("X", 3600))
	adj := func(id, sku, delta string) canonical.InventoryAdjustment {
		return canonical.InventoryAdjustment{ID: id, Item: canonical.ItemRef{SKU: sku}, Location: "WH-EAST", Status: canonical.InventoryAvailable,
			Delta: canonical.MustParseQuantity(delta, "EA"), Reason: canonical.AdjustFound, AdjustedAt: at}
	}
	ins := []canonical.InventoryAdjustment{adj("A", "SKU-100", "1"), adj("B", "SKU-101", "2"), adj("C", "SKU-100", "3")}
	var firsts []canonical.InventoryAdjustment
	for _, in := range ins {
		got, err := m.Adjust(ctx, in)
		require.NoError(t, err, "Adjust %s", in.ID)
		firsts = append(firsts, got)
	}
	assert.Len(t, m.w.adjustments, 1, "one hash")
	assert.Len(t, m.w.adjustmentsByID, 2, "the IDs after the first with the hash")
	for i, in := range ins {
		again, err := m.Adjust(ctx, in)
		require.NoError(t, err, "replay of %s", in.ID)
		assert.Equal(t, firsts[i], again, "replay of %s", in.ID)
		other := in
		other.Delta = canonical.MustParseQuantity("9", "EA")
		_, err = m.Adjust(ctx, other)
		assert.Equal(t, connector.CodeConflict, connector.CodeOf(err), "%s reused with another change", in.ID)
	}
	assert.Equal(t, 3, m.Counts().Adjustments, "applied once each")
}
