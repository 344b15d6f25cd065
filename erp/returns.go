package erp

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// ReturnLineRequest asks for the return of a quantity of one order line. It
// is a plain value. The zero value is an empty request. It is safe for
// concurrent reads.
type ReturnLineRequest struct {
	// LineID is the order line.
	LineID string
	// Quantity is how much comes back, in the line's unit.
	Quantity canonical.Quantity
	// Reason is the customer's reason, free text.
	Reason string
}

// RequestReturn records a return authorized in the ERP (say, by customer
// service) of shipped goods of an order, to be received at warehouse. It
// changes no quantity itself: it puts an [canonical.EventReturnAuthorized]
// event carrying the return (ID "ERET-000001", RMA number "ERMA-000001",
// lines R1, R2, ...) on the ERP's event feed ([Memory.PollEvents]),
// partitioned by the order, for the flow to register it with the warehouse
// and to credit what the warehouse receives with [Memory.PostReturn].
//
// CodeNotFound for an order the ERP does not know; CodeInvalid, naming
// lines[i] and the field, for no lines or warehouse, an unknown line, a
// quantity that is not positive or not in the line's unit, or more than
// the line shipped less what the ERP credited back. Returns authorized
// before and not received yet are not subtracted here: the flow refuses a
// return that, with the order's earlier ones, authorizes more than shipped.
func (m *Memory) RequestReturn(ctx context.Context, orderID, warehouse string, lines []ReturnLineRequest) (canonical.Return, error) {
	const op = "RequestReturn"
	if err := ctxErr(ctx); err != nil {
		return canonical.Return{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.orders[orderID]
	if rec == nil {
		return canonical.Return{}, errorf(connector.CodeNotFound, op, "order %q", orderID)
	}
	n := m.nextRet + 1
	id := fmt.Sprintf("ERET-%06d", n)
	r := canonical.Return{ID: id, Version: 1, RMANumber: fmt.Sprintf("ERMA-%06d", n), OrderID: orderID,
		Customer: rec.doc.SoldTo, Warehouse: warehouse, AuthorizedAt: m.now(),
		Refs: canonical.Refs{{System: System, Type: RefReturn, Value: id}}}
	var fes []canonical.FieldError
	add := func(field, msg string) { fes = append(fes, canonical.FieldError{Field: field, Message: msg}) }
	if warehouse == "" {
		add("warehouse", "required")
	}
	if len(lines) == 0 {
		add("lines", "at least one line is required")
	}
	asked := map[string]canonical.Decimal{}
	for i, l := range lines {
		p := "lines[" + strconv.Itoa(i) + "]"
		j := lineIndex(&rec.doc, l.LineID)
		if j < 0 {
			add(p+".lineId", fmt.Sprintf("order %s has no line %q", orderID, l.LineID))
			continue
		}
		ol := rec.doc.Lines[j]
		if l.Quantity.Unit != ol.Quantity.Unit {
			add(p+".quantity.unit", fmt.Sprintf("must be the line's unit %s, is %q", ol.Quantity.Unit, l.Quantity.Unit))
			continue
		}
		if !l.Quantity.Value.IsPos() {
			add(p+".quantity.value", "must be > 0, is "+l.Quantity.Value.String())
			continue
		}
		sum, err := asked[ol.ID].Add(l.Quantity.Value)
		if err != nil {
			add(p+".quantity.value", "too large")
			continue
		}
		asked[ol.ID] = sum
		left, err := ol.Buckets.Get(canonical.BucketShipped).Sub(ol.Buckets.Get(canonical.BucketReturned))
		if err != nil || sum.Cmp(left) > 0 {
			add(p+".quantity.value", fmt.Sprintf("must not exceed the %s of line %s shipped and not credited back, is %s",
				left, ol.ID, sum))
			continue
		}
		r.Lines = append(r.Lines, canonical.ReturnLine{ID: "R" + strconv.Itoa(i+1), OrderLineID: ol.ID, Item: ol.Item,
			Authorized: l.Quantity, Received: canonical.NewQuantity(canonical.Decimal{}, l.Quantity.Unit), Reason: l.Reason})
	}
	if fes != nil {
		return canonical.Return{}, invalid(op, canonical.KindReturn, fes...)
	}
	if err := r.Validate(); err != nil {
		return canonical.Return{}, asInvalid(op, err)
	}
	if _, err := m.emitLocked(canonical.EventReturnAuthorized, orderID, r); err != nil {
		return canonical.Return{}, errorf(connector.CodeInternal, op, "emit: %w", err)
	}
	m.nextRet = n
	r.Lines = slices.Clone(r.Lines)
	return r, nil
}
