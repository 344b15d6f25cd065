package canonical

import (
	"strconv"
	"time"
)

// HoldKind is the reason class of an order hold, from a closed set. It is a
// comparable value, safe for concurrent use. The zero value is not a valid
// kind.
type HoldKind string

// Hold kinds.
const (
	// HoldCredit: the customer's credit limit or overdue balance.
	HoldCredit HoldKind = "credit"
	// HoldPricing: a price needs review.
	HoldPricing HoldKind = "pricing"
	// HoldTax: tax could not be determined.
	HoldTax HoldKind = "tax"
	// HoldApproval: a manual approval is pending.
	HoldApproval HoldKind = "approval"
	// HoldDeliveryBlock: the order must not be released to a warehouse.
	HoldDeliveryBlock HoldKind = "delivery_block"
)

// Valid reports whether k is one of the HoldKind constants.
func (k HoldKind) Valid() bool {
	switch k {
	case HoldCredit, HoldPricing, HoldTax, HoldApproval, HoldDeliveryBlock:
		return true
	}
	return false
}

// Hold is a hold placed on an order by the ERP (or an approver). It is
// active until ReleasedAt is set. It is a plain value, safe for concurrent
// reads. The zero value is an empty hold.
type Hold struct {
	Kind HoldKind `json:"kind" validate:"oneof=credit pricing tax approval delivery_block"`
	// Reason is the ERP's explanation, for people.
	Reason string `json:"reason,omitempty" validate:"-"`
	// Code is the ERP's own hold code, if any.
	Code       string    `json:"code,omitempty" validate:"-"`
	PlacedAt   time.Time `json:"placedAt,omitzero" validate:"-"`
	ReleasedAt time.Time `json:"releasedAt,omitzero" validate:"-"`
}

// Active reports whether the hold is not released.
func (h Hold) Active() bool { return h.ReleasedAt.IsZero() }

// Charge is an order- or invoice-level charge (freight, handling,
// surcharge) or, with a negative amount, an allowance. It is a plain value,
// safe for concurrent reads. The zero value is an empty charge.
type Charge struct {
	// Type is a short code such as "freight" or "handling".
	Type        string `json:"type" validate:"required"`
	Description string `json:"description,omitempty" validate:"-"`
	Amount      Money  `json:"amount" validate:"-"`
}

// Tax is one tax on an order or invoice, as the ERP computed it. It is a
// plain value, safe for concurrent reads. The zero value is an empty tax.
type Tax struct {
	// Type is a short code such as "vat" or "sales".
	Type         string `json:"type" validate:"required"`
	Jurisdiction string `json:"jurisdiction,omitempty" validate:"-"`
	// Rate is the rate in percent ("20" for 20 %), when known.
	Rate    *Decimal `json:"rate,omitempty" validate:"-"`
	Taxable *Money   `json:"taxable,omitempty" validate:"-"`
	Amount  Money    `json:"amount" validate:"-"`
}

// Totals are a document's totals as the ERP computed them; they are not
// recomputed from the lines. It is a plain value, safe for concurrent
// reads. The zero value is empty totals.
type Totals struct {
	Subtotal Money `json:"subtotal" validate:"-"`
	Charges  Money `json:"charges" validate:"-"`
	Tax      Money `json:"tax" validate:"-"`
	Total    Money `json:"total" validate:"-"`
}

// Note is a free-text note on a document. It is a plain value, safe for
// concurrent reads. The zero value is an empty note.
type Note struct {
	// Type says who the note is for, such as "customer", "internal" or
	// "warehouse".
	Type string `json:"type,omitempty" validate:"-"`
	Text string `json:"text" validate:"required"`
}

