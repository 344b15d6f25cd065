package wms

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
)

// Step moves the simulation one tick: it advances the simulated time by
// Config.Tick, then moves every open fulfilment order, in release order,
// by one stage, emitting the event of that stage:
//
//   - a newly released order is allocated from its warehouse's available
//     stock, lots expiring first (FEFO): [canonical.EventFulfillmentAllocated],
//     or [canonical.EventFulfillmentBackordered] when some quantity is short;
//   - an order with picked goods is packed and shipped:
//     [canonical.EventFulfillmentShipped] with a Shipment of packages, each
//     with an SSCC-18 and a tracking number; the shipment is partial unless
//     nothing is left open, in which case it is FinalForFulfillment;
//   - an order with allocated goods is picked ([canonical.EventFulfillmentPicked]),
//     unless it must ship complete and something is still backordered;
//   - an order with backorders is allocated again when stock has arrived
//     (an adjustment or a restocked return), oldest release first.
//
// Step returns the number of events it emitted. It is deterministic: the
// same calls on the same configuration give the same documents and events.
func (m *Memory) Step(ctx context.Context) (int, error) {
	const op = "Step"
	if err := ctxErr(ctx, op); err != nil {
		return 0, err
	}
	w := m.w
	m.lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(w.tick)
	if m.clock == nil {
		w.callNow = w.now
	}
	w.counts.Steps++
	before := w.events.len()
	for _, f := range w.active {
		if err := m.advance(f); err != nil {
			return w.events.len() - before, internal(op, err)
		}
	}
	// Fulfilment orders with nothing open leave the active list; nothing
	// but a new release can reopen them.
	var c calc
	w.active = slices.DeleteFunc(w.active, func(f *fulfillment) bool {
		back, alloc, picked := f.totals(&c)
		return f.started && back.IsZero() && alloc.IsZero() && picked.IsZero()
	})
	if c.err != nil {
		return w.events.len() - before, internal(op, c.err)
	}
	return w.events.len() - before, nil
}

// Settle calls Step until a step emits no event, at most maxSteps times,
// and returns the number of steps taken. It is how tests and examples let
// the warehouses finish what they can.
func (m *Memory) Settle(ctx context.Context, maxSteps int) (int, error) {
	for i := range maxSteps {
		n, err := m.Step(ctx)
		if err != nil || n == 0 {
			return i + 1, err
		}
	}
	return maxSteps, nil
}

// totals returns the backordered, allocated and picked quantity of f.
func (f *fulfillment) totals(c *calc) (back, alloc, picked canonical.Decimal) {
	for _, l := range f.lines {
		back = c.add(back, l.backordered)
		alloc = c.add(alloc, l.allocated(c))
		picked = c.add(picked, l.picked(c))
	}
	return back, alloc, picked
}

func (m *Memory) advance(f *fulfillment) error {
	var c calc
	back, alloc, picked := f.totals(&c)
	if c.err != nil {
		return c.err
	}
	switch {
	case back.IsZero() && alloc.IsZero() && picked.IsZero():
		f.started = true // cancelled before allocation: nothing to do
	case !f.started:
		f.started = true
		m.allocate(f, &c)
		return m.emitAllocation(f, false, &c)
	case picked.IsPos():
		return m.ship(f, &c)
	case alloc.IsPos() && (!f.doc.ShipComplete || back.IsZero()):
		for _, l := range f.lines {
			for _, r := range l.res {
				r.picked = c.add(r.picked, r.allocated)
				r.allocated = canonical.Decimal{}
			}
		}
		f.pickedOnce = true
		return m.emitAllocation(f, true, &c)
	case back.IsPos():
		if m.allocate(f, &c) {
			return m.emitAllocation(f, false, &c)
		}
	}
	return c.err
}

