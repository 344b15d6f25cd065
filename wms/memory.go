package wms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// Errors the simulator wraps in a *connector.Error; match them with
// errors.Is.
var (
	// ErrNotFound: the fulfilment order or return is unknown (CodeNotFound).
	ErrNotFound = errors.New("wms: not found")
	// ErrConflict: an ID or idempotency key reused with a different
	// document, or an operation the state does not allow (CodeConflict).
	ErrConflict = errors.New("wms: conflict")
	// ErrCursor: a feed cursor this feed did not return (CodeInvalid).
	ErrCursor = errors.New("wms: invalid cursor")
)

// Memory is the in-memory WMS simulator: several warehouses with stock per
// item, lot and status; fulfilment orders released to them and moved
// through allocation, picking, packing and shipping by [Memory.Step];
// backorders; cancellations; returns; inventory adjustments and snapshots;
// and the feed of all that as canonical events. It implements
// [connector.WMS] and [connector.HealthChecker].
//
// A Memory is safe for concurrent use. Its state lives in a [State]; open a
// second Memory over the same state to simulate a restart. The zero value
// is not usable; create it with [New].
type Memory struct {
	w       *world
	clock   func() time.Time
	maxPage int
}

var (
	_ connector.WMS           = (*Memory)(nil)
	_ connector.HealthChecker = (*Memory)(nil)
	_ connector.Subscriber    = (*Memory)(nil)
)

// New returns a simulator configured by cfg; the zero Config gives the
// demo world. The error matches ErrInvalidConfig.
func New(cfg Config) (*Memory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Memory{clock: cfg.Clock, maxPage: cmp.Or(cfg.MaxPageSize, DefaultMaxPageSize)}
	if cfg.State != nil {
		m.w = cfg.State.w
	} else {
		m.w = newWorld(cfg)
	}
	return m, nil
}

// State returns the simulator's state, to open another instance over it
// with Config.State.
func (m *Memory) State() *State { return &State{w: m.w} }

// Source returns the CloudEvents source of the simulator's events,
// "wms://NAME".
func (m *Memory) Source() string { return m.w.source }

// Warehouses returns the warehouses, in configuration order.
func (m *Memory) Warehouses() []canonical.Location {
	out := make([]canonical.Location, len(m.w.warehouses))
	for i, l := range m.w.warehouses {
		out[i] = cloneLocation(l)
	}
	return out
}

func cloneLocation(l canonical.Location) canonical.Location {
	l.Refs = slices.Clone(l.Refs)
	l.Address.Lines = slices.Clone(l.Address.Lines)
	return l
}

func cloneItem(it canonical.Item) canonical.Item {
	it.Refs = slices.Clone(it.Refs)
	it.Conversions = slices.Clone(it.Conversions)
	return it
}

// Items returns the item master, sorted by SKU.
func (m *Memory) Items() []canonical.Item {
	out := make([]canonical.Item, 0, len(m.w.items))
	for _, it := range m.w.items {
		out = append(out, cloneItem(it))
	}
	slices.SortFunc(out, func(a, b canonical.Item) int { return cmp.Compare(a.SKU, b.SKU) })
	return out
}

// Health reports nil: the simulator is always reachable. It honours ctx.
func (m *Memory) Health(ctx context.Context) error {
	return ctxErr(ctx, "Health")
}

// Counts counts what a simulator has done since its [State] was created. It
// is a plain value, safe for concurrent use. The zero value counts nothing.
type Counts struct {
	// Releases is how many fulfilment orders were released (replays do
	// not count).
	Releases int
	// Cancellations is how many CancelRelease calls cancelled something.
	Cancellations int
	// Changes is how many ChangeRelease calls changed something.
	Changes int
	// ReturnAuthorizations is how many returns were authorized.
	ReturnAuthorizations int
	// Shipments is how many shipments left the warehouses.
	Shipments int
	// Adjustments is how many inventory adjustments were applied,
	// including those of restocked or quarantined returns.
	Adjustments int
	// ReturnsReceived is how many ReceiveReturn calls received goods.
	ReturnsReceived int
	// Steps is how many times Step ran.
	Steps int
	// Events is the length of the feed.
	Events int
}

