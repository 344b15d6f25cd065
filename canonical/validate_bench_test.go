package canonical_test

import (
	"fmt"
	"testing"

	"github.com/distsync/distsync/canonical"
)

// bigOrderLines is the line count of the large-order benchmarks and tests:
// the size of the largest order seen in testing (11,000 lines).
const bigOrderLines = 11_000

// invalidOrder returns sampleOrder(n) in which every line is bad twice: a
// zero quantity in a unit that is not a Rec 20 code.
func invalidOrder(n int) canonical.Order {
	o := sampleOrder(n)
	for i := range o.Lines {
		o.Lines[i].Quantity = canonical.NewQuantity(canonical.DecimalFromInt(0), "CS")
	}
	return o
}

// manyRefs returns n refs of distinct (system, type) pairs.
func manyRefs(n int) canonical.Refs {
	rs := make(canonical.Refs, n)
	for i := range rs {
		rs[i] = canonical.ExternalRef{System: "sys", Type: fmt.Sprintf("t%d", i), Value: "v"}
	}
	return rs
}

// BenchmarkOrderValidateLarge validates an order of 11,000 lines: valid,
// with every line invalid, and valid with 11,000 order refs.
func BenchmarkOrderValidateLarge(b *testing.B) {
	b.Run("valid", func(b *testing.B) {
		o := sampleOrder(bigOrderLines)
		b.ReportAllocs()
		for b.Loop() {
			if err := o.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("all-invalid", func(b *testing.B) {
		o := invalidOrder(bigOrderLines)
		b.ReportAllocs()
		for b.Loop() {
			if err := o.Validate(); err == nil {
				b.Fatal("invalid order accepted")
			}
		}
	})
	b.Run("refs", func(b *testing.B) {
		o := sampleOrder(1)
		o.Refs = manyRefs(bigOrderLines)
		b.ReportAllocs()
		for b.Loop() {
			if err := o.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
