// This file owns the order-to-cash handlers: an order submitted, accepted
// or held by the ERP, its allocations and shipments, the status published
// to the CRM, and the hold watcher (CheckHolds).

package flow

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// state returns the order's state, loaded from the store when it is not in
// memory, or an ErrUnknownOrder error.
func (f *Flow) state(ctx context.Context, orderID string, bad func(error) error) (*orderState, error) {
	st, err := f.lookup(ctx, orderID, true)
	if errors.Is(err, ErrBadState) {
		return nil, bad(err)
	}
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, bad(fmt.Errorf("%w: %q", ErrUnknownOrder, orderID))
	}
	return st, nil
}

func (f *Flow) onSubmitted(ctx context.Context, ev canonical.Event, o canonical.Order, bad func(error) error) (bool, error) {
	st, err := f.lookup(ctx, o.ID, true)
	if errors.Is(err, ErrBadState) {
		return false, bad(err)
	}
	if err != nil {
		return false, err
	}
	// The order is fingerprinted in the state it becomes if it is new:
	// the encoder takes it as an interface, which would move o to the heap
	// too.
	nst := &orderState{order: o}
	fp, err := docFingerprint(&nst.order)
	if err != nil {
		return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
	}
	f.mu.Lock()
	if st == nil {
		st = f.orders[o.ID]
	}
	if st == nil {
		no := &nst.order
		if no.SubmittedAt.IsZero() {
			err = no.Submit(ev.Time)
		}
		if err != nil {
			f.mu.Unlock()
			return false, bad(fmt.Errorf("%w: %w", ErrOrderState, err))
		}
		for i := range no.Lines {
			no.Lines[i].Buckets = canonical.Buckets{}
		}
		st = nst
		st.corr, st.phase, st.dirty, st.fp = ev.CorrelationID, phaseSubmitted, true, fp
		st.released, st.alloc = map[string]canonical.FulfillmentOrder{}, map[string]*canonical.AllocationUpdate{}
		st.shipped, st.invoices = map[string]bool{}, map[string]canonical.Invoice{}
		if err := f.foldLocked(st); err != nil {
			f.mu.Unlock()
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		f.orders[o.ID] = st
	}
	st.changed = true // see deferSave
	version, ph, decided, seen := st.order.Version, st.phase, st.decision, st.fp
	f.mu.Unlock()
	if o.Version == version && seen != "" && seen != fp {
		return false, bad(fmt.Errorf("%w: order %s version %d submitted with fingerprint %s, applied with %s",
			ErrChangedDuplicate, o.ID, o.Version, fp, seen))
	}
	if o.Version > version {
		return f.onChanged(ctx, ev, o, fp, st, bad) // flow/change.go
	}
	if o.Version < version || decided {
		return true, f.publish(ctx, st)
	}
	// With the state saved in the consumer's group commit on the log's
	// database, the decision is appended in that commit too (see
	// deferDecision).
	dl := f.deferLog(ctx)
	if ph == phaseSubmitted {
		if err := f.decide(ctx, st); err != nil {
			return false, err
		}
		f.mu.Lock()
		rejected := st.phase == phaseRejected
		f.mu.Unlock()
		if rejected && dl == nil {
			// Saved before the rejection is appended: the ERP's
			// validation is not idempotent (its answer's time differs),
			// so a handler run again after a crash must append the
			// rejection it saved, not a new one under the same ID.
			if err := f.checkpoint(ctx, st); err != nil {
				return false, err
			}
		}
	}
	if dl != nil {
		if err := f.planEarly(ctx, st); err != nil {
			return false, err
		}
	}
	// The decision event is made under f.mu, from the state itself: a
	// copy of the order to encode outside would cost its lines' copy.
	f.mu.Lock()
	var t canonical.EventType
	switch st.phase {
	case phaseRejected:
		t = canonical.EventOrderRejected
	case phaseHeld:
		t = canonical.EventOrderHeld
	default:
		t = canonical.EventOrderAccepted
	}
	e, err := f.event(t, &st.order, st.order.ID, st.corr, ev, eventID("decision", st.order.ID, strconv.FormatInt(st.order.Version, 10)))
	f.mu.Unlock()
	if err != nil {
		return false, err
	}
	if dl != nil {
		if deferred, err := f.deferDecision(ctx, dl, st, e); deferred || err != nil {
			return false, err
		}
	}
	if err := f.appendOne(ctx, e); err != nil {
		return false, err
	}
	f.mu.Lock()
	st.decision = true
	if t == canonical.EventOrderAccepted {
		st.accepted, st.acceptedVersion = e.ID, st.order.Version
	}
	f.mu.Unlock()
	// Published (and saved) after the decision event is appended, so that
	// a saved decided state always has it appended.
	return false, f.publish(ctx, st)
}

// decide validates the order in the ERP and, unless it is rejected, accepts
// it there (an order on hold is recorded on hold).
func (f *Flow) decide(ctx context.Context, st *orderState) error {
	f.mu.Lock()
	o := st.order
	o.Lines = slices.Clone(o.Lines)
	f.mu.Unlock()
	ack, err := f.erp.ValidateOrder(ctx, &o)
	if err != nil {
		return err
	}
	if ack.Outcome != canonical.AckRejected {
		if ack, err = f.erp.AcceptOrder(ctx, f.key("accept", o.ID, strconv.FormatInt(o.Version, 10)), &o); err != nil {
			return err
		}
		f.landed(ctx, targetERP)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applyAckLocked(st, ack)
}

func messages(ms []canonical.AckMessage) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		s := m.Text
		if m.Field != "" {
			s = m.Field + ": " + s
		}
		out = append(out, s)
	}
	return out
}

