// Package tinyerp is a tiny in-memory ERP that implements
// [connector.ERP]: the starting point for a team writing a connector of its
// own. Replace the maps with calls to your ERP and keep the shape: check
// the context, validate the canonical document, map errors to
// [connector.Error] codes, and make every effect idempotent by its key.
//
// It has a price list, one credit limit per customer, its own sales order,
// invoice and credit memo numbers (exposed through canonical Refs), and an
// inventory ledger. The conformance kit proves it in ../main_test.go.
package tinyerp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// System is the name of this ERP in errors and Refs.
const System = "tinyerp"

// Config configures an ERP. The zero value is a demo world: items SKU-A at
// 12.50 USD and SKU-B at 4.20 USD, customer cust-1 with a credit limit of
// 10000.00 USD, and time.Now as the clock. It is a plain value, safe for
// concurrent use when not modified.
type Config struct {
	// Prices is the price list: the unit price of each SKU, per EA.
	Prices map[string]canonical.Money
	// CreditLimits is the open amount each customer may owe.
	CreditLimits map[string]canonical.Money
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Stats counts what the ERP did. It is a plain value, safe for concurrent
// use.
type Stats struct {
	Orders, Invoices, CreditMemos, InventoryPostings int
}

// ERP is the tiny ERP. It is safe for concurrent use.
type ERP struct {
	prices map[string]canonical.Money
	limits map[string]canonical.Money
	now    func() time.Time

	mu      sync.Mutex
	orders  map[string]*salesOrder // by canonical order ID
	done    map[string]result      // idempotency key → first result
	ledger  map[string]int64       // SKU|location|lot|status → sequence applied
	open    map[string]canonical.Money
	numbers map[string]int // last number by prefix: SO, INV, CM
	stats   Stats
}

var _ connector.ERP = (*ERP)(nil)

// salesOrder is the ERP's own record of an order.
type salesOrder struct {
	number  string // SO-000001
	order   canonical.Order
	ack     canonical.OrderAck
	invoice string // the first invoice's ID, credited by returns
}

// result is the stored outcome of an idempotent call: the request's
// fingerprint, to detect a key reused for another request, and the value
// returned.
type result struct {
	request []byte
	value   any
}

// New returns an ERP configured by cfg.
func New(cfg Config) *ERP {
	e := &ERP{
		prices:  cfg.Prices,
		limits:  cfg.CreditLimits,
		now:     cfg.Now,
		orders:  map[string]*salesOrder{},
		done:    map[string]result{},
		ledger:  map[string]int64{},
		open:    map[string]canonical.Money{},
		numbers: map[string]int{},
	}
	if e.prices == nil {
		e.prices = map[string]canonical.Money{
			"SKU-A": canonical.MustParseMoney("12.50", "USD"),
			"SKU-B": canonical.MustParseMoney("4.20", "USD"),
		}
	}
	if e.limits == nil {
		e.limits = map[string]canonical.Money{"cust-1": canonical.MustParseMoney("10000.00", "USD")}
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e
}

// Stats returns what the ERP did so far.
func (e *ERP) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// fail returns a connector error of this ERP.
func fail(code connector.Code, op string, err error) error {
	return connector.NewError(code, System, op, err)
}

// begin checks what every call checks first: the context and the
// document. The context's cause is returned as it is, so callers match
// context.Canceled.
func begin(ctx context.Context, op string, doc interface{ Validate() error }) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err := doc.Validate(); err != nil {
		return fail(connector.CodeInvalid, op, err)
	}
	return nil
}

// replay returns the stored result of key, a conflict when key was used for
// another request, or false for a new key. The caller holds e.mu.
func (e *ERP) replay(op, key string, request []byte) (any, bool, error) {
	r, ok := e.done[op+"\x00"+key]
	if !ok {
		return nil, false, nil
	}
	if !bytes.Equal(r.request, request) {
		return nil, true, fail(connector.CodeConflict, op, fmt.Errorf("idempotency key %q was used for another request", key))
	}
	return r.value, true, nil
}

// remember stores the result of key. The caller holds e.mu.
func (e *ERP) remember(op, key string, request []byte, v any) {
	e.done[op+"\x00"+key] = result{request: request, value: v}
}

// fingerprint encodes a request for comparison with a replay.
func fingerprint(v any) []byte {
	b, _ := json.Marshal(v) // canonical documents always encode
	return b
}

// evaluate prices the order and checks credit: the ERP's verdict.
func (e *ERP) evaluate(o *canonical.Order) canonical.OrderAck {
	ack := canonical.OrderAck{OrderID: o.ID, OrderVersion: o.Version, Outcome: canonical.AckAccepted, Currency: o.Currency, AckedAt: e.now()}
	total := canonical.NewMoney(canonical.Decimal{}, o.Currency)
	changed, rejected := 0, 0
	for i, l := range o.Lines {
		line := canonical.AckLine{LineID: l.ID, Result: canonical.LineAccepted}
		price, ok := e.prices[l.Item.SKU]
		switch {
		case !ok || price.Currency != o.Currency || l.Quantity.Unit != "EA":
			line.Result = canonical.LineRejected
			line.Messages = []canonical.AckMessage{{Code: "ITEM", Severity: canonical.SeverityError, Text: "unknown item, or not sold in this currency and unit", Field: fmt.Sprintf("lines[%d].item.sku", i)}}
			rejected++
		case !price.Equal(l.UnitPrice):
			line.Result = canonical.LinePriceChanged
			line.UnitPrice = &price
			changed++
		}
		if line.Result != canonical.LineRejected {
			amount, err := price.Mul(l.Quantity.Value)
			if err == nil {
				total, _ = total.Add(amount)
			}
		}
		ack.Lines = append(ack.Lines, line)
	}
	zero := canonical.NewMoney(canonical.Decimal{}, o.Currency)
	ack.Totals = &canonical.Totals{Subtotal: total, Charges: zero, Tax: zero, Total: total}
	switch {
	case rejected == len(o.Lines):
		ack.Outcome = canonical.AckRejected
	case changed+rejected > 0:
		ack.Outcome = canonical.AckAcceptedWithChanges
	}
	if ack.Outcome != canonical.AckRejected {
		limit, ok := e.limits[o.SoldTo.ID]
		owed := total
		if cur, ok := e.open[o.SoldTo.ID]; ok {
			owed, _ = cur.Add(total)
		}
		if over, err := owed.Cmp(limit); !ok || err != nil || over > 0 {
			ack.Outcome = canonical.AckOnHold
			ack.Holds = []canonical.Hold{{Kind: canonical.HoldCredit, Reason: "credit limit exceeded", PlacedAt: ack.AckedAt}}
		}
	}
	return ack
}

// ValidateOrder implements [connector.OrderValidator]: it prices the order
// and checks credit, changing nothing.
func (e *ERP) ValidateOrder(ctx context.Context, o *canonical.Order) (canonical.OrderAck, error) {
	if o == nil {
		return canonical.OrderAck{}, fail(connector.CodeInvalid, "ValidateOrder", &canonical.ValidationError{Kind: "order", Errors: []canonical.FieldError{{Message: "is required"}}})
	}
	if err := begin(ctx, "ValidateOrder", o); err != nil {
		return canonical.OrderAck{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.evaluate(o), nil
}

// AcceptOrder implements [connector.OrderAccepter]: it books the order
// under a sales order number of its own, SO-000001 onwards.
func (e *ERP) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	const op = "AcceptOrder"
	if o == nil {
		return canonical.OrderAck{}, fail(connector.CodeInvalid, op, &canonical.ValidationError{Kind: "order", Errors: []canonical.FieldError{{Message: "is required"}}})
	}
	if err := begin(ctx, op, o); err != nil {
		return canonical.OrderAck{}, err
	}
	req := fingerprint(o)
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok, err := e.replay(op, key, req); ok {
		if err != nil {
			return canonical.OrderAck{}, err
		}
		return v.(canonical.OrderAck), nil
	}
	ack := e.evaluate(o)
	if ack.Outcome != canonical.AckRejected {
		so := &salesOrder{number: e.number("SO"), order: *o}
		so.order.Lines = append([]canonical.OrderLine(nil), o.Lines...)
		ref := canonical.ExternalRef{System: System, Type: "salesOrder", Value: so.number}
		ack.Refs = ack.Refs.With(ref)
		so.order.Refs = so.order.Refs.With(ref)
		so.ack = ack
		e.orders[o.ID] = so
		if cur, ok := e.open[o.SoldTo.ID]; ok {
			e.open[o.SoldTo.ID], _ = cur.Add(ack.Totals.Total)
		} else {
			e.open[o.SoldTo.ID] = ack.Totals.Total
		}
		e.stats.Orders++
	}
	e.remember(op, key, req, ack)
	return ack, nil
}

// GetOrder implements [connector.OrderReader].
func (e *ERP) GetOrder(ctx context.Context, orderID string) (canonical.Order, error) {
	if ctx.Err() != nil {
		return canonical.Order{}, context.Cause(ctx)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	so, ok := e.orders[orderID]
	if !ok {
		return canonical.Order{}, fail(connector.CodeNotFound, "GetOrder", fmt.Errorf("no order %q", orderID))
	}
	o := so.order
	o.Lines = append([]canonical.OrderLine(nil), o.Lines...)
	return o, nil
}

// PostShipment implements [connector.ShipmentPoster]: it invoices what
// shipped at the prices of the acceptance.
func (e *ERP) PostShipment(ctx context.Context, key string, s canonical.Shipment) (canonical.Invoice, error) {
	const op = "PostShipment"
	if err := begin(ctx, op, s); err != nil {
		return canonical.Invoice{}, err
	}
	req := fingerprint(s)
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok, err := e.replay(op, key, req); ok {
		if err != nil {
			return canonical.Invoice{}, err
		}
		return v.(canonical.Invoice), nil
	}
	so, ok := e.orders[s.OrderID]
	if !ok {
		return canonical.Invoice{}, fail(connector.CodeNotFound, op, fmt.Errorf("no order %q", s.OrderID))
	}
	in := e.document(so, canonical.InvoiceStandard, e.number("INV"), s.ShippedAt)
	for i, sl := range s.Lines {
		if err := e.addLine(&in, so, i, sl.OrderLineID, sl.Item, sl.Quantity); err != nil {
			return canonical.Invoice{}, fail(connector.CodeInvalid, op, err)
		}
	}
	if so.invoice == "" {
		so.invoice = in.ID
	}
	e.stats.Invoices++
	e.remember(op, key, req, in)
	return in, nil
}

// PostReturn implements [connector.ReturnPoster]: it credits what was
// received against the order's first invoice.
func (e *ERP) PostReturn(ctx context.Context, key string, r canonical.Return) (canonical.Invoice, error) {
	const op = "PostReturn"
	if err := begin(ctx, op, r); err != nil {
		return canonical.Invoice{}, err
	}
	req := fingerprint(r)
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok, err := e.replay(op, key, req); ok {
		if err != nil {
			return canonical.Invoice{}, err
		}
		return v.(canonical.Invoice), nil
	}
	so, ok := e.orders[r.OrderID]
	if !ok {
		return canonical.Invoice{}, fail(connector.CodeNotFound, op, fmt.Errorf("no order %q", r.OrderID))
	}
	if so.invoice == "" {
		return canonical.Invoice{}, fail(connector.CodeConflict, op, fmt.Errorf("order %q has no invoice to credit", r.OrderID))
	}
	date := r.ReceivedAt
	if date.IsZero() {
		date = e.now()
	}
	memo := e.document(so, canonical.InvoiceCreditMemo, e.number("CM"), date)
	memo.CreditsInvoiceID, memo.ReturnID = so.invoice, r.ID
	for i, rl := range r.Lines {
		if err := e.addLine(&memo, so, i, rl.OrderLineID, rl.Item, rl.Received); err != nil {
			return canonical.Invoice{}, fail(connector.CodeInvalid, op, err)
		}
	}
	e.stats.CreditMemos++
	e.remember(op, key, req, memo)
	return memo, nil
}

// number returns the next document number with prefix, such as
// SO-000001. The caller holds e.mu.
func (e *ERP) number(prefix string) string {
	e.numbers[prefix]++
	return fmt.Sprintf("%s-%06d", prefix, e.numbers[prefix])
}

// document starts an invoice or credit memo for so.
func (e *ERP) document(so *salesOrder, kind canonical.InvoiceKind, number string, date time.Time) canonical.Invoice {
	zero := canonical.NewMoney(canonical.Decimal{}, so.order.Currency)
	return canonical.Invoice{
		ID: number, Version: 1, Kind: kind, Number: number, OrderID: so.order.ID,
		Refs:   canonical.Refs{{System: System, Type: string(kind), Value: number}},
		BillTo: so.order.SoldTo, Currency: so.order.Currency, PaymentTerms: so.order.PaymentTerms,
		InvoiceDate: date, Totals: canonical.Totals{Subtotal: zero, Charges: zero, Tax: zero, Total: zero},
	}
}

// addLine bills q of the order line at its accepted price.
func (e *ERP) addLine(in *canonical.Invoice, so *salesOrder, i int, orderLineID string, item canonical.ItemRef, q canonical.Quantity) error {
	price, ok := e.prices[item.SKU]
	if ol := so.order.Line(orderLineID); ol != nil {
		price = ol.UnitPrice
		for _, al := range so.ack.Lines {
			if al.LineID == orderLineID && al.UnitPrice != nil {
				price = *al.UnitPrice
			}
		}
	} else if !ok {
		return fmt.Errorf("lines[%d].item.sku: %q is neither on the order nor on the price list", i, item.SKU)
	}
	amount, err := price.Mul(q.Value)
	if err != nil {
		return fmt.Errorf("lines[%d].quantity: %w", i, err)
	}
	in.Lines = append(in.Lines, canonical.InvoiceLine{
		ID: fmt.Sprintf("%s-%d", in.Number, i+1), OrderLineID: orderLineID,
		Item: item, Quantity: q, UnitPrice: price, Amount: amount,
	})
	in.Totals.Subtotal, _ = in.Totals.Subtotal.Add(amount)
	in.Totals.Total = in.Totals.Subtotal
	return nil
}

// ApplyInventory implements [connector.InventoryApplier]: it keeps the
// newest position per SKU, location, lot and status.
func (e *ERP) ApplyInventory(ctx context.Context, key string, positions []canonical.InventoryPosition) error {
	const op = "ApplyInventory"
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	for i, p := range positions {
		if err := p.Validate(); err != nil {
			return fail(connector.CodeInvalid, op, fmt.Errorf("positions[%d]: %w", i, err))
		}
	}
	req := fingerprint(positions)
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok, err := e.replay(op, key, req); ok {
		return err
	}
	applied := false
	for _, p := range positions {
		k := p.Item.SKU + "|" + p.Location + "|" + p.Lot + "|" + string(p.Status)
		if p.Sequence > e.ledger[k] {
			e.ledger[k] = p.Sequence
			applied = true
		}
	}
	if applied {
		e.stats.InventoryPostings++
	}
	e.remember(op, key, req, nil)
	return nil
}
