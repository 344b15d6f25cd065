package flow_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
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
	ctx := context.Background()
	base := heap()
	accounts := erp.DemoAccounts()
	for i := range accounts {
		accounts[i].Customer.CreditLimit = nil
	}
	e, err := erp.New(erp.Config{Accounts: accounts})
	require.NoError(t, err, "erp.New")
	shift := max(0, erp.DemoEpoch().Add(time.Minute).Sub(time.Now()))
	w, err := wms.New(wms.Config{Clock: func() time.Time { return time.Now().Add(shift) }})
	require.NoError(t, err, "wms.New")
	c, err := crm.New(crm.Config{})
	require.NoError(t, err, "crm.New")
	// The log drops what the flow's consumer group committed.
	log := eventlog.NewMemory(eventlog.MemoryConfig{TrimGroups: []string{flow.DefaultGroup}})
	f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: log, PollInterval: time.Millisecond})
	require.NoError(t, err, "flow.New")
	for done := 0; done < n; {
		for _, wh := range []string{"WH-EAST", "WH-SOUTH", "WH-WEST"} {
			// Drain takes no bubble time: the ID must not depend on the clock.
			_, err := w.Adjust(ctx, canonical.InventoryAdjustment{ID: "M" + wh + strconv.Itoa(done), Item: canonical.ItemRef{SKU: "SKU-100"},
				Location: wh, Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1000", "EA"),
				Reason: canonical.AdjustFound, AdjustedAt: time.Now().Add(shift)})
			require.NoError(t, err, "Adjust")
		}
		for range min(100, n-done) {
			opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{SKU: "SKU-100",
				Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
			require.NoError(t, err, "OpenOpportunity")
			_, err = c.ConvertOpportunity(ctx, opp.ID)
			require.NoError(t, err, "ConvertOpportunity")
			done++
		}
		for {
			require.NoError(t, f.Drain(ctx), "Drain")
			k, err := w.Step(ctx)
			require.NoError(t, err, "Step")
			if k == 0 {
				break
			}
		}
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
