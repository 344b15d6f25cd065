//go:build !race

// Under -race the allocations include the detector's own.

package crm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/memtest"
)

// TestConvertBytesPerOrder bounds what converting an opportunity allocates
// once the feed holds full chunks: the order kept, its event on the feed
// (the feed keeps 136 of the event's 264 bytes since s8-bytes) and the
// copy returned. It measures 2,979-2,988 bytes per order on 53d5a34, when
// the feed kept whole events, 2,855-2,861 since.
func TestConvertBytesPerOrder(t *testing.T) {
	m := newCRM(t)
	const n = 1024
	for range n { // the first chunk of the feed, which grows as a slice does
		convert(t, m)
	}
	ids := make([]string, n)
	for i := range ids {
		o, err := m.OpenOpportunity(t.Context(), opp("ACC-0001"))
		require.NoError(t, err)
		ids[i] = o.ID
	}
	allocated := memtest.Allocated(func() {
		for _, id := range ids {
			_, err := m.ConvertOpportunity(t.Context(), id)
			require.NoError(t, err)
		}
	})
	perOrder := float64(allocated) / n
	t.Logf("%.0f bytes per order", perOrder)
	assert.LessOrEqual(t, perOrder, 2_920.0, "bytes per order, %d orders", n)
}
