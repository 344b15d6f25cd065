package flow

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// FeedERPEvents is the feed name under which the flow stores the cursor of
// the ERP's optional event feed (see [Flow.PollERP]).
const FeedERPEvents = "erp.events"

// cancelState is what the flow keeps of one cancel request of an order,
// by the request's key (event source and request ID), so that a retried
// or replayed request repeats no step it has made.
type cancelState struct {
	folded bool // what was cancelled is folded into the buckets
	erp    bool // the ERP was told
	done   bool // the CRM was shown the result
	// lines is what the request cancelled, per order line, in the order
	// of the order's lines.
	lines []connector.LineQuantity
}

// PollERP reads the ERP's event feed, when the ERP has one
// ([connector.EventFeed], found with [connector.As]), from its stored
// cursor to its end, and appends the events to the log partitioned by
// their subject (an order ID) with the order's correlation ID, storing the
// cursor (under [FeedERPEvents]) after each page. The flow handles the
// ERP's cancellation requests, returns and amendments (order.amended, see
// flow/erpchange.go) there; events it does not handle are
// dead-lettered with their reason. It returns how many events it appended;
// 0 and no error when the ERP has no feed, or the flow none (a flow made
// by NewInventorySync).
func (f *Flow) PollERP(ctx context.Context) (int, error) {
	if !f.otc {
		return 0, nil
	}
	feed, ok := connector.As[connector.EventFeed](f.erp)
	if !ok {
		return 0, nil
	}
	return f.poll(ctx, FeedERPEvents, feed.PollEvents, func(e *canonical.Event) bool {
		partitionByOrder(e)
		if e.PartitionKey == "" {
			e.PartitionKey = e.Subject
		}
		e.CorrelationID = f.correlation(e.PartitionKey, e.Key())
		return true
	})
}

// inSequence puts the events of a page that holds more than order
// submissions (submissions reports whether it holds only those) in
// per-subject sequence order (a stable sort by subject, then sequence), so
// that a cancel request reordered before its order's submission within a
// page (as a feed may deliver them) is appended to the log after it, and a
// return's later receipt from the WMS after its earlier one. It sorts evs,
// poll's own copy of the page's events (which the sort leaves in the
// relative order it gives the whole page), in place; events in order
// already are left as they are.
func inSequence(evs []canonical.Event, submissions bool) {
	if submissions {
		return
	}
	bySubject := func(a, b canonical.Event) int {
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		return cmp.Compare(a.Sequence, b.Sequence)
	}
	if !slices.IsSortedFunc(evs, bySubject) {
		slices.SortStableFunc(evs, bySubject)
	}
}

