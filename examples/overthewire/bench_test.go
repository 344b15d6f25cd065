package main

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/examples/internal/o2c"
	"github.com/distsync/distsync/wms"
)

// BenchmarkOrderToCash runs order-to-cash over loopback HTTP through the
// three connectors and emulators (Salesforce, SAP or Dynamics 365, ShipBob
// holding every warehouse), with 8 flow workers, without faults or outage: each op
// submits a batch of orders in the CRM (one to three lines, one SKU each)
// and settles them (accepted in SAP, released to ShipBob, shipped,
// posted and invoiced in SAP, the status shown in Salesforce at each
// step). It reports orders/s and the HTTP requests per order each
// emulator answered; -v logs them per operation.
func BenchmarkOrderToCash(b *testing.B) {
	for _, erp := range []string{"sap", "d365"} {
		b.Run("erp="+erp, func(b *testing.B) {
			benchOrderToCash(b, erp, 8)
		})
	}
}

func benchOrderToCash(b *testing.B, erp string, workers int) {
	const batch = 100
	w, err := newWorld(config{seed: 1, workers: workers, erp: erp, noOutage: true})
	if err != nil {
		b.Fatal(err)
	}
	defer w.close()
	ctx := context.Background()
	// Stock for every order: none is backordered.
	for _, loc := range wms.DemoWarehouses() {
		for i, it := range wms.DemoItems() {
			if _, err := w.wms.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprintf("ADJ-BENCH-%s-%d", loc.ID, i), Item: canonical.ItemRef{SKU: it.SKU},
				Location: loc.ID, Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("100000000", "EA"),
				Reason: canonical.AdjustFound, AdjustedAt: w.clk.Now()}); err != nil {
				b.Fatal(err)
			}
		}
	}
	ow := w.o2c()
	skus := []string{"SKU-100", "SKU-101", "SKU-102", "SKU-104", "SKU-105"}
	before, cpu0 := w.requests(), cpuTime()
	orders := 0
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		for i := range batch {
			n := orders + i
			lines := []string{fmt.Sprintf("%s:%d", skus[n%len(skus)], 1+n%5)}
			if n%3 == 1 {
				lines = append(lines, fmt.Sprintf("%s:2", skus[(n+1)%len(skus)]))
			}
			if _, err := o2c.Submit(ctx, w.crm, []string{"ACC-0001", "ACC-0002"}[n%2], lines...); err != nil {
				b.Fatal(err)
			}
		}
		if err := o2c.Settle(ctx, ow); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		orders += batch
	}
	after, cpu := w.requests(), cpuTime()-cpu0
	var total int64
	for sys, ops := range after {
		var n int64
		for op, c := range ops {
			d := c - before[sys][op]
			n += d
			b.Logf("%s %s: %.2f per order", sys, op, float64(d)/float64(orders))
		}
		total += n
		b.ReportMetric(float64(n)/float64(orders), sys+"-calls/order")
	}
	b.ReportMetric(float64(total)/float64(orders), "calls/order")
	var conns int64
	for _, s := range w.systems {
		conns += s.conns.Load()
	}
	b.ReportMetric(float64(conns)/float64(orders), "conns/order")
	b.ReportMetric(float64(orders)/elapsed.Seconds(), "orders/s")
	// The process's CPU time per order (client, flow and emulators): on a
	// machine shared with other work, orders/s says how much CPU the run
	// got, this what an order costs.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(orders), "cpu-ms/order")
	if b.N > 0 {
		// Every order shipped and was invoiced once.
		c := w.erp.Counts()
		if c.Invoices != orders {
			b.Errorf("%d invoices for %d orders", c.Invoices, orders)
		}
	}
}

// cpuTime returns the CPU time (user and system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// requests returns the requests each emulator answered, per operation.
func (w *world) requests() map[string]map[string]int64 {
	m := map[string]map[string]int64{}
	for _, s := range w.systems {
		m[s.name] = s.requests()
	}
	return m
}
