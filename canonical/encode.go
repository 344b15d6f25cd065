package canonical

import (
	"fmt"
	"slices"

	"github.com/distsync/distsync/internal/jsonfast"
)

// The JSON encoders of the documents: the bytes are exactly those
// json.Marshal produces (FuzzEncodeFulfillment and the order encoding
// tests check it), written without reflection. The per-type code is
// generated from the types (codec_gen.go, by go generate); this file holds
// the entry points and the values that marshal themselves.

//go:generate go run ./internal/codec/gen -o codec_gen.go

// EncodeOrder encodes o as JSON. The bytes are exactly those json.Marshal
// produces for o. It fails only where json.Marshal fails: a time outside
// the years 0 to 9999.
func EncodeOrder(o Order) ([]byte, error) { return appendOrder(nil, &o) }

// orderEncoder writes canonical's documents with a jsonfast.Writer: its
// generated methods (codec_gen.go) know the shapes of the documents, the
// methods here the values that marshal themselves, and the Writer writes
// the bytes.
type orderEncoder struct {
	jsonfast.Writer
}

// result returns the bytes, or the first error naming the document kind.
func (e *orderEncoder) result(kind string) ([]byte, error) {
	if e.Err != nil {
		return nil, fmt.Errorf("canonical: encode %s: %w", kind, e.Err)
	}
	return e.B, nil
}

// decimalValue writes d as Decimal.MarshalJSON does: a string.
func (e *orderEncoder) decimalValue(d Decimal) { e.TextValue(d.AppendText) }

// extensionsValue writes x as Extensions.MarshalJSON does.
func (e *orderEncoder) extensionsValue(x Extensions) {
	e.BeginValue()
	e.B = appendExtensions(e.B, x)
	e.EndValue()
}

// bucketsValue writes bs as Buckets.MarshalJSON does: the buckets that
// are not zero, by name.
func (e *orderEncoder) bucketsValue(bs Buckets) {
	e.Open()
	for i, d := range bs.v {
		if d != (Decimal{}) {
			e.Key(bucketNames[i+1])
			e.decimalValue(d)
		}
	}
	e.Close()
}

// quantityKindValue writes k as its MarshalText does; an invalid kind is
// its error.
func (e *orderEncoder) quantityKindValue(k QuantityEventKind) {
	if k != QuantityDelta && k != QuantitySnapshot {
		_, err := k.MarshalText()
		e.Fail(err)
		e.Null()
		return
	}
	e.String(k.String()) // a constant: MarshalText's bytes would be allocated
}

// appendOrder appends the encoding of o to b.
func appendOrder(b []byte, o *Order) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 640+320*len(o.Lines))}}
	e.encodeOrder(o)
	return e.result("order")
}

// appendInvoice appends the encoding of in to b.
func appendInvoice(b []byte, in *Invoice) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 640+320*len(in.Lines))}}
	e.encodeInvoice(in)
	return e.result(KindInvoice)
}

// appendFulfillmentOrder appends the encoding of f to b.
func appendFulfillmentOrder(b []byte, f *FulfillmentOrder) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 448+192*len(f.Lines))}}
	e.encodeFulfillmentOrder(f)
	return e.result("fulfillment order")
}

// appendAllocation appends the encoding of a to b.
func appendAllocation(b []byte, a *AllocationUpdate) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 192+320*len(a.Lines))}}
	e.encodeAllocationUpdate(a)
	return e.result("allocation update")
}

// appendShipment appends the encoding of s to b.
func appendShipment(b []byte, s *Shipment) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 480+320*len(s.Lines))}}
	e.encodeShipment(s)
	return e.result("shipment")
}

// appendAdjustment appends the encoding of a to b.
func appendAdjustment(b []byte, a *InventoryAdjustment) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 384)}}
	e.encodeInventoryAdjustment(a)
	return e.result("inventory adjustment")
}

// appendPosition appends the encoding of p to b.
func appendPosition(b []byte, p *InventoryPosition) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 448)}}
	e.encodeInventoryPosition(p)
	return e.result("inventory position")
}

// The encoders the tests call by document.

func encodeFulfillmentOrder(f *FulfillmentOrder) ([]byte, error) {
	return appendFulfillmentOrder(nil, f)
}
func encodeAllocation(a *AllocationUpdate) ([]byte, error)    { return appendAllocation(nil, a) }
func encodeShipment(s *Shipment) ([]byte, error)              { return appendShipment(nil, s) }
func encodeInvoice(in *Invoice) ([]byte, error)               { return appendInvoice(nil, in) }
func encodeAdjustment(a *InventoryAdjustment) ([]byte, error) { return appendAdjustment(nil, a) }
func encodePosition(p *InventoryPosition) ([]byte, error)     { return appendPosition(nil, p) }
