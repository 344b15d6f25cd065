package crm_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// TestReviseOrderRefused checks that a revision that is not a valid order,
// or changes what is the CRM's, is refused with CodeInvalid naming the
// field, and records nothing; an unknown order is CodeNotFound.
func TestReviseOrderRefused(t *testing.T) {
	tests := []struct {
		name   string
		order  string // "" for the converted one
		revise func(*canonical.Order) error
		code   connector.Code
		field  string
	}{
		{name: "unknown order", order: "ORD-999999", revise: func(*canonical.Order) error { return nil }, code: connector.CodeNotFound},
		{name: "revise fails", revise: func(*canonical.Order) error { return errors.New("no") }, code: connector.CodeInvalid, field: "no"},
		{name: "another ID", revise: func(o *canonical.Order) error { o.ID = "ORD-2"; return nil }, code: connector.CodeInvalid, field: "id"},
		{name: "a version", revise: func(o *canonical.Order) error { o.Version = 7; return nil }, code: connector.CodeInvalid, field: "version"},
		{name: "another customer", revise: func(o *canonical.Order) error { o.SoldTo.ID = "C-2"; return nil }, code: connector.CodeInvalid, field: "soldTo.id"},
		{name: "another currency", revise: func(o *canonical.Order) error { o.Currency = "EUR"; return nil }, code: connector.CodeInvalid, field: "currency"},
		{name: "a zero quantity", revise: func(o *canonical.Order) error {
			o.Lines[0].Quantity = canonical.MustParseQuantity("0", "EA")
			return nil
		}, code: connector.CodeInvalid, field: "lines[0].quantity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newCRM(t)
			o := convert(t, m)
			id := o.ID
			if tt.order != "" {
				id = tt.order
			}
			_, err := m.ReviseOrder(t.Context(), id, tt.revise)
			require.Error(t, err, "ReviseOrder %s", tt.name)
			assert.Equal(t, tt.code, connector.CodeOf(err), "code of %v", err)
			assert.Contains(t, err.Error(), tt.field, "error names the field")
			got, ok := m.Order(o.ID)
			require.True(t, ok)
			assert.Equal(t, int64(1), got.Version, "nothing recorded")
			page, err := m.PollOrders(t.Context(), "", 10)
			require.NoError(t, err)
			assert.Len(t, page.Events, 1, "only the submission on the feed")
		})
	}
}
