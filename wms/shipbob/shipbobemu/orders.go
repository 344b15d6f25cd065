// This file owns orders: creation (a fulfilment order of the simulator),
// reads and lists, cancellation, and the shipments the simulator's events
// move through ShipBob's statuses.

package shipbobemu

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms/shipbob/internal/wire"
)

// open reports whether a shipment status is not final.
func open(status string) bool {
	return status == wire.StatusProcessing || status == wire.StatusException || status == wire.StatusOnHold
}

func (e *Emulator) createOrder(w http.ResponseWriter, r *http.Request) {
	var body wire.CreateOrder
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeProblem(w, http.StatusBadRequest, map[string][]string{"": {"The request body is not valid JSON: " + err.Error()}})
		return
	}
	bad := map[string][]string{}
	add := func(f, m string) { bad[f] = append(bad[f], m) }
	switch ch := r.Header.Get(wire.HeaderChannel); {
	case ch == "":
		add(wire.HeaderChannel, "The shipbob_channel_id header is required.")
	case ch != strconv.FormatInt(e.cfg.ChannelID, 10):
		add(wire.HeaderChannel, fmt.Sprintf("Channel %q is not a channel with write access.", ch))
	}
	if n := len(body.ReferenceID); n < 1 || n > 300 {
		add("reference_id", "The reference_id must be 1 to 300 characters.")
	}
	if body.ShippingMethod == "" {
		add("shipping_method", "The shipping_method field is required.")
	}
	if body.Recipient.Name == "" {
		add("recipient.name", "The recipient name is required.")
	}
	if body.Recipient.Address.Address1 == "" || body.Recipient.Address.City == "" || body.Recipient.Address.Country == "" {
		add("recipient.address", "address1, city and country are required.")
	}
	switch body.Type {
	case "DTC", "B2B", "DropShip":
	default:
		add("type", "The type must be DTC, B2B or DropShip.")
	}
	if len(body.Products) == 0 {
		add("products", "At least one product is required.")
	}
	for i, p := range body.Products {
		if p.ReferenceID == "" {
			add(fmt.Sprintf("products[%d].reference_id", i), "The product reference_id is required.")
		}
		if p.Quantity < 1 {
			add(fmt.Sprintf("products[%d].quantity", i), "The quantity must be at least 1.")
		}
	}
	loc, ok := e.location(body.LocationID)
	if !ok {
		add("location_id", fmt.Sprintf("Location %d is not a fulfillment center.", body.LocationID))
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, bad)
		return
	}

	fo := canonical.FulfillmentOrder{
		ID: body.ReferenceID, Version: 1, OrderID: body.ReferenceID, OrderVersion: 1, Warehouse: loc.Name,
		Split:  canonical.SplitPosition{Group: body.ReferenceID, Index: 1, Count: 1},
		ShipTo: canonical.PartyRef{ID: body.Recipient.Name, Name: body.Recipient.Name},
	}
	var lines []line
	for i, p := range body.Products {
		unit := cmp.Or(p.UnitOfMeasure, "EA")
		q, err := canonical.ParseQuantity(strconv.FormatInt(p.Quantity, 10), unit)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, map[string][]string{fmt.Sprintf("products[%d].quantity_unit_of_measure_code", i): {err.Error()}})
			return
		}
		l := line{id: fmt.Sprintf("%s:%d", body.ReferenceID, i+1), sku: p.ReferenceID, unit: unit}
		lines = append(lines, l)
		fo.Lines = append(fo.Lines, canonical.FulfillmentLine{ID: l.id, OrderLineID: strconv.Itoa(i + 1), Item: canonical.ItemRef{SKU: p.ReferenceID}, Quantity: q})
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if o, dup := e.byRef[body.ReferenceID]; dup {
		writeMessage(w, http.StatusConflict, fmt.Sprintf("Order with reference_id %q already exists as order %d.", body.ReferenceID, o.ID))
		return
	}
	if _, err := e.mem.Release(r.Context(), fo); err != nil {
		writeError(w, productsNamed(err))
		return
	}
	now := e.stampLocked()
	e.nextID++
	o := &order{lines: lines, Order: wire.Order{
		ID: e.nextID, CreatedDate: now, LastUpdateAt: now, ReferenceID: body.ReferenceID,
		OrderNumber: cmp.Or(body.OrderNumber, body.ReferenceID), Status: wire.StatusProcessing, Type: body.Type,
		Channel: wire.Channel{ID: e.cfg.ChannelID, Name: "distsync"}, ShippingMethod: body.ShippingMethod,
		Recipient: body.Recipient, Tags: append([]wire.Tag{}, body.Tags...),
	}}
	sh := wire.Shipment{ID: e.nextShipmentIDLocked(), OrderID: o.ID, ReferenceID: o.ReferenceID, Status: wire.StatusProcessing,
		CreatedDate: now, LastUpdateAt: now, Location: loc}
	for i, p := range body.Products {
		p.ID = int64(i + 1)
		p.UnitOfMeasure = lines[i].unit
		o.Products = append(o.Products, p)
		sh.Products = append(sh.Products, wire.ShipmentProduct{ID: p.ID, ReferenceID: p.ReferenceID, SKU: p.ReferenceID, Quantity: p.Quantity, UnitOfMeasure: lines[i].unit})
	}
	o.Shipments = []wire.Shipment{sh}
	e.orders[o.ID] = o
	e.byRef[o.ReferenceID] = o
	e.counts.OrdersCreated++
	writeJSON(w, http.StatusCreated, o.Order)
}