// Order is a sales order: what a customer ordered, with its parties, terms,
// lines and their quantity buckets. ID is the stable canonical ID; the IDs
// each system knows it by are in Refs. Version increases with every change
// of the order document.
//
// Its status is derived, never stored: see [Order.Status] for the rules and
// [Ledger] for how the line buckets are folded. The commercial facts that
// buckets cannot express (submitted, accepted, rejected, cancelled, closed,
// holds) are fields set through the transition methods such as
// [Order.Submit].
//
// An Order is a plain value; it is safe for concurrent reads but not for a
// read concurrent with a write. The zero value is not valid
// ([Order.Validate] reports the missing fields).
type Order struct {
	ID         string `json:"id" validate:"required"`
	Version    int64  `json:"version" validate:"gte=0"`
	Refs       Refs   `json:"refs,omitempty" validate:"-"`
	CustomerPO string `json:"customerPO,omitempty" validate:"-"`
	// SoldTo is the ordering customer; its ID is the customer's canonical
	// ID. Required: its ID must be set.
	SoldTo PartyRef `json:"soldTo" validate:"-"`
	// ShipTo is where the goods go. Required: its ID must be set.
	ShipTo PartyRef `json:"shipTo" validate:"-"`
	// BillTo defaults to SoldTo when nil.
	BillTo *PartyRef `json:"billTo,omitempty" validate:"-"`
	// Currency is the order currency; every amount on the order is in it.
	Currency Currency `json:"currency" validate:"iso4217"`
	// PaymentTerms is the terms code, such as "NET30".
	PaymentTerms string `json:"paymentTerms,omitempty" validate:"-"`
	// OrderedAt is when the customer placed the order.
	OrderedAt time.Time `json:"orderedAt,omitzero" validate:"-"`
	// RequestedShipDate and RequestedDeliveryDate are the customer's
	// requested dates for the whole order; a line may override them.
	RequestedShipDate     time.Time `json:"requestedShipDate,omitzero" validate:"-"`
	RequestedDeliveryDate time.Time `json:"requestedDeliveryDate,omitzero" validate:"-"`
	// ShipComplete asks that the order ship in one shipment.
	ShipComplete bool     `json:"shipComplete,omitempty" validate:"-"`
	Holds        []Hold   `json:"holds,omitempty" validate:"dive"`
	Charges      []Charge `json:"charges,omitempty" validate:"dive"`
	Taxes        []Tax    `json:"taxes,omitempty" validate:"dive"`
	Totals       *Totals  `json:"totals,omitempty" validate:"-"`
	Notes        []Note   `json:"notes,omitempty" validate:"dive"`
	// Extensions are the custom fields the systems carry (see [Extensions]).
	Extensions Extensions `json:"extensions,omitempty" validate:"-"`
	// Lines are the order lines. At least one is required; line IDs must
	// be unique within the order, and each line must pass the checks listed
	// on [Order.Validate].
	Lines []OrderLine `json:"lines" validate:"required,min=1"`

	// Commercial facts, set by the transition methods.
	SubmittedAt time.Time `json:"submittedAt,omitzero" validate:"-"`
	AcceptedAt  time.Time `json:"acceptedAt,omitzero" validate:"-"`
	RejectedAt  time.Time `json:"rejectedAt,omitzero" validate:"-"`
	CancelledAt time.Time `json:"cancelledAt,omitzero" validate:"-"`
	ClosedAt    time.Time `json:"closedAt,omitzero" validate:"-"`
}

