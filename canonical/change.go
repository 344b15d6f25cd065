package canonical

import (
	"errors"
	"strconv"
	"time"
)

// ErrStaleVersion is matched (with errors.Is) by the error of [DiffOrders]
// when the new order's version is not above the old one's: a change
// delivered twice or out of order, which changes nothing.
var ErrStaleVersion = errors.New("canonical: order version is not newer")

// LineChangeKind says what a [LineChange] does to its line, from a closed
// set. It is a comparable value, safe for concurrent use. The zero value
// is not a valid kind.
type LineChangeKind string

// Line change kinds.
const (
	// LineChangeAdded: the line is new in the later version.
	LineChangeAdded LineChangeKind = "added"
	// LineChangeRemoved: the line is gone from the later version; its
	// whole quantity is to be taken away.
	LineChangeRemoved LineChangeKind = "removed"
	// LineChangeUpdated: the line is in both versions with another
	// quantity or requested date.
	LineChangeUpdated LineChangeKind = "updated"
)

// Valid reports whether k is one of the LineChangeKind constants.
func (k LineChangeKind) Valid() bool {
	switch k {
	case LineChangeAdded, LineChangeRemoved, LineChangeUpdated:
		return true
	}
	return false
}

// LineChange is the change of one order line between two versions of an
// order, as [DiffOrders] computes it. Quantities are ordered quantities in
// the line's unit. It is a plain value, safe for concurrent reads. The zero
// value is an empty change, not valid.
type LineChange struct {
	// LineID is the order line's canonical ID.
	LineID string         `json:"lineId"`
	Kind   LineChangeKind `json:"kind"`
	// Item is the line's item (the later version's, or the removed
	// line's).
	Item ItemRef `json:"item"`
	// From is the ordered quantity of the earlier version: zero (in the
	// line's unit) for an added line.
	From Quantity `json:"from"`
	// To is the ordered quantity of the later version: zero (in the
	// line's unit) for a removed line.
	To Quantity `json:"to"`
	// Delta is To − From: positive for more, negative for less, zero when
	// only the requested date changed.
	Delta Quantity `json:"delta"`
	// UnitPrice is the later version's unit price (the earlier one's for
	// a removed line), as the source sent it. The ERP prices a change; a
	// price that differs between versions is not a change by itself.
	UnitPrice Money `json:"unitPrice"`
	// FromRequestedDate and ToRequestedDate are the line's requested
	// dates in the two versions; they differ when the date changed.
	FromRequestedDate time.Time `json:"fromRequestedDate,omitzero"`
	ToRequestedDate   time.Time `json:"toRequestedDate,omitzero"`
}

// DateChanged reports whether the line's requested date changed.
func (c LineChange) DateChanged() bool { return !c.FromRequestedDate.Equal(c.ToRequestedDate) }

// QuantityChanged reports whether the line's ordered quantity changed.
func (c LineChange) QuantityChanged() bool { return !c.Delta.Value.IsZero() }

// OrderChange is what changed in an order between two of its versions:
// per line, the quantity (up, down, line added or removed) and requested
// date; for the order, the ship-to party, ship-complete and the requested
// dates. Compute it with [DiffOrders]. A header field is nil when it did
// not change; a pointer to the zero time means the date was cleared.
//
// Versions order changes: a system that holds version FromVersion applies
// the change and then holds ToVersion; one that already holds ToVersion or
// later ignores it. An OrderChange is a plain value, safe for concurrent
// reads. The zero value is not valid ([OrderChange.Validate]).
type OrderChange struct {
	OrderID     string `json:"orderId"`
	FromVersion int64  `json:"fromVersion"`
	ToVersion   int64  `json:"toVersion"`
	// Lines are the changed lines: those of the later version in its
	// order, then the removed ones in the earlier version's order.
	Lines []LineChange `json:"lines,omitempty"`
	// ShipTo is the new ship-to party.
	ShipTo *PartyRef `json:"shipTo,omitempty"`
	// ShipComplete is the new ship-complete setting.
	ShipComplete          *bool      `json:"shipComplete,omitempty"`
	RequestedShipDate     *time.Time `json:"requestedShipDate,omitempty"`
	RequestedDeliveryDate *time.Time `json:"requestedDeliveryDate,omitempty"`
}

