package canonical

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// EncodeOrder encodes o as JSON. The bytes are exactly those json.Marshal
// produces for o. It fails only where json.Marshal fails: a time outside
// the years 0 to 9999.
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

// object appends "name":{ as needed; close ends it.
func (e *orderEncoder) object(name string) {
	e.key(name)
	e.open()
}

func (e *orderEncoder) time(name string, t time.Time) {
	if !t.IsZero() {
		e.timeAlways(name, t)
	}
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
	e.object(name)
	e.decimal("amount", m.Amount)
	e.str("currency", string(m.Currency))
	e.close()
}

func (e *orderEncoder) refs(name string, rs Refs) {
	encodeList(e, name, rs, func(r *ExternalRef) {
		e.open()
		e.str("system", r.System)
		e.str("type", r.Type)
		e.str("value", r.Value)
		e.strOmit("version", r.Version)
		e.close()
	})
}

func (e *orderEncoder) party(name string, p *PartyRef) {
	e.object(name)
	e.str("id", p.ID)
	e.strOmit("name", p.Name)
	e.refs("refs", p.Refs)
	if a := p.Address; a != nil {
		e.object("address")
		e.strOmit("name", a.Name)
		e.strings("lines", a.Lines)
		e.strOmit("city", a.City)
		e.strOmit("region", a.Region)
		e.strOmit("postalCode", a.PostalCode)
		e.str("country", a.Country)
		e.close()
	}
	e.close()
}

func (e *orderEncoder) notes(name string, ns []Note) {
	encodeList(e, name, ns, func(n *Note) {
		e.open()
		e.strOmit("type", n.Type)
		e.str("text", n.Text)
		e.close()
	})
}

// encodeList appends "name":[...] calling elem for each element, omitted
// when the list is empty (omitempty).
func encodeList[E any](e *orderEncoder, name string, list []E, elem func(*E)) {
	if len(list) > 0 {
		e.key(name)
		encodeElems(e, list, elem)
	}
}

// encodeListOrNull is encodeList for a member without omitempty: null for
// a nil slice, [] for an empty one.
func encodeListOrNull[E any](e *orderEncoder, name string, list []E, elem func(*E)) {
	e.key(name)
	if list == nil {
		e.b = append(e.b, "null"...)
		e.comma = true
		return
	}
	encodeElems(e, list, elem)
}

// encodeElems appends [...] calling elem for each element.
func encodeElems[E any](e *orderEncoder, list []E, elem func(*E)) {
	e.b = append(e.b, '[')
	for i := range list {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		elem(&list[i])
	}
	e.b = append(e.b, ']')
	e.comma = true
}

func (e *orderEncoder) order(o *Order) {
	e.open()
	e.str("id", o.ID)
	e.int("version", o.Version)
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
	e.boolOmit("shipComplete", o.ShipComplete)
	encodeList(e, "holds", o.Holds, func(h *Hold) {
		e.open()
		e.str("kind", string(h.Kind))
		e.strOmit("reason", h.Reason)
		e.strOmit("code", h.Code)
		e.time("placedAt", h.PlacedAt)
		e.time("releasedAt", h.ReleasedAt)
		e.close()
	})
	e.charges(o.Charges)
	e.taxes(o.Taxes)
	if o.Totals != nil {
		e.totals(o.Totals)
	}
	e.notes("notes", o.Notes)
	e.extensions("extensions", o.Extensions)
	encodeListOrNull(e, "lines", o.Lines, e.line)
	e.time("submittedAt", o.SubmittedAt)
	e.time("acceptedAt", o.AcceptedAt)
	e.time("rejectedAt", o.RejectedAt)
	e.time("cancelledAt", o.CancelledAt)
	e.time("closedAt", o.ClosedAt)
	e.close()
}

// charges appends "charges" unless cs is empty.
func (e *orderEncoder) charges(cs []Charge) {
	encodeList(e, "charges", cs, func(c *Charge) {
		e.open()
		e.str("type", c.Type)
		e.strOmit("description", c.Description)
		e.money("amount", c.Amount)
		e.close()
	})
}

// taxes appends "taxes" unless ts is empty.
func (e *orderEncoder) taxes(ts []Tax) {
	encodeList(e, "taxes", ts, func(t *Tax) {
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
}

func (e *orderEncoder) totals(t *Totals) {
	e.object("totals")
	e.money("subtotal", t.Subtotal)
	e.money("charges", t.Charges)
	e.money("tax", t.Tax)
	e.money("total", t.Total)
	e.close()
}

// encodeInvoice encodes in as json.Marshal does, without reflection.
func encodeInvoice(in *Invoice) ([]byte, error) {
	e := orderEncoder{b: make([]byte, 0, 640+320*len(in.Lines))}
	e.open()
	e.str("id", in.ID)
	e.int("version", in.Version)
	e.refs("refs", in.Refs)
	e.str("kind", string(in.Kind))
	e.str("number", in.Number)
	e.strOmit("orderId", in.OrderID)
	e.strOmit("creditsInvoiceId", in.CreditsInvoiceID)
	e.strOmit("returnId", in.ReturnID)
	e.party("billTo", &in.BillTo)
	e.str("currency", string(in.Currency))
	e.strOmit("paymentTerms", in.PaymentTerms)
	e.timeAlways("invoiceDate", in.InvoiceDate)
	e.time("dueDate", in.DueDate)
	encodeListOrNull(&e, "lines", in.Lines, func(l *InvoiceLine) {
		e.open()
		e.str("id", l.ID)
		e.strOmit("orderLineId", l.OrderLineID)
		e.strOmit("shipmentLineId", l.ShipmentLineID)
		e.item("item", &l.Item)
		e.quantity("quantity", l.Quantity)
		e.money("unitPrice", l.UnitPrice)
		e.money("amount", l.Amount)
		e.extensions("extensions", l.Extensions)
		e.close()
	})
	e.charges(in.Charges)
	e.taxes(in.Taxes)
	e.totals(&in.Totals)
	e.extensions("extensions", in.Extensions)
	e.close()
	return e.result(KindInvoice)
}

func (e *orderEncoder) line(l *OrderLine) {
	e.open()
	e.str("id", l.ID)
	e.refs("refs", l.Refs)
	e.item("item", &l.Item)
	e.quantity("quantity", l.Quantity)
	e.money("unitPrice", l.UnitPrice)
	e.time("requestedDate", l.RequestedDate)
	e.time("promisedDate", l.PromisedDate)
	e.notes("notes", l.Notes)
	e.extensions("extensions", l.Extensions)
	e.object("buckets")
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
