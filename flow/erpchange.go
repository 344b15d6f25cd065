// This file owns the ERP's own changes of an order it has accepted
// (order.amended events on the ERP's feed): a price correction, a line
// rejected later, a reduced confirmed quantity, a new promised date. They
// reach the CRM and, where they change what to ship, the warehouses.

package flow

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// amendState is what the flow keeps of the ERP's amendments of one order:
// the latest revision it took up and how far it got with it, and what it
// withholds from the warehouses for the ERP's confirmed quantities. It is
// encoded as it is in the order's stored state.
type amendState struct {
	// Rev and Key name the latest amendment taken up (its revision, and
	// the event's source and the amendment's ID).
	Rev int64  `json:"rev"`
	Key string `json:"key"`
	// Folded: its quantities, prices and dates are in the order; Reported:
	// the ERP was told what the warehouses kept; Done: the CRM was shown
	// the result.
	Folded   bool `json:"folded,omitempty"`
	Reported bool `json:"reported,omitempty"`
	Done     bool `json:"done,omitempty"`
	// Kept are the rejected quantities the flow could not honour (picked
	// or shipped), to report to the ERP.
	Kept []connector.LineQuantity `json:"kept,omitempty"`
	// Withheld is, per order line, the open quantity the flow took away
	// from the warehouses (or never released) because the ERP confirmed
	// less than is open. It carries over from revision to revision.
	Withheld map[string]canonical.Decimal `json:"withheld,omitempty"`
	// Results are what was applied and refused of the latest amendment's
	// quantities, per order line.
	Results []canonical.ChangeResult `json:"results,omitempty"`
}

func orderOfAmendment(a canonical.OrderAmendment) (string, bool) { return a.OrderID, true }

// amendLine is the flow's plan for one amended line, before the
// warehouses are asked.
type amendLine struct {
	line       *canonical.AmendedLine
	id         string
	unit       canonical.Unit
	rejAsked   canonical.Decimal // the rise of the rejected bucket asked for
	rejShipped canonical.Decimal // of it, refused: more than is unshipped
	withheld   canonical.Decimal // withheld after the amendment, before the warehouses answer
	cut        canonical.Decimal // to take away from the warehouses
	curConf    canonical.Decimal
	raised     bool // the ERP confirmed more than the warehouses hold: nothing more is released
}