// applyAckLocked applies the ERP's answer to the order's state.
func (f *Flow) applyAckLocked(st *orderState, ack canonical.OrderAck) error {
	o := &st.order
	t := ack.AckedAt
	if t.IsZero() {
		t = f.now()
	}
	for _, r := range ack.Refs {
		o.Refs = o.Refs.With(r)
	}
	st.messages = messages(ack.Messages)
	for _, al := range ack.Lines {
		st.messages = append(st.messages, messages(al.Messages)...)
	}
	st.dirty = true
	if ack.Outcome == canonical.AckOnHold && rejectsEvery(o.Lines, ack.Lines) {
		// No release of the hold could make a line shippable: the order
		// is rejected, as an ERP that rejects every line answers.
		ack.Outcome = canonical.AckRejected
	}
	switch ack.Outcome {
	case canonical.AckRejected:
		st.phase = phaseRejected
		if err := o.Reject(t); err != nil {
			return retry.Permanent(fmt.Errorf("flow: reject order %s: %w", o.ID, err))
		}
		return nil
	case canonical.AckOnHold:
		st.phase = phaseHeld
		st.holdLines = slices.Clone(ack.Lines)
		for _, h := range ack.Holds {
			if !h.Active() {
				continue
			}
			if err := o.PlaceHold(h); err != nil {
				return retry.Permanent(fmt.Errorf("flow: hold order %s: %w", o.ID, err))
			}
		}
		// A line the ERP rejected is rejected while the order waits: a
		// cancel request meanwhile finds nothing of it open.
		src := "erp/hold/" + o.ID + "/" + strconv.FormatInt(o.Version, 10)
		at := lineIndex(o.Lines, func(l canonical.OrderLine) string { return l.ID })
		for _, al := range ack.Lines {
			if i, ok := at[al.LineID]; ok && al.Result == canonical.LineRejected {
				l := &o.Lines[i]
				st.qevents = append(st.qevents, canonical.QuantityEvent{LineID: l.ID, Bucket: canonical.BucketRejected,
					Kind: canonical.QuantitySnapshot, Value: orderedNow(l), AsOf: t, SourceMessageID: src})
			}
		}
		return f.foldLocked(st)
	}
	if err := o.Accept(t); err != nil {
		return retry.Permanent(fmt.Errorf("flow: accept order %s: %w", o.ID, err))
	}
	st.phase = phaseAccepted
	results := map[string]canonical.AckLine{}
	for _, al := range ack.Lines {
		results[al.LineID] = al
	}
	src := "erp/ack/" + o.ID + "/" + strconv.FormatInt(o.Version, 10)
	if st.qevents == nil {
		// Room for the three events of a line shipped and invoiced in
		// one go (confirmed, shipped, invoiced): made once, not grown
		// twice.
		st.qevents = make([]canonical.QuantityEvent, 0, 3*len(o.Lines))
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		al := results[l.ID]
		if !al.PromisedDate.IsZero() {
			l.PromisedDate = al.PromisedDate
		}
		b := canonical.BucketConfirmed
		if al.Result == canonical.LineRejected {
			b = canonical.BucketRejected
		}
		st.qevents = append(st.qevents, canonical.QuantityEvent{LineID: l.ID, Bucket: b, Kind: canonical.QuantitySnapshot,
			Value: orderedNow(l), AsOf: t, SourceMessageID: src})
	}
	return f.foldLocked(st)
}

