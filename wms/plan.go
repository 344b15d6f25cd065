package wms

import (
	"context"
	"slices"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// Plan sources an order from the warehouses with the configured
// [Strategy] and returns the fulfilment orders to release, one per
// warehouse used, in proximity order. It reads the available stock and
// reserves nothing: allocation happens when the fulfilment orders are
// released and stepped. What no warehouse has goes to the nearest
// warehouse, where it will be backordered.
//
// Each line's open quantity (ordered − cancelled − rejected − shipped) is
// planned; lines with nothing open are left out. The IDs are derived from
// the order, so planning the same order over the same stock gives the
// same fulfilment orders: "ORDER-WAREHOUSE", lines "ORDER-WAREHOUSE:LINE",
// split group ORDER. An invalid order, or a line whose SKU is unknown or
// not in the item's base unit, is a CodeInvalid error naming the field.
func (m *Memory) Plan(ctx context.Context, order canonical.Order) ([]canonical.FulfillmentOrder, error) {
	const op = "Plan"
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	if err := order.Validate(); err != nil {
		return nil, connector.Errorf(connector.CodeInvalid, System, op, err)
	}
	w := m.w
	w.mu.Lock()
	defer w.mu.Unlock()
	var c calc
	type need struct {
		line *canonical.OrderLine
		qty  canonical.Decimal
	}
	var needs []need
	var bad []canonical.FieldError
	for i := range order.Lines {
		l := &order.Lines[i]
		bad = append(bad, w.checkLine("lines", i, "quantity", l.Item.SKU, l.Quantity)...)
		open := l.Buckets.Get(canonical.BucketOrdered)
		if open.IsZero() {
			open = l.Quantity.Value
		}
		for _, b := range [...]canonical.Bucket{canonical.BucketCancelled, canonical.BucketRejected, canonical.BucketShipped} {
			open = c.sub(open, l.Buckets.Get(b))
		}
		if open.IsPos() {
			needs = append(needs, need{l, open})
		}
	}
	if len(bad) > 0 {
		return nil, invalid(op, "order", bad...)
	}
	rank := w.rank(order.ShipTo.Address)
	// avail tracks what this plan has left of each warehouse's stock.
	avail := map[whSKU]canonical.Decimal{}
	get := func(wh, sku string) canonical.Decimal {
		k := whSKU{wh, sku}
		v, ok := avail[k]
		if !ok {
			v = w.available(wh, sku, &c)
			avail[k] = v
		}
		return v
	}
	plan := map[string][]canonical.FulfillmentLine{}
	assign := func(wh string, l *canonical.OrderLine, q canonical.Decimal) {
		for i := range plan[wh] {
			if fl := &plan[wh][i]; fl.OrderLineID == l.ID {
				fl.Quantity.Value = c.add(fl.Quantity.Value, q)
				return
			}
		}
		plan[wh] = append(plan[wh], canonical.FulfillmentLine{OrderLineID: l.ID, Item: canonical.ItemRef{SKU: l.Item.SKU, GTIN: l.Item.GTIN},
			Quantity: canonical.NewQuantity(q, l.Quantity.Unit)})
	}
	take := func(wh string, n need, q canonical.Decimal) {
		avail[whSKU{wh, n.line.Item.SKU}] = c.sub(get(wh, n.line.Item.SKU), q)
		assign(wh, n.line, q)
	}
	switch w.strategy {
	case StrategyNearest, StrategySplit:
		for _, n := range needs {
			order := rank
			if w.strategy == StrategySplit {
				order = slices.Clone(rank)
				slices.SortStableFunc(order, func(a, b string) int {
					return get(b, n.line.Item.SKU).Cmp(get(a, n.line.Item.SKU))
				})
			}
			left := n.qty
			for _, wh := range order {
				q := get(wh, n.line.Item.SKU).Min(left)
				if q.IsPos() {
					take(wh, n, q)
					left = c.sub(left, q)
				}
			}
			if left.IsPos() {
				assign(rank[0], n.line, left)
			}
		}
	case StrategyFillFromOne:
		left := needs
		for len(left) > 0 {
			best, bestN := "", 0
			for _, wh := range rank {
				k := 0
				for _, n := range left {
					if get(wh, n.line.Item.SKU).Cmp(n.qty) >= 0 {
						k++
					}
				}
				if k > bestN {
					best, bestN = wh, k
				}
			}
			if bestN == 0 {
				for _, n := range left {
					assign(rank[0], n.line, n.qty)
				}
				break
			}
			var rest []need
			for _, n := range left {
				if get(best, n.line.Item.SKU).Cmp(n.qty) >= 0 {
					take(best, n, n.qty)
				} else {
					rest = append(rest, n)
				}
			}
			left = rest
		}
	}
	if c.err != nil {
		return nil, internal(op, c.err)
	}
	var out []canonical.FulfillmentOrder
	for _, wh := range rank {
		if lines, ok := plan[wh]; ok {
			id := order.ID + "-" + wh
			for i := range lines {
				lines[i].ID = id + ":" + lines[i].OrderLineID
			}
			out = append(out, canonical.FulfillmentOrder{ID: id, Version: 1, OrderID: order.ID, OrderVersion: order.Version,
				Warehouse: wh, ShipTo: order.ShipTo, ShipComplete: order.ShipComplete, RequestedShipDate: order.RequestedShipDate, Lines: lines})
		}
	}
	for i := range out {
		out[i].Split = canonical.SplitPosition{Group: order.ID, Index: i + 1, Count: len(out)}
	}
	return out, nil
}

// rank returns the warehouse IDs by proximity to a: same country and
// region, then same country, then the others, ties in configuration
// order.
func (w *world) rank(a *canonical.Address) []string {
	out := make([]string, 0, len(w.warehouses))
	for score := range 3 {
		for i := range w.warehouses {
			l := &w.warehouses[i]
			s := 2
			switch {
			case a == nil:
				s = 0
			case l.Address.Country == a.Country && l.Address.Region == a.Region && a.Region != "":
				s = 0
			case l.Address.Country == a.Country:
				s = 1
			}
			if s == score {
				out = append(out, l.ID)
			}
		}
	}
	return out
}
