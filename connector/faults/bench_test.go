package faults_test

import (
	"context"
	"testing"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/connector/internal/memfake"
)

// BenchmarkInjector measures a call through a wrapper that injects
// nothing (the cost of the draw under the lock) and a feed poll through a
// wrapper that duplicates and reorders pages.
func BenchmarkInjector(b *testing.B) {
	ctx := context.Background()
	erp := memfake.NewERP()
	o := memfake.SampleOrder(1)
	if _, err := erp.AcceptOrder(ctx, "k", &o); err != nil {
		b.Fatal(err)
	}
	quiet, err := faults.WrapERP(erp, faults.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		erp  connector.ERP
	}{{"bare", erp}, {"faults", quiet}} {
		b.Run(c.name+"/GetOrder", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.erp.GetOrder(ctx, o.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/GetOrder/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.erp.GetOrder(ctx, o.ID); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}

	wms := memfake.NewWMS()
	for i := range 100 {
		if _, err := wms.Release(ctx, memfake.SampleFulfillmentOrder(i)); err != nil {
			b.Fatal(err)
		}
	}
	noisy, err := faults.WrapWMS(wms, faults.Config{Seed: 1, Reorder: 1, Duplicate: 0.5})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		wms  connector.WMS
	}{{"bare", wms}, {"faults", noisy}} {
		b.Run(c.name+"/PollEvents100", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := c.wms.PollEvents(ctx, "", 100)
				if err != nil || len(p.Events) != 100 {
					b.Fatal(len(p.Events), err)
				}
			}
		})
	}
}
