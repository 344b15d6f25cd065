// Package tinywms is a tiny in-memory WMS that implements [connector.WMS]:
// the starting point for a team writing a warehouse connector of its own.
// Replace the maps with calls to your WMS and keep the shape: check the
// context, validate the canonical document, map errors to
// [connector.Error] codes, make every effect idempotent by its ID or key,
// and put what happens in the warehouse on a feed of canonical events that
// never skips one and resumes from a cursor.
//
// It has one warehouse with a fixed stock, its own pick ticket numbers
// (exposed through canonical Refs), and a feed whose cursor is the number
// of events read. Each [WMS.Advance] ships the oldest open fulfilment
// order in full. The conformance kit proves it in ../main_test.go.
package tinywms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// System is the name of this WMS in errors and Refs.
const System = "tinywms"

// Source is the CloudEvents source of the events on the feed.
const Source = "urn:distsync:wms:tinywms"

// Config configures a WMS. The zero value is a demo warehouse "WH1" with
// 500 EA of SKU-A and SKU-B, and time.Now as the clock. It is a plain
// value, safe for concurrent use when not modified.
type Config struct {
	// Warehouse is the warehouse's location code; "" means "WH1".
	Warehouse string
	// Stock is the quantity on hand of each SKU, in EA.
	Stock map[string]int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Stats counts what the WMS did. It is a plain value, safe for concurrent
// use.
type Stats struct {
	Releases, Cancellations, ReturnAuthorizations, Shipments int
}

// WMS is the tiny WMS. It is safe for concurrent use.
type WMS struct {
	warehouse string
	stock     map[string]int64
	now       func() time.Time

	mu       sync.Mutex
	released map[string]release // by fulfilment order ID
	open     []string           // released, not shipped or cancelled, oldest first
	done     map[string]result  // operation and key → first result
	events   []canonical.Event
	stats    Stats
}

var _ connector.WMS = (*WMS)(nil)

// release is the WMS's record of a released fulfilment order.
type release struct {
	request []byte // the fingerprint of the request, to detect another one under the same ID
	fo      canonical.FulfillmentOrder
	closed  bool // shipped or cancelled
}

// result is the stored outcome of an idempotent call.
type result struct {
	request []byte
	value   any
}

// New returns a WMS configured by cfg.
func New(cfg Config) *WMS {
	w := &WMS{
		warehouse: cfg.Warehouse,
		stock:     cfg.Stock,
		now:       cfg.Now,
		released:  map[string]release{},
		done:      map[string]result{},
	}
	if w.warehouse == "" {
		w.warehouse = "WH1"
	}
	if w.stock == nil {
		w.stock = map[string]int64{"SKU-A": 500, "SKU-B": 500}
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w
}

// Stats returns what the WMS did so far.
func (w *WMS) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// fail returns a connector error of this WMS.
func fail(code connector.Code, op string, err error) error {
	return connector.NewError(code, System, op, err)
}

// invalid returns a CodeInvalid error naming field, as canonical
// validation names it.
func invalid(op, field, msg string) error {
	return fail(connector.CodeInvalid, op, &canonical.ValidationError{
		Kind: "request", Errors: []canonical.FieldError{{Field: field, Message: msg}},
	})
}

// begin checks what every call checks first: the context and the
// document. The context's cause is returned as it is, so callers match
// context.Canceled.
func begin(ctx context.Context, op string, doc interface{ Validate() error }) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err := doc.Validate(); err != nil {
		return fail(connector.CodeInvalid, op, err)
	}
	return nil
}

// fingerprint encodes a request for comparison with a replay.
func fingerprint(v any) []byte {
	b, _ := json.Marshal(v) // canonical documents always encode
	return b
}

// publish appends an event of type t carrying doc about the order. The
// caller holds w.mu.
func (w *WMS) publish(t canonical.EventType, orderID string, doc canonical.Document) error {
	e, err := canonical.NewEvent(t, doc)
	if err != nil {
		return err
	}
	e.ID = fmt.Sprintf("evt-%06d", len(w.events)+1)
	e.Source = Source
	e.Subject = orderID
	e.Time = w.now()
	w.events = append(w.events, e)
	return nil
}

// Release implements [connector.Releaser]: it accepts the fulfilment
// order under a pick ticket number of its own. It is idempotent by the
// fulfilment order's ID.
func (w *WMS) Release(ctx context.Context, fo canonical.FulfillmentOrder) (canonical.FulfillmentOrder, error) {
	const op = "Release"
	if err := begin(ctx, op, fo); err != nil {
		return canonical.FulfillmentOrder{}, err
	}
	if fo.Warehouse != w.warehouse {
		return canonical.FulfillmentOrder{}, fail(connector.CodeNotFound, op, fmt.Errorf("no warehouse %q", fo.Warehouse))
	}
	for i, l := range fo.Lines {
		if _, ok := w.stock[l.Item.SKU]; !ok {
			return canonical.FulfillmentOrder{}, invalid(op, fmt.Sprintf("lines[%d].item.sku", i), "is not stocked in "+w.warehouse)
		}
	}
	fo.ReleasedAt = time.Time{} // the WMS sets it
	req := fingerprint(fo)
	w.mu.Lock()
	defer w.mu.Unlock()
	if r, ok := w.released[fo.ID]; ok {
		if !bytes.Equal(r.request, req) {
			return canonical.FulfillmentOrder{}, fail(connector.CodeConflict, op, fmt.Errorf("fulfilment order %q was released with other contents", fo.ID))
		}
		return r.fo, nil
	}
	fo.ReleasedAt = w.now()
	fo.Lines = slices.Clone(fo.Lines)
	fo.Refs = fo.Refs.With(canonical.ExternalRef{System: System, Type: "pickTicket", Value: fmt.Sprintf("PT-%06d", len(w.released)+1)})
	if err := w.publish(canonical.EventFulfillmentReleased, fo.OrderID, fo); err != nil {
		return canonical.FulfillmentOrder{}, fail(connector.CodeInternal, op, err)
	}
	w.released[fo.ID] = release{request: req, fo: fo}
	w.open = append(w.open, fo.ID)
	w.stats.Releases++
	return fo, nil
}

// CancelRelease implements [connector.ReleaseCanceller]: it cancels the
// whole fulfilment order unless it shipped, and reports what it cancelled
// (nothing when it had shipped or was cancelled before).
func (w *WMS) CancelRelease(ctx context.Context, key string, req connector.CancelRequest) (connector.CancelResult, error) {
	const op = "CancelRelease"
	if ctx.Err() != nil {
		return connector.CancelResult{}, context.Cause(ctx)
	}
	if req.FulfillmentOrderID == "" {
		return connector.CancelResult{}, invalid(op, "fulfillmentOrderId", "is required")
	}
	print := fingerprint(req)
	w.mu.Lock()
	defer w.mu.Unlock()
	if r, ok := w.done[op+"\x00"+key]; ok {
		if !bytes.Equal(r.request, print) {
			return connector.CancelResult{}, fail(connector.CodeConflict, op, fmt.Errorf("idempotency key %q was used for another request", key))
		}
		return r.value.(connector.CancelResult), nil
	}
	rel, ok := w.released[req.FulfillmentOrderID]
	if !ok {
		return connector.CancelResult{}, fail(connector.CodeNotFound, op, fmt.Errorf("no fulfilment order %q", req.FulfillmentOrderID))
	}
	res := connector.CancelResult{FulfillmentOrderID: rel.fo.ID, Cancelled: []connector.LineQuantity{}}
	if !rel.closed {
		for _, l := range rel.fo.Lines {
			res.Cancelled = append(res.Cancelled, connector.LineQuantity{LineID: l.ID, Quantity: l.Quantity})
		}
		// The event carries the fulfilment order whose open lines (here
		// all of them) were cancelled.
		if err := w.publish(canonical.EventFulfillmentCancelled, rel.fo.OrderID, rel.fo); err != nil {
			return connector.CancelResult{}, fail(connector.CodeInternal, op, err)
		}
		rel.closed = true
		w.released[rel.fo.ID] = rel
		w.open = slices.DeleteFunc(w.open, func(id string) bool { return id == rel.fo.ID })
		w.stats.Cancellations++
	}
	w.done[op+"\x00"+key] = result{request: print, value: res}
	return res, nil
}

// Inventory implements [connector.InventoryReader]: the stock on hand of
// each SKU, sorted by SKU.
func (w *WMS) Inventory(ctx context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if len(q.Locations) > 0 && !slices.Contains(q.Locations, w.warehouse) {
		return nil, nil
	}
	now := w.now()
	var out []canonical.InventoryPosition
	for sku, n := range w.stock { // w.stock is never written after New
		if len(q.SKUs) > 0 && !slices.Contains(q.SKUs, sku) {
			continue
		}
		on := canonical.NewQuantity(canonical.DecimalFromInt(n), "EA")
		zero := canonical.NewQuantity(canonical.DecimalFromInt(0), "EA")
		out = append(out, canonical.InventoryPosition{
			Item: canonical.ItemRef{SKU: sku}, Location: w.warehouse, Status: canonical.InventoryAvailable,
			Kind: canonical.QuantitySnapshot, OnHand: on, Allocated: zero, Available: on, Inbound: zero,
			AsOf: now, Sequence: 1,
		})
	}
	slices.SortFunc(out, func(a, b canonical.InventoryPosition) int {
		switch {
		case a.Item.SKU < b.Item.SKU:
			return -1
		case a.Item.SKU > b.Item.SKU:
			return 1
		}
		return 0
	})
	return out, nil
}

// AuthorizeReturn implements [connector.ReturnAuthorizer]: it registers
// the RMA under a number of its own. It is idempotent by the return's ID.
func (w *WMS) AuthorizeReturn(ctx context.Context, r canonical.Return) (canonical.Return, error) {
	const op = "AuthorizeReturn"
	if err := begin(ctx, op, r); err != nil {
		return canonical.Return{}, err
	}
	if r.Warehouse != w.warehouse {
		return canonical.Return{}, fail(connector.CodeNotFound, op, fmt.Errorf("no warehouse %q", r.Warehouse))
	}
	print := fingerprint(r)
	w.mu.Lock()
	defer w.mu.Unlock()
	if got, ok := w.done[op+"\x00"+r.ID]; ok {
		if !bytes.Equal(got.request, print) {
			return canonical.Return{}, fail(connector.CodeConflict, op, fmt.Errorf("return %q was authorized with other contents", r.ID))
		}
		return got.value.(canonical.Return), nil
	}
	r.Lines = slices.Clone(r.Lines)
	r.Refs = r.Refs.With(canonical.ExternalRef{System: System, Type: "rma", Value: "W-" + r.RMANumber})
	w.done[op+"\x00"+r.ID] = result{request: print, value: r}
	w.stats.ReturnAuthorizations++
	return r, nil
}

// PollEvents implements [connector.EventFeed]. The cursor is the number of
// events read so far, so it survives a restart of the program that stored
// it.
func (w *WMS) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	const op = "PollEvents"
	if ctx.Err() != nil {
		return connector.Page{}, context.Cause(ctx)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	start := 0
	if cursor != "" {
		n, err := strconv.Atoi(string(cursor))
		if err != nil || n < 0 || n > len(w.events) {
			return connector.Page{}, invalid(op, "cursor", "is not a cursor of this feed")
		}
		start = n
	}
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	end := min(start+limit, len(w.events))
	if end == start {
		return connector.Page{Next: cursor}, nil // an empty page keeps the cursor
	}
	return connector.Page{
		Events: slices.Clone(w.events[start:end]),
		Next:   connector.Cursor(strconv.Itoa(end)),
		More:   end < len(w.events),
	}, nil
}

// Advance moves the warehouse one step: it ships the oldest open
// fulfilment order in full and puts the shipment on the feed. A real WMS
// does this on its own; the simulator does it when told, so that tests
// and demonstrations are reproducible.
func (w *WMS) Advance(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.open) == 0 {
		return nil
	}
	rel := w.released[w.open[0]]
	fo := rel.fo
	sh := canonical.Shipment{
		ID: "SHP-" + fo.ID, Version: 1, OrderID: fo.OrderID, FulfillmentOrderID: fo.ID,
		Warehouse: fo.Warehouse, Carrier: canonical.Carrier{SCAC: "UPSN", Name: "UPS"},
		TrackingNumbers: []string{fmt.Sprintf("1Z%06d", w.stats.Shipments+1)}, ShippedAt: w.now(),
		FinalForFulfillment: true,
	}
	for i, l := range fo.Lines {
		sh.Lines = append(sh.Lines, canonical.ShipmentLine{
			ID: fmt.Sprintf("%s-%d", sh.ID, i+1), OrderLineID: l.OrderLineID, FulfillmentLineID: l.ID,
			Item: l.Item, Quantity: l.Quantity,
		})
	}
	if err := w.publish(canonical.EventFulfillmentShipped, fo.OrderID, sh); err != nil {
		return fail(connector.CodeInternal, "Advance", err)
	}
	rel.closed = true
	w.released[fo.ID] = rel
	w.open = w.open[1:]
	w.stats.Shipments++
	return nil
}
