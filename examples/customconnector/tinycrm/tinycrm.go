// Package tinycrm is a tiny in-memory CRM that implements [connector.CRM]:
// the starting point for a team writing a CRM connector of its own.
// Replace the maps with calls to your CRM and keep the shape: check the
// context and the request, map errors to [connector.Error] codes, put the
// orders sales converts on a feed of canonical events that never skips one
// and resumes from a cursor, and show a status or an availability only
// when it is newer (by sequence) than the one shown.
//
// Orders enter through [CRM.Convert], as when a sales rep converts an
// opportunity; the CRM keeps its own opportunity numbers (exposed through
// canonical Refs). The conformance kit proves it in ../main_test.go.
package tinycrm

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// System is the name of this CRM in errors and Refs.
const System = "tinycrm"

// Source is the CloudEvents source of the events on the order feed.
const Source = "urn:distsync:crm:tinycrm"

// Config configures a CRM. The zero value uses time.Now as the clock. It is
// a plain value, safe for concurrent use when not modified.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Stats counts what the CRM did. It is a plain value, safe for concurrent
// use.
type Stats struct {
	// Orders is how many orders sales converted.
	Orders int
	// StatusUpdates and AvailabilityUpdates count the published updates
	// that changed what the CRM shows.
	StatusUpdates, AvailabilityUpdates int
}

// CRM is the tiny CRM. It is safe for concurrent use.
type CRM struct {
	now func() time.Time

	mu     sync.Mutex
	orders map[string]bool // converted order IDs
	shown  map[string]connector.OrderStatus
	avail  map[string]connector.Availability // by SKU and location
	events []canonical.Event
	stats  Stats
}

var _ connector.CRM = (*CRM)(nil)

// New returns a CRM configured by cfg.
func New(cfg Config) *CRM {
	c := &CRM{
		now:    cfg.Now,
		orders: map[string]bool{},
		shown:  map[string]connector.OrderStatus{},
		avail:  map[string]connector.Availability{},
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Stats returns what the CRM did so far.
func (c *CRM) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// fail returns a connector error of this CRM.
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

// Convert converts an opportunity into order o: the CRM numbers the
// opportunity and puts o on its order feed as a
// [canonical.EventOrderSubmitted] event. Converting an order ID again
// changes nothing.
func (c *CRM) Convert(ctx context.Context, o canonical.Order) error {
	const op = "Convert"
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err := o.Validate(); err != nil {
		return fail(connector.CodeInvalid, op, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.orders[o.ID] {
		return nil
	}
	o.Lines = slices.Clone(o.Lines)
	o.Refs = o.Refs.With(canonical.ExternalRef{System: System, Type: "opportunity", Value: fmt.Sprintf("OPP-%06d", len(c.orders)+1)})
	e, err := canonical.NewEvent(canonical.EventOrderSubmitted, o)
	if err != nil {
		return fail(connector.CodeInternal, op, err)
	}
	e.ID = fmt.Sprintf("evt-%06d", len(c.events)+1)
	e.Source = Source
	e.Subject = o.ID
	e.Time = c.now()
	c.events = append(c.events, e)
	c.orders[o.ID] = true
	c.stats.Orders++
	return nil
}

// Shown returns the status the CRM shows for an order, and false when it
// shows none.
func (c *CRM) Shown(orderID string) (connector.OrderStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.shown[orderID]
	return s, ok
}

// PollOrders implements [connector.OrderFeed]. The cursor is the number of
// events read so far, so it survives a restart of the program that stored
// it.
func (c *CRM) PollOrders(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	const op = "PollOrders"
	if ctx.Err() != nil {
		return connector.Page{}, context.Cause(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	start := 0
	if cursor != "" {
		n, err := strconv.Atoi(string(cursor))
		if err != nil || n < 0 || n > len(c.events) {
			return connector.Page{}, invalid(op, "cursor", "is not a cursor of this feed")
		}
		start = n
	}
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	end := min(start+limit, len(c.events))
	if end == start {
		return connector.Page{Next: cursor}, nil // an empty page keeps the cursor
	}
	return connector.Page{
		Events: slices.Clone(c.events[start:end]),
		Next:   connector.Cursor(strconv.Itoa(end)),
		More:   end < len(c.events),
	}, nil
}

// PublishStatus implements [connector.StatusPublisher]: it shows s unless
// the CRM shows a status of the same or a later sequence.
func (c *CRM) PublishStatus(ctx context.Context, s connector.OrderStatus) error {
	const op = "PublishStatus"
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if s.OrderID == "" {
		return invalid(op, "orderId", "is required")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.orders[s.OrderID] {
		return fail(connector.CodeNotFound, op, fmt.Errorf("no order %q", s.OrderID))
	}
	if cur, ok := c.shown[s.OrderID]; ok && cur.Sequence >= s.Sequence {
		return nil // a repeated or older update
	}
	s.Lines = slices.Clone(s.Lines)
	c.shown[s.OrderID] = s
	c.stats.StatusUpdates++
	return nil
}

// PublishAvailability implements [connector.AvailabilityPublisher]: it
// shows each availability unless the CRM shows one of the same or a later
// sequence for its SKU and location. It checks every item before showing
// any.
func (c *CRM) PublishAvailability(ctx context.Context, items []connector.Availability) error {
	const op = "PublishAvailability"
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	for i, a := range items {
		if a.SKU == "" {
			return invalid(op, fmt.Sprintf("items[%d].sku", i), "is required")
		}
		if a.Location == "" {
			return invalid(op, fmt.Sprintf("items[%d].location", i), "is required")
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range items {
		k := a.SKU + "\x00" + a.Location
		if cur, ok := c.avail[k]; ok && cur.Sequence >= a.Sequence {
			continue
		}
		c.avail[k] = a
		c.stats.AvailabilityUpdates++
	}
	return nil
}
