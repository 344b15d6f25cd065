package crm

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// RefReturn is the ref type of the CRM's return ID ("RET-000001") in the
// refs of a return it authorized.
const RefReturn = "return"

// ReturnRequest is what a sales rep enters to authorize a return (RMA) of
// goods shipped on an order. It is a plain value. The zero value is an
// empty request. It is safe for concurrent reads.
type ReturnRequest struct {
	// OrderID is the canonical ID of an order the CRM converted.
	OrderID string
	// Warehouse is the canonical ID of the warehouse the customer sends
	// the goods to.
	Warehouse string
	Lines     []ReturnRequestLine
}

// ReturnRequestLine is one line of a [ReturnRequest]. It is a plain value.
// The zero value is an empty line. It is safe for concurrent reads.
type ReturnRequestLine struct {
	// OrderLineID is the order line the goods were shipped on ("L1").
	OrderLineID string
	// Quantity is in the order line's unit.
	Quantity canonical.Quantity
	// Reason is the customer's reason, free text.
	Reason string
}

// AuthorizeReturn authorizes a return of goods shipped on an order and
// appends an [canonical.EventReturnAuthorized] event carrying it to the
// order feed ([Memory.PollOrders]), with the return ID as subject and the
// order ID as partition key. The return gets the canonical ID "RET-000001",
// the RMA number "RMA-000001", lines "R1", "R2", ... with the order lines'
// items, the order's sold-to party as customer, and the CRM's return ref.
//
// The CRM checks what it can see: each line names a line of the order, in
// its unit, for a positive quantity; the request's lines of one order line
// add up to no more than the CRM shows as shipped on it. It does not count earlier returns: what shipped
// minus what was already returned is checked by the flow, which holds the
// order's quantities.
//
// CodeNotFound for an order the CRM did not convert; CodeInvalid naming
// the field for a missing warehouse, no lines, an unknown order line, a
// quantity that is not positive or in another unit, or one above what the
// CRM shows as shipped.
func (m *Memory) AuthorizeReturn(ctx context.Context, req ReturnRequest) (canonical.Return, error) {
	const op = "AuthorizeReturn"
	if err := ctxErr(ctx); err != nil {
		return canonical.Return{}, err
	}
	st := m.st
	st.mu.Lock()
	defer st.mu.Unlock()
	o, ok := st.orders[req.OrderID]
	if !ok {
		return canonical.Return{}, errorf(connector.CodeNotFound, op, "order %q", req.OrderID)
	}
	shown := st.statuses[req.OrderID]
	var fes []canonical.FieldError
	add := func(field, msg string) { fes = append(fes, canonical.FieldError{Field: field, Message: msg}) }
	if req.Warehouse == "" {
		add("warehouse", "required")
	}
	if len(req.Lines) == 0 {
		add("lines", "at least one line is required")
	}
	now := m.now()
	n := st.nextRet + 1
	r := canonical.Return{ID: fmt.Sprintf("RET-%06d", n), Version: 1, RMANumber: fmt.Sprintf("RMA-%06d", n),
		OrderID: o.ID, Customer: o.SoldTo, Warehouse: req.Warehouse, AuthorizedAt: now,
		Refs: canonical.Refs{{System: System, Type: RefReturn, Value: fmt.Sprintf("RET-%06d", n)}}}
	asked := map[string]canonical.Decimal{} // by order line, over the request
	for i, l := range req.Lines {
		p := "lines[" + strconv.Itoa(i) + "]"
		j := slices.IndexFunc(o.Lines, func(ol canonical.OrderLine) bool { return ol.ID == l.OrderLineID })
		if j < 0 {
			add(p+".orderLineId", fmt.Sprintf("order %s has no line %q", o.ID, l.OrderLineID))
			continue
		}
		ol := o.Lines[j]
		sum, err := asked[ol.ID].Add(l.Quantity.Value)
		asked[ol.ID] = sum
		switch {
		case err != nil:
			add(p+".quantity.value", "too large")
		case l.Quantity.Unit != ol.Quantity.Unit:
			add(p+".quantity.unit", fmt.Sprintf("must be the order line's unit %s, is %q", ol.Quantity.Unit, l.Quantity.Unit))
		case !l.Quantity.Value.IsPos():
			add(p+".quantity.value", "must be > 0, is "+l.Quantity.Value.String())
		case sum.Cmp(shownShipped(shown, ol.ID)) > 0:
			add(p+".quantity.value", fmt.Sprintf("must not exceed the %s shown as shipped on line %s, is %s",
				shownShipped(shown, ol.ID), ol.ID, sum))
		}
		r.Lines = append(r.Lines, canonical.ReturnLine{ID: "R" + strconv.Itoa(i+1), OrderLineID: ol.ID, Item: ol.Item,
			Authorized: l.Quantity, Received: canonical.NewQuantity(canonical.Decimal{}, l.Quantity.Unit), Reason: l.Reason})
	}
	if fes != nil {
		return canonical.Return{}, invalid(op, canonical.KindReturn, fes...)
	}
	e, err := canonical.NewEvent(canonical.EventReturnAuthorized, r)
	if err != nil {
		return canonical.Return{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	e.Subject = r.ID
	e.PartitionKey = o.ID
	e.Time = now
	e.Sequence = 1
	e.CorrelationID = o.ID
	if err := st.appendLocked(op, e); err != nil {
		return canonical.Return{}, err
	}
	st.nextRet = n
	if st.returns == nil {
		st.returns = map[string]*canonical.Return{}
	}
	st.returns[r.ID] = &r
	st.counts.Returns++
	return cloneReturn(&r), nil
}

// shownShipped returns the quantity the status shows as shipped on a line.
func shownShipped(s connector.OrderStatus, lineID string) canonical.Decimal {
	for _, l := range s.Lines {
		if l.LineID == lineID {
			return l.Shipped.Value
		}
	}
	return canonical.Decimal{}
}

func cloneReturn(r *canonical.Return) canonical.Return {
	c := *r
	c.Lines = slices.Clone(r.Lines)
	c.Refs = slices.Clone(r.Refs)
	return c
}

// Return returns the return the CRM authorized with the given ID, as it
// was authorized, and false when there is none.
func (m *Memory) Return(id string) (canonical.Return, bool) {
	m.st.mu.RLock()
	defer m.st.mu.RUnlock()
	r, ok := m.st.returns[id]
	if !ok {
		return canonical.Return{}, false
	}
	return cloneReturn(r), true
}