// Empty reports whether the change changes nothing: no line and no header
// field.
func (c OrderChange) Empty() bool {
	return len(c.Lines) == 0 && c.ShipTo == nil && c.ShipComplete == nil &&
		c.RequestedShipDate == nil && c.RequestedDeliveryDate == nil
}

// Line returns the change of the line with the given ID, or nil.
func (c *OrderChange) Line(id string) *LineChange {
	for i := range c.Lines {
		if c.Lines[i].LineID == id {
			return &c.Lines[i]
		}
	}
	return nil
}

// Validate checks the change: an order ID, 0 ≤ FromVersion < ToVersion,
// and per line a unique line ID, a valid kind, an item SKU, From, To and
// Delta in one valid unit with Delta = To − From, From zero for an added
// line and positive otherwise, To zero for a removed line and positive
// otherwise; a ship-to party with an ID. The error is a
// [*ValidationError] naming each field.
func (c OrderChange) Validate() error {
	v := violations{kind: "order change"}
	if c.OrderID == "" {
		v.add("orderId", "is required")
	}
	if c.FromVersion < 0 {
		v.add("fromVersion", "must not be negative, is "+strconv.FormatInt(c.FromVersion, 10))
	}
	if c.ToVersion <= c.FromVersion {
		v.add("toVersion", "must be above fromVersion "+strconv.FormatInt(c.FromVersion, 10)+", is "+strconv.FormatInt(c.ToVersion, 10))
	}
	checkUnique(&v, "lines", c.Lines, "lineId", func(l *LineChange) string { return l.LineID })
	for i := range c.Lines {
		l := &c.Lines[i]
		if l.LineID == "" {
			v.add(indexPath("lines", i, "lineId"), "is required")
		}
		if !l.Kind.Valid() {
			v.add(indexPath("lines", i, "kind"), "must be one of added, removed, updated, is "+strconv.Quote(string(l.Kind)))
		}
		if l.Item.SKU == "" {
			v.add(indexPath("lines", i, "item.sku"), "is required")
		}
		checkQuantity(&v, "lines", i, "from", l.From, l.Kind != LineChangeAdded)
		checkQuantity(&v, "lines", i, "to", l.To, l.Kind != LineChangeRemoved)
		if l.Kind == LineChangeAdded && !l.From.Value.IsZero() {
			v.add(indexPath("lines", i, "from.value"), "must be 0 for an added line, is "+l.From.Value.String())
		}
		if l.Kind == LineChangeRemoved && !l.To.Value.IsZero() {
			v.add(indexPath("lines", i, "to.value"), "must be 0 for a removed line, is "+l.To.Value.String())
		}
		if l.From.Unit != l.To.Unit || l.Delta.Unit != l.To.Unit {
			v.add(indexPath("lines", i, "delta.unit"), "from, to and delta must be in one unit, are "+string(l.From.Unit)+", "+string(l.To.Unit)+", "+string(l.Delta.Unit))
		} else if d, err := l.To.Value.Sub(l.From.Value); err != nil || !d.Equal(l.Delta.Value) {
			v.add(indexPath("lines", i, "delta.value"), "must be to − from, is "+l.Delta.Value.String())
		}
		if l.Kind == LineChangeUpdated && l.Delta.Value.IsZero() && !l.DateChanged() {
			v.add(indexPath("lines", i, "kind"), "is updated but neither quantity nor requested date changed")
		}
	}
	if c.ShipTo != nil {
		v.addErr("shipTo", c.ShipTo.Validate())
	}
	return v.err()
}

