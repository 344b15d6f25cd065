package canonical

import (
	"encoding/json"
	"reflect"
	"testing"

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
	var general Order
	require.NoError(t, json.Unmarshal(ev.Data, &general), "json.Unmarshal")
	var fast Order
	require.True(t, decodeDocumentFast(ev.Data, &fast), "the fast path takes what NewEvent wrote")
	got, err := DecodeData[Order](ev)
	require.NoError(t, err, "DecodeData[Order]")
	assert.Equal(t, general, got, "DecodeData[Order] is json.Unmarshal's")
	gotp, err := DecodeData[*Order](ev)
	require.NoError(t, err, "DecodeData[*Order]")
	assert.Equal(t, general, *gotp, "DecodeData[*Order] is json.Unmarshal's")

	// An unknown member and a member repeated: encoding/json decides.
	for _, data := range []string{
		`{"id":"o","extra":1,"soldTo":{"id":"c"},"shipTo":{"id":"c"},"currency":"USD","lines":[{"id":"L1","item":{"sku":"A"},"quantity":{"value":"1","unit":"EA"},"unitPrice":{"amount":"1","currency":"USD"}}]}`,
		`{"id":"x","id":"o","soldTo":{"id":"c"},"shipTo":{"id":"c"},"currency":"USD","lines":[{"id":"L1","item":{"sku":"A"},"quantity":{"value":"1","unit":"EA"},"unitPrice":{"amount":"1","currency":"USD"}}]}`,
	} {
		var z Order
		assert.False(t, decodeDocumentFast([]byte(data), &z), "fast path refuses %s", data)
		assert.Equal(t, Order{}, z, "order left zero after the fast path refused %s", data)
		ev := Event{Type: EventOrderSubmitted, DataContentType: "application/json", Data: json.RawMessage(data)}
		var want Order
		require.NoError(t, json.Unmarshal([]byte(data), &want), "json.Unmarshal %s", data)
		got, err := DecodeData[Order](ev)
		require.NoError(t, err, "DecodeData %s", data)
		assert.Equal(t, want, got, "DecodeData of %s is json.Unmarshal's", data)
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
}

// FuzzDecodeFulfillmentFast checks that the fast decoders of allocation
// updates and shipments only accept valid JSON and then give exactly what
// encoding/json gives.
func FuzzDecodeFulfillmentFast(f *testing.F) {
	for _, s := range fulfillmentSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a AllocationUpdate
		if decodeAllocationFast(data, &a) {
			require.True(t, json.Valid(data), "the allocation fast path accepted invalid JSON %q", data)
			var general AllocationUpdate
			require.NoError(t, json.Unmarshal(data, &general), "input %q", data)
			if !reflect.DeepEqual(general, a) {
				t.Fatalf("input %q:\nfast    %#v\ngeneral %#v", data, a, general)
			}
		}
		var sh Shipment
		if decodeShipmentFast(data, &sh) {
			require.True(t, json.Valid(data), "the shipment fast path accepted invalid JSON %q", data)
			var general Shipment
			require.NoError(t, json.Unmarshal(data, &general), "input %q", data)
			if !reflect.DeepEqual(general, sh) {
				t.Fatalf("input %q:\nfast    %#v\ngeneral %#v", data, sh, general)
			}
		}
	})
}

func TestFulfillmentFastPathTaken(t *testing.T) {
	var a AllocationUpdate
	assert.True(t, decodeAllocationFast([]byte(fulfillmentSeeds[0]), &a), "allocation seed takes the fast path")
	var sh Shipment
	assert.True(t, decodeShipmentFast([]byte(fulfillmentSeeds[1]), &sh), "shipment seed takes the fast path")
	for _, s := range fulfillmentSeeds[2:] {
		var a AllocationUpdate
		var sh Shipment
		assert.False(t, decodeAllocationFast([]byte(s), &a) || decodeShipmentFast([]byte(s), &sh), "fast paths refuse %s", s)
	}
	// Through DecodeData, as encoding/json decodes them.
	for i, typ := range []EventType{EventFulfillmentAllocated, EventFulfillmentShipped} {
		ev := Event{Type: typ, DataContentType: "application/json", Data: json.RawMessage(fulfillmentSeeds[i])}
		if i == 0 {
			var want AllocationUpdate
			require.NoError(t, json.Unmarshal(ev.Data, &want), "json.Unmarshal allocation")
			got, err := DecodeData[AllocationUpdate](ev)
			require.NoError(t, err, "DecodeData[AllocationUpdate]")
			assert.Equal(t, want, got, "DecodeData[AllocationUpdate] is json.Unmarshal's")
			continue
		}
		var want Shipment
		require.NoError(t, json.Unmarshal(ev.Data, &want), "json.Unmarshal shipment")
		got, err := DecodeData[*Shipment](ev)
		require.NoError(t, err, "DecodeData[*Shipment]")
		assert.Equal(t, want, *got, "DecodeData[*Shipment] is json.Unmarshal's")
	}
}
