package canonical_test

import (
	"encoding/json"
	"testing"

	"github.com/distsync/distsync/canonical"
)

// benchDocuments are documents of the kinds the flows decode from events,
// as the simulators write them.
var benchDocuments = map[string]string{
	"fulfillment-order": `{"id":"FO-1","version":2,"refs":[{"system":"erp","type":"fo","value":"1","version":"3"}],"orderId":"O-1","orderVersion":1,"warehouse":"WH-1","split":{"group":"g","index":1,"count":1},"shipTo":{"id":"c","name":"Acme","address":{"lines":["1 Road"],"city":"X","country":"US"}},"shipComplete":true,"requestedShipDate":"2026-11-03T00:00:00+01:00","lines":[{"id":"FL-1","orderLineId":"L-1","item":{"sku":"SKU-1"},"quantity":{"value":"3","unit":"EA"}},{"id":"FL-2","orderLineId":"L-2","item":{"sku":"SKU-2"},"quantity":{"value":"1","unit":"EA"}}],"releasedAt":"2026-11-02T09:00:00Z"}`,
	"allocation":        `{"fulfillmentOrderId":"FO-1","orderId":"O-1","warehouse":"WH-1","asOf":"2026-11-02T09:00:00Z","sequence":2,"lines":[{"fulfillmentLineId":"FL-1","orderLineId":"L-1","item":{"sku":"SKU-1","gtin":"00012345678905","description":"d","refs":[{"system":"wms","type":"item","value":"1"}]},"allocated":{"value":"3","unit":"EA"},"backordered":{"value":"0","unit":"EA"},"picked":{"value":"1.5","unit":"EA"},"expectedDate":"2026-11-05T00:00:00-05:00"}]}`,
	"shipment":          `{"id":"S-1","version":1,"refs":[{"system":"wms","type":"shipment","value":"S1"}],"orderId":"O-1","fulfillmentOrderId":"FO-1","warehouse":"WH-1","carrier":{"scac":"UPSN","name":"UPS"},"service":"ground","trackingNumbers":["1Z1","1Z2"],"shippedAt":"2026-11-02T09:00:00Z","packages":[{"sscc":"006141411234567890","trackingNumber":"1Z1","weight":{"value":"2.5","unit":"KGM"},"lines":[{"shipmentLineId":"SL-1","quantity":{"value":"3","unit":"EA"}}]}],"lines":[{"id":"SL-1","orderLineId":"L-1","fulfillmentLineId":"FL-1","item":{"sku":"SKU-1"},"quantity":{"value":"3","unit":"EA"},"lots":[{"lot":"A","quantity":{"value":"3","unit":"EA"},"expiresAt":"2027-01-01T00:00:00Z"}],"serials":["SN1"]}],"finalForFulfillment":true}`,
	"adjustment":        `{"id":"ADJ-1","refs":[{"system":"wms","type":"adj","value":"1"}],"item":{"sku":"SKU-1"},"location":"WH-1","lot":"A","status":"available","delta":{"value":"-2","unit":"EA"},"reason":"other","note":"n","adjustedAt":"2026-11-02T09:00:00Z","sequence":3}`,
	"position":          `{"item":{"sku":"SKU-1"},"location":"WH-1","lot":"A","status":"damaged","kind":"snapshot","onHand":{"value":"5","unit":"EA"},"allocated":{"value":"1","unit":"EA"},"available":{"value":"4","unit":"EA"},"inbound":{"value":"0","unit":"EA"},"asOf":"2026-11-02T09:00:00Z","sequence":7}`,
}

// BenchmarkDecodeData decodes the data of events of each kind the flows
// read, as DecodeData does for them (decoding and validation).
func BenchmarkDecodeData(b *testing.B) {
	o := sampleOrder(3)
	run := func(name string, doc canonical.Document, typ canonical.EventType, decode func(canonical.Event) error) {
		b.Run(name, func(b *testing.B) {
			ev, err := canonical.NewEvent(typ, doc)
			if err != nil {
				b.Fatal(err)
			}
			if err := decode(ev); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(ev.Data)))
			for b.Loop() {
				if err := decode(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	unmarshal := func(name string, doc any) {
		if err := json.Unmarshal([]byte(benchDocuments[name]), doc); err != nil {
			b.Fatal(name, err)
		}
	}
	var fo canonical.FulfillmentOrder
	unmarshal("fulfillment-order", &fo)
	var alloc canonical.AllocationUpdate
	unmarshal("allocation", &alloc)
	var sh canonical.Shipment
	unmarshal("shipment", &sh)
	var adj canonical.InventoryAdjustment
	unmarshal("adjustment", &adj)
	var pos canonical.InventoryPosition
	unmarshal("position", &pos)
	run("order", o, canonical.EventOrderAccepted, func(e canonical.Event) error {
		_, err := canonical.DecodeData[canonical.Order](e)
		return err
	})
	run("fulfillment-order", fo, canonical.EventFulfillmentReleased, func(e canonical.Event) error {
		_, err := canonical.DecodeData[canonical.FulfillmentOrder](e)
		return err
	})
	run("allocation", alloc, canonical.EventFulfillmentAllocated, func(e canonical.Event) error {
		_, err := canonical.DecodeData[canonical.AllocationUpdate](e)
		return err
	})
	run("shipment", sh, canonical.EventFulfillmentShipped, func(e canonical.Event) error {
		_, err := canonical.DecodeData[canonical.Shipment](e)
		return err
	})
	run("adjustment", adj, canonical.EventInventoryAdjusted, func(e canonical.Event) error {
		_, err := canonical.DecodeData[canonical.InventoryAdjustment](e)
		return err
	})
	run("position", pos, canonical.EventInventorySnapshot, func(e canonical.Event) error {
		_, err := canonical.DecodeData[canonical.InventoryPosition](e)
		return err
	})
}
