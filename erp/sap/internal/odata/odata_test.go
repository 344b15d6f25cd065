package odata_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/erp/sap/internal/odata"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		off  int // zone offset in seconds
		ok   bool
	}{
		{"/Date(1546992000000)/", time.Date(2019, 1, 9, 0, 0, 0, 0, time.UTC), 0, true},
		{"/Date(0)/", time.Unix(0, 0), 0, true},
		{"/Date(-86400000)/", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), 0, true},
		{"/Date(1546992000000+0060)/", time.Date(2019, 1, 9, 0, 0, 0, 0, time.UTC), 3600, true},
		{"/Date(1546992000000-0120)/", time.Date(2019, 1, 9, 0, 0, 0, 0, time.UTC), -7200, true},
		{"", time.Time{}, 0, false},
		{"/Date()/", time.Time{}, 0, false},
		{"/Date(12a)/", time.Time{}, 0, false},
		{"/Date(1.5)/", time.Time{}, 0, false},
		{"Date(1)", time.Time{}, 0, false},
		{"/Date(1)", time.Time{}, 0, false},
		{"/Date(+1)/", time.Time{}, 0, false},
		{"/Date(1+60)/", time.Time{}, 0, false},
		{"/Date(1+9999)/", time.Time{}, 0, false},
		{"/Date(99999999999999999)/", time.Time{}, 0, false},
		{"/Date(8640000000000001)/", time.Time{}, 0, false},
		{"2019-01-09T00:00:00Z", time.Time{}, 0, false},
	}
	for _, tt := range tests {
		got, err := odata.ParseDate(tt.in)
		if !tt.ok {
			assert.ErrorIs(t, err, odata.ErrFormat, "ParseDate(%q)", tt.in)
			continue
		}
		require.NoError(t, err, "ParseDate(%q)", tt.in)
		assert.True(t, got.Equal(tt.want), "ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
		_, off := got.Zone()
		assert.Equal(t, tt.off, off, "ParseDate(%q) zone offset", tt.in)
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"33609.14", "33609.14", true},
		{"-1.500", "-1.500", true},
		{"0", "0", true},
		{"1e3", "", false},
		{"+1", "", false},
		{"1.", "", false},
		{".5", "", false},
		{" 1", "", false},
		{"", "", false},
		{"1.2.3", "", false},
		{"12345678901234567890123", "", false},
	}
	for _, tt := range tests {
		got, err := odata.ParseDecimal(tt.in)
		if !tt.ok {
			assert.ErrorIs(t, err, odata.ErrFormat, "ParseDecimal(%q)", tt.in)
			continue
		}
		require.NoError(t, err, "ParseDecimal(%q)", tt.in)
		assert.Equal(t, tt.want, got.String(), "ParseDecimal(%q)", tt.in)
	}
}

func TestDecimalJSON(t *testing.T) {
	var d odata.Decimal
	require.NoError(t, json.Unmarshal([]byte(`"0.1"`), &d))
	assert.Equal(t, "0.1", d.String())
	assert.ErrorIs(t, json.Unmarshal([]byte(`0.1`), &d), odata.ErrFormat, "a JSON number must be refused")
	assert.ErrorIs(t, json.Unmarshal([]byte(`"1e2"`), &d), odata.ErrFormat, "an exponent must be refused")
	b, err := json.Marshal(odata.Dec(d.Decimal))
	require.NoError(t, err)
	assert.JSONEq(t, `"0.1"`, string(b))
	require.NoError(t, json.Unmarshal([]byte(`null`), &d))
	assert.True(t, d.IsZero(), "null is zero")
}

func TestDecodeError(t *testing.T) {
	body := `{"error":{"code":"/IWBEP/CM_TEA/004","message":{"lang":"en","value":"Quantity must be positive"},
		"innererror":{"transactionid":"4FDF","errordetails":[{"code":"SD/1","message":"must be > 0","propertyref":"to_Item/0/RequestedQuantity","severity":"error","target":""}]}}}`
	p, err := odata.DecodeError([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, "/IWBEP/CM_TEA/004", p.Code)
	assert.Equal(t, "Quantity must be positive", p.Message.Value)
	require.Len(t, p.InnerError.ErrorDetails, 1)
	path, ok := odata.FieldPath(p.InnerError.ErrorDetails[0].PropertyRef)
	assert.True(t, ok)
	assert.Equal(t, "lines[0].quantity", path)
	for _, bad := range []string{``, `[]`, `{"error":{}}`, `{"error":"x"}`, `<error/>`} {
		_, err := odata.DecodeError([]byte(bad))
		assert.True(t, errors.Is(err, odata.ErrFormat), "DecodeError(%q) = %v, want ErrFormat", bad, err)
	}
}

func TestPropertyRefRoundTrip(t *testing.T) {
	for _, path := range []string{"lines[0].quantity", "lines[12].item", "lines[3].unitPrice", "soldTo", "currency", "id"} {
		ref := odata.PropertyRef(path)
		back, ok := odata.FieldPath(ref)
		assert.True(t, ok, "FieldPath(%q) of %q", ref, path)
		assert.Equal(t, path, back, "FieldPath(PropertyRef(%q))", path)
	}
	assert.Equal(t, "to_Item/2/RequestedQuantity", odata.PropertyRef("lines[2].quantity.value"))
	_, ok := odata.FieldPath("Unknown/Prop")
	assert.False(t, ok)
}
