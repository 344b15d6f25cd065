package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestDecodeDataAllocs: DecodeData decodes a document the generated
// decoders read in a value of its own frame: an inventory position, which
// has no list, costs one allocation, the copy of the data its strings
// share (the document itself was moved to the heap too before, because
// the encoding/json fallback took its address).
func TestDecodeDataAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not the code's under the race detector; run without -race")
	}
	var pos canonical.InventoryPosition
	require.NoError(t, json.Unmarshal([]byte(benchDocuments["position"]), &pos), "the position")
	ev, err := canonical.NewEvent(canonical.EventInventorySnapshot, pos)
	require.NoError(t, err, "NewEvent")
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := canonical.DecodeData[canonical.InventoryPosition](ev); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 1.0, allocs, "allocations per DecodeData of a position")
}
