package canonical

import "time"

// CancelLine asks to cancel at most Quantity of what is open of one order
// line. It is a plain value, safe for concurrent reads. The zero value is
// an empty line.
type CancelLine struct {
	// LineID is the order line's canonical ID.
	LineID string `json:"lineId" validate:"required"`
	// Quantity is the most to cancel, in the order line's unit.
	Quantity Quantity `json:"quantity" validate:"-"`
}

// CancelRequest asks to cancel the open remainder of an order: what has not
// shipped yet, of every line or of the given lines. It is a request, not a
// fact: the quantity actually cancelled is what is still open when the
// request is honoured (a warehouse may ship part of it first), and is
// recorded in the order's [BucketCancelled]. It travels as the data of
// [EventOrderCancelRequested]. A CancelRequest is a plain value, safe for
// concurrent reads. The zero value is not valid ([CancelRequest.Validate]
// reports the missing fields).
type CancelRequest struct {
	// ID identifies the request in the system that made it; with the
	// event's source it makes a duplicate request recognisable.
	ID string `json:"id" validate:"required"`
	// OrderID is the canonical ID of the order.
	OrderID string `json:"orderId" validate:"required"`
	// RequestedBy is the system the request comes from, such as "crm" or
	// "erp".
	RequestedBy string `json:"requestedBy" validate:"required"`
	// Lines limits the request to these lines and quantities; empty
	// cancels every open quantity of every line.
	Lines []CancelLine `json:"lines,omitempty" validate:"dive"`
	// Reason is a short text for people.
	Reason      string    `json:"reason,omitempty" validate:"-"`
	RequestedAt time.Time `json:"requestedAt" validate:"required"`
}

// DocumentKind returns [KindCancelRequest].
func (r CancelRequest) DocumentKind() string { return KindCancelRequest }

// All reports whether the request cancels every open quantity of the
// order (it names no line).
func (r CancelRequest) All() bool { return len(r.Lines) == 0 }

// Validate checks the request: ID, order ID, requester and time, and per
// line a line ID (unique) and a positive quantity in a valid unit.
func (r CancelRequest) Validate() error {
	v := violations{kind: "cancel request"}
	structRules(&v, &r)
	checkUnique(&v, "lines", r.Lines, "lineId", func(l *CancelLine) string { return l.LineID })
	for i := range r.Lines {
		checkQuantity(&v, "lines", i, "quantity", r.Lines[i].Quantity, true)
	}
	return v.err()
}
