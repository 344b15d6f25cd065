package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
)

// Sentinel errors of returns. Match them with errors.Is; their text does not
// change.
var (
	// ErrUnknownReturn: a return.received event names a return the flow has
	// not seen authorized for its order.
	ErrUnknownReturn = errors.New("flow: unknown return")
	// ErrReturnExceedsShipped: a return authorizes more of an order line
	// than the order shipped of it minus what its earlier returns
	// authorized.
	ErrReturnExceedsShipped = errors.New("flow: return exceeds what was shipped")
)

// returnState is the flow's state of one return of an order. The order's
// handler (one at a time per order) writes it under Flow.mu.
type returnState struct {
	// ret is the return as authorized, with the WMS's refs.
	ret canonical.Return
	// received is, per return line ID, the most the WMS reported received;
	// credited what the ERP credited of it.
	received map[string]canonical.Decimal
	credited map[string]canonical.Decimal
	// pending is a credit being posted, kept so that a retry posts the
	// same return under the same key.
	pending *returnPost
	credits []returnCredit
}

// returnPost is one PostReturn call: the receipt's new quantities.
type returnPost struct {
	key string
	ret canonical.Return
}

// returnCredit is a credit memo the ERP posted for one receipt.
type returnCredit struct {
	ret  canonical.Return
	memo canonical.Invoice
	seq  int // its place among the order's credit memos, from 1
}

// AuthorizeReturn authorizes a return (RMA) of goods an order shipped, as
// an integration on the ERP's side calls it: it checks the return against
// the order as the flow knows it and appends a return.authorized event to
// the log, which the consumer handles as one from the CRM's feed (the WMS
// is told to expect the goods, the CRM shows the return). The event's ID is
// derived from the return's ID, version and content, and the handler
// recognises a return it has (the same ID, RMA number, warehouse and
// lines), so authorizing the same return again changes nothing; another
// return under an ID already handled is refused (ErrOrderState), and when
// the first is not handled yet, the second is dead-lettered for it. A zero
// AuthorizedAt is set to the current time.
//
// The return must be valid ([canonical.Return.Validate]) with nothing
// received yet, name a known order and lines of it in their units, and
// authorize per order line no more than was shipped minus what the order's
// earlier returns authorized. The error matches ErrUnknownOrder,
// ErrBadEvent, ErrOrderState (the same return ID with other lines) or
// ErrReturnExceedsShipped and names the line, or ErrEventTooLarge when the
// return is larger than Config.MaxEventSize or has more lines than
// Config.MaxLines, or ErrUnownedWarehouse when its warehouse is owned by
// no WMS of Config.Warehouses.
func (f *Flow) AuthorizeReturn(ctx context.Context, ret canonical.Return) error {
	if !f.otc {
		return fmt.Errorf("flow: authorize return %s: %w: a flow made by NewInventorySync has no orders (no ERP return poster, WMS return authorizer or CRM status publisher)", ret.ID, ErrInvalidConfig)
	}
	if n := len(ret.Lines); n > f.maxLines { // before any check that reads each line
		return fmt.Errorf("flow: authorize return %s: %w: %d lines, more than the %d accepted (Config.MaxLines)", ret.ID, ErrEventTooLarge, n, f.maxLines)
	}
	if _, err := f.systemOf(ret.Warehouse); err != nil {
		return fmt.Errorf("flow: authorize return %s: %w", ret.ID, err)
	}
	if ret.AuthorizedAt.IsZero() {
		ret.AuthorizedAt = f.now()
	}
	var corr string
	st, err := f.lookup(ctx, ret.OrderID, false)
	if err == nil && st == nil {
		err = fmt.Errorf("%w: %q", ErrUnknownOrder, ret.OrderID)
	}
	if err == nil {
		f.mu.Lock()
		corr = st.corr
		_, err = checkReturnLocked(st, ret)
		f.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("flow: authorize return %s: %w", ret.ID, err)
	}
	e, err := canonical.NewEvent(canonical.EventReturnAuthorized, ret)
	if err != nil {
		return fmt.Errorf("flow: authorize return %s: %w: %w", ret.ID, ErrBadEvent, err)
	}
	if err := f.checkBounds(e.Data, 0); err != nil {
		return fmt.Errorf("flow: authorize return %s: %w", ret.ID, err)
	}
	e.ID = eventID("return.authorized", ret.ID, strconv.FormatInt(ret.Version, 10), string(e.Data))
	e.Source, e.Subject, e.PartitionKey, e.Time, e.CorrelationID = f.source, ret.ID, ret.OrderID, f.now(), corr
	if err := f.appendOne(ctx, e); err != nil {
		return fmt.Errorf("flow: authorize return %s: %w", ret.ID, err)
	}
	return nil
}