// DiffOrders returns the change from version old to version new of one
// order: per line, an added line, a removed line, or an updated quantity
// or requested date, and the header fields that changed (ship-to by party
// ID and address, ship-complete, requested ship and delivery dates). It
// compares ordered quantities (the lines' Quantity), not buckets: what each
// system holds of a line is the caller's to compare with the change.
//
// DiffOrders is pure and safe for concurrent use. It returns an error
// matching [ErrStaleVersion] when new.Version ≤ old.Version, and a
// [*ValidationError] (matching [ErrInvalid]) when the orders have other
// IDs, repeat a line ID, have a line without an ID or with a quantity that
// is not positive, or change a line's item or unit (remove the line and
// add another instead). The change may be [OrderChange.Empty].
func DiffOrders(old, new Order) (OrderChange, error) {
	if old.ID == new.ID && new.Version <= old.Version {
		return OrderChange{}, errors.Join(ErrStaleVersion, errors.New("canonical: order "+strconv.Quote(new.ID)+" version "+
			strconv.FormatInt(new.Version, 10)+" is not above version "+strconv.FormatInt(old.Version, 10)))
	}
	v := violations{kind: "order change"}
	if old.ID != new.ID {
		v.add("id", "orders differ: "+strconv.Quote(old.ID)+" and "+strconv.Quote(new.ID))
	}
	checkLines := func(list string, ls []OrderLine) {
		checkUnique(&v, list, ls, "id", func(l *OrderLine) string { return l.ID })
		for i := range ls {
			if ls[i].ID == "" {
				v.add(indexPath(list, i, "id"), "is required")
			}
			checkQuantity(&v, list, i, "quantity", ls[i].Quantity, true)
		}
	}
	checkLines("old.lines", old.Lines)
	checkLines("lines", new.Lines)
	if len(v.list)+v.omitted > 0 {
		return OrderChange{}, v.err()
	}
	c := OrderChange{OrderID: new.ID, FromVersion: old.Version, ToVersion: new.Version}
	oldIdx := make(map[string]int, len(old.Lines))
	for i := range old.Lines {
		oldIdx[old.Lines[i].ID] = i
	}
	seen := make(map[string]bool, len(new.Lines))
	for i := range new.Lines {
		nl := &new.Lines[i]
		seen[nl.ID] = true
		j, ok := oldIdx[nl.ID]
		if !ok {
			c.Lines = append(c.Lines, LineChange{LineID: nl.ID, Kind: LineChangeAdded, Item: nl.Item,
				From: NewQuantity(Decimal{}, nl.Quantity.Unit), To: nl.Quantity, Delta: nl.Quantity,
				UnitPrice: nl.UnitPrice, ToRequestedDate: nl.RequestedDate})
			continue
		}
		ol := &old.Lines[j]
		if ol.Item.SKU != nl.Item.SKU {
			v.add(indexPath("lines", i, "item.sku"), "changed from "+strconv.Quote(ol.Item.SKU)+"; remove the line and add another")
			continue
		}
		if ol.Quantity.Unit != nl.Quantity.Unit {
			v.add(indexPath("lines", i, "quantity.unit"), "changed from "+string(ol.Quantity.Unit)+"; remove the line and add another")
			continue
		}
		d, err := nl.Quantity.Value.Sub(ol.Quantity.Value)
		if err != nil {
			v.add(indexPath("lines", i, "quantity.value"), errorMessage(err))
			continue
		}
		if d.IsZero() && ol.RequestedDate.Equal(nl.RequestedDate) {
			continue
		}
		c.Lines = append(c.Lines, LineChange{LineID: nl.ID, Kind: LineChangeUpdated, Item: nl.Item,
			From: ol.Quantity, To: nl.Quantity, Delta: NewQuantity(d, nl.Quantity.Unit),
			UnitPrice: nl.UnitPrice, FromRequestedDate: ol.RequestedDate, ToRequestedDate: nl.RequestedDate})
	}
	for i := range old.Lines {
		ol := &old.Lines[i]
		if seen[ol.ID] {
			continue
		}
		c.Lines = append(c.Lines, LineChange{LineID: ol.ID, Kind: LineChangeRemoved, Item: ol.Item,
			From: ol.Quantity, To: NewQuantity(Decimal{}, ol.Quantity.Unit), Delta: NewQuantity(ol.Quantity.Value.Neg(), ol.Quantity.Unit),
			UnitPrice: ol.UnitPrice, FromRequestedDate: ol.RequestedDate})
	}
	if len(v.list)+v.omitted > 0 {
		return OrderChange{}, v.err()
	}
	if !samePartyRef(old.ShipTo, new.ShipTo) {
		p := new.ShipTo
		c.ShipTo = &p
	}
	if old.ShipComplete != new.ShipComplete {
		b := new.ShipComplete
		c.ShipComplete = &b
	}
	if !old.RequestedShipDate.Equal(new.RequestedShipDate) {
		t := new.RequestedShipDate
		c.RequestedShipDate = &t
	}
	if !old.RequestedDeliveryDate.Equal(new.RequestedDeliveryDate) {
		t := new.RequestedDeliveryDate
		c.RequestedDeliveryDate = &t
	}
	return c, nil
}

