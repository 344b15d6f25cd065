package ackoutcome_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp/internal/ackoutcome"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		doc                      bool
		lines, rejected, changed int
		held                     bool
		want                     canonical.AckOutcome
	}{
		{"all accepted", false, 3, 0, 0, false, canonical.AckAccepted},
		{"document rejected", true, 3, 0, 0, false, canonical.AckRejected},
		{"every line rejected", false, 2, 2, 0, true, canonical.AckRejected},
		{"held", false, 2, 1, 1, true, canonical.AckOnHold},
		{"one line rejected", false, 2, 1, 0, false, canonical.AckAcceptedWithChanges},
		{"one line changed", false, 2, 0, 1, false, canonical.AckAcceptedWithChanges},
		{"no lines", false, 0, 0, 0, false, canonical.AckAccepted},
	} {
		assert.Equal(t, tc.want, ackoutcome.Of(tc.doc, tc.lines, tc.rejected, tc.changed, tc.held), tc.name)
	}
}
