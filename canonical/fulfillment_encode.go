package canonical

import (
	"fmt"
	"slices"

	"github.com/distsync/distsync/internal/jsonfast"
)

// Encoders of the warehouse documents of order-to-cash (fulfilment orders,
// allocation updates, shipments), written like EncodeOrder: the bytes are
// exactly those json.Marshal produces (FuzzEncodeFulfillment checks it),
// without reflection. NewEvent uses them.

// appendFulfillmentOrder appends the encoding of f to b.
func appendFulfillmentOrder(b []byte, f *FulfillmentOrder) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 448+192*len(f.Lines))}}
	e.Open()
	e.Str("id", f.ID)
	e.Int("version", f.Version)
	e.refs("refs", f.Refs)
	e.Str("orderId", f.OrderID)
	e.Int("orderVersion", f.OrderVersion)
	e.Str("warehouse", f.Warehouse)
	e.Object("split")
	e.Str("group", f.Split.Group)
	e.Int("index", int64(f.Split.Index))
	e.Int("count", int64(f.Split.Count))
	e.Close()
	e.party("shipTo", &f.ShipTo)
	e.BoolOmit("shipComplete", f.ShipComplete)
	e.Time("requestedShipDate", f.RequestedShipDate)
	e.extensions("extensions", f.Extensions)
	if e.ArrayOrNull("lines", f.Lines == nil) {
		for i := range f.Lines {
			l := &f.Lines[i]
			e.Open()
			e.Str("id", l.ID)
			e.Str("orderLineId", l.OrderLineID)
			e.item("item", &l.Item)
			e.quantity("quantity", l.Quantity)
			e.extensions("extensions", l.Extensions)
			e.Close()
		}
		e.CloseArray()
	}
	e.Time("releasedAt", f.ReleasedAt)
	e.Close()
	return e.result("fulfillment order")
}

// appendAllocation appends the encoding of a to b.
func appendAllocation(b []byte, a *AllocationUpdate) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 192+320*len(a.Lines))}}
	e.Open()
	e.Str("fulfillmentOrderId", a.FulfillmentOrderID)
	e.Str("orderId", a.OrderID)
	e.Str("warehouse", a.Warehouse)
	e.TimeAlways("asOf", a.AsOf)
	e.Int("sequence", a.Sequence)
	if e.ArrayOrNull("lines", a.Lines == nil) {
		for i := range a.Lines {
			l := &a.Lines[i]
			e.Open()
			e.Str("fulfillmentLineId", l.FulfillmentLineID)
			e.Str("orderLineId", l.OrderLineID)
			e.item("item", &l.Item)
			e.quantity("allocated", l.Allocated)
			e.quantity("backordered", l.Backordered)
			if l.Picked != nil {
				e.quantity("picked", *l.Picked)
			}
			e.Time("expectedDate", l.ExpectedDate)
			e.Close()
		}
		e.CloseArray()
	}
	e.Close()
	return e.result("allocation update")
}

// appendShipment appends the encoding of s to b.
func appendShipment(b []byte, s *Shipment) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 480+320*len(s.Lines))}}
	e.Open()
	e.Str("id", s.ID)
	e.Int("version", s.Version)
	e.refs("refs", s.Refs)
	e.Str("orderId", s.OrderID)
	e.Str("fulfillmentOrderId", s.FulfillmentOrderID)
	e.Str("warehouse", s.Warehouse)
	e.Object("carrier")
	e.Str("scac", s.Carrier.SCAC)
	e.StrOmit("name", s.Carrier.Name)
	e.Close()
	e.StrOmit("service", s.Service)
	e.Strings("trackingNumbers", s.TrackingNumbers)
	e.TimeAlways("shippedAt", s.ShippedAt)
	if e.ArrayOmit("packages", len(s.Packages)) {
		for i := range s.Packages {
			p := &s.Packages[i]
			e.Open()
			e.Str("sscc", string(p.SSCC))
			e.StrOmit("trackingNumber", p.TrackingNumber)
			if p.Weight != nil {
				e.quantity("weight", *p.Weight)
			}
			if e.ArrayOmit("lines", len(p.Lines)) {
				for j := range p.Lines {
					l := &p.Lines[j]
					e.Open()
					e.Str("shipmentLineId", l.ShipmentLineID)
					e.quantity("quantity", l.Quantity)
					e.Close()
				}
				e.CloseArray()
			}
			e.Close()
		}
		e.CloseArray()
	}
	if e.ArrayOrNull("lines", s.Lines == nil) {
		for i := range s.Lines {
			l := &s.Lines[i]
			e.Open()
			e.Str("id", l.ID)
			e.Str("orderLineId", l.OrderLineID)
			e.Str("fulfillmentLineId", l.FulfillmentLineID)
			e.item("item", &l.Item)
			e.quantity("quantity", l.Quantity)
			if e.ArrayOmit("lots", len(l.Lots)) {
				for j := range l.Lots {
					lot := &l.Lots[j]
					e.Open()
					e.Str("lot", lot.Lot)
					e.quantity("quantity", lot.Quantity)
					e.Time("expiresAt", lot.ExpiresAt)
					e.Close()
				}
				e.CloseArray()
			}
			e.Strings("serials", l.Serials)
			e.Close()
		}
		e.CloseArray()
	}
	e.BoolOmit("finalForFulfillment", s.FinalForFulfillment)
	e.extensions("extensions", s.Extensions)
	e.Close()
	return e.result("shipment")
}

// result returns the bytes, or the first error naming the document kind.
func (e *orderEncoder) result(kind string) ([]byte, error) {
	if e.Err != nil {
		return nil, fmt.Errorf("canonical: encode %s: %w", kind, e.Err)
	}
	return e.B, nil
}

func (e *orderEncoder) item(name string, it *ItemRef) {
	e.Object(name)
	e.Str("sku", it.SKU)
	e.StrOmit("gtin", string(it.GTIN))
	e.StrOmit("description", it.Description)
	e.refs("refs", it.Refs)
	e.Close()
}

func (e *orderEncoder) quantity(name string, q Quantity) {
	e.Object(name)
	e.decimal("value", q.Value)
	e.Str("unit", string(q.Unit))
	e.Close()
}

// encodeFulfillmentOrder encodes f as json.Marshal does.
func encodeFulfillmentOrder(f *FulfillmentOrder) ([]byte, error) {
	return appendFulfillmentOrder(nil, f)
}

// encodeAllocation encodes a as json.Marshal does.
func encodeAllocation(a *AllocationUpdate) ([]byte, error) { return appendAllocation(nil, a) }

// encodeShipment encodes s as json.Marshal does.
func encodeShipment(s *Shipment) ([]byte, error) { return appendShipment(nil, s) }