// samePartyRef reports whether a and b name the same party at the same
// address.
func samePartyRef(a, b PartyRef) bool {
	if a.ID != b.ID || (a.Address == nil) != (b.Address == nil) {
		return false
	}
	if a.Address == nil {
		return true
	}
	x, y := *a.Address, *b.Address
	if len(x.Lines) != len(y.Lines) {
		return false
	}
	for i := range x.Lines {
		if x.Lines[i] != y.Lines[i] {
			return false
		}
	}
	return x.Name == y.Name && x.City == y.City && x.Region == y.Region && x.PostalCode == y.PostalCode && x.Country == y.Country
}

// ChangeOutcome is what a system did with (part of) an [OrderChange], from
// a closed set. It is a comparable value, safe for concurrent use. The
// zero value is not a valid outcome.
type ChangeOutcome string

// Change outcomes.
const (
	// ChangeApplied: the change was applied in full.
	ChangeApplied ChangeOutcome = "applied"
	// ChangePartiallyApplied: part of a quantity change was applied, the
	// rest held or refused (see [ChangeResult.Applied] and Reason).
	ChangePartiallyApplied ChangeOutcome = "partially_applied"
	// ChangeHeld: nothing was applied yet; the change waits for a hold
	// (such as a credit hold) to be released.
	ChangeHeld ChangeOutcome = "held"
	// ChangeRefused: nothing was applied, for the reason given.
	ChangeRefused ChangeOutcome = "refused"
)

// Valid reports whether o is one of the ChangeOutcome constants.
func (o ChangeOutcome) Valid() bool {
	switch o {
	case ChangeApplied, ChangePartiallyApplied, ChangeHeld, ChangeRefused:
		return true
	}
	return false
}

// ChangeReason says why (part of) a change was held or refused, from a
// closed set. It is a comparable value, safe for concurrent use. The zero
// value means no reason: the change was applied.
type ChangeReason string

// Change reasons.
const (
	// ChangeReasonPicked: the goods are picked; a warehouse does not
	// change what it has picked.
	ChangeReasonPicked ChangeReason = "picked"
	// ChangeReasonPacked: the goods are packed.
	ChangeReasonPacked ChangeReason = "packed"
	// ChangeReasonShipped: the goods have shipped.
	ChangeReasonShipped ChangeReason = "shipped"
	// ChangeReasonCredit: more value would exceed the customer's credit
	// limit (held, or refused).
	ChangeReasonCredit ChangeReason = "credit"
	// ChangeReasonStock: not enough available to promise for the added
	// quantity.
	ChangeReasonStock ChangeReason = "stock"
	// ChangeReasonItem: the item is unknown, blocked or has no price.
	ChangeReasonItem ChangeReason = "item"
	// ChangeReasonCustomer: the customer is blocked for more business.
	ChangeReasonCustomer ChangeReason = "customer"
	// ChangeReasonClosed: the order (or fulfilment order) is closed,
	// rejected or cancelled.
	ChangeReasonClosed ChangeReason = "closed"
	// ChangeReasonStale: the change is for a version the system already
	// holds or has passed.
	ChangeReasonStale ChangeReason = "stale"
	// ChangeReasonUnsupported: a system that holds the order cannot
	// change it after the ERP's decision (its connector lacks the role).
	ChangeReasonUnsupported ChangeReason = "unsupported"
)

