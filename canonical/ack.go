package canonical

import (
	"time"
)

// AckOutcome is the ERP's answer to an order as a whole, from a closed set.
// It is a comparable value, safe for concurrent use. The zero value is not
// a valid outcome.
type AckOutcome string

// Acknowledgement outcomes.
const (
	AckAccepted            AckOutcome = "accepted"
	AckAcceptedWithChanges AckOutcome = "accepted_with_changes"
	AckRejected            AckOutcome = "rejected"
	AckOnHold              AckOutcome = "on_hold"
)

// LineResult is the ERP's answer to one order line, from a closed set. It
// is a comparable value, safe for concurrent use. The zero value is not a
// valid result.
type LineResult string

// Line results.
const (
	LineAccepted        LineResult = "accepted"
	LineQuantityChanged LineResult = "quantity_changed"
	LinePriceChanged    LineResult = "price_changed"
	LineDateChanged     LineResult = "date_changed"
	LineSubstituted     LineResult = "substituted"
	LineBackordered     LineResult = "backordered"
	LineRejected        LineResult = "rejected"
)

// Severity grades an [AckMessage]. It is a comparable value, safe for
// concurrent use. The zero value is not a valid severity.
type Severity string

// Severities.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// AckMessage is one message of the ERP about an order or a line: a credit
// check warning, a pricing error. It is a plain value, safe for concurrent
// reads. The zero value is an empty message.
type AckMessage struct {
	// Code is the ERP's message code.
	Code     string   `json:"code,omitempty" validate:"-"`
	Severity Severity `json:"severity" validate:"oneof=info warning error"`
	Text     string   `json:"text" validate:"required"`
	// Field is the JSON path of the order field the message is about, if
	// any ("lines[2].unitPrice").
	Field string `json:"field,omitempty" validate:"-"`
}

// AckLine is the ERP's answer to one order line. It is a plain value, safe
// for concurrent reads. The zero value is an empty line.
type AckLine struct {
	LineID string     `json:"lineId" validate:"required"`
	Result LineResult `json:"result" validate:"oneof=accepted quantity_changed price_changed date_changed substituted backordered rejected"`
	// Quantity is the confirmed quantity (required for quantity_changed)
	// or the backordered quantity (required for backordered).
	Quantity *Quantity `json:"quantity,omitempty" validate:"-"`
	// UnitPrice is the ERP's price, required for price_changed.
	UnitPrice *Money `json:"unitPrice,omitempty" validate:"-"`
	// PromisedDate is required for date_changed.
	PromisedDate time.Time `json:"promisedDate,omitzero" validate:"-"`
	// Substitute is the item shipped instead, required for substituted.
	Substitute *ItemRef     `json:"substitute,omitempty" validate:"-"`
	Messages   []AckMessage `json:"messages,omitempty" validate:"dive"`
}

// OrderAck is the ERP's validation or acceptance result for one version of
// an order. An OrderAck is a plain value, safe for concurrent reads. The
// zero value is not valid ([OrderAck.Validate] reports the missing fields).
type OrderAck struct {
	OrderID      string `json:"orderId" validate:"required"`
	OrderVersion int64  `json:"orderVersion" validate:"gte=0"`
	// Refs carries the ERP's IDs for the order, such as its sales order
	// number.
	Refs    Refs       `json:"refs,omitempty" validate:"-"`
	Outcome AckOutcome `json:"outcome" validate:"oneof=accepted accepted_with_changes rejected on_hold"`
	// Currency is the order currency; prices in the ack are in it.
	Currency Currency     `json:"currency" validate:"iso4217"`
	Lines    []AckLine    `json:"lines,omitempty" validate:"dive"`
	Holds    []Hold       `json:"holds,omitempty" validate:"dive"`
	Messages []AckMessage `json:"messages,omitempty" validate:"dive"`
	Totals   *Totals      `json:"totals,omitempty" validate:"-"`
	AckedAt  time.Time    `json:"ackedAt" validate:"required"`
}

// DocumentKind returns [KindOrderAck].
func (a OrderAck) DocumentKind() string { return KindOrderAck }

// Validate checks the ack. Besides the fields and closed sets, it checks
// that line IDs are unique; that each line result carries what it
// announces (quantity_changed and backordered a non-negative quantity,
// price_changed a unit price in the currency, date_changed a promised date,
// substituted a substitute item); and that the outcome agrees with the
// lines: accepted has only accepted lines, accepted_with_changes at least
// one changed line, rejected only rejected lines, on_hold at least one
// hold.
func (a OrderAck) Validate() error {
	v := violations{kind: "order ack"}
	structRules(&v, &a)
	v.addErr("refs", a.Refs.Validate())
	checkUnique(&v, "lines", a.Lines, "lineId", func(l *AckLine) string { return l.LineID })
	changed, rejected := 0, 0
	for i := range a.Lines {
		l := &a.Lines[i]
		switch l.Result {
		case LineQuantityChanged, LineBackordered:
			if l.Quantity == nil {
				v.add(indexPath("lines", i, "quantity"), "is required for "+string(l.Result))
			}
		case LinePriceChanged:
			if l.UnitPrice == nil {
				v.add(indexPath("lines", i, "unitPrice"), "is required for price_changed")
			}
		case LineDateChanged:
			if l.PromisedDate.IsZero() {
				v.add(indexPath("lines", i, "promisedDate"), "is required for date_changed")
			}
		case LineSubstituted:
			if l.Substitute == nil {
				v.add(indexPath("lines", i, "substitute"), "is required for substituted")
			}
		}
		if l.Quantity != nil {
			checkNonNegative(&v, indexPath("lines", i, "quantity"), *l.Quantity)
		}
		if l.UnitPrice != nil {
			checkMoney(&v, indexPath("lines", i, "unitPrice"), *l.UnitPrice, a.Currency, false)
		}
		if l.Substitute != nil {
			v.addErr(indexPath("lines", i, "substitute"), l.Substitute.Validate())
		}
		switch l.Result {
		case LineAccepted:
		case LineRejected:
			rejected++
		default:
			changed++
		}
	}
	if a.Totals != nil {
		checkTotals(&v, "totals", a.Totals, a.Currency)
	}
	switch a.Outcome {
	case AckAccepted:
		if changed+rejected > 0 {
			v.add("outcome", "is accepted but some lines are changed or rejected; use accepted_with_changes")
		}
	case AckAcceptedWithChanges:
		if changed+rejected == 0 {
			v.add("outcome", "is accepted_with_changes but no line is changed or rejected")
		}
		if len(a.Lines) > 0 && rejected == len(a.Lines) {
			v.add("outcome", "is accepted_with_changes but every line is rejected; use rejected")
		}
	case AckRejected:
		if rejected != len(a.Lines) {
			v.add("outcome", "is rejected but some lines are not")
		}
	case AckOnHold:
		if len(a.Holds) == 0 {
			v.add("holds", "at least one hold is required when the outcome is on_hold")
		}
	}
	return v.err()
}
