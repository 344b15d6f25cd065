//go:build !race

// Under -race the allocations include the detector's own.

package erp_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/internal/memtest"
)

// TestValidateOrderBytes bounds the bytes ValidateOrder allocates for a
// one-line order: the ack it returns, not the whole judgement (1 KB)
// that its lines would otherwise point into.
func TestValidateOrderBytes(t *testing.T) {
	m := newERP(t, erp.Config{})
	o := newOrder("ORD-1", "C-1", line{"SKU-100", "3", "EA", "12.50"})
	const runs = 200
	allocated := memtest.Allocated(func() {
		for range runs {
			ack, err := m.ValidateOrder(t.Context(), &o)
			require.NoError(t, err, "ValidateOrder")
			require.Equal(t, canonical.AckAccepted, ack.Outcome, "outcome")
		}
	})
	perCall := float64(allocated) / runs
	t.Logf("%.0f bytes per ValidateOrder", perCall)
	assert.LessOrEqual(t, perCall, 512.0, "bytes per ValidateOrder of a one-line order")
}

// TestAcceptOrderRetained bounds the memory the ERP keeps per accepted
// one-line order: its record and ack, not the judgement they were made
// from.
func TestAcceptOrderRetained(t *testing.T) {
	m := newERP(t, erp.Config{})
	const orders = 2000
	os := make([]canonical.Order, orders)
	for i := range os {
		os[i] = newOrder("ORD-"+strconv.Itoa(i), "C-2", line{"SKU-100", "1", "EA", "12.50"})
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range os {
		_, err := m.AcceptOrder(t.Context(), "k"+strconv.Itoa(i), &os[i])
		require.NoError(t, err, "AcceptOrder")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perOrder := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / orders
	t.Logf("%.0f bytes kept per accepted order", perOrder)
	assert.LessOrEqual(t, perOrder, 2100.0, "bytes kept per accepted one-line order")
	runtime.KeepAlive(m)
}

// TestPostShipmentReplayBytes bounds what a replayed PostShipment (a
// retry with the same key) allocates: the invoice returned, not a copy of
// the shipment on the heap for its fingerprint (272 bytes), which
// fingerprintOf encodes in place. It measures 704 bytes per call on
// 53d5a34, 416 since.
func TestPostShipmentReplayBytes(t *testing.T) {
	m := newERP(t, erp.Config{})
	o := newOrder("ORD-1", "C-1", line{"SKU-100", "3", "EA", "12.50"})
	ack, err := m.AcceptOrder(t.Context(), "accept", &o)
	require.NoError(t, err, "AcceptOrder")
	o, err = m.GetOrder(t.Context(), o.ID)
	require.NoError(t, err, "GetOrder")
	require.NotEqual(t, canonical.AckRejected, ack.Outcome, "outcome")
	s := shipment(o, "SHP-1", "3")
	first, err := m.PostShipment(t.Context(), "post", s)
	require.NoError(t, err, "PostShipment")
	const runs = 200
	allocated := memtest.Allocated(func() {
		for range runs {
			inv, err := m.PostShipment(t.Context(), "post", s)
			require.NoError(t, err, "PostShipment replayed")
			require.Equal(t, first.Number, inv.Number, "the same invoice")
		}
	})
	perCall := float64(allocated) / runs
	t.Logf("%.0f bytes per replayed PostShipment", perCall)
	assert.LessOrEqual(t, perCall, 512.0, "bytes per replayed PostShipment")
}