// Valid reports whether r is "" or one of the ChangeReason constants.
func (r ChangeReason) Valid() bool {
	switch r {
	case "", ChangeReasonPicked, ChangeReasonPacked, ChangeReasonShipped, ChangeReasonCredit,
		ChangeReasonStock, ChangeReasonItem, ChangeReasonCustomer, ChangeReasonClosed, ChangeReasonStale, ChangeReasonUnsupported:
		return true
	}
	return false
}

// The fields a [ChangeResult] is about: the JSON names of the order's
// fields.
const (
	ChangeFieldQuantity              = "quantity"
	ChangeFieldRequestedDate         = "requestedDate"
	ChangeFieldShipTo                = "shipTo"
	ChangeFieldShipComplete          = "shipComplete"
	ChangeFieldRequestedShipDate     = "requestedShipDate"
	ChangeFieldRequestedDeliveryDate = "requestedDeliveryDate"
)

// ChangeResult is what a system did with one part of a change: a line's
// quantity or requested date, or a header field. It is a plain value,
// safe for concurrent reads. The zero value is not valid.
type ChangeResult struct {
	// LineID is the line (an order line, or a fulfilment line in a
	// warehouse's answer); empty for a header field.
	LineID string `json:"lineId,omitempty"`
	// Field is one of the ChangeField constants.
	Field   string        `json:"field"`
	Outcome ChangeOutcome `json:"outcome"`
	// Applied is the part of a quantity change that was applied, signed
	// as the change's delta; Refused is the rest (held or refused). Both
	// are set for a quantity change and nil for any other field.
	Applied *Quantity `json:"applied,omitempty"`
	Refused *Quantity `json:"refused,omitempty"`
	// Reason is why the change (or its refused part) was not applied; ""
	// when it was.
	Reason ChangeReason `json:"reason,omitempty"`
	// Messages explain the result to people (a new price, a credit
	// exposure).
	Messages []AckMessage `json:"messages,omitempty"`
}

// Validate checks the result: a field, a valid outcome and reason, a
// reason for anything not applied and none for an applied change, and for
// a quantity Applied and Refused in one unit, agreeing with the outcome.
func (r ChangeResult) Validate() error {
	v := violations{kind: "change result"}
	r.check(&v, "")
	return v.err()
}

func (r *ChangeResult) check(v *violations, p string) {
	if r.Field == "" {
		v.add(joinPath(p, "field"), "is required")
	}
	if !r.Outcome.Valid() {
		v.add(joinPath(p, "outcome"), "must be one of applied, partially_applied, held, refused, is "+strconv.Quote(string(r.Outcome)))
	}
	if !r.Reason.Valid() {
		v.add(joinPath(p, "reason"), "unknown reason "+strconv.Quote(string(r.Reason)))
	}
	if (r.Outcome == ChangeApplied) != (r.Reason == "") && r.Outcome.Valid() {
		v.add(joinPath(p, "reason"), "must be set exactly when the outcome is not applied")
	}
	if r.Field != ChangeFieldQuantity {
		if r.Applied != nil || r.Refused != nil {
			v.add(joinPath(p, "applied"), "is only for a quantity change")
		}
		return
	}
	if r.Applied == nil || r.Refused == nil {
		v.add(joinPath(p, "applied"), "applied and refused are required for a quantity change")
		return
	}
	if r.Applied.Unit != r.Refused.Unit {
		v.add(joinPath(p, "refused.unit"), "must be the unit of applied "+string(r.Applied.Unit))
	}
	a, f := r.Applied.Value.IsZero(), r.Refused.Value.IsZero()
	switch r.Outcome {
	case ChangeApplied:
		if !f {
			v.add(joinPath(p, "refused"), "must be zero when the outcome is applied")
		}
	case ChangePartiallyApplied:
		if a || f {
			v.add(joinPath(p, "applied"), "applied and refused must both be non-zero when the outcome is partially_applied")
		}
	case ChangeHeld, ChangeRefused:
		if !a {
			v.add(joinPath(p, "applied"), "must be zero when the outcome is "+string(r.Outcome))
		}
	}
}