// onCancelRequested honours a request to cancel the open remainder of an
// order, from the CRM's order feed or the ERP's event feed:
//
//   - on an order not released yet (accepted, or on hold), the open
//     quantity is cancelled directly: no warehouse has it, and the release
//     that follows plans only what is still open; an order cancelled in
//     full ends in phase released with no fulfilment order (on hold, it
//     is no longer waiting for its hold);
//   - on a released order, each fulfilment order is asked, in plan order,
//     to cancel what it has open of the lines asked for, with
//     CancelRelease under a key derived from ("cancel", order ID, request
//     key, fulfilment order ID); only what the warehouse reports cancelled
//     is folded, so goods it shipped first stay shipped;
//   - on a rejected order, or one with nothing open (shipped or cancelled
//     already), nothing is cancelled, and the CRM's messages say so.
//
// What was cancelled is folded into the cancelled bucket through quantity
// deltas tagged with the request and the fulfilment order, told to the
// ERP when it is a [connector.OrderCanceller] (key derived from
// ("erp_cancel", order ID, request key)), recorded in the log as an
// order.cancelled event, and shown in the CRM. A request seen before is a
// duplicate and changes nothing.
func (f *Flow) onCancelRequested(ctx context.Context, ev canonical.Event, r canonical.CancelRequest, bad func(error) error) (bool, error) {
	if p := ev.Partition(); p != r.OrderID {
		return false, bad(fmt.Errorf("%w: cancel request %s is about order %q but its partition is %q", ErrBadEvent, r.ID, r.OrderID, p))
	}
	st, err := f.state(ctx, r.OrderID, bad)
	if err != nil {
		return false, err
	}
	key := ev.Source + "/" + r.ID
	f.mu.Lock()
	if err := checkCancelLines(&st.order, r); err != nil {
		f.mu.Unlock()
		return false, bad(err)
	}
	if st.cancels == nil {
		st.cancels = map[string]*cancelState{}
	}
	cs := st.cancels[key]
	if cs != nil && cs.done {
		f.mu.Unlock()
		return true, f.publish(ctx, st)
	}
	if cs == nil {
		cs = &cancelState{}
		st.cancels[key] = cs
	}
	ph := st.phase
	partial := ph == phaseAccepted && len(st.released) > 0 && len(st.released) < len(st.plan)
	folded := cs.folded
	f.mu.Unlock()

	switch {
	case ph == phaseSubmitted:
		return false, bad(fmt.Errorf("%w: cancel request %s: order %s is not decided by the ERP yet", ErrOrderState, r.ID, r.OrderID))
	case partial:
		return false, bad(fmt.Errorf("%w: cancel request %s: the release of order %s is incomplete; replay it first", ErrOrderState, r.ID, r.OrderID))
	}
	if !folded {
		var qe []canonical.QuantityEvent
		if ph != phaseRejected {
			if qe, err = f.cancelOpen(ctx, st, key, r); err != nil {
				return false, err
			}
		}
		if err := f.foldCancel(st, cs, r, qe); err != nil {
			return false, err
		}
	}
	f.mu.Lock()
	lines, told := cs.lines, cs.erp
	corr := st.corr
	if st.phase == phaseHeld && nothingOpen(&st.order) {
		// Nothing is left to accept and release: the order is done, as
		// an accepted order cancelled in full before its release is.
		st.phase = phaseReleased
	}
	f.mu.Unlock()
	if len(lines) > 0 && !told {
		// As finds the role on the decorated ERP (connector.WrapERP),
		// which retries the call and puts it on the order's timeline, as
		// it does the ERP's other calls.
		if oc, ok := connector.As[connector.OrderCanceller](f.erp); ok {
			c := connector.OrderCancellation{OrderID: r.OrderID, Lines: lines, Reason: r.Reason}
			cctx := tracing.WithCorrelationID(ctx, corr)
			if _, err := oc.CancelOrderLines(cctx, f.key("erp_cancel", r.OrderID, key), c); err != nil {
				return false, err
			}
		}
		f.mu.Lock()
		cs.erp = true
		f.mu.Unlock()
	}
	if len(lines) > 0 {
		f.mu.Lock()
		o := st.order
		o.Lines = slices.Clone(o.Lines)
		f.mu.Unlock()
		if err := f.emit(ctx, canonical.EventOrderCancelled, o, r.OrderID, corr, ev, eventID("cancelled", r.OrderID, key)); err != nil {
			return false, err
		}
	}
	if err := f.publish(ctx, st); err != nil {
		return false, err
	}
	f.mu.Lock()
	cs.done = true
	f.mu.Unlock()
	f.logger.InfoContext(ctx, "flow: cancel request honoured", "order", r.OrderID, "request", r.ID,
		"requestedBy", r.RequestedBy, "cancelled", describeCancel(lines))
	return false, nil
}

// checkCancelLines checks that the request's lines are lines of the order,
// in their units. The caller holds f.mu.
func checkCancelLines(o *canonical.Order, r canonical.CancelRequest) error {
	var fes []canonical.FieldError
	at := lineIndex(o.Lines, func(l canonical.OrderLine) string { return l.ID })
	for i, l := range r.Lines {
		var ol *canonical.OrderLine
		if j, ok := at[l.LineID]; ok {
			ol = &o.Lines[j]
		}
		switch {
		case ol == nil:
			fes = append(fes, canonical.FieldError{Field: fmt.Sprintf("lines[%d].lineId", i), Message: fmt.Sprintf("order %s has no line %q", o.ID, l.LineID)})
		case l.Quantity.Unit != ol.Quantity.Unit:
			fes = append(fes, canonical.FieldError{Field: fmt.Sprintf("lines[%d].quantity.unit", i), Message: fmt.Sprintf("must be the line's unit %s, is %s", ol.Quantity.Unit, l.Quantity.Unit)})
		}
	}
	if fes == nil {
		return nil
	}
	return fmt.Errorf("%w: cancel request %s: %w", ErrBadEvent, r.ID, &canonical.ValidationError{Kind: canonical.KindCancelRequest, Errors: fes})
}

