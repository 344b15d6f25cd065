package crm

// ReviseOrder: a customer's change of an order after its conversion, as a
// new version of the order on the order feed.

import (
	"context"
	"fmt"
	"slices"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// ReviseOrder records a customer's change of an order the CRM converted:
// revise changes a copy of the order's latest version (its lines'
// quantities and requested dates, lines added or removed, the ship-to,
// ship-complete, the requested dates) and the CRM appends it, as version
// latest+1, to the order feed read with [Memory.PollOrders] as an
// [canonical.EventOrderSubmitted] event with the next per-order sequence.
// It returns the new version. The flow then computes the change against
// what each system holds and shows per line what was applied and what was
// refused ([connector.OrderStatus.Changes]).
//
// The ID, version, refs, sold-to and currency of the order are the CRM's:
// revise may not change them. CodeNotFound for an order the CRM did not
// convert; CodeInvalid, naming the fields, for a revision that is not a
// valid order or changes those fields; CodeConflict when another revision
// of the order was recorded while revise ran (revise runs without the
// CRM's lock, and may be called again on the new version). A revise that
// returns an error records nothing.
func (m *Memory) ReviseOrder(ctx context.Context, orderID string, revise func(*canonical.Order) error) (canonical.Order, error) {
	const op = "ReviseOrder"
	if err := ctxErr(ctx); err != nil {
		return canonical.Order{}, err
	}
	st := m.st
	st.mu.RLock()
	cur, ok := st.orders[orderID]
	var o canonical.Order
	if ok {
		o = cloneOrder(cur)
	}
	st.mu.RUnlock()
	if !ok {
		return canonical.Order{}, errorf(connector.CodeNotFound, op, "order %q", orderID)
	}
	// revise is the caller's: called without the lock.
	if err := revise(&o); err != nil {
		return canonical.Order{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.orders[orderID] != cur {
		return canonical.Order{}, errorf(connector.CodeConflict, op, "order %s was revised meanwhile", orderID)
	}
	var fes []canonical.FieldError
	if o.ID != cur.ID {
		fes = append(fes, canonical.FieldError{Field: "id", Message: fmt.Sprintf("must stay %q", cur.ID)})
	}
	if o.Version != cur.Version {
		fes = append(fes, canonical.FieldError{Field: "version", Message: "is the CRM's to set"})
	}
	if o.SoldTo.ID != cur.SoldTo.ID {
		fes = append(fes, canonical.FieldError{Field: "soldTo.id", Message: fmt.Sprintf("must stay %q", cur.SoldTo.ID)})
	}
	if o.Currency != cur.Currency {
		fes = append(fes, canonical.FieldError{Field: "currency", Message: fmt.Sprintf("must stay %s", cur.Currency)})
	}
	if fes != nil {
		return canonical.Order{}, invalid(op, "order", fes...)
	}
	o.Version = cur.Version + 1
	o.Refs = slices.Clone(cur.Refs)
	e, err := canonical.NewEvent(canonical.EventOrderSubmitted, o)
	if err != nil {
		return canonical.Order{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	e.Subject = orderID
	e.Time = m.now()
	e.Sequence = 2 + st.seq[orderID] // the order's submission is 1
	e.CorrelationID = orderID
	if err := st.appendLocked(op, e); err != nil {
		return canonical.Order{}, err
	}
	st.seq[orderID]++
	st.orders[orderID] = &o
	return cloneOrder(&o), nil
}