// QuantityResult returns the result of a quantity change of delta of which
// applied was applied and the rest held or refused for reason; the
// outcome follows from the quantities (refused is ChangeHeld when held is
// set). It returns an error matching [ErrUnitMismatch] when the units
// differ.
func QuantityResult(lineID string, delta, applied Quantity, reason ChangeReason, held bool) (ChangeResult, error) {
	rest, err := delta.Sub(applied)
	if err != nil {
		return ChangeResult{}, err
	}
	r := ChangeResult{LineID: lineID, Field: ChangeFieldQuantity, Applied: &applied, Refused: &rest, Reason: reason}
	switch {
	case rest.IsZero():
		r.Outcome, r.Reason = ChangeApplied, ""
	case !applied.IsZero():
		r.Outcome = ChangePartiallyApplied
	case held:
		r.Outcome = ChangeHeld
	default:
		r.Outcome = ChangeRefused
	}
	return r, nil
}

// ChangeOutcomeOf sums up results: ChangeApplied when every result (or
// none) is applied, ChangeRefused when every one is refused, ChangeHeld
// when none is applied and one is held, else ChangePartiallyApplied.
func ChangeOutcomeOf(results []ChangeResult) ChangeOutcome {
	var applied, partial, held, refused int
	for i := range results {
		switch results[i].Outcome {
		case ChangeApplied:
			applied++
		case ChangePartiallyApplied:
			partial++
		case ChangeHeld:
			held++
		default:
			refused++
		}
	}
	switch {
	case partial+held+refused == 0:
		return ChangeApplied
	case applied+partial == 0 && held == 0:
		return ChangeRefused
	case applied+partial == 0:
		return ChangeHeld
	}
	return ChangePartiallyApplied
}

// ChangeAck is the ERP's answer to an [OrderChange]: per line and field
// what it applied, held or refused, with the reasons, the holds it placed
// and the order's totals after the change. It is a plain value, safe for
// concurrent reads. The zero value is not valid ([ChangeAck.Validate]).
type ChangeAck struct {
	OrderID     string `json:"orderId"`
	FromVersion int64  `json:"fromVersion"`
	ToVersion   int64  `json:"toVersion"`
	// Refs carries the ERP's IDs for the order.
	Refs Refs `json:"refs,omitempty"`
	// Outcome sums up Results as [ChangeOutcomeOf] does.
	Outcome ChangeOutcome  `json:"outcome"`
	Results []ChangeResult `json:"results,omitempty"`
	// Holds are the holds the change placed on the order.
	Holds    []Hold       `json:"holds,omitempty"`
	Messages []AckMessage `json:"messages,omitempty"`
	// Totals are the order's totals after the change.
	Totals  *Totals   `json:"totals,omitempty"`
	AckedAt time.Time `json:"ackedAt"`
}

// Validate checks the ack: order ID, versions, acked time, every result,
// and an outcome that agrees with them.
func (a ChangeAck) Validate() error {
	v := violations{kind: "change ack"}
	if a.OrderID == "" {
		v.add("orderId", "is required")
	}
	if a.ToVersion <= a.FromVersion {
		v.add("toVersion", "must be above fromVersion "+strconv.FormatInt(a.FromVersion, 10))
	}
	if a.AckedAt.IsZero() {
		v.add("ackedAt", "is required")
	}
	for i := range a.Results {
		a.Results[i].check(&v, indexPath("results", i, ""))
	}
	if want := ChangeOutcomeOf(a.Results); a.Outcome != want {
		v.add("outcome", "must be "+string(want)+" for these results, is "+strconv.Quote(string(a.Outcome)))
	}
	return v.err()
}
