//go:build !race

// Under -race the allocation counts include the detector's own.

package flow

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
)

// TestCarryNothingAllocs: carrying the extensions of an order that has
// none onto a fulfilment order or an invoice that have none copies no
// lines (on 53d5a34 each call copied them: one allocation), and the
// result equals what the copy was.
func TestCarryNothingAllocs(t *testing.T) {
	o := canonical.Order{ID: "O", Lines: []canonical.OrderLine{{ID: "L1"}, {ID: "L2"}}}
	fo := canonical.FulfillmentOrder{ID: "F", Lines: []canonical.FulfillmentLine{{ID: "F:L1", OrderLineID: "L1"}, {ID: "F:L2", OrderLineID: "L2"}}}
	inv := canonical.Invoice{ID: "I", Lines: []canonical.InvoiceLine{{ID: "1", OrderLineID: "L1"}, {ID: "2", Item: canonical.ItemRef{SKU: "FREIGHT"}}}}
	assert.Equal(t, fo, carryExtensions(fo, &o), "the fulfilment order")
	assert.Equal(t, inv, carryInvoiceExtensions(inv, &o), "the invoice")
	allocs := testing.AllocsPerRun(20, func() {
		_ = carryExtensions(fo, &o)
		_ = carryInvoiceExtensions(inv, &o)
	})
	assert.Equal(t, 0.0, allocs, "allocations per carry of no extension")
}
