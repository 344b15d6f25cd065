package sap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

// itemOf returns the sales order item number of the canonical line ID.
func itemOf(e *odata.SalesOrder, lineID string) string {
	if e.Items == nil {
		return ""
	}
	for _, it := range e.Items.Results {
		if it.LineID == lineID {
			return it.SalesOrderItem
		}
	}
	return ""
}

// orderFor finds the sales order of a canonical order ID for op:
// CodeNotFound when there is none.
func (c *Client) orderFor(ctx context.Context, op, orderID string) (odata.SalesOrder, error) {
	e, ok, err := c.findOrder(ctx, op, "PurchaseOrderByCustomer", orderID)
	if err == nil && !ok {
		err = connector.NewError(connector.CodeNotFound, c.system, op, fmt.Errorf("sap: no sales order for order %q", orderID))
	}
	return e, err
}

func delivery(s *canonical.Shipment, so *odata.SalesOrder, key string) (odata.OutbDelivery, error) {
	d := odata.OutbDelivery{ShippingPoint: s.Warehouse, ActualGoodsMovementDate: odata.Date{Time: s.ShippedAt}, IdempotencyKey: key,
		ShipmentID: s.ID, FulfillmentOrderID: s.FulfillmentOrderID, Carrier: s.Carrier.SCAC,
		TrackingNumbers: strings.Join(s.TrackingNumbers, ","), Final: s.FinalForFulfillment}
	items := make([]odata.OutbDeliveryItem, 0, len(s.Lines))
	for i, l := range s.Lines {
		item := itemOf(so, l.OrderLineID)
		if item == "" {
			return d, canonical.ErrInvalid
		}
		items = append(items, odata.OutbDeliveryItem{DeliveryDocumentItem: strconv.Itoa(10 * (i + 1)), ReferenceSDDocument: so.SalesOrder,
			ReferenceSDDocumentItem: item, Material: l.Item.SKU, ActualDeliveryQuantity: odata.Dec(l.Quantity.Value),
			DeliveryQuantityUnit: string(l.Quantity.Unit), ShipmentLineID: l.ID, FulfillmentLineID: l.FulfillmentLineID})
	}
	d.Items = &odata.List[odata.OutbDeliveryItem]{Results: items}
	return d, nil
}

// sameShipment reports whether the delivery found by a key is the one s
// would create.
func sameShipment(d *odata.OutbDelivery, s *canonical.Shipment) bool {
	if d.ShipmentID != s.ID || d.Items == nil || len(d.Items.Results) != len(s.Lines) {
		return false
	}
	for i, it := range d.Items.Results {
		l := &s.Lines[i]
		if it.ShipmentLineID != l.ID || !it.ActualDeliveryQuantity.Equal(l.Quantity.Value) || it.Material != l.Item.SKU {
			return false
		}
	}
	return true
}

// PostShipment posts the shipment as an outbound delivery with reference
// to the sales order (POST A_OutbDeliveryHeader with
// to_DeliveryDocumentItem), posts its goods issue (PostGoodsIssue), and
// reads the billing document that bills it (A_BillingDocument with
// to_Item). A read by the key (YY1_IdempotencyKey_DLH) first finds the
// delivery of an earlier call, whose missing steps are then completed.
func (c *Client) PostShipment(ctx context.Context, key string, s canonical.Shipment) (canonical.Invoice, error) {
	const op = "PostShipment"
	if err := s.Validate(); err != nil {
		return canonical.Invoice{}, c.invalid(op, err)
	}
	if key == "" {
		return canonical.Invoice{}, c.invalid(op, errors.New("sap: idempotency key is empty"))
	}
	d, err := c.delivery(ctx, op, key, &s)
	if err != nil {
		return canonical.Invoice{}, err
	}
	if d.OverallGoodsMovementStatus != "C" {
		resp, err := c.write(ctx, op, "POST", outboundDeliveryService+"PostGoodsIssue?DeliveryDocument='"+d.DeliveryDocument+"'", nil, nil)
		if err != nil {
			return canonical.Invoice{}, err
		}
		var out odata.Entity[odata.OutbDelivery]
		if err := c.decode(op, resp, &out); err != nil {
			return canonical.Invoice{}, err
		}
		d = out.D
	}
	if d.BillingDocument == "" {
		return canonical.Invoice{}, connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("sap: delivery %s has no billing document after goods issue", d.DeliveryDocument))
	}
	return c.billingDocument(ctx, op, d.BillingDocument, s.OrderID, "")
}

