package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// BenchmarkReturns measures returns through the flow on the in-memory
// systems with the memory log, without decorators or faults: per
// iteration, 100 orders are shipped (untimed), then 100 returns of one
// unit each, one per order, are authorized in the CRM, registered with the
// WMS, received there (restocked) and credited in the ERP.
func BenchmarkReturns(b *testing.B) {
	const batch = 100
	ctx := context.Background()
	bw := newBenchWorld(b, flow.Config{}, nil)
	bw.stock(b, "SKU-100", "1000000", "WH-EAST")
	// ship ships a batch of new orders of 2 SKU-100, untimed.
	ship := func() []string {
		b.StopTimer()
		defer b.StartTimer()
		ids := make([]string, batch)
		for i := range ids {
			ids[i] = bw.order(b, "SKU-100:2:12.50")
		}
		bw.settle(b)
		return ids
	}
	b.ReportAllocs()
	returns := 0
	var took time.Duration
	for b.Loop() {
		orders := ship()
		start := time.Now()
		ids := make([]string, 0, batch)
		for _, id := range orders {
			r, err := bw.crm.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: id, Warehouse: "WH-EAST",
				Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("1", "EA")}}})
			require.NoError(b, err, "AuthorizeReturn")
			ids = append(ids, r.ID)
		}
		require.NoError(b, bw.flow.Drain(ctx), "Drain")
		for _, id := range ids {
			_, err := bw.wms.ReceiveReturn(ctx, id, []wms.ReturnReceipt{{LineID: "R1", Quantity: canonical.MustParseQuantity("1", "EA"),
				Condition: canonical.ConditionNew, Disposition: canonical.DispositionRestock}})
			require.NoError(b, err, "ReceiveReturn %s", id)
		}
		require.NoError(b, bw.flow.Drain(ctx), "Drain")
		took += time.Since(start)
		returns += batch
	}
	b.ReportMetric(float64(returns)/took.Seconds(), "returns/s")
	require.Equal(b, returns, bw.erp.Counts().CreditMemos, "one credit memo per return")
	dls, err := bw.flow.DeadLetters(ctx, eventlog.Filter{})
	require.NoError(b, err, "DeadLetters")
	require.Empty(b, dls, "dead letters: %v", dls)
}
