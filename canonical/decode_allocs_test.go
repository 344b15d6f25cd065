package canonical_test

import (
	"encoding/json"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/internal/memtest"
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

// TestDecodeDataStringBytes: the strings of a decoded document share an
// arena that holds their bytes only, not a copy of the whole data (keys,
// numbers, times and punctuation, which the strings of a canonical document
// are a third of): decoding a 3-line order allocates less than its data's
// size and its lines (before: the data's size and more).
func TestDecodeDataStringBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are not the code's under the race detector; run without -race")
	}
	ev, err := canonical.NewEvent(canonical.EventOrderSubmitted, sampleOrder(3))
	require.NoError(t, err, "NewEvent")
	decode := func() {
		if _, err := canonical.DecodeData[canonical.Order](ev); err != nil {
			t.Fatal(err)
		}
	}
	decode()
	const runs = 50
	allocated := memtest.Allocated(func() {
		for range runs {
			decode()
		}
	})
	perDecode := int(allocated) / runs
	lines := 3 * int(unsafe.Sizeof(canonical.OrderLine{}))
	t.Logf("%d bytes per decode of a %d-byte order, %d of them its lines", perDecode, len(ev.Data), lines)
	assert.Less(t, perDecode-lines, len(ev.Data), "bytes per decode of a 3-line order, besides its lines")
}
