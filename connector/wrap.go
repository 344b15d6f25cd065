package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/distsync/distsync/canonical"
)

// WrappedERP is an [ERP] with retry, a circuit breaker, per-attempt
// timeouts, tracing and metrics around another ERP, its optional roles
// included. Create it with [WrapERP]. It is safe for concurrent use when the
// wrapped ERP is. The zero value is not usable.
type WrappedERP struct {
	erp ERP
	d   *decorator
	// The wrapped ERP's optional roles, nil when it lacks them.
	feed   EventFeed
	cancel OrderCanceller
	change OrderChanger
	amend  AmendmentReporter
	health HealthChecker
}

var (
	_ AmendmentReporter = (*WrappedERP)(nil)
	_ RoleForwarder     = (*WrappedERP)(nil)
	_ ERP               = (*WrappedERP)(nil)
	_ EventFeed         = (*WrappedERP)(nil)
	_ OrderCanceller    = (*WrappedERP)(nil)
	_ OrderChanger      = (*WrappedERP)(nil)
	_ HealthChecker     = (*WrappedERP)(nil)
)

// WrapERP returns erp decorated as opts say (see [Options]). It returns an
// error matching [ErrInvalidConfig] when opts is invalid.
//
// The decorators run in one fixed order, the same for [WrapWMS] and
// [WrapCRM], outermost first:
//
//  1. tracing and metrics: they see the whole call, every attempt and
//     every wait, so a timeline shows each attempt with its outcome and
//     the metrics count calls, retries and the latency the caller saw;
//  2. retry (package retry): it classifies each attempt's error, honours
//     Retry-After and stops on cancellation, on permanent errors and when
//     the breaker is open;
//  3. circuit breaker: inside retry, so that every attempt counts and an
//     open circuit stops the retries at once: the caller parks the work
//     instead of spending its budget on a system that is down; a call the
//     open breaker rejects fails with a [CodeUnavailable] *Error that
//     matches retry.ErrCircuitOpen;
//  4. per-attempt timeout: innermost, so that each attempt gets its own
//     time, and a hung attempt counts as a failure for the breaker.
//
// Every operation of the contracts may be retried: each is idempotent by
// key, by document ID or by sequence, or only reads. A decorator therefore
// retries a timeout that may have been applied (MayHaveApplied): the retry
// sends the same key, and the remote returns the first result.
//
// The optional roles of the system go through the same decorators, as
// database/sql routes a driver's optional Pinger through its pool: an
// ERP's [EventFeed], [OrderCanceller], [OrderChanger] and [AmendmentReporter], a WMS's
// [ReleaseChanger], a CRM's [StatusBatchPublisher],
// and the [HealthChecker] of each. The wrapped type always has their
// methods; when the wrapped implementation lacks a role, its method
// returns at once, without an attempt, a step or a metric, an error that
// matches errors.ErrUnsupported, and its HasRole ([RoleForwarder]) reports
// false. Find a role with [As], which reports it on the wrapped type
// exactly when the implementation under it has it, and returns the wrapped
// type so that calls are decorated:
//
//	if oc, ok := connector.As[connector.OrderCanceller](wrapped); ok {
//		order, err := oc.CancelOrderLines(ctx, key, c) // retried, timed, on the timeline
//	}
//
// [Subscriber] is not decorated: a subscription runs until its context
// ends, which a per-attempt timeout and a retry of the whole call do not
// fit. [As] finds it on the wrapped implementation, called without the
// decorators.
func WrapERP(erp ERP, opts Options) (*WrappedERP, error) {
	d, err := newDecorator(opts, "erp")
	if err != nil {
		return nil, err
	}
	w := &WrappedERP{erp: erp, d: d}
	w.feed, _ = As[EventFeed](erp)
	w.cancel, _ = As[OrderCanceller](erp)
	w.change, _ = As[OrderChanger](erp)
	w.amend, _ = As[AmendmentReporter](erp)
	w.health, _ = As[HealthChecker](erp)
	return w, nil
}

