package memfake

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
)

const wmsSystem = "memfake-wms"

// wmsState is what survives a reopen of a WMS.
type wmsState struct {
	mu       mutex
	releases map[string]keyed[canonical.FulfillmentOrder]
	open     []string        // released fulfilment orders not shipped or cancelled, in release order
	closed   map[string]bool // shipped or cancelled
	cancels  map[string]keyed[connector.CancelResult]
	returns  map[string]keyed[canonical.Return]
	feed     feed
	step     int
	effects  connectortest.WMSEffects
}

// WMS is an in-memory WMS with one warehouse, WH1. Each Advance ships the
// oldest open fulfilment order in full. It is safe for concurrent use.
type WMS struct {
	s *wmsState
}

var (
	_ connector.WMS        = (*WMS)(nil)
	_ connector.Subscriber = (*WMS)(nil)
)

// NewWMS returns an empty WMS.
func NewWMS() *WMS {
	return &WMS{s: &wmsState{
		releases: map[string]keyed[canonical.FulfillmentOrder]{},
		closed:   map[string]bool{},
		cancels:  map[string]keyed[connector.CancelResult]{},
		returns:  map[string]keyed[canonical.Return]{},
		feed:     feed{source: "urn:distsync:wms:memfake"},
	}}
}

// Reopen returns a new WMS over the same state, as after a restart.
func (w *WMS) Reopen() *WMS { return &WMS{s: w.s} }

// Effects returns the effects so far.
func (w *WMS) Effects() connectortest.WMSEffects {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.effects
}

func (s *wmsState) now() time.Time { return T0.Add(time.Duration(s.step) * time.Minute) }

// Advance ships the oldest open fulfilment order, putting its shipment on
// the feed.
func (w *WMS) Advance(ctx context.Context) error {
	if err := done(ctx); err != nil {
		return err
	}
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.step++
	if len(s.open) == 0 {
		return nil
	}
	id := s.open[0]
	s.open = s.open[1:]
	s.closed[id] = true
	fo := s.releases[id].result
	sh := canonical.Shipment{
		ID: "SHP-" + fo.ID, Version: 1, OrderID: fo.OrderID, FulfillmentOrderID: fo.ID,
		Warehouse: fo.Warehouse, Carrier: canonical.Carrier{SCAC: "UPSN"}, ShippedAt: s.now(),
		FinalForFulfillment: true,
	}
	for i, l := range fo.Lines {
		sh.Lines = append(sh.Lines, canonical.ShipmentLine{
			ID: fmt.Sprintf("%s-L%d", sh.ID, i+1), OrderLineID: l.OrderLineID, FulfillmentLineID: l.ID,
			Item: l.Item, Quantity: l.Quantity,
		})
	}
	return s.feed.add(canonical.EventShipmentConfirmed, fo.OrderID, sh, s.now())
}

// Release implements [connector.Releaser].
func (w *WMS) Release(ctx context.Context, fo canonical.FulfillmentOrder) (canonical.FulfillmentOrder, error) {
	if err := done(ctx); err != nil {
		return canonical.FulfillmentOrder{}, err
	}
	if err := fo.Validate(); err != nil {
		return canonical.FulfillmentOrder{}, connector.NewError(connector.CodeInvalid, wmsSystem, "Release", err)
	}
	fo.ReleasedAt = time.Time{}
	print := fingerprint(fo)
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok, err := lookup(s.releases, fo.ID, print, wmsSystem, "Release"); ok {
		return r, err
	}
	fo.ReleasedAt = s.now()
	fo.Refs = fo.Refs.With(canonical.ExternalRef{System: "wms", Type: "pickTicket", Value: "PT-" + fo.ID})
	fo.Lines = slices.Clone(fo.Lines)
	if err := s.feed.add(canonical.EventFulfillmentReleased, fo.OrderID, fo, fo.ReleasedAt); err != nil {
		return canonical.FulfillmentOrder{}, connector.NewError(connector.CodeInternal, wmsSystem, "Release", err)
	}
	s.releases[fo.ID] = keyed[canonical.FulfillmentOrder]{print, fo}
	s.open = append(s.open, fo.ID)
	s.effects.Releases++
	return fo, nil
}

