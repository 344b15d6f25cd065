package salesforce_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
)

// extOrg is an org with custom fields on Order and OrderItem, filled from
// the simulator's extensions, and a connector that maps them.
func extOrg(t *testing.T) (*org, *salesforce.CRM) {
	t.Helper()
	o := newOrg(t, sfemu.Config{CustomFields: []sfemu.CustomField{
		{Object: "Order", Name: "Cost_Centre__c", Extension: "crm:costCentre"},
		{Object: "Order", Name: "Priority__c", Extension: "crm:priority"},
		{Object: "Order", Name: "Due__c", Extension: "crm:due"},
		{Object: "Order", Name: "ERP_Credit_Ref__c"},
		{Object: "OrderItem", Name: "Promo_Code__c", Extension: "crm:promo"},
		{Object: "OrderItem", Name: "Discount__c", Extension: "crm:discount"},
		{Object: "OrderItem", Name: "Gift_Wrap__c", Extension: "crm:giftWrap"},
	}}, nil)
	c := o.connect(t, salesforce.Config{Extensions: []salesforce.ExtensionField{
		{Object: "Order", Field: "Cost_Centre__c", Name: "salesforce:Cost_Centre__c", Type: canonical.ExtString, WriteBack: true},
		{Object: "Order", Field: "Priority__c", Name: "crm:priority", Type: canonical.ExtInteger},
		{Object: "Order", Field: "Due__c", Name: "crm:due", Type: canonical.ExtTimestamp},
		{Object: "Order", Field: "ERP_Credit_Ref__c", Name: "erp:creditRef", Type: canonical.ExtString, WriteBack: true},
		{Object: "OrderItem", Field: "Promo_Code__c", Name: "crm:promo", Type: canonical.ExtString},
		{Object: "OrderItem", Field: "Discount__c", Name: "crm:discount", Type: canonical.ExtDecimal},
		{Object: "OrderItem", Field: "Gift_Wrap__c", Name: "crm:giftWrap", Type: canonical.ExtBool},
	}})
	return o, c
}

func ext(t *testing.T, x *canonical.Extensions, name string, v any) {
	t.Helper()
	var err error
	switch v := v.(type) {
	case string:
		err = canonical.SetExt(x, name, v)
	case int:
		err = canonical.SetExt(x, name, int64(v))
	case bool:
		err = canonical.SetExt(x, name, v)
	case canonical.Decimal:
		err = canonical.SetExt(x, name, v)
	case time.Time:
		err = canonical.SetExt(x, name, v)
	}
	require.NoError(t, err)
}

// TestExtensionFieldsBothWays reads custom fields into extensions through
// the feed, and writes an extension back into a custom field with the
// status, against the emulator.
func TestExtensionFieldsBothWays(t *testing.T) {
	ctx := context.Background()
	o, c := extOrg(t)
	var head, line canonical.Extensions
	ext(t, &head, "crm:costCentre", "CC-12")
	ext(t, &head, "crm:priority", 2)
	ext(t, &head, "crm:due", time.Date(2026, 12, 24, 8, 0, 0, 0, time.FixedZone("", 3600)))
	ext(t, &head, "crm:unmapped", "stays in the simulator")
	ext(t, &line, "crm:promo", "XMAS26")
	ext(t, &line, "crm:discount", canonical.MustParseDecimal("2.50"))
	ext(t, &line, "crm:giftWrap", true)
	opp, err := o.crm.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0001", Extensions: head, Lines: []crm.OpportunityLine{
		{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD"), Extensions: line},
		{SKU: "SKU-101", Quantity: canonical.MustParseQuantity("1", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")},
	}})
	require.NoError(t, err)
	_, err = o.crm.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err)

	page, err := c.PollOrders(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Events, 1)
	ord, err := canonical.DecodeData[canonical.Order](page.Events[0])
	require.NoError(t, err)
	require.NoError(t, ord.Validate())
	assert.Equal(t, canonical.Extensions{
		{Name: "crm:due", Type: canonical.ExtTimestamp, Value: "2026-12-24T07:00:00Z"},
		{Name: "crm:priority", Type: canonical.ExtInteger, Value: "2"},
		{Name: "salesforce:Cost_Centre__c", Type: canonical.ExtString, Value: "CC-12"},
	}, ord.Extensions, "the Order's mapped fields; the null ERP_Credit_Ref__c and the unmapped extension are absent")
	assert.Equal(t, canonical.Extensions{
		{Name: "crm:discount", Type: canonical.ExtDecimal, Value: "2.50"},
		{Name: "crm:giftWrap", Type: canonical.ExtBool, Value: "true"},
		{Name: "crm:promo", Type: canonical.ExtString, Value: "XMAS26"},
	}, ord.Lines[0].Extensions, "the OrderItem's mapped fields")
	assert.Nil(t, ord.Lines[1].Extensions, "a line without values")

	// Back: the status carries the order's extensions and one the ERP set.
	st := connector.OrderStatus{OrderID: ord.ID, Sequence: 1, Status: ord.Status(), UpdatedAt: time.Now(), Extensions: ord.Extensions.Clone()}
	ext(t, &st.Extensions, "erp:creditRef", "CR-9")
	ext(t, &st.Extensions, "salesforce:Cost_Centre__c", "CC-99")
	require.NoError(t, c.PublishStatus(ctx, st))
	v, _ := o.emu.Field(ord.ID, "ERP_Credit_Ref__c")
	assert.Equal(t, "CR-9", v)
	v, _ = o.emu.Field(ord.ID, "Cost_Centre__c")
	assert.Equal(t, "CC-99", v)
	v, _ = o.emu.Field(ord.ID, "Priority__c")
	assert.Equal(t, json.Number("2"), v, "a field not marked WriteBack is not written")
	shown, ok := o.shown(ord.ID)
	require.True(t, ok)
	assert.Equal(t, int64(1), shown.Sequence)

	// The connector's own write is not read back by the feed (echo), and
	// a status without the extension leaves the field as it is.
	st.Sequence, st.Extensions = 2, nil
	require.NoError(t, c.PublishStatus(ctx, st))
	v, _ = o.emu.Field(ord.ID, "ERP_Credit_Ref__c")
	assert.Equal(t, "CR-9", v)
	page, err = c.PollOrders(ctx, page.Next, 10)
	require.NoError(t, err)
	assert.Empty(t, page.Events)

	// A composite write maps the same way.
	st.Sequence, st.Extensions = 3, canonical.Extensions{{Name: "erp:creditRef", Type: canonical.ExtString, Value: "CR-10"}}
	errs, err := c.PublishStatuses(ctx, []connector.OrderStatus{st})
	require.NoError(t, err)
	require.NoError(t, errs[0])
	v, _ = o.emu.Field(ord.ID, "ERP_Credit_Ref__c")
	assert.Equal(t, "CR-10", v)

	// A write-back extension of the wrong type is refused before any call.
	st.Sequence, st.Extensions = 4, canonical.Extensions{{Name: "erp:creditRef", Type: canonical.ExtInteger, Value: "1"}}
	err = c.PublishStatus(ctx, st)
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "%v", err)
}

