//go:build !race

// Under -race the allocations include the detector's own.

package flow_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/internal/memtest"
)

// TestBytesPerOrder bounds the bytes allocated per order of
// BenchmarkOrderToCash's world (the in-memory systems and log, batches of
// 100 orders from the CRM to the invoice) under issue 18's target, 40 KB:
// it measures 46.7 KB on bbaa7a2, 37.5-37.7 KB on 53d5a34, 35.9-36.0 KB
// since s8-bytes and 34.7-34.9 KB since the flow's own order.accepted is
// no longer decoded again (routeAccepted) (BenchmarkOrderToCash reports
// more: its log and heap are larger). The bound leaves 0.8 KB for noise.
func TestBytesPerOrder(t *testing.T) {
	bw := newBenchWorld(t, flow.Config{}, nil)
	batch := func() {
		bw.stock(t, "SKU-100", "1000", "WH-EAST", "WH-SOUTH", "WH-WEST")
		for range 100 {
			bw.order(t, "SKU-100:3:12.50")
		}
		bw.settle(t)
	}
	batch() // the pools and the systems' maps warm up
	const batches = 3
	allocated := memtest.Allocated(func() {
		for range batches {
			batch()
		}
	})
	require.Equal(t, 100*(1+batches), bw.erp.Counts().Invoices, "one invoice per order")
	perOrder := float64(allocated) / (100 * batches)
	t.Logf("%.0f bytes per order", perOrder)
	assert.LessOrEqual(t, perOrder, 35_700.0, "bytes per order, "+strconv.Itoa(100*batches)+" orders")
}