// unsupported is the error of a decorated optional role the wrapped
// implementation lacks.
func unsupported(system, op, role string, impl any) error {
	return fmt.Errorf("connector: %s %s: %T does not implement connector.%s: %w", system, op, impl, role, errors.ErrUnsupported)
}

// HasRole implements [RoleForwarder]: it reports whether the wrapped ERP
// has the optional role ([EventFeed], [OrderCanceller], [OrderChanger],
// [AmendmentReporter], [HealthChecker]), and true for any other type.
func (w *WrappedERP) HasRole(role any) bool {
	switch role.(type) {
	case *AmendmentReporter:
		return w.amend != nil
	case *EventFeed:
		return w.feed != nil
	case *OrderCanceller:
		return w.cancel != nil
	case *OrderChanger:
		return w.change != nil
	case *HealthChecker:
		return w.health != nil
	}
	return true
}

// health calls h's Health through the decorators of d.
func health(ctx context.Context, d *decorator, h HealthChecker, impl any) error {
	if h == nil {
		return unsupported(d.system, "Health", "HealthChecker", impl)
	}
	_, err := call(ctx, d, "Health", false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, h.Health(ctx)
	})
	return err
}

// Unwrap returns the wrapped ERP.
func (w *WrappedERP) Unwrap() any { return w.erp }

// ValidateOrder calls the wrapped ERP's ValidateOrder through the decorators.
func (w *WrappedERP) ValidateOrder(ctx context.Context, order *canonical.Order) (canonical.OrderAck, error) {
	return call(ctx, w.d, "ValidateOrder", false, func(ctx context.Context) (canonical.OrderAck, error) {
		return w.erp.ValidateOrder(ctx, order)
	})
}

// AcceptOrder calls the wrapped ERP's AcceptOrder through the decorators,
// with the same key on every attempt.
func (w *WrappedERP) AcceptOrder(ctx context.Context, key string, order *canonical.Order) (canonical.OrderAck, error) {
	return call(ctx, w.d, "AcceptOrder", true, func(ctx context.Context) (canonical.OrderAck, error) {
		return w.erp.AcceptOrder(ctx, key, order)
	})
}

// GetOrder calls the wrapped ERP's GetOrder through the decorators.
func (w *WrappedERP) GetOrder(ctx context.Context, orderID string) (canonical.Order, error) {
	return call(ctx, w.d, "GetOrder", false, func(ctx context.Context) (canonical.Order, error) {
		return w.erp.GetOrder(ctx, orderID)
	})
}

// PostShipment calls the wrapped ERP's PostShipment through the
// decorators, with the same key on every attempt.
func (w *WrappedERP) PostShipment(ctx context.Context, key string, shipment canonical.Shipment) (canonical.Invoice, error) {
	return call(ctx, w.d, "PostShipment", true, func(ctx context.Context) (canonical.Invoice, error) {
		return w.erp.PostShipment(ctx, key, shipment)
	})
}

// PostReturn calls the wrapped ERP's PostReturn through the decorators,
// with the same key on every attempt.
func (w *WrappedERP) PostReturn(ctx context.Context, key string, ret canonical.Return) (canonical.Invoice, error) {
	return call(ctx, w.d, "PostReturn", true, func(ctx context.Context) (canonical.Invoice, error) {
		return w.erp.PostReturn(ctx, key, ret)
	})
}

// ApplyInventory calls the wrapped ERP's ApplyInventory through the
// decorators, with the same key on every attempt.
func (w *WrappedERP) ApplyInventory(ctx context.Context, key string, positions []canonical.InventoryPosition) error {
	_, err := call(ctx, w.d, "ApplyInventory", true, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, w.erp.ApplyInventory(ctx, key, positions)
	})
	return err
}