// lineIndex returns the index in s of each ID that id gives, the first
// one where an ID repeats: lookups by line ID in one pass, not one scan of
// s per line (10,000 lines took a second under Flow.mu).
func lineIndex[T any](s []T, id func(T) string) map[string]int {
	m := make(map[string]int, len(s))
	for i, x := range s {
		if _, ok := m[id(x)]; !ok {
			m[id(x)] = i
		}
	}
	return m
}

// rejectsEvery reports whether the ERP's per-line answer rejects every
// line of the order.
func rejectsEvery(lines []canonical.OrderLine, answer []canonical.AckLine) bool {
	rejected := make(map[string]bool, len(answer))
	for _, al := range answer {
		if al.Result == canonical.LineRejected {
			rejected[al.LineID] = true
		}
	}
	for _, l := range lines {
		if !rejected[l.ID] {
			return false
		}
	}
	return len(lines) > 0
}

// foldLocked recomputes the line buckets: the ledger's from the quantity
// events, allocated, backordered and picked as the sum of the latest
// allocation update of each fulfilment order.
func (f *Flow) foldLocked(st *orderState) error {
	if err := f.ledger.Fold(st.order.Lines, st.qevents); err != nil {
		return err
	}
	if len(st.alloc) == 0 {
		return nil
	}
	// The sums per order line, in the order's line order: on the stack
	// for an order of a few lines, looked up by line ID in a map beyond
	// (and for a line ID the order does not have, whose sums are checked
	// for overflow but not applied).
	lines := st.order.Lines
	var small [8]lineSums
	var sums []lineSums
	if len(lines) <= len(small) {
		sums = small[:len(lines)]
	} else {
		sums = make([]lineSums, len(lines))
	}
	var index map[string]int
	var stray map[string]lineSums
	for _, u := range st.alloc {
		for _, l := range u.Lines {
			i := -1
			if len(lines) <= len(small) {
				for j := range lines {
					if lines[j].ID == l.OrderLineID {
						i = j
						break
					}
				}
			} else {
				if index == nil {
					index = lineIndex(lines, func(l canonical.OrderLine) string { return l.ID })
				}
				if j, ok := index[l.OrderLineID]; ok {
					i = j
				}
			}
			if i >= 0 {
				if err := sums[i].add(&l); err != nil {
					return err
				}
				continue
			}
			if stray == nil {
				stray = map[string]lineSums{}
			}
			a := stray[l.OrderLineID]
			if err := a.add(&l); err != nil {
				return err
			}
			stray[l.OrderLineID] = a
		}
	}
	for i := range lines {
		if a := &sums[i]; a.set {
			bs := &lines[i].Buckets
			bs.Set(canonical.BucketAllocated, a.alloc)
			bs.Set(canonical.BucketBackordered, a.back)
			bs.Set(canonical.BucketPicked, a.picked)
		}
	}
	return nil
}

// lineSums are the allocated, backordered and picked quantities of an
// order line summed over its fulfilment orders' latest allocation updates.
type lineSums struct {
	alloc, back, picked canonical.Decimal
	set                 bool
}

// add adds the quantities of an allocation line to a.
func (a *lineSums) add(l *canonical.AllocationLine) error {
	var err error
	a.set = true
	if a.alloc, err = a.alloc.Add(l.Allocated.Value); err != nil {
		return err
	}
	if a.back, err = a.back.Add(l.Backordered.Value); err != nil {
		return err
	}
	if l.Picked != nil {
		if a.picked, err = a.picked.Add(l.Picked.Value); err != nil {
			return err
		}
	}
	return nil
}