// CancelRelease implements [connector.ReleaseCanceller]: it cancels every
// open line in full unless the fulfilment order shipped.
func (w *WMS) CancelRelease(ctx context.Context, key string, req connector.CancelRequest) (connector.CancelResult, error) {
	if err := done(ctx); err != nil {
		return connector.CancelResult{}, err
	}
	if req.FulfillmentOrderID == "" {
		return connector.CancelResult{}, invalid(wmsSystem, "CancelRelease", "fulfillmentOrderId", "is required")
	}
	print := fingerprint(req)
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok, err := lookup(s.cancels, key, print, wmsSystem, "CancelRelease"); ok {
		return r, err
	}
	rel, ok := s.releases[req.FulfillmentOrderID]
	if !ok {
		return connector.CancelResult{}, connector.NewError(connector.CodeNotFound, wmsSystem, "CancelRelease", fmt.Errorf("fulfilment order %q", req.FulfillmentOrderID))
	}
	res := connector.CancelResult{FulfillmentOrderID: req.FulfillmentOrderID, Cancelled: []connector.LineQuantity{}}
	if !s.closed[req.FulfillmentOrderID] {
		for _, l := range rel.result.Lines {
			res.Cancelled = append(res.Cancelled, connector.LineQuantity{LineID: l.ID, Quantity: l.Quantity})
		}
		s.closed[req.FulfillmentOrderID] = true
		s.open = slices.DeleteFunc(s.open, func(id string) bool { return id == req.FulfillmentOrderID })
		s.effects.Cancellations++
	}
	s.cancels[key] = keyed[connector.CancelResult]{print, res}
	return res, nil
}

// Inventory implements [connector.InventoryReader] over a fixed stock.
func (w *WMS) Inventory(ctx context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	if err := done(ctx); err != nil {
		return nil, err
	}
	var out []canonical.InventoryPosition
	for _, p := range SamplePositions(1) {
		if (len(q.SKUs) == 0 || slices.Contains(q.SKUs, p.Item.SKU)) &&
			(len(q.Locations) == 0 || slices.Contains(q.Locations, p.Location)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// AuthorizeReturn implements [connector.ReturnAuthorizer].
func (w *WMS) AuthorizeReturn(ctx context.Context, r canonical.Return) (canonical.Return, error) {
	if err := done(ctx); err != nil {
		return canonical.Return{}, err
	}
	if err := r.Validate(); err != nil {
		return canonical.Return{}, connector.NewError(connector.CodeInvalid, wmsSystem, "AuthorizeReturn", err)
	}
	print := fingerprint(r)
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if got, ok, err := lookup(s.returns, r.ID, print, wmsSystem, "AuthorizeReturn"); ok {
		return got, err
	}
	r.Refs = r.Refs.With(canonical.ExternalRef{System: "wms", Type: "rma", Value: "W" + r.RMANumber})
	r.Lines = slices.Clone(r.Lines)
	s.returns[r.ID] = keyed[canonical.Return]{print, r}
	s.effects.ReturnAuthorizations++
	return r, nil
}

// PollEvents implements [connector.EventFeed].
func (w *WMS) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	if err := done(ctx); err != nil {
		return connector.Page{}, err
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.feed.page(wmsSystem, "PollEvents", cursor, limit)
}

// Subscribe implements [connector.Subscriber]: it calls fn for each event
// after cursor, outside the lock, and waits for new ones.
func (w *WMS) Subscribe(ctx context.Context, cursor connector.Cursor, fn func(context.Context, canonical.Event, connector.Cursor) error) error {
	for {
		if err := done(ctx); err != nil {
			return err
		}
		w.s.mu.Lock()
		p, err := w.s.feed.page(wmsSystem, "Subscribe", cursor, connector.DefaultPageSize)
		changed := w.s.feed.wait()
		w.s.mu.Unlock()
		if err != nil {
			return err
		}
		start := 0
		if cursor != "" {
			start, _ = strconv.Atoi(string(cursor)) // page accepted it
		}
		for i, e := range p.Events {
			next := connector.Cursor(strconv.Itoa(start + i + 1))
			if err := fn(ctx, e, next); err != nil {
				return err
			}
			cursor = next
		}
		if len(p.Events) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-changed:
		}
	}
}