// PollEvents calls the wrapped ERP's event feed ([EventFeed]) through the
// decorators. It returns an error matching errors.ErrUnsupported, without
// an attempt, when the wrapped ERP has no feed.
func (w *WrappedERP) PollEvents(ctx context.Context, cursor Cursor, limit int) (Page, error) {
	if w.feed == nil {
		return Page{}, unsupported(w.d.system, "PollEvents", "EventFeed", w.erp)
	}
	return call(ctx, w.d, "PollEvents", false, func(ctx context.Context) (Page, error) {
		return w.feed.PollEvents(ctx, cursor, limit)
	})
}

// CancelOrderLines calls the wrapped ERP's [OrderCanceller] through the
// decorators, with the same key on every attempt. It returns an error
// matching errors.ErrUnsupported, without an attempt, when the wrapped ERP
// cannot cancel order lines.
func (w *WrappedERP) CancelOrderLines(ctx context.Context, key string, c OrderCancellation) (canonical.Order, error) {
	if w.cancel == nil {
		return canonical.Order{}, unsupported(w.d.system, "CancelOrderLines", "OrderCanceller", w.erp)
	}
	return call(ctx, w.d, "CancelOrderLines", true, func(ctx context.Context) (canonical.Order, error) {
		return w.cancel.CancelOrderLines(ctx, key, c)
	})
}

// ReportAmendment calls the wrapped ERP's [AmendmentReporter] through the
// decorators, with the same key on every attempt. It returns an error
// matching errors.ErrUnsupported, without an attempt, when the wrapped ERP
// takes no amendment reports.
func (w *WrappedERP) ReportAmendment(ctx context.Context, key string, r AmendmentReport) (canonical.Order, error) {
	if w.amend == nil {
		return canonical.Order{}, unsupported(w.d.system, "ReportAmendment", "AmendmentReporter", w.erp)
	}
	return call(ctx, w.d, "ReportAmendment", true, func(ctx context.Context) (canonical.Order, error) {
		return w.amend.ReportAmendment(ctx, key, r)
	})
}

// ChangeOrder calls the wrapped ERP's [OrderChanger] through the
// decorators, with the same key on every attempt. It returns an error
// matching errors.ErrUnsupported, without an attempt, when the wrapped ERP
// cannot change orders.
func (w *WrappedERP) ChangeOrder(ctx context.Context, key string, change canonical.OrderChange) (canonical.ChangeAck, error) {
	if w.change == nil {
		return canonical.ChangeAck{}, unsupported(w.d.system, "ChangeOrder", "OrderChanger", w.erp)
	}
	return call(ctx, w.d, "ChangeOrder", true, func(ctx context.Context) (canonical.ChangeAck, error) {
		return w.change.ChangeOrder(ctx, key, change)
	})
}

// Health calls the wrapped ERP's [HealthChecker] through the decorators:
// an open breaker answers it with a [CodeUnavailable] error. It returns an
// error matching errors.ErrUnsupported, without an attempt, when the
// wrapped ERP has no health check.
func (w *WrappedERP) Health(ctx context.Context) error {
	return health(ctx, w.d, w.health, w.erp)
}

// WrappedWMS is a [WMS] with retry, a circuit breaker, per-attempt timeouts,
// tracing and metrics around another WMS, its optional roles included.
// Create it with [WrapWMS]. It is safe for concurrent use when the wrapped
// WMS is. The zero value is not usable.
type WrappedWMS struct {
	wms WMS
	d   *decorator
	// The wrapped WMS's optional roles, nil when it lacks them.
	change ReleaseChanger
	health HealthChecker
}

var (
	_ RoleForwarder  = (*WrappedWMS)(nil)
	_ WMS            = (*WrappedWMS)(nil)
	_ ReleaseChanger = (*WrappedWMS)(nil)
	_ HealthChecker  = (*WrappedWMS)(nil)
)

