package faults

import (
	"context"
	"errors"
	"fmt"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// ERP is a [connector.ERP] that injects faults into the calls to another
// ERP, its optional roles included: its event feed ([connector.EventFeed],
// with the faults of feeds), [connector.OrderCanceller],
// [connector.OrderChanger], [connector.AmendmentReporter] and [connector.HealthChecker]. Create it with [WrapERP]. It is safe for
// concurrent use when the wrapped ERP is. The zero value is not usable.
type ERP struct {
	erp connector.ERP
	in  *injector
	// The wrapped ERP's optional roles, nil when it lacks them.
	feed   connector.EventFeed
	cancel connector.OrderCanceller
	change connector.OrderChanger
	amend  connector.AmendmentReporter
	health connector.HealthChecker
}

var (
	_ connector.AmendmentReporter = (*ERP)(nil)
	_ connector.RoleForwarder     = (*ERP)(nil)
	_ connector.ERP               = (*ERP)(nil)
	_ connector.EventFeed         = (*ERP)(nil)
	_ connector.OrderCanceller    = (*ERP)(nil)
	_ connector.OrderChanger      = (*ERP)(nil)
	_ connector.HealthChecker     = (*ERP)(nil)
)

// WrapERP returns erp with the faults cfg describes. It returns an error
// matching [ErrInvalidConfig] when cfg is invalid.
func WrapERP(erp connector.ERP, cfg Config) (*ERP, error) {
	in, err := newInjector(cfg, "erp")
	if err != nil {
		return nil, err
	}
	f := &ERP{erp: erp, in: in}
	f.feed, _ = connector.As[connector.EventFeed](erp)
	f.cancel, _ = connector.As[connector.OrderCanceller](erp)
	f.change, _ = connector.As[connector.OrderChanger](erp)
	f.amend, _ = connector.As[connector.AmendmentReporter](erp)
	f.health, _ = connector.As[connector.HealthChecker](erp)
	return f, nil
}

// unsupported is the error of an optional role the wrapped connector
// lacks.
func unsupported(system, op, role string, impl any) error {
	return fmt.Errorf("faults: %s %s: %T does not implement connector.%s: %w", system, op, impl, role, errors.ErrUnsupported)
}

// HasRole implements [connector.RoleForwarder]: it reports whether the
// wrapped ERP has the optional role, and true for any other type.
func (f *ERP) HasRole(role any) bool {
	switch role.(type) {
	case *connector.AmendmentReporter:
		return f.amend != nil
	case *connector.EventFeed:
		return f.feed != nil
	case *connector.OrderCanceller:
		return f.cancel != nil
	case *connector.OrderChanger:
		return f.change != nil
	case *connector.HealthChecker:
		return f.health != nil
	}
	return true
}

// health calls h's Health with faults.
func health(ctx context.Context, in *injector, h connector.HealthChecker, impl any) error {
	if h == nil {
		return unsupported(in.system, "Health", "HealthChecker", impl)
	}
	_, err := do(ctx, in, "Health", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, h.Health(ctx)
	})
	return err
}

// Unwrap returns the wrapped ERP.
func (f *ERP) Unwrap() any { return f.erp }

// Counts returns the faults injected so far.
func (f *ERP) Counts() Counts { return f.in.Counts() }

// ValidateOrder calls the wrapped ERP with faults.
func (f *ERP) ValidateOrder(ctx context.Context, order *canonical.Order) (canonical.OrderAck, error) {
	return do(ctx, f.in, "ValidateOrder", func(ctx context.Context) (canonical.OrderAck, error) {
		return f.erp.ValidateOrder(ctx, order)
	})
}

// AcceptOrder calls the wrapped ERP with faults.
func (f *ERP) AcceptOrder(ctx context.Context, key string, order *canonical.Order) (canonical.OrderAck, error) {
	return do(ctx, f.in, "AcceptOrder", func(ctx context.Context) (canonical.OrderAck, error) {
		return f.erp.AcceptOrder(ctx, key, order)
	})
}

