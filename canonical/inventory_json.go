package canonical

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

// encodeAdjustment encodes a as json.Marshal does.
func encodeAdjustment(a *InventoryAdjustment) ([]byte, error) {
	e := orderEncoder{b: make([]byte, 0, 384)}
	e.open()
	e.str("id", a.ID)
	e.refs("refs", a.Refs)
	e.item("item", &a.Item)
	e.str("location", a.Location)
	e.strOmit("lot", a.Lot)
	e.str("status", string(a.Status))
	e.quantity("delta", a.Delta)
	e.str("reason", string(a.Reason))
	e.strOmit("note", a.Note)
	e.timeAlways("adjustedAt", a.AdjustedAt)
	e.int("sequence", a.Sequence)
	e.close()
	return e.result("inventory adjustment")
}

// encodePosition encodes p as json.Marshal does.
func encodePosition(p *InventoryPosition) ([]byte, error) {
	e := orderEncoder{b: make([]byte, 0, 448)}
	e.open()
	e.item("item", &p.Item)
	e.str("location", p.Location)
	e.strOmit("lot", p.Lot)
	e.str("status", string(p.Status))
	kind, err := p.Kind.MarshalText()
	if err != nil {
		return nil, err
	}
	e.str("kind", string(kind))
	e.quantity("onHand", p.OnHand)
	e.quantity("allocated", p.Allocated)
	e.quantity("available", p.Available)
	e.quantity("inbound", p.Inbound)
	e.timeAlways("asOf", p.AsOf)
	e.int("sequence", p.Sequence)
	e.close()
	return e.result("inventory position")
}
