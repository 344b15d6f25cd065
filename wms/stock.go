package wms

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// Inventory returns the current positions matching q as snapshots, sorted
// by SKU, then location, lot and status: one per stock quantity (item,
// warehouse, lot, status), and a zero available position for an item a
// warehouse holds none of. Available is on hand minus allocated for
// available stock and zero for stock on hold, damaged or expired. Each
// position's Sequence is the sequence of the last inventory event of its
// item and warehouse (zero before any).
func (m *Memory) Inventory(ctx context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	const op = "Inventory"
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	m.lock()
	defer m.w.mu.Unlock()
	ps, err := m.positions(q)
	if err != nil {
		return nil, internal(op, err)
	}
	return ps, nil
}

// Snapshot emits an [canonical.EventInventorySnapshot] for every position
// Inventory would return for q and returns the positions, each with the
// sequence of its event.
func (m *Memory) Snapshot(ctx context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	const op = "Snapshot"
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	m.lock()
	defer m.w.mu.Unlock()
	ps, err := m.positions(q)
	if err != nil {
		return nil, internal(op, err)
	}
	for i := range ps {
		subj := m.w.invSubject(ps[i].Location, ps[i].Item.SKU)
		ps[i].Sequence = int64(m.w.subjSeq[subj] + 1)
		if err := m.emit(canonical.EventInventorySnapshot, subj, subj, ps[i]); err != nil {
			return nil, internal(op, err)
		}
	}
	return ps, nil
}