func (f *Flow) onAccepted(ctx context.Context, ev canonical.Event, erpView canonical.Order, bad func(error) error) (bool, error) {
	st, err := f.state(ctx, erpView.ID, bad)
	if err != nil {
		return false, err
	}
	if resumed, err := f.resumeChange(ctx, erpView, st); resumed || err != nil {
		return false, err // held increases of a change sent again (flow/change.go)
	}
	f.mu.Lock()
	resumed := st.phase == phaseHeld
	if resumed {
		// The hold watcher saw the holds released in the ERP.
		o := &st.order
		t := f.now()
		for _, h := range o.Holds {
			if h.Active() {
				if err := o.ReleaseHold(h.Kind, t); err != nil {
					f.mu.Unlock()
					return false, bad(fmt.Errorf("%w: %w", ErrOrderState, err))
				}
			}
		}
		ack := canonical.OrderAck{OrderID: o.ID, OrderVersion: o.Version, Refs: erpView.Refs, Outcome: canonical.AckAccepted, AckedAt: t,
			Lines: releasedLines(o.Lines, st.holdLines, erpView.Lines)}
		if rejectsEvery(o.Lines, ack.Lines) {
			ack.Outcome = canonical.AckRejected
		}
		if err := f.applyAckLocked(st, ack); err != nil {
			f.mu.Unlock()
			return false, err
		}
		st.holdLines = nil
		if st.phase == phaseRejected { // the ERP's view rejects every line
			f.mu.Unlock()
			return false, f.publish(ctx, st)
		}
	}
	ph, plan, first := st.phase, st.plan, len(st.released) == 0
	o := st.order
	o.Lines = slices.Clone(o.Lines)
	f.mu.Unlock()
	switch ph {
	case phaseReleased:
		return true, f.publish(ctx, st)
	case phaseAccepted:
	default:
		return false, bad(fmt.Errorf("%w: order %s is %s, not accepted", ErrOrderState, o.ID, ph))
	}
	if first && !resumed && f.defers(ctx) {
		// The decision was appended in the group commit, and not
		// published before it (see deferDecision): the CRM is shown the
		// accepted order before its releases, as when onSubmitted
		// publishes it. The sequence is one the decision's save
		// reserved.
		if err := f.publish(ctx, st); err != nil {
			return false, err
		}
	}
	if plan == nil {
		p, ok, err := f.newPlan(ctx, &o)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, bad(fmt.Errorf("%w: order %s: the sourcer planned no fulfilment order", ErrOrderState, o.ID))
		}
		f.mu.Lock()
		st.plan, plan = p, p
		f.mu.Unlock()
		// Saved before any release: a new plan could choose other
		// warehouses.
		if err := f.checkpoint(ctx, st); err != nil {
			return false, err
		}
	}
	for _, fo := range plan {
		f.mu.Lock()
		_, done := st.released[fo.ID]
		f.mu.Unlock()
		if done {
			continue
		}
		sys, err := f.systemOf(fo.Warehouse)
		if err != nil {
			return false, bad(fmt.Errorf("fulfilment order %s: %w", fo.ID, err))
		}
		r, err := sys.wms.Release(ctx, fo)
		if err != nil {
			return false, err
		}
		f.landed(ctx, cmp.Or(sys.name, targetWMS))
		f.mu.Lock()
		st.released[fo.ID] = carryExtensions(r, &o) // for a WMS that does not keep them
		st.dirty = true
		f.mu.Unlock()
	}
	if err := f.publish(ctx, st); err != nil {
		return false, err
	}
	f.mu.Lock()
	st.phase = phaseReleased
	f.mu.Unlock()
	return false, nil
}

// newPlan returns the sourcing plan of the order o, and false when the
// sourcer planned no fulfilment order for an order with lines open (the
// caller reports it).
func (f *Flow) newPlan(ctx context.Context, o *canonical.Order) ([]canonical.FulfillmentOrder, bool, error) {
	p, err := f.sourcer.Plan(ctx, *o)
	if err != nil {
		return nil, false, err
	}
	for i := range p {
		p[i] = carryExtensions(p[i], o)
	}
	if len(p) == 0 && !nothingOpen(o) { // everything cancelled: nothing to release
		return nil, false, nil
	}
	return p, true, nil
}

// deferLog returns the flow's log when the decision of the order whose
// event the handler called with ctx handles is appended in the consumer's
// group commit, with the order's state (see deferDecision): an
// eventlog.SQL log whose database is the SQLState's, that the consumer
// commits in groups on; nil otherwise.
func (f *Flow) deferLog(ctx context.Context) *eventlog.SQL {
	if !f.defers(ctx) {
		return nil
	}
	if dl, ok := f.log.(*eventlog.SQL); ok && dl.Defers(ctx) {
		return dl
	}
	return nil
}

