//go:build !race

// Under -race the allocation counts include the detector's own.

package flow

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncodeStateAllocs: encoding an order's state, as every save and every
// compaction does, allocates its result and the record's list of shipped
// shipments only; the record, the documents copied out of its maps and the
// sorting of their keys cost none (they cost 22 allocations for the
// split-shipped seed before).
func TestEncodeStateAllocs(t *testing.T) {
	st, err := decodeState("ORD-000001", seedState(t))
	require.NoError(t, err, "decode the seed")
	require.Len(t, st.released, 2, "the seed has two fulfilment orders: its maps are sorted")
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := encodeState(st); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 2.0, allocs, "allocations per encodeState of the split-shipped seed")
}
