package d365_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/d365"
)

// extFields maps a header text, date and timestamp and a line decimal,
// bool and integer.
var extFields = []d365.ExtensionField{
	{Entity: d365.EntitySalesOrderHeader, Property: "CostCentre_Custom", Name: "d365:costCentre", Type: canonical.ExtString},
	{Entity: d365.EntitySalesOrderHeader, Property: "DockDate_Custom", Name: "d365:dockDate", Type: canonical.ExtDate},
	{Entity: d365.EntitySalesOrderHeader, Property: "PickedUpAt_Contoso", Name: "d365:pickedUpAt", Type: canonical.ExtTimestamp},
	{Entity: d365.EntitySalesOrderLine, Property: "Discount_Custom", Name: "d365:discount", Type: canonical.ExtDecimal},
	{Entity: d365.EntitySalesOrderLine, Property: "Gift_Custom", Name: "d365:gift", Type: canonical.ExtBool},
	{Entity: d365.EntitySalesOrderLine, Property: "Pallets_Custom", Name: "d365:pallets", Type: canonical.ExtInteger},
}

// extOrder is kit order n with the extensions of every mapped field on the
// order and its first line.
func extOrder(t *testing.T, n int) canonical.Order {
	t.Helper()
	o := kitOrder(n)
	dock, err := canonical.NewDateExtension("d365:dockDate", time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.NoError(t, o.Extensions.Set(dock), "Set dockDate")
	for _, err := range []error{
		canonical.SetExt(&o.Extensions, "d365:costCentre", "CC-4711"),
		canonical.SetExt(&o.Extensions, "d365:pickedUpAt", time.Date(2026, 4, 2, 10, 11, 12, 500e6, time.FixedZone("CET", 3600))),
		canonical.SetExt(&o.Lines[0].Extensions, "d365:discount", canonical.MustParseDecimal("2.5")),
		canonical.SetExt(&o.Lines[0].Extensions, "d365:gift", true),
		canonical.SetExt(&o.Lines[0].Extensions, "d365:pallets", int64(3)),
	} {
		require.NoError(t, err, "SetExt")
	}
	return o
}

// TestExtensionsRoundTrip checks over the emulator on loopback that the
// extensions of an order and its lines travel to the mapped custom fields
// on AcceptOrder, in F&O's coding, and come back from GetOrder and
// Orders; that a line without them gets none; and that a mistyped
// extension is refused before anything is sent.
func TestExtensionsRoundTrip(t *testing.T) {
	ctx := t.Context()
	_, srv := emulator(t, nil)
	cfg := config(srv.URL)
	cfg.Extensions = extFields
	c, err := d365.New(cfg)
	require.NoError(t, err, "New")
	o := extOrder(t, 1)
	_, err = c.ValidateOrder(ctx, &o)
	require.NoError(t, err, "ValidateOrder")
	_, err = c.AcceptOrder(ctx, "ext-1", &o)
	require.NoError(t, err, "AcceptOrder")

	got, err := c.GetOrder(ctx, o.ID)
	require.NoError(t, err, "GetOrder")
	for _, tc := range []struct {
		x    canonical.Extensions
		name string
		want string
	}{
		{got.Extensions, "d365:costCentre", "CC-4711"},
		{got.Extensions, "d365:dockDate", "2026-04-02"},
		{got.Extensions, "d365:pickedUpAt", "2026-04-02T09:11:12.5Z"},
		{got.Lines[0].Extensions, "d365:discount", "2.5"},
		{got.Lines[0].Extensions, "d365:gift", "true"},
		{got.Lines[0].Extensions, "d365:pallets", "3"},
	} {
		e, ok := tc.x.Get(tc.name)
		if assert.True(t, ok, "extension %s read back", tc.name) {
			assert.Equal(t, tc.want, e.Value, "value of %s", tc.name)
		}
	}
	assert.Len(t, got.Extensions, 3, "the order's extensions")
	assert.Len(t, got.Lines[0].Extensions, 3, "the first line's extensions")
	assert.Empty(t, got.Lines[1].Extensions, "a line without extensions gets none")

	n := 0
	for ro, err := range c.Orders(ctx, "") {
		require.NoError(t, err, "Orders")
		if ro.ID == o.ID {
			n++
			assert.Equal(t, got.Extensions, ro.Extensions, "Orders reads the order's extensions as GetOrder does")
			assert.Equal(t, got.Lines[0].Extensions, ro.Lines[0].Extensions, "Orders reads the line's extensions as GetOrder does")
		}
	}
	assert.Equal(t, 1, n, "Orders lists the order")

	// The fields as the service serves them.
	status, _, body := rawGet(t, srv.URL, rawToken(t, srv.URL), "SalesOrderHeadersV2?cross-company=true&$expand=SalesOrderLines")
	require.Equal(t, 200, status, body)
	for _, want := range []string{`"CostCentre_Custom":"CC-4711"`, `"DockDate_Custom":"2026-04-02T00:00:00Z"`,
		`"PickedUpAt_Contoso":"2026-04-02T09:11:12.5Z"`, `"Discount_Custom":2.5`, `"Gift_Custom":"Yes"`, `"Pallets_Custom":3`} {
		assert.Contains(t, body, want, "the entity carries the custom field")
	}

	// A client that maps none reads none, and does not fail.
	plain, err := newClient(t, srv.URL).GetOrder(ctx, o.ID)
	require.NoError(t, err, "GetOrder without mapping")
	assert.Empty(t, plain.Extensions, "no mapping, no extensions")

	// An extension of another type than the field's, on the order or on a
	// line, is refused before anything is sent.
	for _, tc := range []struct {
		name, field string
		edit        func(*canonical.Order) error
	}{
		{"header", "CostCentre_Custom", func(o *canonical.Order) error { return canonical.SetExt(&o.Extensions, "d365:costCentre", int64(7)) }},
		{"line", "Gift_Custom", func(o *canonical.Order) error { return canonical.SetExt(&o.Lines[1].Extensions, "d365:gift", "yes") }},
	} {
		bad := kitOrder(2)
		require.NoError(t, tc.edit(&bad), tc.name)
		_, err = c.AcceptOrder(ctx, "ext-2", &bad)
		assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "%s: a mistyped extension: %v", tc.name, err)
		assert.ErrorContains(t, err, tc.field, "%s: the error names the field", tc.name)
		_, err = c.ValidateOrder(ctx, &bad)
		assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "%s: ValidateOrder: %v", tc.name, err)
		_, err = c.GetOrder(ctx, bad.ID)
		assert.Equal(t, connector.CodeNotFound, connector.CodeOf(err), "%s: nothing was created: %v", tc.name, err)
	}
}

