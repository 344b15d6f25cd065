package flow

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestCarryExtensions(t *testing.T) {
	o := canonical.Order{ID: "O", Extensions: canonical.Extensions{{Name: "crm:a", Type: canonical.ExtString, Value: "order"}, {Name: "crm:b", Type: canonical.ExtString, Value: "order"}},
		Lines: []canonical.OrderLine{{ID: "L1", Extensions: canonical.Extensions{{Name: "crm:l", Type: canonical.ExtBool, Value: "true"}}}, {ID: "L2"}}}
	fo := canonical.FulfillmentOrder{ID: "F", Extensions: canonical.Extensions{{Name: "crm:b", Type: canonical.ExtString, Value: "sourcer"}},
		Lines: []canonical.FulfillmentLine{{ID: "F:L1", OrderLineID: "L1"}, {ID: "F:L2", OrderLineID: "L2"}, {ID: "F:X", OrderLineID: "X"}}}
	lines := fo.Lines
	got := carryExtensions(fo, &o)
	assert.Equal(t, canonical.Extensions{{Name: "crm:a", Type: canonical.ExtString, Value: "order"}, {Name: "crm:b", Type: canonical.ExtString, Value: "sourcer"}}, got.Extensions, "the sourcer's own wins")
	assert.Equal(t, o.Lines[0].Extensions, got.Lines[0].Extensions)
	assert.Nil(t, got.Lines[1].Extensions)
	assert.Nil(t, got.Lines[2].Extensions)
	assert.Nil(t, lines[0].Extensions, "the sourcer's lines are not changed")
	got.Lines[0].Extensions[0].Value = "false"
	assert.Equal(t, "true", o.Lines[0].Extensions[0].Value, "nothing shared with the order")
}

// TestStateKeepsExtensions checks that the stored state of an order keeps
// the extensions of the order, its releases and its invoices.
func TestStateKeepsExtensions(t *testing.T) {
	x := canonical.Extensions{{Name: "crm:costCentre", Type: canonical.ExtString, Value: "CC-12"}}
	st := &orderState{order: canonical.Order{ID: "ORD-000001", Extensions: x, Lines: []canonical.OrderLine{{ID: "L1", Extensions: x}}},
		phase: phaseReleased}
	st.released = map[string]canonical.FulfillmentOrder{"F": {ID: "F", Extensions: x, Lines: []canonical.FulfillmentLine{{ID: "F:L1", Extensions: x}}}}
	st.invoices = map[string]canonical.Invoice{"S": {ID: "I", Extensions: x, Lines: []canonical.InvoiceLine{{ID: "1", Extensions: x}}}}
	st.ships = []canonical.Shipment{{ID: "S", Extensions: x}}
	st.invOrder = []string{"S"}
	b, err := encodeState(st)
	require.NoError(t, err)
	back, err := decodeState("ORD-000001", b)
	require.NoError(t, err, "%s", b)
	assert.Equal(t, x, back.order.Extensions)
	assert.Equal(t, x, back.order.Lines[0].Extensions)
	assert.Equal(t, x, back.released["F"].Extensions)
	assert.Equal(t, x, back.released["F"].Lines[0].Extensions)
	assert.Equal(t, x, back.invoices["S"].Extensions)
	assert.Equal(t, x, back.invoices["S"].Lines[0].Extensions)
	assert.Equal(t, x, back.ships[0].Extensions)
}

func TestCarryInvoiceExtensions(t *testing.T) {
	x := canonical.Extensions{{Name: "crm:a", Type: canonical.ExtString, Value: "order"}}
	o := canonical.Order{ID: "O", Extensions: x, Lines: []canonical.OrderLine{{ID: "L1", Extensions: x}}}
	erpOwn := canonical.Extensions{{Name: "crm:a", Type: canonical.ExtString, Value: "erp"}}
	inv := canonical.Invoice{ID: "I", Lines: []canonical.InvoiceLine{{ID: "1", OrderLineID: "L1"}, {ID: "2", OrderLineID: "L1", Extensions: erpOwn}, {ID: "3"}}}
	got := carryInvoiceExtensions(inv, &o)
	assert.Equal(t, x, got.Extensions)
	assert.Equal(t, x, got.Lines[0].Extensions)
	assert.Equal(t, erpOwn, got.Lines[1].Extensions, "the ERP's own wins")
	assert.Nil(t, got.Lines[2].Extensions, "a line for no order line")
	assert.Nil(t, inv.Lines[0].Extensions, "the ERP's invoice is not changed")
}
