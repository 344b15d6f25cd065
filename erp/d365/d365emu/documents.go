package d365emu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp/d365/internal/odata"
)

type slipRec struct {
	entity odata.PackingSlipHeader
}

type billRec struct {
	number string
	order  *orderRec
	inv    canonical.Invoice
}

func writeFailed(entity string, status int, text string) (any, []any, *odata.ErrorBody, int) {
	e := odata.WriteFailed(entity, text)
	return nil, nil, &e, status
}

func decodeFailed(entity string, err error) (any, []any, *odata.ErrorBody, int) {
	e := odata.NewError("The request body is not valid for "+entity+": "+err.Error(), "", "")
	return nil, nil, &e, http.StatusBadRequest
}

// createSlip posts a packing slip of a sales order: the shipment of the
// business logic, which invoices it at once (an assumption: invoicing
// runs right after the packing slip).
func (s *Server) createSlip(r *http.Request, body []byte) (any, []any, *odata.ErrorBody, int) {
	const entity = "SalesPackingSlipHeaderEntity"
	var h odata.PackingSlipHeader
	if err := json.Unmarshal(body, &h); err != nil {
		return decodeFailed(entity, err)
	}
	if h.IdempotencyKey == "" {
		return writeFailed(entity, http.StatusBadRequest, "DSyncIdempotencyKey must be filled in.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if dup := s.slips[h.IdempotencyKey]; dup != nil {
		return writeFailed(entity, http.StatusBadRequest, fmt.Sprintf("Reference '%s' is already used on packing slip %s.", h.IdempotencyKey, dup.entity.PackingSlipID))
	}
	rec := s.orders[strings.ToLower(h.DataAreaID)+"/"+h.SalesOrderNumber]
	if rec == nil {
		return writeFailed(entity, http.StatusNotFound, fmt.Sprintf("Sales order %s does not exist in company %s.", h.SalesOrderNumber, h.DataAreaID))
	}
	sh := canonical.Shipment{ID: h.ShipmentID, Version: 1, OrderID: rec.orderID, FulfillmentOrderID: h.FulfillmentOrderID,
		Carrier: canonical.Carrier{SCAC: h.CarrierCode}, ShippedAt: h.DeliveryDate.Time, FinalForFulfillment: bool(h.Final)}
	if h.TrackingNumbers != "" {
		sh.TrackingNumbers = strings.Split(h.TrackingNumbers, ",")
	}
	for _, l := range h.Lines {
		sh.Warehouse = l.ShippingWarehouseID
		sh.Lines = append(sh.Lines, canonical.ShipmentLine{ID: l.ShipmentLineID, OrderLineID: rec.lineOf(l.InventoryLotID),
			FulfillmentLineID: l.FulfillmentLineID, Item: canonical.ItemRef{SKU: l.ItemNumber},
			Quantity: canonical.Quantity{Value: l.DeliveredQuantity.Decimal, Unit: canonical.Unit(l.SalesUnitSymbol)}})
	}
	if err := sh.Validate(); err != nil {
		status, e := connectorError(entity, invalid(err))
		return nil, nil, &e, status
	}
	inv, err := s.m.PostShipment(r.Context(), h.IdempotencyKey, sh)
	if err != nil {
		status, e := connectorError(entity, err)
		return nil, nil, &e, status
	}
	for _, l := range h.Lines {
		rec.shipFrom[rec.lineOf(l.InventoryLotID)] = l.ShippingWarehouseID
	}
	rec.changes++
	h.PackingSlipID = fmt.Sprintf("PS-%06d", s.nextSlip)
	s.nextSlip++
	h.InvoiceNumber = s.addBill(inv, rec)
	lines := make([]any, 0, len(h.Lines))
	for _, l := range h.Lines {
		lines = append(lines, l)
	}
	s.slips[h.IdempotencyKey] = &slipRec{entity: h}
	out := h
	out.Lines = nil
	return out, lines, nil, http.StatusCreated
}

// addBill records an invoice or credit note; the caller holds s.mu.
func (s *Server) addBill(inv canonical.Invoice, order *orderRec) string {
	if b := s.billByID[inv.ID]; b != nil {
		return b.number
	}
	prefix := "CIV"
	if inv.Kind == canonical.InvoiceCreditMemo {
		prefix = "CCN"
	}
	b := &billRec{number: fmt.Sprintf("%s-%06d", prefix, s.nextBill), order: order, inv: inv}
	s.nextBill++
	s.bills[b.number] = b
	s.billByID[inv.ID] = b
	return b.number
}

// billEntity renders an invoice; a credit note has negative quantities
// and amounts, as F&O posts it.
func (s *Server) billEntity(b *billRec) odata.InvoiceHeader {
	inv := &b.inv
	sign := func(d canonical.Decimal) odata.Decimal {
		if inv.Kind == canonical.InvoiceCreditMemo {
			return odata.Dec(d.Neg())
		}
		return odata.Dec(d)
	}
	e := odata.InvoiceHeader{DataAreaID: b.order.company, InvoiceNumber: b.number, InvoiceDate: odata.Date{Time: inv.InvoiceDate},
		SalesOrderNumber: b.order.number, InvoiceCustomerAccountNumber: inv.BillTo.ID, CurrencyCode: string(inv.Currency),
		PaymentTermsName: inv.PaymentTerms, TotalInvoiceAmount: sign(inv.Totals.Total.Amount), TotalTaxAmount: sign(inv.Totals.Tax.Amount),
		TotalChargeAmount: sign(inv.Totals.Charges.Amount), DueDate: odata.Date{Time: inv.DueDate}}
	if inv.Kind == canonical.InvoiceCreditMemo {
		if o := s.billByID[inv.CreditsInvoiceID]; o != nil {
			e.CreditedInvoiceNumber = o.number
		}
	}
	if len(inv.Taxes) > 0 {
		e.TaxJurisdiction = inv.Taxes[0].Jurisdiction
	}
	for i, l := range inv.Lines {
		e.Lines = append(e.Lines, odata.InvoiceLine{LineNumber: i + 1, ItemNumber: l.Item.SKU, InvoicedQuantity: sign(l.Quantity.Value),
			SalesUnitSymbol: string(l.Quantity.Unit), SalesPrice: odata.Dec(l.UnitPrice.Amount), LineAmount: sign(l.Amount.Amount),
			InventoryLotID: b.order.lots[l.OrderLineID], OrderLineID: l.OrderLineID})
	}
	return e
}

// getInvoice serves SalesInvoiceHeadersV2(dataAreaId='..',InvoiceNumber='..')
// with its lines.
func (s *Server) getInvoice(w http.ResponseWriter, r *http.Request, pred string) {
	key, err := odata.ParseKey(pred)
	if err != nil || key["dataAreaId"] == "" || key["InvoiceNumber"] == "" {
		badRequest(w, "Read SalesInvoiceHeadersV2(dataAreaId='...',InvoiceNumber='...').")
		return
	}
	s.mu.Lock()
	b := s.bills[key["InvoiceNumber"]]
	var e odata.InvoiceHeader
	if b != nil && strings.EqualFold(b.order.company, key["dataAreaId"]) {
		e = s.billEntity(b)
	} else {
		b = nil
	}
	s.mu.Unlock()
	if b == nil {
		writeError(w, http.StatusNotFound, odata.NewError("Resource not found for the segment 'SalesInvoiceHeadersV2'.", "", ""))
		return
	}
	if !strings.Contains(r.URL.Query().Get("$expand"), "SalesInvoiceLines") {
		e.Lines = nil
	}
	writeJSON(w, http.StatusOK, e)
}

// byKeyFilter reads the query of a read by DSyncIdempotencyKey.
func byKeyFilter(w http.ResponseWriter, r *http.Request) (query, string, bool) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		badRequest(w, err.Error())
		return q, "", false
	}
	k, ok := q.eq["DSyncIdempotencyKey"]
	if !ok {
		badRequest(w, "The emulator reads this entity by $filter=DSyncIdempotencyKey eq '...' only.")
		return q, "", false
	}
	return q, k, true
}

