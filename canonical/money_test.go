package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
)

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		in       string
		minor    int
		errParts []string
	}{
		{in: "USD", minor: 2},
		{in: "EUR", minor: 2},
		{in: "JPY", minor: 0},
		{in: "KWD", minor: 3},
		{in: "BHD", minor: 3},
		{in: "CLF", minor: 4},
		{in: "UYW", minor: 4},
		{in: "", errParts: []string{"empty"}},
		{in: "usd", errParts: []string{`"usd"`, "upper-case"}},
		{in: "US", errParts: []string{`"US"`, "three"}},
		{in: "USDX", errParts: []string{`"USDX"`}},
		{in: "ABC", errParts: []string{`"ABC"`, "not an ISO 4217 code"}},
		{in: "HRK", errParts: []string{`"HRK"`, "withdrawn", "EUR"}},
		{in: "XAU", errParts: []string{`"XAU"`}}, // no minor unit: not money for orders
	}
	for _, tt := range tests {
		c, err := canonical.ParseCurrency(tt.in)
		if tt.errParts != nil {
			require.Error(t, err, "ParseCurrency(%q)", tt.in)
			assert.ErrorIs(t, err, canonical.ErrInvalid, "ParseCurrency(%q)", tt.in)
			for _, p := range tt.errParts {
				assert.Contains(t, err.Error(), p, "ParseCurrency(%q)", tt.in)
			}
			continue
		}
		require.NoError(t, err, "ParseCurrency(%q)", tt.in)
		n, ok := c.MinorUnits()
		assert.True(t, ok, tt.in)
		assert.Equal(t, tt.minor, n, "minor units of %s", tt.in)
		assert.Equal(t, tt.in, c.String())
	}
	_, ok := canonical.Currency("ZZZ").MinorUnits()
	assert.False(t, ok, "unknown currency has no minor units")
}

func TestCurrencyText(t *testing.T) {
	var c canonical.Currency
	require.NoError(t, c.UnmarshalText([]byte("GBP")))
	assert.Equal(t, canonical.Currency("GBP"), c)
	assert.ErrorIs(t, c.UnmarshalText([]byte("XYZ")), canonical.ErrInvalid)
	assert.Equal(t, canonical.Currency("GBP"), c, "failed unmarshal leaves the value")
	b, err := canonical.Currency("GBP").MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "GBP", string(b))
}

func TestMoneyArithmetic(t *testing.T) {
	m := canonical.MustParseMoney
	sum, err := m("12.50", "USD").Add(m("0.75", "USD"))
	require.NoError(t, err)
	assert.Equal(t, "13.25 USD", sum.String())

	diff, err := m("10", "EUR").Sub(m("12.5", "EUR"))
	require.NoError(t, err)
	assert.Equal(t, "-2.5 EUR", diff.String())
	assert.Equal(t, -1, diff.Sign())
	assert.Equal(t, "2.5 EUR", diff.Neg().String())

	line, err := m("0.1234", "USD").Mul(canonical.MustParseDecimal("3"))
	require.NoError(t, err)
	assert.Equal(t, "0.3702 USD", line.String(), "unit price keeps its scale")
	assert.Equal(t, "0.37 USD", line.Round().String())

	c, err := m("1.0", "USD").Cmp(m("1.00", "USD"))
	require.NoError(t, err)
	assert.Equal(t, 0, c)
	assert.True(t, m("1.0", "USD").Equal(m("1.00", "USD")))
	assert.False(t, m("1", "USD").Equal(m("1", "EUR")), "different currencies are never equal")
	assert.True(t, m("0.00", "JPY").IsZero())

	// Mixing currencies is an error, never a number.
	_, err = m("1", "USD").Add(m("1", "EUR"))
	assert.ErrorIs(t, err, canonical.ErrCurrencyMismatch)
	assert.Contains(t, err.Error(), "USD + EUR")
	_, err = m("1", "USD").Sub(m("1", "EUR"))
	assert.ErrorIs(t, err, canonical.ErrCurrencyMismatch)
	_, err = m("1", "USD").Cmp(m("1", "EUR"))
	assert.ErrorIs(t, err, canonical.ErrCurrencyMismatch)

	_, err = m("9999999999999999999", "USD").Add(m("1", "USD"))
	assert.ErrorIs(t, err, canonical.ErrOverflow)
}

func TestMoneyRound(t *testing.T) {
	tests := []struct{ amount, cur, want string }{
		{"0.125", "USD", "0.13 USD"},
		{"10", "USD", "10.00 USD"},
		{"100.5", "JPY", "101 JPY"},
		{"1.23456", "KWD", "1.235 KWD"},
		{"1.23455", "CLF", "1.2346 CLF"},
		{"-0.005", "EUR", "-0.01 EUR"},
	}
	for _, tt := range tests {
		got := canonical.MustParseMoney(tt.amount, tt.cur).Round()
		assert.Equal(t, tt.want, got.String(), "Round(%s %s)", tt.amount, tt.cur)
	}
}

func TestParseMoneyErrors(t *testing.T) {
	_, err := canonical.ParseMoney("12.50", "CS")
	assert.ErrorIs(t, err, canonical.ErrInvalid)
	_, err = canonical.ParseMoney("12,50", "USD")
	assert.ErrorIs(t, err, canonical.ErrInvalid)
	assert.Contains(t, err.Error(), `"12,50"`)

	err = canonical.Money{Amount: canonical.MustParseDecimal("1"), Currency: "usd"}.Validate()
	var ve *canonical.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("currency"), "names the currency field: %v", err)
	assert.NoError(t, canonical.MustParseMoney("1", "USD").Validate())
}

func TestMoneyJSON(t *testing.T) {
	b, err := json.Marshal(canonical.MustParseMoney("12.50", "USD"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"amount":"12.50","currency":"USD"}`, string(b))

	var m canonical.Money
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, "12.50 USD", m.String())

	for _, in := range []string{
		`{"amount":"12.50","currency":"XXX"}`,
		`{"amount":"twelve","currency":"USD"}`,
		`{"amount":"1","currency":7}`,
		`{"amount":`,
	} {
		var m canonical.Money
		assert.Error(t, json.Unmarshal([]byte(in), &m), in)
	}
}
