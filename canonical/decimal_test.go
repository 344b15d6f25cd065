package canonical_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "12.50", want: "12.50"},
		{in: "-3", want: "-3"},
		{in: "+7", want: "7"},
		{in: "0.001", want: "0.001"},
		{in: "00012", want: "12"},
		{in: "1.5e3", want: "1500"},
		{in: "-0.5E-2", want: "-0.005"},
		{in: "1234567890123456789", want: "1234567890123456789"},
		{in: "0.1234567890123456789", want: "0.1234567890123456789"},
		{in: "", wantErr: true},
		{in: " 1", wantErr: true},
		{in: ".", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "Inf", wantErr: true},
		{in: "1_000", wantErr: true},
		{in: "1,5", wantErr: true},
		{in: "12345678901234567890", wantErr: true},   // 20 digits
		{in: "0.12345678901234567891", wantErr: true}, // would round
		{in: "1.00000000000000000001", wantErr: true}, // would round
		{in: "1e-25", wantErr: true},                  // would round to 0
		{in: "1e19", wantErr: true},                   // too large
	}
	for _, tt := range tests {
		d, err := canonical.ParseDecimal(tt.in)
		if tt.wantErr {
			require.Error(t, err, "ParseDecimal(%q)", tt.in)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "ParseDecimal(%q)", tt.in)
			assert.Contains(t, err.Error(), `"`+tt.in+`"`, "error names the input %q", tt.in)
			continue
		}
		require.NoError(t, err, "ParseDecimal(%q)", tt.in)
		assert.Equal(t, tt.want, d.String(), "ParseDecimal(%q)", tt.in)
	}
}

func TestDecimalArithmetic(t *testing.T) {
	d := canonical.MustParseDecimal
	tests := []struct {
		name string
		op   func() (canonical.Decimal, error)
		want string
		err  error
	}{
		{"add keeps larger scale", func() (canonical.Decimal, error) { return d("1.5").Add(d("2.25")) }, "3.75", nil},
		{"add exact scale", func() (canonical.Decimal, error) { return d("0.10").Add(d("0.20")) }, "0.30", nil},
		{"sub to negative", func() (canonical.Decimal, error) { return d("1").Sub(d("2.5")) }, "-1.5", nil},
		{"mul sums scales", func() (canonical.Decimal, error) { return d("12.50").Mul(d("3")) }, "37.50", nil},
		{"mul fractions", func() (canonical.Decimal, error) { return d("0.1").Mul(d("0.1")) }, "0.01", nil},
		{"add overflow integer", func() (canonical.Decimal, error) { return d("9999999999999999999").Add(d("1")) }, "", canonical.ErrOverflow},
		{"add would round", func() (canonical.Decimal, error) { return d("999999999999999999.9").Add(d("0.01")) }, "", canonical.ErrOverflow},
		{"mul would round", func() (canonical.Decimal, error) { return d("0.0000000001").Mul(d("0.0000000001")) }, "", canonical.ErrOverflow},
		{"mul overflow", func() (canonical.Decimal, error) { return d("9999999999").Mul(d("9999999999")) }, "", canonical.ErrOverflow},
	}
	for _, tt := range tests {
		got, err := tt.op()
		if tt.err != nil {
			assert.ErrorIs(t, err, tt.err, tt.name)
			continue
		}
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, got.String(), tt.name)
	}
}

func TestDecimalCompareAndRound(t *testing.T) {
	d := canonical.MustParseDecimal
	assert.True(t, d("1.0").Equal(d("1.00")), "1.0 equals 1.00")
	assert.NotEqual(t, d("1.0"), d("1.00"), "== sees the scale")
	assert.Equal(t, -1, d("1.99").Cmp(d("2")))
	assert.True(t, d("-1").Less(d("0")))
	assert.Equal(t, "2", d("2").Max(d("1.5")).String())
	assert.Equal(t, "1.5", d("2").Min(d("1.5")).String())
	assert.True(t, canonical.Decimal{}.IsZero(), "zero value is 0")
	assert.Equal(t, "0", canonical.Decimal{}.String())

	rounds := []struct {
		in, want string
		scale    int
	}{
		{"0.125", "0.13", 2},
		{"-0.125", "-0.13", 2},
		{"0.124", "0.12", 2},
		{"9.995", "10.00", 2},
		{"100.5", "101", 0},
		{"2.5", "3", 0},
		{"-2.5", "-3", 0},
		{"1.2", "1.2", 2},
	}
	for _, r := range rounds {
		assert.Equal(t, r.want, d(r.in).Round(r.scale).String(), "Round(%s, %d)", r.in, r.scale)
	}
	assert.Equal(t, "12.50", d("12.5").Pad(2).String())
	assert.Equal(t, "12.5", d("12.500").Trim().String())
	n, ok := d("42.00").Int64()
	assert.True(t, ok)
	assert.Equal(t, int64(42), n)
	_, ok = d("42.5").Int64()
	assert.False(t, ok, "42.5 is not an integer")
}

func TestDecimalJSON(t *testing.T) {
	type doc struct {
		A canonical.Decimal `json:"a"`
	}
	b, err := json.Marshal(doc{A: canonical.MustParseDecimal("12.50")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":"12.50"}`, string(b), "amounts are strings")

	for _, in := range []string{`{"a":"12.50"}`, `{"a":12.50}`} {
		var got doc
		require.NoError(t, json.Unmarshal([]byte(in), &got), in)
		assert.Equal(t, "12.50", got.A.String(), in)
	}
	var got doc
	err = json.Unmarshal([]byte(`{"a":"12,50"}`), &got)
	require.Error(t, err)
	assert.True(t, errors.Is(err, canonical.ErrInvalid), "bad decimal matches ErrInvalid: %v", err)
	err = json.Unmarshal([]byte(`{"a":true}`), &got)
	assert.Error(t, err, "a bool is not a decimal")
}
