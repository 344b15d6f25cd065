package canonical_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestRefs(t *testing.T) {
	rs := canonical.Refs{
		{System: "erp", Type: "salesOrder", Value: "SO-1001"},
		{System: "crm", Type: "opportunity", Value: "006xx", Version: "W/\"3\""},
	}
	r, ok := rs.Get("erp", "salesOrder")
	require.True(t, ok)
	assert.Equal(t, "SO-1001", r.Value)
	_, ok = rs.Get("wms", "order")
	assert.False(t, ok)
	assert.Equal(t, `crm:opportunity:006xx@W/"3"`, rs[1].String())

	rs2 := rs.With(canonical.ExternalRef{System: "erp", Type: "salesOrder", Value: "SO-2"})
	assert.Len(t, rs2, 2, "replaces the same system and type")
	r, _ = rs2.Get("erp", "salesOrder")
	assert.Equal(t, "SO-2", r.Value)
	r, _ = rs.Get("erp", "salesOrder")
	assert.Equal(t, "SO-1001", r.Value, "With does not modify the receiver")
	assert.Len(t, rs.With(canonical.ExternalRef{System: "wms", Type: "order", Value: "W1"}), 3)
	assert.NoError(t, rs.Validate())
}

func TestValidateValues(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		fields []string
	}{
		{"refs missing parts and duplicate", canonical.Refs{
			{System: "erp", Type: "salesOrder", Value: "1"},
			{System: "", Type: "", Value: ""},
			{System: "erp", Type: "salesOrder", Value: "2"},
		}.Validate(), []string{"[1].system", "[1].type", "[1].value", "[2]"}},
		{"address", canonical.Address{Lines: []string{" "}, Country: "UK"}.Validate(),
			[]string{"lines[0]", "city", "country"}},
		{"address no lines bad country", canonical.Address{City: "Lyon", Country: "fr"}.Validate(),
			[]string{"lines", "country"}},
		{"address unknown country", canonical.Address{Lines: []string{"1 Rue"}, City: "Lyon", Country: "ZZ"}.Validate(),
			[]string{"country"}},
		{"party", canonical.PartyRef{Address: &canonical.Address{Country: "US"}, Refs: canonical.Refs{{}}}.Validate(),
			[]string{"id", "refs[0].system", "refs[0].type", "refs[0].value", "address.lines", "address.city"}},
		{"item ref", canonical.ItemRef{GTIN: "4006381333932"}.Validate(), []string{"sku", "gtin"}},
	}
	for _, tt := range tests {
		var ve *canonical.ValidationError
		require.ErrorAs(t, tt.err, &ve, tt.name)
		assert.ErrorIs(t, tt.err, canonical.ErrInvalid, tt.name)
		var got []string
		for _, fe := range ve.Errors {
			got = append(got, fe.Field)
		}
		assert.Equal(t, tt.fields, got, "%s: %v", tt.name, tt.err)
	}

	assert.NoError(t, canonical.Address{Lines: []string{"1 Main St"}, City: "Austin", Region: "TX", PostalCode: "78701", Country: "US"}.Validate())
	assert.NoError(t, canonical.PartyRef{ID: "C-1"}.Validate())
	assert.NoError(t, canonical.ItemRef{SKU: "SKU-1", GTIN: "4006381333931"}.Validate())
	assert.True(t, canonical.ValidCountry("GB"))
	assert.False(t, canonical.ValidCountry("UK"))
	assert.False(t, canonical.ValidCountry("BC"), "not at a code boundary")
}

func TestValidationErrorMessage(t *testing.T) {
	err := canonical.ItemRef{GTIN: "4006381333932"}.Validate()
	require.Error(t, err)
	assert.Equal(t, `canonical: invalid item ref: sku: is required; gtin: invalid GTIN "4006381333932": check digit is 2, want 1`, err.Error())
}