// allocate reserves available stock for the backordered quantities of f
// and reports whether it reserved anything.
func (m *Memory) allocate(f *fulfillment, c *calc) bool {
	got := false
	for _, l := range f.lines {
		for _, lt := range m.w.lots[whSKU{f.doc.Warehouse, l.doc.Item.SKU}] {
			if !l.backordered.IsPos() {
				break
			}
			if lt.key.status != canonical.InventoryAvailable {
				continue
			}
			free := c.sub(lt.onHand, lt.allocated)
			if l.factor != one {
				// Whole line units (cases) from one lot.
				free = floorDiv(free, l.factor)
			}
			n := free.Min(l.backordered)
			if !n.IsPos() {
				continue
			}
			var r *reservation
			for _, x := range l.res {
				if x.lot == lt {
					r = x
				}
			}
			if r == nil {
				r = &reservation{lot: lt}
				l.res = append(l.res, r)
			}
			r.allocated = c.add(r.allocated, n)
			lt.allocated = c.add(lt.allocated, c.mul(n, l.factor))
			l.backordered = c.sub(l.backordered, n)
			got = true
		}
	}
	return got
}

// emitAllocation emits f's allocation state: picked after picking, else
// backordered when something is, else allocated. Lines carry their picked
// quantity once picking has started.
func (m *Memory) emitAllocation(f *fulfillment, picking bool, c *calc) error {
	f.updates++
	u := &m.w.allocDoc
	*u = canonical.AllocationUpdate{FulfillmentOrderID: f.doc.ID, OrderID: f.doc.OrderID, Warehouse: f.doc.Warehouse,
		AsOf: m.now(), Sequence: f.updates, Lines: slices.Grow(u.Lines[:0], len(f.lines))}
	defer func() { clear(u.Lines); *u = canonical.AllocationUpdate{Lines: u.Lines[:0]} }()
	t := canonical.EventFulfillmentAllocated
	for _, l := range f.lines {
		unit := l.doc.Quantity.Unit
		picked := l.picked(c)
		al := canonical.AllocationLine{FulfillmentLineID: l.doc.ID, OrderLineID: l.doc.OrderLineID, Item: l.doc.Item,
			Allocated:   canonical.NewQuantity(c.add(l.allocated(c), picked), unit),
			Backordered: canonical.NewQuantity(l.backordered, unit)}
		if f.pickedOnce {
			p := canonical.NewQuantity(picked, unit)
			al.Picked = &p
		}
		if l.backordered.IsPos() && t == canonical.EventFulfillmentAllocated {
			t = canonical.EventFulfillmentBackordered
		}
		u.Lines = append(u.Lines, al)
	}
	if picking {
		t = canonical.EventFulfillmentPicked
	}
	if c.err != nil {
		return c.err
	}
	return m.emit(t, f.doc.ID, f.doc.OrderID, u)
}

