package canonical

import (
	"strconv"
)

// decodeOrderFast decodes an order in the form distsync encodes it (known
// keys once each, strings without escapes, amounts as strings, no nulls).
// It reports false on anything else; DecodeOrder then uses encoding/json,
// which gives the same result for every input the fast path accepts.
func decodeOrderFast(data []byte, o *Order) bool {
	s := lineScanner{b: data}
	var seen uint32
	ok := s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "id":
			o.ID, ok = s.str()
			return ok && once(&seen, 1<<0)
		case "version":
			return s.int64(&o.Version) && once(&seen, 1<<1)
		case "refs":
			return s.refs(&o.Refs) && once(&seen, 1<<2)
		case "customerPO":
			o.CustomerPO, ok = s.str()
			return ok && once(&seen, 1<<3)
		case "soldTo":
			return s.party(&o.SoldTo) && once(&seen, 1<<4)
		case "shipTo":
			return s.party(&o.ShipTo) && once(&seen, 1<<5)
		case "billTo":
			var p PartyRef
			if !s.party(&p) {
				return false
			}
			o.BillTo = &p
			return once(&seen, 1<<6)
		case "currency":
			return s.currency(&o.Currency) && once(&seen, 1<<7)
		case "paymentTerms":
			o.PaymentTerms, ok = s.str()
			return ok && once(&seen, 1<<8)
		case "orderedAt":
			return s.time(&o.OrderedAt) && once(&seen, 1<<9)
		case "requestedShipDate":
			return s.time(&o.RequestedShipDate) && once(&seen, 1<<10)
		case "requestedDeliveryDate":
			return s.time(&o.RequestedDeliveryDate) && once(&seen, 1<<11)
		case "shipComplete":
			return s.bool(&o.ShipComplete) && once(&seen, 1<<12)
		case "holds":
			return s.holds(&o.Holds) && once(&seen, 1<<13)
		case "charges":
			return s.charges(&o.Charges) && once(&seen, 1<<14)
		case "taxes":
			return s.taxes(&o.Taxes) && once(&seen, 1<<15)
		case "totals":
			var t Totals
			if !s.totals(&t) {
				return false
			}
			o.Totals = &t
			return once(&seen, 1<<16)
		case "notes":
			return s.notes(&o.Notes) && once(&seen, 1<<17)
		case "lines":
			return s.lines(&o.Lines) && once(&seen, 1<<18)
		case "submittedAt":
			return s.time(&o.SubmittedAt) && once(&seen, 1<<19)
		case "acceptedAt":
			return s.time(&o.AcceptedAt) && once(&seen, 1<<20)
		case "rejectedAt":
			return s.time(&o.RejectedAt) && once(&seen, 1<<21)
		case "cancelledAt":
			return s.time(&o.CancelledAt) && once(&seen, 1<<22)
		case "closedAt":
			return s.time(&o.ClosedAt) && once(&seen, 1<<23)
		}
		return false
	})
	return ok && s.end()
}

// int64 reads an integer literal (no fraction or exponent).
func (s *lineScanner) int64(v *int64) bool {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || (s.b[digits] == '0' && s.i > digits+1) ||
		(s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E')) {
		return false // no digits, a leading zero, or not an integer
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	*v = n
	return err == nil
}

func (s *lineScanner) bool(v *bool) bool {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		*v = true
		s.i += 4
		return true
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		*v = false
		s.i += 5
		return true
	}
	return false
}

func (s *lineScanner) currency(c *Currency) bool {
	v, ok := s.str()
	if !ok || Currency(v).Validate() != nil {
		return false
	}
	*c = Currency(v)
	return true
}

func (s *lineScanner) strings(out *[]string) bool {
	if s.peek('n') {
		return false
	}
	list := make([]string, 0, 2)
	ok := s.array(func() bool {
		v, ok := s.str()
		list = append(list, v)
		return ok
	})
	*out = list
	return ok
}

