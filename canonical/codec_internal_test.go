package canonical

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrderEventCodec checks that NewEvent and DecodeData, which use the
// reflection-free order codec, give what encoding/json gives, for an order
// and a pointer to one, and that DecodeData falls back to encoding/json
// (from a zero order) for input the fast path does not take.
func TestOrderEventCodec(t *testing.T) {
	var o Order
	require.NoError(t, json.Unmarshal([]byte(orderSeeds[0]), &o), "seed order")
	o.Lines = o.Lines[:1] // the second line is in another currency
	require.NoError(t, o.Validate(), "seed order is valid")
	want, err := json.Marshal(o)
	require.NoError(t, err, "json.Marshal")
	for name, doc := range map[string]Document{"Order": o, "*Order": &o} {
		ev, err := NewEvent(EventOrderSubmitted, doc)
		require.NoError(t, err, "NewEvent(%s)", name)
		assert.Equal(t, string(want), string(ev.Data), "NewEvent(%s) data is json.Marshal's", name)
	}
	ev, err := NewEvent(EventOrderSubmitted, o)
	require.NoError(t, err, "NewEvent")
	var fast Order
	require.True(t, decodeDocumentFast(ev.Data, &fast), "the fast path takes what NewEvent wrote")
	checkDecodeData[Order](t, ev)

	// An unknown member and a member repeated: encoding/json decides.
	for _, data := range []string{
		`{"id":"o","extra":1,"soldTo":{"id":"c"},"shipTo":{"id":"c"},"currency":"USD","lines":[{"id":"L1","item":{"sku":"A"},"quantity":{"value":"1","unit":"EA"},"unitPrice":{"amount":"1","currency":"USD"}}]}`,
		`{"id":"x","id":"o","soldTo":{"id":"c"},"shipTo":{"id":"c"},"currency":"USD","lines":[{"id":"L1","item":{"sku":"A"},"quantity":{"value":"1","unit":"EA"},"unitPrice":{"amount":"1","currency":"USD"}}]}`,
	} {
		var z Order
		assert.False(t, decodeDocumentFast([]byte(data), &z), "fast path refuses %s", data)
		assert.Equal(t, Order{}, z, "order left zero after the fast path refused %s", data)
		checkDecodeData[Order](t, Event{Type: EventOrderSubmitted, DataContentType: "application/json", Data: json.RawMessage(data)})
	}
}

// fulfillmentSeeds are allocation updates and shipments as the WMS
// simulator writes them, with every optional member, and variants the
// fast decoders must refuse.
var fulfillmentSeeds = []string{
	`{"fulfillmentOrderId":"FO-1","orderId":"O-1","warehouse":"WH-1","asOf":"2026-11-02T09:00:00Z","sequence":2,"lines":[{"fulfillmentLineId":"FL-1","orderLineId":"L-1","item":{"sku":"SKU-1","gtin":"00012345678905","description":"d","refs":[{"system":"wms","type":"item","value":"1"}]},"allocated":{"value":"3","unit":"EA"},"backordered":{"value":"0","unit":"EA"},"picked":{"value":"1.5","unit":"EA"},"expectedDate":"2026-11-05T00:00:00-05:00"}]}`,
	`{"id":"S-1","version":1,"refs":[{"system":"wms","type":"shipment","value":"S1"}],"orderId":"O-1","fulfillmentOrderId":"FO-1","warehouse":"WH-1","carrier":{"scac":"UPSN","name":"UPS"},"service":"ground","trackingNumbers":["1Z1","1Z2"],"shippedAt":"2026-11-02T09:00:00Z","packages":[{"sscc":"006141411234567890","trackingNumber":"1Z1","weight":{"value":"2.5","unit":"KGM"},"lines":[{"shipmentLineId":"SL-1","quantity":{"value":"3","unit":"EA"}}]}],"lines":[{"id":"SL-1","orderLineId":"L-1","fulfillmentLineId":"FL-1","item":{"sku":"SKU-1"},"quantity":{"value":"3","unit":"EA"},"lots":[{"lot":"A","quantity":{"value":"3","unit":"EA"},"expiresAt":"2027-01-01T00:00:00Z"}],"serials":["SN1"]}],"finalForFulfillment":true}`,
	`{"fulfillmentOrderId":"FO-1","lines":[{"picked":null}]}`,
	`{"id":"S-1","packages":[{"sscc":"123"}]}`,
	`{"id":"S-1","ID":"S-2"}`,
	`{"id":"S-1","lines":[{"id":"a","id":"b"}]}`,
	`{"sequence":1.5}`,
	`{"id":"S-1"} x`,
	`{"id":"ADJ-1","refs":[{"system":"wms","type":"adj","value":"1"}],"item":{"sku":"SKU-1"},"location":"WH-1","lot":"A","status":"available","delta":{"value":"-2","unit":"EA"},"reason":"other","note":"n","adjustedAt":"2026-11-02T09:00:00Z","sequence":3}`,
	`{"item":{"sku":"SKU-1"},"location":"WH-1","lot":"A","status":"damaged","kind":"snapshot","onHand":{"value":"5","unit":"EA"},"allocated":{"value":"1","unit":"EA"},"available":{"value":"4","unit":"EA"},"inbound":{"value":"0","unit":"EA"},"asOf":"2026-11-02T09:00:00Z","sequence":7}`,
	`{"kind":"sideways"}`,
}

