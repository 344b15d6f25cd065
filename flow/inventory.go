package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
)

// ErrInventoryBehind: the WMS's inventory of an item and warehouse is
// older than an inventory event the WMS emitted for them. The error is
// transient: the event is retried until the WMS has caught up.
var ErrInventoryBehind = errors.New("flow: warehouse inventory behind its event")

// inventoryKey is the partition key of the inventory events of an item at
// a warehouse, as the WMS sets it: "SKU@WAREHOUSE".
func inventoryKey(sku, location string) string { return sku + "@" + location }

// invState is what the flow has pushed for one SKU@WAREHOUSE key. Its
// handler (one at a time per key) writes it under inventorySync.mu.
type invState struct {
	// seq is the WMS's per-subject sequence of the last position pushed to
	// the ERP and the CRM; events at or below it are covered by it.
	seq int64
	// pending is the position read for an event whose push has not
	// completed, so that a retry pushes the same positions under the same
	// idempotency key.
	pending *invPush
	// avail is the last availability sequence assigned to a read of the
	// key (see AvailabilityStride); reads assign them one at a time, in
	// the order they read, holding gate.
	avail int64
	// gate, a semaphore of one, is held across a read of the key's
	// positions and the assignment of its availability sequence.
	gate chan struct{}
	// loaded reports that avail includes the sequence stored for the key
	// (flow/availseq.go).
	loaded bool
	// mark is the highest availability sequence stored for the key: the
	// sequences up to it were reserved by a save (flow/availseq.go).
	mark int64
}

// AvailabilityStride scales the WMS's inventory sequence into the sequence
// of the availability the flow publishes to the CRM: a read of an item's
// positions at a warehouse whose WMS sequence is s is published with
// sequence s×AvailabilityStride, or, when the flow already published that
// or more for them (a refresh after an allocation, which moves no WMS
// sequence), one more than the last. So the CRM, which ignores an
// availability at or below the sequence it shows, keeps the newest read:
// an allocation's refresh is never overtaken by an older snapshot, and an
// inventory event at a higher WMS sequence overtakes any refresh before it.
const AvailabilityStride = 1_000_000

// invPush is one push of a key's positions, for one source event.
type invPush struct {
	event     canonical.EventKey
	positions []canonical.InventoryPosition
	seq       int64
	// avail is the sequence of the availability published for it.
	avail int64
}

// inventorySync is the flow's state of inventory sync. Its zero value is
// ready to use.
type inventorySync struct {
	mu   sync.Mutex
	keys map[string]*invState
}

func (s *inventorySync) state(key string) *invState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string]*invState{}
	}
	st := s.keys[key]
	if st == nil {
		st = &invState{gate: make(chan struct{}, 1)}
		s.keys[key] = st
	}
	return st
}

// InventorySeq returns the WMS's per-subject sequence of the last inventory
// position the flow pushed to the ERP and the CRM for sku at location, and
// false when it pushed none.
func (f *Flow) InventorySeq(sku, location string) (int64, bool) {
	f.inv.mu.Lock()
	defer f.inv.mu.Unlock()
	st := f.inv.keys[inventoryKey(sku, location)]
	if st == nil || st.seq == 0 {
		return 0, false
	}
	return st.seq, true
}

// onInventory handles an inventory.adjusted or inventory.snapshot event
// of the WMS. See the package documentation, section Inventory sync.
func (f *Flow) onInventory(ctx context.Context, ev canonical.Event, bad func(error) error) (bool, error) {
	var sku, location string
	var seq int64
	switch ev.Type {
	case canonical.EventInventoryAdjusted:
		a, err := canonical.DecodeData[canonical.InventoryAdjustment](ev)
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		sku, location, seq = a.Item.SKU, a.Location, a.Sequence
	default:
		p, err := canonical.DecodeData[canonical.InventoryPosition](ev)
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		sku, location, seq = p.Item.SKU, p.Location, p.Sequence
	}
	if sku == "" {
		return false, bad(fmt.Errorf("%w: data.item.sku: required", ErrBadEvent))
	}
	// The partition key is the key (compared without building it).
	key := ev.Partition()
	if len(key) != len(sku)+1+len(location) || !strings.HasPrefix(key, sku) || key[len(sku)] != '@' || !strings.HasSuffix(key, location) {
		return false, bad(fmt.Errorf("%w: partition key %q is not the data's %q", ErrBadEvent, key, inventoryKey(sku, location)))
	}
	st := f.inv.state(key)
	f.inv.mu.Lock()
	covered := seq <= st.seq
	push := st.pending
	f.inv.mu.Unlock()
	if covered {
		// A duplicate, a stale event or one of a burst already pushed.
		return true, nil
	}
	if push == nil || push.event != ev.Key() {
		var err error
		if push, err = f.readInventory(ctx, st, sku, location, key, false, bad); err != nil {
			return false, err
		}
		push.event = ev.Key()
		if push.seq < seq {
			return false, fmt.Errorf("%w: %s at sequence %d, event %s at %d", ErrInventoryBehind, key, push.seq, ev.ID, seq)
		}
		f.inv.mu.Lock()
		covered = push.seq <= st.seq
		if !covered {
			st.pending = push
		}
		f.inv.mu.Unlock()
		if covered {
			return true, nil
		}
	}
	avail, err := availability(sku, location, push)
	if err != nil {
		return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
	}
	// The key names the positions too: a flow restarted after a crash
	// reads them again, maybe changed, and must not reuse the key of the
	// ones pushed before.
	if err := f.roles.ledger.ApplyInventory(ctx, f.key("apply_inventory", key, ev.Source, ev.ID, positionsID(push.positions)), push.positions); err != nil {
		return false, err
	}
	f.landed(ctx, targetERP)
	if err := f.roles.avail.PublishAvailability(ctx, []connector.Availability{avail}); err != nil {
		return false, err
	}
	f.landed(ctx, targetCRM)
	f.inv.mu.Lock()
	st.seq = max(st.seq, push.seq)
	st.pending = nil
	f.inv.mu.Unlock()
	return false, nil
}

