package odata_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/erp/d365/internal/odata"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"64821.858", "64821.858", true},
		{"12.50", "12.50", true},
		{"-1.500", "-1.500", true},
		{"0", "0", true},
		{"-0", "0", true},
		{"0.1", "0.1", true},
		{"1e3", "1000", true},
		{"1E+2", "100", true},
		{"1.5E-3", "0.0015", true},
		{"-2.50e-1", "-0.250", true},
		{"0e5", "0", true},
		{"123456789012345678.9", "123456789012345678.9", true},
		{"9007199254740993", "9007199254740993", true}, // 2^53+1: a float64 would round it
		{"0.30000000000000004", "0.30000000000000004", true},
		{"", "", false},
		{"+1", "", false},
		{"01", "", false},
		{"1.", "", false},
		{".5", "", false},
		{"1e", "", false},
		{"1e+-2", "", false},
		{"1e999", "", false},
		{`"12.5"`, "", false},
		{"NaN", "", false},
		{"1 ", "", false},
		{"12345678901234567890123", "", false},
	}
	for _, tt := range tests {
		got, err := odata.ParseNumber(tt.in)
		if !tt.ok {
			assert.ErrorIs(t, err, odata.ErrFormat, "ParseNumber(%q)", tt.in)
			continue
		}
		require.NoError(t, err, "ParseNumber(%q)", tt.in)
		assert.Equal(t, tt.want, got.String(), "ParseNumber(%q)", tt.in)
	}
}

func TestDecimalJSON(t *testing.T) {
	var line odata.SalesOrderLine
	require.NoError(t, odata.Unmarshal([]byte(`{"dataAreaId":"usmf","ItemNumber":"A","OrderedSalesQuantity":3,"SalesUnitSymbol":"ea","SalesPrice":64821.858,"LineAmount":null,"DSyncLineId":"L1","DSyncRejected":"No"}`), &line))
	assert.Equal(t, "64821.858", line.SalesPrice.String())
	assert.Equal(t, "3", line.OrderedSalesQuantity.String())
	assert.Nil(t, line.LineAmount)
	assert.False(t, bool(line.Rejected))
	assert.ErrorIs(t, odata.Unmarshal([]byte(`{"SalesPrice":"1.5"}`), &line), odata.ErrFormat, "a quoted decimal is refused")
	assert.ErrorIs(t, odata.Unmarshal([]byte(`{"DSyncRejected":true}`), &line), odata.ErrFormat, "a JSON boolean is not NoYes")
	b, err := json.Marshal(odata.Dec(line.SalesPrice.Decimal))
	require.NoError(t, err)
	assert.Equal(t, "64821.858", string(b))
}

func TestEnumAndKey(t *testing.T) {
	lit := odata.Enum("SalesStatus", "Backorder")
	assert.Equal(t, "Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'", lit)
	typ, v, ok := odata.ParseEnum(lit)
	assert.True(t, ok)
	assert.Equal(t, "SalesStatus", typ)
	assert.Equal(t, "Backorder", v)
	for _, bad := range []string{"'Backorder'", "Microsoft.Dynamics.DataEntities.SalesStatus", "Microsoft.Dynamics.DataEntities.'x'"} {
		_, _, ok := odata.ParseEnum(bad)
		assert.False(t, ok, "ParseEnum(%q)", bad)
	}
	key := odata.Key("usmf", "SalesOrderNumber", "SO-'1'")
	assert.Equal(t, "(dataAreaId='usmf',SalesOrderNumber='SO-''1''')", key)
	m, err := odata.ParseKey(key)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"dataAreaId": "usmf", "SalesOrderNumber": "SO-'1'"}, m)
	for _, bad := range []string{"", "(", "(a=1)", "(a='x'", "(a='x'b='y')", "dataAreaId='x'"} {
		_, err := odata.ParseKey(bad)
		assert.ErrorIs(t, err, odata.ErrFormat, "ParseKey(%q)", bad)
	}
}

func TestDecodeError(t *testing.T) {
	body := `{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: The value 'Local' in field 'Customer group' is not found","type":"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException","stacktrace":"at X"}}}`
	p, err := odata.DecodeError([]byte(body))
	require.NoError(t, err)
	assert.Empty(t, p.Code)
	assert.Equal(t, "CustCustomerV3Entity", p.Entity())
	assert.Contains(t, p.Infolog(), "Customer group")
	for _, bad := range []string{``, `[]`, `{"error":{}}`, `{"error":"x"}`, `<error/>`} {
		_, err := odata.DecodeError([]byte(bad))
		assert.ErrorIs(t, err, odata.ErrFormat, "DecodeError(%q)", bad)
	}
}

func TestBatchRoundTrip(t *testing.T) {
	parts := []odata.Part{{ContentID: "1", Method: "POST", Target: "SalesOrderHeadersV2", Body: []byte(`{"dataAreaId":"usmf"}`)},
		{ContentID: "2", Method: "POST", Target: "$1/SalesOrderLines", Body: []byte(`{"ItemNumber":"A","SalesPrice":1.5}`)}}
	var buf bytes.Buffer
	ct, err := odata.WriteBatch(&buf, parts)
	require.NoError(t, err)
	sets, err := odata.ReadBatch(&buf, ct)
	require.NoError(t, err)
	require.Len(t, sets, 1, "one changeset")
	assert.Equal(t, parts, sets[0])

	resps := [][]odata.PartResponse{{{ContentID: "1", Status: 201, Header: http.Header{"Etag": {`W/"x"`}}, Body: []byte(`{"a":1}`)},
		{ContentID: "2", Status: 201, Body: []byte(`{"b":2}`)}}}
	buf.Reset()
	ct, err = odata.WriteBatchResponse(&buf, resps)
	require.NoError(t, err)
	got, err := odata.ReadBatchResponse(buf.Bytes(), ct)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, 201, got[0].Status)
	assert.Equal(t, `W/"x"`, got[0].Header.Get("ETag"))
	assert.JSONEq(t, `{"a":1}`, string(got[0].Body))
	assert.Equal(t, "2", got[1].ContentID)

	_, err = odata.ReadBatch(&buf, "application/json")
	assert.ErrorIs(t, err, odata.ErrFormat)
}
