package canonical

import (
	"strconv"
	"time"
)

// AmendedLine is what an [OrderAmendment] changes of one order line, each
// field the line's new value as the ERP holds it after the amendment, in
// total (not a delta): applying it twice gives the same line. A nil field
// leaves the line as it is. It is a plain value, safe for concurrent
// reads. The zero value names no line.
type AmendedLine struct {
	// LineID is the order line's canonical ID.
	LineID string `json:"lineId"`
	// Rejected is the line's rejected quantity in total, in the line's
	// unit: the ERP rejects (part of) a line after accepting it.
	Rejected *Quantity `json:"rejected,omitempty"`
	// Confirmed is the quantity the ERP confirms in total, in the line's
	// unit: less than is open means the rest is not to ship for now.
	Confirmed *Quantity `json:"confirmed,omitempty"`
	// UnitPrice is the corrected price of one unit of the line, in the
	// order's currency, with the scale the ERP sent.
	UnitPrice *Money `json:"unitPrice,omitempty"`
	// PromisedDate is the ERP's new promised date; a pointer to the zero
	// time withdraws the promise.
	PromisedDate *time.Time `json:"promisedDate,omitempty"`
}

// OrderAmendment is a change the ERP makes on its own to an order it has
// accepted: a price correction, a line rejected (in part) after the fact,
// a reduced confirmed quantity, a new promised date. It travels as the
// data of [EventOrderAmended] on the ERP's feed.
//
// Revisions order the amendments of one order: each is the ERP's state of
// the amended fields as of its revision, so a consumer that has applied
// revision r ignores any amendment at or below r (a duplicate, or one
// delivered out of order). An OrderAmendment is a plain value, safe for
// concurrent reads. The zero value is not valid ([OrderAmendment.Validate]).
type OrderAmendment struct {
	// ID identifies the amendment in the ERP; with the event's source it
	// makes a repeated delivery recognisable.
	ID string `json:"id"`
	// OrderID is the canonical ID of the order.
	OrderID string `json:"orderId"`
	// Revision is the amendment's place among the order's amendments,
	// from 1, increasing.
	Revision int64 `json:"revision"`
	// Lines are the amended lines, each at most once.
	Lines []AmendedLine `json:"lines"`
	// Reason is a short text for people, such as "price list corrected".
	Reason    string    `json:"reason,omitempty"`
	AmendedAt time.Time `json:"amendedAt"`
}

// DocumentKind returns [KindOrderAmendment].
func (a OrderAmendment) DocumentKind() string { return KindOrderAmendment }

// Validate checks the amendment: ID, order ID, a positive revision, the
// time, at least one line, and per line a unique line ID, at least one
// amended field, quantities that are not negative in a valid unit and a
// price with a valid currency that is not negative. Units and currency are
// the order's to check. The error is a [*ValidationError] naming each
// field.
func (a OrderAmendment) Validate() error {
	v := violations{kind: "order amendment"}
	if a.ID == "" {
		v.add("id", "is required")
	}
	if a.OrderID == "" {
		v.add("orderId", "is required")
	}
	if a.Revision <= 0 {
		v.add("revision", "must be > 0, is "+strconv.FormatInt(a.Revision, 10))
	}
	if a.AmendedAt.IsZero() {
		v.add("amendedAt", "is required")
	}
	if len(a.Lines) == 0 {
		v.add("lines", "at least one line is required")
	}
	checkUnique(&v, "lines", a.Lines, "lineId", func(l *AmendedLine) string { return l.LineID })
	for i := range a.Lines {
		l := &a.Lines[i]
		if l.LineID == "" {
			v.addAt("lines", i, "lineId", "is required")
		}
		if l.Rejected == nil && l.Confirmed == nil && l.UnitPrice == nil && l.PromisedDate == nil {
			v.addAt("lines", i, "", "amends nothing: set rejected, confirmed, unitPrice or promisedDate")
		}
		if l.Rejected != nil {
			checkQuantity(&v, "lines", i, "rejected", *l.Rejected, false)
		}
		if l.Confirmed != nil {
			checkQuantity(&v, "lines", i, "confirmed", *l.Confirmed, false)
		}
		if l.UnitPrice != nil {
			checkMoney(&v, indexPath("lines", i, "unitPrice"), *l.UnitPrice, "", false)
		}
	}
	return v.err()
}