// OrderLine is one line of an [Order]. Quantity is the ordered quantity;
// every bucket is in its unit. It is a plain value, safe for concurrent
// reads. The zero value is an empty line.
type OrderLine struct {
	// ID is the stable canonical line ID, unique within the order.
	ID   string `json:"id" validate:"required"`
	Refs Refs   `json:"refs,omitempty" validate:"-"`
	// Item is the ordered item. Required: its SKU must be set.
	Item ItemRef `json:"item" validate:"-"`
	// Quantity is the ordered quantity; it must be positive.
	Quantity Quantity `json:"quantity" validate:"-"`
	// UnitPrice is the price of one Quantity.Unit, with the scale the
	// source sent.
	UnitPrice     Money     `json:"unitPrice" validate:"-"`
	RequestedDate time.Time `json:"requestedDate,omitzero" validate:"-"`
	// PromisedDate is the date the ERP promised, when it did.
	PromisedDate time.Time `json:"promisedDate,omitzero" validate:"-"`
	Notes        []Note    `json:"notes,omitempty" validate:"dive"`
	// Extensions are the custom fields the systems carry (see [Extensions]).
	Extensions Extensions `json:"extensions,omitempty" validate:"-"`
	// Buckets are folded from the quantity ledger by [Ledger.Fold]. A
	// zero ordered bucket means "not folded yet": [Order.Status] then uses
	// Quantity.Value.
	Buckets Buckets `json:"buckets" validate:"-"`
}

// DocumentKind returns [KindOrder].
func (o Order) DocumentKind() string { return KindOrder }

// Line returns a pointer to the line with the given ID, or nil.
func (o *Order) Line(id string) *OrderLine {
	for i := range o.Lines {
		if o.Lines[i].ID == id {
			return &o.Lines[i]
		}
	}
	return nil
}

// Validate checks the order and returns one [*ValidationError] listing
// the violations with their JSON paths (the first [MaxViolations], and
// the count of the rest), in time linear in the number of lines. Besides
// the presence and format of each field (currency and unit codes, GTIN check digits, hold kinds,
// party and item refs), it checks that:
//
//   - there is at least one line and line IDs are unique;
//   - every ordered quantity is positive and every bucket non-negative;
//   - on every line, cancelled + rejected ≤ ordered and shipped ≤
//     ordered − cancelled − rejected;
//   - every amount (unit prices, charges, taxes, totals) is in the order
//     currency.
func (o Order) Validate() error {
	v := violations{kind: "order"}
	if !orderRulesOK(&o) {
		slowRules(&v, o)
	}
	v.addErr("refs", o.Refs.Validate())
	v.addErr("soldTo", o.SoldTo.Validate())
	v.addErr("shipTo", o.ShipTo.Validate())
	if o.BillTo != nil {
		v.addErr("billTo", o.BillTo.Validate())
	}
	cur := o.Currency
	for i := range o.Charges {
		checkAmount(&v, "charges", i, "amount", o.Charges[i].Amount, cur)
	}
	for i := range o.Taxes {
		t := &o.Taxes[i]
		checkAmount(&v, "taxes", i, "amount", t.Amount, cur)
		if t.Taxable != nil {
			checkAmount(&v, "taxes", i, "taxable", *t.Taxable, cur)
		}
		if t.Rate != nil && t.Rate.IsNeg() {
			v.add(indexPath("taxes", i, "rate"), "must not be negative")
		}
	}
	if o.Totals != nil {
		checkTotals(&v, "totals", o.Totals, cur)
	}
	ids := newDupFinder(o.Lines, func(l *OrderLine) string { return l.ID })
	for i := range o.Lines {
		l := &o.Lines[i]
		if l.ID == "" {
			v.addAt("lines", i, "id", "is required")
		}
		for j := range l.Notes {
			if l.Notes[j].Text == "" {
				v.add(indexPath("lines", i, "notes")+"["+itoa(j)+"].text", "is required")
			}
		}
		if l.ID != "" {
			if j, dup := ids.first(i, l.ID); dup && v.full() {
				v.skip(1)
			} else if dup {
				v.add(indexPath("lines", i, "id"), "duplicate line ID "+strconv.Quote(l.ID)+" (also at lines["+strconv.Itoa(j)+"])")
			}
		}
		if err := l.Item.Validate(); err != nil {
			v.addErr(indexPath("lines", i, "item"), err)
		}
		if err := l.Refs.Validate(); err != nil {
			v.addErr(indexPath("lines", i, "refs"), err)
		}
		checkQuantity(&v, "lines", i, "quantity", l.Quantity, true)
		checkAmount(&v, "lines", i, "unitPrice", l.UnitPrice, cur)
		if l.UnitPrice.Amount.IsNeg() {
			v.addAt("lines", i, "unitPrice.amount", "must not be negative")
		}
		bs := l.Buckets
		if bs.v[BucketOrdered-1].IsZero() {
			bs.v[BucketOrdered-1] = l.Quantity.Value
		}
		if !bucketsOK(&bs) {
			bs.check(&v, indexPath("lines", i, "buckets"))
		}
	}
	checkExtensions(&v, "extensions", o.Extensions)
	checkLineExtensions(&v, o.Lines, func(l *OrderLine) Extensions { return l.Extensions })
	return v.err()
}