// Counts returns what the simulator has done so far.
func (m *Memory) Counts() Counts {
	m.w.mu.Lock()
	defer m.w.mu.Unlock()
	c := m.w.counts
	c.Events = m.w.events.len()
	return c
}

// lock reads the injected clock, if any, before it takes the lock, so
// that the clock is never called with the lock held, and records the time
// of the call for now.
func (m *Memory) lock() {
	var t time.Time
	if m.clock != nil {
		t = m.clock()
	}
	m.w.mu.Lock()
	if m.clock == nil {
		t = m.w.now
	}
	m.w.callNow = t
}

// now returns the time of the current call; the caller holds the lock
// taken with lock.
func (m *Memory) now() time.Time { return m.w.callNow }

// ctxErr returns the error of a call whose context is done: the context's
// error and its cause, not a connector code, so that the caller's own
// cancellation counts neither as a failure of the remote (for a circuit
// breaker) nor as something to retry. Nothing was applied.
func ctxErr(ctx context.Context, op string) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause != err {
		return fmt.Errorf("wms: %s: %w: %w", op, err, cause)
	}
	return fmt.Errorf("wms: %s: %w", op, err)
}

func errorf(code connector.Code, op string, sentinel error, format string, a ...any) error {
	return connector.NewError(code, System, op, fmt.Errorf("%w: "+format, append([]any{sentinel}, a...)...))
}

func invalid(op, kind string, fields ...canonical.FieldError) error {
	return connector.NewError(connector.CodeInvalid, System, op, &canonical.ValidationError{Kind: kind, Errors: fields})
}

func internal(op string, err error) error {
	return connector.NewError(connector.CodeInternal, System, op, err)
}

// ---- Release ------------------------------------------------------------

