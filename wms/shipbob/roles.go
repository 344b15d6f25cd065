// This file owns the write roles: Release (an order by reference_id),
// CancelRelease (the order's cancel action), AuthorizeReturn (a return by
// reference_id), and the read role Inventory.

package shipbob

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/wms/shipbob/internal/wire"
)

// Release creates a ShipBob order for the fulfilment order: reference_id
// is the fulfilment order's ID, order_number its order's ID, products by
// SKU (reference_id) with whole quantities in the line's unit, location_id
// the fulfilment order's warehouse, and the tag distsync_fulfillment_order
// carrying the canonical document. It returns the fulfilment order with the
// ref shipbob/order and the order's created date as release time.
//
// It is idempotent by the fulfilment order's ID, which ShipBob keeps unique
// per account: a second create is answered 409, and the connector reads the
// existing order (GET /order?ReferenceIds=) and returns the first result,
// or CodeConflict when it was released with another warehouse, order or
// lines. An invalid document, a quantity that is not whole, two lines of
// one SKU, an unknown warehouse or a missing address is CodeInvalid naming
// the field.
func (c *Client) Release(ctx context.Context, fo canonical.FulfillmentOrder) (canonical.FulfillmentOrder, error) {
	const op = "Release"
	if err := ctxErr(ctx, op); err != nil {
		return fo, err
	}
	if err := fo.Validate(); err != nil {
		return fo, invalidDoc(op, err)
	}
	if strings.Contains(fo.ID, ",") {
		return fo, invalid(op, "fulfillmentOrder", "id", "ShipBob's reference_id filter is comma-separated: an ID must not contain a comma")
	}
	seen := map[string]bool{}
	for i, l := range fo.Lines {
		if _, ok := wholeCount(l.Quantity); !ok {
			return fo, invalid(op, "fulfillmentOrder", fmt.Sprintf("lines[%d].quantity", i), "ShipBob takes whole quantities")
		}
		if seen[l.Item.SKU] {
			return fo, invalid(op, "fulfillmentOrder", fmt.Sprintf("lines[%d].item.sku", i), "ShipBob takes one line per SKU")
		}
		seen[l.Item.SKU] = true
	}
	addr := c.cfg.DefaultAddress
	if fo.ShipTo.Address != nil {
		addr = *fo.ShipTo.Address
	}
	if addr.Country == "" || len(addr.Lines) == 0 || addr.City == "" {
		return fo, invalid(op, "fulfillmentOrder", "shipTo.address", "ShipBob needs address lines, city and country (or Config.DefaultAddress)")
	}
	locs, _, err := c.locations(ctx, op)
	if err != nil {
		return fo, err
	}
	loc, ok := locs[fo.Warehouse]
	if !ok {
		return fo, invalid(op, "fulfillmentOrder", "warehouse", fmt.Sprintf("warehouse %q is not a ShipBob fulfillment center", fo.Warehouse))
	}
	doc := fo
	doc.Refs, doc.ReleasedAt = nil, canonical.FulfillmentOrder{}.ReleasedAt
	tag, err := json.Marshal(doc)
	if err != nil {
		return fo, connector.NewError(connector.CodeInternal, System, op, err)
	}
	body := wire.CreateOrder{
		ReferenceID: fo.ID, OrderNumber: fo.OrderID, ShippingMethod: c.cfg.ShippingMethod, Type: c.cfg.OrderType, LocationID: loc,
		Recipient: wire.Recipient{Name: cmp.Or(fo.ShipTo.Name, addr.Name, fo.ShipTo.ID), Address: wire.Address{
			Address1: addr.Lines[0], Address2: strings.Join(addr.Lines[1:], ", "), City: addr.City, State: addr.Region,
			Country: addr.Country, ZipCode: addr.PostalCode,
		}},
		Tags: []wire.Tag{{Name: wire.TagFulfillmentOrder, Value: string(tag)}},
	}
	for _, l := range fo.Lines {
		n, _ := wholeCount(l.Quantity)
		body.Products = append(body.Products, wire.Product{ReferenceID: l.Item.SKU, Name: l.Item.SKU, Quantity: n, UnitOfMeasure: l.Quantity.Unit.String()})
	}
	var o wire.Order
	err = c.do(ctx, op, http.MethodPost, c.path("/order"), body, &o)
	if httpkit.Status(err) == http.StatusConflict {
		o, err = c.orderByRef(ctx, op, fo.ID)
		if err == nil {
			err = sameRelease(op, fo, o)
		}
	}
	if err != nil {
		return fo, err
	}
	out := fo
	out.Refs = append(slices.Clone(fo.Refs), canonical.ExternalRef{System: System, Type: "order", Value: strconv.FormatInt(o.ID, 10)})
	out.ReleasedAt = o.CreatedDate
	return out, nil
}

