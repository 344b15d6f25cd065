// This file owns order changes after the ERP's decision: a new version of
// an order from the CRM, decided by the ERP (connector.OrderChanger),
// applied in the warehouses as far as their work allows
// (connector.ReleaseChanger, re-sourcing through the Sourcer), folded into
// the ledger as quantity events, and shown in the CRM per line and field
// (connector.OrderStatus.Changes); and the increases the ERP held for
// credit, sent again once it releases the hold.

package flow

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// changeStep is how far the change in progress has gone.
type changeStep uint8

const (
	changeStarted changeStep = iota
	changeTaken              // the warehouses took away what they could of the decreases, folded
	changeDecided            // the ERP decided, folded
	changePlanned            // the increases' fulfilment orders are planned, saved
	changeApplied            // the warehouses applied the increases and the order's fields
)

// changeState is what the flow keeps of an order's changes after the ERP's
// decision: the latest change (in progress unless done), what each step of
// it did, and what the systems hold, the base of the next change.
type changeState struct {
	// version and fp are the CRM's version of the latest change and its
	// fingerprint (docFingerprint); tag names its keys and quantity
	// events ("v3", or "r4" for held increases sent again).
	version int64
	fp      string
	tag     string
	done    bool
	step    changeStep
	// base is the order as the systems hold it: the lines' quantities
	// and dates and the order's fields as applied. The next version is
	// diffed against it. Lines with nothing left of them are left out.
	base canonical.Order
	// erpVersion is the version the ERP holds; a change to the ERP goes
	// from it to max(CRM version, erpVersion+1), so that held increases
	// sent again need no CRM version.
	erpVersion int64
	// taken is, per order line, what the warehouses took away of a
	// decrease; why is why they refused the rest.
	taken map[string]canonical.Decimal
	why   map[string]canonical.ChangeReason
	ack   *canonical.ChangeAck
	// plan are the fulfilment orders the Sourcer planned for the
	// increases (IDs as it planned them).
	plan []canonical.FulfillmentOrder
	// header are the warehouses' answers to the order's fields, per
	// fulfilment order released before the change.
	header map[string][]canonical.ChangeResult
	// results is what the CRM is shown: per order line and field.
	results []canonical.ChangeResult
	// held are the increases the ERP held (for credit), sent again once
	// it releases the hold.
	held []canonical.LineChange
	// resend is the change of held increases being sent again (tag
	// "r<ERP version>"), kept until it is done.
	resend *canonical.OrderChange
	// known are the IDs of the order's lines when the change started.
	known []string
}

// onChanged handles a new version o of an order the ERP has decided (the
// CRM's feed delivers it as order.submitted): it computes the change
// against what the systems hold (canonical.DiffOrders), and
//
//   - for an order released to the warehouses, asks each warehouse first
//     to take away what it can of the decreases (connector.ReleaseChanger:
//     it refuses what is picked or shipped, and its answer decides a
//     change racing a shipment), then asks the ERP
//     (connector.OrderChanger) to take the change with the decreases the
//     warehouses made, and applies the increases the ERP accepted where
//     the Sourcer plans them: on the line of a fulfilment order of that
//     warehouse while it is open (ReleaseChanger), else in a new
//     fulfilment order ("<planned ID>-v<version>"); the order's ship-to,
//     ship-complete and requested ship date go to every fulfilment order
//     released before;
//   - for an order accepted and not released yet, or on hold, asks the
//     ERP alone; the release that follows plans what is open then;
//   - for a rejected order, refuses everything for
//     canonical.ChangeReasonClosed; when the ERP, or the WMS of a
//     released fulfilment order, lacks its role, refuses everything for
//     canonical.ChangeReasonUnsupported, naming the system. Either way
//     nothing changes but the version, and the CRM is told.
//
// Every quantity change is a quantity event: a decrease in the cancelled
// bucket (what a warehouse took away, or the ERP for an order not
// released), an increase in ordered, confirmed and rejected as the ERP
// decided. Each call has a key derived from the order, the version and
// the fulfilment order, and the state is saved before the releases that
// depend on the Sourcer's plan, so a replay repeats no effect. A version at
// or below the one the flow holds is a duplicate (onSubmitted); a version
// while an earlier change is incomplete (it was dead-lettered) is an
// ErrOrderState error: replay the earlier one first.
func (f *Flow) onChanged(ctx context.Context, ev canonical.Event, o canonical.Order, fp string, st *orderState, bad func(error) error) (bool, error) {
	f.mu.Lock()
	cs := st.change
	switch {
	case cs != nil && !cs.done && cs.version != o.Version:
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: order %s version %d: the change to version %d is incomplete; replay it first",
			ErrOrderState, o.ID, o.Version, cs.version))
	case cs != nil && !cs.done && cs.fp != fp:
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: order %s version %d submitted with fingerprint %s, being applied with %s",
			ErrChangedDuplicate, o.ID, o.Version, fp, cs.fp))
	case st.phase == phaseSubmitted:
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: order %s version %d: version %d is not decided by the ERP yet", ErrOrderState, o.ID, o.Version, st.order.Version))
	case st.phase == phaseAccepted && len(st.released) > 0 && len(st.released) < len(st.plan):
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: order %s version %d: the release of the order is incomplete; replay it first", ErrOrderState, o.ID, o.Version))
	}
	if cs == nil {
		cs = &changeState{done: true, base: baseOf(&st.order), erpVersion: st.order.Version}
		st.change = cs
	}
	if cs.done {
		cs.version, cs.fp, cs.tag, cs.done, cs.step = o.Version, fp, "v"+strconv.FormatInt(o.Version, 10), false, changeStarted
		cs.taken, cs.why, cs.ack, cs.plan, cs.header = nil, nil, nil, nil, nil
		cs.known = make([]string, len(st.order.Lines))
		for i, l := range st.order.Lines {
			cs.known[i] = l.ID
		}
	}
	base := cs.base
	ph := st.phase
	released := len(st.released) > 0
	f.mu.Unlock()

	c, err := canonical.DiffOrders(base, o)
	if err != nil {
		return false, bad(fmt.Errorf("%w: order %s version %d: %w", ErrBadEvent, o.ID, o.Version, err))
	}
	c, gone := dropGoneLines(c, cs.known)
	var results []canonical.ChangeResult
	var note string
	switch {
	case ph == phaseRejected:
		results, note = refuseChange(c, canonical.ChangeReasonClosed), "the order is rejected"
	default:
		if why := f.missingRoles(st, released); why != "" {
			results, note = refuseChange(c, canonical.ChangeReasonUnsupported), why
		} else if !c.Empty() {
			if results, err = f.applyChange(ctx, st, cs, c, released); err != nil {
				return false, err
			}
		}
	}
	results = append(results, gone...)
	f.mu.Lock()
	if ph == phaseAccepted && !released {
		// The release plans what is open now.
		st.plan = nil
	}
	if st.phase == phaseHeld && nothingOpen(&st.order) {
		// Nothing is left to accept and release: the order is done, as
		// one cancelled in full while on hold is (onCancelRequested).
		st.phase = phaseReleased
	}
	st.order.Version, st.fp = o.Version, fp
	cs.results = results
	cs.base = nextBase(cs.base, c, results)
	cs.done = true
	st.messages = append(st.messages, describeChange(o.Version, results, note))
	st.dirty = true
	f.mu.Unlock()
	f.logger.InfoContext(ctx, "flow: order changed", "order", o.ID, "version", o.Version,
		"outcome", canonical.ChangeOutcomeOf(results), "note", note)
	return false, f.publish(ctx, st)
}

