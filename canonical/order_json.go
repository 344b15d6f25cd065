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
		switch string(k) {
		case "id":
			return scanStr(&s, &o.ID) && once(&seen, 1<<0)
		case "version":
			return s.int64(&o.Version) && once(&seen, 1<<1)
		case "refs":
			return s.refs(&o.Refs) && once(&seen, 1<<2)
		case "customerPO":
			return scanStr(&s, &o.CustomerPO) && once(&seen, 1<<3)
		case "soldTo":
			return s.party(&o.SoldTo) && once(&seen, 1<<4)
		case "shipTo":
			return s.party(&o.ShipTo) && once(&seen, 1<<5)
		case "billTo":
			return scanPtr(&s, &o.BillTo, s.party) && once(&seen, 1<<6)
		case "currency":
			return scanValid(&s, &o.Currency) && once(&seen, 1<<7)
		case "paymentTerms":
			return scanStr(&s, &o.PaymentTerms) && once(&seen, 1<<8)
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
			return scanPtr(&s, &o.Totals, s.totals) && once(&seen, 1<<16)
		case "notes":
			return s.notes(&o.Notes) && once(&seen, 1<<17)
		case "lines":
			return scanList(&s, &o.Lines, 0, s.line) && once(&seen, 1<<18)
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
		case "extensions":
			return s.extensions(&o.Extensions) && once(&seen, 1<<24)
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

func (s *lineScanner) strings(out *[]string) bool {
	return scanList(s, out, 2, func(v *string) bool { return scanStr(s, v) })
}

func (s *lineScanner) address(a *Address) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "name":
			return scanStr(s, &a.Name) && once(&seen, 1)
		case "lines":
			return s.strings(&a.Lines) && once(&seen, 2)
		case "city":
			return scanStr(s, &a.City) && once(&seen, 4)
		case "region":
			return scanStr(s, &a.Region) && once(&seen, 8)
		case "postalCode":
			return scanStr(s, &a.PostalCode) && once(&seen, 16)
		case "country":
			return scanStr(s, &a.Country) && once(&seen, 32)
		}
		return false
	})
}

func (s *lineScanner) party(p *PartyRef) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return scanStr(s, &p.ID) && once(&seen, 1)
		case "name":
			return scanStr(s, &p.Name) && once(&seen, 2)
		case "refs":
			return s.refs(&p.Refs) && once(&seen, 4)
		case "address":
			return scanPtr(s, &p.Address, s.address) && once(&seen, 8)
		}
		return false
	})
}

func (s *lineScanner) holds(out *[]Hold) bool {
	return scanList(s, out, 1, func(h *Hold) bool {
		var seen uint32
		return s.object(func(k []byte) bool {
			switch string(k) {
			case "kind":
				return scanStr(s, &h.Kind) && once(&seen, 1)
			case "reason":
				return scanStr(s, &h.Reason) && once(&seen, 2)
			case "code":
				return scanStr(s, &h.Code) && once(&seen, 4)
			case "placedAt":
				return s.time(&h.PlacedAt) && once(&seen, 8)
			case "releasedAt":
				return s.time(&h.ReleasedAt) && once(&seen, 16)
			}
			return false
		})
	})
}

func (s *lineScanner) charges(out *[]Charge) bool {
	return scanList(s, out, 1, func(c *Charge) bool {
		var seen uint32
		return s.object(func(k []byte) bool {
			switch string(k) {
			case "type":
				return scanStr(s, &c.Type) && once(&seen, 1)
			case "description":
				return scanStr(s, &c.Description) && once(&seen, 2)
			case "amount":
				return s.money(&c.Amount) && once(&seen, 4)
			}
			return false
		})
	})
}

func (s *lineScanner) taxes(out *[]Tax) bool {
	return scanList(s, out, 1, func(t *Tax) bool {
		var seen uint32
		return s.object(func(k []byte) bool {
			switch string(k) {
			case "type":
				return scanStr(s, &t.Type) && once(&seen, 1)
			case "jurisdiction":
				return scanStr(s, &t.Jurisdiction) && once(&seen, 2)
			case "rate":
				return scanPtr(s, &t.Rate, s.decimal) && once(&seen, 4)
			case "taxable":
				return scanPtr(s, &t.Taxable, s.money) && once(&seen, 8)
			case "amount":
				return s.money(&t.Amount) && once(&seen, 16)
			}
			return false
		})
	})
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