// FuzzDecodeFulfillmentFast checks that the fast decoders of allocation
// updates, shipments and inventory adjustments and positions only accept
// valid JSON and then give exactly what encoding/json gives.
func FuzzDecodeFulfillmentFast(f *testing.F) {
	for _, s := range fulfillmentSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastDecode(t, "allocation", data, decodeAllocationFast)
		checkFastDecode(t, "shipment", data, decodeShipmentFast)
		checkFastDecode(t, "adjustment", data, decodeAdjustmentFast)
		checkFastDecode(t, "position", data, decodePositionFast)
	})
}

// checkFastDecode checks that when the fast decoder takes data, data is
// valid JSON and the document is exactly what encoding/json gives.
func checkFastDecode[T any](t *testing.T, kind string, data []byte, decode func([]byte, *T) bool) {
	t.Helper()
	var fast T
	if !decode(data, &fast) {
		return
	}
	require.True(t, json.Valid(data), "the %s fast path accepted invalid JSON %q", kind, data)
	var general T
	require.NoError(t, json.Unmarshal(data, &general), "%s input %q", kind, data)
	if !reflect.DeepEqual(general, fast) { // no testify diff: it is slow on long strings
		t.Fatalf("%s input %q:\nfast    %#v\ngeneral %#v", kind, data, fast, general)
	}
}

// checkDecodeData checks that DecodeData[D] and DecodeData[*D] of ev give
// what json.Unmarshal gives.
func checkDecodeData[D Document, P interface {
	*D
	Document
}](t *testing.T, ev Event) {
	t.Helper()
	var want D
	require.NoError(t, json.Unmarshal(ev.Data, &want), "json.Unmarshal %s", ev.Data)
	got, err := DecodeData[D](ev)
	require.NoError(t, err, "DecodeData[%T] %s", want, ev.Data)
	assert.Equal(t, want, got, "DecodeData[%T] of %s is json.Unmarshal's", want, ev.Data)
	gotp, err := DecodeData[P](ev)
	require.NoError(t, err, "DecodeData[%T] %s", gotp, ev.Data)
	assert.Equal(t, want, *gotp, "DecodeData[%T] of %s is json.Unmarshal's", gotp, ev.Data)
}

func TestFulfillmentFastPathTaken(t *testing.T) {
	var a AllocationUpdate
	assert.True(t, decodeAllocationFast([]byte(fulfillmentSeeds[0]), &a), "allocation seed takes the fast path")
	var sh Shipment
	assert.True(t, decodeShipmentFast([]byte(fulfillmentSeeds[1]), &sh), "shipment seed takes the fast path")
	var adj InventoryAdjustment
	assert.True(t, decodeAdjustmentFast([]byte(fulfillmentSeeds[8]), &adj), "adjustment seed takes the fast path")
	var pos InventoryPosition
	assert.True(t, decodePositionFast([]byte(fulfillmentSeeds[9]), &pos), "position seed takes the fast path")
	for _, s := range append(fulfillmentSeeds[2:8:8], fulfillmentSeeds[10]) {
		var a AllocationUpdate
		var sh Shipment
		var p InventoryPosition
		assert.False(t, decodeAllocationFast([]byte(s), &a) || decodeShipmentFast([]byte(s), &sh) || decodePositionFast([]byte(s), &p),
			"fast paths refuse %s", s)
	}
	// Through DecodeData, as encoding/json decodes them.
	checkDecodeData[AllocationUpdate](t, Event{Type: EventFulfillmentAllocated, DataContentType: "application/json", Data: json.RawMessage(fulfillmentSeeds[0])})
	checkDecodeData[Shipment](t, Event{Type: EventFulfillmentShipped, DataContentType: "application/json", Data: json.RawMessage(fulfillmentSeeds[1])})
}

