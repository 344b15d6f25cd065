package flow_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
)

// TestExtensionsReachReleaseAndInvoice sets custom fields on an
// opportunity in the CRM and follows them: onto the order, the
// fulfilment orders the WMS holds (split over two warehouses) and the
// invoices the ERP posts, order-level and line-level alike.
func TestExtensionsReachReleaseAndInvoice(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	var head, line1, line2 canonical.Extensions
	require.NoError(t, canonical.SetExt(&head, "crm:costCentre", "CC-12"))
	require.NoError(t, canonical.SetExt(&head, "crm:deliveryNote", "Gate 4 <rear> & ring"))
	require.NoError(t, canonical.SetExt(&line1, "crm:promo", "XMAS26"))
	require.NoError(t, canonical.SetExt(&line1, "crm:discount", canonical.MustParseDecimal("2.50")))
	require.NoError(t, canonical.SetExt(&line2, "crm:giftWrap", true))

	opp, err := w.crm.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0001", Name: "ext", Extensions: head,
		Lines: []crm.OpportunityLine{
			{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD"), Extensions: line1},
			{SKU: "SKU-101", Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD"), Extensions: line2},
		}})
	require.NoError(t, err, "OpenOpportunity")
	o, err := w.crm.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err, "ConvertOpportunity")
	require.Equal(t, head, o.Extensions, "the order carries the opportunity's extensions")
	w.settle(t)

	v := w.agree(t, o.ID)
	require.Equal(t, "released", v.Phase)
	require.Equal(t, head, v.Order.Extensions, "the flow's order")
	lineExt := map[string]canonical.Extensions{"L1": line1, "L2": line2}

	require.NotEmpty(t, v.FulfillmentOrders)
	for _, fo := range v.FulfillmentOrders {
		held, err := w.wms.FulfillmentOrder(ctx, fo.ID)
		require.NoError(t, err, "the WMS holds %s", fo.ID)
		assert.Equal(t, head, held.Extensions, "release %s", fo.ID)
		for _, l := range held.Lines {
			assert.Equal(t, lineExt[l.OrderLineID], l.Extensions, "release %s line %s", fo.ID, l.ID)
		}
		cc, ok, err := canonical.Ext[string](held.Extensions, "crm:costCentre")
		assert.Equal(t, "CC-12", cc)
		assert.True(t, ok)
		assert.NoError(t, err)
	}

	require.NotEmpty(t, v.Shipments)
	for _, s := range v.Shipments {
		assert.Equal(t, head, s.Extensions, "shipment %s carries its release's extensions", s.ID)
	}

	invoices := w.erp.Invoices(o.ID)
	require.NotEmpty(t, invoices, "the ERP invoiced the order")
	for _, in := range invoices {
		assert.Equal(t, head, in.Extensions, "invoice %s", in.Number)
		for _, l := range in.Lines {
			assert.Equal(t, lineExt[l.OrderLineID], l.Extensions, "invoice %s line %s", in.Number, l.ID)
		}
		require.NoError(t, in.Validate(), "invoice %s", in.Number)
	}
	disc, ok, err := canonical.Ext[canonical.Decimal](invoices[0].Lines[0].Extensions, "crm:discount")
	if invoices[0].Lines[0].OrderLineID == "L1" {
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "2.50", disc.String())
	}
	assert.Equal(t, len(v.Invoices), len(invoices))
	for _, in := range v.Invoices {
		assert.Equal(t, head, in.Extensions, "the flow's copy of invoice %s", in.Number)
	}
}

// TestOpportunityExtensionsValidated checks that the CRM refuses an
// opportunity with a bad extension, naming it.
func TestOpportunityExtensionsValidated(t *testing.T) {
	w := newSystems(t)
	_, err := w.crm.OpenOpportunity(context.Background(), crm.Opportunity{AccountID: "ACC-0001",
		Extensions: canonical.Extensions{{Name: "costCentre", Type: canonical.ExtString, Value: "x"}},
		Lines: []crm.OpportunityLine{{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("1", "EA"), UnitPrice: canonical.MustParseMoney("1", "USD"),
			Extensions: canonical.Extensions{{Name: "crm:n", Type: canonical.ExtInteger, Value: "x"}}}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lines[0].extensions["crm:n"].value`)
	assert.Contains(t, err.Error(), `extensions[0].name`)
}
