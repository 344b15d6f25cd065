package erp

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// postRecord is the result of a PostShipment or PostReturn call, kept by
// key.
type postRecord struct {
	fp     [32]byte
	number string // the invoice or credit memo number
}

// PostShipment posts a warehouse shipment against its order (goods issue)
// and returns the one invoice produced for it ("INV-000001"): a line per
// shipment line at the order's ERP price, the order's charges on the
// order's first invoice, sales tax at the rate of the order's ship-to
// region, and totals rounded to the currency's minor unit. The shipped and
// invoiced buckets of the order lines grow by the quantities shipped, and
// so does the customer's open balance by the total.
//
// PostShipment is idempotent by key, and besides by shipment ID: a
// shipment posted again, under any key, returns its invoice and posts
// nothing; the same key or shipment ID with another shipment is
// CodeConflict. CodeNotFound for an unknown order; CodeConflict for an
// order on hold or a line shipping more than is open; CodeInvalid for a
// shipment that breaks [canonical.Shipment.Validate] or names a line the
// order does not have.
func (m *Memory) PostShipment(ctx context.Context, key string, s canonical.Shipment) (canonical.Invoice, error) {
	const op = "PostShipment"
	if err := ctxErr(ctx); err != nil {
		return canonical.Invoice{}, err
	}
	if key == "" {
		return canonical.Invoice{}, invalid(op, "request", canonical.FieldError{Field: "key", Message: "required"})
	}
	if err := s.Validate(); err != nil {
		return canonical.Invoice{}, asInvalid(op, err)
	}
	fp, err := fingerprintOf(&s)
	if err != nil {
		return canonical.Invoice{}, asInvalid(op, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec, ok := m.shipments[key]; ok {
		if rec.fp != fp {
			return canonical.Invoice{}, errorf(connector.CodeConflict, op, "key %q was used for another shipment", key)
		}
		return cloneInvoice(m.invoices[rec.number]), nil
	}
	if number, ok := m.shipByID[s.ID]; ok {
		rec := m.shipments[m.shipKeyOf(number)]
		if rec.fp != fp {
			return canonical.Invoice{}, errorf(connector.CodeConflict, op, "shipment %q was posted with other content (invoice %s)", s.ID, number)
		}
		m.shipments[key] = rec
		return cloneInvoice(m.invoices[number]), nil
	}
	rec := m.orders[s.OrderID]
	if rec == nil {
		return canonical.Invoice{}, errorf(connector.CodeNotFound, op, "order %q", s.OrderID)
	}
	if rec.doc.AcceptedAt.IsZero() {
		return canonical.Invoice{}, errorf(connector.CodeConflict, op, "order %s (%s) is on hold", s.OrderID, rec.number)
	}
	// Quantities per order line, checked against what is open.
	idx := make([]int, len(s.Lines))
	add := make(map[int]canonical.Decimal, len(s.Lines))
	for i := range s.Lines {
		sl := &s.Lines[i]
		p := "lines[" + strconv.Itoa(i) + "]"
		j := lineIndex(&rec.doc, sl.OrderLineID)
		if j < 0 || rec.lines[j].rejected {
			return canonical.Invoice{}, invalid(op, canonical.KindShipment, canonical.FieldError{Field: p + ".orderLineId", Message: fmt.Sprintf("order %s has no open line %q", s.OrderID, sl.OrderLineID)})
		}
		ol := &rec.doc.Lines[j]
		if sl.Quantity.Unit != ol.Quantity.Unit {
			return canonical.Invoice{}, invalid(op, canonical.KindShipment, canonical.FieldError{Field: p + ".quantity.unit", Message: fmt.Sprintf("must be the order line's unit %s, is %s", ol.Quantity.Unit, sl.Quantity.Unit)})
		}
		idx[i] = j
		sum, err := add[j].Add(sl.Quantity.Value)
		if err != nil {
			return canonical.Invoice{}, invalid(op, canonical.KindShipment, canonical.FieldError{Field: p + ".quantity.value", Message: "too large"})
		}
		add[j] = sum
	}
	for j, q := range add {
		bs := &rec.doc.Lines[j].Buckets
		open, _ := bs.NetOrdered()
		after, err := bs.Get(canonical.BucketShipped).Add(q)
		if err != nil || after.Cmp(open) > 0 {
			return canonical.Invoice{}, errorf(connector.CodeConflict, op, "line %s of order %s: shipping %s more would exceed the open %s", rec.doc.Lines[j].ID, s.OrderID, q, open)
		}
	}

	now := m.now()
	m.nextInv++
	number := padded("INV-", int64(m.nextInv), 6)
	inv := m.newInvoice(rec, canonical.InvoiceStandard, number, now)
	for i := range s.Lines {
		sl := &s.Lines[i]
		ol := &rec.doc.Lines[idx[i]]
		il, err := invoiceLine(sl.ID, ol, sl.Quantity)
		if err != nil {
			return canonical.Invoice{}, invalid(op, canonical.KindShipment, canonical.FieldError{Field: "lines[" + strconv.Itoa(i) + "].quantity.value", Message: "amount too large"})
		}
		il.ShipmentLineID = sl.ID
		inv.Lines = append(inv.Lines, il)
	}
	if !rec.charged {
		inv.Charges = slices.Clone(rec.doc.Charges)
	}
	if err := m.total(&inv, rec); err != nil {
		return canonical.Invoice{}, errorf(connector.CodeInternal, op, "invoice %s: %w", number, err)
	}

	// Effects, all or nothing from here.
	rec.charged = true
	for j, q := range add {
		bs := &rec.doc.Lines[j].Buckets
		for _, b := range [2]canonical.Bucket{canonical.BucketShipped, canonical.BucketInvoiced} {
			v, _ := bs.Get(b).Add(q)
			bs.Set(b, v)
		}
		if base, err := q.Mul(rec.lines[j].factor); err == nil {
			sku := rec.lines[j].sku
			if d, err := m.demand[sku].Sub(base); err == nil {
				m.demand[sku] = d.Max(canonical.Decimal{})
			}
		}
		if bo := bs.Get(canonical.BucketBackordered); bo.IsPos() {
			open, _ := bs.NetOrdered()
			left, _ := open.Sub(bs.Get(canonical.BucketShipped))
			bs.Set(canonical.BucketBackordered, bo.Min(left.Max(canonical.Decimal{})))
		}
	}
	total := inv.Totals.Total.Amount
	left, _ := rec.open.Sub(total)
	left = left.Max(canonical.Decimal{})
	if paid, err := rec.open.Sub(left); err == nil {
		if v, err := m.openValue[rec.customer].Sub(paid); err == nil {
			m.openValue[rec.customer] = v
		}
	}
	rec.open = left
	if a := m.accounts[rec.customer]; a != nil {
		a.OpenBalance, _ = a.OpenBalance.Add(total)
	}
	rec.invoices = append(rec.invoices, number)
	m.invoices[number] = &inv
	m.invOrder = append(m.invOrder, number)
	m.shipments[key] = postRecord{fp: fp, number: number}
	m.shipByID[s.ID] = number
	m.shipKeys[number] = key
	m.counts.Invoices++
	return cloneInvoice(&inv), nil
}

// shipKeyOf returns the first key an invoice was posted under.
func (m *Memory) shipKeyOf(number string) string { return m.shipKeys[number] }

// PostReturn credits what a warehouse received back for a return with a
// credit memo ("CM-000001"): a line per return line with a received
// quantity, at the order's ERP price, with the sales tax of the order's
// region. The memo credits the latest invoice of the order that billed the
// first credited line; the returned buckets grow and the customer's open
// balance falls by the total.
//
// PostReturn is idempotent by key, and besides by return ID: a return
// posted again returns its credit memo. The same key or return ID with
// another return is CodeConflict. CodeNotFound for an unknown order;
// CodeConflict when a line would return more than was invoiced;
// CodeInvalid for a return that breaks [canonical.Return.Validate], has no
// order ID, receives nothing, or names a line the order does not have.
func (m *Memory) PostReturn(ctx context.Context, key string, r canonical.Return) (canonical.Invoice, error) {
	const op = "PostReturn"
	if err := ctxErr(ctx); err != nil {
		return canonical.Invoice{}, err
	}
	if key == "" {
		return canonical.Invoice{}, invalid(op, "request", canonical.FieldError{Field: "key", Message: "required"})
	}
	if err := r.Validate(); err != nil {
		return canonical.Invoice{}, asInvalid(op, err)
	}
	if r.OrderID == "" {
		return canonical.Invoice{}, invalid(op, canonical.KindReturn, canonical.FieldError{Field: "orderId", Message: "required to credit a return"})
	}
	fp, err := fingerprint(r)
	if err != nil {
		return canonical.Invoice{}, asInvalid(op, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec, ok := m.returns[key]; ok {
		if rec.fp != fp {
			return canonical.Invoice{}, errorf(connector.CodeConflict, op, "key %q was used for another return", key)
		}
		return cloneInvoice(m.invoices[rec.number]), nil
	}
	if number, ok := m.retByID[r.ID]; ok {
		rec := m.returns[m.retKeys[number]]
		if rec.fp != fp {
			return canonical.Invoice{}, errorf(connector.CodeConflict, op, "return %q was posted with other content (credit memo %s)", r.ID, number)
		}
		m.returns[key] = rec
		return cloneInvoice(m.invoices[number]), nil
	}
	rec := m.orders[r.OrderID]
	if rec == nil {
		return canonical.Invoice{}, errorf(connector.CodeNotFound, op, "order %q", r.OrderID)
	}
	now := m.now()
	memo := m.newInvoice(rec, canonical.InvoiceCreditMemo, "", now)
	memo.ReturnID = r.ID
	add := make(map[int]canonical.Decimal)
	first := -1
	for i := range r.Lines {
		rl := &r.Lines[i]
		if !rl.Received.Value.IsPos() {
			continue
		}
		p := "lines[" + strconv.Itoa(i) + "]"
		j := lineIndex(&rec.doc, rl.OrderLineID)
		if j < 0 {
			return canonical.Invoice{}, invalid(op, canonical.KindReturn, canonical.FieldError{Field: p + ".orderLineId", Message: fmt.Sprintf("order %s has no line %q", r.OrderID, rl.OrderLineID)})
		}
		ol := &rec.doc.Lines[j]
		if rl.Received.Unit != ol.Quantity.Unit {
			return canonical.Invoice{}, invalid(op, canonical.KindReturn, canonical.FieldError{Field: p + ".received.unit", Message: fmt.Sprintf("must be the order line's unit %s, is %s", ol.Quantity.Unit, rl.Received.Unit)})
		}
		sum, err := add[j].Add(rl.Received.Value)
		if err == nil {
			var after canonical.Decimal
			after, err = ol.Buckets.Get(canonical.BucketReturned).Add(sum)
			if err == nil && after.Cmp(ol.Buckets.Get(canonical.BucketInvoiced)) > 0 {
				return canonical.Invoice{}, errorf(connector.CodeConflict, op, "line %s of order %s: returning %s would exceed the invoiced %s", ol.ID, r.OrderID, after, ol.Buckets.Get(canonical.BucketInvoiced))
			}
		}
		if err != nil {
			return canonical.Invoice{}, invalid(op, canonical.KindReturn, canonical.FieldError{Field: p + ".received.value", Message: "too large"})
		}
		add[j] = sum
		if first < 0 {
			first = j
		}
		il, err := invoiceLine(rl.ID, ol, rl.Received)
		if err != nil {
			return canonical.Invoice{}, invalid(op, canonical.KindReturn, canonical.FieldError{Field: p + ".received.value", Message: "amount too large"})
		}
		memo.Lines = append(memo.Lines, il)
	}
	if first < 0 {
		return canonical.Invoice{}, invalid(op, canonical.KindReturn, canonical.FieldError{Field: "lines", Message: "nothing received to credit"})
	}
	memo.CreditsInvoiceID = m.invoiceFor(rec, rec.doc.Lines[first].ID)
	m.nextCM++
	number := padded("CM-", int64(m.nextCM), 6)
	memo.ID, memo.Number = number, number
	memo.Refs = canonical.Refs{{System: System, Type: RefInvoice, Value: number}}
	if err := m.total(&memo, rec); err != nil {
		return canonical.Invoice{}, errorf(connector.CodeInternal, op, "credit memo %s: %w", number, err)
	}
	for j, q := range add {
		bs := &rec.doc.Lines[j].Buckets
		v, _ := bs.Get(canonical.BucketReturned).Add(q)
		bs.Set(canonical.BucketReturned, v)
	}
	if a := m.accounts[rec.customer]; a != nil {
		a.OpenBalance, _ = a.OpenBalance.Sub(memo.Totals.Total.Amount)
	}
	rec.invoices = append(rec.invoices, number)
	m.invoices[number] = &memo
	m.invOrder = append(m.invOrder, number)
	m.returns[key] = postRecord{fp: fp, number: number}
	m.retByID[r.ID] = number
	m.retKeys[number] = key
	m.counts.CreditMemos++
	return cloneInvoice(&memo), nil
}

// invoiceFor returns the latest standard invoice of the order with a line
// for the order line.
func (m *Memory) invoiceFor(rec *order, lineID string) string {
	for i := len(rec.invoices) - 1; i >= 0; i-- {
		inv := m.invoices[rec.invoices[i]]
		if inv.Kind != canonical.InvoiceStandard {
			continue
		}
		for _, l := range inv.Lines {
			if l.OrderLineID == lineID {
				return inv.ID
			}
		}
	}
	return ""
}

// newInvoice returns an invoice or credit memo header for the order.
func (m *Memory) newInvoice(rec *order, kind canonical.InvoiceKind, number string, now time.Time) canonical.Invoice {
	billTo := rec.doc.SoldTo
	if rec.doc.BillTo != nil {
		billTo = *rec.doc.BillTo
	}
	inv := canonical.Invoice{
		ID: number, Version: 1, Kind: kind, Number: number, OrderID: rec.doc.ID,
		BillTo: billTo, Currency: rec.doc.Currency, PaymentTerms: rec.doc.PaymentTerms, InvoiceDate: now,
		Extensions: rec.doc.Extensions.Clone(),
	}
	if number != "" {
		inv.Refs = canonical.Refs{{System: System, Type: RefInvoice, Value: number}}
	}
	if kind == canonical.InvoiceStandard {
		inv.DueDate = now.AddDate(0, 0, termDays(rec.doc.PaymentTerms))
	}
	return inv
}

// invoiceLine bills q of order line ol at its ERP price.
func invoiceLine(id string, ol *canonical.OrderLine, q canonical.Quantity) (canonical.InvoiceLine, error) {
	amt, err := ol.UnitPrice.Mul(q.Value)
	if err != nil {
		return canonical.InvoiceLine{}, err
	}
	return canonical.InvoiceLine{ID: id, OrderLineID: ol.ID, Item: ol.Item, Quantity: q, UnitPrice: ol.UnitPrice, Amount: amt.Round(),
		Extensions: ol.Extensions.Clone()}, nil
}

// total sets the taxes and totals of inv from its lines and charges, and
// validates it.
func (m *Memory) total(inv *canonical.Invoice, rec *order) error {
	cur := inv.Currency
	sub, charges := canonical.Decimal{}, canonical.Decimal{}
	var err error
	for _, l := range inv.Lines {
		if sub, err = sub.Add(l.Amount.Amount); err != nil {
			return err
		}
	}
	for _, c := range inv.Charges {
		if charges, err = charges.Add(c.Amount.Amount); err != nil {
			return err
		}
	}
	tax := canonical.Decimal{}
	if rec.hasRate {
		if tax, err = taxOn(sub, rec.rate.Rate, cur); err != nil {
			return err
		}
		r := rec.rate.Rate
		taxable := canonical.NewMoney(sub, cur).Round()
		inv.Taxes = []canonical.Tax{{Type: "sales", Jurisdiction: rec.rate.jurisdiction(), Rate: &r, Taxable: &taxable, Amount: canonical.NewMoney(tax, cur).Round()}}
	}
	total, err := sub.Add(charges)
	if err == nil {
		total, err = total.Add(tax)
	}
	if err != nil {
		return err
	}
	inv.Totals = canonical.Totals{
		Subtotal: canonical.NewMoney(sub, cur).Round(),
		Charges:  canonical.NewMoney(charges, cur).Round(),
		Tax:      canonical.NewMoney(tax, cur).Round(),
		Total:    canonical.NewMoney(total, cur).Round(),
	}
	return inv.Validate()
}

// termDays returns the days of a payment terms code: 30 for "NET30", 0 for
// anything else (due on receipt).
func termDays(terms string) int {
	if d, ok := strings.CutPrefix(terms, "NET"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 && n <= 365 {
			return n
		}
	}
	return 0
}

// lineIndex returns the index of the line with the given ID, or -1.
func lineIndex(o *canonical.Order, id string) int {
	for i := range o.Lines {
		if o.Lines[i].ID == id {
			return i
		}
	}
	return -1
}

// cloneInvoice copies an invoice so callers cannot change the stored one.
func cloneInvoice(in *canonical.Invoice) canonical.Invoice {
	c := *in
	c.Lines = slices.Clone(in.Lines)
	c.Charges = slices.Clone(in.Charges)
	c.Taxes = slices.Clone(in.Taxes)
	c.Refs = slices.Clone(in.Refs)
	c.Extensions = in.Extensions.Clone()
	for i := range c.Lines {
		c.Lines[i].Extensions = c.Lines[i].Extensions.Clone()
	}
	return c
}

// Invoices returns the invoices and credit memos posted for the order with
// the given canonical ID, in posting order.
func (m *Memory) Invoices(orderID string) []canonical.Invoice {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rec := m.orders[orderID]
	if rec == nil {
		return nil
	}
	out := make([]canonical.Invoice, 0, len(rec.invoices))
	for _, n := range rec.invoices {
		out = append(out, cloneInvoice(m.invoices[n]))
	}
	return out
}

// InvoiceCount returns the number of invoices (not credit memos) posted for
// the order with the given canonical ID.
func (m *Memory) InvoiceCount(orderID string) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rec := m.orders[orderID]
	if rec == nil {
		return 0
	}
	n := 0
	for _, num := range rec.invoices {
		if m.invoices[num].Kind == canonical.InvoiceStandard {
			n++
		}
	}
	return n
}

// Account returns the customer's account with its current open balance.
func (m *Memory) Account(customerID string) (Account, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a := m.accounts[customerID]
	if a == nil {
		return Account{}, false
	}
	return *a, true
}

// RecordPayment records a payment of amount by the customer: its open
// balance falls, which makes room under its credit limit. CodeNotFound for
// an unknown customer, CodeInvalid for an amount that is not positive or
// not in the customer's currency.
func (m *Memory) RecordPayment(ctx context.Context, customerID string, amount canonical.Money) error {
	const op = "RecordPayment"
	if err := ctxErr(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.accounts[customerID]
	if a == nil {
		return errorf(connector.CodeNotFound, op, "customer %q", customerID)
	}
	if !amount.Amount.IsPos() || amount.Currency != a.Customer.Currency {
		return invalid(op, "payment", canonical.FieldError{Field: "amount", Message: fmt.Sprintf("must be positive and in %s", a.Customer.Currency)})
	}
	b, err := a.OpenBalance.Sub(amount.Amount)
	if err != nil {
		return invalid(op, "payment", canonical.FieldError{Field: "amount", Message: "too large"})
	}
	a.OpenBalance = b
	return nil
}