// WrapWMS returns wms decorated as opts say, in the fixed order of
// [WrapERP], its optional [ReleaseChanger] and [HealthChecker] included
// as [WrapERP] says. It
// returns an error matching [ErrInvalidConfig] when opts is invalid.
func WrapWMS(wms WMS, opts Options) (*WrappedWMS, error) {
	d, err := newDecorator(opts, "wms")
	if err != nil {
		return nil, err
	}
	w := &WrappedWMS{wms: wms, d: d}
	w.change, _ = As[ReleaseChanger](wms)
	w.health, _ = As[HealthChecker](wms)
	return w, nil
}

// HasRole implements [RoleForwarder]: it reports whether the wrapped WMS
// has the optional role ([ReleaseChanger], [HealthChecker]), and true for
// any other type.
func (w *WrappedWMS) HasRole(role any) bool {
	switch role.(type) {
	case *ReleaseChanger:
		return w.change != nil
	case *HealthChecker:
		return w.health != nil
	}
	return true
}

// ChangeRelease calls the wrapped WMS's [ReleaseChanger] through the
// decorators, with the same key on every attempt. It returns an error
// matching errors.ErrUnsupported, without an attempt, when the wrapped WMS
// cannot change releases.
func (w *WrappedWMS) ChangeRelease(ctx context.Context, key string, req ReleaseChange) (ReleaseChangeResult, error) {
	if w.change == nil {
		return ReleaseChangeResult{}, unsupported(w.d.system, "ChangeRelease", "ReleaseChanger", w.wms)
	}
	return call(ctx, w.d, "ChangeRelease", true, func(ctx context.Context) (ReleaseChangeResult, error) {
		return w.change.ChangeRelease(ctx, key, req)
	})
}

// Health calls the wrapped WMS's [HealthChecker] through the decorators:
// an open breaker answers it with a [CodeUnavailable] error. It returns an
// error matching errors.ErrUnsupported, without an attempt, when the
// wrapped WMS has no health check.
func (w *WrappedWMS) Health(ctx context.Context) error {
	return health(ctx, w.d, w.health, w.wms)
}

// Unwrap returns the wrapped WMS.
func (w *WrappedWMS) Unwrap() any { return w.wms }

// Release calls the wrapped WMS's Release through the decorators.
func (w *WrappedWMS) Release(ctx context.Context, fo canonical.FulfillmentOrder) (canonical.FulfillmentOrder, error) {
	return call(ctx, w.d, "Release", true, func(ctx context.Context) (canonical.FulfillmentOrder, error) {
		return w.wms.Release(ctx, fo)
	})
}

// CancelRelease calls the wrapped WMS's CancelRelease through the
// decorators, with the same key on every attempt.
func (w *WrappedWMS) CancelRelease(ctx context.Context, key string, req CancelRequest) (CancelResult, error) {
	return call(ctx, w.d, "CancelRelease", true, func(ctx context.Context) (CancelResult, error) {
		return w.wms.CancelRelease(ctx, key, req)
	})
}

// Inventory calls the wrapped WMS's Inventory through the decorators.
func (w *WrappedWMS) Inventory(ctx context.Context, q InventoryQuery) ([]canonical.InventoryPosition, error) {
	return call(ctx, w.d, "Inventory", false, func(ctx context.Context) ([]canonical.InventoryPosition, error) {
		return w.wms.Inventory(ctx, q)
	})
}

// AuthorizeReturn calls the wrapped WMS's AuthorizeReturn through the
// decorators.
func (w *WrappedWMS) AuthorizeReturn(ctx context.Context, ret canonical.Return) (canonical.Return, error) {
	return call(ctx, w.d, "AuthorizeReturn", true, func(ctx context.Context) (canonical.Return, error) {
		return w.wms.AuthorizeReturn(ctx, ret)
	})
}

// PollEvents calls the wrapped WMS's PollEvents through the decorators.
func (w *WrappedWMS) PollEvents(ctx context.Context, cursor Cursor, limit int) (Page, error) {
	return call(ctx, w.d, "PollEvents", false, func(ctx context.Context) (Page, error) {
		return w.wms.PollEvents(ctx, cursor, limit)
	})
}

