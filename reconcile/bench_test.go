package reconcile_test

import (
	"context"
	"testing"

	"github.com/distsync/distsync/reconcile"
)

// BenchmarkReconcile measures one report-only run over 50 completed orders
// of the simulators (memory state store), feed already read.
func BenchmarkReconcile(b *testing.B) {
	wd := newWorld(b)
	for range 50 {
		wd.order(b, "SKU-100", "1")
	}
	wd.settle(b)
	r, err := reconcile.New(reconcile.Config{State: wd.st, ERP: wd.e, WMS: wd.w, CRM: wd.c})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.Reconcile(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rep, err := r.Reconcile(ctx)
		if err != nil || rep.Cost.Orders != 50 || len(rep.Differences) != 0 {
			b.Fatalf("run: %v, %d orders, %d differences", err, rep.Cost.Orders, len(rep.Differences))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/50, "ns/order")
}