// planEarly makes the sourcing plan of an accepted order that has none,
// so that the group commit that appends its decision saves the plan with
// it (see deferDecision): onAccepted then releases it without saving
// first. An order the sourcer plans nothing for keeps no plan, and
// onAccepted reports it.
func (f *Flow) planEarly(ctx context.Context, st *orderState) error {
	f.mu.Lock()
	if st.phase != phaseAccepted || st.plan != nil {
		f.mu.Unlock()
		return nil
	}
	o := st.order
	o.Lines = slices.Clone(o.Lines)
	f.mu.Unlock()
	p, ok, err := f.newPlan(ctx, &o)
	if err != nil || !ok {
		return err
	}
	f.mu.Lock()
	st.plan = p
	f.mu.Unlock()
	return nil
}

// deferDecision defers the append of e, the order's decision, to the
// group commit that saves the order's state after the handler (deferSave),
// and reports whether it did: the decision and the decided state are
// durable together or not at all, so a saved decided state always has its
// decision appended, and a rejection (whose validation in the ERP is not
// idempotent) is never appended but from the state saved with it. The
// state saved reserves the next seqReserve status sequences, and nothing
// is published before the commit (a publication made before could be
// repeated with other content after a crash): the handler of the decision
// event publishes (onAccepted, before its releases, or recordedDecision
// for a hold or a rejection). Until the commit, st.deciding is set: a handler that
// finds it set (the commit failed, the event is handled again) loads the
// order from the store, which does not hold the decision.
func (f *Flow) deferDecision(ctx context.Context, dl *eventlog.SQL, st *orderState, e canonical.Event) (bool, error) {
	f.mu.Lock()
	mark := st.seqMark
	st.decision, st.deciding = true, true
	st.seqMark = max(st.seqMark, st.seq+seqReserve)
	f.mu.Unlock()
	deferred, err := dl.DeferAppend(ctx, func() {
		f.mu.Lock()
		st.deciding = false
		f.mu.Unlock()
	}, e)
	if !deferred {
		f.mu.Lock()
		st.decision, st.deciding, st.seqMark = false, false, mark
		f.mu.Unlock()
	}
	return deferred, err
}

// recordedDecision is the route of the flow's own order.held and
// order.rejected events: their effects were made by the handler that
// emitted them, but when it deferred their append to the group commit
// (deferDecision) it did not publish the decided status, which this
// handler does.
func recordedDecision(f *Flow, ctx context.Context, ev canonical.Event, bad func(error) error) (bool, error) {
	if ev.Source != f.source || !f.defers(ctx) {
		return false, nil
	}
	st, err := f.lookup(ctx, ev.Partition(), true)
	if errors.Is(err, ErrBadState) {
		return false, bad(err)
	}
	if err != nil || st == nil {
		return false, err
	}
	return false, f.publish(ctx, st)
}

// releasedLines returns the per-line answer of an order whose holds the
// ERP released: each line keeps the decision the ERP made when it held the
// order (held), and a line the ERP's view of the order (erpLines) shows
// rejected is rejected too; the other lines are accepted, with the promised
// date of the ERP's view, else of the held decision. A rejected line keeps
// its messages, so the CRM still shows why.
func releasedLines(lines []canonical.OrderLine, held []canonical.AckLine, erpLines []canonical.OrderLine) []canonical.AckLine {
	out := make([]canonical.AckLine, 0, len(lines))
	heldAt := lineIndex(held, func(h canonical.AckLine) string { return h.LineID })
	erpAt := lineIndex(erpLines, func(e canonical.OrderLine) string { return e.ID })
	for _, l := range lines {
		al := canonical.AckLine{LineID: l.ID, Result: canonical.LineAccepted}
		if i, ok := heldAt[l.ID]; ok {
			al.PromisedDate = held[i].PromisedDate
			if held[i].Result == canonical.LineRejected {
				al.Result, al.Messages = canonical.LineRejected, held[i].Messages
			}
		}
		if i, ok := erpAt[l.ID]; ok {
			if el := &erpLines[i]; rejectedInFull(el) { // flow/change.go
				al.Result = canonical.LineRejected
			} else if !el.PromisedDate.IsZero() {
				al.PromisedDate = el.PromisedDate
			}
		}
		if al.Result == canonical.LineRejected {
			al.PromisedDate = time.Time{}
		}
		out = append(out, al)
	}
	return out
}

// planned reports whether the order's plan has the fulfilment order.
func planned(st *orderState, foID string) bool {
	return slices.ContainsFunc(st.plan, func(fo canonical.FulfillmentOrder) bool { return fo.ID == foID })
}