// limits returns, per order line, the most the request cancels: the
// requested quantity, or what is open (ordered − cancelled − rejected −
// shipped) for a request of every line. Lines with nothing to cancel are
// left out. The caller holds f.mu.
func limits(o *canonical.Order, r canonical.CancelRequest) (map[string]canonical.Decimal, error) {
	out := map[string]canonical.Decimal{}
	asked := lineIndex(r.Lines, func(c canonical.CancelLine) string { return c.LineID })
	for _, l := range o.Lines {
		var want canonical.Decimal
		if r.All() {
			var err error
			if want, err = unshipped(&l); err != nil {
				return nil, err
			}
		} else {
			i, ok := asked[l.ID]
			if !ok {
				continue
			}
			want = r.Lines[i].Quantity.Value
		}
		if want.IsPos() {
			out[l.ID] = want
		}
	}
	return out, nil
}

// unshipped returns what is open and not shipped of a line: ordered −
// cancelled − rejected − shipped, never below zero.
func unshipped(l *canonical.OrderLine) (canonical.Decimal, error) {
	open, err := l.Buckets.NetOrdered()
	if err == nil {
		open, err = open.Sub(l.Buckets.Get(canonical.BucketShipped))
	}
	return open.Max(canonical.Decimal{}), err
}

// cancelOpen cancels what the request asks of the order and returns the
// quantity events of what was cancelled: directly for an order not
// released yet, through the warehouses for a released one.
func (f *Flow) cancelOpen(ctx context.Context, st *orderState, key string, r canonical.CancelRequest) ([]canonical.QuantityEvent, error) {
	f.mu.Lock()
	want, err := limits(&st.order, r)
	released := len(st.released) > 0
	var fos []canonical.FulfillmentOrder
	for _, fo := range st.plan {
		if rel, ok := st.released[fo.ID]; ok {
			fos = append(fos, rel)
		}
	}
	units := map[string]canonical.Unit{}
	for _, l := range st.order.Lines {
		units[l.ID] = l.Quantity.Unit
	}
	f.mu.Unlock()
	if err != nil {
		return nil, retry.Permanent(fmt.Errorf("flow: cancel request %s of order %s: %w", r.ID, r.OrderID, err))
	}
	if !released {
		// No warehouse has the order: cancel what is open of each line,
		// up to what was asked. A plan made for a release that failed
		// before releasing anything is dropped: the release replayed
		// plans what is left.
		f.mu.Lock()
		defer f.mu.Unlock()
		st.plan = nil
		var qe []canonical.QuantityEvent
		for _, l := range st.order.Lines {
			w, ok := want[l.ID]
			if !ok {
				continue
			}
			open, err := unshipped(&l)
			if err != nil {
				return nil, retry.Permanent(fmt.Errorf("flow: cancel request %s of order %s: %w", r.ID, r.OrderID, err))
			}
			if n := w.Min(open); n.IsPos() {
				qe = append(qe, canonical.QuantityEvent{LineID: l.ID, Bucket: canonical.BucketCancelled, Kind: canonical.QuantityDelta,
					Value: n, AsOf: r.RequestedAt, SourceMessageID: "flow/cancel/" + key})
			}
		}
		return qe, nil
	}
	var qe []canonical.QuantityEvent
	for _, fo := range fos {
		req := connector.CancelRequest{FulfillmentOrderID: fo.ID, Reason: r.Reason}
		lineOf := map[string]string{}
		for _, fl := range fo.Lines {
			lineOf[fl.ID] = fl.OrderLineID
			if r.All() {
				continue
			}
			w := want[fl.OrderLineID]
			if n := w.Min(fl.Quantity.Value); n.IsPos() {
				req.Lines = append(req.Lines, connector.LineQuantity{LineID: fl.ID, Quantity: canonical.NewQuantity(n, fl.Quantity.Unit)})
			}
		}
		if !r.All() && len(req.Lines) == 0 {
			continue
		}
		sys, err := f.systemOf(fo.Warehouse)
		if err != nil {
			return nil, fmt.Errorf("flow: cancel request %s of fulfilment order %s: %w", r.ID, fo.ID, err)
		}
		res, err := sys.wms.CancelRelease(ctx, f.key("cancel", r.OrderID, key, fo.ID), req)
		if err != nil {
			return nil, err
		}
		var got []canonical.QuantityEvent
		for i, c := range res.Cancelled {
			ol, ok := lineOf[c.LineID]
			switch {
			case !ok:
				return nil, retry.Permanent(fmt.Errorf("flow: cancel request %s: the WMS cancelled line %q, not of fulfilment order %s", r.ID, c.LineID, fo.ID))
			case c.Quantity.Unit != units[ol]:
				return nil, retry.Permanent(fmt.Errorf("flow: cancel request %s: the WMS cancelled[%d] of %s in %s, not in the line's unit %s", r.ID, i, fo.ID, c.Quantity.Unit, units[ol]))
			case !c.Quantity.Value.IsPos():
				continue
			}
			got = append(got, canonical.QuantityEvent{LineID: ol, Bucket: canonical.BucketCancelled, Kind: canonical.QuantityDelta,
				Value: c.Quantity.Value, AsOf: r.RequestedAt, SourceMessageID: "wms/cancel/" + fo.ID + "/" + key})
			if w, ok := want[ol]; ok && !r.All() {
				left, err := w.Sub(c.Quantity.Value)
				if err != nil {
					return nil, retry.Permanent(err)
				}
				want[ol] = left
			}
		}
		qe = append(qe, mergeEvents(got)...)
	}
	return qe, nil
}

