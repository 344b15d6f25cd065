package canonical

import (
	"slices"

	"github.com/distsync/distsync/internal/jsonfast"
)

// Fast decoders and encoders of the inventory documents (adjustments and
// positions), written like those of the warehouse documents of
// order-to-cash: the decoders take the form distsync encodes and leave
// anything else to encoding/json, the encoders write json.Marshal's bytes.
// FuzzDecodeFulfillmentFast and FuzzEncodeFulfillment check them too.

func decodeAdjustmentFast(data []byte, a *InventoryAdjustment) bool {
	s := lineScanner{b: data}
	var seen uint32
	ok := s.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return scanStr(&s, &a.ID) && once(&seen, 1<<0)
		case "refs":
			return s.refs(&a.Refs) && once(&seen, 1<<1)
		case "item":
			return s.item(&a.Item) && once(&seen, 1<<2)
		case "location":
			return scanStr(&s, &a.Location) && once(&seen, 1<<3)
		case "lot":
			return scanStr(&s, &a.Lot) && once(&seen, 1<<4)
		case "status":
			return scanStr(&s, &a.Status) && once(&seen, 1<<5)
		case "delta":
			return s.quantity(&a.Delta) && once(&seen, 1<<6)
		case "reason":
			return scanStr(&s, &a.Reason) && once(&seen, 1<<7)
		case "note":
			return scanStr(&s, &a.Note) && once(&seen, 1<<8)
		case "adjustedAt":
			return s.time(&a.AdjustedAt) && once(&seen, 1<<9)
		case "sequence":
			return s.int64(&a.Sequence) && once(&seen, 1<<10)
		}
		return false
	})
	return ok && s.end()
}

func decodePositionFast(data []byte, p *InventoryPosition) bool {
	s := lineScanner{b: data}
	var seen uint32
	ok := s.object(func(k []byte) bool {
		switch string(k) {
		case "item":
			return s.item(&p.Item) && once(&seen, 1<<0)
		case "location":
			return scanStr(&s, &p.Location) && once(&seen, 1<<1)
		case "lot":
			return scanStr(&s, &p.Lot) && once(&seen, 1<<2)
		case "status":
			return scanStr(&s, &p.Status) && once(&seen, 1<<3)
		case "kind":
			v, ok := s.str()
			return ok && p.Kind.UnmarshalText([]byte(v)) == nil && once(&seen, 1<<4)
		case "onHand":
			return s.quantity(&p.OnHand) && once(&seen, 1<<5)
		case "allocated":
			return s.quantity(&p.Allocated) && once(&seen, 1<<6)
		case "available":
			return s.quantity(&p.Available) && once(&seen, 1<<7)
		case "inbound":
			return s.quantity(&p.Inbound) && once(&seen, 1<<8)
		case "asOf":
			return s.time(&p.AsOf) && once(&seen, 1<<9)
		case "sequence":
			return s.int64(&p.Sequence) && once(&seen, 1<<10)
		}
		return false
	})
	return ok && s.end()
}

// appendAdjustment appends the encoding of a to b.
func appendAdjustment(b []byte, a *InventoryAdjustment) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 384)}}
	e.Open()
	e.Str("id", a.ID)
	e.refs("refs", a.Refs)
	e.item("item", &a.Item)
	e.Str("location", a.Location)
	e.StrOmit("lot", a.Lot)
	e.Str("status", string(a.Status))
	e.quantity("delta", a.Delta)
	e.Str("reason", string(a.Reason))
	e.StrOmit("note", a.Note)
	e.TimeAlways("adjustedAt", a.AdjustedAt)
	e.Int("sequence", a.Sequence)
	e.Close()
	return e.result("inventory adjustment")
}

// appendPosition appends the encoding of p to b.
func appendPosition(b []byte, p *InventoryPosition) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 448)}}
	e.Open()
	e.item("item", &p.Item)
	e.Str("location", p.Location)
	e.StrOmit("lot", p.Lot)
	e.Str("status", string(p.Status))
	kind, err := p.Kind.MarshalText()
	if err != nil {
		return nil, err
	}
	e.Str("kind", string(kind))
	e.quantity("onHand", p.OnHand)
	e.quantity("allocated", p.Allocated)
	e.quantity("available", p.Available)
	e.quantity("inbound", p.Inbound)
	e.TimeAlways("asOf", p.AsOf)
	e.Int("sequence", p.Sequence)
	e.Close()
	return e.result("inventory position")
}

// encodeAdjustment encodes a as json.Marshal does.
func encodeAdjustment(a *InventoryAdjustment) ([]byte, error) { return appendAdjustment(nil, a) }

// encodePosition encodes p as json.Marshal does.
func encodePosition(p *InventoryPosition) ([]byte, error) { return appendPosition(nil, p) }
