package canonical_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestAppendEncode checks that AppendEncode appends Encode's bytes after
// what the buffer holds, for each kind of document and a nil one, and
// returns nil on an encoding error.
func TestAppendEncode(t *testing.T) {
	at := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	q := canonical.MustParseQuantity("3", "EA")
	for _, doc := range []canonical.Document{
		canonical.Order{ID: "O-1", Currency: "USD", OrderedAt: at, Lines: []canonical.OrderLine{{ID: "L1", Quantity: q}}},
		&canonical.FulfillmentOrder{ID: "FO-1", OrderID: "O-1", Lines: []canonical.FulfillmentLine{{ID: "FL-1", Quantity: q}}},
		canonical.AllocationUpdate{FulfillmentOrderID: "FO-1", AsOf: at},
		&canonical.Shipment{ID: "S-1", ShippedAt: at, TrackingNumbers: []string{"1Z<&>"}},
		canonical.Invoice{ID: "I-1", InvoiceDate: at},
		canonical.InventoryAdjustment{ID: "A-1", Delta: q, AdjustedAt: at},
		&canonical.InventoryPosition{Kind: canonical.QuantityDelta, AsOf: at},
		canonical.Customer{ID: "C-1"},
		(*canonical.Order)(nil),
	} {
		want, err := canonical.Encode(doc)
		require.NoError(t, err, "Encode %T", doc)
		got, err := canonical.AppendEncode([]byte("prefix:"), doc)
		require.NoError(t, err, "AppendEncode %T", doc)
		assert.Equal(t, "prefix:"+string(want), string(got), "AppendEncode %T appends Encode's bytes", doc)
	}
	got, err := canonical.AppendEncode([]byte("prefix:"), canonical.Shipment{ShippedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	assert.Error(t, err, "a year past 9999 fails")
	assert.Nil(t, got, "and returns nil")
}