// FuzzEncodeFulfillment checks that the encoders of fulfilment orders,
// allocation updates, shipments and inventory adjustments and positions
// write exactly what json.Marshal writes, for every document encoding/json
// decodes from the input.
func FuzzEncodeFulfillment(f *testing.F) {
	for _, s := range fulfillmentSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"id":"FO-1","version":2,"refs":[{"system":"erp","type":"fo","value":"1","version":"3"}],"orderId":"O-1","orderVersion":1,"warehouse":"WH-1","split":{"group":"g","index":1,"count":2},"shipTo":{"id":"c","name":"<Acme & Co>","address":{"lines":["1 Road"],"country":"US"}},"shipComplete":true,"requestedShipDate":"2026-11-03T00:00:00+01:00","lines":[{"id":"FL-1","orderLineId":"L-1","item":{"sku":"SKU-1"},"quantity":{"value":"3","unit":"EA"}}],"releasedAt":"2026-11-02T09:00:00Z"}`))
	f.Add([]byte(`{"lines":[],"asOf":"0001-01-01T01:00:00+01:00","packages":[{"lines":[]}],"trackingNumbers":["\u2028<x>"]}`))
	f.Add([]byte(`{"id":"INV-1","version":1,"refs":[{"system":"erp","type":"invoice","value":"INV-1"}],"kind":"credit_memo","number":"CM-000001","orderId":"O-1","creditsInvoiceId":"INV-0","returnId":"R-1","billTo":{"id":"C-1","name":"<A & B>"},"currency":"USD","paymentTerms":"NET30","invoiceDate":"2026-11-02T09:00:00Z","dueDate":"2026-12-02T09:00:00-05:00","lines":[{"id":"1","orderLineId":"L1","shipmentLineId":"S1:L1","item":{"sku":"SKU-1"},"quantity":{"value":"2","unit":"EA"},"unitPrice":{"amount":"12.50","currency":"USD"},"amount":{"amount":"25.00","currency":"USD"}}],"charges":[{"type":"freight","amount":{"amount":"5","currency":"USD"}}],"taxes":[{"type":"sales","jurisdiction":"CA","rate":"0.0725","taxable":{"amount":"25.00","currency":"USD"},"amount":{"amount":"1.81","currency":"USD"}}],"totals":{"subtotal":{"amount":"25.00","currency":"USD"},"charges":{"amount":"5","currency":"USD"},"tax":{"amount":"1.81","currency":"USD"},"total":{"amount":"31.81","currency":"USD"}}}`))
	f.Add([]byte(`{"lines":null,"invoiceDate":"0001-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEncode(t, "fulfillment order", data, encodeFulfillmentOrder)
		checkEncode(t, "allocation update", data, encodeAllocation)
		checkEncode(t, "shipment", data, encodeShipment)
		checkEncode(t, "inventory adjustment", data, encodeAdjustment)
		checkEncode(t, "inventory position", data, encodePosition)
		checkEncode(t, "invoice", data, encodeInvoice)
	})
}

// checkEncode checks that, for the document encoding/json decodes from
// data if any, encode writes exactly what json.Marshal writes.
func checkEncode[T any](t *testing.T, kind string, data []byte, encode func(*T) ([]byte, error)) {
	t.Helper()
	var doc T
	if json.Unmarshal(data, &doc) != nil {
		return
	}
	want, wantErr := json.Marshal(doc)
	got, gotErr := encode(&doc)
	require.Equal(t, wantErr == nil, gotErr == nil, "%s from %q: json.Marshal error %v, encoder error %v", kind, data, wantErr, gotErr)
	if string(want) != string(got) { // no testify diff: it is slow on long strings
		t.Fatalf("%s from %q:\njson.Marshal %s\nencoder      %s", kind, data, want, got)
	}
}

func TestEncodeFulfillmentZero(t *testing.T) {
	for _, doc := range []Document{FulfillmentOrder{}, AllocationUpdate{}, Shipment{}, &FulfillmentOrder{Lines: []FulfillmentLine{}},
		Invoice{}, &Invoice{Lines: []InvoiceLine{{}}, Taxes: []Tax{{}}},
		InventoryAdjustment{}, &InventoryPosition{Kind: QuantityDelta},
		AllocationUpdate{AsOf: time.Time{}.In(time.FixedZone("X", 3600)), Lines: []AllocationLine{{Picked: &Quantity{}}}}} {
		want, err := json.Marshal(doc)
		require.NoError(t, err, "json.Marshal %T", doc)
		got, err := encodeDocument(doc)
		require.NoError(t, err, "encodeDocument %T", doc)
		assert.Equal(t, string(want), string(got), "encoding of %#v", doc)
	}
	_, err := encodeDocument(&Shipment{ShippedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	assert.Error(t, err, "a year past 9999 fails as in json.Marshal")
	_, err = Encode(InventoryPosition{})
	assert.Error(t, err, "a position without a kind fails as in json.Marshal")
}

func TestEncodeNil(t *testing.T) {
	for _, doc := range []Document{nil, (*Order)(nil), (*Shipment)(nil), (*AllocationUpdate)(nil), (*FulfillmentOrder)(nil)} {
		got, err := Encode(doc)
		require.NoError(t, err, "Encode(%#v)", doc)
		assert.Equal(t, "null", string(got), "Encode(%#v) is json.Marshal's", doc)
	}
}