// baseOf returns what the systems hold of an order not changed before:
// the order as submitted, without buckets.
func baseOf(o *canonical.Order) canonical.Order {
	b := *o
	b.Lines = slices.Clone(o.Lines)
	for i := range b.Lines {
		b.Lines[i].Buckets = canonical.Buckets{}
	}
	return b
}

// dropGoneLines takes out of c the lines it adds that the order had
// already when the change started (known: a line removed, or added and
// refused in full, before): the systems keep such a line closed, and a
// line is added under a new ID. It returns their refusals for
// canonical.ChangeReasonClosed.
func dropGoneLines(c canonical.OrderChange, known []string) (canonical.OrderChange, []canonical.ChangeResult) {
	var gone []canonical.ChangeResult
	c.Lines = slices.DeleteFunc(slices.Clone(c.Lines), func(l canonical.LineChange) bool {
		if l.Kind != canonical.LineChangeAdded || !slices.Contains(known, l.LineID) {
			return false
		}
		gone = append(gone, refuseLine(l, canonical.ChangeReasonClosed)...)
		return true
	})
	return c, gone
}

// missingRoles names the roles the change needs that the systems lack: the
// ERP's OrderChanger, and for a released order the ReleaseChanger of the
// WMS of each fulfilment order; "" when none is missing.
func (f *Flow) missingRoles(st *orderState, released bool) string {
	var missing []string
	if _, ok := connector.As[connector.OrderChanger](f.erp); !ok {
		missing = append(missing, "the ERP cannot change an order it decided (no connector.OrderChanger)")
	}
	if released {
		f.mu.Lock()
		whs := map[string]bool{}
		for _, fo := range st.plan {
			whs[fo.Warehouse] = true
		}
		f.mu.Unlock()
		for _, wh := range slices.Sorted(maps.Keys(whs)) {
			sys, err := f.systemOf(wh)
			if err != nil {
				missing = append(missing, err.Error())
				continue
			}
			if _, ok := connector.As[connector.ReleaseChanger](sys.wms); !ok {
				missing = append(missing, "the WMS of "+wh+" cannot change a release (no connector.ReleaseChanger)")
			}
		}
	}
	return strings.Join(missing, "; ")
}

// refuseLine returns the refusal of a line's change for reason.
func refuseLine(l canonical.LineChange, reason canonical.ChangeReason) []canonical.ChangeResult {
	var out []canonical.ChangeResult
	if l.QuantityChanged() {
		r, _ := canonical.QuantityResult(l.LineID, l.Delta, canonical.NewQuantity(canonical.Decimal{}, l.Delta.Unit), reason, false)
		out = append(out, r)
	}
	if l.DateChanged() {
		out = append(out, canonical.ChangeResult{LineID: l.LineID, Field: canonical.ChangeFieldRequestedDate, Outcome: canonical.ChangeRefused, Reason: reason})
	}
	return out
}

// refuseChange returns the refusal of every part of c for reason.
func refuseChange(c canonical.OrderChange, reason canonical.ChangeReason) []canonical.ChangeResult {
	var out []canonical.ChangeResult
	for _, l := range c.Lines {
		out = append(out, refuseLine(l, reason)...)
	}
	for _, field := range headerFields(c) {
		out = append(out, canonical.ChangeResult{Field: field, Outcome: canonical.ChangeRefused, Reason: reason})
	}
	return out
}

// headerFields returns the order fields c changes.
func headerFields(c canonical.OrderChange) []string {
	var fs []string
	if c.ShipTo != nil {
		fs = append(fs, canonical.ChangeFieldShipTo)
	}
	if c.ShipComplete != nil {
		fs = append(fs, canonical.ChangeFieldShipComplete)
	}
	if c.RequestedShipDate != nil {
		fs = append(fs, canonical.ChangeFieldRequestedShipDate)
	}
	if c.RequestedDeliveryDate != nil {
		fs = append(fs, canonical.ChangeFieldRequestedDeliveryDate)
	}
	return fs
}

