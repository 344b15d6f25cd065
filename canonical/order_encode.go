package canonical

import (
	"fmt"
	"slices"

	"github.com/distsync/distsync/internal/jsonfast"
)

// EncodeOrder encodes o as JSON. The bytes are exactly those json.Marshal
// produces for o. It fails only where json.Marshal fails: a time outside
// the years 0 to 9999.
func EncodeOrder(o Order) ([]byte, error) { return appendOrder(nil, &o) }

// appendOrder appends the encoding of o to b.
func appendOrder(b []byte, o *Order) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 640+320*len(o.Lines))}}
	e.order(o)
	if e.Err != nil {
		return nil, fmt.Errorf("canonical: encode order: %w", e.Err)
	}
	return e.B, nil
}

// orderEncoder writes canonical's documents with a jsonfast.Writer: the
// methods here know the shapes of the values that documents share (money,
// references, parties, lines); the Writer writes the bytes.
type orderEncoder struct {
	jsonfast.Writer
}

func (e *orderEncoder) decimal(name string, d Decimal) {
	e.Text(name, d.AppendText)
}

func (e *orderEncoder) money(name string, m Money) {
	e.Object(name)
	e.decimal("amount", m.Amount)
	e.Str("currency", string(m.Currency))
	e.Close()
}

func (e *orderEncoder) refs(name string, rs Refs) {
	if e.ArrayOmit(name, len(rs)) {
		for i := range rs {
			r := &rs[i]
			e.Open()
			e.Str("system", r.System)
			e.Str("type", r.Type)
			e.Str("value", r.Value)
			e.StrOmit("version", r.Version)
			e.Close()
		}
		e.CloseArray()
	}
}

func (e *orderEncoder) party(name string, p *PartyRef) {
	e.Object(name)
	e.Str("id", p.ID)
	e.StrOmit("name", p.Name)
	e.refs("refs", p.Refs)
	if a := p.Address; a != nil {
		e.Object("address")
		e.StrOmit("name", a.Name)
		e.Strings("lines", a.Lines)
		e.StrOmit("city", a.City)
		e.StrOmit("region", a.Region)
		e.StrOmit("postalCode", a.PostalCode)
		e.Str("country", a.Country)
		e.Close()
	}
	e.Close()
}

func (e *orderEncoder) notes(name string, ns []Note) {
	if e.ArrayOmit(name, len(ns)) {
		for i := range ns {
			n := &ns[i]
			e.Open()
			e.StrOmit("type", n.Type)
			e.Str("text", n.Text)
			e.Close()
		}
		e.CloseArray()
	}
}

func (e *orderEncoder) order(o *Order) {
	e.Open()
	e.Str("id", o.ID)
	e.Int("version", o.Version)
	e.refs("refs", o.Refs)
	e.StrOmit("customerPO", o.CustomerPO)
	e.party("soldTo", &o.SoldTo)
	e.party("shipTo", &o.ShipTo)
	if o.BillTo != nil {
		e.party("billTo", o.BillTo)
	}
	e.Str("currency", string(o.Currency))
	e.StrOmit("paymentTerms", o.PaymentTerms)
	e.Time("orderedAt", o.OrderedAt)
	e.Time("requestedShipDate", o.RequestedShipDate)
	e.Time("requestedDeliveryDate", o.RequestedDeliveryDate)
	e.BoolOmit("shipComplete", o.ShipComplete)
	if e.ArrayOmit("holds", len(o.Holds)) {
		for i := range o.Holds {
			h := &o.Holds[i]
			e.Open()
			e.Str("kind", string(h.Kind))
			e.StrOmit("reason", h.Reason)
			e.StrOmit("code", h.Code)
			e.Time("placedAt", h.PlacedAt)
			e.Time("releasedAt", h.ReleasedAt)
			e.Close()
		}
		e.CloseArray()
	}
	e.charges(o.Charges)
	e.taxes(o.Taxes)
	if o.Totals != nil {
		e.totals(o.Totals)
	}
	e.notes("notes", o.Notes)
	e.extensions("extensions", o.Extensions)
	if e.ArrayOrNull("lines", o.Lines == nil) {
		for i := range o.Lines {
			e.line(&o.Lines[i])
		}
		e.CloseArray()
	}
	e.Time("submittedAt", o.SubmittedAt)
	e.Time("acceptedAt", o.AcceptedAt)
	e.Time("rejectedAt", o.RejectedAt)
	e.Time("cancelledAt", o.CancelledAt)
	e.Time("closedAt", o.ClosedAt)
	e.Close()
}