// GetOrder calls the wrapped ERP with faults.
func (f *ERP) GetOrder(ctx context.Context, orderID string) (canonical.Order, error) {
	return do(ctx, f.in, "GetOrder", func(ctx context.Context) (canonical.Order, error) {
		return f.erp.GetOrder(ctx, orderID)
	})
}

// PostShipment calls the wrapped ERP with faults.
func (f *ERP) PostShipment(ctx context.Context, key string, shipment canonical.Shipment) (canonical.Invoice, error) {
	return do(ctx, f.in, "PostShipment", func(ctx context.Context) (canonical.Invoice, error) {
		return f.erp.PostShipment(ctx, key, shipment)
	})
}

// PostReturn calls the wrapped ERP with faults.
func (f *ERP) PostReturn(ctx context.Context, key string, ret canonical.Return) (canonical.Invoice, error) {
	return do(ctx, f.in, "PostReturn", func(ctx context.Context) (canonical.Invoice, error) {
		return f.erp.PostReturn(ctx, key, ret)
	})
}

// ApplyInventory calls the wrapped ERP with faults.
func (f *ERP) ApplyInventory(ctx context.Context, key string, positions []canonical.InventoryPosition) error {
	_, err := do(ctx, f.in, "ApplyInventory", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, f.erp.ApplyInventory(ctx, key, positions)
	})
	return err
}

// PollEvents calls the wrapped ERP's event feed with faults, duplicated
// pages and reordered events included. It returns an error matching
// errors.ErrUnsupported, injecting nothing, when the wrapped ERP has no
// feed.
func (f *ERP) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	if f.feed == nil {
		return connector.Page{}, unsupported(f.in.system, "PollEvents", "EventFeed", f.erp)
	}
	return f.in.poll(ctx, "PollEvents", cursor, limit, f.feed.PollEvents)
}

// CancelOrderLines calls the wrapped ERP's OrderCanceller with faults. It
// returns an error matching errors.ErrUnsupported, injecting nothing, when
// the wrapped ERP cannot cancel order lines.
func (f *ERP) CancelOrderLines(ctx context.Context, key string, c connector.OrderCancellation) (canonical.Order, error) {
	if f.cancel == nil {
		return canonical.Order{}, unsupported(f.in.system, "CancelOrderLines", "OrderCanceller", f.erp)
	}
	return do(ctx, f.in, "CancelOrderLines", func(ctx context.Context) (canonical.Order, error) {
		return f.cancel.CancelOrderLines(ctx, key, c)
	})
}

// ReportAmendment calls the wrapped ERP's AmendmentReporter with faults.
// It returns an error matching errors.ErrUnsupported, injecting nothing,
// when the wrapped ERP takes no amendment reports.
func (f *ERP) ReportAmendment(ctx context.Context, key string, r connector.AmendmentReport) (canonical.Order, error) {
	if f.amend == nil {
		return canonical.Order{}, unsupported(f.in.system, "ReportAmendment", "AmendmentReporter", f.erp)
	}
	return do(ctx, f.in, "ReportAmendment", func(ctx context.Context) (canonical.Order, error) {
		return f.amend.ReportAmendment(ctx, key, r)
	})
}

// ChangeOrder calls the wrapped ERP's OrderChanger with faults. It returns
// an error matching errors.ErrUnsupported, injecting nothing, when the
// wrapped ERP cannot change orders.
func (f *ERP) ChangeOrder(ctx context.Context, key string, c canonical.OrderChange) (canonical.ChangeAck, error) {
	if f.change == nil {
		return canonical.ChangeAck{}, unsupported(f.in.system, "ChangeOrder", "OrderChanger", f.erp)
	}
	return do(ctx, f.in, "ChangeOrder", func(ctx context.Context) (canonical.ChangeAck, error) {
		return f.change.ChangeOrder(ctx, key, c)
	})
}

// Health calls the wrapped ERP's HealthChecker with faults. It returns an
// error matching errors.ErrUnsupported, injecting nothing, when the
// wrapped ERP has no health check.
func (f *ERP) Health(ctx context.Context) error {
	return health(ctx, f.in, f.health, f.erp)
}