// delivery returns the delivery of key, creating it when there is none.
func (c *Client) delivery(ctx context.Context, op, key string, s *canonical.Shipment) (odata.OutbDelivery, error) {
	for attempt := 0; ; attempt++ {
		d, ok, err := first[odata.OutbDelivery](ctx, c, op, filterRef(outboundDeliveryService+"A_OutbDeliveryHeader", "YY1_IdempotencyKey_DLH", key, "to_DeliveryDocumentItem"))
		if err != nil {
			return d, err
		}
		if ok {
			if !sameShipment(&d, s) {
				return d, connector.NewError(connector.CodeConflict, c.system, op, fmt.Errorf("sap: key %q was used for another shipment (delivery %s)", key, d.DeliveryDocument))
			}
			return d, nil
		}
		so, err := c.orderFor(ctx, op, s.OrderID)
		if err != nil {
			return d, err
		}
		body, err := delivery(s, &so, key)
		if err != nil {
			for i, l := range s.Lines {
				if itemOf(&so, l.OrderLineID) == "" {
					return d, c.invalid(op, &canonical.ValidationError{Kind: "shipment", Errors: []canonical.FieldError{{
						Field: fmt.Sprintf("lines[%d].orderLineId", i), Message: fmt.Sprintf("names no item of sales order %s", so.SalesOrder)}}})
				}
			}
			return d, c.invalid(op, err)
		}
		resp, err := c.write(ctx, op, "POST", outboundDeliveryService+"A_OutbDeliveryHeader", body, nil)
		if err != nil {
			if attempt == 0 && sapCode(err) == duplicateReference {
				continue
			}
			return d, err
		}
		var out odata.Entity[odata.OutbDelivery]
		if err := c.decode(op, resp, &out); err != nil {
			return d, err
		}
		return out.D, nil
	}
}

// billingDocument reads a billing document and maps it to an invoice (F2)
// or a credit memo (G2) of the order.
func (c *Client) billingDocument(ctx context.Context, op, number, orderID, returnID string) (canonical.Invoice, error) {
	var out odata.Entity[odata.BillingDocument]
	if err := c.get(ctx, op, billingDocumentService+"A_BillingDocument('"+number+"')?$expand=to_Item,to_Item/to_PricingElement", &out); err != nil {
		return canonical.Invoice{}, err
	}
	b := &out.D
	cur := canonical.Currency(b.TransactionCurrency)
	inv := canonical.Invoice{ID: b.BillingDocument, Version: 1, Refs: canonical.Refs{{System: c.system, Type: "billingDocument", Value: b.BillingDocument}},
		Kind: canonical.InvoiceStandard, Number: b.BillingDocument, OrderID: orderID, BillTo: canonical.PartyRef{ID: b.PayerParty},
		Currency: cur, PaymentTerms: b.CustomerPaymentTerms, InvoiceDate: b.BillingDocumentDate.Time, DueDate: b.NetDueDate.Time}
	if b.BillingDocumentType == "G2" || b.SDDocumentCategory == "O" {
		inv.Kind, inv.CreditsInvoiceID, inv.ReturnID = canonical.InvoiceCreditMemo, b.CreditedInvoice, returnID
	}
	net, tax, ch := b.TotalNetAmount.Decimal, b.TotalTaxAmount.Decimal, b.TotalChargeAmount.Decimal
	total, _ := net.Add(tax)
	total, _ = total.Add(ch)
	inv.Totals = canonical.Totals{Subtotal: canonical.NewMoney(net, cur), Tax: canonical.NewMoney(tax, cur),
		Charges: canonical.NewMoney(ch, cur), Total: canonical.NewMoney(total, cur)}
	if tax.IsPos() {
		inv.Taxes = []canonical.Tax{{Type: "sales", Jurisdiction: b.Taxes, Amount: canonical.NewMoney(tax, cur)}}
	}
	if ch.IsPos() {
		inv.Charges = []canonical.Charge{{Type: "freight", Amount: canonical.NewMoney(ch, cur)}}
	}
	if b.Items != nil {
		for _, it := range b.Items.Results {
			l := canonical.InvoiceLine{ID: b.BillingDocument + "-" + it.BillingDocumentItem, OrderLineID: it.OrderLineID,
				Item: canonical.ItemRef{SKU: it.Material}, Quantity: canonical.Quantity{Value: it.BillingQuantity.Decimal, Unit: canonical.Unit(it.BillingQuantityUnit)},
				Amount: canonical.NewMoney(it.NetAmount.Decimal, cur), UnitPrice: canonical.NewMoney(canonical.Decimal{}, cur)}
			if pe, ok := priceOf(it.PricingElements); ok {
				l.UnitPrice = canonical.NewMoney(pe.ConditionRateValue.Decimal, cur)
			}
			inv.Lines = append(inv.Lines, l)
		}
	}
	if err := inv.Validate(); err != nil {
		return canonical.Invoice{}, connector.NewError(connector.CodeInternal, c.system, op, fmt.Errorf("sap: billing document %s: %w", number, err))
	}
	return inv, nil
}