func (f *Flow) onAllocation(ctx context.Context, _ canonical.Event, u canonical.AllocationUpdate, bad func(error) error) (bool, error) {
	st, err := f.state(ctx, u.OrderID, bad)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	if !planned(st, u.FulfillmentOrderID) {
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: %q of order %s", ErrUnknownFulfillment, u.FulfillmentOrderID, u.OrderID))
	}
	if err := f.checkWarehouseLocked(st, u.FulfillmentOrderID, u.Warehouse); err != nil {
		f.mu.Unlock()
		return false, bad(err)
	}
	prev, seen := st.alloc[u.FulfillmentOrderID]
	dup := seen && prev.Sequence >= u.Sequence
	if !dup {
		nu := new(canonical.AllocationUpdate)
		*nu = u
		st.alloc[u.FulfillmentOrderID] = nu
		if err := f.foldLocked(st); err != nil {
			if seen {
				st.alloc[u.FulfillmentOrderID] = prev
			} else {
				delete(st.alloc, u.FulfillmentOrderID)
			}
			_ = f.foldLocked(st)
			f.mu.Unlock()
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		st.dirty = true
	}
	f.mu.Unlock()
	if err := f.publish(ctx, st); err != nil {
		return dup, err
	}
	// Allocation, backorder, a short pick and the update that follows a
	// cancellation move available stock but no inventory sequence: the
	// CRM learns of them from a fresh read (a duplicate too: the refresh
	// of its first delivery may not have been made).
	skus := make([]string, len(u.Lines))
	for i, l := range u.Lines {
		skus[i] = l.Item.SKU
	}
	return dup, f.refreshAvailability(ctx, u.Warehouse, skus)
}

func (f *Flow) onShipped(ctx context.Context, ev canonical.Event, s canonical.Shipment, bad func(error) error) (bool, error) {
	st, err := f.state(ctx, s.OrderID, bad)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	if !planned(st, s.FulfillmentOrderID) {
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: %q of order %s", ErrUnknownFulfillment, s.FulfillmentOrderID, s.OrderID))
	}
	if err := f.checkWarehouseLocked(st, s.FulfillmentOrderID, s.Warehouse); err != nil {
		f.mu.Unlock()
		return false, bad(err)
	}
	if st.shipped[s.ID] {
		if err := changedShipment(st, s); err != nil {
			f.mu.Unlock()
			return false, bad(err)
		}
	}
	_, invoiced := st.invoices[s.ID]
	if invoiced {
		f.mu.Unlock()
		return true, f.publish(ctx, st)
	}
	if !st.shipped[s.ID] {
		qe, err := s.QuantityEvents("wms/shipment/" + s.ID)
		if err == nil {
			// Folded in place; a shipment the ledger refuses is taken
			// out again and the order folded as it was.
			n := len(st.qevents)
			st.qevents = append(st.qevents, qe...)
			if err = f.foldLocked(st); err != nil {
				st.qevents = st.qevents[:n]
			}
		}
		if err != nil {
			_ = f.foldLocked(st)
			f.mu.Unlock()
			return false, bad(fmt.Errorf("%w: shipment %s: %w", ErrBadEvent, s.ID, err))
		}
		st.shipped[s.ID] = true
		st.ships = append(st.ships, s)
		st.dirty = true
	}
	f.mu.Unlock()
	inv, err := f.erp.PostShipment(ctx, f.key("post_shipment", s.OrderID, s.ID), s)
	if err != nil {
		return false, err
	}
	f.landed(ctx, targetERP)
	f.mu.Lock()
	var qe []canonical.QuantityEvent
	src := "erp/invoice/" + inv.ID
	for _, l := range s.Lines {
		qe = append(qe, canonical.QuantityEvent{LineID: l.OrderLineID, Bucket: canonical.BucketInvoiced,
			Kind: canonical.QuantityDelta, Value: l.Quantity.Value, AsOf: s.ShippedAt, SourceMessageID: src})
	}
	qe = mergeEvents(qe)
	st.qevents = append(st.qevents, qe...)
	if err := f.foldLocked(st); err != nil {
		st.qevents = st.qevents[:len(st.qevents)-len(qe)]
		_ = f.foldLocked(st)
		f.mu.Unlock()
		return false, retry.Permanent(fmt.Errorf("flow: invoice %s of shipment %s: %w", inv.Number, s.ID, err))
	}
	st.invoices[s.ID] = carryInvoiceExtensions(inv, &st.order)
	st.invOrder = append(st.invOrder, s.ID)
	st.dirty = true
	f.mu.Unlock()
	return false, f.publish(ctx, st)
}

// docFingerprint returns the fingerprint of a document: the hex SHA-256 of
// its canonical encoding (canonical.Encode), the first 16 bytes of it.
func docFingerprint(d canonical.Document) (string, error) {
	bp := docBuffers.Get().(*[]byte)
	b, err := canonical.AppendEncode((*bp)[:0], d)
	var sum [sha256.Size]byte
	if err == nil {
		sum = sha256.Sum256(b)
		if cap(b) <= maxPooledDoc {
			*bp = b
		}
	}
	docBuffers.Put(bp)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sum[:16]), nil
}

