package wms

import (
	"context"
	"fmt"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// ReturnReceipt is what the warehouse received for one line of an
// authorized return. It is a plain value, safe for concurrent reads. The
// zero value is an empty receipt.
type ReturnReceipt struct {
	// LineID is the return line's ID.
	LineID string
	// Quantity is in the authorized unit: positive, at most authorized.
	Quantity    canonical.Quantity
	Condition   canonical.ReturnCondition
	Disposition canonical.Disposition
}

// ReceiveReturn simulates the receipt of returned goods at the return's
// warehouse. Each line is received once, with its condition and
// disposition: restock puts the goods back into available stock (goods in
// new or opened condition only), quarantine puts them on quality hold,
// and refurbish, scrap and return to vendor add no stock. A stock change
// emits [canonical.EventInventoryAdjusted] (reason return_to_stock or
// quality_hold); then [canonical.EventReturnReceived] carries the return
// with its received quantities. It returns the updated return.
//
// CodeNotFound for an unknown return; CodeInvalid naming the field for an
// unknown line, a quantity out of range or in another unit, or an unknown
// condition or disposition; CodeConflict for a line already received.
func (m *Memory) ReceiveReturn(ctx context.Context, returnID string, receipts []ReturnReceipt) (canonical.Return, error) {
	const op = "ReceiveReturn"
	if err := ctxErr(ctx, op); err != nil {
		return canonical.Return{}, err
	}
	w := m.w
	m.lock()
	defer w.mu.Unlock()
	r, ok := w.returns[returnID]
	if !ok {
		return canonical.Return{}, errorf(connector.CodeNotFound, op, ErrNotFound, "return %q", returnID)
	}
	var bad []canonical.FieldError
	seen := map[string]bool{}
	idx := make([]int, len(receipts))
	for i, rc := range receipts {
		p := fmt.Sprintf("receipts[%d]", i)
		idx[i] = -1
		for j := range r.doc.Lines {
			if r.doc.Lines[j].ID == rc.LineID {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			bad = append(bad, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("no line %q in return %q", rc.LineID, returnID)})
			continue
		}
		if seen[rc.LineID] {
			bad = append(bad, canonical.FieldError{Field: p + ".lineId", Message: fmt.Sprintf("duplicate line %q", rc.LineID)})
		}
		seen[rc.LineID] = true
		rl := r.doc.Lines[idx[i]]
		switch {
		case rc.Quantity.Unit != rl.Authorized.Unit:
			bad = append(bad, canonical.FieldError{Field: p + ".quantity.unit", Message: fmt.Sprintf("must be the authorized unit %s, is %s", rl.Authorized.Unit, rc.Quantity.Unit)})
		case !rc.Quantity.Value.IsPos() || rc.Quantity.Value.Cmp(rl.Authorized.Value) > 0:
			bad = append(bad, canonical.FieldError{Field: p + ".quantity.value", Message: fmt.Sprintf("must be > 0 and at most the authorized %s, is %s", rl.Authorized.Value, rc.Quantity.Value)})
		}
		switch rc.Condition {
		case canonical.ConditionNew, canonical.ConditionOpened, canonical.ConditionDamaged, canonical.ConditionDefective:
		default:
			bad = append(bad, canonical.FieldError{Field: p + ".condition", Message: fmt.Sprintf("unknown condition %q", rc.Condition)})
		}
		switch rc.Disposition {
		case canonical.DispositionRestock:
			if rc.Condition == canonical.ConditionDamaged || rc.Condition == canonical.ConditionDefective {
				bad = append(bad, canonical.FieldError{Field: p + ".disposition", Message: fmt.Sprintf("cannot restock goods in %s condition", rc.Condition)})
			}
		case canonical.DispositionRefurbish, canonical.DispositionScrap, canonical.DispositionReturnToVendor, canonical.DispositionQuarantine:
		default:
			bad = append(bad, canonical.FieldError{Field: p + ".disposition", Message: fmt.Sprintf("unknown disposition %q", rc.Disposition)})
		}
	}
	if len(bad) > 0 {
		return canonical.Return{}, invalid(op, "return receipt", bad...)
	}
	for _, i := range idx {
		if l := r.doc.Lines[i]; l.Received.Value.IsPos() {
			return canonical.Return{}, errorf(connector.CodeConflict, op, ErrConflict, "line %q of return %q was already received", l.ID, returnID)
		}
	}
	now := m.now()
	doc := cloneReturn(r.doc)
	doc.Version++
	doc.ReceivedAt = now
	for k, rc := range receipts {
		l := &doc.Lines[idx[k]]
		l.Received, l.Condition, l.Disposition = rc.Quantity, rc.Condition, rc.Disposition
		var status canonical.InventoryStatus
		var reason canonical.AdjustmentReason
		switch rc.Disposition {
		case canonical.DispositionRestock:
			status, reason = canonical.InventoryAvailable, canonical.AdjustReturnToStock
		case canonical.DispositionQuarantine:
			status, reason = canonical.InventoryQualityHold, canonical.AdjustQualityHold
		default:
			continue
		}
		f, err := w.factor(l.Item.SKU, rc.Quantity.Unit)
		if err != nil {
			return canonical.Return{}, internal(op, err)
		}
		var c calc
		delta := canonical.NewQuantity(c.mul(rc.Quantity.Value, f), w.items[l.Item.SKU].BaseUnit)
		if c.err != nil {
			return canonical.Return{}, internal(op, c.err)
		}
		adj := canonical.InventoryAdjustment{ID: fmt.Sprintf("%s/%s", doc.ID, l.ID), Item: canonical.ItemRef{SKU: l.Item.SKU, GTIN: l.Item.GTIN},
			Location: doc.Warehouse, Status: status, Delta: delta, Reason: reason, Note: "RMA " + doc.RMANumber, AdjustedAt: now}
		if _, err := m.applyAdjustment(op, adj); err != nil {
			return canonical.Return{}, err
		}
	}
	if err := doc.Validate(); err != nil {
		return canonical.Return{}, internal(op, err)
	}
	partition := doc.OrderID
	if partition == "" {
		partition = doc.ID
	}
	if err := m.emit(canonical.EventReturnReceived, doc.ID, partition, doc); err != nil {
		return canonical.Return{}, internal(op, err)
	}
	r.doc = doc
	w.counts.ReturnsReceived++
	return cloneReturn(doc), nil
}

// Return returns the return with the given ID as the WMS holds it.
// CodeNotFound when it is unknown.
func (m *Memory) Return(ctx context.Context, id string) (canonical.Return, error) {
	const op = "Return"
	if err := ctxErr(ctx, op); err != nil {
		return canonical.Return{}, err
	}
	m.w.mu.Lock()
	defer m.w.mu.Unlock()
	r, ok := m.w.returns[id]
	if !ok {
		return canonical.Return{}, errorf(connector.CodeNotFound, op, ErrNotFound, "return %q", id)
	}
	return cloneReturn(r.doc), nil
}