// onAmended carries an amendment of the ERP (see [canonical.OrderAmendment])
// to the order:
//
//   - Revisions are ordered: an amendment at or below the revision taken
//     up is a duplicate and changes nothing; the same revision with
//     another ID is ErrChangedDuplicate.
//   - A higher rejected total is booked in the ledger as a rejected
//     quantity delta (source "erp/amend/ORDER/REVISION"), up to what is
//     unshipped; a lower one is ErrBadEvent. A confirmed total below what
//     is open withholds the rest from the warehouses; above it, it gives
//     back what was withheld (nothing more is released).
//   - On a released order, the open quantity that no longer ships is
//     taken away from the warehouses, each fulfilment order in plan order,
//     with ReleaseChanger (found with connector.As) or else CancelRelease,
//     under keys derived from ("erp_amend", order ID, revision, fulfilment
//     order ID). What a warehouse refuses (picked, packed, shipped) stays
//     to ship: the rejection is booked without it, the ERP is told with
//     [connector.AmendmentReporter] when it has one, and the CRM's
//     messages give the reason. On an order not released yet a
//     withholding is ErrOrderState (the sourcer plans the open quantity):
//     replay the amendment once the order is released.
//   - Prices and promised dates are set on the order's lines; the CRM is
//     shown the promised date and, in its messages, each correction.
func (f *Flow) onAmended(ctx context.Context, ev canonical.Event, a canonical.OrderAmendment, bad func(error) error) (bool, error) {
	st, err := f.state(ctx, a.OrderID, bad)
	if err != nil {
		return false, err
	}
	key := ev.Source + "/" + a.ID
	f.mu.Lock()
	as := st.amend
	switch {
	case as != nil && a.Revision == as.Rev && key != as.Key:
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: order %s revision %d is amendment %s, applied as %s", ErrChangedDuplicate, a.OrderID, a.Revision, key, as.Key))
	case as != nil && (a.Revision < as.Rev || a.Revision == as.Rev && as.Done):
		f.mu.Unlock()
		return true, f.publish(ctx, st)
	}
	if err := checkAmendment(&st.order, a); err != nil {
		f.mu.Unlock()
		return false, bad(err)
	}
	switch {
	case as == nil || a.Revision > as.Rev:
		next := &amendState{Rev: a.Revision, Key: key}
		if as != nil {
			next.Withheld = as.Withheld
		}
		st.amend, as = next, next
	}
	ph := st.phase
	released := len(st.released) > 0
	partial := len(st.released) > 0 && len(st.released) < len(st.plan)
	folded := as.Folded
	corr := st.corr
	f.mu.Unlock()
	switch {
	case ph == phaseSubmitted:
		return false, bad(fmt.Errorf("%w: amendment %s: order %s is not decided by the ERP yet", ErrOrderState, a.ID, a.OrderID))
	case ph == phaseRejected:
		return false, bad(fmt.Errorf("%w: amendment %s: order %s is rejected", ErrOrderState, a.ID, a.OrderID))
	case partial:
		return false, bad(fmt.Errorf("%w: amendment %s: the release of order %s is incomplete; replay it first", ErrOrderState, a.ID, a.OrderID))
	}
	if !folded {
		f.mu.Lock()
		plan, err := planAmendment(st, a)
		f.mu.Unlock()
		if err != nil {
			return false, bad(err)
		}
		got := map[string]cutResult{}
		if released {
			if got, err = f.cutReleases(tracing.WithCorrelationID(ctx, corr), st, a, plan); err != nil {
				return false, err
			}
		} else {
			// No warehouse holds the order: what no longer ships is not
			// released. The sourcer plans the open quantity, so a
			// withholding must wait for the release.
			f.mu.Lock()
			w0 := st.amend.Withheld
			f.mu.Unlock()
			for _, p := range plan {
				if p.withheld.Cmp(w0[p.id]) > 0 {
					return false, bad(fmt.Errorf("%w: amendment %s: order %s is not released; the ERP's confirmed quantity is applied once it is: replay it then", ErrOrderState, a.ID, a.OrderID))
				}
				got[p.id] = cutResult{applied: p.cut}
			}
		}
		if err := f.foldAmendment(st, as, a, plan, got); err != nil {
			return false, err
		}
	}
	f.mu.Lock()
	kept, reported := as.Kept, as.Reported
	f.mu.Unlock()
	if len(kept) > 0 && !reported {
		if ar, ok := connector.As[connector.AmendmentReporter](f.erp); ok {
			r := connector.AmendmentReport{OrderID: a.OrderID, AmendmentID: a.ID, Revision: a.Revision, Kept: kept,
				Reason: "picked or shipped before the amendment reached the warehouse"}
			if _, err := ar.ReportAmendment(tracing.WithCorrelationID(ctx, corr), f.key("erp_amend_report", a.OrderID, key), r); err != nil {
				return false, err
			}
			f.landed(ctx, targetERP)
		}
		f.mu.Lock()
		as.Reported = true
		f.mu.Unlock()
	}
	if err := f.publish(ctx, st); err != nil {
		return false, err
	}
	f.mu.Lock()
	as.Done = true
	f.mu.Unlock()
	f.logger.InfoContext(ctx, "flow: ERP amendment applied", "order", a.OrderID, "amendment", a.ID, "revision", a.Revision)
	return false, nil
}

