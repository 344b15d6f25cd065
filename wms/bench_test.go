package wms_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/wms"
)

// benchWorld has three warehouses with 10 SKUs each, none of which can
// fill a 10-line order alone.
func benchWorld(strategy wms.Strategy) wms.Config {
	cfg := testWorld(strategy)
	cfg.Items, cfg.Stock = nil, nil
	for i := range 10 {
		sku := fmt.Sprintf("SKU-%d", i)
		cfg.Items = append(cfg.Items, canonical.Item{SKU: sku, BaseUnit: "EA"})
		for j, wh := range []string{"WH-A", "WH-B", "WH-C"} {
			cfg.Stock = append(cfg.Stock, wms.Stock{Warehouse: wh, SKU: sku, Quantity: canonical.DecimalFromInt(int64(1_000_000 * (1 + (i+j)%3)))})
		}
	}
	return cfg
}

func benchOrder() canonical.Order {
	var lines []line
	for i := range 10 {
		lines = append(lines, line{fmt.Sprintf("SKU-%d", i), "1500000"})
	}
	return testOrder("TX", lines...)
}

// BenchmarkPlan sources a 10-line order over 3 warehouses.
func BenchmarkPlan(b *testing.B) {
	for _, s := range []wms.Strategy{wms.StrategyNearest, wms.StrategyFillFromOne, wms.StrategySplit} {
		b.Run(s.String(), func(b *testing.B) {
			m := newSim(b, benchWorld(s))
			o := benchOrder()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Plan(ctx, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReleaseAndStep releases a 10-line fulfilment order and steps
// the warehouse once. In the steady state each step allocates the new
// order, picks the previous one and ships the one before that, so an
// iteration is the whole pipeline of one order: four events, each
// document validated and encoded as JSON, and ten packages with SSCCs.
func BenchmarkReleaseAndStep(b *testing.B) {
	ctx := context.Background()
	var lines []line
	for i := range 10 {
		lines = append(lines, line{fmt.Sprintf("SKU-%d", i), "3"})
	}
	m := newSim(b, benchWorld(wms.StrategyNearest))
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		if _, err := m.Release(ctx, makeFO(fmt.Sprintf("FO-%d", n), "WH-B", lines...)); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Step(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPollEvents reads a page of 100 events, from goroutines in
// parallel.
func BenchmarkPollEvents(b *testing.B) {
	m := newSim(b, wms.Config{})
	for i := range 200 {
		release(b, m, makeFO(fmt.Sprintf("FO-%d", i), "WH-EAST", line{"SKU-104", "1"}))
	}
	step(b, m, 3)
	cur := wms.FormatCursor(100)
	b.Run("serial", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			p, err := m.PollEvents(ctx, cur, 100)
			if err != nil || len(p.Events) != 100 {
				b.Fatal(len(p.Events), err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				p, err := m.PollEvents(ctx, cur, 100)
				if err != nil || len(p.Events) != 100 {
					b.Error(len(p.Events), err)
					return
				}
			}
		})
	})
}
