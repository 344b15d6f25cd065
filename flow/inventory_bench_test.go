package flow_test

import (
	"context"
	"fmt"
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

// BenchmarkInventorySync measures WMS adjustments through the flow to the
// ERP and the CRM on the in-memory systems with the memory log, without
// decorators or faults: each iteration adjusts a batch and drains. With
// one event per key every event is pushed; with a burst on one key the
// batch is coalesced into one push. It reports events/s (wall time) and
// CPU nanoseconds, bytes and allocations per event.
func BenchmarkInventorySync(b *testing.B) {
	skus := []string{"SKU-100", "SKU-101", "SKU-102", "SKU-103", "SKU-104", "SKU-105"}
	whs := []string{"WH-EAST", "WH-SOUTH", "WH-WEST"}
	for _, bc := range []struct {
		name string
		keys int // the batch is 18 events over that many keys
	}{{"18 keys", 18}, {"burst on 1 key", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			e, err := erp.New(erp.Config{})
			require.NoError(b, err, "erp.New")
			w, err := wms.New(wms.Config{Clock: time.Now})
			require.NoError(b, err, "wms.New")
			c, err := crm.New(crm.Config{})
			require.NoError(b, err, "crm.New")
			f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
				PollInterval: 100 * time.Microsecond})
			require.NoError(b, err, "flow.New")
			b.ReportAllocs()
			n := 0
			m := startMeter()
			for b.Loop() {
				for i := range 18 {
					k := i % bc.keys
					n++
					_, err := w.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprint("B", n), Item: canonical.ItemRef{SKU: skus[k/3]},
						Location: whs[k%3], Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1", "EA"),
						Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
					require.NoError(b, err, "Adjust")
				}
				require.NoError(b, f.Drain(ctx), "Drain")
			}
			m.report(b, n, "event")
			seq, ok := f.InventorySeq("SKU-100", "WH-EAST")
			require.True(b, ok, "SKU-100@WH-EAST pushed")
			require.Equal(b, int64(n/bc.keys), seq, "the last event of SKU-100@WH-EAST is pushed")
		})
	}
}
