package memfake

import (
	"context"
	"fmt"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
)

const erpSystem = "memfake-erp"

// ERP is an in-memory ERP. It is safe for concurrent use.
type ERP struct {
	mu        mutex
	orders    map[string]canonical.Order
	invoiceOf map[string]string // order ID → its first invoice ID
	accepts   map[string]keyed[canonical.OrderAck]
	shipments map[string]keyed[canonical.Invoice]
	returns   map[string]keyed[canonical.Invoice]
	inventory map[string]keyed[struct{}]
	seqs      map[string]int64 // SKU|location → sequence applied
	effects   connectortest.ERPEffects
	calls     int
}

var _ connector.ERP = (*ERP)(nil)

// NewERP returns an empty ERP.
func NewERP() *ERP {
	return &ERP{
		orders:    map[string]canonical.Order{},
		invoiceOf: map[string]string{},
		accepts:   map[string]keyed[canonical.OrderAck]{},
		shipments: map[string]keyed[canonical.Invoice]{},
		returns:   map[string]keyed[canonical.Invoice]{},
		inventory: map[string]keyed[struct{}]{},
		seqs:      map[string]int64{},
	}
}

// Effects returns the effects so far.
func (m *ERP) Effects() connectortest.ERPEffects {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.effects
}

// Calls returns how many calls reached the ERP.
func (m *ERP) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

func (m *ERP) count() {
	m.mu.Lock()
	m.calls++
	m.mu.Unlock()
}

// ack returns the acceptance ack of o.
func ack(o *canonical.Order) canonical.OrderAck {
	a := canonical.OrderAck{
		OrderID:      o.ID,
		OrderVersion: o.Version,
		Refs:         canonical.Refs{{System: "erp", Type: "salesOrder", Value: "SO-" + o.ID}},
		Outcome:      canonical.AckAccepted,
		Currency:     o.Currency,
		AckedAt:      T0,
	}
	for _, l := range o.Lines {
		a.Lines = append(a.Lines, canonical.AckLine{LineID: l.ID, Result: canonical.LineAccepted})
	}
	return a
}

func checkOrder(op string, o *canonical.Order) error {
	if o == nil {
		return invalid(erpSystem, op, "order", "is required")
	}
	if err := o.Validate(); err != nil {
		return connector.NewError(connector.CodeInvalid, erpSystem, op, err)
	}
	return nil
}

// ValidateOrder implements [connector.OrderValidator].
func (m *ERP) ValidateOrder(ctx context.Context, o *canonical.Order) (canonical.OrderAck, error) {
	m.count()
	if err := done(ctx); err != nil {
		return canonical.OrderAck{}, err
	}
	if err := checkOrder("ValidateOrder", o); err != nil {
		return canonical.OrderAck{}, err
	}
	return ack(o), nil
}

// AcceptOrder implements [connector.OrderAccepter].
func (m *ERP) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	m.count()
	if err := done(ctx); err != nil {
		return canonical.OrderAck{}, err
	}
	if err := checkOrder("AcceptOrder", o); err != nil {
		return canonical.OrderAck{}, err
	}
	print := fingerprint(o)
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok, err := lookup(m.accepts, key, print, erpSystem, "AcceptOrder"); ok {
		return a, err
	}
	a := ack(o)
	stored := *o
	stored.Lines = append([]canonical.OrderLine(nil), o.Lines...)
	m.orders[o.ID] = stored
	m.accepts[key] = keyed[canonical.OrderAck]{print, a}
	m.effects.Orders++
	return a, nil
}