// TestExtensionFieldBadValue: a field value that does not fit its
// extension fails the poll naming the record and field.
func TestExtensionFieldBadValue(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, sfemu.Config{CustomFields: []sfemu.CustomField{{Object: "Order", Name: "Priority__c", Extension: "crm:priority"}}}, nil)
	c := o.connect(t, salesforce.Config{Extensions: []salesforce.ExtensionField{
		{Object: "Order", Field: "Priority__c", Name: "crm:priority", Type: canonical.ExtBool}}})
	var head canonical.Extensions
	ext(t, &head, "crm:priority", 2)
	opp, err := o.crm.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0001", Extensions: head, Lines: []crm.OpportunityLine{
		{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
	require.NoError(t, err)
	_, err = o.crm.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err)
	_, err = c.PollOrders(ctx, "", 10)
	require.Error(t, err)
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err))
	assert.Contains(t, err.Error(), "Priority__c")
	assert.Contains(t, err.Error(), "is not a bool for extension crm:priority")
}

func TestExtensionFieldConfig(t *testing.T) {
	good := salesforce.ExtensionField{Object: "Order", Field: "Cost_Centre__c", Name: "crm:costCentre", Type: canonical.ExtString}
	for _, c := range []struct {
		name string
		mod  func(*salesforce.ExtensionField)
		want string
	}{
		{"object", func(f *salesforce.ExtensionField) { f.Object = "Account" }, "Extensions[1].Object"},
		{"field", func(f *salesforce.ExtensionField) { f.Field = "Cost Centre" }, "Extensions[1].Field"},
		{"own field", func(f *salesforce.ExtensionField) { f.Field = "PoNumber" }, "maps itself"},
		{"twice", func(*salesforce.ExtensionField) {}, "mapped twice"},
		{"type", func(f *salesforce.ExtensionField) { f.Field, f.Type = "X__c", "text" }, "Extensions[1].Type"},
		{"name", func(f *salesforce.ExtensionField) { f.Field, f.Name = "X__c", "costCentre" }, "Extensions[1].Name"},
		{"write back item", func(f *salesforce.ExtensionField) { f.Field, f.Object, f.WriteBack = "X__c", "OrderItem", true }, "only for Order fields"},
	} {
		f := good
		c.mod(&f)
		cfg := salesforce.Config{LoginURL: "https://x.my.salesforce.com", ClientID: "a", ClientSecret: "b", Extensions: []salesforce.ExtensionField{good, f}}
		err := cfg.Validate()
		require.ErrorIs(t, err, salesforce.ErrInvalidConfig, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
	}
}
