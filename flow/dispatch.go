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

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

func kindOf(t canonical.EventType) string {
	k, _ := canonical.EventKind(t)
	return k
}

func (f *Flow) count(ctx context.Context, c Counter, entity string) {
	if f.metrics != nil {
		f.metrics.Count(ctx, c, entity)
	}
}

// emit appends an event the flow produces, carrying doc, caused by cause.
func (f *Flow) emit(ctx context.Context, t canonical.EventType, doc canonical.Document, orderID, corr string, cause canonical.Event, id string) error {
	e, err := canonical.NewEvent(t, doc)
	if err != nil {
		return retry.Permanent(fmt.Errorf("flow: emit %s for order %s: %w", t, orderID, err))
	}
	e.ID, e.Source, e.Subject, e.PartitionKey, e.Time = id, f.source, orderID, orderID, f.now()
	e.CorrelationID, e.CausationID = corr, cause.ID
	return f.log.Append(ctx, e)
}

// handle is the consumer's handler: it applies one event and reports it.
func (f *Flow) handle(ctx context.Context, ev canonical.Event) error {
	start := f.now()
	attempt := max(eventlog.Attempt(ctx), 1)
	dup, err := f.dispatch(ctx, ev)
	if err == nil {
		err = f.compact(ctx, ev.Partition())
	}
	var ee *EventError
	if errors.As(err, &ee) {
		err = retry.Permanent(err)
	}
	entity := kindOf(ev.Type)
	outcome := tracing.OutcomeOK
	switch {
	case err == nil && dup:
		outcome = tracing.OutcomeDuplicate
		f.count(ctx, CounterDuplicate, entity)
	case err == nil:
		f.count(ctx, CounterHandled, entity)
		if f.metrics != nil && !ev.Time.IsZero() {
			f.metrics.SyncLag(ctx, entity, f.now().Sub(ev.Time))
		}
	case errors.Is(err, retry.ErrCircuitOpen):
		outcome = tracing.OutcomeParked
		f.count(ctx, CounterParked, entity)
	case retry.IsPermanent(err) || attempt >= f.attempts:
		// The consumer dead-letters it; deadLettered counts it.
		outcome = tracing.OutcomeFailed
	default:
		outcome = tracing.OutcomeRetry
		f.count(ctx, CounterRetried, entity)
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
	f.count(ctx, CounterDeadLettered, kindOf(d.Event.Type))
}

// shortType returns "order.submitted" for "distsync.order.submitted.v1".
func shortType(t canonical.EventType) string {
	s := strings.TrimPrefix(string(t), "distsync.")
	if i := strings.LastIndex(s, ".v"); i > 0 {
		s = s[:i]
	}
	return s
}

func (f *Flow) dispatch(ctx context.Context, ev canonical.Event) (bool, error) {
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
	if err := f.checkSource(ev); err != nil {
		return false, bad(err)
	}
	switch ev.Type {
	case canonical.EventOrderSubmitted:
		o, err := canonical.DecodeData[canonical.Order](ev)
		if err == nil {
			err = checkPartition(ev, o.ID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onSubmitted(ctx, ev, o, bad)
	case canonical.EventOrderAccepted:
		o, err := canonical.DecodeData[canonical.Order](ev)
		if err == nil {
			err = checkPartition(ev, o.ID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onAccepted(ctx, ev, o, bad)
	case canonical.EventOrderRejected, canonical.EventOrderHeld, canonical.EventOrderCancelled:
		// Records of the flow's own decisions: their effects were made
		// by the handler that emitted them.
		return false, nil
	case canonical.EventFulfillmentAllocated, canonical.EventFulfillmentBackordered, canonical.EventFulfillmentPicked:
		u, err := canonical.DecodeData[canonical.AllocationUpdate](ev)
		if err == nil {
			err = checkPartition(ev, u.OrderID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onAllocation(ctx, u, bad)
	case canonical.EventFulfillmentShipped:
		s, err := canonical.DecodeData[canonical.Shipment](ev)
		if err == nil {
			err = checkPartition(ev, s.OrderID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onShipped(ctx, ev, s, bad)
	case canonical.EventFulfillmentReleased, canonical.EventFulfillmentCancelled:
		// The WMS's echo of a release or a cancellation the flow made
		// (what a cancellation cancelled is folded from its result).
		return false, nil
	case canonical.EventOrderCancelRequested:
		r, err := canonical.DecodeData[canonical.CancelRequest](ev)
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onCancelRequested(ctx, ev, r, bad)
	case canonical.EventInventoryAdjusted, canonical.EventInventorySnapshot:
		return f.onInventory(ctx, ev, bad)
	case canonical.EventReturnAuthorized:
		r, err := canonical.DecodeData[canonical.Return](ev)
		if err == nil {
			err = checkPartition(ev, r.OrderID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onReturnAuthorized(ctx, r, bad)
	case canonical.EventReturnReceived:
		r, err := canonical.DecodeData[canonical.Return](ev)
		if err == nil && r.OrderID != "" { // no order: onReturnReceived says so
			err = checkPartition(ev, r.OrderID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onReturnReceived(ctx, r, bad)
	}
	return false, bad(fmt.Errorf("%w: %q", ErrUnhandledEvent, ev.Type))
}

// checkSource refuses an order event from a source the flow does not
// accept for its type: an order.submitted event not from
// Config.OrderSources, an order.accepted event not from Config.Source, a
// cancel request not from Config.OrderSources or Config.ERPSources, a
// return.authorized event not from those or Config.Source (returns
// authorized with Flow.AuthorizeReturn), a fulfilment, return.received or
// inventory event not from Config.WMSSources.
func (f *Flow) checkSource(ev canonical.Event) error {
	switch ev.Type {
	case canonical.EventFulfillmentReleased, canonical.EventFulfillmentAllocated, canonical.EventFulfillmentBackordered,
		canonical.EventFulfillmentPicked, canonical.EventFulfillmentShipped, canonical.EventFulfillmentCancelled,
		canonical.EventReturnReceived, canonical.EventInventoryAdjusted, canonical.EventInventorySnapshot:
		if !slices.Contains(f.wmsSrc, ev.Source) {
			return fmt.Errorf("%w: warehouse events are accepted from %q only (Config.WMSSources)", ErrForeignSource, f.wmsSrc)
		}
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
	case canonical.EventReturnAuthorized:
		if ev.Source != f.source && !slices.Contains(f.orderSrc, ev.Source) && !slices.Contains(f.erpSrc, ev.Source) {
			return fmt.Errorf("%w: returns are accepted from %q only (Config.OrderSources, Config.ERPSources, Config.Source)",
				ErrForeignSource, slices.Concat(f.orderSrc, f.erpSrc, []string{f.source}))
		}
	}
	return nil
}
