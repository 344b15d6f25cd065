// This file owns the consumer side: handle, which reports each event,
// dispatch, which routes an event to its handler by type, and the
// checks every event passes first (its source).

package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

func kindOf(t canonical.EventType) string {
	k, _ := canonical.EventKind(t)
	return k
}

// count adds one to counter c for an event of type t.
func (f *Flow) count(ctx context.Context, c Counter, t canonical.EventType) {
	if ec, ok := f.metrics.(EventCounter); ok {
		ec.CountEvent(ctx, c, kindOf(t), t)
	} else if f.metrics != nil {
		f.metrics.Count(ctx, c, kindOf(t))
	}
}

// Targets of TargetSyncLagger.SyncLagTo.
const (
	targetERP = "erp"
	targetCRM = "crm"
	targetWMS = "wms"
)

// landed reports to a TargetSyncLagger that an effect of the event ctx's
// handler handles landed in target.
func (f *Flow) landed(ctx context.Context, target string) {
	tl, ok := f.metrics.(TargetSyncLagger)
	if !ok {
		return
	}
	if ev, ok := eventlog.EventFrom(ctx); ok && !ev.Time.IsZero() {
		tl.SyncLagTo(ctx, kindOf(ev.Type), ev.Source, target, f.now().Sub(ev.Time))
	}
}

// emit appends an event the flow produces, carrying doc, caused by cause.
func (f *Flow) emit(ctx context.Context, t canonical.EventType, doc canonical.Document, orderID, corr string, cause canonical.Event, id string) error {
	e, err := f.event(t, doc, orderID, corr, cause, id)
	if err != nil {
		return err
	}
	return f.appendOne(ctx, e)
}

// appendOne appends e to the log in a pooled one-event slice: the slice
// of a variadic call through the Log interface is made on the heap, and
// Log.Append keeps none.
func (f *Flow) appendOne(ctx context.Context, e canonical.Event) error {
	p := oneEvents.Get().(*[1]canonical.Event)
	p[0] = e
	err := f.log.Append(ctx, p[:]...)
	p[0] = canonical.Event{} // so that the pool keeps no event alive
	oneEvents.Put(p)
	return err
}

// oneEvents holds the slices appendOne appends from.
var oneEvents = sync.Pool{New: func() any { return new([1]canonical.Event) }}

// event returns the event emit appends, without appending it: a caller
// that holds f.mu makes it from the state's own document and appends it
// after unlocking.
func (f *Flow) event(t canonical.EventType, doc canonical.Document, orderID, corr string, cause canonical.Event, id string) (canonical.Event, error) {
	e, err := canonical.NewEvent(t, doc)
	if err != nil {
		return canonical.Event{}, retry.Permanent(fmt.Errorf("flow: emit %s for order %s: %w", t, orderID, err))
	}
	e.ID, e.Source, e.Subject, e.PartitionKey, e.Time = id, f.source, orderID, orderID, f.now()
	e.CorrelationID, e.CausationID = corr, cause.ID
	return e, nil
}

// handle is the consumer's handler: it applies one event and reports it.
func (f *Flow) handle(ctx context.Context, ev canonical.Event) error {
	start := f.now()
	attempt := max(eventlog.Attempt(ctx), 1)
	dup, err := f.dispatch(ctx, ev)
	if err == nil && f.defers(ctx) {
		err = f.deferSave(ctx, ev.Partition(), ev.Type)
	} else if err == nil {
		err = f.compact(ctx, ev.Partition())
	}
	if err != nil {
		// Declared here: errors.As moves ee to the heap, for every event
		// were it declared outside.
		var ee *EventError
		if errors.As(err, &ee) {
			err = retry.Permanent(err)
		}
	}
	entity := kindOf(ev.Type)
	outcome := tracing.OutcomeOK
	switch {
	case err == nil && dup:
		outcome = tracing.OutcomeDuplicate
		f.count(ctx, CounterDuplicate, ev.Type)
	case err == nil:
		f.count(ctx, CounterHandled, ev.Type)
		if f.metrics != nil && !ev.Time.IsZero() {
			f.metrics.SyncLag(ctx, entity, f.now().Sub(ev.Time))
		}
	case errors.Is(err, retry.ErrCircuitOpen):
		outcome = tracing.OutcomeParked
		f.count(ctx, CounterParked, ev.Type)
	case retry.IsPermanent(err) || attempt >= f.attempts:
		// The consumer dead-letters it; deadLettered counts it.
		outcome = tracing.OutcomeFailed
	default:
		outcome = tracing.OutcomeRetry
		f.count(ctx, CounterRetried, ev.Type)
	}
	if f.rec != nil {
		f.rec.Record(ctx, tracing.Step{CorrelationID: ev.CorrelationID, System: "flow",
			Operation: "handle " + shortType(ev.Type), Start: start, Duration: f.now().Sub(start), Attempt: attempt,
			Outcome: outcome, ErrorClass: tracing.ErrorClass(err)})
	}
	return err
}

