package canonical

import (
	"fmt"
	"strings"
	"time"
)

// ErrTransition is matched (with errors.Is) by every [*TransitionError].
// It matches [ErrInvalid] too.
var ErrTransition = fmt.Errorf("%w: illegal transition", ErrInvalid)

// Action is a commercial action on an order, checked against the order's
// commercial status by [CheckTransition]. The zero value is not a valid
// action.
// It is a comparable value, safe for concurrent use.
type Action uint8

// Actions.
const (
	// ActionSubmit sends a draft to the ERP: draft → submitted.
	ActionSubmit Action = iota + 1
	// ActionAccept records the ERP's acceptance: submitted → accepted.
	ActionAccept
	// ActionReject records the ERP's rejection: submitted or on hold →
	// rejected.
	ActionReject
	// ActionHold places a hold: submitted, accepted or on hold → on hold.
	ActionHold
	// ActionRelease releases a hold: on hold → submitted or accepted.
	ActionRelease
	// ActionChange changes ordered quantities: draft, submitted, on hold,
	// accepted.
	ActionChange
	// ActionConfirm records confirmed or rejected line quantities:
	// submitted, on hold, accepted.
	ActionConfirm
	// ActionCancel cancels the order or line quantities: draft, submitted,
	// on hold, accepted → cancelled.
	ActionCancel
	// ActionAllocate records allocation, backorder or picking: accepted.
	ActionAllocate
	// ActionShip records shipped or delivered quantities: accepted.
	ActionShip
	// ActionInvoice records invoiced quantities: accepted, closed.
	ActionInvoice
	// ActionReturn records returned quantities: accepted, closed.
	ActionReturn
	// ActionClose closes the order: accepted → closed.
	ActionClose
)

var actionNames = []string{"", "submit", "accept", "reject", "hold", "release", "change", "confirm", "cancel", "allocate", "ship", "invoice", "return", "close"}

// actionRules gives, per action, the statuses it is allowed from and the
// status (or, for quantity actions, the state name) it leads to.
var actionRules = [...]struct {
	from []CommercialStatus
	to   string
}{
	ActionSubmit:   {[]CommercialStatus{CommercialDraft}, "submitted"},
	ActionAccept:   {[]CommercialStatus{CommercialSubmitted}, "accepted"},
	ActionReject:   {[]CommercialStatus{CommercialSubmitted, CommercialOnHold}, "rejected"},
	ActionHold:     {[]CommercialStatus{CommercialSubmitted, CommercialOnHold, CommercialAccepted}, "on_hold"},
	ActionRelease:  {[]CommercialStatus{CommercialOnHold}, "released"},
	ActionChange:   {[]CommercialStatus{CommercialDraft, CommercialSubmitted, CommercialOnHold, CommercialAccepted}, "changed"},
	ActionConfirm:  {[]CommercialStatus{CommercialSubmitted, CommercialOnHold, CommercialAccepted}, "confirmed"},
	ActionCancel:   {[]CommercialStatus{CommercialDraft, CommercialSubmitted, CommercialOnHold, CommercialAccepted}, "cancelled"},
	ActionAllocate: {[]CommercialStatus{CommercialAccepted}, "allocated"},
	ActionShip:     {[]CommercialStatus{CommercialAccepted}, "shipped"},
	ActionInvoice:  {[]CommercialStatus{CommercialAccepted, CommercialClosed}, "invoiced"},
	ActionReturn:   {[]CommercialStatus{CommercialAccepted, CommercialClosed}, "returned"},
	ActionClose:    {[]CommercialStatus{CommercialAccepted}, "closed"},
}

// String returns the action name ("ship").
func (a Action) String() string { return enumString(actionNames, uint8(a), "Action") }

// TransitionError is an illegal transition: an action the order's
// commercial status does not allow, or a quantity change the line's buckets
// do not allow (cancelling more than is open). It matches [ErrTransition]
// and [ErrInvalid]. It is not modified after it is returned and is safe for
// concurrent use. Its zero value describes no transition; [CheckTransition]
// fills it in.
type TransitionError struct {
	// Action is the attempted action.
	Action Action
	// From is the order's commercial status.
	From CommercialStatus
	// To names the state the action leads to ("accepted", "shipped").
	To string
	// Line is the order line concerned, if any.
	Line string
	// Reason says why, when the status alone does not.
	Reason string
}