// docBuffers holds the buffers docFingerprint encodes in (*[]byte); one
// grown beyond maxPooledDoc is left to the collector.
var docBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 4096)
	return &b
}}

const maxPooledDoc = 64 << 10

// changedShipment returns an ErrChangedDuplicate error when the order has
// applied a shipment of s's ID with other content. The caller holds f.mu.
func changedShipment(st *orderState, s canonical.Shipment) error {
	i := slices.IndexFunc(st.ships, func(x canonical.Shipment) bool { return x.ID == s.ID })
	if i < 0 {
		return nil
	}
	was, err1 := docFingerprint(st.ships[i])
	now, err2 := docFingerprint(s)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%w: shipment %s: %w", ErrBadEvent, s.ID, err)
	}
	if was != now {
		return fmt.Errorf("%w: shipment %s of order %s with fingerprint %s, applied with %s", ErrChangedDuplicate, s.ID, s.OrderID, now, was)
	}
	return nil
}

// mergeEvents sums events of the same line, which the ledger would
// otherwise count once.
func mergeEvents(qe []canonical.QuantityEvent) []canonical.QuantityEvent {
	out := qe[:0]
	at := make(map[string]int, len(qe))
	for _, e := range qe {
		i, ok := at[e.LineID]
		if !ok {
			at[e.LineID] = len(out)
			out = append(out, e)
			continue
		}
		if v, err := out[i].Value.Add(e.Value); err == nil {
			out[i].Value = v
		}
	}
	return out
}

// publish shows the order's state in the CRM when it changed since the
// last publication.
func (f *Flow) publish(ctx context.Context, st *orderState) error {
	f.mu.Lock()
	if !st.dirty {
		f.mu.Unlock()
		return nil
	}
	st.seq++
	s := st.statusLocked(f.now())
	// Saved before it is published: the CRM ignores a sequence it has
	// seen, so a sequence must never be used again for other content.
	// When the state is saved in the consumer's group commit, a save
	// reserves seqReserve sequences and the publications within them need
	// no save before (the state is saved after the handler, see
	// deferSave): a restarted flow publishes above them.
	save, mark := true, st.seqMark
	if f.defers(ctx) {
		if st.seq <= st.seqMark {
			save = false
		} else {
			st.seqMark = st.seq + seqReserve - 1
		}
	}
	f.mu.Unlock()
	if save {
		if err := f.checkpoint(ctx, st); err != nil {
			f.mu.Lock()
			st.seqMark = mark // not reserved
			f.mu.Unlock()
			return err
		}
	}
	if err := f.crm.PublishStatus(ctx, s); err != nil {
		return err
	}
	f.landed(ctx, targetCRM)
	f.mu.Lock()
	if st.seq == s.Sequence {
		st.dirty = false
	}
	f.mu.Unlock()
	return nil
}

// statusLocked returns what the CRM should show of the order.
func (st *orderState) statusLocked(now time.Time) connector.OrderStatus {
	o := &st.order
	s := connector.OrderStatus{OrderID: o.ID, Sequence: st.seq, Status: o.Status(), Messages: slices.Clone(st.messages), UpdatedAt: now}
	if len(o.Lines) > 0 {
		s.Lines = make([]connector.LineStatus, 0, len(o.Lines))
	}
	s.Extensions = o.Extensions.Clone()
	for _, h := range o.Holds {
		if h.Active() {
			s.Holds = append(s.Holds, h)
		}
	}
	for _, l := range o.Lines {
		u := l.Quantity.Unit
		bs := l.Buckets
		s.Lines = append(s.Lines, connector.LineStatus{LineID: l.ID,
			Ordered:     canonical.NewQuantity(bs.Get(canonical.BucketOrdered), u),
			Shipped:     canonical.NewQuantity(bs.Get(canonical.BucketShipped), u),
			Backordered: canonical.NewQuantity(bs.Get(canonical.BucketBackordered), u),
			Cancelled:   canonical.NewQuantity(bs.Get(canonical.BucketCancelled), u),
			Returned:    canonical.NewQuantity(bs.Get(canonical.BucketReturned), u)})
		if !l.PromisedDate.IsZero() && (s.PromisedDate.IsZero() || l.PromisedDate.Before(s.PromisedDate)) {
			s.PromisedDate = l.PromisedDate
		}
	}
	for _, sh := range st.ships {
		s.TrackingNumbers = append(s.TrackingNumbers, sh.TrackingNumbers...)
	}
	s.Returns = st.returnsLocked()
	if st.change != nil {
		s.Changes = slices.Clone(st.change.results)
	}
	return s
}