// productsNamed renames the simulator's "lines[i]" fields to ShipBob's
// "products[i]".
func productsNamed(err error) error {
	var ve *canonical.ValidationError
	if !asValidation(err, &ve) {
		return err
	}
	renamed := &canonical.ValidationError{Kind: ve.Kind, Omitted: ve.Omitted}
	for _, fe := range ve.Errors {
		fe.Field = strings.Replace(fe.Field, "lines[", "products[", 1)
		renamed.Errors = append(renamed.Errors, fe)
	}
	return connector.NewError(connector.CodeInvalid, "shipbob", "CreateOrder", renamed)
}

// nextShipmentIDLocked returns a new shipment ID.
func (e *Emulator) nextShipmentIDLocked() int64 {
	e.nextID++
	return e.nextID
}

// location returns the fulfilment center with the given ID; 0 means the
// first one.
func (e *Emulator) location(id int64) (wire.Location, bool) {
	if id == 0 && len(e.locations) > 0 {
		return e.locations[0], true
	}
	for _, l := range e.locations {
		if l.ID == id {
			return l, true
		}
	}
	return wire.Location{}, false
}

func (e *Emulator) getOrder(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	e.mu.Lock()
	o, ok := e.orders[id]
	var body wire.Order
	if ok {
		body = copyOrder(o.Order)
	}
	e.mu.Unlock()
	if err != nil || !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("Order %q was not found.", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// listQuery is the common query of the list endpoints.
type listQuery struct {
	refs   map[string]bool
	since  time.Time
	oldest bool
	page   int
	limit  int
}

// parseList reads ReferenceIds, LastUpdateStartDate, SortOrder, Page and
// Limit, writing a 400 and returning false when one is malformed.
func parseList(w http.ResponseWriter, r *http.Request) (listQuery, bool) {
	q := r.URL.Query()
	lq := listQuery{page: 1, limit: 50}
	bad := map[string][]string{}
	if v := q.Get("ReferenceIds"); v != "" {
		lq.refs = map[string]bool{}
		for _, ref := range strings.Split(v, ",") {
			lq.refs[ref] = true
		}
	}
	if v := q.Get("LastUpdateStartDate"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			bad["LastUpdateStartDate"] = []string{fmt.Sprintf("The value %q is not a valid date.", v)}
		}
		lq.since = t
	}
	switch v := q.Get("SortOrder"); v {
	case "", "Newest":
	case "Oldest":
		lq.oldest = true
	default:
		bad["SortOrder"] = []string{fmt.Sprintf("The value %q is not valid; use Newest or Oldest.", v)}
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad["Page"] = []string{fmt.Sprintf("The value %q is not a page number (from 1).", v)}
		}
		lq.page = n
	}
	if v := q.Get("Limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			bad["Limit"] = []string{fmt.Sprintf("The value %q is not between 1 and %d.", v, MaxPageSize)}
		}
		lq.limit = n
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, bad)
		return lq, false
	}
	return lq, true
}