// storedFO returns the fulfilment order an order's tag carries.
func storedFO(o wire.Order) (canonical.FulfillmentOrder, bool) {
	v, ok := wire.TagValue(o.Tags, wire.TagFulfillmentOrder)
	if !ok {
		return canonical.FulfillmentOrder{}, false
	}
	var fo canonical.FulfillmentOrder
	if err := json.Unmarshal([]byte(v), &fo); err != nil || fo.ID != o.ReferenceID {
		return canonical.FulfillmentOrder{}, false
	}
	return fo, true
}

// sameRelease returns a CodeConflict error unless order o was created for
// fo: the same warehouse, order and lines.
func sameRelease(op string, fo canonical.FulfillmentOrder, o wire.Order) error {
	got, ok := storedFO(o)
	same := ok && got.Warehouse == fo.Warehouse && got.OrderID == fo.OrderID && len(got.Lines) == len(fo.Lines)
	for i := 0; same && i < len(fo.Lines); i++ {
		a, b := got.Lines[i], fo.Lines[i]
		same = a.ID == b.ID && a.Item.SKU == b.Item.SKU && a.Quantity.Equal(b.Quantity)
	}
	if same {
		return nil
	}
	return connector.NewError(connector.CodeConflict, System, op,
		fmt.Errorf("shipbob: order %d has reference_id %q but another warehouse, order or lines", o.ID, fo.ID))
}

// CancelRelease cancels the ShipBob order of the fulfilment order (POST
// /order/{id}/cancel), which cancels its shipments that have not shipped.
// ShipBob cancels whole orders: req.Lines must be nil or name every line
// still open with at least its open quantity (CodeInvalid otherwise). The
// result is what the order has cancelled in all (its Cancelled shipments),
// read from ShipBob, so a replay (the same or another key) sends no second
// cancel and returns the same result. CodeNotFound for an unknown
// fulfilment order.
func (c *Client) CancelRelease(ctx context.Context, key string, req connector.CancelRequest) (connector.CancelResult, error) {
	const op = "CancelRelease"
	res := connector.CancelResult{FulfillmentOrderID: req.FulfillmentOrderID}
	if err := ctxErr(ctx, op); err != nil {
		return res, err
	}
	if req.FulfillmentOrderID == "" {
		return res, invalid(op, "cancelRequest", "fulfillmentOrderId", "required")
	}
	o, err := c.orderByRef(ctx, op, req.FulfillmentOrderID)
	if err != nil {
		return res, err
	}
	fo, ok := storedFO(o)
	if !ok {
		return res, connector.NewError(connector.CodeNotFound, System, op, fmt.Errorf("shipbob: order %d was not released by distsync", o.ID))
	}
	openQty := quantities(o, func(s string) bool { return s != wire.StatusCompleted && s != wire.StatusCancelled })
	if req.Lines != nil {
		for i, l := range fo.Lines {
			left := openQty[l.Item.SKU]
			if left == 0 {
				continue
			}
			j := slices.IndexFunc(req.Lines, func(q connector.LineQuantity) bool { return q.LineID == l.ID })
			if j < 0 {
				return res, invalid(op, "cancelRequest", "lines", fmt.Sprintf("ShipBob cancels whole orders: line %q (lines[%d]) is open and not named", l.ID, i))
			}
			if n, ok := wholeCount(req.Lines[j].Quantity); !ok || n < left || req.Lines[j].Quantity.Unit != l.Quantity.Unit {
				return res, invalid(op, "cancelRequest", fmt.Sprintf("lines[%d].quantity", j), fmt.Sprintf("ShipBob cancels whole orders: %d %s of line %q are open", left, l.Quantity.Unit, l.ID))
			}
		}
	}
	if len(openQty) > 0 {
		var got wire.CancelOrder
		if err := c.do(ctx, op, http.MethodPost, c.path("/order/"+strconv.FormatInt(o.ID, 10)+"/cancel"), nil, &got); err != nil {
			return res, err
		}
		o = got.Order
	}
	cancelled := quantities(o, func(s string) bool { return s == wire.StatusCancelled })
	for _, l := range fo.Lines {
		if n := cancelled[l.Item.SKU]; n > 0 {
			res.Cancelled = append(res.Cancelled, connector.LineQuantity{LineID: l.ID, Quantity: count(n, l.Quantity.Unit.String())})
		}
	}
	return res, nil
}

