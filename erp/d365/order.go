package d365

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/erp/d365/internal/odata"
	"github.com/distsync/distsync/erp/internal/ackoutcome"
)

// Entity sets and navigations of the sales order.
const (
	headerSet = "SalesOrderHeadersV2"
	linesNav  = "SalesOrderLines"
)

// SalesStatus is a value of the F&O SalesStatus enumeration, the
// SalesOrderStatus of a header and the SalesOrderLineStatus of a line.
type SalesStatus string

// The SalesStatus values.
const (
	StatusBackorder SalesStatus = odata.StatusBackorder // open
	StatusDelivered SalesStatus = odata.StatusDelivered
	StatusInvoiced  SalesStatus = odata.StatusInvoiced
	StatusCanceled  SalesStatus = odata.StatusCanceled
)

// holdKinds maps DSyncHoldCode to hold kinds; an unknown code is a
// delivery block.
var holdKinds = map[string]canonical.HoldKind{"DLV": canonical.HoldDeliveryBlock, "PRICE": canonical.HoldPricing,
	"TAX": canonical.HoldTax, "APPROVAL": canonical.HoldApproval}

// fingerprint is the hash of the order a key was used with, stored in
// DSyncRequestHash so that a replay with another order is a conflict.
func fingerprint(o *canonical.Order) string {
	b, _ := json.Marshal(o)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// salesOrder returns the header and lines of o for company.
func salesOrder(company string, o *canonical.Order, key, hash string) (odata.SalesOrderHeader, []odata.SalesOrderLine) {
	h := odata.SalesOrderHeader{DataAreaID: company, OrderingCustomerAccountNumber: o.SoldTo.ID, InvoiceCustomerAccountNumber: o.SoldTo.ID,
		CurrencyCode: string(o.Currency), CustomersOrderReference: o.ID, CustomerRequisitionNumber: key, PaymentTermsName: o.PaymentTerms,
		RequestedReceiptDate: odata.Date{Time: o.RequestedDeliveryDate}, DeliveryAddressLocationID: o.ShipTo.ID,
		ShipComplete: odata.NoYes(o.ShipComplete), OrderVersion: o.Version, RequestHash: hash}
	lines := make([]odata.SalesOrderLine, 0, len(o.Lines))
	for i, l := range o.Lines {
		lines = append(lines, odata.SalesOrderLine{DataAreaID: company, LineCreationSequenceNumber: i + 1, ItemNumber: l.Item.SKU,
			OrderedSalesQuantity: odata.Dec(l.Quantity.Value), SalesUnitSymbol: string(l.Quantity.Unit),
			SalesPrice: odata.Dec(l.UnitPrice.Amount), LineID: l.ID})
	}
	return h, lines
}

func dec(d *odata.Decimal) canonical.Decimal {
	if d == nil {
		return canonical.Decimal{}
	}
	return d.Decimal
}

func (c *Client) holds(h *odata.SalesOrderHeader) []canonical.Hold {
	var hs []canonical.Hold
	if h.CreditHold {
		hs = append(hs, canonical.Hold{Kind: canonical.HoldCredit, Code: "CREDIT", Reason: "credit limit exceeded (DSyncCreditHold Yes)"})
	}
	if h.HoldCode != "" {
		k, ok := holdKinds[h.HoldCode]
		if !ok {
			k = canonical.HoldDeliveryBlock
		}
		hs = append(hs, canonical.Hold{Kind: k, Code: h.HoldCode, Reason: "order hold " + h.HoldCode})
	}
	return hs
}

func (c *Client) refs(h *odata.SalesOrderHeader) canonical.Refs {
	if h.SalesOrderNumber == "" {
		return nil
	}
	return canonical.Refs{{System: c.system, Type: RefSalesOrder, Value: h.DataAreaID + "/" + h.SalesOrderNumber, Version: h.ETag}}
}

func totals(h *odata.SalesOrderHeader) *canonical.Totals {
	if h.NetAmount == nil {
		return nil
	}
	cur := canonical.Currency(h.CurrencyCode)
	t := canonical.Totals{Subtotal: canonical.NewMoney(h.NetAmount.Decimal, cur), Tax: canonical.NewMoney(dec(h.TaxAmount), cur),
		Charges: canonical.NewMoney(dec(h.ChargeAmount), cur)}
	sum, _ := t.Subtotal.Amount.Add(t.Tax.Amount)
	sum, _ = sum.Add(t.Charges.Amount)
	t.Total = canonical.NewMoney(sum, cur)
	return &t
}

// ack reads the ERP's verdict from a sales order: a line with
// DSyncRejected Yes is rejected, a SalesPrice other than the price the
// customer sent (DSyncExpectedPrice) is a price change, a confirmed
// quantity below the ordered one is a backorder; DSyncCreditHold and
// DSyncHoldCode are holds.
func (c *Client) ack(h *odata.SalesOrderHeader) canonical.OrderAck {
	cur := canonical.Currency(h.CurrencyCode)
	refs := c.refs(h)
	for i := range refs {
		refs[i].Version = "" // the ETag changes; the ack of a key does not
	}
	a := canonical.OrderAck{OrderID: h.CustomersOrderReference, OrderVersion: h.OrderVersion, Refs: refs, Currency: cur,
		AckedAt: h.AcceptedAt.Time, Holds: c.holds(h), Totals: totals(h)}
	changed, rejected := 0, 0
	for i := range h.Lines {
		l := &h.Lines[i]
		al := canonical.AckLine{LineID: l.LineID, Result: canonical.LineAccepted, PromisedDate: l.ConfirmedShippingDate.Time}
		confirmed := l.OrderedSalesQuantity.Decimal
		if l.ConfirmedQuantity != nil {
			confirmed = l.ConfirmedQuantity.Decimal
		}
		switch {
		case bool(l.Rejected):
			al.Result, al.PromisedDate = canonical.LineRejected, time.Time{}
			rejected++
		case l.ExpectedPrice != nil && !l.ExpectedPrice.Equal(l.SalesPrice.Decimal):
			p := canonical.NewMoney(l.SalesPrice.Decimal, cur)
			al.Result, al.UnitPrice = canonical.LinePriceChanged, &p
			changed++
		case confirmed.Less(l.OrderedSalesQuantity.Decimal):
			missing, _ := l.OrderedSalesQuantity.Sub(confirmed)
			q := canonical.Quantity{Value: missing, Unit: canonical.Unit(l.SalesUnitSymbol)}
			al.Result, al.Quantity = canonical.LineBackordered, &q
			changed++
		}
		a.Lines = append(a.Lines, al)
	}
	a.Outcome = ackoutcome.Of(false, len(a.Lines), rejected, changed, len(a.Holds) > 0)
	return a
}

// order reads the canonical order of a sales order with its buckets:
// ordered from OrderedSalesQuantity, confirmed and backordered from
// DSyncConfirmedQuantity, rejected from DSyncRejected, and the shipped,
// cancelled, invoiced and returned quantities of the DSync fields.
func (c *Client) order(h *odata.SalesOrderHeader) canonical.Order {
	cur := canonical.Currency(h.CurrencyCode)
	o := canonical.Order{ID: h.CustomersOrderReference, Version: h.OrderVersion, Refs: c.refs(h), SoldTo: canonical.PartyRef{ID: h.OrderingCustomerAccountNumber},
		ShipTo: canonical.PartyRef{ID: h.DeliveryAddressLocationID}, Currency: cur, PaymentTerms: h.PaymentTermsName,
		RequestedDeliveryDate: h.RequestedReceiptDate.Time, ShipComplete: bool(h.ShipComplete), Holds: c.holds(h), Totals: totals(h),
		SubmittedAt: h.AcceptedAt.Time}
	rejected := 0
	for i := range h.Lines {
		l := &h.Lines[i]
		ordered := l.OrderedSalesQuantity.Decimal
		ol := canonical.OrderLine{ID: l.LineID, Item: canonical.ItemRef{SKU: l.ItemNumber},
			Quantity: canonical.Quantity{Value: ordered, Unit: canonical.Unit(l.SalesUnitSymbol)}, UnitPrice: canonical.NewMoney(l.SalesPrice.Decimal, cur),
			PromisedDate: l.ConfirmedShippingDate.Time, Refs: canonical.Refs{{System: c.system, Type: "inventoryLot", Value: l.InventoryLotID}}}
		ol.Buckets.Set(canonical.BucketOrdered, ordered)
		if bool(l.Rejected) && dec(l.CancelledQuantity).Less(ordered) {
			ol.Buckets.Set(canonical.BucketRejected, ordered)
			rejected++
		} else {
			ol.Buckets.Set(canonical.BucketConfirmed, ordered)
			if l.ConfirmedQuantity != nil {
				if back, _ := ordered.Sub(l.ConfirmedQuantity.Decimal); back.IsPos() {
					ol.Buckets.Set(canonical.BucketBackordered, back)
				}
			}
		}
		shipped, cancelled, invoiced := statusQuantities(l)
		ol.Buckets.Set(canonical.BucketShipped, shipped)
		ol.Buckets.Set(canonical.BucketCancelled, cancelled)
		ol.Buckets.Set(canonical.BucketInvoiced, invoiced)
		ol.Buckets.Set(canonical.BucketReturned, dec(l.ReturnedQuantity))
		o.Lines = append(o.Lines, ol)
	}
	switch {
	case rejected > 0 && rejected == len(o.Lines):
		o.RejectedAt = h.AcceptedAt.Time
	case len(o.Holds) == 0:
		o.AcceptedAt = h.AcceptedAt.Time
	}
	return o
}

// statusQuantities returns a line's shipped, cancelled and invoiced
// quantities: the DSync fields when the environment has them, else what
// the standard SalesOrderLineStatus tells (Delivered: all shipped;
// Invoiced: all shipped and invoiced; Canceled: all cancelled).
func statusQuantities(l *odata.SalesOrderLine) (shipped, cancelled, invoiced canonical.Decimal) {
	shipped, cancelled, invoiced = dec(l.ShippedQuantity), dec(l.CancelledQuantity), dec(l.InvoicedQuantity)
	all := l.OrderedSalesQuantity.Decimal
	switch SalesStatus(l.SalesOrderLineStatus) {
	case StatusInvoiced:
		if l.InvoicedQuantity == nil {
			invoiced = all
		}
		fallthrough
	case StatusDelivered:
		if l.ShippedQuantity == nil {
			shipped = all
		}
	case StatusCanceled:
		if l.CancelledQuantity == nil && !l.Rejected {
			cancelled = all
		}
	}
	return shipped, cancelled, invoiced
}

// checkOrder validates o as the contracts ask before anything is sent.
func (c *Client) checkOrder(op string, o *canonical.Order) error {
	if o == nil {
		return c.invalid(op, errors.New("d365: order is nil"))
	}
	if err := o.Validate(); err != nil {
		return c.invalid(op, err)
	}
	return nil
}

// findOrder returns the sales order of the configured company whose prop
// is value, with its lines.
func (c *Client) findOrder(ctx context.Context, op, prop, value string) (odata.SalesOrderHeader, bool, error) {
	return first[odata.SalesOrderHeader](ctx, c, op, c.query(headerSet, prop, odata.String(value), linesNav))
}

// SimulateAction is the bound action that prices and checks a sales order
// without saving it (an assumed extension; F&O has no standard simulation
// of a sales order over OData).
const SimulateAction = headerSet + "/Microsoft.Dynamics.DataEntities.DSyncSimulate"

// ValidateOrder posts the header with its lines to SimulateAction, which
// prices and checks them without saving, and returns the verdict read
// from the simulated order.
func (c *Client) ValidateOrder(ctx context.Context, o *canonical.Order) (canonical.OrderAck, error) {
	const op = "ValidateOrder"
	if err := c.checkOrder(op, o); err != nil {
		return canonical.OrderAck{}, err
	}
	h, lines := salesOrder(c.company, o, "", "")
	if err := c.writeExtensions(op, o, &h, lines); err != nil {
		return canonical.OrderAck{}, err
	}
	h.Lines = lines
	req, err := c.http.NewRequest(op, "POST", SimulateAction, map[string]any{"salesOrder": h})
	if err != nil {
		return canonical.OrderAck{}, err
	}
	resp, err := c.http.Do(ctx, op, req)
	if err != nil {
		return canonical.OrderAck{}, err
	}
	var out odata.SalesOrderHeader
	if err := c.decode(op, resp.Body, &out); err != nil {
		return canonical.OrderAck{}, err
	}
	return c.ack(&out), nil
}

// createOrder sends the header and its lines as one $batch changeset and
// returns the sales order created.
func (c *Client) createOrder(ctx context.Context, op string, h odata.SalesOrderHeader, lines []odata.SalesOrderLine) (odata.SalesOrderHeader, error) {
	parts, err := changeset(headerSet, linesNav, h, anys(lines))
	if err != nil {
		return h, connector.NewError(connector.CodeInternal, c.system, op, err)
	}
	out, err := c.batch(ctx, op, parts)
	if err != nil {
		return h, err
	}
	var created odata.SalesOrderHeader
	if err := c.decode(op, out[0].Body, &created); err != nil {
		return h, err
	}
	created.Lines = make([]odata.SalesOrderLine, len(out)-1)
	for i, p := range out[1:] {
		if err := c.decode(op, p.Body, &created.Lines[i]); err != nil {
			return h, err
		}
	}
	return created, nil
}

// AcceptOrder creates the sales order: a read by the key
// (CustomerRequisitionNumber, in the configured company, cross-company)
// finds an earlier call's order; else the header and its lines go as one
// $batch changeset. See the package documentation for the idempotency
// scheme and its window.
func (c *Client) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	const op = "AcceptOrder"
	if err := c.checkOrder(op, o); err != nil {
		return canonical.OrderAck{}, err
	}
	if key == "" {
		return canonical.OrderAck{}, c.invalid(op, errors.New("d365: idempotency key is empty"))
	}
	hash := fingerprint(o)
	h, lines := salesOrder(c.company, o, key, hash)
	if err := c.writeExtensions(op, o, &h, lines); err != nil {
		return canonical.OrderAck{}, err
	}
	for attempt := 0; ; attempt++ {
		found, ok, err := c.findOrder(ctx, op, "CustomerRequisitionNumber", key)
		if err != nil {
			return canonical.OrderAck{}, err
		}
		if ok {
			if found.RequestHash != hash || found.CustomersOrderReference != o.ID {
				return canonical.OrderAck{}, connector.NewError(connector.CodeConflict, c.system, op,
					fmt.Errorf("d365: key %q was used for another order (sales order %s/%s)", key, found.DataAreaID, found.SalesOrderNumber))
			}
			return c.ack(&found), nil
		}
		created, err := c.createOrder(ctx, op, h, lines)
		if err != nil {
			if attempt == 0 && duplicate(err) {
				continue // created concurrently: read it
			}
			return canonical.OrderAck{}, err
		}
		return c.ack(&created), nil
	}
}

