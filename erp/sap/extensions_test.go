package sap_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/sap"
)

// extFields maps a header text, a header date, an item decimal and an item
// bool.
var extFields = []sap.ExtensionField{
	{Entity: sap.EntitySalesOrder, Property: "YY1_CostCentre_SDH", Name: "sap:costCentre", Type: canonical.ExtString},
	{Entity: sap.EntitySalesOrder, Property: "YY1_DockDate_SDH", Name: "sap:dockDate", Type: canonical.ExtDate},
	{Entity: sap.EntitySalesOrderItem, Property: "YY1_Discount_SDI", Name: "sap:discount", Type: canonical.ExtDecimal},
	{Entity: sap.EntitySalesOrderItem, Property: "YY1_Gift_SDI", Name: "sap:gift", Type: canonical.ExtBool},
}

// TestExtensionsRoundTrip checks over the emulator on loopback that the
// extensions of an order and its lines travel to the mapped custom fields
// on AcceptOrder and come back from GetOrder and Orders, and that a line
// or order without them gets none.
func TestExtensionsRoundTrip(t *testing.T) {
	ctx := t.Context()
	_, srv := emulator(t, nil)
	c, err := sap.New(sap.Config{BaseURL: srv.URL, User: user, Password: password, Extensions: extFields})
	require.NoError(t, err, "New")
	o := kitOrder(1)
	require.NoError(t, canonical.SetExt(&o.Extensions, "sap:costCentre", "CC-4711"), "SetExt costCentre")
	dock, err := canonical.NewExtension("sap:dockDate", "")
	require.NoError(t, err)
	dock.Type, dock.Value = canonical.ExtDate, "2026-04-02"
	require.NoError(t, o.Extensions.Set(dock), "Set dockDate")
	require.NoError(t, canonical.SetExt(&o.Lines[0].Extensions, "sap:discount", canonical.MustParseDecimal("2.5")), "SetExt discount")
	require.NoError(t, canonical.SetExt(&o.Lines[0].Extensions, "sap:gift", true), "SetExt gift")
	_, err = c.AcceptOrder(ctx, "ext-1", &o)
	require.NoError(t, err, "AcceptOrder")

	got, err := c.GetOrder(ctx, o.ID)
	require.NoError(t, err, "GetOrder")
	for _, tc := range []struct {
		x    canonical.Extensions
		name string
		want string
	}{
		{got.Extensions, "sap:costCentre", "CC-4711"},
		{got.Extensions, "sap:dockDate", "2026-04-02"},
		{got.Lines[0].Extensions, "sap:discount", "2.5"},
		{got.Lines[0].Extensions, "sap:gift", "true"},
	} {
		e, ok := tc.x.Get(tc.name)
		if assert.True(t, ok, "extension %s read back", tc.name) {
			assert.Equal(t, tc.want, e.Value, "value of %s", tc.name)
		}
	}
	assert.Empty(t, got.Lines[1].Extensions, "a line without extensions gets none")

	n := 0
	for ro, err := range c.Orders(ctx) {
		require.NoError(t, err, "Orders")
		if ro.ID == o.ID {
			n++
			assert.Equal(t, got.Extensions, ro.Extensions, "Orders reads the extensions as GetOrder does")
		}
	}
	assert.Equal(t, 1, n, "Orders lists the order")

	// An extension of another type than the field's is refused before
	// anything is sent.
	bad := kitOrder(2)
	require.NoError(t, canonical.SetExt(&bad.Extensions, "sap:costCentre", int64(7)), "SetExt integer")
	_, err = c.AcceptOrder(ctx, "ext-2", &bad)
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "a mistyped extension: %v", err)
	assert.Contains(t, err.Error(), "YY1_CostCentre_SDH", "the error names the field")
}

func TestExtensionConfig(t *testing.T) {
	ok := sap.ExtensionField{Entity: sap.EntitySalesOrder, Property: "YY1_CostCentre_SDH", Name: "sap:costCentre", Type: canonical.ExtString}
	for _, tc := range []struct {
		name string
		edit func(*sap.ExtensionField)
	}{
		{"entity", func(f *sap.ExtensionField) { f.Entity = "A_Customer" }},
		{"not a custom field", func(f *sap.ExtensionField) { f.Property = "SoldToParty" }},
		{"bad character", func(f *sap.ExtensionField) { f.Property = "YY1_Cost-Centre" }},
		{"a field the connector maps", func(f *sap.ExtensionField) { f.Property = "YY1_OrderVersion_SDH" }},
		{"an item field the connector maps", func(f *sap.ExtensionField) {
			f.Entity, f.Property = sap.EntitySalesOrderItem, "YY1_CanonicalLineID_SDI"
		}},
		{"type", func(f *sap.ExtensionField) { f.Type = "money" }},
		{"name", func(f *sap.ExtensionField) { f.Name = "costCentre" }},
	} {
		f := ok
		tc.edit(&f)
		_, err := sap.New(sap.Config{BaseURL: "http://x", Extensions: []sap.ExtensionField{f}})
		assert.ErrorIs(t, err, sap.ErrInvalidConfig, "%s: %+v", tc.name, f)
	}
	_, err := sap.New(sap.Config{BaseURL: "http://x", Extensions: []sap.ExtensionField{ok, ok}})
	assert.ErrorIs(t, err, sap.ErrInvalidConfig, "a field mapped twice")
	_, err = sap.New(sap.Config{BaseURL: "http://x", Extensions: []sap.ExtensionField{ok}})
	assert.NoError(t, err, "a valid mapping")
}
