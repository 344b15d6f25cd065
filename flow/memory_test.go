package flow_test

import (
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// heap returns the bytes of live heap objects after a full collection,
// once every other goroutine of the synctest bubble has ended or blocks.
func heap() uint64 {
	synctest.Wait()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// heldAfter runs n orders to completion through a flow with its default
// state (Config.State nil) on the in-memory systems and memory log, then,
// when forget is set, lets DefaultStateRetention pass. It returns the
// bytes the flow holds (the heap with the flow, less the heap once the
// flow is dropped while the systems and the log are kept) and the bytes
// the whole run holds (systems and log included).
func heldAfter(t *testing.T, n int, forget bool) (flowBytes, total uint64) {
	base := heap()
	shift := max(0, time.Until(erp.DemoEpoch().Add(time.Minute)))
	// The log drops what the flow's consumer group committed.
	log := eventlog.NewMemory(eventlog.MemoryConfig{TrimGroups: []string{flow.DefaultGroup}})
	bw := newBenchWorld(t, flow.Config{Log: log, PollInterval: time.Millisecond}, func() time.Time { return time.Now().Add(shift) })
	e, w, c, f := bw.erp, bw.wms, bw.crm, bw.flow
	for done := 0; done < n; {
		bw.stock(t, "SKU-100", "1000", "WH-EAST", "WH-SOUTH", "WH-WEST")
		for range min(100, n-done) {
			bw.order(t, "SKU-100:3:12.50")
			done++
		}
		bw.settle(t)
	}
	require.Equal(t, n, e.Counts().Invoices, "one invoice per order")
	if forget {
		time.Sleep(flow.DefaultStateRetention + time.Minute)
		assert.Empty(t, f.Orders(), "orders kept after the retention")
	}
	with := heap()
	runtime.KeepAlive(f)
	without := heap()
	runtime.KeepAlive(log)
	runtime.KeepAlive(e)
	runtime.KeepAlive(w)
	runtime.KeepAlive(c)
	return with - min(with, without), with - min(with, base)
}

// TestMemoryPerCompletedOrder reports the bytes held per completed order
// in the in-memory run and checks that the flow's share is bounded:
// completed orders leave the flow's memory for its MemoryState, which
// holds them encoded (a few KB each) until DefaultStateRetention has
// passed, and then nothing is left of them but a constant.
func TestMemoryPerCompletedOrder(t *testing.T) {
	const small, large = 200, 800
	synctest.Test(t, func(t *testing.T) {
		type figure struct{ flow, total uint64 }
		got := map[bool][2]figure{}
		for _, forget := range []bool{false, true} {
			var fs [2]figure
			for i, n := range []int{small, large} {
				fs[i].flow, fs[i].total = heldAfter(t, n, forget)
			}
			got[forget] = fs
			perOrder := float64(int64(fs[1].flow)-int64(fs[0].flow)) / (large - small)
			t.Logf("retention passed %v: flow holds %d B after %d orders, %d B after %d (%.0f B per more order); "+
				"the whole run (systems and memory log included) %.0f B per order",
				forget, fs[0].flow, small, fs[1].flow, large, perOrder, float64(fs[1].total)/large)
		}
		kept, forgot := got[false], got[true]
		assert.Less(t, kept[1].flow, uint64(large*16<<10), "flow bytes for %d orders kept encoded: under 16 KiB each", large)
		assert.Greater(t, kept[1].flow, kept[0].flow, "orders within the retention are kept encoded")
		assert.Less(t, forgot[1].flow, uint64(256<<10), "flow bytes after the retention do not grow with orders (%d)", large)
		assert.Less(t, float64(forgot[1].flow), float64(forgot[0].flow)+float64(large-small)*64,
			"flow bytes after the retention: under 64 B per more order")
	})
}
