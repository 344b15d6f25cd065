package canonical

import (
	"fmt"
	"strconv"
	"time"
)

// Encoders of the warehouse documents of order-to-cash (fulfilment orders,
// allocation updates, shipments), written like EncodeOrder: the bytes are
// exactly those json.Marshal produces (FuzzEncodeFulfillment checks it),
// without reflection. NewEvent uses them.

// encodeFulfillmentOrder encodes f as json.Marshal does.
func encodeFulfillmentOrder(f *FulfillmentOrder) ([]byte, error) {
	e := orderEncoder{b: make([]byte, 0, 448+192*len(f.Lines))}
	e.open()
	e.str("id", f.ID)
	e.int("version", f.Version)
	e.refs("refs", f.Refs)
	e.str("orderId", f.OrderID)
	e.int("orderVersion", f.OrderVersion)
	e.str("warehouse", f.Warehouse)
	e.object("split")
	e.str("group", f.Split.Group)
	e.int("index", int64(f.Split.Index))
	e.int("count", int64(f.Split.Count))
	e.close()
	e.party("shipTo", &f.ShipTo)
	e.boolOmit("shipComplete", f.ShipComplete)
	e.time("requestedShipDate", f.RequestedShipDate)
	e.extensions("extensions", f.Extensions)
	encodeListOrNull(&e, "lines", f.Lines, func(l *FulfillmentLine) {
		e.open()
		e.str("id", l.ID)
		e.str("orderLineId", l.OrderLineID)
		e.item("item", &l.Item)
		e.quantity("quantity", l.Quantity)
		e.extensions("extensions", l.Extensions)
		e.close()
	})
	e.time("releasedAt", f.ReleasedAt)
	e.close()
	return e.result("fulfillment order")
}

// encodeAllocation encodes a as json.Marshal does.
func encodeAllocation(a *AllocationUpdate) ([]byte, error) {
	e := orderEncoder{b: make([]byte, 0, 192+320*len(a.Lines))}
	e.open()
	e.str("fulfillmentOrderId", a.FulfillmentOrderID)
	e.str("orderId", a.OrderID)
	e.str("warehouse", a.Warehouse)
	e.timeAlways("asOf", a.AsOf)
	e.int("sequence", a.Sequence)
	encodeListOrNull(&e, "lines", a.Lines, func(l *AllocationLine) {
		e.open()
		e.str("fulfillmentLineId", l.FulfillmentLineID)
		e.str("orderLineId", l.OrderLineID)
		e.item("item", &l.Item)
		e.quantity("allocated", l.Allocated)
		e.quantity("backordered", l.Backordered)
		if l.Picked != nil {
			e.quantity("picked", *l.Picked)
		}
		e.time("expectedDate", l.ExpectedDate)
		e.close()
	})
	e.close()
	return e.result("allocation update")
}

// encodeShipment encodes s as json.Marshal does.
func encodeShipment(s *Shipment) ([]byte, error) {
	e := orderEncoder{b: make([]byte, 0, 480+320*len(s.Lines))}
	e.open()
	e.str("id", s.ID)
	e.int("version", s.Version)
	e.refs("refs", s.Refs)
	e.str("orderId", s.OrderID)
	e.str("fulfillmentOrderId", s.FulfillmentOrderID)
	e.str("warehouse", s.Warehouse)
	e.object("carrier")
	e.str("scac", s.Carrier.SCAC)
	e.strOmit("name", s.Carrier.Name)
	e.close()
	e.strOmit("service", s.Service)
	e.strings("trackingNumbers", s.TrackingNumbers)
	e.timeAlways("shippedAt", s.ShippedAt)
	encodeList(&e, "packages", s.Packages, func(p *Package) {
		e.open()
		e.str("sscc", string(p.SSCC))
		e.strOmit("trackingNumber", p.TrackingNumber)
		if p.Weight != nil {
			e.quantity("weight", *p.Weight)
		}
		encodeList(&e, "lines", p.Lines, func(l *PackageLine) {
			e.open()
			e.str("shipmentLineId", l.ShipmentLineID)
			e.quantity("quantity", l.Quantity)
			e.close()
		})
		e.close()
	})
	encodeListOrNull(&e, "lines", s.Lines, func(l *ShipmentLine) {
		e.open()
		e.str("id", l.ID)
		e.str("orderLineId", l.OrderLineID)
		e.str("fulfillmentLineId", l.FulfillmentLineID)
		e.item("item", &l.Item)
		e.quantity("quantity", l.Quantity)
		encodeList(&e, "lots", l.Lots, func(lot *LotQuantity) {
			e.open()
			e.str("lot", lot.Lot)
			e.quantity("quantity", lot.Quantity)
			e.time("expiresAt", lot.ExpiresAt)
			e.close()
		})
		e.strings("serials", l.Serials)
		e.close()
	})
	e.boolOmit("finalForFulfillment", s.FinalForFulfillment)
	e.extensions("extensions", s.Extensions)
	e.close()
	return e.result("shipment")
}

// result returns the bytes, or the first error naming the document kind.
func (e *orderEncoder) result(kind string) ([]byte, error) {
	if e.err != nil {
		return nil, fmt.Errorf("canonical: encode %s: %w", kind, e.err)
	}
	return e.b, nil
}

func (e *orderEncoder) int(name string, v int64) {
	e.key(name)
	e.b = strconv.AppendInt(e.b, v, 10)
	e.comma = true
}

func (e *orderEncoder) boolOmit(name string, v bool) {
	if v {
		e.key(name)
		e.b = append(e.b, "true"...)
		e.comma = true
	}
}

// timeAlways appends a time of a member without omitzero: the zero time
// too.
func (e *orderEncoder) timeAlways(name string, t time.Time) {
	e.key(name)
	j, err := t.MarshalJSON()
	if err != nil && e.err == nil {
		e.err = fmt.Errorf("%s: %w", name, err)
	}
	e.b = append(e.b, j...)
	e.comma = true
}

func (e *orderEncoder) item(name string, it *ItemRef) {
	e.object(name)
	e.str("sku", it.SKU)
	e.strOmit("gtin", string(it.GTIN))
	e.strOmit("description", it.Description)
	e.refs("refs", it.Refs)
	e.close()
}

func (e *orderEncoder) quantity(name string, q Quantity) {
	e.object(name)
	e.decimal("value", q.Value)
	e.str("unit", string(q.Unit))
	e.close()
}

// strings appends name: [...] of strings, omitted when empty.
func (e *orderEncoder) strings(name string, ss []string) {
	encodeList(e, name, ss, func(s *string) { e.b = appendJSONString(e.b, *s, true) })
}