// checkAmendment checks that the amendment's lines are lines of the order,
// in their units and currency. The caller holds f.mu.
func checkAmendment(o *canonical.Order, a canonical.OrderAmendment) error {
	var fes []canonical.FieldError
	at := lineIndex(o.Lines, func(l canonical.OrderLine) string { return l.ID })
	for i, l := range a.Lines {
		p := "lines[" + strconv.Itoa(i) + "]"
		j, ok := at[l.LineID]
		if !ok {
			fes = append(fes, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("order %s has no line %q", o.ID, l.LineID)})
			continue
		}
		ol := &o.Lines[j]
		for _, q := range []struct {
			name string
			q    *canonical.Quantity
		}{{"rejected", l.Rejected}, {"confirmed", l.Confirmed}} {
			if q.q != nil && q.q.Unit != ol.Quantity.Unit {
				fes = append(fes, canonical.FieldError{Field: p + "." + q.name + ".unit", Message: fmt.Sprintf("must be the line's unit %s, is %s", ol.Quantity.Unit, q.q.Unit)})
			}
		}
		if l.Rejected != nil && l.Rejected.Value.Cmp(ol.Buckets.Get(canonical.BucketRejected)) < 0 {
			fes = append(fes, canonical.FieldError{Field: p + ".rejected.value", Message: fmt.Sprintf("a rejection is not taken back: must not be below the line's rejected %s, is %s",
				ol.Buckets.Get(canonical.BucketRejected), l.Rejected.Value)})
		}
		if l.UnitPrice != nil && l.UnitPrice.Currency != o.Currency {
			fes = append(fes, canonical.FieldError{Field: p + ".unitPrice.currency", Message: fmt.Sprintf("must be the order's currency %s, is %s", o.Currency, l.UnitPrice.Currency)})
		}
	}
	if fes == nil {
		return nil
	}
	return fmt.Errorf("%w: amendment %s: %w", ErrBadEvent, a.ID, &canonical.ValidationError{Kind: canonical.KindOrderAmendment, Errors: fes})
}

// planAmendment computes, per amended line, what the amendment rejects,
// withholds and takes away from the warehouses. The caller holds f.mu.
func planAmendment(st *orderState, a canonical.OrderAmendment) ([]amendLine, error) {
	at := lineIndex(st.order.Lines, func(l canonical.OrderLine) string { return l.ID })
	var out []amendLine
	for i := range a.Lines {
		al := &a.Lines[i]
		ol := &st.order.Lines[at[al.LineID]]
		bs := &ol.Buckets
		p := amendLine{line: al, id: ol.ID, unit: ol.Quantity.Unit, curConf: bs.Get(canonical.BucketConfirmed)}
		w0 := st.amend.Withheld[ol.ID]
		var c calc
		net0, err := bs.NetOrdered()
		if err != nil {
			return nil, err
		}
		shipped := bs.Get(canonical.BucketShipped)
		unshipped := c.sub(net0, shipped).Max(canonical.Decimal{})
		if al.Rejected != nil {
			p.rejAsked = c.sub(al.Rejected.Value, bs.Get(canonical.BucketRejected))
			ok := p.rejAsked.Min(unshipped)
			p.rejShipped = c.sub(p.rejAsked, ok)
			p.rejAsked = ok
		}
		net1 := c.sub(net0, p.rejAsked)
		open1 := c.sub(net1, shipped).Max(canonical.Decimal{})
		// Without a new confirmation, a rejection takes what is withheld
		// first: what ships stays the confirmed quantity.
		w1 := c.sub(net1, p.curConf).Max(canonical.Decimal{}).Min(w0).Min(open1)
		if al.Confirmed != nil {
			w1 = c.sub(net1, al.Confirmed.Value).Max(canonical.Decimal{}).Min(open1)
		}
		at0 := c.sub(c.sub(net0, shipped), w0).Max(canonical.Decimal{})
		at1 := c.sub(open1, w1)
		p.cut = c.sub(at0, at1)
		if p.cut.IsNeg() {
			// The ERP confirms more than the warehouses hold: the flow
			// releases nothing more, and withholds what it does not.
			p.raised = true
			w1 = c.sub(open1, at0).Max(canonical.Decimal{})
			p.cut = canonical.Decimal{}
		}
		p.withheld = w1
		if c.err != nil {
			return nil, fmt.Errorf("%w: amendment %s line %s: %w", ErrBadEvent, a.ID, ol.ID, c.err)
		}
		out = append(out, p)
	}
	return out, nil
}

// calc does decimal arithmetic, keeping the first error.
type calc struct{ err error }

func (c *calc) sub(x, y canonical.Decimal) canonical.Decimal {
	v, err := x.Sub(y)
	if err != nil && c.err == nil {
		c.err = err
	}
	return v
}