// Error returns, for example, "canonical: illegal transition: ship:
// rejected → shipped is not allowed (ship needs accepted)".
func (e *TransitionError) Error() string {
	var b strings.Builder
	b.WriteString("canonical: illegal transition: ")
	b.WriteString(e.Action.String())
	b.WriteString(": ")
	if e.Line != "" {
		b.WriteString("line ")
		b.WriteString(fmt.Sprintf("%q", e.Line))
		b.WriteString(": ")
	}
	b.WriteString(e.From.String())
	b.WriteString(" → ")
	b.WriteString(e.To)
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
		return b.String()
	}
	b.WriteString(" is not allowed (")
	b.WriteString(e.Action.String())
	b.WriteString(" needs ")
	if int(e.Action) < len(actionRules) && e.Action != 0 {
		for i, s := range actionRules[e.Action].from {
			if i > 0 {
				b.WriteString(" or ")
			}
			b.WriteString(s.String())
		}
	} else {
		b.WriteString("a valid action")
	}
	b.WriteString(")")
	return b.String()
}

// Is reports whether target is [ErrTransition] or [ErrInvalid].
func (e *TransitionError) Is(target error) bool {
	return target == ErrTransition || target == ErrInvalid
}

// CheckTransition returns nil when action a is allowed from commercial
// status from, else a [*TransitionError] naming both states. The allowed
// statuses of each action are listed on the Action constants.
func CheckTransition(from CommercialStatus, a Action) error {
	if a == 0 || int(a) >= len(actionRules) {
		return &TransitionError{Action: a, From: from, To: "?", Reason: "unknown action"}
	}
	for _, s := range actionRules[a].from {
		if s == from {
			return nil
		}
	}
	return &TransitionError{Action: a, From: from, To: actionRules[a].to}
}

// Submit records that the order was submitted to the ERP at t. It is
// allowed from draft.
func (o *Order) Submit(t time.Time) error {
	if err := CheckTransition(o.Status().Commercial, ActionSubmit); err != nil {
		return err
	}
	o.SubmittedAt = t
	return nil
}

// Accept records the ERP's acceptance at t. It is allowed from submitted:
// an order on hold is released first.
func (o *Order) Accept(t time.Time) error {
	if err := CheckTransition(o.Status().Commercial, ActionAccept); err != nil {
		return err
	}
	o.AcceptedAt = t
	return nil
}

// Reject records the ERP's rejection at t. It is allowed from submitted
// and on hold.
func (o *Order) Reject(t time.Time) error {
	if err := CheckTransition(o.Status().Commercial, ActionReject); err != nil {
		return err
	}
	o.RejectedAt = t
	return nil
}

// PlaceHold adds an active hold. It is allowed from submitted, on hold and
// accepted; h.Kind must be one of the HoldKind constants and h must not be
// released.
func (o *Order) PlaceHold(h Hold) error {
	from := o.Status().Commercial
	if err := CheckTransition(from, ActionHold); err != nil {
		return err
	}
	if !h.Kind.Valid() {
		return &TransitionError{Action: ActionHold, From: from, To: "on_hold", Reason: fmt.Sprintf("unknown hold kind %q", h.Kind)}
	}
	if !h.Active() {
		return &TransitionError{Action: ActionHold, From: from, To: "on_hold", Reason: "the hold is already released"}
	}
	o.Holds = append(o.Holds, h)
	return nil
}

// ReleaseHold releases, at t, every active hold of kind k. It is allowed
// from on hold, and only when a hold of that kind is active.
func (o *Order) ReleaseHold(k HoldKind, t time.Time) error {
	from := o.Status().Commercial
	if err := CheckTransition(from, ActionRelease); err != nil {
		return err
	}
	n := 0
	for i := range o.Holds {
		if o.Holds[i].Kind == k && o.Holds[i].Active() {
			o.Holds[i].ReleasedAt = t
			n++
		}
	}
	if n == 0 {
		return &TransitionError{Action: ActionRelease, From: from, To: "released", Reason: fmt.Sprintf("no active %s hold", k)}
	}
	return nil
}

// Cancel cancels the whole order at t. It is allowed from draft,
// submitted, on hold and accepted, and only while nothing has shipped; to
// cancel what is left of a partly shipped order, cancel the open quantity
// of its lines (see [Order.CheckQuantityEvent]).
func (o *Order) Cancel(t time.Time) error {
	from := o.Status().Commercial
	if err := CheckTransition(from, ActionCancel); err != nil {
		return err
	}
	for i := range o.Lines {
		if s := o.Lines[i].Buckets.Get(BucketShipped); s.IsPos() {
			return &TransitionError{Action: ActionCancel, From: from, To: "cancelled", Line: o.Lines[i].ID,
				Reason: s.String() + " " + string(o.Lines[i].Quantity.Unit) + " already shipped; cancel the open quantity of the lines instead"}
		}
	}
	o.CancelledAt = t
	return nil
}

