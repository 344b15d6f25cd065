package erp

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// cancelRecord is a CancelOrderLines call, kept by key.
type cancelRecord struct {
	fp [32]byte
}

// RequestCancellation records a request made in the ERP (say, by customer
// service) to cancel the open remainder of an order: every open quantity
// when lines is empty, else at most the given quantity of each given line.
// It changes no quantity itself: it puts an
// [canonical.EventOrderCancelRequested] event carrying the request (ID
// "ECR-000001", requested by "erp") on the ERP's event feed
// ([Memory.PollEvents]), for the flow to cancel what the warehouses have
// not shipped and to report back with [Memory.CancelOrderLines].
//
// CodeNotFound for an order the ERP does not know; CodeInvalid, naming
// lines[i] and the field, for an unknown line, a quantity that is not
// positive or not in the line's unit.
func (m *Memory) RequestCancellation(ctx context.Context, orderID string, lines []canonical.CancelLine, reason string) (canonical.CancelRequest, error) {
	const op = "RequestCancellation"
	if err := ctxErr(ctx); err != nil {
		return canonical.CancelRequest{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.orders[orderID]
	if rec == nil {
		return canonical.CancelRequest{}, errorf(connector.CodeNotFound, op, "order %q", orderID)
	}
	req := canonical.CancelRequest{ID: fmt.Sprintf("ECR-%06d", m.nextCR+1), OrderID: orderID, RequestedBy: System,
		Lines: slices.Clone(lines), Reason: reason, RequestedAt: m.now()}
	var fes []canonical.FieldError
	for i, l := range lines {
		p := "lines[" + strconv.Itoa(i) + "]"
		j := lineIndex(&rec.doc, l.LineID)
		switch {
		case j < 0:
			fes = append(fes, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("order %s has no line %q", orderID, l.LineID)})
		case l.Quantity.Unit != rec.doc.Lines[j].Quantity.Unit:
			fes = append(fes, canonical.FieldError{Field: p + ".quantity.unit", Message: fmt.Sprintf("must be the line's unit %s, is %s", rec.doc.Lines[j].Quantity.Unit, l.Quantity.Unit)})
		}
	}
	if err := req.Validate(); err != nil {
		return canonical.CancelRequest{}, asInvalid(op, err)
	}
	if fes != nil {
		return canonical.CancelRequest{}, invalid(op, canonical.KindCancelRequest, fes...)
	}
	if _, err := m.emitLocked(canonical.EventOrderCancelRequested, orderID, req); err != nil {
		return canonical.CancelRequest{}, errorf(connector.CodeInternal, op, "emit: %w", err)
	}
	m.nextCR++
	return req, nil
}

// CancelOrderLines implements [connector.OrderCanceller]: it adds the
// quantities of c to the cancelled bucket of the order's lines, so that
// the ERP no longer expects to ship or invoice them, lowers what it
// backorders to what is left, and takes the cancelled quantities and
// their value (at the order's price and tax rate) off the open demand and
// the customer's credit exposure. It returns the ERP's view of the order.
//
// It is idempotent by key: the same key with the same cancellation
// returns the order as it is and cancels nothing more; with another
// cancellation it is CodeConflict. CodeNotFound for an unknown order;
// CodeInvalid, naming lines[i] and the field, for an unknown or rejected
// line, a quantity that is not positive or not in the line's unit;
// CodeConflict when a line's quantity exceeds what is open and unshipped
// (ordered − cancelled − rejected − shipped).
func (m *Memory) CancelOrderLines(ctx context.Context, key string, c connector.OrderCancellation) (canonical.Order, error) {
	const op = "CancelOrderLines"
	if err := ctxErr(ctx); err != nil {
		return canonical.Order{}, err
	}
	if key == "" {
		return canonical.Order{}, invalid(op, "request", canonical.FieldError{Field: "key", Message: "required"})
	}
	fp, err := fingerprint(c)
	if err != nil {
		return canonical.Order{}, asInvalid(op, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.cancels[key]; ok {
		if r.fp != fp {
			return canonical.Order{}, errorf(connector.CodeConflict, op, "key %q was used for another cancellation", key)
		}
		rec := m.orders[c.OrderID]
		if rec == nil {
			return canonical.Order{}, errorf(connector.CodeNotFound, op, "order %q", c.OrderID)
		}
		return cloneOrder(&rec.doc), nil
	}
	rec := m.orders[c.OrderID]
	if rec == nil {
		return canonical.Order{}, errorf(connector.CodeNotFound, op, "order %q", c.OrderID)
	}
	add := make(map[int]canonical.Decimal, len(c.Lines))
	var fes []canonical.FieldError
	for i, lq := range c.Lines {
		p := "lines[" + strconv.Itoa(i) + "]"
		j := lineIndex(&rec.doc, lq.LineID)
		switch {
		case j < 0 || rec.lines[j].rejected:
			fes = append(fes, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("order %s has no open line %q", c.OrderID, lq.LineID)})
		case lq.Quantity.Unit != rec.doc.Lines[j].Quantity.Unit:
			fes = append(fes, canonical.FieldError{Field: p + ".quantity.unit", Message: fmt.Sprintf("must be the line's unit %s, is %s", rec.doc.Lines[j].Quantity.Unit, lq.Quantity.Unit)})
		case !lq.Quantity.Value.IsPos():
			fes = append(fes, canonical.FieldError{Field: p + ".quantity.value", Message: "must be > 0, is " + lq.Quantity.Value.String()})
		default:
			sum, err := add[j].Add(lq.Quantity.Value)
			if err != nil {
				fes = append(fes, canonical.FieldError{Field: p + ".quantity.value", Message: "too large"})
				continue
			}
			add[j] = sum
		}
	}
	if fes != nil {
		return canonical.Order{}, invalid(op, "order_cancellation", fes...)
	}
	for j, q := range add {
		bs := &rec.doc.Lines[j].Buckets
		open, err := bs.NetOrdered()
		if err == nil {
			open, err = open.Sub(bs.Get(canonical.BucketShipped))
		}
		if err != nil || q.Cmp(open) > 0 {
			return canonical.Order{}, errorf(connector.CodeConflict, op, "line %s of order %s: cancelling %s would exceed the open, unshipped %s", rec.doc.Lines[j].ID, c.OrderID, q, open)
		}
	}
	// The value cancelled, at the order's prices and tax rate.
	value := canonical.Decimal{}
	for j, q := range add {
		amt, err := rec.doc.Lines[j].UnitPrice.Mul(q)
		if err == nil {
			value, err = value.Add(amt.Round().Amount)
		}
		if err != nil {
			return canonical.Order{}, errorf(connector.CodeInternal, op, "value of line %s: %w", rec.doc.Lines[j].ID, err)
		}
	}
	if rec.hasRate {
		tax, err := taxOn(value, rec.rate.Rate, rec.doc.Currency)
		if err == nil {
			value, err = value.Add(tax)
		}
		if err != nil {
			return canonical.Order{}, errorf(connector.CodeInternal, op, "tax: %w", err)
		}
	}

	// Effects, all or nothing from here.
	m.removeDemand(rec)
	for j, q := range add {
		bs := &rec.doc.Lines[j].Buckets
		v, _ := bs.Get(canonical.BucketCancelled).Add(q)
		bs.Set(canonical.BucketCancelled, v)
		if bo := bs.Get(canonical.BucketBackordered); bo.IsPos() {
			open, _ := bs.NetOrdered()
			left, _ := open.Sub(bs.Get(canonical.BucketShipped))
			bs.Set(canonical.BucketBackordered, bo.Min(left.Max(canonical.Decimal{})))
		}
	}
	left, _ := rec.open.Sub(value)
	rec.open = left.Max(canonical.Decimal{})
	m.addDemand(rec)
	if m.cancels == nil {
		m.cancels = map[string]cancelRecord{}
	}
	m.cancels[key] = cancelRecord{fp: fp}
	m.counts.Cancellations++
	return cloneOrder(&rec.doc), nil
}