func TestExtensionConfig(t *testing.T) {
	ok := d365.ExtensionField{Entity: d365.EntitySalesOrderHeader, Property: "CostCentre_Custom", Name: "d365:costCentre", Type: canonical.ExtString}
	for _, tc := range []struct {
		name string
		edit func(*d365.ExtensionField)
	}{
		{"entity", func(f *d365.ExtensionField) { f.Entity = "CustomersV3" }},
		{"entity type name, not the set", func(f *d365.ExtensionField) { f.Entity = "SalesOrderHeaderV2" }},
		{"a standard field", func(f *d365.ExtensionField) { f.Property = "CustomersOrderReference" }},
		{"no suffix", func(f *d365.ExtensionField) { f.Property = "CostCentre_" }},
		{"no name before the underscore", func(f *d365.ExtensionField) { f.Property = "_Custom" }},
		{"bad character", func(f *d365.ExtensionField) { f.Property = "Cost-Centre_Custom" }},
		{"leading digit", func(f *d365.ExtensionField) { f.Property = "1Cost_Custom" }},
		{"too long", func(f *d365.ExtensionField) {
			f.Property = "CostCentreOfTheWholeCompanyAndItsSubsidiaries_CustomPublisher"
		}},
		{"a DSync field of the connector", func(f *d365.ExtensionField) { f.Property = "DSyncHold_Code" }},
		{"a line DSync field", func(f *d365.ExtensionField) {
			f.Entity, f.Property = d365.EntitySalesOrderLine, "dsyncLine_Id"
		}},
		{"type", func(f *d365.ExtensionField) { f.Type = "money" }},
		{"name without a namespace", func(f *d365.ExtensionField) { f.Name = "costCentre" }},
	} {
		f := tc.edit
		field := ok
		f(&field)
		cfg := d365.Config{BaseURL: "http://x", Company: "usmf", Extensions: []d365.ExtensionField{field}}
		_, err := d365.New(cfg)
		assert.ErrorIs(t, err, d365.ErrInvalidConfig, "%s: %+v", tc.name, field)
		assert.ErrorIs(t, cfg.Validate(), d365.ErrInvalidConfig, "%s: Validate", tc.name)
	}
	for _, tc := range []struct {
		name   string
		fields []d365.ExtensionField
		valid  bool
	}{
		{"a valid mapping", []d365.ExtensionField{ok}, true},
		{"the same name on header and line", []d365.ExtensionField{ok, {Entity: d365.EntitySalesOrderLine, Property: ok.Property, Name: "d365:lineCostCentre", Type: canonical.ExtString}}, true},
		{"every test field", extFields, true},
		{"a field mapped twice", []d365.ExtensionField{ok, ok}, false},
		{"a field mapped twice in another case", []d365.ExtensionField{ok, {Entity: ok.Entity, Property: "costcentre_custom", Name: "d365:other", Type: canonical.ExtString}}, false},
	} {
		_, err := d365.New(d365.Config{BaseURL: "http://x", Company: "usmf", Extensions: tc.fields})
		if tc.valid {
			assert.NoError(t, err, tc.name)
		} else {
			assert.ErrorIs(t, err, d365.ErrInvalidConfig, tc.name)
		}
	}
}
