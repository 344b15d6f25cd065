package d365

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/d365/internal/odata"
)

// lotOf returns the InventoryLotId of the sales order line with the
// canonical line ID.
func lotOf(h *odata.SalesOrderHeader, lineID string) string {
	for _, l := range h.Lines {
		if l.LineID == lineID {
			return l.InventoryLotID
		}
	}
	return ""
}

func fieldError(kind, field, msg string) error {
	return &canonical.ValidationError{Kind: kind, Errors: []canonical.FieldError{{Field: field, Message: msg}}}
}

// sameShipment reports whether the packing slip found by a key is the one
// s would post.
func sameShipment(p *odata.PackingSlipHeader, s *canonical.Shipment) bool {
	if p.ShipmentID != s.ID || len(p.Lines) != len(s.Lines) {
		return false
	}
	for i, l := range p.Lines {
		sl := &s.Lines[i]
		if l.ShipmentLineID != sl.ID || !l.DeliveredQuantity.Equal(sl.Quantity.Value) || l.ItemNumber != sl.Item.SKU {
			return false
		}
	}
	return true
}

// PostShipment posts the shipment as a packing slip of the sales order
// (SalesPackingSlipHeaders with its SalesPackingSlipLines, one $batch
// changeset) and reads the invoice that bills it (SalesInvoiceHeadersV2
// with SalesInvoiceLines). A read by the key (DSyncIdempotencyKey) first
// finds the packing slip of an earlier call, whose invoice is then read.
// Four calls per new shipment: the read by key, the order, the
// changeset, the invoice.
func (c *Client) PostShipment(ctx context.Context, key string, s canonical.Shipment) (canonical.Invoice, error) {
	const op = "PostShipment"
	if err := s.Validate(); err != nil {
		return canonical.Invoice{}, c.invalid(op, err)
	}
	if key == "" {
		return canonical.Invoice{}, c.invalid(op, errors.New("d365: idempotency key is empty"))
	}
	for attempt := 0; ; attempt++ {
		p, ok, err := first[odata.PackingSlipHeader](ctx, c, op, c.query("SalesPackingSlipHeaders", "DSyncIdempotencyKey", odata.String(key), "SalesPackingSlipLines"))
		if err != nil {
			return canonical.Invoice{}, err
		}
		if ok {
			if !sameShipment(&p, &s) {
				return canonical.Invoice{}, connector.NewError(connector.CodeConflict, c.system, op, fmt.Errorf("d365: key %q was used for another shipment (packing slip %s)", key, p.PackingSlipID))
			}
			return c.invoice(ctx, op, p.InvoiceNumber, s.OrderID, "")
		}
		so, err := c.orderFor(ctx, op, s.OrderID)
		if err != nil {
			return canonical.Invoice{}, err
		}
		h := odata.PackingSlipHeader{DataAreaID: c.company, SalesOrderNumber: so.SalesOrderNumber, DeliveryDate: odata.Date{Time: s.ShippedAt},
			IdempotencyKey: key, ShipmentID: s.ID, FulfillmentOrderID: s.FulfillmentOrderID, CarrierCode: s.Carrier.SCAC,
			TrackingNumbers: strings.Join(s.TrackingNumbers, ","), Final: odata.NoYes(s.FinalForFulfillment)}
		lines := make([]any, 0, len(s.Lines))
		for i, l := range s.Lines {
			lot := lotOf(&so, l.OrderLineID)
			if lot == "" {
				return canonical.Invoice{}, c.invalid(op, fieldError("shipment", fmt.Sprintf("lines[%d].orderLineId", i), "names no line of sales order "+so.SalesOrderNumber))
			}
			lines = append(lines, odata.PackingSlipLine{DataAreaID: c.company, InventoryLotID: lot, ItemNumber: l.Item.SKU,
				DeliveredQuantity: odata.Dec(l.Quantity.Value), SalesUnitSymbol: string(l.Quantity.Unit), ShippingWarehouseID: s.Warehouse,
				ShipmentLineID: l.ID, FulfillmentLineID: l.FulfillmentLineID})
		}
		parts, err := changeset("SalesPackingSlipHeaders", "SalesPackingSlipLines", h, lines)
		if err != nil {
			return canonical.Invoice{}, connector.NewError(connector.CodeInternal, c.system, op, err)
		}
		out, err := c.batch(ctx, op, parts)
		if err != nil {
			if attempt == 0 && duplicate(err) {
				continue
			}
			return canonical.Invoice{}, err
		}
		var created odata.PackingSlipHeader
		if err := c.decode(op, out[0].Body, &created); err != nil {
			return canonical.Invoice{}, err
		}
		return c.invoice(ctx, op, created.InvoiceNumber, s.OrderID, "")
	}
}