// quantities sums the products of o's shipments whose status matches, by
// SKU, leaving out zeros.
func quantities(o wire.Order, match func(status string) bool) map[string]int64 {
	m := map[string]int64{}
	for _, s := range o.Shipments {
		if !match(s.Status) {
			continue
		}
		for _, p := range s.Products {
			if p.Quantity > 0 {
				m[cmp.Or(p.SKU, p.ReferenceID)] += p.Quantity
			}
		}
	}
	return m
}

// AuthorizeReturn creates a ShipBob return (POST /return) with reference_id
// the return's ID, the fulfilment center of its warehouse, one inventory
// line per return line (SKU and whole quantity in EA) and the tag
// distsync_return carrying the canonical document. It returns the return
// with the ref shipbob/return. It is idempotent by the return's ID, as
// Release is by the fulfilment order's: a duplicate reference_id (409) is
// resolved by reading the return, and CodeConflict when its lines differ.
func (c *Client) AuthorizeReturn(ctx context.Context, ret canonical.Return) (canonical.Return, error) {
	const op = "AuthorizeReturn"
	if err := ctxErr(ctx, op); err != nil {
		return ret, err
	}
	if err := ret.Validate(); err != nil {
		return ret, invalidDoc(op, err)
	}
	if strings.Contains(ret.ID, ",") {
		return ret, invalid(op, "return", "id", "ShipBob's reference_id filter is comma-separated: an ID must not contain a comma")
	}
	body := wire.CreateReturn{ReferenceID: ret.ID}
	for i, l := range ret.Lines {
		n, ok := wholeCount(l.Authorized)
		if !ok || l.Authorized.Unit.String() != "EA" {
			return ret, invalid(op, "return", fmt.Sprintf("lines[%d].authorized", i), "ShipBob returns take whole quantities in EA")
		}
		body.Inventory = append(body.Inventory, wire.ReturnInventory{SKU: l.Item.SKU, Quantity: n, RequestedAction: "Default"})
	}
	locs, _, err := c.locations(ctx, op)
	if err != nil {
		return ret, err
	}
	loc, ok := locs[ret.Warehouse]
	if !ok {
		return ret, invalid(op, "return", "warehouse", fmt.Sprintf("warehouse %q is not a ShipBob fulfillment center", ret.Warehouse))
	}
	body.FulfillmentCenter = wire.Location{ID: loc}
	doc := ret
	doc.Refs = nil
	// A zero Quantity does not decode from its own JSON (no unit): the
	// tag keeps nothing received as zero in the authorized unit.
	doc.Lines = slices.Clone(ret.Lines)
	for i, l := range doc.Lines {
		if l.Received.Unit.String() == "" {
			doc.Lines[i].Received = count(0, l.Authorized.Unit.String())
		}
	}
	tag, err := json.Marshal(doc)
	if err != nil {
		return ret, connector.NewError(connector.CodeInternal, System, op, err)
	}
	body.Tags = []wire.Tag{{Name: wire.TagReturn, Value: string(tag)}}
	var r wire.Return
	err = c.do(ctx, op, http.MethodPost, c.path("/return"), body, &r)
	if httpkit.Status(err) == http.StatusConflict {
		var rs []wire.Return
		rs, err = list[wire.Return](ctx, c, op, "/return", url.Values{"ReferenceIds": {ret.ID}, "Limit": {"1"}})
		switch {
		case err != nil:
		case len(rs) == 0 || rs[0].ReferenceID != ret.ID:
			err = connector.NewError(connector.CodeConflict, System, op, fmt.Errorf("shipbob: reference_id %q is taken but no return has it", ret.ID))
		default:
			r = rs[0]
			if !slices.EqualFunc(r.Inventory, body.Inventory, func(a, b wire.ReturnInventory) bool { return a.SKU == b.SKU && a.Quantity == b.Quantity }) ||
				r.FulfillmentCenter.ID != loc {
				err = connector.NewError(connector.CodeConflict, System, op, fmt.Errorf("shipbob: return %d has reference_id %q but other lines", r.ID, ret.ID))
			}
		}
	}
	if err != nil {
		return ret, err
	}
	out := ret
	out.Refs = append(slices.Clone(ret.Refs), canonical.ExternalRef{System: System, Type: "return", Value: strconv.FormatInt(r.ID, 10)})
	return out, nil
}