func (c *calc) add(x, y canonical.Decimal) canonical.Decimal {
	v, err := x.Add(y)
	if err != nil && c.err == nil {
		c.err = err
	}
	return v
}

// cutResult is what the warehouses took away of one order line's cut, and
// why they refused the rest.
type cutResult struct {
	applied canonical.Decimal
	reason  canonical.ChangeReason
}

// cutReleases takes each line's cut away from the fulfilment orders that
// hold the line, in plan order, and returns what the warehouses took away
// per order line.
func (f *Flow) cutReleases(ctx context.Context, st *orderState, a canonical.OrderAmendment, plan []amendLine) (map[string]cutResult, error) {
	want := map[string]canonical.Decimal{}
	for _, p := range plan {
		if p.cut.IsPos() {
			want[p.id] = p.cut
		}
	}
	out := map[string]cutResult{}
	if len(want) == 0 {
		return out, nil
	}
	f.mu.Lock()
	var fos []canonical.FulfillmentOrder
	for _, fo := range st.plan {
		if rel, ok := st.released[fo.ID]; ok {
			fos = append(fos, rel)
		}
	}
	f.mu.Unlock()
	rev := strconv.FormatInt(a.Revision, 10)
	var c calc
	for _, fo := range fos {
		lineOf := map[string]string{}
		var lines []connector.ReleaseLineChange
		for _, fl := range fo.Lines {
			lineOf[fl.ID] = fl.OrderLineID
			if n := want[fl.OrderLineID].Min(fl.Quantity.Value); n.IsPos() {
				lines = append(lines, connector.ReleaseLineChange{LineID: fl.ID, Delta: canonical.NewQuantity(n.Neg(), fl.Quantity.Unit)})
			}
		}
		if len(lines) == 0 {
			continue
		}
		sys, err := f.systemOf(fo.Warehouse)
		if err != nil {
			return nil, fmt.Errorf("flow: amendment %s of fulfilment order %s: %w", a.ID, fo.ID, err)
		}
		reason := "ERP amendment " + a.ID
		if a.Reason != "" {
			reason += ": " + a.Reason
		}
		key := f.key("erp_amend", a.OrderID, rev, fo.ID)
		taken := map[string]cutResult{} // by fulfilment line
		if rc, ok := connector.As[connector.ReleaseChanger](sys.wms); ok {
			res, err := rc.ChangeRelease(ctx, key, connector.ReleaseChange{FulfillmentOrderID: fo.ID, Lines: lines, Reason: reason})
			if err != nil {
				return nil, err
			}
			for _, r := range res.Results {
				if r.Field != canonical.ChangeFieldQuantity || r.Applied == nil {
					continue
				}
				taken[r.LineID] = cutResult{applied: r.Applied.Value.Abs(), reason: r.Reason}
			}
		} else {
			req := connector.CancelRequest{FulfillmentOrderID: fo.ID, Reason: reason}
			for _, l := range lines {
				req.Lines = append(req.Lines, connector.LineQuantity{LineID: l.LineID, Quantity: canonical.NewQuantity(l.Delta.Value.Abs(), l.Delta.Unit)})
			}
			res, err := sys.wms.CancelRelease(ctx, key, req)
			if err != nil {
				return nil, err
			}
			for _, q := range res.Cancelled {
				taken[q.LineID] = cutResult{applied: q.Quantity.Value, reason: canonical.ChangeReasonPicked}
			}
		}
		f.landed(ctx, targetWMS)
		for _, l := range lines {
			ol := lineOf[l.LineID]
			t, ok := taken[l.LineID]
			if t.applied.Cmp(l.Delta.Value.Abs()) > 0 || t.applied.IsNeg() {
				return nil, retry.Permanent(fmt.Errorf("flow: amendment %s: the WMS took %s of fulfilment line %s of %s, asked %s", a.ID, t.applied, l.LineID, fo.ID, l.Delta.Value.Abs()))
			}
			r := out[ol]
			r.applied = c.add(r.applied, t.applied)
			if ok && t.reason != "" {
				r.reason = t.reason
			}
			out[ol] = r
			want[ol] = c.sub(want[ol], t.applied)
		}
	}
	if c.err != nil {
		return nil, retry.Permanent(fmt.Errorf("flow: amendment %s: %w", a.ID, c.err))
	}
	return out, nil
}