// readInventory reads the positions of sku at location (key, their
// SKU@WAREHOUSE), sums them over lots and assigns the read its
// availability sequence (see AvailabilityStride), holding st.gate so that
// reads of the key are assigned sequences in the order they read (a read
// that failed gives it up while it waits to be retried). A
// refresh (a read for an allocation update, not for an inventory event) is
// given at least one more than the WMS sequence times the stride: an
// inventory event's read at that sequence may have been published before a
// restart. A sequence no read could derive again is stored before it is
// returned (flow/availseq.go). The returned push has no event.
func (f *Flow) readInventory(ctx context.Context, st *invState, sku, location, key string, refresh bool, bad func(error) error) (*invPush, error) {
	gate := &slot{sem: st.gate}
	if err := gate.Acquire(ctx); err != nil {
		return nil, err
	}
	defer gate.Release()
	if err := f.loadAvailability(ctx, st, key); err != nil {
		return nil, err
	}
	q := [2]string{sku, location} // one allocation for both lists
	// A read the decorators retry gives the gate up while it waits, so that
	// a failing read costs its own event time, not the time of every read
	// of the key queued behind it; the read that succeeds holds the gate
	// until its sequence is assigned.
	ps, err := f.roles.stock.Inventory(retry.ReleaseWhileWaiting(ctx, gate), connector.InventoryQuery{SKUs: q[0:1:1], Locations: q[1:2:2]})
	if err != nil {
		return nil, err
	}
	ps = slices.DeleteFunc(ps, func(p canonical.InventoryPosition) bool { return p.Item.SKU != sku || p.Location != location })
	if len(ps) == 0 {
		return nil, bad(fmt.Errorf("%w: the WMS has no inventory of %s", ErrBadEvent, key))
	}
	agg, err := aggregate(ps)
	if err != nil {
		return nil, bad(fmt.Errorf("%w: inventory of %s: %w", ErrBadEvent, key, err))
	}
	push := &invPush{positions: agg}
	for _, p := range agg {
		push.seq = max(push.seq, p.Sequence)
	}
	floor := push.seq * AvailabilityStride
	if refresh {
		floor++
	}
	f.inv.mu.Lock()
	st.avail = max(floor, st.avail+1)
	push.avail = st.avail
	f.inv.mu.Unlock()
	if err := f.saveAvailability(ctx, st, key, push.seq, push.avail); err != nil {
		return nil, err
	}
	return push, nil
}

// refreshAvailability publishes the availability of each of skus at
// location from a fresh read of the WMS, for a change of the WMS that moves
// no inventory sequence (an allocation, a deallocation). The ERP's ledger
// is left alone: allocation changes no quantity on hand.
//
// A read the flow cannot publish (the WMS has no inventory of the item, or
// units that do not add up) is logged and skipped: it is no fault of the
// event that caused the refresh, whose own effects are made.
func (f *Flow) refreshAvailability(ctx context.Context, location string, skus []string) error {
	bad := func(err error) error { return &EventError{Err: err} }
	for i, sku := range skus {
		if sku == "" || slices.Contains(skus[:i], sku) {
			continue
		}
		key := inventoryKey(sku, location)
		push, err := f.readInventory(ctx, f.inv.state(key), sku, location, key, true, bad)
		var avail connector.Availability
		if err == nil {
			avail, err = availability(sku, location, push)
		}
		var ee *EventError
		if errors.As(err, &ee) || (err != nil && push != nil) {
			f.logger.WarnContext(ctx, "flow: availability not refreshed", "key", key, "error", err)
			continue
		}
		if err != nil {
			return err
		}
		if err := f.roles.avail.PublishAvailability(ctx, []connector.Availability{avail}); err != nil {
			return err
		}
		f.landed(ctx, targetCRM)
	}
	return nil
}