// Inventory reads GET /inventory (paged) and returns one snapshot position
// per item and fulfilment center: on hand, allocated (ShipBob's committed)
// and available (fulfillable, on hand minus committed), in EA, status
// available, as of the connector's clock, sorted by SKU and location.
// ShipBob's network-wide sellable quantity is not reported.
func (c *Client) Inventory(ctx context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	const op = "Inventory"
	if err := ctxErr(ctx, op); err != nil {
		return nil, err
	}
	_, names, err := c.locations(ctx, op)
	if err != nil {
		return nil, err
	}
	now := c.cfg.Now().UTC()
	var out []canonical.InventoryPosition
	for page := 1; ; page++ {
		v := url.Values{"Page": {strconv.Itoa(page)}, "Limit": {strconv.Itoa(MaxPageSize)}}
		if len(q.SKUs) > 0 {
			v.Set("SKUs", strings.Join(q.SKUs, ","))
		}
		items, err := list[wire.InventoryItem](ctx, c, op, "/inventory", v)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if len(q.SKUs) > 0 && !slices.Contains(q.SKUs, it.SKU) {
				continue
			}
			for _, fc := range it.ByFulfillmentCenter {
				w, ok := names[fc.ID]
				if !ok || len(q.Locations) > 0 && !slices.Contains(q.Locations, w) {
					continue
				}
				out = append(out, canonical.InventoryPosition{
					Item: canonical.ItemRef{SKU: it.SKU}, Location: w, Status: canonical.InventoryAvailable, Kind: canonical.QuantitySnapshot,
					OnHand: count(fc.OnhandQuantity, "EA"), Allocated: count(fc.CommittedQuantity, "EA"),
					Available: count(fc.FulfillableQuantity, "EA"), Inbound: count(fc.AwaitingQuantity, "EA"), AsOf: now,
				})
			}
		}
		if len(items) < MaxPageSize {
			break
		}
	}
	slices.SortFunc(out, func(a, b canonical.InventoryPosition) int {
		return cmp.Or(strings.Compare(a.Item.SKU, b.Item.SKU), strings.Compare(a.Location, b.Location))
	})
	return out, nil
}