// applyChange makes the change c of a decided order, step by step (see
// onChanged), and returns the results the CRM is shown. Each step records
// what it did in cs, so a retried or replayed change repeats none.
func (f *Flow) applyChange(ctx context.Context, st *orderState, cs *changeState, c canonical.OrderChange, released bool) ([]canonical.ChangeResult, error) {
	f.mu.Lock()
	step, corr := cs.step, st.corr
	f.mu.Unlock()
	ctx = tracing.WithCorrelationID(ctx, corr)
	if step < changeTaken {
		if released {
			if err := f.takeDecreases(ctx, st, cs, c); err != nil {
				return nil, err
			}
		}
		f.mu.Lock()
		cs.step = changeTaken
		f.mu.Unlock()
	}
	if step < changeDecided {
		if err := f.decideChange(ctx, st, cs, c, released); err != nil {
			return nil, err
		}
	}
	if released && step < changePlanned {
		if err := f.planIncreases(ctx, st, cs); err != nil {
			return nil, err
		}
	}
	if released && step < changeApplied {
		if err := f.applyIncreases(ctx, st, cs, c); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return changeResults(cs, c, released), nil
}

// releasedInPlan returns the order's released fulfilment orders in plan
// order. The caller holds f.mu.
func releasedInPlan(st *orderState) []canonical.FulfillmentOrder {
	var fos []canonical.FulfillmentOrder
	for _, fo := range st.plan {
		if rel, ok := st.released[fo.ID]; ok {
			fos = append(fos, rel)
		}
	}
	return fos
}

// releaseChanger returns the ReleaseChanger of the WMS of a warehouse.
func (f *Flow) releaseChanger(warehouse string) (connector.ReleaseChanger, string, error) {
	sys, err := f.systemOf(warehouse)
	if err != nil {
		return nil, "", err
	}
	rc, ok := connector.As[connector.ReleaseChanger](sys.wms)
	if !ok {
		return nil, "", retry.Permanent(fmt.Errorf("flow: the WMS of %s cannot change a release", warehouse))
	}
	return rc, sys.name, nil
}

// refusalRank orders the reasons a warehouse gives for a refused decrease:
// the one of the furthest work wins.
func refusalRank(r canonical.ChangeReason) int {
	switch r {
	case canonical.ChangeReasonShipped:
		return 4
	case canonical.ChangeReasonPacked:
		return 3
	case canonical.ChangeReasonPicked:
		return 2
	case "":
		return 0
	}
	return 1
}

// takeDecreases asks the warehouses of a released order, fulfilment order
// by fulfilment order in plan order, to take away the decreases of c, and
// folds what they took into the cancelled bucket.
func (f *Flow) takeDecreases(ctx context.Context, st *orderState, cs *changeState, c canonical.OrderChange) error {
	want := map[string]canonical.Decimal{}
	for _, l := range c.Lines {
		if l.Delta.Value.IsNeg() {
			want[l.LineID] = l.Delta.Value.Abs()
		}
	}
	if len(want) == 0 {
		return nil
	}
	f.mu.Lock()
	fos := releasedInPlan(st)
	orderID, tag := st.order.ID, cs.tag
	asOf := f.now()
	f.mu.Unlock()
	taken := map[string]canonical.Decimal{}
	why := map[string]canonical.ChangeReason{}
	var qe []canonical.QuantityEvent
	for _, fo := range fos {
		req := connector.ReleaseChange{FulfillmentOrderID: fo.ID, Reason: "order " + orderID + " changed to " + tag}
		lineOf := map[string]string{}
		for _, fl := range fo.Lines {
			if w := want[fl.OrderLineID]; w.IsPos() {
				lineOf[fl.ID] = fl.OrderLineID
				req.Lines = append(req.Lines, connector.ReleaseLineChange{LineID: fl.ID, Delta: canonical.NewQuantity(w.Neg(), fl.Quantity.Unit)})
			}
		}
		if len(req.Lines) == 0 {
			continue
		}
		rc, _, err := f.releaseChanger(fo.Warehouse)
		if err != nil {
			return err
		}
		res, err := rc.ChangeRelease(ctx, f.key("change_take", orderID, tag, fo.ID), req)
		if err != nil {
			return err
		}
		f.landed(ctx, targetWMS)
		for _, r := range res.Results {
			ol, ok := lineOf[r.LineID]
			if r.Field != canonical.ChangeFieldQuantity || !ok || r.Applied == nil {
				continue
			}
			n := r.Applied.Value.Abs()
			if n.Cmp(want[ol]) > 0 {
				return retry.Permanent(fmt.Errorf("flow: change of order %s to %s: the WMS took %s of line %s of %s, more than the %s asked",
					orderID, tag, n, r.LineID, fo.ID, want[ol]))
			}
			if n.IsPos() {
				taken[ol], _ = taken[ol].Add(n)
				want[ol], _ = want[ol].Sub(n)
				qe = append(qe, canonical.QuantityEvent{LineID: ol, Bucket: canonical.BucketCancelled, Kind: canonical.QuantityDelta,
					Value: n, AsOf: asOf, SourceMessageID: "wms/change/" + fo.ID + "/" + tag})
			}
			if r.Reason != "" && refusalRank(r.Reason) > refusalRank(why[ol]) {
				why[ol] = r.Reason
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.foldMoreLocked(st, qe); err != nil {
		return retry.Permanent(fmt.Errorf("flow: change of order %s to %s: %w", orderID, tag, err))
	}
	cs.taken, cs.why = taken, why
	st.dirty = true
	return nil
}

// foldMoreLocked folds qe into the order's buckets, refusing (and leaving
// the state as it was) events that do not fold or that cancel more than is
// open. The caller holds f.mu.
func (f *Flow) foldMoreLocked(st *orderState, qe []canonical.QuantityEvent) error {
	if len(qe) == 0 {
		return nil
	}
	lines := slices.Clone(st.order.Lines)
	if err := f.ledger.Fold(lines, append(slices.Clone(st.qevents), qe...)); err != nil {
		return err
	}
	for _, l := range lines {
		if overCancelled(&l) {
			return fmt.Errorf("line %s would cancel more than is open: %s", l.ID, l.Buckets)
		}
	}
	st.qevents = append(st.qevents, qe...)
	if err := f.foldLocked(st); err != nil {
		st.qevents = st.qevents[:len(st.qevents)-len(qe)]
		_ = f.foldLocked(st)
		return err
	}
	return nil
}

// erpChangeOf returns the change the ERP is asked to take: c, with the
// decreases of a released order cut to what the warehouses took away (a
// line they took nothing of keeps only its new date, if any).
func erpChangeOf(c canonical.OrderChange, released bool, taken map[string]canonical.Decimal) canonical.OrderChange {
	if !released {
		return c
	}
	out := c
	out.Lines = nil
	for _, l := range c.Lines {
		if !l.Delta.Value.IsNeg() {
			out.Lines = append(out.Lines, l)
			continue
		}
		n := taken[l.LineID]
		if n.Cmp(l.Delta.Value.Abs()) < 0 {
			l.Kind = canonical.LineChangeUpdated
			l.Delta = canonical.NewQuantity(n.Neg(), l.Delta.Unit)
			l.To.Value, _ = l.From.Value.Sub(n)
			if !l.QuantityChanged() && !l.DateChanged() {
				continue
			}
		}
		out.Lines = append(out.Lines, l)
	}
	return out
}

// decideChange asks the ERP to take the change and folds its decision:
// increases into ordered, confirmed and rejected (an added line is added),
// decreases of an order not released into cancelled, new dates and fields
// into the order, holds onto it; held increases are kept to be sent again.
func (f *Flow) decideChange(ctx context.Context, st *orderState, cs *changeState, c canonical.OrderChange, released bool) error {
	f.mu.Lock()
	ec := erpChangeOf(c, released, cs.taken)
	ec.FromVersion = cs.erpVersion
	ec.ToVersion = max(cs.version, cs.erpVersion+1)
	tag := cs.tag
	f.mu.Unlock()
	var ack canonical.ChangeAck
	if !ec.Empty() {
		oc, ok := connector.As[connector.OrderChanger](f.erp)
		if !ok {
			return retry.Permanent(errors.New("flow: the ERP cannot change an order"))
		}
		var err error
		if ack, err = oc.ChangeOrder(ctx, f.key("change_erp", c.OrderID, tag), ec); err != nil {
			return err
		}
		f.landed(ctx, targetERP)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o := &st.order
	t := cmpTime(ack.AckedAt, f.now())
	src := "erp/change/" + o.ID + "/" + tag
	var qe []canonical.QuantityEvent
	var added []canonical.OrderLine
	var held []canonical.LineChange
	for _, r := range ack.Results {
		l := ec.Line(r.LineID)
		if l == nil && r.LineID != "" {
			return retry.Permanent(fmt.Errorf("flow: change of order %s to %s: the ERP answered for line %q, not changed", o.ID, tag, r.LineID))
		}
		switch {
		case r.Field == canonical.ChangeFieldQuantity && r.Applied != nil && r.Refused != nil:
			if r.Applied.Unit != l.Delta.Unit || r.Refused.Unit != l.Delta.Unit {
				return retry.Permanent(fmt.Errorf("flow: change of order %s to %s: the ERP answered for line %s in %s, not in %s", o.ID, tag, l.LineID, r.Applied.Unit, l.Delta.Unit))
			}
			if l.Delta.Value.IsNeg() {
				if !released && r.Applied.Value.IsNeg() {
					qe = append(qe, canonical.QuantityEvent{LineID: l.LineID, Bucket: canonical.BucketCancelled, Kind: canonical.QuantityDelta,
						Value: r.Applied.Value.Abs(), AsOf: t, SourceMessageID: src})
				}
				continue
			}
			if r.Outcome == canonical.ChangeHeld {
				held = append(held, *l)
				continue
			}
			if l.Kind == canonical.LineChangeAdded {
				added = append(added, canonical.OrderLine{ID: l.LineID, Item: canonical.ItemRef{SKU: l.Item.SKU}, Quantity: l.To,
					UnitPrice: l.UnitPrice, RequestedDate: l.ToRequestedDate})
			} else {
				qe = append(qe, canonical.QuantityEvent{LineID: l.LineID, Bucket: canonical.BucketOrdered, Kind: canonical.QuantityDelta,
					Value: l.Delta.Value, AsOf: t, SourceMessageID: src})
			}
			if r.Applied.Value.IsPos() {
				qe = append(qe, canonical.QuantityEvent{LineID: l.LineID, Bucket: canonical.BucketConfirmed, Kind: canonical.QuantityDelta,
					Value: r.Applied.Value, AsOf: t, SourceMessageID: src})
			}
			if r.Refused.Value.IsPos() {
				qe = append(qe, canonical.QuantityEvent{LineID: l.LineID, Bucket: canonical.BucketRejected, Kind: canonical.QuantityDelta,
					Value: r.Refused.Value, AsOf: t, SourceMessageID: src})
			}
		case r.Field == canonical.ChangeFieldRequestedDate && r.Outcome == canonical.ChangeApplied:
			if i := slices.IndexFunc(o.Lines, func(ol canonical.OrderLine) bool { return ol.ID == l.LineID }); i >= 0 {
				o.Lines[i].RequestedDate = l.ToRequestedDate
			}
		case r.Outcome == canonical.ChangeApplied:
			switch r.Field {
			case canonical.ChangeFieldShipTo:
				o.ShipTo = *ec.ShipTo
			case canonical.ChangeFieldShipComplete:
				o.ShipComplete = *ec.ShipComplete
			case canonical.ChangeFieldRequestedShipDate:
				o.RequestedShipDate = *ec.RequestedShipDate
			case canonical.ChangeFieldRequestedDeliveryDate:
				o.RequestedDeliveryDate = *ec.RequestedDeliveryDate
			}
		}
	}
	n := len(o.Lines)
	o.Lines = append(o.Lines, added...)
	if err := f.foldMoreLocked(st, qe); err != nil {
		o.Lines = o.Lines[:n]
		_ = f.foldLocked(st)
		return retry.Permanent(fmt.Errorf("flow: change of order %s to %s: %w", o.ID, tag, err))
	}
	if len(qe) == 0 && len(added) > 0 {
		_ = f.foldLocked(st)
	}
	for _, r := range ack.Refs {
		o.Refs = o.Refs.With(r)
	}
	for _, h := range ack.Holds {
		if h.Active() && !slices.ContainsFunc(o.Holds, func(x canonical.Hold) bool { return x.Kind == h.Kind && x.Active() }) {
			if err := o.PlaceHold(h); err != nil {
				return retry.Permanent(fmt.Errorf("flow: hold order %s: %w", o.ID, err))
			}
		}
	}
	for _, m := range ack.Messages {
		st.messages = append(st.messages, "change "+tag+": "+m.Text)
	}
	if !ec.Empty() {
		cs.erpVersion = ec.ToVersion
	}
	cs.ack, cs.held, cs.step = &ack, held, changeDecided
	if len(held) > 0 {
		// The hold watcher checks the order until the ERP releases the
		// hold (heldLocked), then the increases are sent again.
		st.resumed = false
	}
	st.dirty = true
	return nil
}

func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// planIncreases plans with the Sourcer where the increases the ERP accepted
// go, and saves the plan before anything is released.
func (f *Flow) planIncreases(ctx context.Context, st *orderState, cs *changeState) error {
	f.mu.Lock()
	o := st.order
	o.Lines = nil
	at := lineIndex(st.order.Lines, func(l canonical.OrderLine) string { return l.ID })
	if cs.ack != nil {
		for _, r := range cs.ack.Results {
			if r.Field != canonical.ChangeFieldQuantity || r.Applied == nil || !r.Applied.Value.IsPos() {
				continue
			}
			i, ok := at[r.LineID]
			if !ok {
				continue
			}
			l := st.order.Lines[i]
			l.Quantity, l.Buckets = *r.Applied, canonical.Buckets{}
			o.Lines = append(o.Lines, l)
		}
	}
	f.mu.Unlock()
	var p []canonical.FulfillmentOrder
	if len(o.Lines) > 0 {
		var err error
		if p, err = f.sourcer.Plan(ctx, o); err != nil {
			return err
		}
	}
	f.mu.Lock()
	cs.plan, cs.step = p, changePlanned
	f.mu.Unlock()
	return f.checkpoint(ctx, st)
}

// applyIncreases applies the planned increases and the order's changed
// fields in the warehouses: on the lines of the fulfilment orders released
// before, where the plan puts an increase in their warehouse and they take
// it; in new fulfilment orders for the rest.
func (f *Flow) applyIncreases(ctx context.Context, st *orderState, cs *changeState, c canonical.OrderChange) error {
	f.mu.Lock()
	fos := releasedInPlan(st)
	plan := slices.Clone(cs.plan)
	tag, orderID := cs.tag, st.order.ID
	hdr := connector.ReleaseChange{}
	if cs.ack != nil {
		for _, r := range cs.ack.Results {
			if r.LineID != "" || r.Outcome != canonical.ChangeApplied {
				continue
			}
			switch r.Field {
			case canonical.ChangeFieldShipTo:
				hdr.ShipTo = c.ShipTo
			case canonical.ChangeFieldShipComplete:
				hdr.ShipComplete = c.ShipComplete
			case canonical.ChangeFieldRequestedShipDate:
				hdr.RequestedShipDate = c.RequestedShipDate
			}
		}
	}
	f.mu.Unlock()
	// left[i][orderLine] is what of plan[i] is still to release.
	left := make([]map[string]canonical.Quantity, len(plan))
	for i, p := range plan {
		left[i] = map[string]canonical.Quantity{}
		for _, l := range p.Lines {
			left[i][l.OrderLineID] = l.Quantity
		}
	}
	header := map[string][]canonical.ChangeResult{}
	for _, fo := range fos {
		req := hdr
		req.FulfillmentOrderID, req.Reason = fo.ID, "order "+orderID+" changed to "+tag
		lineOf := map[string]string{}
		for i, p := range plan {
			if p.Warehouse != fo.Warehouse {
				continue
			}
			for _, fl := range fo.Lines {
				if q, ok := left[i][fl.OrderLineID]; ok && q.Value.IsPos() && q.Unit == fl.Quantity.Unit &&
					!slices.ContainsFunc(req.Lines, func(x connector.ReleaseLineChange) bool { return x.LineID == fl.ID }) {
					lineOf[fl.ID] = fl.OrderLineID
					req.Lines = append(req.Lines, connector.ReleaseLineChange{LineID: fl.ID, Delta: q})
				}
			}
		}
		if len(req.Lines) == 0 && req.ShipTo == nil && req.ShipComplete == nil && req.RequestedShipDate == nil {
			continue
		}
		rc, _, err := f.releaseChanger(fo.Warehouse)
		if err != nil {
			return err
		}
		res, err := rc.ChangeRelease(ctx, f.key("change_apply", orderID, tag, fo.ID), req)
		if err != nil {
			return err
		}
		f.landed(ctx, targetWMS)
		for _, r := range res.Results {
			if r.Field != canonical.ChangeFieldQuantity {
				header[fo.ID] = append(header[fo.ID], r)
				continue
			}
			ol, ok := lineOf[r.LineID]
			if !ok || r.Applied == nil || !r.Applied.Value.IsPos() {
				continue
			}
			// What the line took is no longer to release.
			for i, p := range plan {
				if p.Warehouse != fo.Warehouse {
					continue
				}
				if q, ok := left[i][ol]; ok {
					q.Value, _ = q.Value.Sub(r.Applied.Value.Min(q.Value))
					left[i][ol] = q
					break
				}
			}
		}
	}
	// The rest in new fulfilment orders.
	var fresh []canonical.FulfillmentOrder
	for i, p := range plan {
		fo := p
		fo.ID = p.ID + "-" + tag
		fo.Lines = nil
		for _, l := range p.Lines {
			q := left[i][l.OrderLineID]
			if !q.Value.IsPos() {
				continue
			}
			l.ID, l.Quantity = fo.ID+":"+l.OrderLineID, q
			fo.Lines = append(fo.Lines, l)
		}
		if len(fo.Lines) > 0 {
			fresh = append(fresh, fo)
		}
	}
	for _, fo := range fresh {
		f.mu.Lock()
		_, done := st.released[fo.ID]
		o := st.order
		f.mu.Unlock()
		if done {
			continue
		}
		sys, err := f.systemOf(fo.Warehouse)
		if err != nil {
			return fmt.Errorf("fulfilment order %s: %w", fo.ID, err)
		}
		fo = carryExtensions(fo, &o)
		r, err := sys.wms.Release(ctx, fo)
		if err != nil {
			return err
		}
		f.landed(ctx, targetWMS)
		f.mu.Lock()
		if !planned(st, fo.ID) {
			st.plan = append(st.plan, fo)
		}
		st.released[fo.ID] = carryExtensions(r, &o)
		st.dirty = true
		f.mu.Unlock()
	}
	f.mu.Lock()
	cs.header, cs.step = header, changeApplied
	f.mu.Unlock()
	return nil
}

// changeResults returns what the CRM is shown of the change c: per line,
// the quantity as the warehouses took a decrease away (for a released
// order) or as the ERP decided, the dates as the ERP decided, and the
// order's fields as the ERP decided and, where it applied them, as the
// warehouses of the fulfilment orders released before did. The caller
// holds f.mu.
func changeResults(cs *changeState, c canonical.OrderChange, released bool) []canonical.ChangeResult {
	var out []canonical.ChangeResult
	byKey := map[string]canonical.ChangeResult{}
	if cs.ack != nil {
		for _, r := range cs.ack.Results {
			byKey[r.LineID+"\x00"+r.Field] = r
		}
	}
	for _, l := range c.Lines {
		if l.QuantityChanged() {
			r, ok := byKey[l.LineID+"\x00"+canonical.ChangeFieldQuantity]
			if released && l.Delta.Value.IsNeg() {
				n := cs.taken[l.LineID]
				r, _ = canonical.QuantityResult(l.LineID, l.Delta, canonical.NewQuantity(n.Neg(), l.Delta.Unit), cmpReason(cs.why[l.LineID]), false)
				if ok {
					// The ERP's messages go with the warehouses' answer.
					r.Messages = byKey[l.LineID+"\x00"+canonical.ChangeFieldQuantity].Messages
				}
			} else if !ok {
				r, _ = canonical.QuantityResult(l.LineID, l.Delta, canonical.NewQuantity(canonical.Decimal{}, l.Delta.Unit), canonical.ChangeReasonClosed, false)
			} else if r.Applied != nil && r.Applied.Unit != l.Delta.Unit {
				r, _ = canonical.QuantityResult(l.LineID, l.Delta, canonical.NewQuantity(canonical.Decimal{}, l.Delta.Unit), canonical.ChangeReasonClosed, false)
			}
			out = append(out, r)
		}
		if l.DateChanged() {
			r, ok := byKey[l.LineID+"\x00"+canonical.ChangeFieldRequestedDate]
			if !ok {
				r = canonical.ChangeResult{LineID: l.LineID, Field: canonical.ChangeFieldRequestedDate, Outcome: canonical.ChangeRefused, Reason: canonical.ChangeReasonClosed}
			}
			out = append(out, r)
		}
	}
	for _, field := range headerFields(c) {
		r, ok := byKey["\x00"+field]
		if !ok {
			r = canonical.ChangeResult{Field: field, Outcome: canonical.ChangeRefused, Reason: canonical.ChangeReasonClosed}
		}
		if r.Outcome == canonical.ChangeApplied && released {
			r = warehouseHeader(r, cs.header)
		}
		out = append(out, r)
	}
	return out
}

// cmpReason is reason, or canonical.ChangeReasonClosed when a warehouse
// refused without one.
func cmpReason(r canonical.ChangeReason) canonical.ChangeReason {
	if r == "" {
		return canonical.ChangeReasonClosed
	}
	return r
}

// warehouseHeader combines the ERP's application of an order field with
// the warehouses' answers: refused when every warehouse asked refused it,
// partially applied when some did, with the reason of the furthest work.
func warehouseHeader(r canonical.ChangeResult, header map[string][]canonical.ChangeResult) canonical.ChangeResult {
	applied, refused := 0, 0
	var reason canonical.ChangeReason
	for _, rs := range header {
		for _, x := range rs {
			if x.Field != r.Field {
				continue
			}
			if x.Outcome == canonical.ChangeApplied {
				applied++
				continue
			}
			refused++
			if refusalRank(x.Reason) > refusalRank(reason) {
				reason = x.Reason
			}
		}
	}
	switch {
	case refused == 0:
		return r
	case applied == 0:
		r.Outcome = canonical.ChangeRefused
	default:
		r.Outcome = canonical.ChangePartiallyApplied
	}
	r.Reason = cmpReason(reason)
	return r
}

// nextBase returns what the systems hold after the change c with results:
// base with each line's quantity moved by what was applied, dates and
// fields as applied, added lines that were applied in part or in full,
// and lines with nothing left taken out.
func nextBase(base canonical.Order, c canonical.OrderChange, results []canonical.ChangeResult) canonical.Order {
	b := base
	b.Version = c.ToVersion
	b.Lines = slices.Clone(base.Lines)
	res := map[string]canonical.ChangeResult{}
	for _, r := range results {
		res[r.LineID+"\x00"+r.Field] = r
	}
	applied := func(lineID, field string) bool {
		r, ok := res[lineID+"\x00"+field]
		return ok && r.Outcome == canonical.ChangeApplied
	}
	for _, l := range c.Lines {
		i := slices.IndexFunc(b.Lines, func(x canonical.OrderLine) bool { return x.ID == l.LineID })
		if i < 0 {
			if r, ok := res[l.LineID+"\x00"+canonical.ChangeFieldQuantity]; ok && r.Applied != nil && r.Applied.Value.IsPos() {
				b.Lines = append(b.Lines, canonical.OrderLine{ID: l.LineID, Item: l.Item, Quantity: *r.Applied, UnitPrice: l.UnitPrice,
					RequestedDate: l.ToRequestedDate})
			}
			continue
		}
		if r, ok := res[l.LineID+"\x00"+canonical.ChangeFieldQuantity]; ok && r.Applied != nil {
			b.Lines[i].Quantity.Value, _ = b.Lines[i].Quantity.Value.Add(r.Applied.Value)
		}
		if applied(l.LineID, canonical.ChangeFieldRequestedDate) {
			b.Lines[i].RequestedDate = l.ToRequestedDate
		}
	}
	b.Lines = slices.DeleteFunc(b.Lines, func(l canonical.OrderLine) bool { return !l.Quantity.Value.IsPos() })
	if c.ShipTo != nil && applied("", canonical.ChangeFieldShipTo) {
		b.ShipTo = *c.ShipTo
	}
	if c.ShipComplete != nil && applied("", canonical.ChangeFieldShipComplete) {
		b.ShipComplete = *c.ShipComplete
	}
	if c.RequestedShipDate != nil && applied("", canonical.ChangeFieldRequestedShipDate) {
		b.RequestedShipDate = *c.RequestedShipDate
	}
	if c.RequestedDeliveryDate != nil && applied("", canonical.ChangeFieldRequestedDeliveryDate) {
		b.RequestedDeliveryDate = *c.RequestedDeliveryDate
	}
	return b
}

// describeChange returns the message the CRM shows of a change:
// "change to version 3: L1 quantity applied; L2 quantity refused (picked)".
func describeChange(version int64, results []canonical.ChangeResult, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "change to version %d", version)
	if len(results) == 0 {
		b.WriteString(": nothing to change")
	}
	for i, r := range results {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if r.LineID != "" {
			b.WriteString(r.LineID + " ")
		}
		b.WriteString(r.Field + " " + string(r.Outcome))
		if r.Applied != nil && r.Outcome != canonical.ChangeApplied && r.Outcome != canonical.ChangeRefused && r.Outcome != canonical.ChangeHeld {
			b.WriteString(" " + r.Applied.String() + " of " + mustAdd(*r.Applied, *r.Refused))
		}
		if r.Reason != "" {
			b.WriteString(" (" + string(r.Reason) + ")")
		}
	}
	if note != "" {
		b.WriteString(": " + note)
	}
	return b.String()
}

func mustAdd(a, b canonical.Quantity) string {
	v, err := a.Value.Add(b.Value)
	if err != nil {
		return "?"
	}
	return canonical.NewQuantity(v, a.Unit).String()
}

// changeRecord is the encoding of a changeState.
type changeRecord struct {
	Version    int64                               `json:"version"`
	FP         string                              `json:"fp,omitempty"`
	Tag        string                              `json:"tag,omitempty"`
	Done       bool                                `json:"done,omitempty"`
	Step       changeStep                          `json:"step,omitempty"`
	Base       canonical.Order                     `json:"base"`
	ERPVersion int64                               `json:"erpVersion"`
	Taken      map[string]canonical.Decimal        `json:"taken,omitempty"`
	Why        map[string]canonical.ChangeReason   `json:"why,omitempty"`
	Ack        *canonical.ChangeAck                `json:"ack,omitempty"`
	Plan       []canonical.FulfillmentOrder        `json:"plan,omitempty"`
	Header     map[string][]canonical.ChangeResult `json:"header,omitempty"`
	Results    []canonical.ChangeResult            `json:"results,omitempty"`
	Held       []canonical.LineChange              `json:"held,omitempty"`
	Resend     *canonical.OrderChange              `json:"resend,omitempty"`
	Known      []string                            `json:"known,omitempty"`
}

// changeRecordOf returns the record of cs, nil for nil. The caller holds
// Flow.mu (or owns cs).
func changeRecordOf(cs *changeState) *changeRecord {
	if cs == nil {
		return nil
	}
	return &changeRecord{Version: cs.version, FP: cs.fp, Tag: cs.tag, Done: cs.done, Step: cs.step, Base: cs.base,
		ERPVersion: cs.erpVersion, Taken: cs.taken, Why: cs.why, Ack: cs.ack, Plan: cs.plan, Header: cs.header,
		Results: cs.results, Held: cs.held, Resend: cs.resend, Known: cs.known}
}

// state returns the changeState of r, nil for nil.
func (r *changeRecord) state() *changeState {
	if r == nil {
		return nil
	}
	return &changeState{version: r.Version, fp: r.FP, tag: r.Tag, done: r.Done, step: r.Step, base: r.Base,
		erpVersion: r.ERPVersion, taken: r.Taken, why: r.Why, ack: r.Ack, plan: r.Plan, header: r.Header,
		results: r.Results, held: r.Held, resend: r.Resend, known: r.Known}
}

// changeHeldLocked reports whether the order has increases the ERP held
// for credit that wait for the hold's release: the hold watcher checks it
// (heldLocked). Only a released order is watched so (see resumeChange).
// The caller holds f.mu.
func changeHeldLocked(st *orderState) bool {
	cs := st.change
	return cs != nil && cs.done && len(cs.held) > 0 && !st.resumed && st.phase == phaseReleased
}

// resumeChange sends again the increases the ERP held for credit, once
// the hold watcher saw the ERP release the hold (the order.accepted event
// it appends carries the ERP's view, erpView): the flow's holds are
// released, and the held lines go through the change's steps again, from
// what the systems hold, as a change from the ERP's version to the next
// (tag "r<ERP version>"); the ERP decides them again (it may hold them
// again). It reports whether it handled the event: false when the order
// has no held increases or erpView is not of the version the ERP holds
// after the change (a stale resume, handled as a duplicate).
func (f *Flow) resumeChange(ctx context.Context, erpView canonical.Order, st *orderState) (bool, error) {
	f.mu.Lock()
	cs := st.change
	switch {
	case cs == nil || st.phase != phaseReleased:
		// An order not released yet is released by this event's
		// onAccepted; its held increases are sent again after.
		f.mu.Unlock()
		return false, nil
	case cs.done && (len(cs.held) == 0 || erpView.Version != cs.erpVersion || slices.ContainsFunc(erpView.Holds, canonical.Hold.Active)):
		f.mu.Unlock()
		return false, nil
	case !cs.done && cs.resend == nil:
		f.mu.Unlock()
		return false, nil
	}
	if cs.done {
		c := canonical.OrderChange{OrderID: st.order.ID, FromVersion: cs.erpVersion, ToVersion: cs.erpVersion + 1}
		for _, l := range cs.held {
			l.Kind, l.From.Value = canonical.LineChangeAdded, canonical.Decimal{}
			if i := slices.IndexFunc(cs.base.Lines, func(b canonical.OrderLine) bool { return b.ID == l.LineID }); i >= 0 {
				l.Kind, l.From = canonical.LineChangeUpdated, cs.base.Lines[i].Quantity
			}
			l.To.Value, _ = l.From.Value.Add(l.Delta.Value)
			l.FromRequestedDate, l.ToRequestedDate = time.Time{}, time.Time{}
			c.Lines = append(c.Lines, l)
		}
		cs.tag, cs.done, cs.step, cs.resend = "r"+strconv.FormatInt(cs.erpVersion, 10), false, changeStarted, &c
		cs.taken, cs.why, cs.ack, cs.plan, cs.header = nil, nil, nil, nil, nil
		t := f.now()
		for _, h := range st.order.Holds {
			if h.Active() {
				if err := st.order.ReleaseHold(h.Kind, t); err != nil {
					f.mu.Unlock()
					return true, retry.Permanent(fmt.Errorf("flow: release the holds of order %s: %w", st.order.ID, err))
				}
			}
		}
		st.dirty = true
	}
	c := *cs.resend
	released := len(st.released) > 0
	f.mu.Unlock()
	results, err := f.applyChange(ctx, st, cs, c, released)
	if err != nil {
		return true, err
	}
	f.mu.Lock()
	cs.results = results
	cs.base = nextBase(cs.base, c, results)
	cs.base.Version = st.order.Version
	cs.done, cs.resend = true, nil
	if len(cs.held) == 0 {
		st.resumed = false
	}
	st.messages = append(st.messages, describeResend(results))
	st.dirty = true
	f.mu.Unlock()
	return true, f.publish(ctx, st)
}

// describeResend returns the message the CRM shows of held increases sent
// again.
func describeResend(results []canonical.ChangeResult) string {
	return strings.Replace(describeChange(0, results, ""), "change to version 0", "held increases sent again", 1)
}

// orderedNow returns what is ordered of a line as folded: its quantity as
// submitted, moved by the changes after the ERP's decision (ordered
// events). The ERP's decision on an order held before a change confirms or
// rejects that, not the quantity first submitted.
func orderedNow(l *canonical.OrderLine) canonical.Decimal {
	if v := l.Buckets.Get(canonical.BucketOrdered); v.IsPos() {
		return v
	}
	return l.Quantity.Value
}

// rejectedInFull reports whether the ERP's view of a line rejects all of
// it: a change after the decision may have rejected part of an increase
// (for stock), which leaves the rest of the line accepted.
func rejectedInFull(l *canonical.OrderLine) bool {
	r := l.Buckets.Get(canonical.BucketRejected)
	return r.IsPos() && r.Cmp(l.Quantity.Value) >= 0
}
