package crm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// RequestCancellation records a user's request in the CRM to cancel the
// open remainder of an order it converted: every open quantity when lines
// is empty, else at most the given quantity of each given line. It changes
// no quantity itself: it appends an [canonical.EventOrderCancelRequested]
// event carrying the request (ID "CCR-000001", requested by "crm") to the
// order feed read with [Memory.PollOrders], with the next per-order
// sequence, for the flow to cancel what the warehouses have not shipped.
// What was cancelled then shows in the status the flow publishes.
//
// CodeNotFound for an order the CRM did not convert; CodeInvalid, naming
// lines[i] and the field, for an unknown line, a duplicate line, a
// quantity that is not positive or not in the line's unit.
func (m *Memory) RequestCancellation(ctx context.Context, orderID string, lines []canonical.CancelLine, reason string) (canonical.CancelRequest, error) {
	const op = "RequestCancellation"
	if err := ctxErr(ctx); err != nil {
		return canonical.CancelRequest{}, err
	}
	st := m.st
	st.mu.Lock()
	defer st.mu.Unlock()
	o, ok := st.orders[orderID]
	if !ok {
		return canonical.CancelRequest{}, errorf(connector.CodeNotFound, op, "order %q", orderID)
	}
	st.nextCR++
	req := canonical.CancelRequest{ID: fmt.Sprintf("CCR-%06d", st.nextCR), OrderID: orderID, RequestedBy: System,
		Lines: slices.Clone(lines), Reason: reason, RequestedAt: m.now()}
	byID := make(map[string]int, len(o.Lines))
	for j, ol := range o.Lines {
		byID[ol.ID] = j
	}
	var fes []canonical.FieldError
	for i, l := range lines {
		p := "lines[" + strconv.Itoa(i) + "]"
		j, ok := byID[l.LineID]
		switch {
		case !ok:
			fes = append(fes, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("order %s has no line %q", orderID, l.LineID)})
		case l.Quantity.Unit != o.Lines[j].Quantity.Unit:
			fes = append(fes, canonical.FieldError{Field: p + ".quantity.unit", Message: fmt.Sprintf("must be the line's unit %s, is %s", o.Lines[j].Quantity.Unit, l.Quantity.Unit)})
		}
	}
	omitted := 0
	var ve *canonical.ValidationError
	if err := req.Validate(); errors.As(err, &ve) {
		fes = append(fes, ve.Errors...)
		omitted = ve.Omitted
	}
	if fes != nil {
		st.nextCR--
		if n := len(fes) - canonical.MaxViolations; n > 0 {
			fes, omitted = fes[:canonical.MaxViolations], omitted+n
		}
		return canonical.CancelRequest{}, connector.NewError(connector.CodeInvalid, System, op,
			&canonical.ValidationError{Kind: canonical.KindCancelRequest, Errors: fes, Omitted: omitted})
	}
	e, err := canonical.NewEvent(canonical.EventOrderCancelRequested, req)
	if err != nil {
		st.nextCR--
		return canonical.CancelRequest{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	e.Subject = orderID
	e.Time = req.RequestedAt
	e.Sequence = 2 + st.seq[orderID] // the order's submission is 1
	e.CorrelationID = orderID
	if err := st.appendLocked(op, e); err != nil {
		st.nextCR--
		return canonical.CancelRequest{}, err
	}
	st.seq[orderID]++
	return req, nil
}
