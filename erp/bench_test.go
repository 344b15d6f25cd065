package erp_test

import (
	"testing"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp"
)

// tenLines returns a 10-line order of C-1 over the six demo items, some
// at a price the ERP changes, some in cases.
func tenLines() canonical.Order {
	return newOrder("ord-bench", "C-1",
		line{"SKU-100", "10", "EA", "12.50"}, line{"SKU-101", "5", "EA", "9.80"}, line{"SKU-102", "2", "XCS", "102.00"},
		line{"SKU-103", "1", "EA", "89.00"}, line{"SKU-104", "3", "XCS", "37.20"}, line{"SKU-105", "20", "EA", "6.40"},
		line{"SKU-100", "60", "EA", "12.50"}, line{"SKU-101", "1", "EA", "9.00"}, line{"SKU-104", "12", "EA", "3.10"},
		line{"SKU-102", "10", "EA", "4.25"})
}

// BenchmarkValidateOrder validates a 10-line order: pricing with breaks,
// unit conversion, ATP, tax and the credit check.
func BenchmarkValidateOrder(b *testing.B) {
	m := newERP(b, erp.Config{})
	o := tenLines()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.ValidateOrder(b.Context(), &o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateOrderParallel validates 10-line orders from every
// goroutine against one ERP.
func BenchmarkValidateOrderParallel(b *testing.B) {
	m := newERP(b, erp.Config{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		o := tenLines()
		for pb.Next() {
			if _, err := m.ValidateOrder(b.Context(), &o); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
