package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/flow"
)

// BenchmarkCancelRemainder measures orders that ship in part and have
// their backordered remainder cancelled from the CRM (submitted, accepted,
// released, one line shipped and invoiced, the other cancelled in the WMS,
// the ERP and the CRM), in batches of 100 orders per iteration, on the
// in-memory systems with the memory log, without decorators or faults.
func BenchmarkCancelRemainder(b *testing.B) {
	const batch = 100
	ctx := context.Background()
	bw := newBenchWorld(b, flow.Config{}, nil)
	b.ReportAllocs()
	orders := 0
	ids := make([]string, batch)
	start := time.Now()
	for b.Loop() {
		bw.stock(b, "SKU-100", "1000", "WH-EAST")
		for i := range ids {
			ids[i] = bw.order(b, "SKU-100:3:12.50", "SKU-105:2:6.40")
		}
		bw.settle(b)
		for _, id := range ids {
			_, err := bw.crm.RequestCancellation(ctx, id, nil, "bench")
			require.NoError(b, err, "RequestCancellation %s", id)
		}
		bw.settle(b)
		orders += batch
	}
	b.ReportMetric(float64(orders)/time.Since(start).Seconds(), "orders/s")
	require.Equal(b, orders, bw.erp.Counts().Cancellations, "one ERP cancellation per order")
	require.Equal(b, orders, bw.wms.Counts().Cancellations, "one WMS cancellation per order")
}