// Release hands the fulfilment order to its warehouse and returns it with
// the WMS's outbound order number (ref wms/outboundOrder "OB-000001") and
// the release time. Allocation happens at the next [Memory.Step].
//
// Release is idempotent by the fulfilment order's ID: the same ID with the
// same warehouse, order and lines returns the first result; with anything
// else it is a CodeConflict error. An invalid document, an unknown
// warehouse or SKU, or a line in a unit the item does not convert to its
// base unit is a CodeInvalid error wrapping a *canonical.ValidationError
// that names the field. A done context fails the call with an error
// matching ctx.Err() and its cause; nothing is applied. The other methods
// treat a done context the same way.
func (m *Memory) Release(ctx context.Context, fo canonical.FulfillmentOrder) (canonical.FulfillmentOrder, error) {
	const op = "Release"
	if err := ctxErr(ctx, op); err != nil {
		return canonical.FulfillmentOrder{}, err
	}
	if err := fo.Validate(); err != nil {
		return canonical.FulfillmentOrder{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	w := m.w
	m.lock()
	defer w.mu.Unlock()
	if f, ok := w.foByID[fo.ID]; ok {
		if !sameRelease(f.doc, fo) {
			return canonical.FulfillmentOrder{}, errorf(connector.CodeConflict, op, ErrConflict,
				"fulfillment order %q was released with other lines, warehouse or order", fo.ID)
		}
		return cloneFO(f.doc), nil
	}
	var bad []canonical.FieldError
	if _, ok := w.whIndex[fo.Warehouse]; !ok {
		bad = append(bad, canonical.FieldError{Field: "warehouse", Message: fmt.Sprintf("unknown warehouse %q", fo.Warehouse)})
	}
	for i, l := range fo.Lines {
		bad = append(bad, w.checkLine("lines", i, "quantity", l.Item.SKU, l.Quantity, true)...)
	}
	if len(bad) > 0 {
		return canonical.FulfillmentOrder{}, invalid(op, "fulfillment order", bad...)
	}
	w.nextOB++
	doc := cloneFO(fo)
	doc.Refs = doc.Refs.With(canonical.ExternalRef{System: System, Type: "outboundOrder", Value: seqID("OB-", w.nextOB, 6)})
	doc.ReleasedAt = m.now()
	f := &fulfillment{doc: doc, version: doc.Version}
	for _, l := range doc.Lines {
		fac, err := w.factor(l.Item.SKU, l.Quantity.Unit)
		if err != nil {
			return canonical.FulfillmentOrder{}, internal(op, err)
		}
		f.lines = append(f.lines, &foLine{doc: l, factor: fac, backordered: l.Quantity.Value})
	}
	// &f.doc, which is on the heap already: doc as an interface would be
	// a copy there.
	if err := m.emit(canonical.EventFulfillmentReleased, doc.ID, doc.OrderID, &f.doc); err != nil {
		return canonical.FulfillmentOrder{}, internal(op, err)
	}
	w.counts.Releases++
	w.active = append(w.active, f)
	w.foByID[doc.ID] = f
	return cloneFO(doc), nil
}

// checkLine checks that sku is known and q is a bounded quantity in its
// base unit or, when pkg is set, in a unit the item converts to its base
// unit (a package unit such as XCS, or a fixed-factor unit such as DZN).
// The fields are named under list[i] (or at the top level when list is
// empty), the quantity as qtyField. Paths are built only for violations,
// since this runs for every line of every request.
func (w *world) checkLine(list string, i int, qtyField, sku string, q canonical.Quantity, pkg bool) []canonical.FieldError {
	path := func(f string) string {
		if list == "" {
			return f
		}
		return list + "[" + strconv.Itoa(i) + "]." + f
	}
	it, ok := w.items[sku]
	if !ok {
		return []canonical.FieldError{{Field: path("item.sku"), Message: fmt.Sprintf("unknown SKU %q", sku)}}
	}
	var bad []canonical.FieldError
	if q.Unit != it.BaseUnit {
		if !pkg {
			bad = append(bad, canonical.FieldError{Field: path(qtyField + ".unit"), Message: fmt.Sprintf("must be the base unit %s of %s, is %s", it.BaseUnit, sku, q.Unit)})
		} else if _, err := w.factor(sku, q.Unit); err != nil {
			bad = append(bad, canonical.FieldError{Field: path(qtyField + ".unit"), Message: fmt.Sprintf("%s has no conversion from %s to its base unit %s", sku, q.Unit, it.BaseUnit)})
		}
	}
	if msg := checkAmount(q.Value); msg != "" {
		bad = append(bad, canonical.FieldError{Field: path(qtyField + ".value"), Message: msg})
	}
	return bad
}

// factor returns how many base units of sku one u is.
func (w *world) factor(sku string, u canonical.Unit) (canonical.Decimal, error) {
	it := w.items[sku]
	if u == it.BaseUnit {
		return one, nil
	}
	q, err := it.ToBase(canonical.NewQuantity(one, u))
	if err != nil {
		return canonical.Decimal{}, err
	}
	if !q.Value.IsPos() || checkAmount(q.Value) != "" {
		return canonical.Decimal{}, fmt.Errorf("wms: conversion factor %s of %s per %s out of range", q.Value, sku, u)
	}
	return q.Value, nil
}

var one = canonical.DecimalFromInt(1)

// floorDiv returns the largest whole number n with n×f ≤ a, for a ≥ 0 and
// f > 0: how many whole line units a base quantity holds.
func floorDiv(a, f canonical.Decimal) canonical.Decimal {
	ra, ok1 := new(big.Rat).SetString(a.String())
	rf, ok2 := new(big.Rat).SetString(f.String())
	if !ok1 || !ok2 || rf.Sign() <= 0 || ra.Sign() <= 0 {
		return canonical.Decimal{}
	}
	q := new(big.Rat).Quo(ra, rf)
	n := new(big.Int).Quo(q.Num(), q.Denom())
	if !n.IsInt64() {
		return maxQuantity
	}
	return canonical.DecimalFromInt(n.Int64()).Min(maxQuantity)
}

func sameRelease(a, b canonical.FulfillmentOrder) bool {
	if a.Warehouse != b.Warehouse || a.OrderID != b.OrderID || len(a.Lines) != len(b.Lines) {
		return false
	}
	for i := range a.Lines {
		x, y := a.Lines[i], b.Lines[i]
		if x.ID != y.ID || x.OrderLineID != y.OrderLineID || x.Item.SKU != y.Item.SKU || !x.Quantity.Equal(y.Quantity) {
			return false
		}
	}
	return true
}

func cloneFO(f canonical.FulfillmentOrder) canonical.FulfillmentOrder {
	f.Refs = slices.Clone(f.Refs)
	f.Lines = slices.Clone(f.Lines)
	f.Extensions = f.Extensions.Clone()
	for i := range f.Lines {
		f.Lines[i].Extensions = f.Lines[i].Extensions.Clone()
	}
	return f
}

// FulfillmentOrder returns the released fulfilment order with the given
// ID, as Release returned it. CodeNotFound when it is unknown.
func (m *Memory) FulfillmentOrder(ctx context.Context, id string) (canonical.FulfillmentOrder, error) {
	const op = "FulfillmentOrder"
	if err := ctxErr(ctx, op); err != nil {
		return canonical.FulfillmentOrder{}, err
	}
	m.w.mu.Lock()
	defer m.w.mu.Unlock()
	f, ok := m.w.foByID[id]
	if !ok {
		return canonical.FulfillmentOrder{}, errorf(connector.CodeNotFound, op, ErrNotFound, "fulfillment order %q", id)
	}
	return cloneFO(f.doc), nil
}

// ---- CancelRelease ------------------------------------------------------

// CancelRelease cancels open quantities of a fulfilment order: what is
// backordered first, then what is allocated, then what is picked but not
// shipped (which goes back to stock). It never cancels shipped quantity.
// Each line of req names a fulfilment line ID and the most to cancel; nil
// Lines cancels everything open. When something was cancelled it emits
// [canonical.EventFulfillmentCancelled] whose data is the fulfilment order
// with the cancelled quantities as its lines, followed, once the order was
// allocated, by an allocation update with what is left allocated and
// backordered.
//
// CancelRelease is idempotent by key: the same key with the same request
// returns the first result; with another request it is a CodeConflict
// error. CodeNotFound for an unknown fulfilment order; CodeInvalid for an
// unknown line or a quantity that is not positive or not in the line's
// unit.
func (m *Memory) CancelRelease(ctx context.Context, key string, req connector.CancelRequest) (connector.CancelResult, error) {
	const op = "CancelRelease"
	if err := ctxErr(ctx, op); err != nil {
		return connector.CancelResult{}, err
	}
	if key == "" {
		return connector.CancelResult{}, invalid(op, "cancel request", canonical.FieldError{Field: "key", Message: "is required"})
	}
	if req.FulfillmentOrderID == "" {
		return connector.CancelResult{}, invalid(op, "cancel request", canonical.FieldError{Field: "fulfillmentOrderId", Message: "is required"})
	}
	w := m.w
	m.lock()
	defer w.mu.Unlock()
	if rec, ok := w.cancels[key]; ok {
		if !sameCancel(rec.req, req) {
			return connector.CancelResult{}, errorf(connector.CodeConflict, op, ErrConflict, "key %q was used for another cancel request", key)
		}
		return cloneCancel(rec.result), nil
	}
	f, ok := w.foByID[req.FulfillmentOrderID]
	if !ok {
		return connector.CancelResult{}, errorf(connector.CodeNotFound, op, ErrNotFound, "fulfillment order %q", req.FulfillmentOrderID)
	}
	want := make(map[string]canonical.Decimal, len(req.Lines))
	var bad []canonical.FieldError
	for i, lq := range req.Lines {
		p := fmt.Sprintf("lines[%d]", i)
		l := f.line(lq.LineID)
		switch {
		case l == nil:
			bad = append(bad, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("no line %q in fulfillment order %q", lq.LineID, f.doc.ID)})
		case lq.Quantity.Unit != l.doc.Quantity.Unit:
			bad = append(bad, canonical.FieldError{Field: p + ".quantity.unit", Message: fmt.Sprintf("must be the line unit %s, is %s", l.doc.Quantity.Unit, lq.Quantity.Unit)})
		case !lq.Quantity.Value.IsPos():
			bad = append(bad, canonical.FieldError{Field: p + ".quantity.value", Message: "must be > 0, is " + lq.Quantity.Value.String()})
		case checkAmount(lq.Quantity.Value) != "":
			bad = append(bad, canonical.FieldError{Field: p + ".quantity.value", Message: checkAmount(lq.Quantity.Value)})
		case want[lq.LineID].IsPos():
			bad = append(bad, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("duplicate line %q", lq.LineID)})
		default:
			want[lq.LineID] = lq.Quantity.Value
		}
	}
	if len(bad) > 0 {
		return connector.CancelResult{}, invalid(op, "cancel request", bad...)
	}
	var c calc
	res := connector.CancelResult{FulfillmentOrderID: f.doc.ID, Cancelled: []connector.LineQuantity{}}
	data := cloneFO(f.doc)
	data.Lines = data.Lines[:0]
	for _, l := range f.lines {
		limit, asked := want[l.doc.ID]
		if req.Lines != nil && !asked {
			continue
		}
		n := l.cancel(limit, req.Lines == nil, &c)
		if n.IsPos() {
			res.Cancelled = append(res.Cancelled, connector.LineQuantity{LineID: l.doc.ID, Quantity: canonical.NewQuantity(n, l.doc.Quantity.Unit)})
			dl := l.doc
			dl.Quantity = canonical.NewQuantity(n, l.doc.Quantity.Unit)
			data.Lines = append(data.Lines, dl)
		}
	}
	if c.err != nil {
		return connector.CancelResult{}, internal(op, c.err)
	}
	if len(data.Lines) > 0 {
		w.counts.Cancellations++
		f.version++
		data.Version = f.version
		if err := m.emit(canonical.EventFulfillmentCancelled, f.doc.ID, f.doc.OrderID, data); err != nil {
			return connector.CancelResult{}, internal(op, err)
		}
		// The allocation state changed: report it, so that consumers
		// folding the latest update per fulfilment order see it.
		if f.started {
			if err := m.emitAllocation(f, false, &c); err != nil {
				return connector.CancelResult{}, internal(op, err)
			}
		}
	}
	w.cancels[key] = cancelRecord{req: cloneCancelReq(req), result: cloneCancel(res)}
	return res, nil
}

