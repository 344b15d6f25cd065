package wms

import (
	"context"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
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
// split group ORDER.
//
// Plan checks what it needs of the order, not everything the ERP checks:
// an ID, present and unique line IDs, positive quantities, known SKUs in
// a unit the item converts to its base unit. A violation is a
// CodeInvalid error wrapping a *canonical.ValidationError naming the
// field.
func (m *Memory) Plan(ctx context.Context, order canonical.Order) ([]canonical.FulfillmentOrder, error) {
	const op = "Plan"
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	var bad []canonical.FieldError
	if order.ID == "" {
		bad = append(bad, canonical.FieldError{Field: "id", Message: "is required"})
	}
	if len(order.Lines) == 0 {
		bad = append(bad, canonical.FieldError{Field: "lines", Message: "must have at least one line"})
	}
	for i := range order.Lines {
		l := &order.Lines[i]
		switch {
		case l.ID == "":
			bad = append(bad, canonical.FieldError{Field: "lines[" + strconv.Itoa(i) + "].id", Message: "is required"})
		case slices.ContainsFunc(order.Lines[:i], func(o canonical.OrderLine) bool { return o.ID == l.ID }):
			bad = append(bad, canonical.FieldError{Field: "lines[" + strconv.Itoa(i) + "].id", Message: "duplicate line ID " + strconv.Quote(l.ID)})
		}
		if !l.Quantity.Value.IsPos() {
			bad = append(bad, canonical.FieldError{Field: "lines[" + strconv.Itoa(i) + "].quantity.value", Message: "must be > 0, is " + l.Quantity.Value.String()})
		}
	}
	w := m.w
	m.lock()
	defer w.mu.Unlock()
	var c calc
	type need struct {
		line   *canonical.OrderLine
		qty    canonical.Decimal // in the line's unit
		factor canonical.Decimal // base units per line unit
	}
	needs := make([]need, 0, len(order.Lines))
	for i := range order.Lines {
		l := &order.Lines[i]
		bad = append(bad, w.checkLine("lines", i, "quantity", l.Item.SKU, l.Quantity, true)...)
		open := l.Buckets.Get(canonical.BucketOrdered)
		if open.IsZero() {
			open = l.Quantity.Value
		}
		for _, b := range [...]canonical.Bucket{canonical.BucketCancelled, canonical.BucketRejected, canonical.BucketShipped} {
			open = c.sub(open, l.Buckets.Get(b))
		}
		if open.IsPos() && len(bad) == 0 {
			f, err := w.factor(l.Item.SKU, l.Quantity.Unit)
			if err != nil {
				return nil, internal(op, err)
			}
			needs = append(needs, need{l, open, f})
		}
	}
	if len(bad) > 0 {
		return nil, invalid(op, "order", bad...)
	}
	rank := w.rank(order.ShipTo.Address)
	// avail[k][wh] is what this plan has left of the k-th distinct SKU in
	// warehouse wh.
	skus := make(map[string]int, len(needs))
	skuOf := make([]int, len(needs))
	for i, n := range needs {
		k, ok := skus[n.line.Item.SKU]
		if !ok {
			k = len(skus)
			skus[n.line.Item.SKU] = k
		}
		skuOf[i] = k
	}
	nwh := len(w.warehouses)
	flat := make([]canonical.Decimal, len(skus)*nwh)
	avail := make([][]canonical.Decimal, len(skus))
	for sku, k := range skus {
		avail[k] = flat[k*nwh : (k+1)*nwh : (k+1)*nwh]
		for wh := range w.warehouses {
			avail[k][wh] = w.available(w.warehouses[wh].ID, sku, &c)
		}
	}
	plan := make([][]canonical.FulfillmentLine, len(w.warehouses))
	assign := func(wh int, l *canonical.OrderLine, q canonical.Decimal) {
		for i := range plan[wh] {
			if fl := &plan[wh][i]; fl.OrderLineID == l.ID {
				fl.Quantity.Value = c.add(fl.Quantity.Value, q)
				return
			}
		}
		if plan[wh] == nil {
			plan[wh] = make([]canonical.FulfillmentLine, 0, len(needs))
		}
		plan[wh] = append(plan[wh], canonical.FulfillmentLine{OrderLineID: l.ID, Item: canonical.ItemRef{SKU: l.Item.SKU, GTIN: l.Item.GTIN},
			Quantity: canonical.NewQuantity(q, l.Quantity.Unit), Extensions: l.Extensions.Clone()})
	}
	// units returns how much of need i warehouse wh has left, in whole
	// line units unless the line is in the base unit.
	units := func(i, wh int) canonical.Decimal {
		a := avail[skuOf[i]][wh]
		if needs[i].factor == one {
			return a
		}
		return floorDiv(a, needs[i].factor)
	}
	take := func(wh, i int, q canonical.Decimal) {
		a := avail[skuOf[i]]
		a[wh] = c.sub(a[wh], c.mul(q, needs[i].factor))
		assign(wh, needs[i].line, q)
	}
	switch w.strategy {
	case StrategyNearest, StrategySplit:
		order := slices.Clone(rank)
		for i, n := range needs {
			a := avail[skuOf[i]]
			if w.strategy == StrategySplit {
				copy(order, rank)
				slices.SortStableFunc(order, func(x, y int) int { return a[y].Cmp(a[x]) })
			}
			left := n.qty
			for _, wh := range order {
				q := units(i, wh).Min(left)
				if q.IsPos() {
					take(wh, i, q)
					left = c.sub(left, q)
				}
			}
			if left.IsPos() {
				assign(rank[0], n.line, left)
			}
		}
	case StrategyFillFromOne:
		left := make([]int, len(needs))
		for i := range left {
			left[i] = i
		}
		for len(left) > 0 {
			best, bestN := 0, 0
			for _, wh := range rank {
				k := 0
				for _, i := range left {
					if units(i, wh).Cmp(needs[i].qty) >= 0 {
						k++
					}
				}
				if k > bestN {
					best, bestN = wh, k
				}
			}
			if bestN == 0 {
				for _, i := range left {
					assign(rank[0], needs[i].line, needs[i].qty)
				}
				break
			}
			rest := left[:0]
			for _, i := range left {
				if units(i, best).Cmp(needs[i].qty) >= 0 {
					take(best, i, needs[i].qty)
				} else {
					rest = append(rest, i)
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
		if lines := plan[wh]; lines != nil {
			whID := w.warehouses[wh].ID
			id := order.ID + "-" + whID
			for i := range lines {
				lines[i].ID = id + ":" + lines[i].OrderLineID
			}
			out = append(out, canonical.FulfillmentOrder{ID: id, Version: 1, OrderID: order.ID, OrderVersion: order.Version,
				Warehouse: whID, ShipTo: order.ShipTo, ShipComplete: order.ShipComplete, RequestedShipDate: order.RequestedShipDate, Lines: lines,
				Extensions: order.Extensions.Clone()})
		}
	}
	for i := range out {
		out[i].Split = canonical.SplitPosition{Group: order.ID, Index: i + 1, Count: len(out)}
	}
	return out, nil
}

// rank returns the indexes of the warehouses by proximity to a: same
// country and region, then same country, then the others, ties in
// configuration order.
func (w *world) rank(a *canonical.Address) []int {
	out := make([]int, 0, len(w.warehouses))
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
				out = append(out, i)
			}
		}
	}
	return out
}
