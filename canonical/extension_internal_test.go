package canonical

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

const extOrderJSON = `{"id":"o","version":1,"soldTo":{"id":"c"},"shipTo":{"id":"c"},"currency":"USD",` +
	`"extensions":{"crm:costCentre":{"type":"string","value":"CC-12"},"crm:priority":{"type":"integer","value":"2"}},` +
	`"lines":[{"id":"L1","item":{"sku":"A"},"quantity":{"value":"1","unit":"EA"},"unitPrice":{"amount":"1","currency":"USD"},` +
	`"extensions":{"crm:promo":{"type":"string","value":"XMAS<&>"},"salesforce:Discount__c":{"type":"decimal","value":"2.50"}},"buckets":{}}]}`

// extensionSeeds are inputs for the fast paths: the first ones take them,
// the rest fall back to encoding/json.
var extensionSeeds = []string{
	extOrderJSON,
	`{"id":"o","extensions":{"b:x":{"value":"1","type":"integer"},"a:y":{"type":"bool","value":"true"}},"lines":[]}`,
	`{"id":"o","extensions":{},"lines":[]}`,
	// fall back:
	`{"id":"o","extensions":{"a:x":{"type":"string","value":"1"},"a:x":{"type":"string","value":"2"}}}`,
	`{"id":"o","extensions":{"a:x":{"type":"string"}}}`,
	`{"id":"o","extensions":{"a:x":{"type":"string","value":"1","extra":1}}}`,
	`{"id":"o","extensions":{"a:x":{"Type":"string","value":"1"}}}`,
	`{"id":"o","extensions":{"a:x":{"type":"string","value":1}}}`,
	`{"id":"o","extensions":{"a:\u0078":{"type":"string","value":"1"}}}`,
	`{"id":"o","extensions":null}`,
	`{"id":"o","extensions":[]}`,
	`{"id":"o","extensions":{"a:x":"1"}}`,
}

func TestExtensionsFastPath(t *testing.T) {
	for i, s := range extensionSeeds {
		var o Order
		took := decodeOrderFast([]byte(s), &o)
		require.Equal(t, i < 3, took, "seed %d: %s", i, s)
		checkFastDecode(t, "order", []byte(s), decodeOrderFast)
	}
	o, err := DecodeOrder([]byte(extOrderJSON))
	require.NoError(t, err)
	require.NoError(t, o.Validate())
	got, err := EncodeOrder(o)
	require.NoError(t, err)
	want, err := json.Marshal(o)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "EncodeOrder is json.Marshal")
	// The input is in encoded form but for the HTML escapes json.Marshal adds.
	require.Contains(t, string(got), `"crm:promo":{"type":"string","value":"XMAS\u003c\u0026\u003e"}`)
	// The general path sorts as the fast path does.
	var general Order
	require.NoError(t, json.Unmarshal([]byte(extensionSeeds[1]), (*orderJSONAlias)(&general)))
	require.Equal(t, "a:y", general.Extensions[0].Name, "sorted by name")
}

// orderJSONAlias decodes an order through encoding/json only.
type orderJSONAlias Order

func TestEncodeExtensionsMatchesMarshal(t *testing.T) {
	x := Extensions{{Name: "z:b", Type: ExtString, Value: "\u2028<\xff>"}, {Name: "a:a", Type: ExtBool, Value: "true"}}
	f := FulfillmentOrder{ID: "F", Extensions: x, Lines: []FulfillmentLine{{ID: "1", Extensions: x}, {ID: "2"}}}
	sh := Shipment{ID: "S", Extensions: x}
	in := Invoice{ID: "I", Extensions: x, Lines: []InvoiceLine{{ID: "1", Extensions: x}}}
	o := Order{ID: "O", Extensions: x, Lines: []OrderLine{{ID: "1", Extensions: x}}}
	for _, c := range []struct {
		doc    any
		encode func() ([]byte, error)
	}{
		{f, func() ([]byte, error) { return encodeFulfillmentOrder(&f) }},
		{sh, func() ([]byte, error) { return encodeShipment(&sh) }},
		{in, func() ([]byte, error) { return encodeInvoice(&in) }},
		{o, func() ([]byte, error) { return EncodeOrder(o) }},
	} {
		want, err := json.Marshal(c.doc)
		require.NoError(t, err)
		got, err := c.encode()
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%T", c.doc)
		require.Contains(t, string(got), `"extensions":{"a:a":{"type":"bool","value":"true"},"z:b":`, "%T sorted", c.doc)
	}
	require.Equal(t, "z:b", x[0].Name, "encoding sorts a copy")
}

// FuzzExtensionsJSON checks the fast and general decoders of extensions
// agree, that the encoders write what json.Marshal writes, and that
// decoded extensions round-trip.
func FuzzExtensionsJSON(f *testing.F) {
	for _, s := range extensionSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"id":"S","lines":[],"extensions":{"a:b":{"type":"date","value":"2026-12-24"}}}`))
	f.Add([]byte(`{"id":"F","lines":[{"id":"1","extensions":{"a:b":{"type":"timestamp","value":"2026-12-24T08:00:00Z"}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastDecode(t, "order", data, decodeOrderFast)
		checkFastDecode(t, "shipment", data, decodeShipmentFast)
		checkEncode(t, "fulfillment order", data, encodeFulfillmentOrder)
		checkEncode(t, "shipment", data, encodeShipment)
		checkEncode(t, "invoice", data, encodeInvoice)
		if o, err := DecodeOrder(data); err == nil {
			want, wantErr := json.Marshal(o)
			got, gotErr := EncodeOrder(o)
			if (wantErr == nil) != (gotErr == nil) || string(want) != string(got) {
				t.Fatalf("order from %q:\njson.Marshal %s (%v)\nEncodeOrder  %s (%v)", data, want, wantErr, got, gotErr)
			}
		}
		var x Extensions
		if json.Unmarshal(data, &x) != nil {
			return
		}
		enc, err := json.Marshal(x)
		require.NoError(t, err)
		var y Extensions
		require.NoError(t, json.Unmarshal(enc, &y), "decode %s", enc)
		if len(x) == 0 && len(y) == 0 {
			return
		}
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("round trip of %q via %s: %#v != %#v", data, enc, x, y)
		}
	})
}
