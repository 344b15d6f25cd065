package flow_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/flow"
)

// TestAvailabilityFromAllocation checks that the CRM's availability of an
// item at a warehouse follows its allocation and deallocation, which move
// no WMS inventory sequence, while the ERP's ledger (on hand) does not
// move: SKU-105 is out of stock everywhere until 2 are found at WH-EAST.
func TestAvailabilityFromAllocation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		order    string // SKU-105:QTY
		status   canonical.FulfillmentStatus
		shownNow string // CRM availability at WH-EAST once allocated
	}{
		{"allocated in full", "SKU-105:1", canonical.FulfillmentAllocated, "1"},
		{"short: part backordered", "SKU-105:3", canonical.FulfillmentBackordered, "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, nil)
			w.adjust(t, "ADJ-105", "SKU-105", "WH-EAST", "2")
			require.NoError(t, w.flow.Drain(ctx), "Drain")
			crmAt := func(what string) (string, int64) {
				t.Helper()
				v := wmsStock(t, w.wms, "SKU-105", "WH-EAST")
				a, ok := w.crm.ShownAvailability("SKU-105", "WH-EAST")
				require.True(t, ok, "CRM shows SKU-105@WH-EAST %s", what)
				assert.Equal(t, v.available.String(), a.Available.Value.String(), "CRM shows the WMS's available %s", what)
				assert.Equal(t, v.seq, a.Sequence/flow.AvailabilityStride, "WMS sequence of the CRM's availability %s", what)
				return a.Available.Value.String(), a.Sequence
			}
			shown, seq := crmAt("after the adjustment")
			require.Equal(t, "2", shown, "CRM availability after the adjustment")
			onHand := func() string {
				q, ok := w.erp.Stock("SKU-105", "WH-EAST")
				require.True(t, ok, "ERP stock of SKU-105@WH-EAST")
				return q.Value.String()
			}
			erpBefore := onHand()
			invEvents := func() int {
				return len(w.feedEvents(t, canonical.EventInventoryAdjusted)) + len(w.feedEvents(t, canonical.EventInventorySnapshot))
			}
			nInv := invEvents()

			id := w.submit(t, "ACC-0002", tc.order)
			require.NoError(t, w.flow.Drain(ctx), "Drain (release)")
			w.step(t) // allocates
			require.NoError(t, w.flow.Drain(ctx), "Drain (allocation)")
			v, err := w.flow.Where(ctx, id)
			require.NoError(t, err, "Where %s", id)
			require.Len(t, v.FulfillmentOrders, 1, "fulfilment orders")
			require.Equal(t, "WH-EAST", v.FulfillmentOrders[0].Warehouse, "warehouse")
			assert.Equal(t, tc.status, v.Status.Fulfillment, "fulfilment")
			require.Equal(t, nInv, invEvents(), "inventory events: allocation emits none")
			shown, seq2 := crmAt("once allocated")
			assert.Equal(t, tc.shownNow, shown, "CRM availability once allocated")
			assert.Greater(t, seq2, seq, "sequence of the refresh")
			assert.Equal(t, erpBefore, onHand(), "ERP on hand once allocated")

			_, err = w.crm.RequestCancellation(ctx, id, nil, "customer changed plans")
			require.NoError(t, err, "RequestCancellation %s", id)
			w.settle(t)
			require.Equal(t, nInv, invEvents(), "inventory events: cancellation emits none")
			shown, seq3 := crmAt("once cancelled")
			assert.Equal(t, "2", shown, "CRM availability once cancelled")
			assert.Greater(t, seq3, seq2, "sequence of the refresh after the cancellation")
			assert.Equal(t, erpBefore, onHand(), "ERP on hand once cancelled")
		})
	}
}
