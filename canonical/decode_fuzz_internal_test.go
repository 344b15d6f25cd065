package canonical

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// generatedSeeds are documents of the kinds without a seed list of their
// own: a fulfilment order and an invoice with every optional member, and
// variants the generated decoders must refuse.
var generatedSeeds = []string{
	`{"id":"FO-1","version":2,"refs":[{"system":"erp","type":"fo","value":"1","version":"3"}],"orderId":"O-1","orderVersion":1,"warehouse":"WH-1","split":{"group":"g","index":1,"count":2},"shipTo":{"id":"c","name":"Acme","address":{"lines":["1 Road"],"city":"X","country":"US"}},"shipComplete":true,"requestedShipDate":"2026-11-03T00:00:00+01:00","lines":[{"id":"FL-1","orderLineId":"L-1","item":{"sku":"SKU-1"},"quantity":{"value":"3","unit":"EA"}}],"releasedAt":"2026-11-02T09:00:00Z"}`,
	`{"id":"INV-1","version":1,"refs":[{"system":"erp","type":"invoice","value":"INV-1"}],"kind":"credit_memo","number":"CM-000001","orderId":"O-1","creditsInvoiceId":"INV-0","returnId":"R-1","billTo":{"id":"C-1","name":"A"},"currency":"USD","paymentTerms":"NET30","invoiceDate":"2026-11-02T09:00:00Z","dueDate":"2026-12-02T09:00:00-05:00","lines":[{"id":"1","orderLineId":"L1","shipmentLineId":"S1:L1","item":{"sku":"SKU-1"},"quantity":{"value":"2","unit":"EA"},"unitPrice":{"amount":"12.50","currency":"USD"},"amount":{"amount":"25.00","currency":"USD"}}],"charges":[{"type":"freight","amount":{"amount":"5","currency":"USD"}}],"taxes":[{"type":"sales","jurisdiction":"CA","rate":"0.0725","taxable":{"amount":"25.00","currency":"USD"},"amount":{"amount":"1.81","currency":"USD"}}],"totals":{"subtotal":{"amount":"25.00","currency":"USD"},"charges":{"amount":"5","currency":"USD"},"tax":{"amount":"1.81","currency":"USD"},"total":{"amount":"31.81","currency":"USD"}}}`,
	`{"id":"FO-1","split":{"group":"g","index":1.5}}`,
	`{"id":"FO-1","orderVersion":9223372036854775808}`,
	`{"id":"INV-1","lines":[{"unitPrice":{"amount":"1","currency":"EUR","currency":"USD"}}]}`,
	`{"id":"INV-1","billTo":null}`,
	`{"id":"INV-1","taxes":[{"rate":"x"}]}`,
	`{"id":"FO-1","lines":[{"quantity":{"value":"1","unit":"ea"}}]}`,
	`[]`,
	`"x"`,
	`{"id":"O-1","lines":[{"id":"L1","buckets":{"ordered":"1","ordered":"2"}}]}`,
	"{\"id\":\"O-1\"\x00}",
	`{"id":"O-1",`,
	`{"id":"O-1","lines":[{"id":"L1"},]}`,
}

// generatedTakenSeeds are a shipment and an order the generated decoders
// take although they are not as canonical encodes them: an SSCC with its
// application identifier, which UnmarshalText removes too, and extensions
// out of order, which both sort.
var generatedTakenSeeds = []string{
	`{"id":"S-1","packages":[{"sscc":"(00)006141411234567890"}]}`,
	`{"id":"O-1","lines":[{"id":"L1","extensions":{"b":{"type":"string","value":"2"},"a":{"type":"string","value":"1"}}}]}`,
}

// FuzzDecodeGenerated compares the generated decoders with encoding/json,
// document kind by document kind:
//
//   - what a generated decoder accepts is valid JSON, and it decodes the
//     document encoding/json decodes;
//   - DecodeData (and DecodeOrder) give, for any input, the document or
//     the error that decoding with encoding/json alone and validating
//     gives: the same error text, naming the same field;
//   - the encoding of any document encoding/json decodes from the input,
//     when the generated decoder takes it, decodes back to what
//     encoding/json decodes from it.
func FuzzDecodeGenerated(f *testing.F) {
	for _, seeds := range [][]string{orderSeeds, lineSeeds, fulfillmentSeeds, generatedSeeds, generatedTakenSeeds} {
		for _, s := range seeds {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkGenerated(t, EventOrderAccepted, data, decodeOrderFast)
		checkGenerated(t, EventFulfillmentReleased, data, decodeFulfillmentOrderFast)
		checkGenerated(t, EventFulfillmentAllocated, data, decodeAllocationFast)
		checkGenerated(t, EventFulfillmentShipped, data, decodeShipmentFast)
		checkGenerated(t, EventInventoryAdjusted, data, decodeAdjustmentFast)
		checkGenerated(t, EventInventorySnapshot, data, decodePositionFast)
		checkGenerated(t, EventInvoicePosted, data, decodeInvoiceFast)
		checkDecodeOrder(t, data)
	})
}

