package canonical

// Fast decoders of the warehouse documents of order-to-cash (allocation
// updates and shipments), in the form distsync encodes them: known keys
// once each, strings without escapes, amounts as strings, no nulls. Like
// decodeOrderFast they report false on anything else, and DecodeData then
// uses encoding/json, which gives the same result for every input they
// accept (FuzzDecodeFulfillmentFast checks it).

func decodeAllocationFast(data []byte, a *AllocationUpdate) bool {
	s := lineScanner{b: data}
	var seen uint32
	ok := s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "fulfillmentOrderId":
			a.FulfillmentOrderID, ok = s.str()
			return ok && once(&seen, 1<<0)
		case "orderId":
			a.OrderID, ok = s.str()
			return ok && once(&seen, 1<<1)
		case "warehouse":
			a.Warehouse, ok = s.str()
			return ok && once(&seen, 1<<2)
		case "asOf":
			return s.time(&a.AsOf) && once(&seen, 1<<3)
		case "sequence":
			return s.int64(&a.Sequence) && once(&seen, 1<<4)
		case "lines":
			return s.allocationLines(&a.Lines) && once(&seen, 1<<5)
		}
		return false
	})
	return ok && s.end()
}

func (s *lineScanner) allocationLines(out *[]AllocationLine) bool {
	if s.peek('n') {
		return false
	}
	list := make([]AllocationLine, 0, 2)
	ok := s.array(func() bool {
		var l AllocationLine
		var seen uint32
		ok := s.object(func(k []byte) bool {
			var ok bool
			switch string(k) {
			case "fulfillmentLineId":
				l.FulfillmentLineID, ok = s.str()
				return ok && once(&seen, 1<<0)
			case "orderLineId":
				l.OrderLineID, ok = s.str()
				return ok && once(&seen, 1<<1)
			case "item":
				return s.item(&l.Item) && once(&seen, 1<<2)
			case "allocated":
				return s.quantity(&l.Allocated) && once(&seen, 1<<3)
			case "backordered":
				return s.quantity(&l.Backordered) && once(&seen, 1<<4)
			case "picked":
				return s.quantityPtr(&l.Picked) && once(&seen, 1<<5)
			case "expectedDate":
				return s.time(&l.ExpectedDate) && once(&seen, 1<<6)
			}
			return false
		})
		list = append(list, l)
		return ok
	})
	*out = list
	return ok
}

// quantityPtr decodes a quantity into a new Quantity, as encoding/json
// does for a nil *Quantity; null is left to encoding/json.
func (s *lineScanner) quantityPtr(q **Quantity) bool {
	if s.peek('n') {
		return false
	}
	*q = new(Quantity)
	return s.quantity(*q)
}

func decodeShipmentFast(data []byte, sh *Shipment) bool {
	s := lineScanner{b: data}
	var seen uint32
	ok := s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "id":
			sh.ID, ok = s.str()
			return ok && once(&seen, 1<<0)
		case "version":
			return s.int64(&sh.Version) && once(&seen, 1<<1)
		case "refs":
			return s.refs(&sh.Refs) && once(&seen, 1<<2)
		case "orderId":
			sh.OrderID, ok = s.str()
			return ok && once(&seen, 1<<3)
		case "fulfillmentOrderId":
			sh.FulfillmentOrderID, ok = s.str()
			return ok && once(&seen, 1<<4)
		case "warehouse":
			sh.Warehouse, ok = s.str()
			return ok && once(&seen, 1<<5)
		case "carrier":
			return s.carrier(&sh.Carrier) && once(&seen, 1<<6)
		case "service":
			sh.Service, ok = s.str()
			return ok && once(&seen, 1<<7)
		case "trackingNumbers":
			return s.strings(&sh.TrackingNumbers) && once(&seen, 1<<8)
		case "shippedAt":
			return s.time(&sh.ShippedAt) && once(&seen, 1<<9)
		case "packages":
			return s.packages(&sh.Packages) && once(&seen, 1<<10)
		case "lines":
			return s.shipmentLines(&sh.Lines) && once(&seen, 1<<11)
		case "finalForFulfillment":
			return s.bool(&sh.FinalForFulfillment) && once(&seen, 1<<12)
		}
		return false
	})
	return ok && s.end()
}

