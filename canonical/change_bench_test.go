package canonical_test

import (
	"testing"

	"github.com/distsync/distsync/canonical"
)

// BenchmarkDiffOrders diffs two versions of a 50-line order in which every
// fifth line changed quantity, one line was removed and one added.
func BenchmarkDiffOrders(b *testing.B) {
	old := sampleOrder(50)
	n := sampleOrder(50)
	n.Version++
	n.Lines = append(n.Lines[:0:0], n.Lines[1:]...)
	for i := 0; i < len(n.Lines); i += 5 {
		n.Lines[i].Quantity.Value = canonical.DecimalFromInt(int64(20 + i))
	}
	n.Lines = append(n.Lines, canonical.OrderLine{ID: "NEW", Item: canonical.ItemRef{SKU: "NEW"}, Quantity: canonical.MustParseQuantity("3", "EA")})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := canonical.DiffOrders(old, n); err != nil {
			b.Fatal(err)
		}
	}
}
