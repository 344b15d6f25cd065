package flow_test

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// BenchmarkOrderToCash measures orders through the whole flow (submitted in
// the CRM, accepted, released, shipped, invoiced, shown) on the in-memory
// systems with the memory log, in batches of 100 orders per iteration,
// without decorators or faults. Besides orders/s (wall time) it reports the
// CPU time of the whole process per order (cpu-ns/order: on a shared
// machine it says more than the wall time) and the bytes and allocations
// per order.
func BenchmarkOrderToCash(b *testing.B) {
	const batch = 100
	ctx := context.Background()
	accounts := erp.DemoAccounts()
	for i := range accounts {
		accounts[i].Customer.CreditLimit = nil
	}
	e, err := erp.New(erp.Config{Accounts: accounts})
	require.NoError(b, err, "erp.New")
	w, err := wms.New(wms.Config{})
	require.NoError(b, err, "wms.New")
	c, err := crm.New(crm.Config{})
	require.NoError(b, err, "crm.New")
	f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		PollInterval: 100 * time.Microsecond})
	require.NoError(b, err, "flow.New")
	b.ReportAllocs()
	adj := 0
	orders := 0
	m := startMeter()
	for b.Loop() {
		for _, wh := range []string{"WH-EAST", "WH-SOUTH", "WH-WEST"} {
			adj++
			_, err := w.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprint("B", adj), Item: canonical.ItemRef{SKU: "SKU-100"},
				Location: wh, Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1000", "EA"),
				Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
			require.NoError(b, err, "Adjust")
		}
		for range batch {
			opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{SKU: "SKU-100",
				Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
			require.NoError(b, err, "OpenOpportunity")
			_, err = c.ConvertOpportunity(ctx, opp.ID)
			require.NoError(b, err, "ConvertOpportunity")
		}
		for {
			require.NoError(b, f.Drain(ctx), "Drain")
			n, err := w.Step(ctx)
			require.NoError(b, err, "Step")
			if n == 0 {
				break
			}
		}
		orders += batch
	}
	m.report(b, orders, "order")
	require.Equal(b, orders, e.Counts().Invoices, "one invoice per order")
}

// meter measures wall time, process CPU time and allocations from its start.
type meter struct {
	start time.Time
	cpu   time.Duration
	mem   runtime.MemStats
}

func startMeter() *meter {
	m := &meter{start: time.Now(), cpu: cpuTime()}
	runtime.ReadMemStats(&m.mem)
	return m
}

// report reports n units (orders, events) per second, and CPU
// nanoseconds, bytes and allocations per unit.
func (m *meter) report(b *testing.B, n int, unit string) {
	if n == 0 {
		return
	}
	wall, cpu := time.Since(m.start), cpuTime()-m.cpu
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(n)/wall.Seconds(), unit+"s/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/"+unit)
	b.ReportMetric(float64(ms.TotalAlloc-m.mem.TotalAlloc)/float64(n), "B/"+unit)
	b.ReportMetric(float64(ms.Mallocs-m.mem.Mallocs)/float64(n), "allocs/"+unit)
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
