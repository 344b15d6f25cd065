package flow_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/flow"
)

// BenchmarkOrderToCash measures orders through the whole flow (submitted in
// the CRM, accepted, released, shipped, invoiced, shown) on the in-memory
// systems with the memory log, in batches of 100 orders per iteration,
// without decorators or faults. Besides orders/s (wall time) it reports the
// CPU time of the whole process per order (cpu-ns/order: on a shared
// machine it says more than the wall time) and the bytes and allocations
// per order.
func BenchmarkOrderToCash(b *testing.B) {
	newBenchWorld(b, flow.Config{}, nil).orderToCash(b)
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

// BenchmarkOrderToCashRunning is BenchmarkOrderToCash with the flow running
// as a service runs it (Run, polling its sources every 100 µs) while the
// benchmark opens batches of 100 orders and steps the warehouses, at most
// two batches ahead of the invoices: no Drain ends between the steps of
// the orders, waiting for the slowest of them.
func BenchmarkOrderToCashRunning(b *testing.B) {
	const batch = 100
	bw := newBenchWorld(b, flow.Config{}, nil)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- bw.flow.Run(ctx) }()
	b.ReportAllocs()
	orders := 0
	m := startMeter()
	for b.Loop() {
		bw.openBatch(b, batch)
		orders += batch
		bw.stepUntil(b, orders-2*batch, done)
	}
	bw.stepUntil(b, orders, done)
	m.report(b, orders, "order")
	stop()
	require.ErrorIs(b, <-done, context.Canceled, "Run ends with the cancellation")
	require.Equal(b, orders, bw.erp.Counts().Invoices, "one invoice per order")
}

// stepUntil steps the warehouses of bw's running flow until the ERP has
// invoiced n orders, sleeping briefly when they have nothing to do. It
// fails when the flow's Run ended (done gives its error) or no order is
// invoiced for 30 s.
func (bw *benchWorld) stepUntil(tb testing.TB, n int, done <-chan error) {
	tb.Helper()
	last, since := -1, time.Now()
	for {
		got := bw.erp.Counts().Invoices
		if got >= n {
			return
		}
		select {
		case err := <-done:
			tb.Fatalf("Run ended with %d of %d orders invoiced: %v", got, n, err)
		default:
		}
		if got != last {
			last, since = got, time.Now()
		} else if time.Since(since) > 30*time.Second {
			tb.Fatalf("%d of %d orders invoiced, none for 30 s", got, n)
		}
		k, err := bw.wms.Step(context.Background())
		require.NoError(tb, err, "Step")
		if k == 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
}
