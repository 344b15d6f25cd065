package memfake

import (
	"context"
	"fmt"
	"slices"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
)

const crmSystem = "memfake-crm"

// crmState is what survives a reopen of a CRM.
type crmState struct {
	mu      mutex
	orders  map[string]bool
	shown   map[string]connector.OrderStatus
	avail   map[string]connector.Availability // SKU|location
	feed    feed
	effects connectortest.CRMEffects
}

// CRM is an in-memory CRM. It is safe for concurrent use.
type CRM struct {
	s *crmState
}

var (
	_ connector.CRM                  = (*CRM)(nil)
	_ connector.StatusBatchPublisher = (*CRM)(nil)
	_ connector.HealthChecker        = (*CRM)(nil)
)

// NewCRM returns an empty CRM.
func NewCRM() *CRM {
	return &CRM{s: &crmState{
		orders: map[string]bool{},
		shown:  map[string]connector.OrderStatus{},
		avail:  map[string]connector.Availability{},
		feed:   feed{source: "urn:distsync:crm:memfake"},
	}}
}

// Reopen returns a new CRM over the same state, as after a restart.
func (c *CRM) Reopen() *CRM { return &CRM{s: c.s} }

// Effects returns the effects so far.
func (c *CRM) Effects() connectortest.CRMEffects {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.effects
}

// AddOrders converts n opportunities into orders on the feed.
func (c *CRM) AddOrders(ctx context.Context, n int) error {
	if err := done(ctx); err != nil {
		return err
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		o := SampleOrder(len(s.orders) + 1)
		o.Refs = canonical.Refs{{System: "crm", Type: "opportunity", Value: fmt.Sprintf("OPP-%04d", len(s.orders)+1)}}
		if err := s.feed.add(canonical.EventOrderSubmitted, o.ID, o, T0); err != nil {
			return err
		}
		s.orders[o.ID] = true
	}
	return nil
}

// Shown returns the status shown for an order.
func (c *CRM) Shown(orderID string) (connector.OrderStatus, bool) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	st, ok := c.s.shown[orderID]
	return st, ok
}

// PollOrders implements [connector.OrderFeed].
func (c *CRM) PollOrders(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	if err := done(ctx); err != nil {
		return connector.Page{}, err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.feed.page(crmSystem, "PollOrders", cursor, limit)
}

// PublishStatus implements [connector.StatusPublisher].
func (c *CRM) PublishStatus(ctx context.Context, st connector.OrderStatus) error {
	if err := done(ctx); err != nil {
		return err
	}
	if st.OrderID == "" {
		return invalid(crmSystem, "PublishStatus", "orderId", "is required")
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.orders[st.OrderID] {
		return connector.NewError(connector.CodeNotFound, crmSystem, "PublishStatus", fmt.Errorf("order %q", st.OrderID))
	}
	if cur, ok := s.shown[st.OrderID]; ok && cur.Sequence >= st.Sequence {
		return nil
	}
	st.Lines = slices.Clone(st.Lines)
	s.shown[st.OrderID] = st
	s.effects.StatusUpdates++
	return nil
}

// PublishStatuses implements [connector.StatusBatchPublisher].
func (c *CRM) PublishStatuses(ctx context.Context, updates []connector.OrderStatus) ([]error, error) {
	if err := done(ctx); err != nil {
		return nil, err
	}
	errs := make([]error, len(updates))
	for i, u := range updates {
		errs[i] = c.PublishStatus(ctx, u)
	}
	return errs, nil
}

// PublishAvailability implements [connector.AvailabilityPublisher].
func (c *CRM) PublishAvailability(ctx context.Context, items []connector.Availability) error {
	if err := done(ctx); err != nil {
		return err
	}
	for i, a := range items {
		if a.SKU == "" {
			return invalid(crmSystem, "PublishAvailability", fmt.Sprintf("items[%d].sku", i), "is required")
		}
		if a.Location == "" {
			return invalid(crmSystem, "PublishAvailability", fmt.Sprintf("items[%d].location", i), "is required")
		}
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range items {
		k := a.SKU + "|" + a.Location
		if cur, ok := s.avail[k]; ok && cur.Sequence >= a.Sequence {
			continue
		}
		s.avail[k] = a
		s.effects.AvailabilityUpdates++
	}
	return nil
}

// Health implements [connector.HealthChecker].
func (c *CRM) Health(ctx context.Context) error { return done(ctx) }
