package wms

// ChangeRelease: changes of released fulfilment orders after the ERP's
// decision (connector.ReleaseChanger).

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// releaseChangeRecord is a ChangeRelease call, kept by key.
type releaseChangeRecord struct {
	fp  [32]byte
	res connector.ReleaseChangeResult
}

var _ connector.ReleaseChanger = (*Memory)(nil)

// ChangeRelease implements [connector.ReleaseChanger]. The warehouse
// changes what it has not picked:
//
//   - A decrease takes away backordered quantity first, then allocated
//     quantity (its stock is free again); what is picked or shipped is
//     refused for [canonical.ChangeReasonPicked] or
//     [canonical.ChangeReasonShipped] (picked first), and a line with
//     nothing left for [canonical.ChangeReasonClosed]. What was taken away
//     appears on the feed as [canonical.EventFulfillmentCancelled] whose
//     data is the fulfilment order with the taken quantities as its lines,
//     followed, once the order was allocated, by an allocation update, as
//     [Memory.CancelRelease] emits.
//   - An increase is added to the line's backorder while the fulfilment
//     order is still open; the next [Memory.Step] allocates it. Once the
//     order has nothing open it is refused ([canonical.ChangeReasonShipped]
//     when something shipped, else [canonical.ChangeReasonClosed]). An
//     allocated order reports the new backorder at once in an allocation
//     update.
//   - A new ship-to, ship-complete or requested ship date is applied
//     until picking starts and refused after
//     ([canonical.ChangeReasonPicked], or [canonical.ChangeReasonShipped]
//     once something shipped).
//
// [Memory.FulfillmentOrder] returns the order's lines as released and its
// header as changed. ChangeRelease is idempotent by key: the same key with
// the same request returns the first result; with another request it is a
// CodeConflict error. CodeNotFound for an unknown fulfilment order;
// CodeInvalid, naming the field, for a missing key or ID, an unknown or
// repeated line, a zero delta or one not in the line's unit, or a
// ship-to without an ID.
func (m *Memory) ChangeRelease(ctx context.Context, key string, req connector.ReleaseChange) (connector.ReleaseChangeResult, error) {
	const op = "ChangeRelease"
	const kind = "release change"
	if err := ctxErr(ctx, op); err != nil {
		return connector.ReleaseChangeResult{}, err
	}
	if key == "" {
		return connector.ReleaseChangeResult{}, invalid(op, kind, canonical.FieldError{Field: "key", Message: "is required"})
	}
	if req.FulfillmentOrderID == "" {
		return connector.ReleaseChangeResult{}, invalid(op, kind, canonical.FieldError{Field: "fulfillmentOrderId", Message: "is required"})
	}
	b, err := json.Marshal(req)
	if err != nil {
		return connector.ReleaseChangeResult{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	fp := sha256.Sum256(b)
	w := m.w
	m.lock()
	defer w.mu.Unlock()
	if rec, ok := w.releaseChanges[key]; ok {
		if rec.fp != fp {
			return connector.ReleaseChangeResult{}, errorf(connector.CodeConflict, op, ErrConflict, "key %q was used for another release change", key)
		}
		return cloneReleaseChange(rec.res), nil
	}
	f, ok := w.foByID[req.FulfillmentOrderID]
	if !ok {
		return connector.ReleaseChangeResult{}, errorf(connector.CodeNotFound, op, ErrNotFound, "fulfillment order %q", req.FulfillmentOrderID)
	}
	var bad []canonical.FieldError
	lines := make([]*foLine, len(req.Lines))
	for i, lc := range req.Lines {
		p := fmt.Sprintf("lines[%d]", i)
		l := f.line(lc.LineID)
		lines[i] = l
		switch {
		case l == nil:
			bad = append(bad, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("no line %q in fulfillment order %q", lc.LineID, f.doc.ID)})
		case slices.ContainsFunc(req.Lines[:i], func(o connector.ReleaseLineChange) bool { return o.LineID == lc.LineID }):
			bad = append(bad, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("duplicate line %q", lc.LineID)})
		case lc.Delta.Unit != l.doc.Quantity.Unit:
			bad = append(bad, canonical.FieldError{Field: p + ".delta.unit", Message: fmt.Sprintf("must be the line unit %s, is %s", l.doc.Quantity.Unit, lc.Delta.Unit)})
		case lc.Delta.Value.IsZero():
			bad = append(bad, canonical.FieldError{Field: p + ".delta.value", Message: "must not be 0"})
		case checkAmount(lc.Delta.Value.Abs()) != "":
			bad = append(bad, canonical.FieldError{Field: p + ".delta.value", Message: checkAmount(lc.Delta.Value.Abs())})
		}
	}
	if req.ShipTo != nil && req.ShipTo.Validate() != nil {
		bad = append(bad, canonical.FieldError{Field: "shipTo.id", Message: "is required"})
	}
	if len(bad) > 0 {
		return connector.ReleaseChangeResult{}, invalid(op, kind, bad...)
	}

	var c calc
	open := slices.Contains(w.active, f)
	res := connector.ReleaseChangeResult{FulfillmentOrderID: f.doc.ID, Results: []canonical.ChangeResult{}}
	cancelled := cloneFO(f.doc)
	cancelled.Lines = cancelled.Lines[:0]
	increased, changed := false, false
	for i, lc := range req.Lines {
		l := lines[i]
		unit := l.doc.Quantity.Unit
		var applied canonical.Decimal
		var reason canonical.ChangeReason
		if lc.Delta.Value.IsPos() {
			if open {
				l.backordered = c.add(l.backordered, lc.Delta.Value)
				applied = lc.Delta.Value
				increased = true
			} else if f.shipments > 0 {
				reason = canonical.ChangeReasonShipped
			} else {
				reason = canonical.ChangeReasonClosed
			}
		} else {
			n := l.takeUnpicked(lc.Delta.Value.Abs(), &c)
			applied = n.Neg()
			switch {
			case l.picked(&c).IsPos():
				reason = canonical.ChangeReasonPicked
			case l.shipped.IsPos():
				reason = canonical.ChangeReasonShipped
			default:
				reason = canonical.ChangeReasonClosed
			}
			if n.IsPos() {
				dl := l.doc
				dl.Quantity = canonical.NewQuantity(n, unit)
				cancelled.Lines = append(cancelled.Lines, dl)
			}
		}
		r, err := canonical.QuantityResult(l.doc.ID, lc.Delta, canonical.NewQuantity(applied, unit), reason, false)
		if err != nil {
			return connector.ReleaseChangeResult{}, internal(op, err)
		}
		res.Results = append(res.Results, r)
	}
	// The header, until picking starts.
	refuse := canonical.ChangeReason("")
	switch {
	case f.shipments > 0:
		refuse = canonical.ChangeReasonShipped
	case f.pickedOnce:
		refuse = canonical.ChangeReasonPicked
	}
	header := func(field string, apply func()) {
		r := canonical.ChangeResult{Field: field, Outcome: canonical.ChangeApplied}
		if refuse != "" {
			r.Outcome, r.Reason = canonical.ChangeRefused, refuse
		} else {
			apply()
			changed = true
		}
		res.Results = append(res.Results, r)
	}
	if req.ShipTo != nil {
		header(canonical.ChangeFieldShipTo, func() { f.doc.ShipTo = *req.ShipTo })
	}
	if req.ShipComplete != nil {
		header(canonical.ChangeFieldShipComplete, func() { f.doc.ShipComplete = *req.ShipComplete })
	}
	if req.RequestedShipDate != nil {
		header(canonical.ChangeFieldRequestedShipDate, func() { f.doc.RequestedShipDate = *req.RequestedShipDate })
	}
	if c.err != nil {
		return connector.ReleaseChangeResult{}, internal(op, c.err)
	}
	if len(cancelled.Lines) > 0 || increased || changed {
		w.counts.Changes++
		f.version++
	}
	if len(cancelled.Lines) > 0 {
		cancelled.Version = f.version
		if err := m.emit(canonical.EventFulfillmentCancelled, f.doc.ID, f.doc.OrderID, cancelled); err != nil {
			return connector.ReleaseChangeResult{}, internal(op, err)
		}
	}
	if (len(cancelled.Lines) > 0 || increased) && f.started {
		if err := m.emitAllocation(f, false, &c); err != nil {
			return connector.ReleaseChangeResult{}, internal(op, err)
		}
	}
	res.Version = f.version
	w.releaseChanges[key] = releaseChangeRecord{fp: fp, res: cloneReleaseChange(res)}
	return res, nil
}

