package connector

import (
	"context"

	"github.com/distsync/distsync/canonical"
)

// WrappedERP is an [ERP] with retry, a circuit breaker, per-attempt
// timeouts, tracing and metrics around another ERP. Create it with
// [WrapERP]. It is safe for concurrent use when the wrapped ERP is.
type WrappedERP struct {
	erp ERP
	d   *decorator
}

var _ ERP = (*WrappedERP)(nil)

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
// retries a timeout that may have been applied (MaybeApplied): the retry
// sends the same key, and the remote returns the first result.
//
// Optional capabilities of the wrapped implementation ([Subscriber],
// [StatusBatchPublisher], [HealthChecker]) are not decorated: find them
// with [As], which looks through the decorator's Unwrap method.
func WrapERP(erp ERP, opts Options) (*WrappedERP, error) {
	d, err := newDecorator(opts, "erp")
	if err != nil {
		return nil, err
	}
	return &WrappedERP{erp: erp, d: d}, nil
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

// WrappedWMS is a [WMS] with retry, a circuit breaker, per-attempt
// timeouts, tracing and metrics around another WMS. Create it with
// [WrapWMS]. It is safe for concurrent use when the wrapped WMS is.
type WrappedWMS struct {
	wms WMS
	d   *decorator
}

var _ WMS = (*WrappedWMS)(nil)

// WrapWMS returns wms decorated as opts say, in the fixed order of
// [WrapERP]. It returns an error matching [ErrInvalidConfig] when opts is
// invalid.
func WrapWMS(wms WMS, opts Options) (*WrappedWMS, error) {
	d, err := newDecorator(opts, "wms")
	if err != nil {
		return nil, err
	}
	return &WrappedWMS{wms: wms, d: d}, nil
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

// WrappedCRM is a [CRM] with retry, a circuit breaker, per-attempt
// timeouts, tracing and metrics around another CRM. Create it with
// [WrapCRM]. It is safe for concurrent use when the wrapped CRM is.
type WrappedCRM struct {
	crm CRM
	d   *decorator
}

var _ CRM = (*WrappedCRM)(nil)

// WrapCRM returns crm decorated as opts say, in the fixed order of
// [WrapERP]. It returns an error matching [ErrInvalidConfig] when opts is
// invalid.
func WrapCRM(crm CRM, opts Options) (*WrappedCRM, error) {
	d, err := newDecorator(opts, "crm")
	if err != nil {
		return nil, err
	}
	return &WrappedCRM{crm: crm, d: d}, nil
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