// ship packs and ships everything picked of f.
func (m *Memory) ship(f *fulfillment, c *calc) error {
	w := m.w
	f.shipments++
	w.nextShipment++
	w.counts.Shipments++
	id := f.doc.ID + "-S" + strconv.Itoa(f.shipments)
	s := &w.shipDoc
	*s = canonical.Shipment{ID: id, Version: 1, OrderID: f.doc.OrderID, FulfillmentOrderID: f.doc.ID, Warehouse: f.doc.Warehouse,
		Refs:    canonical.Refs{{System: System, Type: "shipment", Value: seqID("SHP-", w.nextShipment, 6)}},
		Carrier: w.carrier, Service: "GROUND", ShippedAt: m.now(), Extensions: f.doc.Extensions.Clone(), Lines: s.Lines[:0]}
	defer func() { clear(s.Lines); *s = canonical.Shipment{Lines: s.Lines[:0]} }()
	for _, l := range f.lines {
		picked := l.picked(c)
		if !picked.IsPos() {
			continue
		}
		sl := canonical.ShipmentLine{ID: id + "-" + strconv.Itoa(len(s.Lines)+1), OrderLineID: l.doc.OrderLineID,
			FulfillmentLineID: l.doc.ID, Item: l.doc.Item, Quantity: canonical.NewQuantity(picked, l.doc.Quantity.Unit)}
		lots := true
		for _, r := range l.res {
			if r.picked.IsPos() && r.lot.key.lot == "" {
				lots = false
			}
		}
		for _, r := range l.res {
			if !r.picked.IsPos() {
				continue
			}
			if lots {
				sl.Lots = append(sl.Lots, canonical.LotQuantity{Lot: r.lot.key.lot, Quantity: canonical.NewQuantity(r.picked, l.doc.Quantity.Unit), ExpiresAt: r.lot.expires})
			}
			base := c.mul(r.picked, l.factor)
			r.lot.onHand = c.sub(r.lot.onHand, base)
			r.lot.allocated = c.sub(r.lot.allocated, base)
			r.picked = canonical.Decimal{}
		}
		l.res = deleteEmpty(l.res)
		l.shipped = c.add(l.shipped, picked)
		s.Lines = append(s.Lines, sl)
	}
	if err := m.pack(s, c); err != nil {
		return err
	}
	back, alloc, _ := f.totals(c)
	s.FinalForFulfillment = back.IsZero() && alloc.IsZero()
	if c.err != nil {
		return c.err
	}
	return m.emit(canonical.EventFulfillmentShipped, f.doc.ID, f.doc.OrderID, s)
}

func deleteEmpty(rs []*reservation) []*reservation {
	out := rs[:0]
	for _, r := range rs {
		if r.allocated.IsPos() || r.picked.IsPos() {
			out = append(out, r)
		}
	}
	return out
}

// pack fills packages of Config.PackageCapacity base units with the lines
// of s, in line order, and gives each an SSCC and a tracking number.
func (m *Memory) pack(s *canonical.Shipment, c *calc) error {
	w := m.w
	var room canonical.Decimal
	for _, l := range s.Lines {
		left := l.Quantity.Value
		for left.IsPos() {
			if !room.IsPos() {
				sscc, err := m.nextSSCC()
				if err != nil {
					return err
				}
				p := canonical.Package{SSCC: sscc, TrackingNumber: m.trackingNumber()}
				s.Packages = append(s.Packages, p)
				s.TrackingNumbers = append(s.TrackingNumbers, p.TrackingNumber)
				room = w.capacity
			}
			n := left.Min(room)
			p := &s.Packages[len(s.Packages)-1]
			p.Lines = append(p.Lines, canonical.PackageLine{ShipmentLineID: l.ID, Quantity: canonical.NewQuantity(n, l.Quantity.Unit)})
			left = c.sub(left, n)
			room = c.sub(room, n)
		}
	}
	return c.err
}

// nextSSCC returns the next SSCC-18: extension digit 0, the company prefix,
// a serial reference, and the check digit.
func (m *Memory) nextSSCC() (canonical.SSCC, error) {
	w := m.w
	digits := 16 - len(w.prefix)
	limit := int64(1)
	for range digits {
		limit *= 10
	}
	if w.nextSerial+1 >= limit {
		return "", fmt.Errorf("wms: SSCC serial references of company prefix %s exhausted", w.prefix)
	}
	w.nextSerial++
	// "0", the company prefix and the serial reference, zero-padded.
	var b, serial [20]byte
	d := strconv.AppendInt(serial[:0], w.nextSerial, 10)
	s := append(append(b[:0], '0'), w.prefix...)
	for range digits - len(d) {
		s = append(s, '0')
	}
	return canonical.NewSSCC(string(append(s, d...)))
}

// trackingNumber returns a UPS-style tracking number, "1Z" and 16
// upper-case letters and digits, from the seeded random source.
func (m *Memory) trackingNumber() string {
	const alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXY"
	b := [18]byte{'1', 'Z'}
	for i := 2; i < len(b); i++ {
		b[i] = alphabet[m.w.rng.IntN(len(alphabet))]
	}
	return string(b[:])
}
