package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestParseUnit(t *testing.T) {
	valid := []struct {
		code string
		dim  canonical.Dimension
	}{
		{"EA", canonical.DimensionCount}, {"C62", canonical.DimensionCount},
		{"H87", canonical.DimensionCount}, {"DZN", canonical.DimensionCount},
		{"PR", canonical.DimensionPackage}, {"SET", canonical.DimensionPackage},
		{"KGM", canonical.DimensionMass}, {"GRM", canonical.DimensionMass},
		{"LBR", canonical.DimensionMass}, {"ONZ", canonical.DimensionMass},
		{"LTR", canonical.DimensionVolume}, {"MTQ", canonical.DimensionVolume},
		{"MTR", canonical.DimensionLength},
		{"XCS", canonical.DimensionPackage}, {"XCT", canonical.DimensionPackage},
		{"XBX", canonical.DimensionPackage}, {"XPX", canonical.DimensionPackage},
		{"XPK", canonical.DimensionPackage}, {"XBG", canonical.DimensionPackage},
	}
	for _, tt := range valid {
		u, err := canonical.ParseUnit(tt.code)
		require.NoError(t, err, "ParseUnit(%q)", tt.code)
		assert.Equal(t, tt.dim, u.Dimension(), "dimension of %s", tt.code)
		assert.NotEmpty(t, u.Name(), "name of %s", tt.code)
	}

	invalid := []struct {
		code  string
		parts []string
	}{
		{"CS", []string{`"CS"`, "not a UN/ECE Rec 20 code", "XCS"}},
		{"CTN", []string{`"CTN"`, "XCT"}},
		{"KG", []string{`"KG"`, "KGM"}},
		{"ea", []string{`"ea"`}},
		{"FOO", []string{`"FOO"`, "not a supported"}},
		{"", []string{"empty"}},
	}
	for _, tt := range invalid {
		_, err := canonical.ParseUnit(tt.code)
		require.Error(t, err, "ParseUnit(%q)", tt.code)
		assert.ErrorIs(t, err, canonical.ErrInvalid, tt.code)
		for _, p := range tt.parts {
			assert.Contains(t, err.Error(), p, "ParseUnit(%q)", tt.code)
		}
	}
}

func TestQuantityArithmetic(t *testing.T) {
	q := canonical.MustParseQuantity
	sum, err := q("10", "EA").Add(q("2.5", "EA"))
	require.NoError(t, err)
	assert.Equal(t, "12.5 EA", sum.String())
	diff, err := q("10", "EA").Sub(q("12", "EA"))
	require.NoError(t, err)
	assert.Equal(t, -1, diff.Sign())

	_, err = q("1", "EA").Add(q("1", "XCS"))
	assert.ErrorIs(t, err, canonical.ErrUnitMismatch)
	assert.Contains(t, err.Error(), "EA + XCS")
	_, err = q("1", "EA").Sub(q("1", "KGM"))
	assert.ErrorIs(t, err, canonical.ErrUnitMismatch)
	_, err = q("1", "EA").Cmp(q("1", "KGM"))
	assert.ErrorIs(t, err, canonical.ErrUnitMismatch)

	c, err := q("3", "EA").Cmp(q("3.0", "EA"))
	require.NoError(t, err)
	assert.Equal(t, 0, c)
	assert.True(t, q("3", "EA").Equal(q("3.00", "EA")))
	assert.True(t, q("0", "KGM").IsZero())
}

func TestQuantityConvertTo(t *testing.T) {
	tests := []struct {
		from, fromUnit, to string
		want               string
		err                error
	}{
		{"2", "DZN", "EA", "24 EA", nil},
		{"6", "EA", "DZN", "0.5 DZN", nil},
		{"5", "H87", "C62", "5 C62", nil},
		{"1", "LBR", "KGM", "0.45359237 KGM", nil},
		{"1500", "GRM", "KGM", "1.5 KGM", nil},
		{"16", "ONZ", "LBR", "1 LBR", nil},
		{"1", "MTQ", "LTR", "1000 LTR", nil},
		{"12", "INH", "FOT", "1 FOT", nil},
		{"3", "EA", "EA", "3 EA", nil},
		{"1", "KGM", "LBR", "", canonical.ErrInexact},
		{"1", "XCS", "EA", "", canonical.ErrUnitMismatch},
		{"1", "KGM", "LTR", "", canonical.ErrUnitMismatch},
	}
	for _, tt := range tests {
		got, err := canonical.MustParseQuantity(tt.from, tt.fromUnit).ConvertTo(canonical.Unit(tt.to))
		if tt.err != nil {
			assert.ErrorIs(t, err, tt.err, "%s %s → %s", tt.from, tt.fromUnit, tt.to)
			continue
		}
		require.NoError(t, err, "%s %s → %s", tt.from, tt.fromUnit, tt.to)
		assert.Equal(t, tt.want, got.Value.Trim().String()+" "+got.Unit.String(), "%s %s → %s", tt.from, tt.fromUnit, tt.to)
	}
}

func TestQuantityJSONAndValidate(t *testing.T) {
	b, err := json.Marshal(canonical.MustParseQuantity("12", "XCS"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"value":"12","unit":"XCS"}`, string(b))
	var q canonical.Quantity
	require.NoError(t, json.Unmarshal(b, &q))
	assert.Equal(t, "12 XCS", q.String())
	err = json.Unmarshal([]byte(`{"value":"12","unit":"CS"}`), &q)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "XCS", "decode error suggests the right code")

	err = canonical.Quantity{Value: canonical.DecimalFromInt(1), Unit: "CTN"}.Validate()
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("unit"))
	assert.Contains(t, err.Error(), "unit: invalid unit \"CTN\"")
}