func (m *Memory) positions(q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	w := m.w
	now := m.now()
	var c calc
	// The order comes from the sort at the end (by SKU, location, lot and
	// status, which identify a position): a query for some SKUs looks up
	// those only, and the lots are not sorted on their own.
	skus := q.SKUs
	if len(skus) == 0 {
		skus = sortedKeys(w.items)
	} else if len(skus) > 1 {
		skus = slices.Compact(slices.Sorted(slices.Values(skus)))
	}
	// At least one position for each SKU and warehouse.
	locs := len(w.warehouses)
	if len(q.Locations) > 0 {
		locs = min(locs, len(q.Locations))
	}
	out := make([]canonical.InventoryPosition, 0, len(skus)*locs)
	for _, sku := range skus {
		it, ok := w.items[sku]
		if !ok {
			continue
		}
		ref := canonical.ItemRef{SKU: sku, GTIN: it.GTIN}
		zero := canonical.NewQuantity(canonical.Decimal{}, it.BaseUnit)
		for _, wh := range w.warehouses {
			if len(q.Locations) > 0 && !slices.Contains(q.Locations, wh.ID) {
				continue
			}
			seq := int64(w.subjSeq[w.invSubject(wh.ID, sku)])
			lots := w.lots[whSKU{wh.ID, sku}]
			if len(lots) == 0 {
				out = append(out, canonical.InventoryPosition{Item: ref, Location: wh.ID, Status: canonical.InventoryAvailable,
					Kind: canonical.QuantitySnapshot, OnHand: zero, Allocated: zero, Available: zero, Inbound: zero, AsOf: now, Sequence: seq})
				continue
			}
			for _, l := range lots {
				avail := canonical.Decimal{}
				if l.key.status == canonical.InventoryAvailable {
					avail = c.sub(l.onHand, l.allocated)
				}
				out = append(out, canonical.InventoryPosition{Item: ref, Location: wh.ID, Lot: l.key.lot, Status: l.key.status,
					Kind: canonical.QuantitySnapshot, OnHand: canonical.NewQuantity(l.onHand, it.BaseUnit),
					Allocated: canonical.NewQuantity(l.allocated, it.BaseUnit), Available: canonical.NewQuantity(avail, it.BaseUnit),
					Inbound: zero, AsOf: now, Sequence: seq})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b canonical.InventoryPosition) int {
		return cmp.Or(cmp.Compare(a.Item.SKU, b.Item.SKU), cmp.Compare(a.Location, b.Location), cmp.Compare(a.Lot, b.Lot), cmp.Compare(a.Status, b.Status))
	})
	if len(out) == 0 {
		out = nil // none is nil, as it always was
	}
	return out, c.err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Adjust applies a signed stock change, such as a receipt of goods
// (reason found or receipt_correction) or a loss (damage, shrinkage), and
// emits [canonical.EventInventoryAdjusted]. It returns the adjustment with
// the WMS's ref (wms/adjustment "ADJ-000001") and its Sequence, the
// sequence of its event among the events of its item and warehouse.
// Backorders are allocated from added stock at the next [Memory.Step].
//
// Adjust is idempotent by the adjustment's ID: the same ID with the same
// change returns the first result, with another change it is a
// CodeConflict error. An invalid adjustment, an unknown warehouse or SKU,
// or a delta not in the item's base unit is a CodeInvalid error naming the
// field; a loss that would leave less on hand than is allocated is a
// CodeConflict error.
func (m *Memory) Adjust(ctx context.Context, adj canonical.InventoryAdjustment) (canonical.InventoryAdjustment, error) {
	const op = "Adjust"
	if err := ctxErr(ctx, op); err != nil {
		return canonical.InventoryAdjustment{}, err
	}
	if err := adj.Validate(); err != nil {
		return canonical.InventoryAdjustment{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	w := m.w
	m.lock()
	defer w.mu.Unlock()
	if prev, ok, err := w.findAdjustment(adj.ID); err != nil {
		return canonical.InventoryAdjustment{}, internal(op, err)
	} else if ok {
		if prev.Item.SKU != adj.Item.SKU || prev.Location != adj.Location || prev.Lot != adj.Lot || prev.Status != adj.Status ||
			!prev.Delta.Equal(adj.Delta) || prev.Reason != adj.Reason {
			return canonical.InventoryAdjustment{}, errorf(connector.CodeConflict, op, ErrConflict, "adjustment %q was applied with another change", adj.ID)
		}
		return prev, nil
	}
	var bad []canonical.FieldError
	if _, ok := w.whIndex[adj.Location]; !ok {
		bad = append(bad, canonical.FieldError{Field: "location", Message: fmt.Sprintf("unknown warehouse %q", adj.Location)})
	}
	bad = append(bad, w.checkLine("", 0, "delta", adj.Item.SKU, adj.Delta, false)...)
	if len(bad) > 0 {
		return canonical.InventoryAdjustment{}, invalid(op, "inventory adjustment", bad...)
	}
	return m.applyAdjustment(op, adj)
}

// applyAdjustment changes the stock by adj, which is checked, and emits
// its event. The caller holds the lock.
func (m *Memory) applyAdjustment(op string, adj canonical.InventoryAdjustment) (canonical.InventoryAdjustment, error) {
	w := m.w
	k := stockKey{wh: adj.Location, sku: adj.Item.SKU, lot: adj.Lot, status: adj.Status}
	var c calc
	l := w.stock[k]
	onHand := canonical.Decimal{}
	allocated := canonical.Decimal{}
	if l != nil {
		onHand, allocated = l.onHand, l.allocated
	}
	after := c.add(onHand, adj.Delta.Value)
	if c.err != nil {
		return canonical.InventoryAdjustment{}, internal(op, c.err)
	}
	if after.Less(allocated) {
		return canonical.InventoryAdjustment{}, errorf(connector.CodeConflict, op, ErrConflict,
			"adjustment %q by %s would leave %s on hand of %s in %s, less than the %s allocated", adj.ID, adj.Delta.Value, after, adj.Item.SKU, adj.Location, allocated)
	}
	if after.IsNeg() {
		return canonical.InventoryAdjustment{}, errorf(connector.CodeConflict, op, ErrConflict,
			"adjustment %q by %s would leave %s on hand of %s in %s", adj.ID, adj.Delta.Value, after, adj.Item.SKU, adj.Location)
	}
	if l == nil {
		l = w.lot(k, time.Time{})
	}
	w.nextAdj++
	// The adjustment returned is the event's document: the world keeps
	// the event only, and the refs, encoded in it, are the caller's.
	doc := adj
	doc.Refs = withRef(make(canonical.Refs, 0, len(adj.Refs)+1), adj.Refs,
		canonical.ExternalRef{System: System, Type: "adjustment", Value: seqID("ADJ-", w.nextAdj, 6)})
	subj := w.invSubject(adj.Location, adj.Item.SKU)
	doc.Sequence = int64(w.subjSeq[subj] + 1)
	pos := w.events.len()
	w.adjDoc = doc
	err := m.emit(canonical.EventInventoryAdjusted, subj, subj, &w.adjDoc)
	w.adjDoc = canonical.InventoryAdjustment{} // keeps nothing of the caller's alive
	if err != nil {
		return canonical.InventoryAdjustment{}, internal(op, err)
	}
	l.onHand = after
	w.counts.Adjustments++
	rec := adjustmentRecord{pos: pos, at: doc.AdjustedAt}
	if h := w.adjustmentHash(doc.ID); !w.hasAdjustmentHash(h) {
		w.adjustments[h] = rec
	} else { // another adjustment's ID has the hash
		if w.adjustmentsByID == nil {
			w.adjustmentsByID = map[string]adjustmentRecord{}
		}
		w.adjustmentsByID[doc.ID] = rec
	}
	return doc, nil
}

// adjustmentSeed is the seed of the hashes of adjustment IDs that key
// world.adjustments.
var adjustmentSeed = maphash.MakeSeed()

// adjustmentHash returns the hash of the adjustment ID id.
func (w *world) adjustmentHash(id string) uint64 {
	if w.hashAdjustmentID != nil {
		return w.hashAdjustmentID(id)
	}
	return maphash.String(adjustmentSeed, id)
}

// hasAdjustmentHash reports whether an adjustment whose ID has the hash h
// was applied. The caller holds the lock.
func (w *world) hasAdjustmentHash(h uint64) bool {
	_, ok := w.adjustments[h]
	return ok
}

// findAdjustment returns the adjustment applied with ID id, if any. The
// caller holds the lock.
func (w *world) findAdjustment(id string) (canonical.InventoryAdjustment, bool, error) {
	rec, ok := w.adjustments[w.adjustmentHash(id)]
	if !ok {
		// An ID is kept by its hash unless an earlier ID had the hash.
		return canonical.InventoryAdjustment{}, false, nil
	}
	doc, err := w.adjustment(rec)
	if err != nil || doc.ID == id {
		return doc, err == nil, err
	}
	if rec, ok = w.adjustmentsByID[id]; !ok {
		return canonical.InventoryAdjustment{}, false, nil
	}
	doc, err = w.adjustment(rec)
	return doc, err == nil, err
}

// adjustmentRecord is where an applied adjustment is: its event, at
// position pos of the feed, carries it as data. at is its AdjustedAt as
// given, which the event's text does not keep exactly (the location, the
// monotonic reading).
type adjustmentRecord struct {
	pos int
	at  time.Time
}

// adjustment returns the adjustment applied at rec, decoded from its
// event. The caller holds the lock.
func (w *world) adjustment(rec adjustmentRecord) (canonical.InventoryAdjustment, error) {
	doc, err := canonical.DecodeData[canonical.InventoryAdjustment](w.events.at(rec.pos).Event(w.source))
	if err != nil {
		return canonical.InventoryAdjustment{}, fmt.Errorf("adjustment event at feed position %d: %w", rec.pos, err)
	}
	doc.AdjustedAt = rec.at
	return doc, nil
}

// withRef appends rs with r to dst as [canonical.Refs.With] returns them:
// r replaces the ref of its system and type, or is added at the end.
func withRef(dst, rs canonical.Refs, r canonical.ExternalRef) canonical.Refs {
	replaced := false
	for _, x := range rs {
		if x.System == r.System && x.Type == r.Type {
			x, replaced = r, true
		}
		dst = append(dst, x)
	}
	if !replaced {
		dst = append(dst, r)
	}
	return dst
}

// invSubject returns inventorySubject(sku, wh), made once for each pair.
// The caller holds the lock.
func (w *world) invSubject(wh, sku string) string {
	k := whSKU{wh, sku}
	if s, ok := w.invSubjects[k]; ok {
		return s
	}
	if w.invSubjects == nil {
		w.invSubjects = map[whSKU]string{}
	}
	s := inventorySubject(sku, wh)
	w.invSubjects[k] = s
	return s
}