// invoice reads an invoice (or, with negative amounts, a credit note) and
// maps it to a canonical invoice of the order.
func (c *Client) invoice(ctx context.Context, op, number, orderID, returnID string) (canonical.Invoice, error) {
	if number == "" {
		return canonical.Invoice{}, connector.NewError(connector.CodeInternal, c.system, op, errors.New("d365: the document names no invoice"))
	}
	var b odata.InvoiceHeader
	if err := c.get(ctx, op, "SalesInvoiceHeadersV2"+odata.Key(c.company, "InvoiceNumber", number)+"?$expand=SalesInvoiceLines", &b); err != nil {
		return canonical.Invoice{}, err
	}
	cur := canonical.Currency(b.CurrencyCode)
	inv := canonical.Invoice{ID: b.InvoiceNumber, Version: 1, Refs: canonical.Refs{{System: c.system, Type: "invoice", Value: b.DataAreaID + "/" + b.InvoiceNumber}},
		Kind: canonical.InvoiceStandard, Number: b.InvoiceNumber, OrderID: orderID, BillTo: canonical.PartyRef{ID: b.InvoiceCustomerAccountNumber},
		Currency: cur, PaymentTerms: b.PaymentTermsName, InvoiceDate: b.InvoiceDate.Time, DueDate: b.DueDate.Time}
	if b.TotalInvoiceAmount.IsNeg() {
		inv.Kind, inv.CreditsInvoiceID, inv.ReturnID = canonical.InvoiceCreditMemo, b.CreditedInvoiceNumber, returnID
	}
	total, tax, ch := b.TotalInvoiceAmount.Abs(), b.TotalTaxAmount.Abs(), b.TotalChargeAmount.Abs()
	net, _ := total.Sub(tax)
	net, _ = net.Sub(ch)
	inv.Totals = canonical.Totals{Subtotal: canonical.NewMoney(net, cur), Tax: canonical.NewMoney(tax, cur),
		Charges: canonical.NewMoney(ch, cur), Total: canonical.NewMoney(total, cur)}
	if tax.IsPos() {
		inv.Taxes = []canonical.Tax{{Type: "sales", Jurisdiction: b.TaxJurisdiction, Amount: canonical.NewMoney(tax, cur)}}
	}
	if ch.IsPos() {
		inv.Charges = []canonical.Charge{{Type: "freight", Amount: canonical.NewMoney(ch, cur)}}
	}
	for _, l := range b.Lines {
		inv.Lines = append(inv.Lines, canonical.InvoiceLine{ID: fmt.Sprintf("%s-%d", b.InvoiceNumber, l.LineNumber), OrderLineID: l.OrderLineID,
			Item: canonical.ItemRef{SKU: l.ItemNumber}, Quantity: canonical.Quantity{Value: l.InvoicedQuantity.Abs(), Unit: canonical.Unit(l.SalesUnitSymbol)},
			UnitPrice: canonical.NewMoney(l.SalesPrice.Decimal, cur), Amount: canonical.NewMoney(l.LineAmount.Abs(), cur)})
	}
	if err := inv.Validate(); err != nil {
		return canonical.Invoice{}, connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("d365: invoice %s: %w", number, err))
	}
	return inv, nil
}