func (s *lineScanner) carrier(c *Carrier) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "scac":
			c.SCAC, ok = s.str()
			return ok && once(&seen, 1)
		case "name":
			c.Name, ok = s.str()
			return ok && once(&seen, 2)
		}
		return false
	})
}

func (s *lineScanner) packages(out *[]Package) bool {
	if s.peek('n') {
		return false
	}
	list := make([]Package, 0, 1)
	ok := s.array(func() bool {
		var p Package
		var seen uint32
		ok := s.object(func(k []byte) bool {
			var ok bool
			switch string(k) {
			case "sscc":
				v, ok := s.str()
				return ok && p.SSCC.UnmarshalText([]byte(v)) == nil && once(&seen, 1)
			case "trackingNumber":
				p.TrackingNumber, ok = s.str()
				return ok && once(&seen, 2)
			case "weight":
				return s.quantityPtr(&p.Weight) && once(&seen, 4)
			case "lines":
				return s.packageLines(&p.Lines) && once(&seen, 8)
			}
			return false
		})
		list = append(list, p)
		return ok
	})
	*out = list
	return ok
}

func (s *lineScanner) packageLines(out *[]PackageLine) bool {
	if s.peek('n') {
		return false
	}
	list := make([]PackageLine, 0, 1)
	ok := s.array(func() bool {
		var l PackageLine
		var seen uint32
		ok := s.object(func(k []byte) bool {
			var ok bool
			switch string(k) {
			case "shipmentLineId":
				l.ShipmentLineID, ok = s.str()
				return ok && once(&seen, 1)
			case "quantity":
				return s.quantity(&l.Quantity) && once(&seen, 2)
			}
			return false
		})
		list = append(list, l)
		return ok
	})
	*out = list
	return ok
}

func (s *lineScanner) shipmentLines(out *[]ShipmentLine) bool {
	if s.peek('n') {
		return false
	}
	list := make([]ShipmentLine, 0, 2)
	ok := s.array(func() bool {
		var l ShipmentLine
		var seen uint32
		ok := s.object(func(k []byte) bool {
			var ok bool
			switch string(k) {
			case "id":
				l.ID, ok = s.str()
				return ok && once(&seen, 1<<0)
			case "orderLineId":
				l.OrderLineID, ok = s.str()
				return ok && once(&seen, 1<<1)
			case "fulfillmentLineId":
				l.FulfillmentLineID, ok = s.str()
				return ok && once(&seen, 1<<2)
			case "item":
				return s.item(&l.Item) && once(&seen, 1<<3)
			case "quantity":
				return s.quantity(&l.Quantity) && once(&seen, 1<<4)
			case "lots":
				return s.lots(&l.Lots) && once(&seen, 1<<5)
			case "serials":
				return s.strings(&l.Serials) && once(&seen, 1<<6)
			}
			return false
		})
		list = append(list, l)
		return ok
	})
	*out = list
	return ok
}

func (s *lineScanner) lots(out *[]LotQuantity) bool {
	if s.peek('n') {
		return false
	}
	list := make([]LotQuantity, 0, 1)
	ok := s.array(func() bool {
		var l LotQuantity
		var seen uint32
		ok := s.object(func(k []byte) bool {
			var ok bool
			switch string(k) {
			case "lot":
				l.Lot, ok = s.str()
				return ok && once(&seen, 1)
			case "quantity":
				return s.quantity(&l.Quantity) && once(&seen, 2)
			case "expiresAt":
				return s.time(&l.ExpiresAt) && once(&seen, 4)
			}
			return false
		})
		list = append(list, l)
		return ok
	})
	*out = list
	return ok
}