func priceOf(l *odata.List[odata.PricingElement]) (odata.PricingElement, bool) {
	if l == nil {
		return odata.PricingElement{}, false
	}
	i := slices.IndexFunc(l.Results, func(pe odata.PricingElement) bool { return pe.ConditionType == "PPR0" })
	if i < 0 {
		return odata.PricingElement{}, false
	}
	return l.Results[i], true
}

// PostReturn posts what the warehouse received as a customer return with
// reference to the sales order (POST A_CustomerReturn with to_Item), and
// reads the credit memo (billing document G2) it produced. A read by the
// key (YY1_IdempotencyKey_SDH) first finds an earlier call's return.
func (c *Client) PostReturn(ctx context.Context, key string, r canonical.Return) (canonical.Invoice, error) {
	const op = "PostReturn"
	if err := r.Validate(); err != nil {
		return canonical.Invoice{}, c.invalid(op, err)
	}
	if key == "" {
		return canonical.Invoice{}, c.invalid(op, errors.New("sap: idempotency key is empty"))
	}
	if r.OrderID == "" {
		return canonical.Invoice{}, c.invalid(op, &canonical.ValidationError{Kind: "return", Errors: []canonical.FieldError{{
			Field: "orderId", Message: "is required: an SAP customer return references its sales order"}}})
	}
	for attempt := 0; ; attempt++ {
		cr, ok, err := first[odata.CustomerReturn](ctx, c, op, filterRef(customerReturnService+"A_CustomerReturn", "YY1_IdempotencyKey_SDH", key, "to_Item"))
		if err != nil {
			return canonical.Invoice{}, err
		}
		if ok {
			if cr.ReturnID != r.ID || cr.PurchaseOrderByCustomer != r.RMANumber {
				return canonical.Invoice{}, connector.NewError(connector.CodeConflict, c.system, op, fmt.Errorf("sap: key %q was used for another return (customer return %s)", key, cr.CustomerReturn))
			}
			return c.billingDocument(ctx, op, cr.CreditMemo, r.OrderID, r.ID)
		}
		so, err := c.orderFor(ctx, op, r.OrderID)
		if err != nil {
			return canonical.Invoice{}, err
		}
		body := odata.CustomerReturn{CustomerReturnType: "CBAR", SoldToParty: r.Customer.ID, PurchaseOrderByCustomer: r.RMANumber,
			ReferenceSDDocument: so.SalesOrder, IdempotencyKey: key, ReturnID: r.ID, Warehouse: r.Warehouse,
			AuthorizedAt: odata.Date{Time: r.AuthorizedAt}, ReceivedAt: odata.Date{Time: r.ReceivedAt}}
		items := make([]odata.CustomerReturnItem, 0, len(r.Lines))
		for i, l := range r.Lines {
			item := itemOf(&so, l.OrderLineID)
			if item == "" {
				return canonical.Invoice{}, c.invalid(op, &canonical.ValidationError{Kind: "return", Errors: []canonical.FieldError{{
					Field: fmt.Sprintf("lines[%d].orderLineId", i), Message: fmt.Sprintf("names no item of sales order %s", so.SalesOrder)}}})
			}
			items = append(items, odata.CustomerReturnItem{CustomerReturnItem: strconv.Itoa(10 * (i + 1)), Material: l.Item.SKU,
				RequestedQuantity: odata.Dec(l.Authorized.Value), RequestedQuantityUnit: string(l.Authorized.Unit), ReferenceSDDocumentItem: item,
				ReturnReason: l.Reason, LineID: l.ID, ReceivedQuantity: odata.Dec(l.Received.Value), Condition: string(l.Condition),
				Disposition: string(l.Disposition)})
		}
		body.Items = &odata.List[odata.CustomerReturnItem]{Results: items}
		resp, err := c.write(ctx, op, "POST", customerReturnService+"A_CustomerReturn", body, nil)
		if err != nil {
			if attempt == 0 && sapCode(err) == duplicateReference {
				continue
			}
			return canonical.Invoice{}, err
		}
		var out odata.Entity[odata.CustomerReturn]
		if err := c.decode(op, resp, &out); err != nil {
			return canonical.Invoice{}, err
		}
		return c.billingDocument(ctx, op, out.D.CreditMemo, r.OrderID, r.ID)
	}
}

