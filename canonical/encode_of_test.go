package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// encodeOfCase checks that AppendEncodeOf appends AppendEncode's bytes for
// the document of JSON data, after the buffer's bytes.
func encodeOfCase[D canonical.Document](t *testing.T, name, data string) {
	t.Helper()
	var d D
	require.NoError(t, json.Unmarshal([]byte(data), &d), "%s: the document", name)
	want, err := canonical.AppendEncode([]byte("x"), d)
	require.NoError(t, err, "%s: AppendEncode", name)
	got, err := canonical.AppendEncodeOf([]byte("x"), &d)
	require.NoError(t, err, "%s: AppendEncodeOf", name)
	assert.Equal(t, string(want), string(got), "%s: the bytes", name)
}

// TestAppendEncodeOf: AppendEncodeOf appends the bytes AppendEncode does
// (json.Marshal's), for a document encoded without reflection, one
// encoded by encoding/json and a nil pointer, and encodes a document in
// place: the shipment here is not copied to the heap, which
// AppendEncode(b, s) does (1 allocation, 272 bytes).
func TestAppendEncodeOf(t *testing.T) {
	encodeOfCase[canonical.Shipment](t, "shipment", benchDocuments["shipment"])
	encodeOfCase[canonical.FulfillmentOrder](t, "fulfilment order", benchDocuments["fulfillment-order"])
	encodeOfCase[canonical.AllocationUpdate](t, "allocation", benchDocuments["allocation"])
	encodeOfCase[canonical.InventoryAdjustment](t, "adjustment", benchDocuments["adjustment"])
	encodeOfCase[canonical.InventoryPosition](t, "position", benchDocuments["position"])
	encodeOfCase[canonical.Return](t, "return", `{"id":"R-1","orderId":"O-1","lines":[{"id":"RL-1","orderLineId":"L-1","item":{"sku":"SKU-1"},"quantity":{"value":"1","unit":"EA"}}]}`)
	got, err := canonical.AppendEncodeOf([]byte("x"), (*canonical.Order)(nil))
	require.NoError(t, err, "nil order")
	assert.Equal(t, "xnull", string(got), "a nil order")

	if raceEnabled {
		t.Skip("allocation counts are not the code's under the race detector; run without -race")
	}
	var s canonical.Shipment
	require.NoError(t, json.Unmarshal([]byte(benchDocuments["shipment"]), &s), "the shipment")
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(20, func() {
		var err error
		if buf, err = canonical.AppendEncodeOf(buf[:0], &s); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 0.0, allocs, "allocations per AppendEncodeOf of a shipment")
}
