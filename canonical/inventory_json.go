package canonical

// Fast decoders of the inventory documents (adjustments and positions),
// written like those of the warehouse documents of order-to-cash: they
// take the form distsync encodes and leave anything else to encoding/json.
// FuzzDecodeFulfillmentFast checks them too. The encoders are generated
// (codec_gen.go).

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