func (s *lineScanner) address(a *Address) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "name":
			a.Name, ok = s.str()
			return ok && once(&seen, 1)
		case "lines":
			return s.strings(&a.Lines) && once(&seen, 2)
		case "city":
			a.City, ok = s.str()
			return ok && once(&seen, 4)
		case "region":
			a.Region, ok = s.str()
			return ok && once(&seen, 8)
		case "postalCode":
			a.PostalCode, ok = s.str()
			return ok && once(&seen, 16)
		case "country":
			a.Country, ok = s.str()
			return ok && once(&seen, 32)
		}
		return false
	})
}

func (s *lineScanner) party(p *PartyRef) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "id":
			p.ID, ok = s.str()
			return ok && once(&seen, 1)
		case "name":
			p.Name, ok = s.str()
			return ok && once(&seen, 2)
		case "refs":
			return s.refs(&p.Refs) && once(&seen, 4)
		case "address":
			var a Address
			if !s.address(&a) {
				return false
			}
			p.Address = &a
			return once(&seen, 8)
		}
		return false
	})
}

func (s *lineScanner) holds(out *[]Hold) bool {
	if s.peek('n') {
		return false
	}
	list := make([]Hold, 0, 1)
	ok := s.array(func() bool {
		var h Hold
		var seen uint32
		ok := s.object(func(k []byte) bool {
			switch string(k) {
			case "kind":
				v, ok := s.str()
				h.Kind = HoldKind(v)
				return ok && once(&seen, 1)
			case "reason":
				var ok bool
				h.Reason, ok = s.str()
				return ok && once(&seen, 2)
			case "code":
				var ok bool
				h.Code, ok = s.str()
				return ok && once(&seen, 4)
			case "placedAt":
				return s.time(&h.PlacedAt) && once(&seen, 8)
			case "releasedAt":
				return s.time(&h.ReleasedAt) && once(&seen, 16)
			}
			return false
		})
		list = append(list, h)
		return ok
	})
	*out = list
	return ok
}

func (s *lineScanner) charges(out *[]Charge) bool {
	if s.peek('n') {
		return false
	}
	list := make([]Charge, 0, 1)
	ok := s.array(func() bool {
		var c Charge
		var seen uint32
		ok := s.object(func(k []byte) bool {
			var ok bool
			switch string(k) {
			case "type":
				c.Type, ok = s.str()
				return ok && once(&seen, 1)
			case "description":
				c.Description, ok = s.str()
				return ok && once(&seen, 2)
			case "amount":
				return s.money(&c.Amount) && once(&seen, 4)
			}
			return false
		})
		list = append(list, c)
		return ok
	})
	*out = list
	return ok
}

func (s *lineScanner) taxes(out *[]Tax) bool {
	if s.peek('n') {
		return false
	}
	list := make([]Tax, 0, 1)
	ok := s.array(func() bool {
		var t Tax
		var seen uint32
		ok := s.object(func(k []byte) bool {
			var ok bool
			switch string(k) {
			case "type":
				t.Type, ok = s.str()
				return ok && once(&seen, 1)
			case "jurisdiction":
				t.Jurisdiction, ok = s.str()
				return ok && once(&seen, 2)
			case "rate":
				var d Decimal
				if !s.decimal(&d) {
					return false
				}
				t.Rate = &d
				return once(&seen, 4)
			case "taxable":
				var m Money
				if !s.money(&m) {
					return false
				}
				t.Taxable = &m
				return once(&seen, 8)
			case "amount":
				return s.money(&t.Amount) && once(&seen, 16)
			}
			return false
		})
		list = append(list, t)
		return ok
	})
	*out = list
	return ok
}

func (s *lineScanner) totals(t *Totals) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "subtotal":
			return s.money(&t.Subtotal) && once(&seen, 1)
		case "charges":
			return s.money(&t.Charges) && once(&seen, 2)
		case "tax":
			return s.money(&t.Tax) && once(&seen, 4)
		case "total":
			return s.money(&t.Total) && once(&seen, 8)
		}
		return false
	})
}

func (s *lineScanner) lines(out *[]OrderLine) bool {
	if s.peek('n') {
		return false
	}
	var list []OrderLine
	ok := s.array(func() bool {
		list = append(list, OrderLine{})
		return s.line(&list[len(list)-1])
	})
	if list == nil {
		list = []OrderLine{}
	}
	*out = list
	return ok
}
