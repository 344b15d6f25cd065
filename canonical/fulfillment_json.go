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
		switch string(k) {
		case "fulfillmentOrderId":
			return scanStr(&s, &a.FulfillmentOrderID) && once(&seen, 1<<0)
		case "orderId":
			return scanStr(&s, &a.OrderID) && once(&seen, 1<<1)
		case "warehouse":
			return scanStr(&s, &a.Warehouse) && once(&seen, 1<<2)
		case "asOf":
			return s.time(&a.AsOf) && once(&seen, 1<<3)
		case "sequence":
			return s.int64(&a.Sequence) && once(&seen, 1<<4)
		case "lines":
			return scanList(&s, &a.Lines, 2, s.allocationLine) && once(&seen, 1<<5)
		}
		return false
	})
	return ok && s.end()
}

func (s *lineScanner) allocationLine(l *AllocationLine) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "fulfillmentLineId":
			return scanStr(s, &l.FulfillmentLineID) && once(&seen, 1<<0)
		case "orderLineId":
			return scanStr(s, &l.OrderLineID) && once(&seen, 1<<1)
		case "item":
			return s.item(&l.Item) && once(&seen, 1<<2)
		case "allocated":
			return s.quantity(&l.Allocated) && once(&seen, 1<<3)
		case "backordered":
			return s.quantity(&l.Backordered) && once(&seen, 1<<4)
		case "picked":
			return scanPtr(s, &l.Picked, s.quantity) && once(&seen, 1<<5)
		case "expectedDate":
			return s.time(&l.ExpectedDate) && once(&seen, 1<<6)
		}
		return false
	})
}

func decodeShipmentFast(data []byte, sh *Shipment) bool {
	s := lineScanner{b: data}
	var seen uint32
	ok := s.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return scanStr(&s, &sh.ID) && once(&seen, 1<<0)
		case "version":
			return s.int64(&sh.Version) && once(&seen, 1<<1)
		case "refs":
			return s.refs(&sh.Refs) && once(&seen, 1<<2)
		case "orderId":
			return scanStr(&s, &sh.OrderID) && once(&seen, 1<<3)
		case "fulfillmentOrderId":
			return scanStr(&s, &sh.FulfillmentOrderID) && once(&seen, 1<<4)
		case "warehouse":
			return scanStr(&s, &sh.Warehouse) && once(&seen, 1<<5)
		case "carrier":
			return s.carrier(&sh.Carrier) && once(&seen, 1<<6)
		case "service":
			return scanStr(&s, &sh.Service) && once(&seen, 1<<7)
		case "trackingNumbers":
			return s.strings(&sh.TrackingNumbers) && once(&seen, 1<<8)
		case "shippedAt":
			return s.time(&sh.ShippedAt) && once(&seen, 1<<9)
		case "packages":
			return scanList(&s, &sh.Packages, 1, s.shipmentPackage) && once(&seen, 1<<10)
		case "lines":
			return scanList(&s, &sh.Lines, 2, s.shipmentLine) && once(&seen, 1<<11)
		case "finalForFulfillment":
			return s.bool(&sh.FinalForFulfillment) && once(&seen, 1<<12)
		case "extensions":
			return s.extensions(&sh.Extensions) && once(&seen, 1<<13)
		}
		return false
	})
	return ok && s.end()
}

func (s *lineScanner) carrier(c *Carrier) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "scac":
			return scanStr(s, &c.SCAC) && once(&seen, 1)
		case "name":
			return scanStr(s, &c.Name) && once(&seen, 2)
		}
		return false
	})
}

func (s *lineScanner) shipmentPackage(p *Package) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "sscc":
			v, ok := s.str()
			if !ok {
				return false
			}
			if v != "" { // UnmarshalText's empty SSCC is the zero one
				c, err := ParseSSCC(v) // v shares the document's string
				if err != nil {
					return false
				}
				p.SSCC = c
			}
			return once(&seen, 1)
		case "trackingNumber":
			return scanStr(s, &p.TrackingNumber) && once(&seen, 2)
		case "weight":
			return scanPtr(s, &p.Weight, s.quantity) && once(&seen, 4)
		case "lines":
			return scanList(s, &p.Lines, 1, s.packageLine) && once(&seen, 8)
		}
		return false
	})
}

func (s *lineScanner) packageLine(l *PackageLine) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "shipmentLineId":
			return scanStr(s, &l.ShipmentLineID) && once(&seen, 1)
		case "quantity":
			return s.quantity(&l.Quantity) && once(&seen, 2)
		}
		return false
	})
}

func (s *lineScanner) shipmentLine(l *ShipmentLine) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return scanStr(s, &l.ID) && once(&seen, 1<<0)
		case "orderLineId":
			return scanStr(s, &l.OrderLineID) && once(&seen, 1<<1)
		case "fulfillmentLineId":
			return scanStr(s, &l.FulfillmentLineID) && once(&seen, 1<<2)
		case "item":
			return s.item(&l.Item) && once(&seen, 1<<3)
		case "quantity":
			return s.quantity(&l.Quantity) && once(&seen, 1<<4)
		case "lots":
			return scanList(s, &l.Lots, 1, s.lot) && once(&seen, 1<<5)
		case "serials":
			return s.strings(&l.Serials) && once(&seen, 1<<6)
		}
		return false
	})
}

func (s *lineScanner) lot(l *LotQuantity) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "lot":
			return scanStr(s, &l.Lot) && once(&seen, 1)
		case "quantity":
			return s.quantity(&l.Quantity) && once(&seen, 2)
		case "expiresAt":
			return s.time(&l.ExpiresAt) && once(&seen, 4)
		}
		return false
	})
}
