package canonical_test

import (
	"testing"

	"github.com/distsync/distsync/canonical"
)

// BenchmarkFoldAndStatus folds 50 quantity events into the buckets of a
// 10-line order and derives its status.
func BenchmarkFoldAndStatus(b *testing.B) {
	o := sampleOrder(10)
	events := fiftyEvents()
	var l canonical.Ledger
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Fold(o.Lines, events); err != nil {
			b.Fatal(err)
		}
		if s := o.Status(); s.Fulfillment != canonical.FulfillmentPartiallyShipped {
			b.Fatalf("status %v", s)
		}
	}
}