// foldCancel folds what a request cancelled into the order's buckets and
// records it in cs and in the messages the CRM shows. It refuses, as a
// permanent error, a result that would cancel more than is open.
func (f *Flow) foldCancel(st *orderState, cs *cancelState, r canonical.CancelRequest, qe []canonical.QuantityEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cs.folded {
		return nil
	}
	if len(qe) > 0 {
		lines := slices.Clone(st.order.Lines)
		if err := f.ledger.Fold(lines, append(slices.Clone(st.qevents), qe...)); err != nil {
			return retry.Permanent(fmt.Errorf("flow: cancel request %s of order %s: %w", r.ID, r.OrderID, err))
		}
		for _, l := range lines {
			if overCancelled(&l) {
				return retry.Permanent(fmt.Errorf("flow: cancel request %s of order %s: line %s would cancel more than is open: %s", r.ID, r.OrderID, l.ID, l.Buckets))
			}
		}
		st.qevents = append(st.qevents, qe...)
		if err := f.foldLocked(st); err != nil {
			st.qevents = st.qevents[:len(st.qevents)-len(qe)]
			_ = f.foldLocked(st)
			return retry.Permanent(fmt.Errorf("flow: cancel request %s of order %s: %w", r.ID, r.OrderID, err))
		}
	}
	sum := map[string]canonical.Decimal{}
	for _, e := range qe {
		v, err := sum[e.LineID].Add(e.Value)
		if err != nil {
			return retry.Permanent(err)
		}
		sum[e.LineID] = v
	}
	cs.lines = nil
	for _, l := range st.order.Lines {
		if v, ok := sum[l.ID]; ok {
			cs.lines = append(cs.lines, connector.LineQuantity{LineID: l.ID, Quantity: canonical.NewQuantity(v, l.Quantity.Unit)})
		}
	}
	msg := fmt.Sprintf("cancel request %s from %s: ", r.ID, r.RequestedBy)
	if len(cs.lines) == 0 {
		msg += "nothing left to cancel (shipped, cancelled or rejected already)"
	} else {
		msg += "cancelled " + describeCancel(cs.lines)
	}
	st.messages = append(st.messages, msg)
	cs.folded = true
	st.dirty = true
	return nil
}

// overCancelled reports whether a line's cancelled, rejected and shipped
// quantities add up to more than was ordered.
func overCancelled(l *canonical.OrderLine) bool {
	bs := &l.Buckets
	used, err := bs.Get(canonical.BucketCancelled).Add(bs.Get(canonical.BucketRejected))
	if err == nil {
		used, err = used.Add(bs.Get(canonical.BucketShipped))
	}
	return err != nil || used.Cmp(bs.Get(canonical.BucketOrdered)) > 0
}

// describeCancel returns "L1 4 EA, L2 1 XCS", or "nothing".
func describeCancel(lines []connector.LineQuantity) string {
	if len(lines) == 0 {
		return "nothing"
	}
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = l.LineID + " " + l.Quantity.String()
	}
	return strings.Join(parts, ", ")
}

// nothingOpen reports whether every line of o was cancelled or rejected in
// full, so that there is nothing to release.
func nothingOpen(o *canonical.Order) bool {
	for i := range o.Lines {
		if open, err := o.Lines[i].Buckets.NetOrdered(); err != nil || open.IsPos() {
			return false
		}
	}
	return len(o.Lines) > 0
}