// positionsID identifies the quantities of positions, for idempotency keys:
// per position "lot|status|onHand|allocated|available|inbound|asOf|seq;",
// each quantity as "value unit" and asOf in RFC 3339 with nanoseconds, in
// UTC. The text must not change between releases: a flow restarted after a
// crash derives the key of a push it may have made before.
func positionsID(ps []canonical.InventoryPosition) string {
	var sb strings.Builder // one allocation: String does not copy
	sb.Grow(160 * len(ps))
	var buf [64]byte // each value, appended on the stack
	for i := range ps {
		p := &ps[i]
		sb.WriteString(p.Lot)
		sb.WriteByte('|')
		sb.WriteString(string(p.Status))
		for _, q := range [...]*canonical.Quantity{&p.OnHand, &p.Allocated, &p.Available, &p.Inbound} {
			sb.WriteByte('|')
			b, _ := q.Value.AppendText(buf[:0]) // never fails
			sb.Write(b)
			sb.WriteByte(' ')
			sb.WriteString(string(q.Unit))
		}
		sb.WriteByte('|')
		sb.Write(p.AsOf.UTC().AppendFormat(buf[:0], time.RFC3339Nano))
		sb.WriteByte('|')
		sb.Write(strconv.AppendInt(buf[:0], p.Sequence, 10))
		sb.WriteByte(';')
	}
	return sb.String()
}

// availability sums the available quantity of the positions of status
// available, as the CRM shows it, with the push's availability sequence.
func availability(sku, location string, push *invPush) (connector.Availability, error) {
	a := connector.Availability{SKU: sku, Location: location, Sequence: push.avail}
	var sum canonical.Decimal
	var unit canonical.Unit
	var asOf time.Time
	for _, p := range push.positions {
		if p.AsOf.After(asOf) {
			asOf = p.AsOf
		}
		if unit == "" {
			unit = p.Available.Unit
		}
		if p.Status != canonical.InventoryAvailable {
			continue
		}
		if p.Available.Unit != unit {
			return a, fmt.Errorf("inventory of %s: available in %s and in %s", inventoryKey(sku, location), unit, p.Available.Unit)
		}
		var err error
		if sum, err = sum.Add(p.Available.Value); err != nil {
			return a, fmt.Errorf("inventory of %s: %w", inventoryKey(sku, location), err)
		}
	}
	a.Available, a.AsOf = canonical.NewQuantity(sum, unit), asOf
	return a, nil
}

// aggregate sums positions of the same item, location and status over
// their lots: the ERP's ledger is kept per item, warehouse and status, and
// lots stay in the WMS. The sums are snapshots with the newest sequence and
// as-of of their lots, in the order of the first lot of each status. It
// writes them over ps, whose positions are then lost.
func aggregate(ps []canonical.InventoryPosition) ([]canonical.InventoryPosition, error) {
	// The sums are written over ps, in place: the i-th sum is written
	// after the i-th position is read.
	out := ps[:0]
	for _, p := range ps {
		i := slices.IndexFunc(out, func(o canonical.InventoryPosition) bool {
			return o.Item.SKU == p.Item.SKU && o.Location == p.Location && o.Status == p.Status
		})
		if i < 0 {
			p.Lot, p.Kind = "", canonical.QuantitySnapshot
			out = append(out, p)
			continue
		}
		o := &out[i]
		for _, q := range [...]struct {
			sum  *canonical.Quantity
			add  canonical.Quantity
			name string
		}{
			{&o.OnHand, p.OnHand, "onHand"}, {&o.Allocated, p.Allocated, "allocated"},
			{&o.Available, p.Available, "available"}, {&o.Inbound, p.Inbound, "inbound"},
		} {
			if q.sum.Unit != q.add.Unit {
				return nil, fmt.Errorf("%s of lot %q in %s, of another lot in %s", q.name, p.Lot, q.add.Unit, q.sum.Unit)
			}
			v, err := q.sum.Value.Add(q.add.Value)
			if err != nil {
				return nil, fmt.Errorf("%s of lot %q: %w", q.name, p.Lot, err)
			}
			q.sum.Value = v
		}
		o.Sequence = max(o.Sequence, p.Sequence)
		if p.AsOf.After(o.AsOf) {
			o.AsOf = p.AsOf
		}
	}
	return out, nil
}

// isInventory reports whether t is an inventory event the flow syncs.
func isInventory(t canonical.EventType) bool {
	return t == canonical.EventInventoryAdjusted || t == canonical.EventInventorySnapshot
}