func (f *fulfillment) line(id string) *foLine {
	for _, l := range f.lines {
		if l.doc.ID == id {
			return l
		}
	}
	return nil
}

// cancel cancels up to limit (everything open when all) of the line:
// backordered, then allocated, then picked. It returns what it cancelled.
func (l *foLine) cancel(limit canonical.Decimal, all bool, c *calc) canonical.Decimal {
	var done canonical.Decimal
	take := func(have canonical.Decimal) canonical.Decimal {
		n := have
		if !all {
			n = n.Min(c.sub(limit, done))
		}
		if !n.IsPos() {
			return canonical.Decimal{}
		}
		done = c.add(done, n)
		return n
	}
	n := take(l.backordered)
	l.backordered = c.sub(l.backordered, n)
	for _, r := range slices.Backward(l.res) {
		n := take(r.allocated)
		r.allocated = c.sub(r.allocated, n)
		r.lot.allocated = c.sub(r.lot.allocated, c.mul(n, l.factor))
	}
	for _, r := range slices.Backward(l.res) {
		n := take(r.picked)
		r.picked = c.sub(r.picked, n)
		r.lot.allocated = c.sub(r.lot.allocated, c.mul(n, l.factor))
	}
	l.res = slices.DeleteFunc(l.res, func(r *reservation) bool { return r.allocated.IsZero() && r.picked.IsZero() })
	l.cancelled = c.add(l.cancelled, done)
	return done
}