// pageOf sorts items by (last update, id) as q says and returns q's page,
// setting the total-count and total-pages headers.
func pageOf[T any](w http.ResponseWriter, q listQuery, items []T, key func(T) (time.Time, int64)) []T {
	slices.SortFunc(items, func(a, b T) int {
		ta, ia := key(a)
		tb, ib := key(b)
		c := cmp.Or(ta.Compare(tb), cmp.Compare(ia, ib))
		if !q.oldest {
			c = -c
		}
		return c
	})
	w.Header().Set("total-count", strconv.Itoa(len(items)))
	w.Header().Set("total-pages", strconv.Itoa((len(items)+q.limit-1)/q.limit))
	w.Header().Set("page-number", strconv.Itoa(q.page))
	from := min((q.page-1)*q.limit, len(items))
	to := min(from+q.limit, len(items))
	return items[from:to]
}

func (e *Emulator) listOrders(w http.ResponseWriter, r *http.Request) {
	q, ok := parseList(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	var all []wire.Order
	for _, o := range e.orders {
		if q.refs != nil && !q.refs[o.ReferenceID] || o.LastUpdateAt.Before(q.since) {
			continue
		}
		all = append(all, copyOrder(o.Order))
	}
	e.mu.Unlock()
	page := pageOf(w, q, all, func(o wire.Order) (time.Time, int64) { return o.LastUpdateAt, o.ID })
	writeJSON(w, http.StatusOK, append([]wire.Order{}, page...))
}

// copyOrder returns a deep enough copy of o to encode outside the lock.
func copyOrder(o wire.Order) wire.Order {
	o.Products = slices.Clone(o.Products)
	o.Tags = slices.Clone(o.Tags)
	o.Shipments = slices.Clone(o.Shipments)
	for i := range o.Shipments {
		o.Shipments[i].Products = slices.Clone(o.Shipments[i].Products)
		o.Shipments[i].StatusDetails = slices.Clone(o.Shipments[i].StatusDetails)
		if t := o.Shipments[i].Tracking; t != nil {
			c := *t
			o.Shipments[i].Tracking = &c
		}
	}
	return o
}

func (e *Emulator) cancelOrder(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	e.mu.Lock()
	defer e.mu.Unlock()
	o, ok := e.orders[id]
	if err != nil || !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("Order %q was not found.", r.PathValue("id")))
		return
	}
	res := wire.CancelOrder{OrderID: o.ID, ReferenceID: o.ReferenceID}
	var openID int64
	for _, sh := range o.Shipments {
		if open(sh.Status) {
			openID = sh.ID
			continue
		}
		res.CanceledShipmentResults = append(res.CanceledShipmentResults, wire.CanceledShipment{
			Action: "Cancel", ShipmentID: sh.ID, Reason: "Shipment is " + sh.Status + " and cannot be cancelled.",
		})
	}
	if openID != 0 {
		key := fmt.Sprintf("shipbob-cancel-%d-%d", o.ID, openID)
		got, err := e.mem.CancelRelease(r.Context(), key, connector.CancelRequest{FulfillmentOrderID: o.ReferenceID, Reason: "cancelled through the ShipBob API"})
		if err != nil {
			writeError(w, err)
			return
		}
		if _, err := e.absorbLocked(r.Context()); err != nil {
			writeError(w, err)
			return
		}
		success := len(got.Cancelled) > 0
		if success {
			e.counts.Cancellations++
		}
		res.CanceledShipmentResults = append(res.CanceledShipmentResults, wire.CanceledShipment{Action: "Cancel", ShipmentID: openID, IsSuccess: success})
	}
	res.Order = copyOrder(o.Order)
	writeJSON(w, http.StatusOK, res)
}