// takeUnpicked takes up to limit off the line's backorder, then off its
// allocations (freeing their stock), and returns what it took.
func (l *foLine) takeUnpicked(limit canonical.Decimal, c *calc) canonical.Decimal {
	n := l.backordered.Min(limit)
	l.backordered = c.sub(l.backordered, n)
	done := n
	for _, r := range slices.Backward(l.res) {
		k := r.allocated.Min(c.sub(limit, done))
		if !k.IsPos() {
			continue
		}
		r.allocated = c.sub(r.allocated, k)
		r.lot.allocated = c.sub(r.lot.allocated, c.mul(k, l.factor))
		done = c.add(done, k)
	}
	l.res = slices.DeleteFunc(l.res, func(r *reservation) bool { return r.allocated.IsZero() && r.picked.IsZero() })
	l.cancelled = c.add(l.cancelled, done)
	return done
}

func cloneReleaseChange(r connector.ReleaseChangeResult) connector.ReleaseChangeResult {
	r.Results = slices.Clone(r.Results)
	for i := range r.Results {
		x := &r.Results[i]
		x.Messages = slices.Clone(x.Messages)
		if x.Applied != nil {
			q := *x.Applied
			x.Applied = &q
		}
		if x.Refused != nil {
			q := *x.Refused
			x.Refused = &q
		}
	}
	return r
}