func sameCancel(a, b connector.CancelRequest) bool {
	if a.FulfillmentOrderID != b.FulfillmentOrderID || (a.Lines == nil) != (b.Lines == nil) || len(a.Lines) != len(b.Lines) {
		return false
	}
	for i := range a.Lines {
		if a.Lines[i].LineID != b.Lines[i].LineID || !a.Lines[i].Quantity.Equal(b.Lines[i].Quantity) {
			return false
		}
	}
	return true
}

func cloneCancelReq(r connector.CancelRequest) connector.CancelRequest {
	r.Lines = slices.Clone(r.Lines)
	return r
}

func cloneCancel(r connector.CancelResult) connector.CancelResult {
	r.Cancelled = slices.Clone(r.Cancelled)
	return r
}

// ---- Returns ------------------------------------------------------------

// AuthorizeReturn registers the RMA with its warehouse and returns it with
// the WMS's expected-receipt number (ref wms/expectedReceipt "RT-000001").
// It is idempotent by the return's ID: the same ID with the same lines
// returns the first result, with other lines it is a CodeConflict error.
// The return must not be received yet; it is a CodeInvalid error naming
// the field when it is invalid, already received, or names an unknown
// warehouse or SKU.
func (m *Memory) AuthorizeReturn(ctx context.Context, ret canonical.Return) (canonical.Return, error) {
	const op = "AuthorizeReturn"
	if err := ctxErr(ctx, op); err != nil {
		return canonical.Return{}, err
	}
	if err := ret.Validate(); err != nil {
		return canonical.Return{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	w := m.w
	m.lock()
	defer w.mu.Unlock()
	if r, ok := w.returns[ret.ID]; ok {
		if !sameReturn(r.doc, ret) {
			return canonical.Return{}, errorf(connector.CodeConflict, op, ErrConflict, "return %q was authorized with other lines or warehouse", ret.ID)
		}
		return cloneReturn(r.authorized), nil
	}
	var bad []canonical.FieldError
	if _, ok := w.whIndex[ret.Warehouse]; !ok {
		bad = append(bad, canonical.FieldError{Field: "warehouse", Message: fmt.Sprintf("unknown warehouse %q", ret.Warehouse)})
	}
	if !ret.ReceivedAt.IsZero() {
		bad = append(bad, canonical.FieldError{Field: "receivedAt", Message: "must be empty: the warehouse has not received the return yet"})
	}
	for i, l := range ret.Lines {
		p := fmt.Sprintf("lines[%d]", i)
		bad = append(bad, w.checkLine("lines", i, "authorized", l.Item.SKU, l.Authorized, true)...)
		if l.Received.Value.IsPos() {
			bad = append(bad, canonical.FieldError{Field: p + ".received.value", Message: "must be 0: the warehouse has not received the return yet"})
		}
	}
	if len(bad) > 0 {
		return canonical.Return{}, invalid(op, "return", bad...)
	}
	w.nextRMA++
	doc := cloneReturn(ret)
	doc.Refs = doc.Refs.With(canonical.ExternalRef{System: System, Type: "expectedReceipt", Value: fmt.Sprintf("RT-%06d", w.nextRMA)})
	for i := range doc.Lines {
		doc.Lines[i].Received = canonical.NewQuantity(canonical.Decimal{}, doc.Lines[i].Authorized.Unit)
	}
	w.counts.ReturnAuthorizations++
	w.returns[doc.ID] = &rma{authorized: doc, doc: cloneReturn(doc)}
	return cloneReturn(doc), nil
}

func sameReturn(a, b canonical.Return) bool {
	if a.Warehouse != b.Warehouse || a.RMANumber != b.RMANumber || len(a.Lines) != len(b.Lines) {
		return false
	}
	for i := range a.Lines {
		x, y := a.Lines[i], b.Lines[i]
		if x.ID != y.ID || x.Item.SKU != y.Item.SKU || !x.Authorized.Equal(y.Authorized) {
			return false
		}
	}
	return true
}

func cloneReturn(r canonical.Return) canonical.Return {
	r.Refs = slices.Clone(r.Refs)
	r.Lines = slices.Clone(r.Lines)
	return r
}