// absorbLocked applies the simulator's new events to the orders and
// returns and returns how many it read.
func (e *Emulator) absorbLocked(ctx context.Context) (int, error) {
	n := 0
	for {
		p, err := e.mem.PollEvents(ctx, e.cursor, 0)
		if err != nil {
			return n, err
		}
		for _, ev := range p.Events {
			if err := e.applyLocked(ev); err != nil {
				return n, fmt.Errorf("shipbobemu: applying event %s of type %s: %w", ev.ID, ev.Type, err)
			}
			n++
		}
		e.cursor = p.Next
		if !p.More || len(p.Events) == 0 {
			return n, nil
		}
	}
}

// applyLocked applies one simulator event.
func (e *Emulator) applyLocked(ev canonical.Event) error {
	switch ev.Type {
	case canonical.EventFulfillmentAllocated, canonical.EventFulfillmentBackordered:
		u, err := canonical.DecodeData[canonical.AllocationUpdate](ev)
		if err != nil {
			return err
		}
		o := e.byRef[u.FulfillmentOrderID]
		sh := openShipment(o)
		if sh == nil {
			return nil
		}
		status, details := wire.StatusProcessing, []wire.StatusDetail(nil)
		if slices.ContainsFunc(u.Lines, func(l canonical.AllocationLine) bool { return l.Backordered.Sign() > 0 }) {
			status = wire.StatusException
			details = []wire.StatusDetail{{ID: 2, Name: "OutOfStock", Description: "One or more products are out of stock."}}
		}
		if sh.Status == status {
			return nil
		}
		sh.Status, sh.StatusDetails = status, details
		e.touchLocked(o, sh)
		if status == wire.StatusException {
			e.enqueueLocked(wire.TopicShipmentExcept, *sh)
		}
	case canonical.EventFulfillmentShipped:
		s, err := canonical.DecodeData[canonical.Shipment](ev)
		if err != nil {
			return err
		}
		o := e.byRef[s.FulfillmentOrderID]
		sh := openShipment(o)
		if sh == nil {
			return nil
		}
		moved := map[string]int64{}
		for _, l := range s.Lines {
			moved[l.FulfillmentLineID] += whole(l.Quantity)
		}
		sh.Tracking = &wire.Tracking{Carrier: carrierName(s.Carrier), CarrierService: s.Service, ShippingDate: s.ShippedAt}
		if len(s.TrackingNumbers) > 0 {
			sh.Tracking.TrackingNumber = s.TrackingNumbers[0]
		}
		shipped := e.settleLocked(o, sh, moved, wire.StatusCompleted)
		shipped.ActualFulfillmentDate = shipped.LastUpdateAt
		o.Shipments[slices.IndexFunc(o.Shipments, func(x wire.Shipment) bool { return x.ID == shipped.ID })] = shipped
		e.enqueueLocked(wire.TopicOrderShipped, shipped)
	case canonical.EventFulfillmentCancelled:
		f, err := canonical.DecodeData[canonical.FulfillmentOrder](ev)
		if err != nil {
			return err
		}
		o := e.byRef[f.ID]
		sh := openShipment(o)
		if sh == nil {
			return nil
		}
		moved := map[string]int64{}
		for _, l := range f.Lines {
			moved[l.ID] += whole(l.Quantity)
		}
		e.enqueueLocked(wire.TopicShipmentCancel, e.settleLocked(o, sh, moved, wire.StatusCancelled))
	case canonical.EventReturnReceived:
		rr, err := canonical.DecodeData[canonical.Return](ev)
		if err != nil {
			return err
		}
		rt := e.retByRef[rr.ID]
		if rt == nil {
			return nil
		}
		for i, l := range rr.Lines {
			if i < len(rt.Inventory) && !l.Received.IsZero() {
				rt.Inventory[i].ReceivedQty = whole(l.Received)
				rt.Inventory[i].ActionTaken = actions[l.Disposition]
				rt.Inventory[i].Condition = string(l.Condition)
			}
		}
		now := e.stampLocked()
		rt.Status, rt.CompletedDate, rt.LastUpdateAt = "Completed", now, now
		e.enqueueLocked(wire.TopicReturnCompleted, copyReturn(rt.Return))
	}
	return nil
}