// WMS is a [connector.WMS] that injects faults into the calls to another
// WMS, its event feed and its optional [connector.ReleaseChanger] and
// [connector.HealthChecker] included.
// Create it with [WrapWMS]. It is safe for concurrent use when the wrapped
// WMS is. The zero value is not usable.
type WMS struct {
	wms connector.WMS
	in  *injector
	// The wrapped WMS's optional roles, nil when it lacks them.
	change connector.ReleaseChanger
	health connector.HealthChecker
}

var (
	_ connector.RoleForwarder  = (*WMS)(nil)
	_ connector.WMS            = (*WMS)(nil)
	_ connector.ReleaseChanger = (*WMS)(nil)
	_ connector.HealthChecker  = (*WMS)(nil)
)

// WrapWMS returns wms with the faults cfg describes. It returns an error
// matching [ErrInvalidConfig] when cfg is invalid.
func WrapWMS(wms connector.WMS, cfg Config) (*WMS, error) {
	in, err := newInjector(cfg, "wms")
	if err != nil {
		return nil, err
	}
	f := &WMS{wms: wms, in: in}
	f.change, _ = connector.As[connector.ReleaseChanger](wms)
	f.health, _ = connector.As[connector.HealthChecker](wms)
	return f, nil
}

// HasRole implements [connector.RoleForwarder]: it reports whether the
// wrapped WMS has the optional role (ReleaseChanger, HealthChecker), and
// true for any other type.
func (f *WMS) HasRole(role any) bool {
	switch role.(type) {
	case *connector.ReleaseChanger:
		return f.change != nil
	case *connector.HealthChecker:
		return f.health != nil
	}
	return true
}

// ChangeRelease calls the wrapped WMS's ReleaseChanger with faults. It
// returns an error matching errors.ErrUnsupported, injecting nothing, when
// the wrapped WMS cannot change releases.
func (f *WMS) ChangeRelease(ctx context.Context, key string, req connector.ReleaseChange) (connector.ReleaseChangeResult, error) {
	if f.change == nil {
		return connector.ReleaseChangeResult{}, unsupported(f.in.system, "ChangeRelease", "ReleaseChanger", f.wms)
	}
	return do(ctx, f.in, "ChangeRelease", func(ctx context.Context) (connector.ReleaseChangeResult, error) {
		return f.change.ChangeRelease(ctx, key, req)
	})
}

// Health calls the wrapped WMS's HealthChecker with faults. It returns an
// error matching errors.ErrUnsupported, injecting nothing, when the
// wrapped WMS has no health check.
func (f *WMS) Health(ctx context.Context) error {
	return health(ctx, f.in, f.health, f.wms)
}

// Unwrap returns the wrapped WMS.
func (f *WMS) Unwrap() any { return f.wms }

// Counts returns the faults injected so far.
func (f *WMS) Counts() Counts { return f.in.Counts() }

// Release calls the wrapped WMS with faults.
func (f *WMS) Release(ctx context.Context, fo canonical.FulfillmentOrder) (canonical.FulfillmentOrder, error) {
	return do(ctx, f.in, "Release", func(ctx context.Context) (canonical.FulfillmentOrder, error) {
		return f.wms.Release(ctx, fo)
	})
}

// CancelRelease calls the wrapped WMS with faults.
func (f *WMS) CancelRelease(ctx context.Context, key string, req connector.CancelRequest) (connector.CancelResult, error) {
	return do(ctx, f.in, "CancelRelease", func(ctx context.Context) (connector.CancelResult, error) {
		return f.wms.CancelRelease(ctx, key, req)
	})
}

// Inventory calls the wrapped WMS with faults.
func (f *WMS) Inventory(ctx context.Context, q connector.InventoryQuery) ([]canonical.InventoryPosition, error) {
	return do(ctx, f.in, "Inventory", func(ctx context.Context) ([]canonical.InventoryPosition, error) {
		return f.wms.Inventory(ctx, q)
	})
}

