package flow_test

import (
	"runtime"
	"syscall"
	"testing"
	"time"

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