// deadLettered is the consumer's OnDeadLetter hook.
func (f *Flow) deadLettered(ctx context.Context, d eventlog.DeadLetter) {
	f.count(ctx, CounterDeadLettered, d.Event.Type)
}

// shortType returns "order.submitted" for "distsync.order.submitted.v1".
func shortType(t canonical.EventType) string {
	s := strings.TrimPrefix(string(t), "distsync.")
	if i := strings.LastIndex(s, ".v"); i > 0 {
		s = s[:i]
	}
	return s
}

// route handles one event type: bad wraps an error as an EventError, which
// dispatch names after the event. It reports whether the event was a
// duplicate.
type route func(f *Flow, ctx context.Context, ev canonical.Event, bad func(error) error) (bool, error)

// handler adapts fn, the handler of an event whose data is a D, to a
// route: it decodes the event's data into a D, checks that the event is in
// the partition of the order it names (orderOf returns the order's ID and
// whether to check it; nil checks nothing) and calls fn. Data that does not
// decode, or an event in another partition than its order's, is an
// ErrBadEvent.
func handler[D canonical.Document](orderOf func(D) (string, bool), fn func(*Flow, context.Context, canonical.Event, D, func(error) error) (bool, error)) route {
	return func(f *Flow, ctx context.Context, ev canonical.Event, bad func(error) error) (bool, error) {
		d, err := canonical.DecodeData[D](ev)
		if err == nil && orderOf != nil {
			if id, check := orderOf(d); check {
				err = checkPartition(ev, id)
			}
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return fn(f, ctx, ev, d, bad)
	}
}

// recorded is the route of an event whose effects were made by whoever
// emitted it: it is only recorded.
func recorded(*Flow, context.Context, canonical.Event, func(error) error) (bool, error) {
	return false, nil
}

// The orderOf functions of handler: every order event is checked against
// its order's partition, except a return received that names no order,
// which onReturnReceived dead-letters saying so.
func orderOfOrder(o canonical.Order) (string, bool)                 { return o.ID, true }
func orderOfAllocation(u canonical.AllocationUpdate) (string, bool) { return u.OrderID, true }
func orderOfShipment(s canonical.Shipment) (string, bool)           { return s.OrderID, true }
func orderOfReturn(r canonical.Return) (string, bool)               { return r.OrderID, true }
func orderOfReturnReceived(r canonical.Return) (string, bool)       { return r.OrderID, r.OrderID != "" }

// routes maps each event type the flow handles to its route.
var routes = map[canonical.EventType]route{
	canonical.EventOrderSubmitted: handler(orderOfOrder, (*Flow).onSubmitted),
	canonical.EventOrderAccepted:  routeAccepted,
	// Records of the flow's own decisions: their effects were made by
	// the handler that emitted them (a deferred one's publication aside:
	// recordedDecision).
	canonical.EventOrderRejected:          recordedDecision,
	canonical.EventOrderHeld:              recordedDecision,
	canonical.EventOrderCancelled:         recorded,
	canonical.EventFulfillmentAllocated:   handler(orderOfAllocation, (*Flow).onAllocation),
	canonical.EventFulfillmentBackordered: handler(orderOfAllocation, (*Flow).onAllocation),
	canonical.EventFulfillmentPicked:      handler(orderOfAllocation, (*Flow).onAllocation),
	canonical.EventFulfillmentShipped:     handler(orderOfShipment, (*Flow).onShipped),
	// The WMS's echo of a release or a cancellation the flow made (what a
	// cancellation cancelled is folded from its result).
	canonical.EventFulfillmentReleased:  recorded,
	canonical.EventFulfillmentCancelled: recorded,
	canonical.EventOrderCancelRequested: handler(nil, (*Flow).onCancelRequested),
	canonical.EventOrderAmended:         handler(orderOfAmendment, (*Flow).onAmended),
	canonical.EventInventoryAdjusted:    (*Flow).onInventory,
	canonical.EventInventorySnapshot:    (*Flow).onInventory,
	canonical.EventReturnAuthorized:     handler(orderOfReturn, (*Flow).onReturnAuthorized),
	canonical.EventReturnReceived:       handler(orderOfReturnReceived, (*Flow).onReturnReceived),
}

// decodeAccepted is the route of an order.accepted event whose order is
// decoded from its data.
var decodeAccepted = handler(orderOfOrder, (*Flow).onAccepted)

// routeAccepted is the route of order.accepted: the flow's own decision,
// appended by this process from the state it still holds in memory, is
// handled without decoding its data again (ownAcceptance); any other
// (another process's, one appended before a restart, the hold watcher's
// resuming event with the ERP's view) is decoded.
func routeAccepted(f *Flow, ctx context.Context, ev canonical.Event, bad func(error) error) (bool, error) {
	if o, ok := f.ownAcceptance(ev); ok {
		return f.onAccepted(ctx, ev, o, bad)
	}
	return decodeAccepted(f, ctx, ev, bad)
}

// ownAcceptance returns the order an order.accepted event carries without
// decoding it, when the event is the decision this process appended from
// the state in memory of the order of its partition (orderState.accepted)
// and that state is still where the decision left it: accepted, not
// released, no change under way, not deferred to a group commit, the
// order at the version decided. Then onAccepted reads the order from the
// state and, of the event's order, its ID and version only, which are
// returned.
func (f *Flow) ownAcceptance(ev canonical.Event) (canonical.Order, bool) {
	if ev.Source != f.source || ev.ID == "" {
		return canonical.Order{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.orders[ev.Partition()]
	if st == nil || st.accepted != ev.ID || st.deciding || st.phase != phaseAccepted || st.change != nil ||
		st.order.Version != st.acceptedVersion || st.order.ID != ev.Partition() {
		return canonical.Order{}, false
	}
	return canonical.Order{ID: st.order.ID, Version: st.acceptedVersion}, true
}

func (f *Flow) dispatch(ctx context.Context, ev canonical.Event) (bool, error) {
	r, ok := routes[ev.Type]
	if !f.otc && !isInventory(ev.Type) {
		r, ok = nil, false // inventory sync only (NewInventorySync)
	}
	if !ok && f.unhandled != nil {
		return false, f.unhandled(ctx, ev)
	}
	// bad names the event in dispatch's own errors (called here only, it
	// moves nothing to the heap).
	bad := func(err error) error {
		return &EventError{Type: ev.Type, Source: ev.Source, ID: ev.ID, Err: err}
	}
	// The flow's own events carry documents it bounded when they came
	// in (AuthorizeReturn bounds its returns), or the ERP's view of such
	// an order, which is larger: the hold watcher's order.accepted of an
	// order of 6,500 lines, 0.9 MB as submitted, is 1.9 MB.
	if ev.Source != f.source {
		if err := f.checkBounds(ev.Data, len(ev.BinaryData)); err != nil {
			return false, bad(err)
		}
	}
	if !ok {
		return false, bad(fmt.Errorf("%w: %q", ErrUnhandledEvent, ev.Type))
	}
	if err := f.checkSource(ev); err != nil {
		return false, bad(err)
	}
	// The route's errors name no event (badEvent, which captures nothing:
	// a closure capturing the event's identity was allocated for every
	// event handled); they are named here, before anyone else sees them.
	dup, err := r(f, ctx, ev, badEvent)
	if err != nil {
		nameEvent(err, ev.Type, ev.Source, ev.ID)
	}
	return dup, err
}

// badEvent wraps err as an EventError that names no event yet: dispatch
// names it (nameEvent) when the route returns it.
func badEvent(err error) error { return &EventError{Err: err} }

// nameEvent gives each EventError of err's tree that names no event (one
// badEvent made while the event was handled) the event's type, source and
// ID.
func nameEvent(err error, t canonical.EventType, src, id string) {
	for err != nil {
		switch e := err.(type) {
		case *EventError:
			if e.Type == "" && e.Source == "" && e.ID == "" {
				e.Type, e.Source, e.ID = t, src, id
			}
			err = e.Err
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				nameEvent(x, t, src, id)
			}
			return
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return
		}
	}
}

// checkPartition returns an error (the caller wraps it in ErrBadEvent)
// for an event about an order that is not in the
// order's partition (see partitionByOrder), as one appended to the log by
// other means than the flow's pollers may be: handled beside the order's
// other events, it could race them.
func checkPartition(ev canonical.Event, orderID string) error {
	if p := ev.Partition(); p != orderID {
		return fmt.Errorf("%s of order %q is in partition %q, not the order's", shortType(ev.Type), orderID, p)
	}
	return nil
}

// checkSource refuses an order event from a source the flow does not
// accept for its type: an order.submitted event not from
// Config.OrderSources, an order.accepted event not from Config.Source, a
// cancel request not from Config.OrderSources or Config.ERPSources, an
// amendment not from Config.ERPSources, a
// return.authorized event not from those or Config.Source (returns
// authorized with Flow.AuthorizeReturn), a fulfilment, return.received or
// inventory event not from Config.WMSSources, or, with
// Config.Warehouses, not from the sources of the system that owns the
// warehouse it is about.
func (f *Flow) checkSource(ev canonical.Event) error {
	switch ev.Type {
	case canonical.EventFulfillmentReleased, canonical.EventFulfillmentAllocated, canonical.EventFulfillmentBackordered,
		canonical.EventFulfillmentPicked, canonical.EventFulfillmentShipped, canonical.EventFulfillmentCancelled,
		canonical.EventReturnReceived, canonical.EventInventoryAdjusted, canonical.EventInventorySnapshot:
		if !slices.Contains(f.wmsSrc, ev.Source) {
			return fmt.Errorf("%w: warehouse events are accepted from %q only (Config.WMSSources)", ErrForeignSource, f.wmsSrc)
		}
		return f.checkOwner(ev)
	case canonical.EventOrderSubmitted:
		if !slices.Contains(f.orderSrc, ev.Source) {
			return fmt.Errorf("%w: orders are accepted from %q only (Config.OrderSources)", ErrForeignSource, f.orderSrc)
		}
	case canonical.EventOrderAccepted:
		if ev.Source != f.source {
			return fmt.Errorf("%w: order.accepted is accepted from the flow's own source %q only", ErrForeignSource, f.source)
		}
	case canonical.EventOrderCancelRequested:
		if !slices.Contains(f.orderSrc, ev.Source) && !slices.Contains(f.erpSrc, ev.Source) {
			return fmt.Errorf("%w: cancel requests are accepted from %q only (Config.OrderSources, Config.ERPSources)",
				ErrForeignSource, slices.Concat(f.orderSrc, f.erpSrc))
		}
	case canonical.EventOrderAmended:
		if !slices.Contains(f.erpSrc, ev.Source) {
			return fmt.Errorf("%w: amendments are accepted from %q only (Config.ERPSources)", ErrForeignSource, f.erpSrc)
		}
	case canonical.EventReturnAuthorized:
		if ev.Source != f.source && !slices.Contains(f.orderSrc, ev.Source) && !slices.Contains(f.erpSrc, ev.Source) {
			return fmt.Errorf("%w: returns are accepted from %q only (Config.OrderSources, Config.ERPSources, Config.Source)",
				ErrForeignSource, slices.Concat(f.orderSrc, f.erpSrc, []string{f.source}))
		}
	}
	return nil
}
