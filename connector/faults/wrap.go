package faults

import (
	"context"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// ERP is a [connector.ERP] that injects faults into the calls to another
// ERP. Create it with [WrapERP]. It is safe for concurrent use when the
// wrapped ERP is.
type ERP struct {
	erp connector.ERP
	in  *injector
}

var _ connector.ERP = (*ERP)(nil)

// WrapERP returns erp with the faults cfg describes. It returns an error
// matching [ErrInvalidConfig] when cfg is invalid.
func WrapERP(erp connector.ERP, cfg Config) (*ERP, error) {
	in, err := newInjector(cfg, "erp")
	if err != nil {
		return nil, err
	}
	return &ERP{erp: erp, in: in}, nil
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

// WMS is a [connector.WMS] that injects faults into the calls to another
// WMS, its event feed included. Create it with [WrapWMS]. It is safe for
// concurrent use when the wrapped WMS is.
type WMS struct {
	wms connector.WMS
	in  *injector
}

var _ connector.WMS = (*WMS)(nil)

// WrapWMS returns wms with the faults cfg describes. It returns an error
// matching [ErrInvalidConfig] when cfg is invalid.
func WrapWMS(wms connector.WMS, cfg Config) (*WMS, error) {
	in, err := newInjector(cfg, "wms")
	if err != nil {
		return nil, err
	}
	return &WMS{wms: wms, in: in}, nil
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
// CRM, its order feed included. Create it with [WrapCRM]. It is safe for
// concurrent use when the wrapped CRM is.
type CRM struct {
	crm connector.CRM
	in  *injector
}

var _ connector.CRM = (*CRM)(nil)

// WrapCRM returns crm with the faults cfg describes. It returns an error
// matching [ErrInvalidConfig] when cfg is invalid.
func WrapCRM(crm connector.CRM, cfg Config) (*CRM, error) {
	in, err := newInjector(cfg, "crm")
	if err != nil {
		return nil, err
	}
	return &CRM{crm: crm, in: in}, nil
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