// Close closes the order at t: nothing more will be fulfilled. It is
// allowed from accepted.
func (o *Order) Close(t time.Time) error {
	if err := CheckTransition(o.Status().Commercial, ActionClose); err != nil {
		return err
	}
	o.ClosedAt = t
	return nil
}

// BucketAction returns the action that moving bucket b stands for: ordered
// is [ActionChange], confirmed and rejected [ActionConfirm], cancelled
// [ActionCancel], allocated, backordered and picked [ActionAllocate],
// shipped and delivered [ActionShip], invoiced [ActionInvoice], returned
// [ActionReturn]. It returns 0 for an invalid bucket.
func BucketAction(b Bucket) Action {
	switch b {
	case BucketOrdered:
		return ActionChange
	case BucketConfirmed, BucketRejected:
		return ActionConfirm
	case BucketCancelled:
		return ActionCancel
	case BucketAllocated, BucketBackordered, BucketPicked:
		return ActionAllocate
	case BucketShipped, BucketDelivered:
		return ActionShip
	case BucketInvoiced:
		return ActionInvoice
	case BucketReturned:
		return ActionReturn
	}
	return 0
}

// CheckQuantityEvent checks, before a command is issued, that the
// quantity change e is a legal transition of the order: the commercial
// status allows the bucket's action ([BucketAction]: you cannot ship a
// rejected order), and the line's buckets stay consistent afterwards:
//
//   - no bucket becomes negative;
//   - cancelled + rejected ≤ ordered − shipped (you cannot cancel more than
//     is open, nor what has already shipped);
//   - shipped ≤ ordered − cancelled − rejected;
//   - delivered ≤ shipped.
//
// The buckets are those of the line as last folded. Facts a system
// reports (a shipment the WMS confirmed) are folded by [Ledger.Fold]
// whatever this check would say; it guards what distsync asks for. The
// error is a [*TransitionError] or, for an invalid event or unknown line, a
// [*ValidationError].
func (o *Order) CheckQuantityEvent(e QuantityEvent) error {
	if err := e.Validate(); err != nil {
		return err
	}
	l := o.Line(e.LineID)
	if l == nil {
		return &ValidationError{Kind: "quantity event", Errors: []FieldError{{Field: "lineId", Message: fmt.Sprintf("line %q is not in order %q", e.LineID, o.ID)}}}
	}
	from := o.Status().Commercial
	a := BucketAction(e.Bucket)
	if err := CheckTransition(from, a); err != nil {
		te := err.(*TransitionError)
		te.Line = l.ID
		return te
	}
	after := l.Buckets
	if after.v[BucketOrdered-1].IsZero() {
		after.v[BucketOrdered-1] = l.Quantity.Value
	}
	cur := after.Get(e.Bucket)
	next := e.Value
	if e.Kind == QuantityDelta {
		var err error
		if next, err = cur.Add(e.Value); err != nil {
			return &TransitionError{Action: a, From: from, To: actionRules[a].to, Line: l.ID, Reason: err.Error()}
		}
	}
	after.Set(e.Bucket, next)
	unit := " " + string(l.Quantity.Unit)
	fail := func(reason string) error {
		return &TransitionError{Action: a, From: from, To: actionRules[a].to, Line: l.ID, Reason: reason}
	}
	if next.IsNeg() {
		return fail(fmt.Sprintf("%s would become %s%s", e.Bucket, next, unit))
	}
	get := after.Get
	switch e.Bucket {
	case BucketCancelled, BucketRejected, BucketOrdered, BucketShipped:
		// cancelled + rejected + shipped ≤ ordered
		used, err := get(BucketCancelled).Add(get(BucketRejected))
		if err == nil {
			used, err = used.Add(get(BucketShipped))
		}
		if err != nil {
			return fail(err.Error())
		}
		if used.Cmp(get(BucketOrdered)) > 0 {
			before := l.Buckets
			if before.v[BucketOrdered-1].IsZero() {
				before.v[BucketOrdered-1] = l.Quantity.Value
			}
			open, _ := before.NetOrdered()
			open, _ = open.Sub(before.Get(BucketShipped))
			return fail(fmt.Sprintf("%s %s%s exceeds what is open: %s%s (ordered %s − cancelled %s − rejected %s − shipped %s)",
				e.Bucket, next, unit, open, unit, before.Get(BucketOrdered), before.Get(BucketCancelled), before.Get(BucketRejected), before.Get(BucketShipped)))
		}
	case BucketDelivered:
		if next.Cmp(get(BucketShipped)) > 0 {
			return fail(fmt.Sprintf("delivered %s%s exceeds shipped %s%s", next, unit, get(BucketShipped), unit))
		}
	}
	return nil
}
