package flow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
)

// ErrNotStocked is matched by the error of [InventorySourcer.Plan] for an
// order with an item no warehouse stocks: no retry can source it, so the
// error is permanent and the flow dead-letters the order's acceptance at
// once, naming the items. Replay it once a warehouse stocks them.
var ErrNotStocked = errors.New("flow: no warehouse stocks the item")

// Sourcer chooses the warehouses that fulfil an order: it returns the
// fulfilment orders to release, at most one per warehouse, covering the
// open quantity of every line. The flow calls it once per accepted order
// version and keeps the result, so a retried release releases the same
// fulfilment orders. Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation; a field of this type says what
// nil means there.
type Sourcer interface {
	Plan(ctx context.Context, order canonical.Order) ([]canonical.FulfillmentOrder, error)
}

// InventorySourcer is the default Sourcer: it reads the available stock of
// the order's items from the WMS and fills the order from one warehouse when
// one can ship every line in full; otherwise it splits, taking each line
// from the warehouse with the most available first and letting the rest
// spill to the next. A ship-complete order is never split: it goes to the
// warehouse that can fill the most lines (its first in Warehouses on a tie),
// where what is missing is backordered. What no warehouse has goes to the
// warehouse with the most of it, or the first, where it is backordered.
// An item of which no warehouse (of Warehouses, when set) has a stock
// record at all, not even of zero or of another status, is not stocked:
// Plan fails with an error matching [ErrNotStocked], marked permanent
// ([retry.Permanent]), that names the items. (A reader that returns no
// position for an item out of stock everywhere makes it look not stocked.)
//
// Stock is compared in the line's unit: stock kept in another unit of the
// same dimension with a fixed factor (grams against kilograms) is
// converted, but a line in a packaging unit the stock is not kept in (a
// case against stock in each, whose factor is the item's) is treated as
// unavailable everywhere, so it goes where unavailable lines go. An
// InventorySourcer is safe for concurrent use when its reader is. Inventory
// is required; the zero value of Warehouses is its documented default.
type InventorySourcer struct {
	// Inventory reads the stock. Required.
	Inventory connector.InventoryReader
	// Warehouses ranks the warehouses for ties; nil means the locations of
	// the stock in name order.
	Warehouses []string
}

var _ Sourcer = (*InventorySourcer)(nil)