// ApplyInventory posts the positions as one material document (POST
// A_MaterialDocumentHeader with to_MaterialDocumentItem, goods movement
// type 701, one item per position). A read by the key
// (YY1_IdempotencyKey_MDH) first finds an earlier call's document.
func (c *Client) ApplyInventory(ctx context.Context, key string, positions []canonical.InventoryPosition) error {
	const op = "ApplyInventory"
	for i := range positions {
		if err := positions[i].Validate(); err != nil {
			return c.invalid(op, fmt.Errorf("positions[%d]: %w", i, err))
		}
	}
	if key == "" {
		return c.invalid(op, errors.New("sap: idempotency key is empty"))
	}
	for attempt := 0; ; attempt++ {
		_, ok, err := first[odata.MaterialDocument](ctx, c, op, filterRef(materialDocumentService+"A_MaterialDocumentHeader", "YY1_IdempotencyKey_MDH", key, ""))
		if err != nil || ok {
			return err
		}
		body := odata.MaterialDocument{GoodsMovementCode: "04", IdempotencyKey: key, MaterialDocumentHeaderText: "distsync inventory"}
		items := make([]odata.MaterialDocumentItem, 0, len(positions))
		for _, p := range positions {
			kind, err := p.Kind.MarshalText()
			if err != nil {
				return c.invalid(op, err)
			}
			if body.DocumentDate.Before(p.AsOf) {
				body.DocumentDate, body.PostingDate = odata.Date{Time: p.AsOf}, odata.Date{Time: p.AsOf}
			}
			items = append(items, odata.MaterialDocumentItem{Material: p.Item.SKU, Plant: p.Location, Batch: p.Lot, GoodsMovementType: "701",
				InventoryStockType: stockType(p.Status), QuantityInEntryUnit: odata.Dec(p.OnHand.Value), EntryUnit: string(p.OnHand.Unit),
				Allocated: odata.Dec(p.Allocated.Value), Available: odata.Dec(p.Available.Value), Inbound: odata.Dec(p.Inbound.Value),
				AsOf: odata.Date{Time: p.AsOf}, Sequence: strconv.FormatInt(p.Sequence, 10), Status: string(p.Status), Kind: string(kind)})
		}
		body.Items = &odata.List[odata.MaterialDocumentItem]{Results: items}
		_, err = c.write(ctx, op, "POST", materialDocumentService+"A_MaterialDocumentHeader", body, nil)
		if err != nil && attempt == 0 && sapCode(err) == duplicateReference {
			continue
		}
		return err
	}
}

// stockType maps an inventory status to InventoryStockType: 01
// unrestricted, 02 quality inspection, 07 blocked.
func stockType(s canonical.InventoryStatus) string {
	switch s {
	case canonical.InventoryAvailable:
		return "01"
	case canonical.InventoryQualityHold:
		return "02"
	default:
		return "07"
	}
}