// GetOrder reads the sales order whose CustomersOrderReference is the
// canonical order ID, with its lines.
func (c *Client) GetOrder(ctx context.Context, orderID string) (canonical.Order, error) {
	const op = "GetOrder"
	h, err := c.orderFor(ctx, op, orderID)
	if err != nil {
		return canonical.Order{}, err
	}
	return c.orderWithExtensions(op, &h)
}

// orderWithExtensions reads the canonical order of h with the extensions
// of its mapped custom fields.
func (c *Client) orderWithExtensions(op string, h *odata.SalesOrderHeader) (canonical.Order, error) {
	o := c.order(h)
	if err := c.readExtensions(op, h, &o); err != nil {
		return canonical.Order{}, err
	}
	return o, nil
}

// anys returns the elements of s as a []any.
func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// orderFor finds the sales order of a canonical order ID for op:
// CodeNotFound when there is none.
func (c *Client) orderFor(ctx context.Context, op, orderID string) (odata.SalesOrderHeader, error) {
	h, ok, err := c.findOrder(ctx, op, "CustomersOrderReference", orderID)
	if err == nil && !ok {
		err = connector.NewError(connector.CodeNotFound, c.system, op, fmt.Errorf("d365: no sales order for order %q in company %s", orderID, c.company))
	}
	return h, err
}

// Orders yields the sales orders of the configured company as canonical
// orders, page by page (following @odata.nextLink); a non-empty status
// keeps those whose SalesOrderStatus is status, filtered with the
// type-qualified literal F&O needs
// (Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'). The iteration
// stops at the first error, which it yields. It is meant for
// reconciliation, not for the flows' hot path.
func (c *Client) Orders(ctx context.Context, status SalesStatus) iter.Seq2[canonical.Order, error] {
	const op = "Orders"
	ref := c.query(headerSet, "", "", linesNav)
	if status != "" {
		ref = c.query(headerSet, "SalesOrderStatus", odata.Enum("SalesStatus", string(status)), linesNav)
	}
	return func(yield func(canonical.Order, error) bool) {
		for h, err := range httpkit.PagesByLink[odata.SalesOrderHeader](ctx, c.http, op, ref, paging) {
			if err != nil {
				if connector.CodeOf(err) == connector.CodeUnknown {
					err = connector.NewError(connector.CodeInternal, c.system, op, err)
				}
				yield(canonical.Order{}, err)
				return
			}
			o, err := c.orderWithExtensions(op, &h)
			if err != nil {
				yield(canonical.Order{}, err)
				return
			}
			if !yield(o, nil) {
				return
			}
		}
	}
}
