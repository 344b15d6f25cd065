package erp

// ChangeOrder: the ERP's decision on a change of an order it has accepted
// (connector.OrderChanger).

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// changeRecord is a ChangeOrder call, kept by key.
type changeRecord struct {
	fp  [32]byte
	ack canonical.ChangeAck
}

var _ connector.OrderChanger = (*Memory)(nil)

// ChangeOrder implements [connector.OrderChanger]: it decides a change of
// an order the ERP has recorded, computed with [canonical.DiffOrders]
// from the version the ERP holds, and applies what it accepts:
//
//   - A decrease (or a removed line) is applied up to what is open and
//     not shipped (ordered − cancelled − rejected − shipped), as cancelled
//     quantity; the rest is refused for [canonical.ChangeReasonShipped].
//   - An increase (or an added line) is priced from the price list for
//     the line's new quantity (a better quantity break reprices the line,
//     with a message), and granted up to the available to promise; the
//     rest is refused for [canonical.ChangeReasonStock] and recorded as
//     ordered and rejected. An unknown or unpriced item, or a unit the
//     item is not sold in, is refused for [canonical.ChangeReasonItem]; a
//     blocked customer's increases for [canonical.ChangeReasonCustomer].
//   - When the added value (with tax, less the value taken away) would
//     take the customer over the credit limit, every increase is held
//     ([canonical.ChangeHeld], [canonical.ChangeReasonCredit]) and a
//     credit hold is placed on the order; nothing of them is recorded, so
//     a held change is sent again (with another key, as a later version)
//     once the hold is released. Decreases are applied all the same.
//   - A new requested date of a line, the ship-to, ship-complete and the
//     order's requested dates are applied; once everything of a line (or
//     the order) has shipped, its date changes are refused for
//     [canonical.ChangeReasonShipped], and ship-complete once anything
//     has shipped.
//   - A cancelled or closed order refuses everything for
//     [canonical.ChangeReasonClosed].
//
// The decided version is the order's version afterwards, whatever was
// refused. A change whose ToVersion the ERP holds or has passed changes
// nothing: every part is refused for [canonical.ChangeReasonStale].
//
// It is idempotent by key: the same key with the same change returns the
// first ack and changes nothing; with another change it is CodeConflict.
// CodeInvalid for a change that breaks [canonical.OrderChange.Validate]
// or whose units are not the lines'; CodeNotFound for an unknown order;
// CodeConflict when FromVersion is not the version the ERP holds, an
// updated or removed line is unknown, or an added line exists.
func (m *Memory) ChangeOrder(ctx context.Context, key string, c canonical.OrderChange) (canonical.ChangeAck, error) {
	const op = "ChangeOrder"
	if err := ctxErr(ctx); err != nil {
		return canonical.ChangeAck{}, err
	}
	if key == "" {
		return canonical.ChangeAck{}, invalid(op, "request", canonical.FieldError{Field: "key", Message: "required"})
	}
	if err := c.Validate(); err != nil {
		return canonical.ChangeAck{}, asInvalid(op, err)
	}
	fp, err := fingerprint(c)
	if err != nil {
		return canonical.ChangeAck{}, asInvalid(op, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.changes[key]; ok {
		if r.fp != fp {
			return canonical.ChangeAck{}, errorf(connector.CodeConflict, op, "key %q was used for another change", key)
		}
		return cloneChangeAck(r.ack), nil
	}
	rec := m.orders[c.OrderID]
	if rec == nil {
		return canonical.ChangeAck{}, errorf(connector.CodeNotFound, op, "order %q", c.OrderID)
	}
	now := m.now()
	ack := canonical.ChangeAck{OrderID: c.OrderID, FromVersion: c.FromVersion, ToVersion: c.ToVersion, AckedAt: now,
		Refs: canonical.Refs{{System: System, Type: RefSalesOrder, Value: rec.number, Version: strconv.FormatInt(rec.doc.Version, 10)}}}
	switch {
	case c.ToVersion <= rec.doc.Version:
		ack.Results = refuseAll(c, canonical.ChangeReasonStale)
		ack.Messages = []canonical.AckMessage{{Code: "VERSION", Severity: canonical.SeverityInfo,
			Text: fmt.Sprintf("order %s is at version %d; version %d changes nothing", c.OrderID, rec.doc.Version, c.ToVersion)}}
		ack.Outcome = canonical.ChangeOutcomeOf(ack.Results)
		m.changes[key] = changeRecord{fp: fp, ack: ack}
		return cloneChangeAck(ack), nil
	case c.FromVersion != rec.doc.Version:
		return canonical.ChangeAck{}, errorf(connector.CodeConflict, op, "order %s is at version %d, the change is from version %d", c.OrderID, rec.doc.Version, c.FromVersion)
	}
	// Lines known, units right: checked before anything is decided.
	idx := make([]int, len(c.Lines))
	var fes []canonical.FieldError
	for i := range c.Lines {
		l := &c.Lines[i]
		j := lineIndex(&rec.doc, l.LineID)
		idx[i] = j
		switch {
		case l.Kind == canonical.LineChangeAdded && j >= 0:
			return canonical.ChangeAck{}, errorf(connector.CodeConflict, op, "order %s already has line %q", c.OrderID, l.LineID)
		case l.Kind != canonical.LineChangeAdded && j < 0:
			return canonical.ChangeAck{}, errorf(connector.CodeConflict, op, "order %s has no line %q", c.OrderID, l.LineID)
		case j >= 0 && l.Delta.Unit != rec.doc.Lines[j].Quantity.Unit:
			fes = append(fes, canonical.FieldError{Field: at(i, ".delta.unit"), Message: fmt.Sprintf("must be the line's unit %s, is %s", rec.doc.Lines[j].Quantity.Unit, l.Delta.Unit)})
		}
	}
	if fes != nil {
		return canonical.ChangeAck{}, invalid(op, "order change", fes...)
	}
	if !rec.doc.CancelledAt.IsZero() || !rec.doc.ClosedAt.IsZero() {
		ack.Results = refuseAll(c, canonical.ChangeReasonClosed)
	} else if ack.Results, err = m.decideChange(&c, idx, rec, &ack); err != nil {
		return canonical.ChangeAck{}, err
	}
	ack.Outcome = canonical.ChangeOutcomeOf(ack.Results)
	rec.doc.Version = c.ToVersion
	rec.doc.Refs = rec.doc.Refs.With(canonical.ExternalRef{System: System, Type: RefSalesOrder, Value: rec.number, Version: strconv.FormatInt(c.ToVersion, 10)})
	ack.Refs[0].Version = strconv.FormatInt(c.ToVersion, 10)
	m.changes[key] = changeRecord{fp: fp, ack: ack}
	return cloneChangeAck(ack), nil
}

// refuseAll returns a refusal of every part of c for reason.
func refuseAll(c canonical.OrderChange, reason canonical.ChangeReason) []canonical.ChangeResult {
	var out []canonical.ChangeResult
	for _, l := range c.Lines {
		if l.QuantityChanged() {
			r, _ := canonical.QuantityResult(l.LineID, l.Delta, canonical.NewQuantity(canonical.Decimal{}, l.Delta.Unit), reason, false)
			out = append(out, r)
		}
		if l.DateChanged() {
			out = append(out, canonical.ChangeResult{LineID: l.LineID, Field: canonical.ChangeFieldRequestedDate, Outcome: canonical.ChangeRefused, Reason: reason})
		}
	}
	for _, f := range headerFields(c) {
		out = append(out, canonical.ChangeResult{Field: f, Outcome: canonical.ChangeRefused, Reason: reason})
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

// lineDecision is what the ERP decided for the quantity of one changed
// line before the credit check.
type lineDecision struct {
	change  *canonical.LineChange
	j       int // index in the order, -1 for an added line
	applied canonical.Decimal
	reason  canonical.ChangeReason
	factor  canonical.Decimal
	price   canonical.Money // per line unit, for increases
	value   canonical.Decimal
	msgs    []canonical.AckMessage
}

// decideChange decides and applies c to rec (whose version is
// c.FromVersion and which is open). The caller holds mu.
func (m *Memory) decideChange(c *canonical.OrderChange, idx []int, rec *order, ack *canonical.ChangeAck) ([]canonical.ChangeResult, error) {
	const op = "ChangeOrder"
	acct := m.accounts[rec.customer]
	ds := make([]lineDecision, 0, len(c.Lines))
	atp := map[string]canonical.Decimal{}
	var incValue, decValue canonical.Decimal
	for i := range c.Lines {
		l := &c.Lines[i]
		if !l.QuantityChanged() {
			continue
		}
		d := lineDecision{change: l, j: idx[i]}
		if l.Delta.Value.IsNeg() {
			d.reason = canonical.ChangeReasonShipped
			if d.j >= 0 && !rec.lines[d.j].rejected {
				bs := &rec.doc.Lines[d.j].Buckets
				open, err := bs.NetOrdered()
				if err == nil {
					open, err = open.Sub(bs.Get(canonical.BucketShipped))
				}
				if err != nil {
					return nil, errorf(connector.CodeInternal, op, "line %s: %w", l.LineID, err)
				}
				d.applied = l.Delta.Value.Abs().Min(open.Max(canonical.Decimal{})).Neg()
				if amt, err := rec.doc.Lines[d.j].UnitPrice.Mul(d.applied.Abs()); err == nil {
					d.value = amt.Round().Amount
					decValue, _ = decValue.Add(d.value)
				}
			} else {
				d.reason = canonical.ChangeReasonClosed
			}
			ds = append(ds, d)
			continue
		}
		// An increase.
		sku := l.Item.SKU
		if d.j >= 0 {
			sku = rec.lines[d.j].sku
		}
		item := m.items[sku]
		switch {
		case acct == nil || acct.Customer.Blocked:
			d.reason = canonical.ChangeReasonCustomer
			ds = append(ds, d)
			continue
		case d.j >= 0 && rec.lines[d.j].rejected:
			d.reason = canonical.ChangeReasonClosed
			ds = append(ds, d)
			continue
		case item == nil:
			d.reason = canonical.ChangeReasonItem
			d.msgs = append(d.msgs, canonical.AckMessage{Code: "ITEM", Severity: canonical.SeverityError, Text: fmt.Sprintf("unknown item %q", sku), Field: at(i, ".item.sku")})
			ds = append(ds, d)
			continue
		}
		d.factor = one
		if l.Delta.Unit != item.BaseUnit {
			b, err := item.ToBase(canonical.NewQuantity(one, l.Delta.Unit))
			if err != nil || b.Unit != item.BaseUnit {
				d.reason = canonical.ChangeReasonItem
				d.msgs = append(d.msgs, canonical.AckMessage{Code: "UOM", Severity: canonical.SeverityError, Text: fmt.Sprintf("item %s is not sold in %s", sku, l.Delta.Unit), Field: at(i, ".delta.unit")})
				ds = append(ds, d)
				continue
			}
			d.factor = b.Value
		}
		base, err1 := l.To.Value.Mul(d.factor)
		add, err2 := l.Delta.Value.Mul(d.factor)
		if err1 != nil || err2 != nil {
			return nil, invalid(op, "order change", canonical.FieldError{Field: at(i, ".to.value"), Message: "quantity too large"})
		}
		entry, ok := m.price(sku, rec.customer, rec.doc.Currency, base)
		if !ok {
			d.reason = canonical.ChangeReasonItem
			d.msgs = append(d.msgs, canonical.AckMessage{Code: "PRICE", Severity: canonical.SeverityError, Text: fmt.Sprintf("no price for %s in %s", sku, rec.doc.Currency), Field: at(i, ".unitPrice")})
			ds = append(ds, d)
			continue
		}
		price, err := entry.UnitPrice.Mul(d.factor)
		if err != nil {
			return nil, invalid(op, "order change", canonical.FieldError{Field: at(i, ".unitPrice"), Message: "price overflow"})
		}
		d.price = price
		if d.j >= 0 && !rec.doc.Lines[d.j].UnitPrice.Amount.Equal(price.Amount) {
			d.msgs = append(d.msgs, canonical.AckMessage{Code: "PRICE", Severity: canonical.SeverityInfo,
				Text: "price " + price.String() + " replaces " + rec.doc.Lines[d.j].UnitPrice.String() + " for the new quantity", Field: at(i, ".unitPrice")})
		}
		avail, seen := atp[sku]
		if !seen {
			avail, _ = m.onHand[sku].Sub(m.demand[sku])
		}
		short := canonical.Decimal{}
		if avail.Cmp(add) < 0 {
			short = shortfall(avail, add, d.factor, l.Delta.Value)
		}
		d.applied, _ = l.Delta.Value.Sub(short)
		if short.IsPos() {
			d.reason = canonical.ChangeReasonStock
			d.msgs = append(d.msgs, canonical.AckMessage{Code: "ATP", Severity: canonical.SeverityWarning,
				Text: canonical.NewQuantity(short, l.Delta.Unit).String() + " not available to promise", Field: at(i, ".delta")})
		}
		used, _ := d.applied.Mul(d.factor)
		atp[sku], _ = avail.Sub(used)
		if amt, err := price.Mul(d.applied); err == nil {
			d.value = amt.Round().Amount
			incValue, _ = incValue.Add(d.value)
		}
		ds = append(ds, d)
	}
	// Tax on the value added and taken away, at the order's rate.
	withTax := func(v canonical.Decimal) canonical.Decimal {
		if !rec.hasRate {
			return v
		}
		t, err := taxOn(v, rec.rate.Rate, rec.doc.Currency)
		if err != nil {
			return v
		}
		s, _ := v.Add(t)
		return s
	}
	incValue, decValue = withTax(incValue), withTax(decValue)
	// Credit check of the added value.
	held := false
	var lim *canonical.Money
	if acct != nil {
		lim = acct.Customer.CreditLimit
	}
	if lim != nil && lim.Currency == rec.doc.Currency && incValue.IsPos() {
		exposure, err := acct.OpenBalance.Add(m.openValue[rec.customer])
		if err == nil {
			exposure, err = exposure.Add(incValue)
		}
		if err == nil {
			exposure, err = exposure.Sub(decValue)
		}
		if err != nil || exposure.Cmp(lim.Amount) > 0 {
			held = true
			text := fmt.Sprintf("credit limit %s exceeded by the change: exposure %s", lim, canonical.NewMoney(exposure, rec.doc.Currency).Round())
			h := canonical.Hold{Kind: canonical.HoldCredit, Code: "CREDIT", Reason: text, PlacedAt: m.now()}
			ack.Holds = append(ack.Holds, h)
			ack.Messages = append(ack.Messages, canonical.AckMessage{Code: "CREDIT", Severity: canonical.SeverityWarning, Text: text, Field: "soldTo.id"})
			incValue = canonical.Decimal{}
		}
	}

	// Effects, all or nothing from here.
	var out []canonical.ChangeResult
	m.removeDemand(rec)
	for k := range ds {
		d := &ds[k]
		l := d.change
		inc := l.Delta.Value.IsPos()
		if inc && held {
			d.applied, d.reason = canonical.Decimal{}, canonical.ChangeReasonCredit
		}
		refused, _ := l.Delta.Value.Sub(d.applied)
		r, err := canonical.QuantityResult(l.LineID, l.Delta, canonical.NewQuantity(d.applied, l.Delta.Unit), d.reason, inc && held)
		if err != nil {
			m.addDemand(rec)
			return nil, errorf(connector.CodeInternal, op, "line %s: %w", l.LineID, err)
		}
		r.Messages = d.msgs
		out = append(out, r)
		switch {
		case !inc:
			if d.j >= 0 && d.applied.IsNeg() {
				bs := &rec.doc.Lines[d.j].Buckets
				v, _ := bs.Get(canonical.BucketCancelled).Add(d.applied.Abs())
				bs.Set(canonical.BucketCancelled, v)
				if bo := bs.Get(canonical.BucketBackordered); bo.IsPos() {
					open, _ := bs.NetOrdered()
					left, _ := open.Sub(bs.Get(canonical.BucketShipped))
					bs.Set(canonical.BucketBackordered, bo.Min(left.Max(canonical.Decimal{})))
				}
			}
		case held:
			// Nothing recorded: the change comes again after the hold.
		case d.j >= 0:
			ol := &rec.doc.Lines[d.j]
			add := func(b canonical.Bucket, q canonical.Decimal) {
				v, _ := ol.Buckets.Get(b).Add(q)
				ol.Buckets.Set(b, v)
			}
			add(canonical.BucketOrdered, l.Delta.Value)
			add(canonical.BucketConfirmed, d.applied)
			add(canonical.BucketRejected, refused)
			ol.Quantity.Value, _ = ol.Quantity.Value.Add(l.Delta.Value)
			if d.price.Currency != "" {
				ol.UnitPrice = d.price
			}
		default: // an added line
			nl := canonical.OrderLine{ID: l.LineID, Item: l.Item, Quantity: l.To, UnitPrice: d.price, RequestedDate: l.ToRequestedDate}
			if nl.UnitPrice.Currency == "" {
				nl.UnitPrice = canonical.NewMoney(canonical.Decimal{}, rec.doc.Currency)
			}
			nl.Buckets.Set(canonical.BucketOrdered, l.To.Value)
			nl.Buckets.Set(canonical.BucketConfirmed, d.applied)
			nl.Buckets.Set(canonical.BucketRejected, refused)
			if d.applied.IsPos() {
				nl.PromisedDate = promised(m.now(), m.leadTime)
			}
			if item := m.items[l.Item.SKU]; item != nil && len(item.Refs) > 0 {
				nl.Item.Refs = nl.Item.Refs.With(item.Refs[0])
			}
			rec.doc.Lines = append(rec.doc.Lines, nl)
			f := d.factor
			if f.IsZero() {
				f = one
			}
			rec.lines = append(rec.lines, lineState{sku: l.Item.SKU, factor: f, rejected: !d.applied.IsPos()})
		}
	}
	// Dates and the order's fields.
	for i := range c.Lines {
		l := &c.Lines[i]
		if !l.DateChanged() {
			continue
		}
		j := lineIndex(&rec.doc, l.LineID)
		r := canonical.ChangeResult{LineID: l.LineID, Field: canonical.ChangeFieldRequestedDate, Outcome: canonical.ChangeApplied}
		if j >= 0 && lineShipped(&rec.doc.Lines[j]) {
			r.Outcome, r.Reason = canonical.ChangeRefused, canonical.ChangeReasonShipped
		} else if j >= 0 {
			rec.doc.Lines[j].RequestedDate = l.ToRequestedDate
		}
		out = append(out, r)
	}
	shipped, all := false, true
	for j := range rec.doc.Lines {
		if rec.doc.Lines[j].Buckets.Get(canonical.BucketShipped).IsPos() {
			shipped = true
		}
		if !lineShipped(&rec.doc.Lines[j]) {
			all = false
		}
	}
	header := func(field string, refuse bool, apply func()) {
		r := canonical.ChangeResult{Field: field, Outcome: canonical.ChangeApplied}
		if refuse {
			r.Outcome, r.Reason = canonical.ChangeRefused, canonical.ChangeReasonShipped
		} else {
			apply()
		}
		out = append(out, r)
	}
	if c.ShipTo != nil {
		header(canonical.ChangeFieldShipTo, all, func() {
			rec.doc.ShipTo = *c.ShipTo
			if rate, ok := m.taxRate(&rec.doc, acct); ok {
				rec.hasRate, rec.rate = true, rate
			}
		})
	}
	if c.ShipComplete != nil {
		header(canonical.ChangeFieldShipComplete, shipped, func() { rec.doc.ShipComplete = *c.ShipComplete })
	}
	if c.RequestedShipDate != nil {
		header(canonical.ChangeFieldRequestedShipDate, all, func() { rec.doc.RequestedShipDate = *c.RequestedShipDate })
	}
	if c.RequestedDeliveryDate != nil {
		header(canonical.ChangeFieldRequestedDeliveryDate, all, func() { rec.doc.RequestedDeliveryDate = *c.RequestedDeliveryDate })
	}
	if held {
		rec.doc.Holds = append(rec.doc.Holds, ack.Holds...)
	}
	open, _ := rec.open.Add(incValue)
	open, _ = open.Sub(decValue)
	rec.open = open.Max(canonical.Decimal{})
	m.addDemand(rec)
	m.counts.Changes++
	return out, nil
}

// lineShipped reports whether everything open of l has shipped (and
// something has).
func lineShipped(l *canonical.OrderLine) bool {
	s := l.Buckets.Get(canonical.BucketShipped)
	open, err := l.Buckets.NetOrdered()
	return err == nil && s.IsPos() && s.Cmp(open) >= 0
}

// cloneChangeAck copies an ack deeply, so callers cannot change the
// stored one.
func cloneChangeAck(a canonical.ChangeAck) canonical.ChangeAck {
	c := a
	c.Refs = slices.Clone(a.Refs)
	c.Holds = slices.Clone(a.Holds)
	c.Messages = slices.Clone(a.Messages)
	c.Results = slices.Clone(a.Results)
	for i := range c.Results {
		r := &c.Results[i]
		r.Messages = slices.Clone(r.Messages)
		if r.Applied != nil {
			q := *r.Applied
			r.Applied = &q
		}
		if r.Refused != nil {
			q := *r.Refused
			r.Refused = &q
		}
	}
	if a.Totals != nil {
		t := *a.Totals
		c.Totals = &t
	}
	return c
}