// settleLocked gives shipment sh of o the final status with the quantities
// moved (by simulator line ID) and returns it as it is then; what is left
// of its products goes to a new shipment with sh's former status. sh must
// not be used after the call (the shipments may move).
func (e *Emulator) settleLocked(o *order, sh *wire.Shipment, moved map[string]int64, status string) wire.Shipment {
	prev := sh.Status
	var done, rest []wire.ShipmentProduct
	for _, p := range sh.Products {
		id := o.lines[p.ID-1].id
		m := min(moved[id], p.Quantity)
		moved[id] -= m
		if m > 0 {
			d := p
			d.Quantity = m
			done = append(done, d)
		}
		if p.Quantity > m {
			r := p
			r.Quantity = p.Quantity - m
			rest = append(rest, r)
		}
	}
	sh.Products, sh.Status, sh.StatusDetails = done, status, nil
	e.touchLocked(o, sh)
	settled := *sh
	if len(rest) > 0 {
		o.Shipments = append(o.Shipments, wire.Shipment{ID: e.nextShipmentIDLocked(), OrderID: o.ID, ReferenceID: o.ReferenceID, Status: prev,
			CreatedDate: o.LastUpdateAt, LastUpdateAt: o.LastUpdateAt, Location: settled.Location, Products: rest})
		o.Status = orderStatus(o.Shipments)
		if prev == wire.StatusException {
			e.enqueueLocked(wire.TopicShipmentExcept, o.Shipments[len(o.Shipments)-1])
		}
	}
	return settled
}

// touchLocked stamps a change of shipment sh of order o.
func (e *Emulator) touchLocked(o *order, sh *wire.Shipment) {
	now := e.stampLocked()
	sh.LastUpdateAt, o.LastUpdateAt = now, now
	o.Status = orderStatus(o.Shipments)
}

// orderStatus derives an order's status from its shipments.
func orderStatus(shs []wire.Shipment) string {
	var completed, cancelled, exception, onHold int
	for _, s := range shs {
		switch s.Status {
		case wire.StatusCompleted:
			completed++
		case wire.StatusCancelled:
			cancelled++
		case wire.StatusException:
			exception++
		case wire.StatusOnHold:
			onHold++
		}
	}
	switch {
	case cancelled == len(shs):
		return "Cancelled"
	case completed+cancelled == len(shs):
		return "Fulfilled"
	case exception > 0:
		return wire.StatusException
	case onHold > 0:
		return wire.StatusOnHold
	case completed > 0:
		return "PartiallyFulfilled"
	}
	return wire.StatusProcessing
}

// openShipment returns the open shipment of o, or nil.
func openShipment(o *order) *wire.Shipment {
	if o == nil {
		return nil
	}
	for i := range o.Shipments {
		if open(o.Shipments[i].Status) {
			return &o.Shipments[i]
		}
	}
	return nil
}

// actions maps dispositions to ShipBob's action_taken.
var actions = map[canonical.Disposition]string{
	canonical.DispositionRestock: "Restock", canonical.DispositionQuarantine: "Quarantine",
	canonical.DispositionRefurbish: "Refurbish", canonical.DispositionScrap: "Dispose",
	canonical.DispositionReturnToVendor: "ReturnToVendor",
}

// whole returns the integer value of q (ShipBob counts whole units).
func whole(q canonical.Quantity) int64 {
	n, _ := q.Value.Int64()
	return n
}

// carrierName returns the carrier name ShipBob shows for a carrier.
func carrierName(c canonical.Carrier) string {
	switch c.SCAC {
	case "UPSN":
		return "UPS"
	case "FDEG", "FDE", "FDXG":
		return "FedEx"
	case "USPS":
		return "USPS"
	case "DHLC":
		return "DHL"
	}
	return cmp.Or(c.Name, c.SCAC)
}
