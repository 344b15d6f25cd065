package canonical

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// EncodeOrder encodes o as JSON. The bytes are exactly those json.Marshal
// produces for o; EncodeOrder writes them without reflection, several
// times faster. It fails only where json.Marshal fails: a time outside the
// years 0 to 9999.
func EncodeOrder(o Order) ([]byte, error) {
	e := orderEncoder{b: make([]byte, 0, 640+320*len(o.Lines))}
	e.order(&o)
	if e.err != nil {
		return nil, fmt.Errorf("canonical: encode order: %w", e.err)
	}
	return e.b, nil
}

// orderEncoder appends JSON to b; the first error sticks.
type orderEncoder struct {
	b   []byte
	err error
	// comma is set when the current object already has a member.
	comma bool
}

func (e *orderEncoder) open() {
	e.b = append(e.b, '{')
	e.comma = false
}

func (e *orderEncoder) close() {
	e.b = append(e.b, '}')
	e.comma = true
}

// key appends ,"name": as needed.
func (e *orderEncoder) key(name string) {
	if e.comma {
		e.b = append(e.b, ',')
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, '"', ':')
	e.comma = false
}

func (e *orderEncoder) str(name, v string) {
	e.key(name)
	e.b = appendJSONString(e.b, v, true)
	e.comma = true
}

func (e *orderEncoder) strOmit(name, v string) {
	if v != "" {
		e.str(name, v)
	}
}

func (e *orderEncoder) time(name string, t time.Time) {
	if t.IsZero() {
		return
	}
	e.key(name)
	j, err := t.MarshalJSON()
	if err != nil && e.err == nil {
		e.err = fmt.Errorf("%s: %w", name, err)
	}
	e.b = append(e.b, j...)
	e.comma = true
}

func (e *orderEncoder) decimal(name string, d Decimal) {
	e.key(name)
	e.b = append(e.b, '"')
	var err error
	if e.b, err = d.AppendText(e.b); err != nil && e.err == nil {
		e.err = err
	}
	e.b = append(e.b, '"')
	e.comma = true
}

func (e *orderEncoder) money(name string, m Money) {
	e.key(name)
	e.open()
	e.decimal("amount", m.Amount)
	e.str("currency", string(m.Currency))
	e.close()
}

func (e *orderEncoder) refs(name string, rs Refs) {
	if len(rs) == 0 {
		return
	}
	e.key(name)
	e.b = append(e.b, '[')
	for i, r := range rs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.open()
		e.str("system", r.System)
		e.str("type", r.Type)
		e.str("value", r.Value)
		e.strOmit("version", r.Version)
		e.close()
	}
	e.b = append(e.b, ']')
	e.comma = true
}

func (e *orderEncoder) party(name string, p *PartyRef) {
	e.key(name)
	e.open()
	e.str("id", p.ID)
	e.strOmit("name", p.Name)
	e.refs("refs", p.Refs)
	if a := p.Address; a != nil {
		e.key("address")
		e.open()
		e.strOmit("name", a.Name)
		if len(a.Lines) > 0 {
			e.key("lines")
			e.b = append(e.b, '[')
			for i, l := range a.Lines {
				if i > 0 {
					e.b = append(e.b, ',')
				}
				e.b = appendJSONString(e.b, l, true)
			}
			e.b = append(e.b, ']')
			e.comma = true
		}
		e.strOmit("city", a.City)
		e.strOmit("region", a.Region)
		e.strOmit("postalCode", a.PostalCode)
		e.str("country", a.Country)
		e.close()
	}
	e.close()
}

func (e *orderEncoder) notes(name string, ns []Note) {
	if len(ns) == 0 {
		return
	}
	e.key(name)
	e.b = append(e.b, '[')
	for i, n := range ns {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.open()
		e.strOmit("type", n.Type)
		e.str("text", n.Text)
		e.close()
	}
	e.b = append(e.b, ']')
	e.comma = true
}

// list appends name: [...] calling elem for each index, omitted when n is 0.
func (e *orderEncoder) list(name string, n int, elem func(i int)) {
	if n == 0 {
		return
	}
	e.key(name)
	e.b = append(e.b, '[')
	for i := range n {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		elem(i)
	}
	e.b = append(e.b, ']')
	e.comma = true
}

