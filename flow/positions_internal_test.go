package flow

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
)

// TestPositionsIDStable checks that positionsID writes the text the
// idempotency keys of inventory pushes have always been derived from (the
// fmt form below): a flow restarted after a crash, maybe by a newer
// release, must derive the key of a push it may have made before.
func TestPositionsIDStable(t *testing.T) {
	want := func(ps []canonical.InventoryPosition) string {
		var b strings.Builder
		for _, p := range ps {
			fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s|%s|%d;", p.Lot, p.Status, p.OnHand, p.Allocated, p.Available, p.Inbound,
				p.AsOf.UTC().Format(time.RFC3339Nano), p.Sequence)
		}
		return b.String()
	}
	east := time.FixedZone("EST", -5*3600)
	for _, tc := range []struct {
		name string
		ps   []canonical.InventoryPosition
	}{
		{"none", nil},
		{"zero", []canonical.InventoryPosition{{}}},
		{"one", []canonical.InventoryPosition{{Lot: "L1", Status: canonical.InventoryAvailable,
			OnHand: canonical.MustParseQuantity("12.50", "EA"), Allocated: canonical.MustParseQuantity("-3", "EA"),
			Available: canonical.MustParseQuantity("0.001", "KGM"), Inbound: canonical.MustParseQuantity("100", "XCS"),
			AsOf: time.Date(2026, 3, 1, 9, 30, 0, 123456789, east), Sequence: 42}}},
		{"two", []canonical.InventoryPosition{
			{Status: canonical.InventoryAvailable, OnHand: canonical.MustParseQuantity("1", "EA"),
				AsOf: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), Sequence: 1},
			{Lot: "L|2", Status: canonical.InventoryStatus("damaged"), OnHand: canonical.MustParseQuantity("1e3", "EA"),
				AsOf: time.Date(2026, 3, 1, 9, 30, 0, 500, time.UTC), Sequence: -7}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, want(tc.ps), positionsID(tc.ps))
		})
	}
}