// GetOrder implements [connector.OrderReader].
func (m *ERP) GetOrder(ctx context.Context, id string) (canonical.Order, error) {
	m.count()
	if err := done(ctx); err != nil {
		return canonical.Order{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[id]
	if !ok {
		return canonical.Order{}, connector.NewError(connector.CodeNotFound, erpSystem, "GetOrder", fmt.Errorf("order %q", id))
	}
	o.Lines = append([]canonical.OrderLine(nil), o.Lines...)
	return o, nil
}

// PostShipment implements [connector.ShipmentPoster].
func (m *ERP) PostShipment(ctx context.Context, key string, s canonical.Shipment) (canonical.Invoice, error) {
	m.count()
	if err := done(ctx); err != nil {
		return canonical.Invoice{}, err
	}
	if err := s.Validate(); err != nil {
		return canonical.Invoice{}, connector.NewError(connector.CodeInvalid, erpSystem, "PostShipment", err)
	}
	print := fingerprint(s)
	m.mu.Lock()
	defer m.mu.Unlock()
	if in, ok, err := lookup(m.shipments, key, print, erpSystem, "PostShipment"); ok {
		return in, err
	}
	o, ok := m.orders[s.OrderID]
	if !ok {
		return canonical.Invoice{}, connector.NewError(connector.CodeNotFound, erpSystem, "PostShipment", fmt.Errorf("order %q", s.OrderID))
	}
	in := canonical.Invoice{
		ID:          fmt.Sprintf("inv-%d", len(m.shipments)+1),
		Version:     1,
		Kind:        canonical.InvoiceStandard,
		Number:      fmt.Sprintf("INV-%06d", len(m.shipments)+1),
		OrderID:     o.ID,
		BillTo:      o.SoldTo,
		Currency:    o.Currency,
		InvoiceDate: s.ShippedAt,
	}
	total := canonical.NewMoney(canonical.Decimal{}, o.Currency)
	for i, sl := range s.Lines {
		price := canonical.NewMoney(canonical.Decimal{}, o.Currency)
		if ol := o.Line(sl.OrderLineID); ol != nil {
			price = ol.UnitPrice
		}
		amount, err := price.Mul(sl.Quantity.Value)
		if err != nil {
			return canonical.Invoice{}, connector.NewError(connector.CodeInvalid, erpSystem, "PostShipment", err)
		}
		total, _ = total.Add(amount)
		in.Lines = append(in.Lines, canonical.InvoiceLine{
			ID: fmt.Sprintf("%s-L%d", in.ID, i+1), OrderLineID: sl.OrderLineID, ShipmentLineID: sl.ID,
			Item: sl.Item, Quantity: sl.Quantity, UnitPrice: price, Amount: amount,
		})
	}
	zero := canonical.NewMoney(canonical.Decimal{}, o.Currency)
	in.Totals = canonical.Totals{Subtotal: total, Charges: zero, Tax: zero, Total: total}
	m.shipments[key] = keyed[canonical.Invoice]{print, in}
	if _, ok := m.invoiceOf[o.ID]; !ok {
		m.invoiceOf[o.ID] = in.ID
	}
	m.effects.Invoices++
	return in, nil
}

// PostReturn implements [connector.ReturnPoster].
func (m *ERP) PostReturn(ctx context.Context, key string, r canonical.Return) (canonical.Invoice, error) {
	m.count()
	if err := done(ctx); err != nil {
		return canonical.Invoice{}, err
	}
	if err := r.Validate(); err != nil {
		return canonical.Invoice{}, connector.NewError(connector.CodeInvalid, erpSystem, "PostReturn", err)
	}
	print := fingerprint(r)
	m.mu.Lock()
	defer m.mu.Unlock()
	if in, ok, err := lookup(m.returns, key, print, erpSystem, "PostReturn"); ok {
		return in, err
	}
	o, ok := m.orders[r.OrderID]
	if !ok {
		return canonical.Invoice{}, connector.NewError(connector.CodeNotFound, erpSystem, "PostReturn", fmt.Errorf("order %q", r.OrderID))
	}
	credits, ok := m.invoiceOf[o.ID]
	if !ok {
		return canonical.Invoice{}, connector.NewError(connector.CodeConflict, erpSystem, "PostReturn", fmt.Errorf("order %q has no invoice to credit", o.ID))
	}
	zero := canonical.NewMoney(canonical.Decimal{}, o.Currency)
	memo := canonical.Invoice{
		ID: fmt.Sprintf("cm-%d", len(m.returns)+1), Version: 1, Kind: canonical.InvoiceCreditMemo,
		Number: fmt.Sprintf("CM-%06d", len(m.returns)+1), OrderID: o.ID, CreditsInvoiceID: credits,
		ReturnID: r.ID, BillTo: o.SoldTo, Currency: o.Currency, InvoiceDate: r.ReceivedAt,
		Totals: canonical.Totals{Subtotal: zero, Charges: zero, Tax: zero, Total: zero},
	}
	if memo.InvoiceDate.IsZero() {
		memo.InvoiceDate = r.AuthorizedAt
	}
	for i, rl := range r.Lines {
		memo.Lines = append(memo.Lines, canonical.InvoiceLine{
			ID: fmt.Sprintf("%s-L%d", memo.ID, i+1), OrderLineID: rl.OrderLineID, Item: rl.Item,
			Quantity: rl.Authorized, UnitPrice: zero, Amount: zero,
		})
	}
	m.returns[key] = keyed[canonical.Invoice]{print, memo}
	m.effects.CreditMemos++
	return memo, nil
}

// ApplyInventory implements [connector.InventoryApplier].
func (m *ERP) ApplyInventory(ctx context.Context, key string, ps []canonical.InventoryPosition) error {
	m.count()
	if err := done(ctx); err != nil {
		return err
	}
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			return connector.NewError(connector.CodeInvalid, erpSystem, "ApplyInventory", fmt.Errorf("positions[%d]: %w", i, err))
		}
	}
	print := fingerprint(ps)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok, err := lookup(m.inventory, key, print, erpSystem, "ApplyInventory"); ok {
		return err
	}
	changed := false
	for _, p := range ps {
		k := p.Item.SKU + "|" + p.Location
		if p.Sequence > m.seqs[k] {
			m.seqs[k] = p.Sequence
			changed = true
		}
	}
	m.inventory[key] = keyed[struct{}]{print, struct{}{}}
	if changed {
		m.effects.InventoryApplications++
	}
	return nil
}