func (s *Server) getSlips(w http.ResponseWriter, r *http.Request) {
	q, k, ok := byKeyFilter(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	out := []odata.PackingSlipHeader{}
	if rec := s.slips[k]; rec != nil && s.sees(q, rec.entity.DataAreaID) {
		e := rec.entity
		if !strings.Contains(r.URL.Query().Get("$expand"), "SalesPackingSlipLines") {
			e.Lines = nil
		}
		out = append(out, e)
	}
	s.mu.Unlock()
	page(s, w, r, q, "SalesPackingSlipHeaders", out)
}

// createReturn saves a return order of a sales order with what was
// received, which the business logic credits at once (an assumption: the
// arrival, registration and credit note of a return are collapsed into
// one step).
func (s *Server) createReturn(r *http.Request, body []byte) (any, []any, *odata.ErrorBody, int) {
	const entity = "ReturnOrderHeaderEntity"
	var h odata.ReturnOrderHeader
	if err := json.Unmarshal(body, &h); err != nil {
		return decodeFailed(entity, err)
	}
	if h.IdempotencyKey == "" {
		return writeFailed(entity, http.StatusBadRequest, "DSyncIdempotencyKey must be filled in.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if dup := s.rets[h.IdempotencyKey]; dup != nil {
		return writeFailed(entity, http.StatusBadRequest, fmt.Sprintf("Reference '%s' is already used on return order %s.", h.IdempotencyKey, dup.ReturnOrderNumber))
	}
	order := s.orders[strings.ToLower(h.DataAreaID)+"/"+h.OriginalSalesOrder]
	if order == nil {
		return writeFailed(entity, http.StatusNotFound, fmt.Sprintf("Sales order %s does not exist in company %s.", h.OriginalSalesOrder, h.DataAreaID))
	}
	ret := canonical.Return{ID: h.ReturnID, Version: 1, RMANumber: h.RMANumber, OrderID: order.orderID,
		Customer: canonical.PartyRef{ID: h.CustomerAccountNumber}, Warehouse: h.WarehouseID, AuthorizedAt: h.AuthorizedAt.Time, ReceivedAt: h.ReceivedAt.Time}
	for _, l := range h.Lines {
		rl := canonical.ReturnLine{ID: l.LineID, OrderLineID: order.lineOf(l.ReturnInventoryLotID), Item: canonical.ItemRef{SKU: l.ItemNumber},
			Authorized: canonical.Quantity{Value: l.ReturnQuantity.Neg(), Unit: canonical.Unit(l.SalesUnitSymbol)},
			Condition:  canonical.ReturnCondition(l.Condition), Disposition: canonical.Disposition(l.Disposition), Reason: l.ReturnReasonCodeID}
		if !l.ReceivedQuantity.IsZero() {
			rl.Received = canonical.Quantity{Value: l.ReceivedQuantity.Decimal, Unit: rl.Authorized.Unit}
		}
		ret.Lines = append(ret.Lines, rl)
	}
	if err := ret.Validate(); err != nil {
		status, e := connectorError(entity, invalid(err))
		return nil, nil, &e, status
	}
	memo, err := s.m.PostReturn(r.Context(), h.IdempotencyKey, ret)
	if err != nil {
		status, e := connectorError(entity, err)
		return nil, nil, &e, status
	}
	h.ReturnOrderNumber = fmt.Sprintf("RMA-%06d", s.nextRet)
	s.nextRet++
	h.CreditNoteNumber = s.addBill(memo, order)
	order.changes++
	lines := make([]any, 0, len(h.Lines))
	for _, l := range h.Lines {
		lines = append(lines, l)
	}
	saved := h
	s.rets[h.IdempotencyKey] = &saved
	out := h
	out.Lines = nil
	return out, lines, nil, http.StatusCreated
}

func (s *Server) getReturns(w http.ResponseWriter, r *http.Request) {
	q, k, ok := byKeyFilter(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	out := []odata.ReturnOrderHeader{}
	if h := s.rets[k]; h != nil && s.sees(q, h.DataAreaID) {
		e := *h
		if !strings.Contains(r.URL.Query().Get("$expand"), "ReturnOrderLines") {
			e.Lines = nil
		}
		out = append(out, e)
	}
	s.mu.Unlock()
	page(s, w, r, q, "ReturnOrderHeaders", out)
}

// createJournal posts a counting journal: the snapshots of the business
// logic's inventory, one entry per position.
func (s *Server) createJournal(r *http.Request, body []byte) (any, []any, *odata.ErrorBody, int) {
	const entity = "InventInventoryCountingJournalHeaderEntity"
	var h odata.CountingJournalHeader
	if err := json.Unmarshal(body, &h); err != nil {
		return decodeFailed(entity, err)
	}
	if h.IdempotencyKey == "" {
		return writeFailed(entity, http.StatusBadRequest, "DSyncIdempotencyKey must be filled in.")
	}
	var ps []canonical.InventoryPosition
	for i, l := range h.Lines {
		u := canonical.Unit(l.UnitSymbol)
		p := canonical.InventoryPosition{Item: canonical.ItemRef{SKU: l.ItemNumber}, Location: l.InventoryWarehouseID, Lot: l.ItemBatchNumber,
			Status: canonical.InventoryStatus(l.InventoryStatusID), OnHand: canonical.Quantity{Value: l.CountedQuantity.Decimal, Unit: u},
			Allocated: canonical.Quantity{Value: l.Allocated.Decimal, Unit: u}, Available: canonical.Quantity{Value: l.Available.Decimal, Unit: u},
			Inbound: canonical.Quantity{Value: l.Inbound.Decimal, Unit: u}, AsOf: l.AsOf.Time, Sequence: l.Sequence}
		if err := p.Kind.UnmarshalText([]byte(l.Kind)); err != nil {
			return writeFailed("InventInventoryCountingJournalEntryEntity", http.StatusBadRequest, fmt.Sprintf("Entry %d: DSyncPositionKind: %v", i, err))
		}
		ps = append(ps, p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if dup, ok := s.journals[h.IdempotencyKey]; ok {
		return writeFailed(entity, http.StatusBadRequest, fmt.Sprintf("Reference '%s' is already used on journal %s.", h.IdempotencyKey, dup.JournalNumber))
	}
	if err := s.m.ApplyInventory(r.Context(), h.IdempotencyKey, ps); err != nil {
		status, e := connectorError("InventInventoryCountingJournalEntryEntity", err)
		return nil, nil, &e, status
	}
	h.JournalNumber = fmt.Sprintf("ICJ-%06d", s.nextJour)
	s.nextJour++
	lines := make([]any, 0, len(h.Lines))
	for _, l := range h.Lines {
		lines = append(lines, l)
	}
	saved := h
	saved.Lines = nil
	s.journals[h.IdempotencyKey] = saved
	return saved, lines, nil, http.StatusCreated
}

func (s *Server) getJournals(w http.ResponseWriter, r *http.Request) {
	q, k, ok := byKeyFilter(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	out := []odata.CountingJournalHeader{}
	if h, ok := s.journals[k]; ok && s.sees(q, h.DataAreaID) {
		out = append(out, h)
	}
	s.mu.Unlock()
	page(s, w, r, q, "InventoryCountingJournalHeaders", out)
}