// charges appends "charges" unless cs is empty.
func (e *orderEncoder) charges(cs []Charge) {
	if e.ArrayOmit("charges", len(cs)) {
		for i := range cs {
			c := &cs[i]
			e.Open()
			e.Str("type", c.Type)
			e.StrOmit("description", c.Description)
			e.money("amount", c.Amount)
			e.Close()
		}
		e.CloseArray()
	}
}

// taxes appends "taxes" unless ts is empty.
func (e *orderEncoder) taxes(ts []Tax) {
	if e.ArrayOmit("taxes", len(ts)) {
		for i := range ts {
			t := &ts[i]
			e.Open()
			e.Str("type", t.Type)
			e.StrOmit("jurisdiction", t.Jurisdiction)
			if t.Rate != nil {
				e.decimal("rate", *t.Rate)
			}
			if t.Taxable != nil {
				e.money("taxable", *t.Taxable)
			}
			e.money("amount", t.Amount)
			e.Close()
		}
		e.CloseArray()
	}
}

func (e *orderEncoder) totals(t *Totals) {
	e.Object("totals")
	e.money("subtotal", t.Subtotal)
	e.money("charges", t.Charges)
	e.money("tax", t.Tax)
	e.money("total", t.Total)
	e.Close()
}

// appendInvoice appends the encoding of in to b.
func appendInvoice(b []byte, in *Invoice) ([]byte, error) {
	e := orderEncoder{jsonfast.Writer{B: slices.Grow(b, 640+320*len(in.Lines))}}
	e.Open()
	e.Str("id", in.ID)
	e.Int("version", in.Version)
	e.refs("refs", in.Refs)
	e.Str("kind", string(in.Kind))
	e.Str("number", in.Number)
	e.StrOmit("orderId", in.OrderID)
	e.StrOmit("creditsInvoiceId", in.CreditsInvoiceID)
	e.StrOmit("returnId", in.ReturnID)
	e.party("billTo", &in.BillTo)
	e.Str("currency", string(in.Currency))
	e.StrOmit("paymentTerms", in.PaymentTerms)
	e.TimeAlways("invoiceDate", in.InvoiceDate)
	e.Time("dueDate", in.DueDate)
	if e.ArrayOrNull("lines", in.Lines == nil) {
		for i := range in.Lines {
			l := &in.Lines[i]
			e.Open()
			e.Str("id", l.ID)
			e.StrOmit("orderLineId", l.OrderLineID)
			e.StrOmit("shipmentLineId", l.ShipmentLineID)
			e.item("item", &l.Item)
			e.quantity("quantity", l.Quantity)
			e.money("unitPrice", l.UnitPrice)
			e.money("amount", l.Amount)
			e.extensions("extensions", l.Extensions)
			e.Close()
		}
		e.CloseArray()
	}
	e.charges(in.Charges)
	e.taxes(in.Taxes)
	e.totals(&in.Totals)
	e.extensions("extensions", in.Extensions)
	e.Close()
	return e.result(KindInvoice)
}

func (e *orderEncoder) line(l *OrderLine) {
	e.Open()
	e.Str("id", l.ID)
	e.refs("refs", l.Refs)
	e.item("item", &l.Item)
	e.quantity("quantity", l.Quantity)
	e.money("unitPrice", l.UnitPrice)
	e.Time("requestedDate", l.RequestedDate)
	e.Time("promisedDate", l.PromisedDate)
	e.notes("notes", l.Notes)
	e.extensions("extensions", l.Extensions)
	e.Object("buckets")
	for i, d := range l.Buckets.v {
		if d != (Decimal{}) {
			e.decimal(bucketNames[i+1], d)
		}
	}
	e.Close()
	e.Close()
}

// encodeInvoice encodes in as json.Marshal does.
func encodeInvoice(in *Invoice) ([]byte, error) { return appendInvoice(nil, in) }
