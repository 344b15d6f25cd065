//go:build !race

// Under -race the allocation counts include the detector's own.

package crm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// TestPublishStatusAllocs: a status that replaces the one shown for an
// order copies its lines into the replaced status's (one allocation per
// update before), and ShownStatus still returns a copy of the latest.
func TestPublishStatusAllocs(t *testing.T) {
	m := newCRM(t)
	o := convert(t, m)
	s := status(o.ID, 1, "accepted")
	s.Messages = nil
	s.Lines = []connector.LineStatus{{LineID: "L1", Ordered: canonical.MustParseQuantity("10", "EA")}}
	require.NoError(t, m.PublishStatus(t.Context(), s), "the first status")
	allocs := testing.AllocsPerRun(20, func() {
		s.Sequence++
		if err := m.PublishStatus(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 0.0, allocs, "allocations per status update")
	shown, ok := m.ShownStatus(o.ID)
	require.True(t, ok, "shown")
	assert.Equal(t, s, shown, "the latest status is shown")
	shown.Lines[0].LineID = "changed"
	again, _ := m.ShownStatus(o.ID)
	assert.Equal(t, "L1", again.Lines[0].LineID, "ShownStatus returns a copy")
}