// foldAmendment books what the amendment changed: rejected and confirmed
// quantity deltas, the withheld quantities, prices and promised dates, and
// the messages and results the CRM is shown.
func (f *Flow) foldAmendment(st *orderState, as *amendState, a canonical.OrderAmendment, plan []amendLine, got map[string]cutResult) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if as.Folded {
		return nil
	}
	src := "erp/amend/" + a.OrderID + "/" + strconv.FormatInt(a.Revision, 10)
	// A delta at or before a bucket's snapshot is covered by it: the
	// amendment's deltas are dated after the snapshots of the ERP's
	// acceptance, which the ERP made before it.
	asOf := func(line string, b canonical.Bucket) time.Time {
		t := a.AmendedAt
		for _, e := range st.qevents {
			if e.LineID == line && e.Bucket == b && e.Kind == canonical.QuantitySnapshot && !t.After(e.AsOf) {
				t = e.AsOf.Add(time.Nanosecond)
			}
		}
		return t
	}
	var c calc
	var qe []canonical.QuantityEvent
	var msgs []string
	var results []canonical.ChangeResult
	var kept []connector.LineQuantity
	withheld := map[string]canonical.Decimal{}
	for k, v := range as.Withheld {
		withheld[k] = v
	}
	at := lineIndex(st.order.Lines, func(l canonical.OrderLine) string { return l.ID })
	for _, p := range plan {
		ol := &st.order.Lines[at[p.id]]
		refused := c.sub(p.cut, got[p.id].applied).Max(canonical.Decimal{})
		if !p.cut.IsPos() {
			refused = canonical.Decimal{}
		}
		rejRefused := refused.Min(p.rejAsked)
		withRefused := c.sub(refused, rejRefused)
		rej := c.sub(p.rejAsked, rejRefused)
		w := c.sub(p.withheld, withRefused).Max(canonical.Decimal{})
		if w.IsPos() {
			withheld[p.id] = w
		} else {
			delete(withheld, p.id)
		}
		if rej.IsPos() {
			qe = append(qe, canonical.QuantityEvent{LineID: p.id, Bucket: canonical.BucketRejected, Kind: canonical.QuantityDelta,
				Value: rej, AsOf: asOf(p.id, canonical.BucketRejected), SourceMessageID: src})
		}
		if notRej := c.add(p.rejShipped, rejRefused); notRej.IsPos() {
			kept = append(kept, connector.LineQuantity{LineID: p.id, Quantity: canonical.NewQuantity(notRej, p.unit)})
		}
		if p.line.Rejected != nil || p.line.Confirmed != nil {
			// Confirmed is what is to ship in total: the open quantity
			// after the rejection, less what is withheld.
			net, err := ol.Buckets.NetOrdered()
			if err != nil {
				return retry.Permanent(fmt.Errorf("flow: amendment %s line %s: %w", a.ID, p.id, err))
			}
			conf := c.sub(c.sub(net, rej), w)
			if d := c.sub(conf, p.curConf); !d.IsZero() && p.line.Confirmed != nil {
				qe = append(qe, canonical.QuantityEvent{LineID: p.id, Bucket: canonical.BucketConfirmed, Kind: canonical.QuantityDelta,
					Value: d, AsOf: asOf(p.id, canonical.BucketConfirmed), SourceMessageID: src})
			}
		}
		if asked := c.add(p.rejAsked, p.rejShipped); asked.IsPos() {
			reason := got[p.id].reason
			if p.rejShipped.IsPos() && !rejRefused.IsPos() {
				reason = canonical.ChangeReasonShipped
			}
			r, err := canonical.QuantityResult(p.id, canonical.NewQuantity(asked.Neg(), p.unit), canonical.NewQuantity(rej.Neg(), p.unit), reason, false)
			if err != nil {
				return retry.Permanent(fmt.Errorf("flow: amendment %s line %s: %w", a.ID, p.id, err))
			}
			results = append(results, r)
			switch r.Outcome {
			case canonical.ChangeApplied:
				msgs = append(msgs, fmt.Sprintf("line %s: %s rejected by the ERP", p.id, canonical.NewQuantity(rej, p.unit)))
			default:
				msgs = append(msgs, fmt.Sprintf("line %s: the ERP rejected %s; %s stays to ship (%s)", p.id,
					canonical.NewQuantity(asked, p.unit), canonical.NewQuantity(c.sub(asked, rej), p.unit), r.Reason))
			}
		}
		if p.line.Confirmed != nil {
			switch {
			case withRefused.IsPos():
				msgs = append(msgs, fmt.Sprintf("line %s: the ERP confirmed %s; %s more stays to ship (%s)", p.id, *p.line.Confirmed,
					canonical.NewQuantity(withRefused, p.unit), got[p.id].reason))
			case p.raised:
				msgs = append(msgs, fmt.Sprintf("line %s: the ERP confirmed %s; the warehouses keep what they hold (releasing more is not supported)", p.id, *p.line.Confirmed))
			default:
				msgs = append(msgs, fmt.Sprintf("line %s: the ERP confirmed %s", p.id, *p.line.Confirmed))
			}
		}
	}
	if c.err != nil {
		return retry.Permanent(fmt.Errorf("flow: amendment %s: %w", a.ID, c.err))
	}
	if len(qe) > 0 {
		lines := slices.Clone(st.order.Lines)
		if err := f.ledger.Fold(lines, append(slices.Clone(st.qevents), qe...)); err != nil {
			return retry.Permanent(fmt.Errorf("flow: amendment %s of order %s: %w", a.ID, a.OrderID, err))
		}
		for _, e := range qe {
			l := lines[at[e.LineID]]
			was := st.order.Lines[at[e.LineID]].Buckets.Get(e.Bucket)
			if now := l.Buckets.Get(e.Bucket); c.sub(now, was).Cmp(e.Value) != 0 {
				return retry.Permanent(fmt.Errorf("flow: amendment %s of order %s: the %s delta of line %s does not fold", a.ID, a.OrderID, e.Bucket, e.LineID))
			}
		}
		for _, l := range lines {
			if overCancelled(&l) {
				return retry.Permanent(fmt.Errorf("flow: amendment %s of order %s: line %s would reject more than is open: %s", a.ID, a.OrderID, l.ID, l.Buckets))
			}
		}
		st.qevents = append(st.qevents, qe...)
		if err := f.foldLocked(st); err != nil {
			st.qevents = st.qevents[:len(st.qevents)-len(qe)]
			_ = f.foldLocked(st)
			return retry.Permanent(fmt.Errorf("flow: amendment %s of order %s: %w", a.ID, a.OrderID, err))
		}
	}
	for _, p := range plan {
		ol := &st.order.Lines[at[p.id]]
		if p.line.UnitPrice != nil && (p.line.UnitPrice.Currency != ol.UnitPrice.Currency || p.line.UnitPrice.Amount.Cmp(ol.UnitPrice.Amount) != 0) {
			msgs = append(msgs, fmt.Sprintf("line %s: unit price corrected from %s to %s", p.id, ol.UnitPrice, *p.line.UnitPrice))
			ol.UnitPrice = *p.line.UnitPrice
		}
		if p.line.PromisedDate != nil && !p.line.PromisedDate.Equal(ol.PromisedDate) {
			if p.line.PromisedDate.IsZero() {
				msgs = append(msgs, fmt.Sprintf("line %s: promised date withdrawn", p.id))
			} else {
				msgs = append(msgs, fmt.Sprintf("line %s: promised for %s", p.id, p.line.PromisedDate.Format(time.DateOnly)))
			}
			ol.PromisedDate = *p.line.PromisedDate
		}
	}
	head := "ERP amendment " + a.ID
	if a.Reason != "" {
		head += " (" + a.Reason + ")"
	}
	if len(msgs) == 0 {
		msgs = []string{"no change"}
	}
	st.messages = append(st.messages, head+": "+strings.Join(msgs, "; "))
	as.Kept, as.Results = kept, results
	as.Withheld = withheld
	if len(withheld) == 0 {
		as.Withheld = nil
	}
	as.Folded = true
	st.dirty = true
	return nil
}