// AuthorizeReturn calls the wrapped WMS with faults.
func (f *WMS) AuthorizeReturn(ctx context.Context, ret canonical.Return) (canonical.Return, error) {
	return do(ctx, f.in, "AuthorizeReturn", func(ctx context.Context) (canonical.Return, error) {
		return f.wms.AuthorizeReturn(ctx, ret)
	})
}

// PollEvents calls the wrapped WMS with faults, duplicated pages and
// reordered events included.
func (f *WMS) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	return f.in.poll(ctx, "PollEvents", cursor, limit, f.wms.PollEvents)
}

// CRM is a [connector.CRM] that injects faults into the calls to another
// CRM, its order feed and its optional roles
// ([connector.StatusBatchPublisher], [connector.HealthChecker]) included.
// Create it with [WrapCRM]. It is safe for concurrent use when the wrapped
// CRM is. The zero value is not usable.
type CRM struct {
	crm connector.CRM
	in  *injector
	// The wrapped CRM's optional roles, nil when it lacks them.
	batch  connector.StatusBatchPublisher
	health connector.HealthChecker
}

var (
	_ connector.RoleForwarder        = (*CRM)(nil)
	_ connector.CRM                  = (*CRM)(nil)
	_ connector.StatusBatchPublisher = (*CRM)(nil)
	_ connector.HealthChecker        = (*CRM)(nil)
)

// WrapCRM returns crm with the faults cfg describes. It returns an error
// matching [ErrInvalidConfig] when cfg is invalid.
func WrapCRM(crm connector.CRM, cfg Config) (*CRM, error) {
	in, err := newInjector(cfg, "crm")
	if err != nil {
		return nil, err
	}
	f := &CRM{crm: crm, in: in}
	f.batch, _ = connector.As[connector.StatusBatchPublisher](crm)
	f.health, _ = connector.As[connector.HealthChecker](crm)
	return f, nil
}

// HasRole implements [connector.RoleForwarder]: it reports whether the
// wrapped CRM has the optional role, and true for any other type.
func (f *CRM) HasRole(role any) bool {
	switch role.(type) {
	case *connector.StatusBatchPublisher:
		return f.batch != nil
	case *connector.HealthChecker:
		return f.health != nil
	}
	return true
}

// PublishStatuses calls the wrapped CRM's StatusBatchPublisher with
// faults, which hit the batch as a whole. It returns an error matching
// errors.ErrUnsupported, injecting nothing, when the wrapped CRM takes no
// batches.
func (f *CRM) PublishStatuses(ctx context.Context, updates []connector.OrderStatus) ([]error, error) {
	if f.batch == nil {
		return nil, unsupported(f.in.system, "PublishStatuses", "StatusBatchPublisher", f.crm)
	}
	return do(ctx, f.in, "PublishStatuses", func(ctx context.Context) ([]error, error) {
		return f.batch.PublishStatuses(ctx, updates)
	})
}

// Health calls the wrapped CRM's HealthChecker with faults. It returns an
// error matching errors.ErrUnsupported, injecting nothing, when the
// wrapped CRM has no health check.
func (f *CRM) Health(ctx context.Context) error {
	return health(ctx, f.in, f.health, f.crm)
}

// Unwrap returns the wrapped CRM.
func (f *CRM) Unwrap() any { return f.crm }

// Counts returns the faults injected so far.
func (f *CRM) Counts() Counts { return f.in.Counts() }

// PollOrders calls the wrapped CRM with faults, duplicated pages and
// reordered events included.
func (f *CRM) PollOrders(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	return f.in.poll(ctx, "PollOrders", cursor, limit, f.crm.PollOrders)
}

// PublishStatus calls the wrapped CRM with faults.
func (f *CRM) PublishStatus(ctx context.Context, s connector.OrderStatus) error {
	_, err := do(ctx, f.in, "PublishStatus", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, f.crm.PublishStatus(ctx, s)
	})
	return err
}

// PublishAvailability calls the wrapped CRM with faults.
func (f *CRM) PublishAvailability(ctx context.Context, items []connector.Availability) error {
	_, err := do(ctx, f.in, "PublishAvailability", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, f.crm.PublishAvailability(ctx, items)
	})
	return err
}