// PostReturn posts what the warehouse received as a return order of the
// sales order (ReturnOrderHeaders with its ReturnOrderLines, quantities
// negative as F&O writes them, one $batch changeset) and reads the credit
// note it produced. A read by the key (DSyncIdempotencyKey) first finds
// an earlier call's return order.
func (c *Client) PostReturn(ctx context.Context, key string, r canonical.Return) (canonical.Invoice, error) {
	const op = "PostReturn"
	if err := r.Validate(); err != nil {
		return canonical.Invoice{}, c.invalid(op, err)
	}
	if key == "" {
		return canonical.Invoice{}, c.invalid(op, errors.New("d365: idempotency key is empty"))
	}
	if r.OrderID == "" {
		return canonical.Invoice{}, c.invalid(op, fieldError("return", "orderId", "is required: an F&O return order references its sales order"))
	}
	for attempt := 0; ; attempt++ {
		ro, ok, err := first[odata.ReturnOrderHeader](ctx, c, op, c.query("ReturnOrderHeaders", "DSyncIdempotencyKey", odata.String(key), "ReturnOrderLines"))
		if err != nil {
			return canonical.Invoice{}, err
		}
		if ok {
			if ro.ReturnID != r.ID || ro.RMANumber != r.RMANumber {
				return canonical.Invoice{}, connector.NewError(connector.CodeConflict, c.system, op, fmt.Errorf("d365: key %q was used for another return (return order %s)", key, ro.ReturnOrderNumber))
			}
			return c.invoice(ctx, op, ro.CreditNoteNumber, r.OrderID, r.ID)
		}
		so, err := c.orderFor(ctx, op, r.OrderID)
		if err != nil {
			return canonical.Invoice{}, err
		}
		h := odata.ReturnOrderHeader{DataAreaID: c.company, RMANumber: r.RMANumber, CustomerAccountNumber: r.Customer.ID,
			OriginalSalesOrder: so.SalesOrderNumber, IdempotencyKey: key, ReturnID: r.ID, WarehouseID: r.Warehouse,
			AuthorizedAt: odata.Date{Time: r.AuthorizedAt}, ReceivedAt: odata.Date{Time: r.ReceivedAt}}
		lines := make([]any, 0, len(r.Lines))
		for i, l := range r.Lines {
			lot := lotOf(&so, l.OrderLineID)
			if lot == "" {
				return canonical.Invoice{}, c.invalid(op, fieldError("return", fmt.Sprintf("lines[%d].orderLineId", i), "names no line of sales order "+so.SalesOrderNumber))
			}
			lines = append(lines, odata.ReturnOrderLine{DataAreaID: c.company, ItemNumber: l.Item.SKU, ReturnQuantity: odata.Dec(l.Authorized.Value.Neg()),
				SalesUnitSymbol: string(l.Authorized.Unit), ReturnReasonCodeID: l.Reason, ReturnInventoryLotID: lot, LineID: l.ID,
				ReceivedQuantity: odata.Dec(l.Received.Value), Condition: string(l.Condition), Disposition: string(l.Disposition)})
		}
		parts, err := changeset("ReturnOrderHeaders", "ReturnOrderLines", h, lines)
		if err != nil {
			return canonical.Invoice{}, connector.NewError(connector.CodeInternal, c.system, op, err)
		}
		out, err := c.batch(ctx, op, parts)
		if err != nil {
			if attempt == 0 && duplicate(err) {
				continue
			}
			return canonical.Invoice{}, err
		}
		var created odata.ReturnOrderHeader
		if err := c.decode(op, out[0].Body, &created); err != nil {
			return canonical.Invoice{}, err
		}
		return c.invoice(ctx, op, created.CreditNoteNumber, r.OrderID, r.ID)
	}
}

// ApplyInventory posts the positions as one counting journal
// (InventoryCountingJournalHeaders with an InventoryCountingJournalEntries
// entry per position, one $batch changeset). A read by the key
// (DSyncIdempotencyKey) first finds an earlier call's journal.
func (c *Client) ApplyInventory(ctx context.Context, key string, positions []canonical.InventoryPosition) error {
	const op = "ApplyInventory"
	for i := range positions {
		if err := positions[i].Validate(); err != nil {
			return c.invalid(op, fmt.Errorf("positions[%d]: %w", i, err))
		}
	}
	if key == "" {
		return c.invalid(op, errors.New("d365: idempotency key is empty"))
	}
	for attempt := 0; ; attempt++ {
		_, ok, err := first[odata.CountingJournalHeader](ctx, c, op, c.query("InventoryCountingJournalHeaders", "DSyncIdempotencyKey", odata.String(key), ""))
		if err != nil || ok {
			return err
		}
		h := odata.CountingJournalHeader{DataAreaID: c.company, JournalNameID: "ICount", Description: "distsync inventory", IdempotencyKey: key}
		lines := make([]any, 0, len(positions))
		for _, p := range positions {
			kind, err := p.Kind.MarshalText()
			if err != nil {
				return c.invalid(op, err)
			}
			lines = append(lines, odata.CountingJournalEntry{DataAreaID: c.company, ItemNumber: p.Item.SKU, InventoryWarehouseID: p.Location,
				ItemBatchNumber: p.Lot, InventoryStatusID: string(p.Status), CountedQuantity: odata.Dec(p.OnHand.Value), UnitSymbol: string(p.OnHand.Unit),
				Allocated: odata.Dec(p.Allocated.Value), Available: odata.Dec(p.Available.Value), Inbound: odata.Dec(p.Inbound.Value),
				AsOf: odata.Date{Time: p.AsOf}, Sequence: p.Sequence, Kind: string(kind)})
		}
		parts, err := changeset("InventoryCountingJournalHeaders", "InventoryCountingJournalEntries", h, lines)
		if err != nil {
			return connector.NewError(connector.CodeInternal, c.system, op, err)
		}
		_, err = c.batch(ctx, op, parts)
		if err != nil && attempt == 0 && duplicate(err) {
			continue
		}
		return err
	}
}
