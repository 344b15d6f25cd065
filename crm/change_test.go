package crm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

// TestPublishStatusChanges shows the per-line results of a change after
// the ERP's decision, and keeps its own copy of them.
func TestPublishStatusChanges(t *testing.T) {
	m := newCRM(t)
	o := convert(t, m)
	line := o.Lines[0].ID
	r, err := canonical.QuantityResult(line, canonical.MustParseQuantity("-5", "EA"), canonical.MustParseQuantity("-2", "EA"), canonical.ChangeReasonPicked, false)
	require.NoError(t, err)
	s := status(o.ID, 1, "changed")
	s.Changes = []canonical.ChangeResult{r, {Field: canonical.ChangeFieldShipTo, Outcome: canonical.ChangeRefused, Reason: canonical.ChangeReasonShipped}}
	require.NoError(t, m.PublishStatus(t.Context(), s))
	*s.Changes[0].Applied = canonical.MustParseQuantity("0", "EA") // the caller's copy, changed after the call

	shown, ok := m.ShownStatus(o.ID)
	require.True(t, ok)
	require.Len(t, shown.Changes, 2)
	assert.Equal(t, canonical.ChangePartiallyApplied, shown.Changes[0].Outcome)
	assert.Equal(t, "-2 EA", shown.Changes[0].Applied.String(), "the CRM keeps what was published")
	assert.Equal(t, "-3 EA", shown.Changes[0].Refused.String())
	assert.Equal(t, canonical.ChangeReasonPicked, shown.Changes[0].Reason)
	assert.Equal(t, canonical.ChangeReasonShipped, shown.Changes[1].Reason)
}