func (e *orderEncoder) order(o *Order) {
	e.open()
	e.str("id", o.ID)
	e.key("version")
	e.b = strconv.AppendInt(e.b, o.Version, 10)
	e.comma = true
	e.refs("refs", o.Refs)
	e.strOmit("customerPO", o.CustomerPO)
	e.party("soldTo", &o.SoldTo)
	e.party("shipTo", &o.ShipTo)
	if o.BillTo != nil {
		e.party("billTo", o.BillTo)
	}
	e.str("currency", string(o.Currency))
	e.strOmit("paymentTerms", o.PaymentTerms)
	e.time("orderedAt", o.OrderedAt)
	e.time("requestedShipDate", o.RequestedShipDate)
	e.time("requestedDeliveryDate", o.RequestedDeliveryDate)
	if o.ShipComplete {
		e.key("shipComplete")
		e.b = append(e.b, "true"...)
		e.comma = true
	}
	e.list("holds", len(o.Holds), func(i int) {
		h := &o.Holds[i]
		e.open()
		e.str("kind", string(h.Kind))
		e.strOmit("reason", h.Reason)
		e.strOmit("code", h.Code)
		e.time("placedAt", h.PlacedAt)
		e.time("releasedAt", h.ReleasedAt)
		e.close()
	})
	e.list("charges", len(o.Charges), func(i int) {
		c := &o.Charges[i]
		e.open()
		e.str("type", c.Type)
		e.strOmit("description", c.Description)
		e.money("amount", c.Amount)
		e.close()
	})
	e.list("taxes", len(o.Taxes), func(i int) {
		t := &o.Taxes[i]
		e.open()
		e.str("type", t.Type)
		e.strOmit("jurisdiction", t.Jurisdiction)
		if t.Rate != nil {
			e.decimal("rate", *t.Rate)
		}
		if t.Taxable != nil {
			e.money("taxable", *t.Taxable)
		}
		e.money("amount", t.Amount)
		e.close()
	})
	if t := o.Totals; t != nil {
		e.key("totals")
		e.open()
		e.money("subtotal", t.Subtotal)
		e.money("charges", t.Charges)
		e.money("tax", t.Tax)
		e.money("total", t.Total)
		e.close()
	}
	e.notes("notes", o.Notes)
	e.key("lines")
	if o.Lines == nil {
		e.b = append(e.b, "null"...)
	} else {
		e.b = append(e.b, '[')
		for i := range o.Lines {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.line(&o.Lines[i])
		}
		e.b = append(e.b, ']')
	}
	e.comma = true
	e.time("submittedAt", o.SubmittedAt)
	e.time("acceptedAt", o.AcceptedAt)
	e.time("rejectedAt", o.RejectedAt)
	e.time("cancelledAt", o.CancelledAt)
	e.time("closedAt", o.ClosedAt)
	e.close()
}

func (e *orderEncoder) line(l *OrderLine) {
	e.open()
	e.str("id", l.ID)
	e.refs("refs", l.Refs)
	e.key("item")
	e.open()
	e.str("sku", l.Item.SKU)
	e.strOmit("gtin", string(l.Item.GTIN))
	e.strOmit("description", l.Item.Description)
	e.refs("refs", l.Item.Refs)
	e.close()
	e.key("quantity")
	e.open()
	e.decimal("value", l.Quantity.Value)
	e.str("unit", string(l.Quantity.Unit))
	e.close()
	e.money("unitPrice", l.UnitPrice)
	e.time("requestedDate", l.RequestedDate)
	e.time("promisedDate", l.PromisedDate)
	e.notes("notes", l.Notes)
	e.key("buckets")
	e.open()
	for i, d := range l.Buckets.v {
		if d != (Decimal{}) {
			e.decimal(bucketNames[i+1], d)
		}
	}
	e.close()
	e.close()
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping what JSON requires
// and, as encoding/json does, replacing invalid UTF-8 with U+FFFD and
// escaping U+2028 and U+2029. With escapeHTML it also escapes <, > and &,
// which makes the bytes exactly those of json.Marshal (the order encoder);
// without, it writes them as they are (the event encoder).
func appendJSONString(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!escapeHTML || (c != '<' && c != '>' && c != '&')) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