// Plan implements Sourcer. Fulfilment orders get the IDs "ORDER-WAREHOUSE"
// and lines "ORDER-WAREHOUSE:LINE", so planning is deterministic for the
// same stock.
func (s *InventorySourcer) Plan(ctx context.Context, o canonical.Order) ([]canonical.FulfillmentOrder, error) {
	if s.Inventory == nil {
		return nil, fmt.Errorf("%w: InventorySourcer.Inventory is nil", ErrInvalidConfig)
	}
	// A need points to its line in o.Lines: a copy of the line (448
	// bytes) per need and per call of have cost more than the plan.
	type need struct {
		line *canonical.OrderLine
		qty  canonical.Decimal
	}
	var needs []need
	skus := make([]string, 0, len(o.Lines))
	for i := range o.Lines {
		l := &o.Lines[i]
		q := l.Quantity.Value
		if !l.Buckets.IsZero() {
			open, err := l.Buckets.NetOrdered()
			if err != nil {
				return nil, fmt.Errorf("flow: plan order %s line %s: %w", o.ID, l.ID, err)
			}
			if q, err = open.Sub(l.Buckets.Get(canonical.BucketShipped)); err != nil {
				return nil, fmt.Errorf("flow: plan order %s line %s: %w", o.ID, l.ID, err)
			}
		}
		if !q.IsPos() {
			continue
		}
		needs = append(needs, need{l, q})
		skus = append(skus, l.Item.SKU)
	}
	if len(needs) == 0 {
		return nil, nil
	}
	pos, err := s.Inventory.Inventory(ctx, connector.InventoryQuery{SKUs: skus})
	if err != nil {
		return nil, err
	}
	stocked := make(map[string]bool, len(skus))
	for _, p := range pos {
		if s.Warehouses == nil || slices.Contains(s.Warehouses, p.Location) {
			stocked[p.Item.SKU] = true
		}
	}
	var missing []string
	for _, nd := range needs {
		if sku := nd.line.Item.SKU; !stocked[sku] {
			stocked[sku] = true // named once
			missing = append(missing, strconv.Quote(sku))
		}
	}
	if len(missing) > 0 {
		return nil, retry.Permanent(fmt.Errorf("%w: order %s: %s", ErrNotStocked, o.ID, strings.Join(missing, ", ")))
	}
	type key struct{ sku, wh string }
	avail := map[key]canonical.Decimal{}
	whs := slices.Clone(s.Warehouses)
	for _, p := range pos {
		if p.Status != canonical.InventoryAvailable {
			continue
		}
		if !slices.Contains(whs, p.Location) {
			if s.Warehouses != nil {
				continue
			}
			whs = append(whs, p.Location)
		}
		k := key{p.Item.SKU, p.Location}
		v := p.Available.Value
		if !v.IsPos() {
			continue
		}
		sum, err := avail[k].Add(v)
		if err != nil {
			return nil, fmt.Errorf("flow: plan order %s: stock of %s at %s: %w", o.ID, k.sku, k.wh, err)
		}
		avail[k] = sum
	}
	if s.Warehouses == nil {
		slices.Sort(whs)
	}
	if len(whs) == 0 {
		return nil, fmt.Errorf("flow: plan order %s: no warehouse has stock records", o.ID)
	}
	units := map[string]canonical.Unit{}
	for _, p := range pos {
		units[p.Item.SKU] = p.Available.Unit
	}
	have := func(l *canonical.OrderLine, wh string) canonical.Decimal {
		v := avail[key{l.Item.SKU, wh}]
		if u, ok := units[l.Item.SKU]; ok && u != l.Quantity.Unit {
			q, err := canonical.NewQuantity(v, u).ConvertTo(l.Quantity.Unit)
			if err != nil {
				return canonical.Decimal{}
			}
			return q.Value
		}
		return v
	}
	fills := func(wh string) int {
		n := 0
		for _, nd := range needs {
			if have(nd.line, wh).Cmp(nd.qty) >= 0 {
				n++
			}
		}
		return n
	}
	assign := map[string][]canonical.FulfillmentLine{}
	add := func(wh string, l *canonical.OrderLine, q canonical.Decimal) {
		assign[wh] = append(assign[wh], canonical.FulfillmentLine{
			ID: o.ID + "-" + wh + ":" + l.ID, OrderLineID: l.ID, Item: l.Item,
			Quantity: canonical.NewQuantity(q, l.Quantity.Unit)})
	}
	best, bestN := whs[0], -1
	for _, wh := range whs {
		if n := fills(wh); n > bestN {
			best, bestN = wh, n
		}
	}
	if bestN == len(needs) || o.ShipComplete {
		for _, nd := range needs {
			add(best, nd.line, nd.qty)
		}
	} else {
		for _, nd := range needs {
			ranked := slices.Clone(whs)
			slices.SortStableFunc(ranked, func(a, b string) int {
				return cmp.Compare(0, have(nd.line, a).Cmp(have(nd.line, b)))
			})
			left := nd.qty
			for _, wh := range ranked {
				if !left.IsPos() {
					break
				}
				take := have(nd.line, wh).Min(left)
				if !take.IsPos() {
					break
				}
				add(wh, nd.line, take)
				if left, err = left.Sub(take); err != nil {
					return nil, fmt.Errorf("flow: plan order %s line %s: %w", o.ID, nd.line.ID, err)
				}
			}
			if left.IsPos() {
				wh := ranked[0]
				if fl := assign[wh]; len(fl) > 0 && fl[len(fl)-1].OrderLineID == nd.line.ID {
					sum, err := fl[len(fl)-1].Quantity.Value.Add(left)
					if err != nil {
						return nil, fmt.Errorf("flow: plan order %s line %s: %w", o.ID, nd.line.ID, err)
					}
					fl[len(fl)-1].Quantity.Value = sum
				} else {
					add(wh, nd.line, left)
				}
			}
		}
	}
	var out []canonical.FulfillmentOrder
	for _, wh := range whs {
		if lines, ok := assign[wh]; ok {
			out = append(out, canonical.FulfillmentOrder{ID: o.ID + "-" + wh, Version: 1, OrderID: o.ID,
				OrderVersion: o.Version, Warehouse: wh, ShipTo: o.ShipTo, ShipComplete: o.ShipComplete,
				RequestedShipDate: o.RequestedShipDate, Lines: lines})
		}
	}
	for i := range out {
		out[i].Split = canonical.SplitPosition{Group: o.ID, Index: i + 1, Count: len(out)}
	}
	return out, nil
}
