package sap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/erp/internal/ackoutcome"
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

// orderExpand is the $expand of every sales order read.
const orderExpand = "to_Partner,to_Item,to_Item/to_ScheduleLine,to_Item/to_PricingElement"

// blockKinds maps DeliveryBlockReason codes to hold kinds; an unknown code
// is a delivery block.
var blockKinds = map[string]canonical.HoldKind{"01": canonical.HoldDeliveryBlock, "Z2": canonical.HoldPricing,
	"Z3": canonical.HoldTax, "Z4": canonical.HoldApproval}

// fingerprint is the hash of the order a key was used with, stored in
// YY1_RequestHash_SDH so that a replay with another order is a conflict.
func fingerprint(o *canonical.Order) string {
	b, _ := json.Marshal(o)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// salesOrder returns the deep-insert payload of o.
func salesOrder(o *canonical.Order, key, hash string) odata.SalesOrder {
	e := odata.SalesOrder{SalesOrderType: "OR", SalesOrganization: "1010", DistributionChannel: "10", OrganizationDivision: "00",
		SoldToParty: o.SoldTo.ID, PurchaseOrderByCustomer: o.ID, TransactionCurrency: string(o.Currency),
		CustomerPaymentTerms: o.PaymentTerms, RequestedDeliveryDate: odata.Date{Time: o.RequestedDeliveryDate},
		CompleteDeliveryIsDefined: o.ShipComplete, IdempotencyKey: key, RequestHash: hash,
		OrderVersion: strconv.FormatInt(o.Version, 10),
		Partners:     &odata.List[odata.Partner]{Results: []odata.Partner{{PartnerFunction: "SH", Customer: o.ShipTo.ID}}}}
	items := make([]odata.SalesOrderItem, 0, len(o.Lines))
	for i, l := range o.Lines {
		it := odata.SalesOrderItem{SalesOrderItem: strconv.Itoa(10 * (i + 1)), Material: l.Item.SKU,
			RequestedQuantity: odata.Dec(l.Quantity.Value), RequestedQuantityUnit: string(l.Quantity.Unit),
			RequestedQuantityISOUnit: string(l.Quantity.Unit), LineID: l.ID}
		if l.UnitPrice.Currency != "" {
			it.PricingElements = &odata.List[odata.PricingElement]{Results: []odata.PricingElement{{ConditionType: "EDI1",
				ConditionRateValue: odata.Dec(l.UnitPrice.Amount), ConditionCurrency: string(l.UnitPrice.Currency)}}}
		}
		items = append(items, it)
	}
	e.Items = &odata.List[odata.SalesOrderItem]{Results: items}
	return e
}

func pricing(it *odata.SalesOrderItem, kind string) (odata.PricingElement, bool) {
	if it.PricingElements == nil {
		return odata.PricingElement{}, false
	}
	for _, pe := range it.PricingElements.Results {
		if pe.ConditionType == kind {
			return pe, true
		}
	}
	return odata.PricingElement{}, false
}

// confirmed returns the ATP-confirmed and delivered quantities and the
// promised date of an item from its schedule lines.
func confirmed(it *odata.SalesOrderItem) (confd, delivered canonical.Decimal, promised odata.Date) {
	if it.ScheduleLines == nil {
		return it.RequestedQuantity.Decimal, canonical.Decimal{}, odata.Date{}
	}
	for _, sl := range it.ScheduleLines.Results {
		confd, _ = confd.Add(sl.ConfdOrderQtyByMatlAvailCheck.Decimal)
		delivered, _ = delivered.Add(sl.DeliveredQtyInOrderQtyUnit.Decimal)
		if promised.IsZero() || sl.ConfirmedDeliveryDate.After(promised.Time) {
			promised = sl.ConfirmedDeliveryDate
		}
	}
	return confd, delivered, promised
}

func (c *Client) holds(e *odata.SalesOrder) []canonical.Hold {
	var hs []canonical.Hold
	if e.TotalCreditCheckStatus == "B" {
		hs = append(hs, canonical.Hold{Kind: canonical.HoldCredit, Code: "B", Reason: "credit check failed (TotalCreditCheckStatus B)"})
	}
	if e.DeliveryBlockReason != "" {
		k, ok := blockKinds[e.DeliveryBlockReason]
		if !ok {
			k = canonical.HoldDeliveryBlock
		}
		hs = append(hs, canonical.Hold{Kind: k, Code: e.DeliveryBlockReason, Reason: "DeliveryBlockReason " + e.DeliveryBlockReason})
	}
	return hs
}

func (c *Client) refs(e *odata.SalesOrder) canonical.Refs {
	if e.SalesOrder == "" {
		return nil
	}
	return canonical.Refs{{System: c.system, Type: RefSalesOrder, Value: e.SalesOrder}}
}

func totals(e *odata.SalesOrder) *canonical.Totals {
	if e.TotalNetAmount == nil {
		return nil
	}
	cur := canonical.Currency(e.TransactionCurrency)
	t := canonical.Totals{Subtotal: canonical.NewMoney(e.TotalNetAmount.Decimal, cur), Tax: canonical.NewMoney(canonical.Decimal{}, cur),
		Charges: canonical.NewMoney(canonical.Decimal{}, cur)}
	if e.TotalTaxAmount != nil {
		t.Tax.Amount = e.TotalTaxAmount.Decimal
	}
	if e.TotalChargeAmount != nil {
		t.Charges.Amount = e.TotalChargeAmount.Decimal
	}
	sum, _ := t.Subtotal.Amount.Add(t.Tax.Amount)
	sum, _ = sum.Add(t.Charges.Amount)
	t.Total = canonical.NewMoney(sum, cur)
	return &t
}

// ack reads the ERP's verdict from a sales order's statuses: an item with
// SalesDocumentRjcnReason is rejected, a PPR0 price other than the EDI1
// price the customer sent is a price change, a schedule line confirming
// less than requested is a backorder; TotalCreditCheckStatus B and
// DeliveryBlockReason are holds.
func (c *Client) ack(e *odata.SalesOrder) canonical.OrderAck {
	cur := canonical.Currency(e.TransactionCurrency)
	a := canonical.OrderAck{OrderID: e.PurchaseOrderByCustomer, Refs: c.refs(e), Currency: cur, AckedAt: e.CreationDate.Time,
		Holds: c.holds(e), Totals: totals(e)}
	a.OrderVersion, _ = strconv.ParseInt(e.OrderVersion, 10, 64)
	changed, rejected := 0, 0
	if e.Items != nil {
		for i := range e.Items.Results {
			it := &e.Items.Results[i]
			l := canonical.AckLine{LineID: it.LineID, Result: canonical.LineAccepted}
			confd, _, promised := confirmed(it)
			l.PromisedDate = promised.Time
			ppr, hasPPR := pricing(it, "PPR0")
			edi, hasEDI := pricing(it, "EDI1")
			switch {
			case it.SalesDocumentRjcnReason != "":
				l.Result, l.PromisedDate = canonical.LineRejected, time.Time{}
				rejected++
			case hasPPR && hasEDI && !ppr.ConditionRateValue.Equal(edi.ConditionRateValue.Decimal):
				p := canonical.NewMoney(ppr.ConditionRateValue.Decimal, cur)
				l.Result, l.UnitPrice = canonical.LinePriceChanged, &p
				changed++
			case confd.Less(it.RequestedQuantity.Decimal):
				missing, _ := it.RequestedQuantity.Sub(confd)
				q := canonical.Quantity{Value: missing, Unit: canonical.Unit(it.RequestedQuantityISOUnit)}
				l.Result, l.Quantity = canonical.LineBackordered, &q
				changed++
			}
			a.Lines = append(a.Lines, l)
		}
	}
	a.Outcome = ackoutcome.Of(e.OverallSDDocumentRejectionSts == "C", len(a.Lines), rejected, changed, len(a.Holds) > 0)
	return a
}

// order reads the canonical order of a sales order with its buckets:
// ordered from RequestedQuantity, confirmed and backordered from the
// schedule lines' ConfdOrderQtyByMatlAvailCheck, shipped from
// DeliveredQtyInOrderQtyUnit, rejected from SalesDocumentRjcnReason.
func (c *Client) order(e *odata.SalesOrder) canonical.Order {
	cur := canonical.Currency(e.TransactionCurrency)
	o := canonical.Order{ID: e.PurchaseOrderByCustomer, Refs: c.refs(e), SoldTo: canonical.PartyRef{ID: e.SoldToParty},
		ShipTo: canonical.PartyRef{ID: e.SoldToParty}, Currency: cur, PaymentTerms: e.CustomerPaymentTerms,
		RequestedDeliveryDate: e.RequestedDeliveryDate.Time, ShipComplete: e.CompleteDeliveryIsDefined, Holds: c.holds(e),
		Totals: totals(e), SubmittedAt: e.CreationDate.Time}
	o.Version, _ = strconv.ParseInt(e.OrderVersion, 10, 64)
	if e.Partners != nil {
		for _, p := range e.Partners.Results {
			if p.PartnerFunction == "SH" {
				o.ShipTo.ID = p.Customer
			}
		}
	}
	rejected := 0
	if e.Items != nil {
		for i := range e.Items.Results {
			it := &e.Items.Results[i]
			unit := canonical.Unit(it.RequestedQuantityISOUnit)
			l := canonical.OrderLine{ID: it.LineID, Item: canonical.ItemRef{SKU: it.Material},
				Quantity: canonical.Quantity{Value: it.RequestedQuantity.Decimal, Unit: unit}}
			if pe, ok := pricing(it, "PPR0"); ok {
				l.UnitPrice = canonical.NewMoney(pe.ConditionRateValue.Decimal, cur)
			}
			confd, delivered, promised := confirmed(it)
			l.PromisedDate = promised.Time
			ordered := it.RequestedQuantity.Decimal
			l.Buckets.Set(canonical.BucketOrdered, ordered)
			if it.SalesDocumentRjcnReason != "" && (it.CancelledQty == nil || it.CancelledQty.Less(ordered)) {
				l.Buckets.Set(canonical.BucketRejected, ordered)
				rejected++
			} else {
				l.Buckets.Set(canonical.BucketConfirmed, ordered)
				if back, _ := ordered.Sub(confd); back.IsPos() {
					l.Buckets.Set(canonical.BucketBackordered, back)
				}
			}
			l.Buckets.Set(canonical.BucketShipped, delivered)
			for _, b := range []struct {
				bucket canonical.Bucket
				v      *odata.Decimal
			}{{canonical.BucketCancelled, it.CancelledQty}, {canonical.BucketInvoiced, it.InvoicedQty}, {canonical.BucketReturned, it.ReturnedQty}} {
				if b.v != nil {
					l.Buckets.Set(b.bucket, b.v.Decimal)
				}
			}
			o.Lines = append(o.Lines, l)
		}
	}
	switch {
	case rejected > 0 && rejected == len(o.Lines):
		o.RejectedAt = e.CreationDate.Time
	case len(o.Holds) == 0:
		o.AcceptedAt = e.CreationDate.Time
	}
	return o
}

// checkOrder validates o as the contracts ask before anything is sent.
func (c *Client) checkOrder(op string, o *canonical.Order) error {
	if o == nil {
		return c.invalid(op, errors.New("sap: order is nil"))
	}
	if err := o.Validate(); err != nil {
		return c.invalid(op, err)
	}
	return nil
}

// ValidateOrder simulates the order with API_SALES_ORDER_SIMULATION_SRV
// (POST A_SalesOrderSimulation), which prices and checks it without
// saving, and returns the verdict read from the simulated order.
func (c *Client) ValidateOrder(ctx context.Context, o *canonical.Order) (canonical.OrderAck, error) {
	const op = "ValidateOrder"
	if err := c.checkOrder(op, o); err != nil {
		return canonical.OrderAck{}, err
	}
	body := salesOrder(o, "", "")
	if err := c.writeExtensions(op, o, &body); err != nil {
		return canonical.OrderAck{}, err
	}
	resp, err := c.write(ctx, op, "POST", simulationService+"A_SalesOrderSimulation", body, nil)
	if err != nil {
		return canonical.OrderAck{}, err
	}
	var out odata.Entity[odata.SalesOrder]
	if err := c.decode(op, resp, &out); err != nil {
		return canonical.OrderAck{}, err
	}
	return c.ack(&out.D), nil
}

// findOrder returns the sales order whose prop is value.
func (c *Client) findOrder(ctx context.Context, op, prop, value string) (odata.SalesOrder, bool, error) {
	return first[odata.SalesOrder](ctx, c, op, filterRef(salesOrderService+"A_SalesOrder", prop, value, orderExpand))
}

// AcceptOrder creates the sales order by deep insert of A_SalesOrder with
// to_Item, after a read by the key (YY1_IdempotencyKey_SDH) that finds an
// earlier call's order; see the package documentation for the idempotency
// scheme.
func (c *Client) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	const op = "AcceptOrder"
	if err := c.checkOrder(op, o); err != nil {
		return canonical.OrderAck{}, err
	}
	if key == "" {
		return canonical.OrderAck{}, c.invalid(op, errors.New("sap: idempotency key is empty"))
	}
	hash := fingerprint(o)
	for attempt := 0; ; attempt++ {
		found, ok, err := c.findOrder(ctx, op, "YY1_IdempotencyKey_SDH", key)
		if err != nil {
			return canonical.OrderAck{}, err
		}
		if ok {
			if found.RequestHash != hash || found.PurchaseOrderByCustomer != o.ID {
				return canonical.OrderAck{}, connector.NewError(connector.CodeConflict, c.system, op,
					fmt.Errorf("sap: key %q was used for another order (sales order %s)", key, found.SalesOrder))
			}
			return c.ack(&found), nil
		}
		body := salesOrder(o, key, hash)
		if err := c.writeExtensions(op, o, &body); err != nil {
			return canonical.OrderAck{}, err
		}
		resp, err := c.write(ctx, op, "POST", salesOrderService+"A_SalesOrder", body, nil)
		if err != nil {
			if attempt == 0 && sapCode(err) == duplicateReference {
				continue // created concurrently: read it
			}
			return canonical.OrderAck{}, err
		}
		var out odata.Entity[odata.SalesOrder]
		if err := c.decode(op, resp, &out); err != nil {
			return canonical.OrderAck{}, err
		}
		return c.ack(&out.D), nil
	}
}

