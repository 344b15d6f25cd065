package erp

// AmendOrder and ReportAmendment: the ERP's own changes of an order it has
// accepted (a price correction, a line rejected later, a reduced confirmed
// quantity, a new promised date), put on its event feed, and what the
// warehouses kept of them.

import (
	"context"
	"fmt"
	"slices"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

var _ connector.AmendmentReporter = (*Memory)(nil)

// AmendOrder changes an order the ERP has recorded, on the ERP's own
// initiative, and puts an [canonical.EventOrderAmended] event carrying the
// amendment (ID "EAM-000001", the order's next revision from 1) on the
// ERP's event feed ([Memory.PollEvents]), for the flow to carry to the CRM
// and, where it changes what to ship, to the warehouses. Each line's
// fields are its new values in total: Rejected and Confirmed set the
// line's rejected and confirmed buckets, UnitPrice the price later
// invoices use, PromisedDate the promised date (the zero time withdraws
// it). The order's totals, the open demand and the customer's exposure
// are not recomputed.
//
// CodeNotFound for an order the ERP does not know; CodeInvalid, naming
// lines[i] and the field, for an amendment that breaks
// [canonical.OrderAmendment.Validate], an unknown line, a quantity not in
// the line's unit, a price not in the order's currency, a rejected total
// below the line's (a rejection is not taken back here; see
// [Memory.ReportAmendment]) or a confirmed total above what is open;
// CodeConflict for a cancelled or closed order, or a rejected total above
// what is open and not shipped (ordered − cancelled − shipped).
func (m *Memory) AmendOrder(ctx context.Context, orderID string, lines []canonical.AmendedLine, reason string) (canonical.OrderAmendment, error) {
	const op = "AmendOrder"
	if err := ctxErr(ctx); err != nil {
		return canonical.OrderAmendment{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.orders[orderID]
	if rec == nil {
		return canonical.OrderAmendment{}, errorf(connector.CodeNotFound, op, "order %q", orderID)
	}
	if !rec.doc.CancelledAt.IsZero() || !rec.doc.ClosedAt.IsZero() {
		return canonical.OrderAmendment{}, errorf(connector.CodeConflict, op, "order %s (%s) is cancelled or closed", orderID, rec.number)
	}
	a := canonical.OrderAmendment{ID: fmt.Sprintf("EAM-%06d", m.nextAM+1), OrderID: orderID, Revision: m.amendRev[orderID] + 1,
		Lines: cloneAmendedLines(lines), Reason: reason, AmendedAt: m.now()}
	if err := a.Validate(); err != nil {
		return canonical.OrderAmendment{}, asInvalid(op, err)
	}
	var fes []canonical.FieldError
	idx := make([]int, len(lines))
	for i, l := range lines {
		j := lineIndex(&rec.doc, l.LineID)
		idx[i] = j
		if j < 0 {
			fes = append(fes, canonical.FieldError{Field: at(i, ".lineId"), Message: fmt.Sprintf("order %s has no line %q", orderID, l.LineID)})
			continue
		}
		ol := &rec.doc.Lines[j]
		bs := &ol.Buckets
		cancelled := bs.Get(canonical.BucketCancelled)
		rejected := bs.Get(canonical.BucketRejected)
		if l.Rejected != nil {
			switch {
			case l.Rejected.Unit != ol.Quantity.Unit:
				fes = append(fes, canonical.FieldError{Field: at(i, ".rejected.unit"), Message: fmt.Sprintf("must be the line's unit %s, is %s", ol.Quantity.Unit, l.Rejected.Unit)})
			case l.Rejected.Value.Cmp(bs.Get(canonical.BucketRejected)) < 0:
				fes = append(fes, canonical.FieldError{Field: at(i, ".rejected.value"), Message: fmt.Sprintf("must not be below the line's rejected %s, is %s", bs.Get(canonical.BucketRejected), l.Rejected.Value)})
			default:
				open, err := bs.Get(canonical.BucketOrdered).Sub(cancelled)
				if err == nil {
					open, err = open.Sub(bs.Get(canonical.BucketShipped))
				}
				if err != nil || l.Rejected.Value.Cmp(open) > 0 {
					return canonical.OrderAmendment{}, errorf(connector.CodeConflict, op, "line %s of order %s: rejecting %s in total would exceed the open, unshipped %s", ol.ID, orderID, l.Rejected.Value, open)
				}
				rejected = l.Rejected.Value
			}
		}
		if l.Confirmed != nil {
			open, err := bs.Get(canonical.BucketOrdered).Sub(cancelled)
			if err == nil {
				open, err = open.Sub(rejected)
			}
			switch {
			case l.Confirmed.Unit != ol.Quantity.Unit:
				fes = append(fes, canonical.FieldError{Field: at(i, ".confirmed.unit"), Message: fmt.Sprintf("must be the line's unit %s, is %s", ol.Quantity.Unit, l.Confirmed.Unit)})
			case err != nil || l.Confirmed.Value.Cmp(open) > 0:
				fes = append(fes, canonical.FieldError{Field: at(i, ".confirmed.value"), Message: fmt.Sprintf("must not exceed the open %s, is %s", open, l.Confirmed.Value)})
			}
		}
		if l.UnitPrice != nil && l.UnitPrice.Currency != rec.doc.Currency {
			fes = append(fes, canonical.FieldError{Field: at(i, ".unitPrice.currency"), Message: fmt.Sprintf("must be the order's currency %s, is %s", rec.doc.Currency, l.UnitPrice.Currency)})
		}
	}
	if fes != nil {
		return canonical.OrderAmendment{}, invalid(op, canonical.KindOrderAmendment, fes...)
	}
	if _, err := m.emitLocked(canonical.EventOrderAmended, orderID, a); err != nil {
		return canonical.OrderAmendment{}, errorf(connector.CodeInternal, op, "emit: %w", err)
	}
	for i, l := range lines {
		ol := &rec.doc.Lines[idx[i]]
		if l.Rejected != nil {
			ol.Buckets.Set(canonical.BucketRejected, l.Rejected.Value)
		}
		if l.Confirmed != nil {
			ol.Buckets.Set(canonical.BucketConfirmed, l.Confirmed.Value)
		}
		if l.UnitPrice != nil {
			ol.UnitPrice = *l.UnitPrice
		}
		if l.PromisedDate != nil {
			ol.PromisedDate = *l.PromisedDate
		}
	}
	if m.amendRev == nil {
		m.amendRev = map[string]int64{}
	}
	m.amendRev[orderID] = a.Revision
	m.nextAM++
	return a, nil
}

// cloneAmendedLines copies lines and what their pointers point to.
func cloneAmendedLines(lines []canonical.AmendedLine) []canonical.AmendedLine {
	out := slices.Clone(lines)
	for i := range out {
		l := &out[i]
		if l.Rejected != nil {
			q := *l.Rejected
			l.Rejected = &q
		}
		if l.Confirmed != nil {
			q := *l.Confirmed
			l.Confirmed = &q
		}
		if l.UnitPrice != nil {
			p := *l.UnitPrice
			l.UnitPrice = &p
		}
		if l.PromisedDate != nil {
			d := *l.PromisedDate
			l.PromisedDate = &d
		}
	}
	return out
}

// ReportAmendment implements [connector.AmendmentReporter]: it takes the
// kept quantities of r out of the rejected bucket of the order's lines (the
// warehouses had picked or shipped them), so that the ERP posts their
// shipment and invoices them, and returns the ERP's view of the order.
//
// It is idempotent by key: the same key with the same report returns the
// order as it is and changes nothing more; with another report it is
// CodeConflict. CodeNotFound for an unknown order; CodeInvalid, naming
// kept[i] and the field, for an unknown line, a quantity that is not
// positive or not in the line's unit; CodeConflict when a line's kept
// quantity exceeds its rejected bucket.
func (m *Memory) ReportAmendment(ctx context.Context, key string, r connector.AmendmentReport) (canonical.Order, error) {
	const op = "ReportAmendment"
	if err := ctxErr(ctx); err != nil {
		return canonical.Order{}, err
	}
	if key == "" {
		return canonical.Order{}, invalid(op, "request", canonical.FieldError{Field: "key", Message: "required"})
	}
	fp, err := fingerprint(r)
	if err != nil {
		return canonical.Order{}, asInvalid(op, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.orders[r.OrderID]
	if rec == nil {
		return canonical.Order{}, errorf(connector.CodeNotFound, op, "order %q", r.OrderID)
	}
	if was, ok := m.amendKeys[key]; ok {
		if was != fp {
			return canonical.Order{}, errorf(connector.CodeConflict, op, "key %q was used for another report", key)
		}
		return cloneOrder(&rec.doc), nil
	}
	sub := make(map[int]canonical.Decimal, len(r.Kept))
	var fes []canonical.FieldError
	for i, k := range r.Kept {
		p := fmt.Sprintf("kept[%d]", i)
		j := lineIndex(&rec.doc, k.LineID)
		switch {
		case j < 0:
			fes = append(fes, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("order %s has no line %q", r.OrderID, k.LineID)})
		case k.Quantity.Unit != rec.doc.Lines[j].Quantity.Unit:
			fes = append(fes, canonical.FieldError{Field: p + ".quantity.unit", Message: fmt.Sprintf("must be the line's unit %s, is %s", rec.doc.Lines[j].Quantity.Unit, k.Quantity.Unit)})
		case !k.Quantity.Value.IsPos():
			fes = append(fes, canonical.FieldError{Field: p + ".quantity.value", Message: "must be > 0, is " + k.Quantity.Value.String()})
		default:
			s, err := sub[j].Add(k.Quantity.Value)
			if err != nil {
				fes = append(fes, canonical.FieldError{Field: p + ".quantity.value", Message: "too large"})
				continue
			}
			sub[j] = s
		}
	}
	if fes != nil {
		return canonical.Order{}, invalid(op, "amendment_report", fes...)
	}
	left := make(map[int]canonical.Decimal, len(sub))
	for j, q := range sub {
		bs := &rec.doc.Lines[j].Buckets
		v, err := bs.Get(canonical.BucketRejected).Sub(q)
		if err != nil || v.IsNeg() {
			return canonical.Order{}, errorf(connector.CodeConflict, op, "line %s of order %s: keeping %s exceeds the rejected %s", rec.doc.Lines[j].ID, r.OrderID, q, bs.Get(canonical.BucketRejected))
		}
		left[j] = v
	}
	for j, v := range left {
		rec.doc.Lines[j].Buckets.Set(canonical.BucketRejected, v)
	}
	if m.amendKeys == nil {
		m.amendKeys = map[string][32]byte{}
	}
	m.amendKeys[key] = fp
	return cloneOrder(&rec.doc), nil
}
