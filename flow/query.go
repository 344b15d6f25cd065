package flow

import (
	"context"
	"fmt"
	"slices"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/tracing"
)

// StatusViewer is an optional capability of a CRM connector, found with
// connector.As: it returns what the CRM shows of an order (as crm.Memory's
// ShownStatus does), and false when it shows nothing.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: Where calls ShownStatus from whichever goroutine asks.
type StatusViewer interface {
	ShownStatus(orderID string) (connector.OrderStatus, bool)
}

// TimelineReader is an optional capability of a Config.Recorder: it returns
// the steps recorded for a correlation ID, as *tracing.MemoryRecorder does.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: Where calls Timeline from whichever goroutine asks,
// while the flow records steps.
type TimelineReader interface {
	Timeline(correlationID string) []tracing.Step
}

// OrderView answers "where is order X": the order as the flow derives it,
// what each system shows of it, its fulfilment orders, shipments and
// invoices, its timeline and its dead letters. It is a plain value, a copy
// that later changes do not touch. The zero value is an empty view. It is
// safe for concurrent reads.
type OrderView struct {
	// Order is the order with its line buckets as the flow folded them.
	Order canonical.Order
	// CorrelationID ties its events, calls and timeline together.
	CorrelationID string
	// Status is the status the flow derives from the buckets.
	Status canonical.Status
	// Phase is where the order stands in the flow: "submitted",
	// "rejected", "on_hold", "accepted" (not released yet) or "released".
	Phase string
	// ERP is the ERP's view of the order (GetOrder), nil when ERPErr is set
	// (for example CodeNotFound for a rejected order).
	ERP    *canonical.Order
	ERPErr error
	// CRM is what the CRM shows, nil when the CRM does not implement
	// StatusViewer or shows nothing.
	CRM *connector.OrderStatus
	// FulfillmentOrders are the released fulfilment orders as the WMS
	// returned them, in plan order.
	FulfillmentOrders []canonical.FulfillmentOrder
	// Shipments are the shipments in the order the flow received them;
	// Invoices the ERP's invoices for them, in the same order where posted.
	Shipments []canonical.Shipment
	Invoices  []canonical.Invoice
	// Returns are the order's returns as the flow shows them to the CRM;
	// CreditMemos the ERP's credit memos for them, in posting order.
	Returns     []connector.ReturnStatus
	CreditMemos []canonical.Invoice
	// Systems, for a flow with Config.Warehouses, maps the ID of each
	// released fulfilment order and each return to the name of the WMS
	// (WarehouseSystem.Name) that holds it: the one that owns its
	// warehouse. Nil for a flow with one WMS, which holds them all.
	Systems map[string]string
	// Timeline is the order's steps, when Config.Recorder is a
	// TimelineReader.
	Timeline []tracing.Step
	// DeadLetters are the dead letters of the order's events in the flow's
	// consumer group.
	DeadLetters []eventlog.DeadLetter
}

// Orders returns the IDs of the orders the flow holds in memory, and of
// those its state store holds when that is a *MemoryState (the default),
// sorted. Completed orders are compacted out of memory (see the package
// documentation): with another store, list them from it.
func (f *Flow) Orders() []string {
	var ids []string
	if m, ok := f.states.(*MemoryState); ok {
		ids = m.ids()
	}
	f.mu.Lock()
	for id := range f.orders {
		ids = append(ids, id)
	}
	f.mu.Unlock()
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Where returns where the order with the given ID is. It reads the ERP's
// and the CRM's views and the dead letters; a failure to read the ERP is
// reported in OrderView.ERPErr, a failure to read the dead letters is
// returned. An order the flow does not know is an error matching
// ErrUnknownOrder, as is every order for a flow made by NewInventorySync.
func (f *Flow) Where(ctx context.Context, orderID string) (OrderView, error) {
	if !f.otc {
		return OrderView{}, fmt.Errorf("%w: %q (inventory sync only)", ErrUnknownOrder, orderID)
	}
	st, err := f.lookup(ctx, orderID, false)
	if err != nil {
		return OrderView{}, err
	}
	if st == nil {
		return OrderView{}, fmt.Errorf("%w: %q", ErrUnknownOrder, orderID)
	}
	f.mu.Lock()
	v := OrderView{Order: st.order, CorrelationID: st.corr, Phase: st.phase.String()}
	v.Order.Lines = slices.Clone(st.order.Lines)
	v.Order.Holds = slices.Clone(st.order.Holds)
	v.Status = v.Order.Status()
	for _, fo := range st.plan {
		if r, ok := st.released[fo.ID]; ok {
			v.FulfillmentOrders = append(v.FulfillmentOrders, r)
		}
	}
	v.Shipments = slices.Clone(st.ships)
	for _, id := range st.invOrder {
		v.Invoices = append(v.Invoices, st.invoices[id])
	}
	v.Returns, v.CreditMemos = st.returnsLocked(), st.creditMemosLocked()
	if f.owner != nil {
		v.Systems = map[string]string{}
		for _, fo := range v.FulfillmentOrders {
			if s := f.owner[fo.Warehouse]; s != nil {
				v.Systems[fo.ID] = s.name
			}
		}
		for _, id := range st.retOrder {
			if s := f.owner[st.returns[id].ret.Warehouse]; s != nil {
				v.Systems[id] = s.name
			}
		}
	}
	f.mu.Unlock()
	if o, err := f.erp.GetOrder(ctx, orderID); err != nil {
		v.ERPErr = err
	} else {
		v.ERP = &o
	}
	if sv, ok := connector.As[StatusViewer](f.crm); ok {
		if s, ok := sv.ShownStatus(orderID); ok {
			v.CRM = &s
		}
	}
	if tr, ok := f.rec.(TimelineReader); ok && v.CorrelationID != "" {
		v.Timeline = tr.Timeline(v.CorrelationID)
	}
	if v.CorrelationID != "" {
		dl, err := f.listDeadLetters(ctx, eventlog.Filter{CorrelationID: v.CorrelationID})
		if err != nil {
			return v, fmt.Errorf("flow: dead letters of order %s: %w", orderID, err)
		}
		v.DeadLetters = dl
	}
	return v, nil
}

// DeadLetters returns the dead letters of the flow's consumer group that
// filter selects (its Consumer is set to the group; with a Consumer that
// reports ConsumerGroups, to each of those groups too).
func (f *Flow) DeadLetters(ctx context.Context, filter eventlog.Filter) ([]eventlog.DeadLetter, error) {
	return f.listDeadLetters(ctx, filter)
}

// Replay asks for the dead letters of the flow's group (and those of the
// Consumer's ConsumerGroups) that filter selects to be handled again,
// recording by and why in their audit trail, and returns how many. The
// next Run or Drain handles them.
func (f *Flow) Replay(ctx context.Context, filter eventlog.Filter, by, why string) (int, error) {
	a := eventlog.Audit{At: f.now(), Action: eventlog.ActionReplay, By: by, Why: why}
	n := 0
	for _, g := range f.deadLetterGroups() {
		filter.Consumer = g
		k, err := f.log.Replay(ctx, filter, a)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