// GetOrder reads the sales order whose PurchaseOrderByCustomer is the
// canonical order ID, with items, schedule lines and pricing elements.
func (c *Client) GetOrder(ctx context.Context, orderID string) (canonical.Order, error) {
	const op = "GetOrder"
	e, ok, err := c.findOrder(ctx, op, "PurchaseOrderByCustomer", orderID)
	if err != nil {
		return canonical.Order{}, err
	}
	if !ok {
		return canonical.Order{}, connector.NewError(connector.CodeNotFound, c.system, op, fmt.Errorf("sap: no sales order for order %q", orderID))
	}
	o := c.order(&e)
	if err := c.readExtensions(op, &e, &o); err != nil {
		return canonical.Order{}, err
	}
	return o, nil
}

// Orders yields every sales order of the system as a canonical order, page
// by page: it reads A_SalesOrder with $expand and follows the server's
// __next links. The iteration stops at the first error, which it yields.
// It is meant for reconciliation, not for the flows' hot path.
func (c *Client) Orders(ctx context.Context) iter.Seq2[canonical.Order, error] {
	const op = "Orders"
	return func(yield func(canonical.Order, error) bool) {
		pages := httpkit.PagesByLink[odata.SalesOrder](ctx, c.http, op, salesOrderService+"A_SalesOrder?$expand="+url.QueryEscape(orderExpand),
			httpkit.Paging{Items: "/d/results", Next: "/d/__next"})
		for e, err := range pages {
			if err != nil {
				if connector.CodeOf(err) == connector.CodeUnknown {
					err = connector.NewError(connector.CodeInternal, c.system, op, err)
				}
				yield(canonical.Order{}, err)
				return
			}
			o := c.order(&e)
			if err := c.readExtensions(op, &e, &o); err != nil {
				yield(canonical.Order{}, err)
				return
			}
			if !yield(o, nil) {
				return
			}
		}
	}
}