// checkGenerated checks the generated decoder fast of the document type
// D against encoding/json on data, as FuzzDecodeGenerated says.
func checkGenerated[D Document](t *testing.T, typ EventType, data []byte, fast func([]byte, *D) bool) {
	t.Helper()
	var want D
	wantErr := json.Unmarshal(data, &want)
	var got D
	if fast(data, &got) {
		require.True(t, json.Valid(data), "%s: the generated decoder accepted invalid JSON %q", typ, data)
		require.NoError(t, wantErr, "%s: the generated decoder accepted %q, encoding/json refuses it", typ, data)
		if !reflect.DeepEqual(want, got) { // no testify diff: it is slow on long strings
			t.Fatalf("%s input %q:\ngenerated     %#v\nencoding/json %#v", typ, data, got, want)
		}
	}

	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && !bytes.Equal(trimmed, []byte("null")) {
		ref := violations{kind: "event"}
		if wantErr != nil {
			eventDataError(&ref, wantErr)
		} else if err := want.Validate(); err != nil {
			ref.addErr("data", err)
		}
		refErr := ref.err()
		doc, err := DecodeData[D](Event{Type: typ, DataContentType: "application/json", Data: data})
		if refErr != nil {
			require.Error(t, err, "%s: DecodeData of %q, encoding/json's error %v", typ, data, refErr)
			require.Equal(t, refErr.Error(), err.Error(), "%s: DecodeData's error for %q", typ, data)
		} else {
			require.NoError(t, err, "%s: DecodeData of %q", typ, data)
			if !reflect.DeepEqual(want, doc) {
				t.Fatalf("%s: DecodeData of %q:\ngot           %#v\nencoding/json %#v", typ, data, doc, want)
			}
		}
	}

	if wantErr != nil {
		return
	}
	enc, err := encodeDocument(want)
	if err != nil {
		return
	}
	var fromJSON, fromFast D
	if fast(enc, &fromFast) {
		require.NoError(t, json.Unmarshal(enc, &fromJSON), "%s: encoding/json decodes the encoding %q", typ, enc)
		if !reflect.DeepEqual(fromJSON, fromFast) {
			t.Fatalf("%s: encoding %q:\ngenerated     %#v\nencoding/json %#v", typ, enc, fromFast, fromJSON)
		}
	}
}

// checkDecodeOrder checks that DecodeOrder gives what decoding with
// encoding/json alone gives, error text included.
func checkDecodeOrder(t *testing.T, data []byte) {
	t.Helper()
	var want Order
	wantErr := decodeDocument(KindOrder, data, &want)
	got, err := DecodeOrder(data)
	if wantErr != nil {
		require.Error(t, err, "DecodeOrder of %q, encoding/json's error %v", data, wantErr)
		require.Equal(t, wantErr.Error(), err.Error(), "DecodeOrder's error for %q", data)
		var de, wantDE *DecodeError
		require.ErrorAs(t, err, &de, "DecodeOrder's error for %q", data)
		require.ErrorAs(t, wantErr, &wantDE, "encoding/json's error for %q", data)
		require.Equal(t, wantDE.Field, de.Field, "the field DecodeOrder names for %q", data)
		return
	}
	require.NoError(t, err, "DecodeOrder of %q", data)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("DecodeOrder of %q:\ngot           %#v\nencoding/json %#v", data, got, want)
	}
}

// TestGeneratedFastPathTaken checks that each generated decoder takes the
// documents canonical encodes (so that the fuzz target compares something)
// and refuses the variants encoding/json must decide.
func TestGeneratedFastPathTaken(t *testing.T) {
	var fo FulfillmentOrder
	require.NoError(t, json.Unmarshal([]byte(generatedSeeds[0]), &fo), "fulfilment order seed")
	var inv Invoice
	require.NoError(t, json.Unmarshal([]byte(generatedSeeds[1]), &inv), "invoice seed")
	for name, tc := range map[string]struct {
		doc  Document
		fast func([]byte) bool
	}{
		"fulfillment order": {fo, func(b []byte) bool { var v FulfillmentOrder; return decodeFulfillmentOrderFast(b, &v) }},
		"invoice":           {inv, func(b []byte) bool { var v Invoice; return decodeInvoiceFast(b, &v) }},
	} {
		enc, err := encodeDocument(tc.doc)
		require.NoError(t, err, "encode the %s", name)
		assert.True(t, tc.fast(enc), "the generated %s decoder takes its encoding %s", name, enc)
	}
	var sh Shipment
	assert.True(t, decodeShipmentFast([]byte(generatedTakenSeeds[0]), &sh), "the shipment decoder takes %s", generatedTakenSeeds[0])
	var o Order
	assert.True(t, decodeOrderFast([]byte(generatedTakenSeeds[1]), &o), "the order decoder takes %s", generatedTakenSeeds[1])
	for _, s := range generatedSeeds[2:] {
		var fo FulfillmentOrder
		var inv Invoice
		var sh Shipment
		var o Order
		took := decodeFulfillmentOrderFast([]byte(s), &fo) || decodeInvoiceFast([]byte(s), &inv) ||
			decodeShipmentFast([]byte(s), &sh) || decodeOrderFast([]byte(s), &o)
		assert.False(t, took, "the generated decoders refuse %s", s)
	}
}