// sameAuthorization reports whether two authorizations of one return ID
// say the same: RMA number, warehouse and lines.
func sameAuthorization(a, b canonical.Return) bool {
	return a.RMANumber == b.RMANumber && a.Warehouse == b.Warehouse &&
		slices.EqualFunc(a.Lines, b.Lines, func(x, y canonical.ReturnLine) bool {
			return x.ID == y.ID && x.OrderLineID == y.OrderLineID && x.Item.SKU == y.Item.SKU && x.Authorized.Equal(y.Authorized)
		})
}

// checkReturnLocked checks an authorization against the order: it reports
// known when the order has the same return already, and an error when the
// return is invalid, conflicts with the one it has, or authorizes more
// than is left to return of a line.
func checkReturnLocked(st *orderState, ret canonical.Return) (known bool, err error) {
	if err := ret.Validate(); err != nil {
		return false, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	o := &st.order
	if ret.OrderID != o.ID {
		return false, fmt.Errorf("%w: return %s is for order %q, not %s", ErrBadEvent, ret.ID, ret.OrderID, o.ID)
	}
	if rs := st.returns[ret.ID]; rs != nil {
		if !sameAuthorization(rs.ret, ret) {
			return false, fmt.Errorf("%w: return %s of order %s was authorized with other lines", ErrOrderState, ret.ID, o.ID)
		}
		return true, nil
	}
	asked := map[string]canonical.Decimal{}
	at := lineIndex(o.Lines, func(l canonical.OrderLine) string { return l.ID })
	for _, rl := range ret.Lines {
		i, ok := at[rl.OrderLineID]
		if !ok {
			i = -1
		}
		switch {
		case i < 0:
			return false, fmt.Errorf("%w: return %s line %s: order %s has no line %q", ErrBadEvent, ret.ID, rl.ID, o.ID, rl.OrderLineID)
		case rl.Received.Value.IsPos():
			return false, fmt.Errorf("%w: return %s line %s: an authorization receives nothing, received is %s",
				ErrBadEvent, ret.ID, rl.ID, rl.Received.Value)
		case rl.Authorized.Unit != o.Lines[i].Quantity.Unit:
			return false, fmt.Errorf("%w: return %s line %s: unit %s is not the unit %s of order line %s",
				ErrBadEvent, ret.ID, rl.ID, rl.Authorized.Unit, o.Lines[i].Quantity.Unit, rl.OrderLineID)
		case rl.Item.SKU != o.Lines[i].Item.SKU:
			return false, fmt.Errorf("%w: return %s line %s: item %s is not the item %s of order line %s",
				ErrBadEvent, ret.ID, rl.ID, rl.Item.SKU, o.Lines[i].Item.SKU, rl.OrderLineID)
		}
		sum, err := asked[rl.OrderLineID].Add(rl.Authorized.Value)
		if err != nil {
			return false, fmt.Errorf("%w: return %s line %s: %w", ErrBadEvent, ret.ID, rl.ID, err)
		}
		asked[rl.OrderLineID] = sum
		l := &o.Lines[i]
		earlier := authorizedLocked(st, l.ID)
		shipped := l.Buckets.Get(canonical.BucketShipped)
		left, err := shipped.Sub(earlier)
		if err != nil {
			return false, fmt.Errorf("%w: return %s line %s: %w", ErrBadEvent, ret.ID, rl.ID, err)
		}
		if sum.Cmp(left) > 0 {
			return false, fmt.Errorf("%w: return %s line %s (order %s line %s): authorizes %s %s, but %s shipped and earlier returns authorized %s, leaving %s",
				ErrReturnExceedsShipped, ret.ID, rl.ID, o.ID, l.ID, sum, l.Quantity.Unit, shipped, earlier, left)
		}
	}
	return false, nil
}

// authorizedLocked returns what the order's returns authorized of an order
// line.
func authorizedLocked(st *orderState, lineID string) canonical.Decimal {
	var sum canonical.Decimal
	for _, id := range st.retOrder {
		for _, rl := range st.returns[id].ret.Lines {
			if rl.OrderLineID == lineID {
				// Each return was checked: the sum fits.
				sum, _ = sum.Add(rl.Authorized.Value)
			}
		}
	}
	return sum
}

// onReturnAuthorized registers an authorized return with the WMS (which is
// idempotent by the return's ID) and shows it in the CRM.
func (f *Flow) onReturnAuthorized(ctx context.Context, _ canonical.Event, ret canonical.Return, bad func(error) error) (bool, error) {
	st, err := f.state(ctx, ret.OrderID, bad)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	known, err := checkReturnLocked(st, ret)
	f.mu.Unlock()
	if err != nil {
		return false, bad(err)
	}
	if known {
		return true, f.publish(ctx, st)
	}
	sys, err := f.systemOf(ret.Warehouse)
	if err != nil {
		return false, bad(err)
	}
	r, err := sys.wms.AuthorizeReturn(ctx, ret)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	if st.returns == nil {
		st.returns = map[string]*returnState{}
	}
	for _, ref := range r.Refs {
		ret.Refs = ret.Refs.With(ref)
	}
	st.returns[ret.ID] = &returnState{ret: ret, received: map[string]canonical.Decimal{}, credited: map[string]canonical.Decimal{}}
	st.retOrder = append(st.retOrder, ret.ID)
	st.dirty = true
	f.mu.Unlock()
	return false, f.publish(ctx, st)
}

// onReturnReceived credits what the WMS received of a return and not yet
// credited: one PostReturn per receipt, under a key derived from the order,
// the return and the receipt (the version of the WMS's return), then the
// returned bucket grows and the CRM is shown the credit.
func (f *Flow) onReturnReceived(ctx context.Context, _ canonical.Event, doc canonical.Return, bad func(error) error) (bool, error) {
	if doc.OrderID == "" {
		return false, bad(fmt.Errorf("%w: return %s names no order", ErrBadEvent, doc.ID))
	}
	st, err := f.state(ctx, doc.OrderID, bad)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	rs := st.returns[doc.ID]
	if rs == nil {
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: %q of order %s", ErrUnknownReturn, doc.ID, doc.OrderID))
	}
	if err := checkReceipt(rs.ret, doc); err != nil {
		f.mu.Unlock()
		return false, bad(err)
	}
	if err := f.checkReceiptWarehouse(rs.ret, doc); err != nil { // flow/warehouses.go
		f.mu.Unlock()
		return false, bad(err)
	}
	for _, l := range doc.Lines {
		if l.Received.Value.Cmp(rs.received[l.ID]) > 0 {
			rs.received[l.ID] = l.Received.Value
			st.dirty = true
		}
	}
	f.mu.Unlock()
	dup := true
	// At most two credits: a pending one of an earlier event, then this
	// event's.
	for range 2 {
		f.mu.Lock()
		post := rs.pending
		if post == nil {
			post, err = f.nextCreditLocked(st, rs, doc)
			rs.pending = post
		}
		f.mu.Unlock()
		if err != nil {
			return false, bad(err)
		}
		if post == nil {
			break
		}
		memo, err := f.erp.PostReturn(ctx, post.key, post.ret)
		if err != nil {
			return false, err
		}
		f.landed(ctx, targetERP)
		f.mu.Lock()
		err = f.applyCreditLocked(st, rs, post, memo)
		f.mu.Unlock()
		if err != nil {
			return false, retry.Permanent(fmt.Errorf("flow: credit memo %s of return %s: %w", memo.Number, post.ret.ID, err))
		}
		dup = false
	}
	return dup, f.publish(ctx, st)
}

// checkReceipt checks the WMS's received return against its authorization:
// every line received is an authorized line of the same order line, in its
// unit, received no more than authorized.
func checkReceipt(auth, doc canonical.Return) error {
	at := lineIndex(auth.Lines, func(a canonical.ReturnLine) string { return a.ID })
	for _, l := range doc.Lines {
		if !l.Received.Value.IsPos() {
			continue
		}
		i, ok := at[l.ID]
		if !ok {
			return fmt.Errorf("%w: return %s line %s was not authorized", ErrBadEvent, doc.ID, l.ID)
		}
		a := auth.Lines[i]
		switch {
		case l.OrderLineID != a.OrderLineID:
			return fmt.Errorf("%w: return %s line %s: order line %q, authorized for %q", ErrBadEvent, doc.ID, l.ID, l.OrderLineID, a.OrderLineID)
		case l.Received.Unit != a.Authorized.Unit:
			return fmt.Errorf("%w: return %s line %s: received unit %s, authorized in %s", ErrBadEvent, doc.ID, l.ID, l.Received.Unit, a.Authorized.Unit)
		case l.Received.Value.Cmp(a.Authorized.Value) > 0:
			return fmt.Errorf("%w: return %s line %s: received %s, more than the authorized %s", ErrBadEvent, doc.ID, l.ID, l.Received.Value, a.Authorized.Value)
		}
	}
	return nil
}

// nextCreditLocked returns the credit of what doc received and the flow
// has not credited, or nil when there is nothing new.
func (f *Flow) nextCreditLocked(st *orderState, rs *returnState, doc canonical.Return) (*returnPost, error) {
	v := strconv.FormatInt(doc.Version, 10)
	a := rs.ret
	c := canonical.Return{ID: a.ID + "/" + v, Version: doc.Version, Refs: slices.Clone(doc.Refs), RMANumber: a.RMANumber,
		OrderID: a.OrderID, Customer: a.Customer, Warehouse: a.Warehouse, AuthorizedAt: a.AuthorizedAt, ReceivedAt: doc.ReceivedAt}
	at := lineIndex(a.Lines, func(x canonical.ReturnLine) string { return x.ID })
	for _, l := range doc.Lines {
		d, err := l.Received.Value.Sub(rs.credited[l.ID])
		if err != nil {
			return nil, fmt.Errorf("%w: return %s line %s: %w", ErrBadEvent, doc.ID, l.ID, err)
		}
		if !d.IsPos() {
			continue
		}
		j, ok := at[l.ID]
		if !ok {
			return nil, fmt.Errorf("%w: return %s line %s was not authorized", ErrBadEvent, doc.ID, l.ID)
		}
		al := a.Lines[j]
		al.Received, al.Condition, al.Disposition = canonical.NewQuantity(d, l.Received.Unit), l.Condition, l.Disposition
		c.Lines = append(c.Lines, al)
	}
	if len(c.Lines) == 0 {
		return nil, nil
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w: return %s receipt %s: %w", ErrBadEvent, doc.ID, v, err)
	}
	return &returnPost{key: f.key("post_return", st.order.ID, a.ID, v), ret: c}, nil
}

// applyCreditLocked folds a posted credit into the order: the returned
// bucket grows by what it credited, tagged with the credit memo.
func (f *Flow) applyCreditLocked(st *orderState, rs *returnState, post *returnPost, memo canonical.Invoice) error {
	var qe []canonical.QuantityEvent
	src := "erp/credit/" + memo.ID
	for _, l := range post.ret.Lines {
		qe = append(qe, canonical.QuantityEvent{LineID: l.OrderLineID, Bucket: canonical.BucketReturned,
			Kind: canonical.QuantityDelta, Value: l.Received.Value, AsOf: post.ret.ReceivedAt, SourceMessageID: src})
	}
	qe = mergeEvents(qe)
	st.qevents = append(st.qevents, qe...)
	if err := f.foldLocked(st); err != nil {
		st.qevents = st.qevents[:len(st.qevents)-len(qe)]
		_ = f.foldLocked(st)
		return err
	}
	for _, l := range post.ret.Lines {
		sum, err := rs.credited[l.ID].Add(l.Received.Value)
		if err != nil {
			return err
		}
		rs.credited[l.ID] = sum
	}
	seq := 1
	for _, r := range st.returns {
		seq += len(r.credits)
	}
	rs.credits = append(rs.credits, returnCredit{ret: post.ret, memo: memo, seq: seq})
	rs.pending = nil
	st.dirty = true
	return nil
}

// returnsLocked returns what the CRM shows of the order's returns.
func (st *orderState) returnsLocked() []connector.ReturnStatus {
	var out []connector.ReturnStatus
	for _, id := range st.retOrder {
		rs := st.returns[id]
		s := connector.ReturnStatus{ReturnID: rs.ret.ID, RMANumber: rs.ret.RMANumber}
		for _, l := range rs.ret.Lines {
			s.Lines = append(s.Lines, connector.ReturnLineStatus{LineID: l.ID, OrderLineID: l.OrderLineID, Authorized: l.Authorized,
				Received: canonical.NewQuantity(rs.received[l.ID], l.Authorized.Unit)})
		}
		for _, c := range rs.credits {
			s.Credits = append(s.Credits, connector.Credit{Number: c.memo.Number, Total: c.memo.Totals.Total})
		}
		out = append(out, s)
	}
	return out
}

// creditMemosLocked returns the order's credit memos in posting order.
func (st *orderState) creditMemosLocked() []canonical.Invoice {
	var cs []returnCredit
	for _, id := range st.retOrder {
		cs = append(cs, st.returns[id].credits...)
	}
	slices.SortFunc(cs, func(a, b returnCredit) int { return a.seq - b.seq })
	out := make([]canonical.Invoice, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.memo)
	}
	return out
}