// WrappedCRM is a [CRM] with retry, a circuit breaker, per-attempt timeouts,
// tracing and metrics around another CRM, its optional roles included.
// Create it with [WrapCRM]. It is safe for concurrent use when the wrapped
// CRM is. The zero value is not usable.
type WrappedCRM struct {
	crm CRM
	d   *decorator
	// The wrapped CRM's optional roles, nil when it lacks them.
	batch  StatusBatchPublisher
	health HealthChecker
}

var (
	_ RoleForwarder        = (*WrappedCRM)(nil)
	_ CRM                  = (*WrappedCRM)(nil)
	_ StatusBatchPublisher = (*WrappedCRM)(nil)
	_ HealthChecker        = (*WrappedCRM)(nil)
)

// WrapCRM returns crm decorated as opts say, in the fixed order of
// [WrapERP], its optional [StatusBatchPublisher] and [HealthChecker]
// included as [WrapERP] says. It returns an error matching
// [ErrInvalidConfig] when opts is invalid.
func WrapCRM(crm CRM, opts Options) (*WrappedCRM, error) {
	d, err := newDecorator(opts, "crm")
	if err != nil {
		return nil, err
	}
	w := &WrappedCRM{crm: crm, d: d}
	w.batch, _ = As[StatusBatchPublisher](crm)
	w.health, _ = As[HealthChecker](crm)
	return w, nil
}

// HasRole implements [RoleForwarder]: it reports whether the wrapped CRM
// has the optional role ([StatusBatchPublisher], [HealthChecker]), and
// true for any other type.
func (w *WrappedCRM) HasRole(role any) bool {
	switch role.(type) {
	case *StatusBatchPublisher:
		return w.batch != nil
	case *HealthChecker:
		return w.health != nil
	}
	return true
}

// PublishStatuses calls the wrapped CRM's [StatusBatchPublisher] through
// the decorators: the call is retried as a whole on an error of its own;
// the per-update errors are returned as the CRM gave them. It returns an
// error matching errors.ErrUnsupported, without an attempt, when the
// wrapped CRM takes no batches.
func (w *WrappedCRM) PublishStatuses(ctx context.Context, updates []OrderStatus) ([]error, error) {
	if w.batch == nil {
		return nil, unsupported(w.d.system, "PublishStatuses", "StatusBatchPublisher", w.crm)
	}
	return call(ctx, w.d, "PublishStatuses", true, func(ctx context.Context) ([]error, error) {
		return w.batch.PublishStatuses(ctx, updates)
	})
}

// Health calls the wrapped CRM's [HealthChecker] through the decorators:
// an open breaker answers it with a [CodeUnavailable] error. It returns an
// error matching errors.ErrUnsupported, without an attempt, when the
// wrapped CRM has no health check.
func (w *WrappedCRM) Health(ctx context.Context) error {
	return health(ctx, w.d, w.health, w.crm)
}

// Unwrap returns the wrapped CRM.
func (w *WrappedCRM) Unwrap() any { return w.crm }

// PollOrders calls the wrapped CRM's PollOrders through the decorators.
func (w *WrappedCRM) PollOrders(ctx context.Context, cursor Cursor, limit int) (Page, error) {
	return call(ctx, w.d, "PollOrders", false, func(ctx context.Context) (Page, error) {
		return w.crm.PollOrders(ctx, cursor, limit)
	})
}

// PublishStatus calls the wrapped CRM's PublishStatus through the
// decorators.
func (w *WrappedCRM) PublishStatus(ctx context.Context, s OrderStatus) error {
	_, err := call(ctx, w.d, "PublishStatus", true, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, w.crm.PublishStatus(ctx, s)
	})
	return err
}

// PublishAvailability calls the wrapped CRM's PublishAvailability through
// the decorators.
func (w *WrappedCRM) PublishAvailability(ctx context.Context, items []Availability) error {
	_, err := call(ctx, w.d, "PublishAvailability", true, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, w.crm.PublishAvailability(ctx, items)
	})
	return err
}
