package flow_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// TestSalesforceExtensionsReachReleaseAndInvoice runs the flow with the
// Salesforce connector over the emulator: custom fields on the Order and
// OrderItem, mapped by the connector's configuration, arrive as
// extensions on the WMS release and the ERP invoice, and the write-back
// field is written with the status.
func TestSalesforceExtensionsReachReleaseAndInvoice(t *testing.T) {
	ctx := context.Background()
	w := newSystems(t)
	emu, err := sfemu.New(sfemu.Config{CRM: w.crm, ClientID: "app", ClientSecret: "secret", CustomFields: []sfemu.CustomField{
		{Object: "Order", Name: "Cost_Centre__c", Extension: "crm:costCentre"},
		{Object: "OrderItem", Name: "Promo_Code__c", Extension: "crm:promo"},
	}})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	sf, err := salesforce.New(salesforce.Config{LoginURL: srv.URL, ClientID: "app", ClientSecret: "secret", LimitPause: time.Millisecond,
		Extensions: []salesforce.ExtensionField{
			{Object: "Order", Field: "Cost_Centre__c", Name: "salesforce:Cost_Centre__c", Type: canonical.ExtString, WriteBack: true},
			{Object: "OrderItem", Field: "Promo_Code__c", Name: "salesforce:Promo_Code__c", Type: canonical.ExtString},
		}})
	require.NoError(t, err)
	w.wrapCRM = func(connector.CRM) connector.CRM { return sf }
	w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
	w.connect(t, nil, flow.Config{Log: w.log, OrderSources: []string{salesforce.Source}})

	var head, line canonical.Extensions
	require.NoError(t, canonical.SetExt(&head, "crm:costCentre", "CC-12"))
	require.NoError(t, canonical.SetExt(&line, "crm:promo", "XMAS26"))
	opp, err := w.crm.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0001", Extensions: head, Lines: []crm.OpportunityLine{
		{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD"), Extensions: line},
		{SKU: "SKU-101", Quantity: canonical.MustParseQuantity("1", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")},
	}})
	require.NoError(t, err)
	mem, err := w.crm.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err)
	w.settle(t)

	id, ok := emu.OrderID(mem.ID)
	require.True(t, ok, "the emulator holds the order")
	v, err := w.flow.Where(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "released", v.Phase)
	wantHead := canonical.Extensions{{Name: "salesforce:Cost_Centre__c", Type: canonical.ExtString, Value: "CC-12"}}
	wantLine := canonical.Extensions{{Name: "salesforce:Promo_Code__c", Type: canonical.ExtString, Value: "XMAS26"}}
	require.NotEmpty(t, v.FulfillmentOrders)
	for _, fo := range v.FulfillmentOrders {
		held, err := w.wms.FulfillmentOrder(ctx, fo.ID)
		require.NoError(t, err)
		assert.Equal(t, wantHead, held.Extensions, "release %s", fo.ID)
		for _, l := range held.Lines {
			if l.OrderLineID == v.Order.Lines[0].ID {
				assert.Equal(t, wantLine, l.Extensions, "release %s line %s", fo.ID, l.ID)
			} else {
				assert.Nil(t, l.Extensions, "release %s line %s", fo.ID, l.ID)
			}
		}
	}
	invoices := w.erp.Invoices(id)
	require.NotEmpty(t, invoices)
	for _, in := range invoices {
		assert.Equal(t, wantHead, in.Extensions, "invoice %s", in.Number)
		for _, l := range in.Lines {
			if l.OrderLineID == v.Order.Lines[0].ID {
				assert.Equal(t, wantLine, l.Extensions, "invoice %s line %s", in.Number, l.ID)
			}
		}
	}
	cc, _ := emu.Field(id, "Cost_Centre__c")
	assert.Equal(t, "CC-12", cc, "written back with the status")
	shown, ok := w.crm.ShownStatus(mem.ID)
	require.True(t, ok, "the status reached the CRM")
	assert.Equal(t, v.Status, shown.Status)
}