// CheckHolds re-reads from the ERP every order the flow holds on hold and,
// for each whose holds the ERP has released, appends an order.accepted
// event that resumes it. It returns how many it resumed: 0 for a flow made
// by NewInventorySync, which has no orders.
//
// The reads run Config.Workers at a time, and a read the ERP fails gives
// its place up while the decorators wait to retry it
// (retry.ReleaseWhileWaiting), so that it costs its own order time, not
// every held order's; the resuming events are appended in order ID order
// once every read returned.
func (f *Flow) CheckHolds(ctx context.Context) (int, error) {
	if !f.otc {
		return 0, nil
	}
	held, err := f.heldOrders(ctx)
	if err != nil {
		return 0, err
	}
	// A handler may change an order's version meanwhile (onChanged): what
	// the checks need of the states is read under f.mu.
	f.mu.Lock()
	slices.SortFunc(held, func(a, b *orderState) int { return strings.Compare(a.order.ID, b.order.ID) })
	// The check is part of the order's flow: it carries the order's
	// correlation ID, and the decision that held it as its cause, so the
	// call (and its failures) shows in the order's timeline.
	type check struct {
		id    string
		corr  string
		cause canonical.Event
		order canonical.Order
		err   error
		read  bool // the ERP was asked
	}
	checks := make([]check, len(held))
	for i, st := range held {
		c := &checks[i]
		c.id = st.order.ID
		c.cause = canonical.Event{ID: eventID("decision", c.id, strconv.FormatInt(st.order.Version, 10))}
		c.corr = st.corr
	}
	f.mu.Unlock()
	// A reader holds a place of sem while it calls, not while the
	// decorators wait to retry a call: then a spare reader takes the place,
	// so that Config.Workers reads are under way while there are orders
	// to read, however many wait.
	sem := make(chan struct{}, max(f.holdReaders, 1))
	var next atomic.Int64
	var wg sync.WaitGroup
	var reader func()
	spare := func() {
		if int(next.Load()) < len(checks) {
			wg.Go(reader)
		}
	}
	reader = func() {
		place := &readerPlace{slot: slot{sem: sem}, spare: spare}
		if place.Acquire(ctx) != nil {
			return
		}
		defer place.slot.Release()
		rctx := retry.ReleaseWhileWaiting(ctx, place)
		for i := int(next.Add(1) - 1); i < len(checks); i = int(next.Add(1) - 1) {
			c := &checks[i]
			octx := tracing.WithCausationID(tracing.WithCorrelationID(rctx, c.corr), c.cause.ID)
			c.order, c.err = f.erp.GetOrder(octx, c.id)
			c.read = true
			if !place.held {
				return // ctx ended while the call waited
			}
		}
	}
	for range min(f.holdReaders, len(checks)) {
		wg.Go(reader)
	}
	wg.Wait()
	for i := range checks {
		if !checks[i].read {
			checks[i].err = context.Cause(ctx) // not read: ctx ended
		}
	}
	n := 0
	var errs []error
	for i, st := range held {
		id, c := checks[i].id, &checks[i]
		if c.err != nil {
			errs = append(errs, fmt.Errorf("flow: check holds of order %s: %w", id, c.err))
			continue
		}
		o := c.order
		if slices.ContainsFunc(o.Holds, canonical.Hold.Active) || o.AcceptedAt.IsZero() {
			continue
		}
		if err := f.emit(ctx, canonical.EventOrderAccepted, o, id, c.corr, c.cause, eventID("resume", id, strconv.FormatInt(o.Version, 10))); err != nil {
			errs = append(errs, err)
			continue
		}
		f.mu.Lock()
		st.resumed, st.changed = true, true
		f.mu.Unlock()
		if err := f.checkpoint(ctx, st); err != nil {
			errs = append(errs, err)
		}
		n++
	}
	return n, errors.Join(errs...)
}