// bucketsOK is the allocation-free fast path of Buckets.check.
func bucketsOK(bs *Buckets) bool {
	for _, d := range bs.v {
		if d.IsNeg() {
			return false
		}
	}
	open, err := bs.NetOrdered()
	return err == nil && !open.IsNeg() && bs.Get(BucketShipped).Cmp(open) <= 0
}

// indexPath returns "list[i].field" (or "list[i]" when field is empty).
func indexPath(list string, i int, field string) string {
	p := list + "[" + strconv.Itoa(i) + "]"
	if field == "" {
		return p
	}
	return p + "." + field
}

// checkAmount checks m's currency code and that it is cur (when cur is
// set), recording violations under list[i].field.
func checkAmount(v *violations, list string, i int, field string, m Money, cur Currency) {
	if m.Currency == cur && cur != "" {
		return // cur is checked once by the caller
	}
	if v.full() {
		v.skip(1)
		return
	}
	if err := m.Currency.Validate(); err != nil {
		v.add(joinPath(indexPath(list, i, field), "currency"), errorMessage(err))
		return
	}
	if cur != "" {
		v.add(joinPath(indexPath(list, i, field), "currency"), "must be the document currency "+string(cur)+", is "+string(m.Currency))
	}
}

func checkTotals(v *violations, path string, t *Totals, cur Currency) {
	for _, f := range [...]struct {
		name string
		m    Money
	}{{"subtotal", t.Subtotal}, {"charges", t.Charges}, {"tax", t.Tax}, {"total", t.Total}} {
		if f.m.Currency == cur && cur != "" {
			continue
		}
		if err := f.m.Currency.Validate(); err != nil {
			v.add(path+"."+f.name+".currency", errorMessage(err))
		} else if cur != "" {
			v.add(path+"."+f.name+".currency", "must be the document currency "+string(cur)+", is "+string(f.m.Currency))
		}
	}
}

// quantityOK reports whether checkQuantity would record nothing.
func quantityOK(q Quantity, positive bool) bool {
	_, unitOK := units[q.Unit]
	return unitOK && !q.Value.IsNeg() && (!positive || !q.Value.IsZero())
}

// checkQuantity checks q's unit and sign under list[i].field (or field
// alone when list is empty): positive when positive is set, else
// non-negative.
func checkQuantity(v *violations, list string, i int, field string, q Quantity, positive bool) {
	if quantityOK(q, positive) {
		return
	}
	_, unitOK := units[q.Unit]
	bad := q.Value.IsNeg() || (positive && q.Value.IsZero())
	if v.full() {
		if !unitOK {
			v.skip(1)
		}
		if bad {
			v.skip(1)
		}
		return
	}
	unitErr := q.Unit.Validate()
	p := field
	if list != "" {
		p = indexPath(list, i, field)
	}
	if unitErr != nil {
		v.add(p+".unit", errorMessage(unitErr))
	}
	if bad {
		if positive {
			v.add(p+".value", "must be > 0, is "+q.Value.String())
		} else {
			v.add(p+".value", "must not be negative, is "+q.Value.String())
		}
	}
}
