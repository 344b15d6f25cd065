package sapemu

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

type deliveryRec struct {
	number   string
	entity   odata.OutbDelivery
	shipment canonical.Shipment
	issued   bool
	bill     string
}

type billRec struct {
	number    string
	reference string // delivery or customer return
	salesDoc  string
	inv       canonical.Invoice
}

type returnRec struct {
	number string
	entity odata.CustomerReturn
}

func duplicate(w http.ResponseWriter, prop, key string) {
	writeError(w, http.StatusBadRequest, odata.NewError("YY1/DUPLICATE_REFERENCE",
		fmt.Sprintf("A document with reference key %q exists already", key),
		odata.ErrorDetail{Code: "YY1/DUPLICATE_REFERENCE", Message: "exists already", PropertyRef: prop, Severity: "error"}))
}

func missing(w http.ResponseWriter, prop string) {
	writeError(w, http.StatusBadRequest, odata.NewError("YY1/REFERENCE", prop+" is required",
		odata.ErrorDetail{Code: "YY1/REFERENCE", Message: "is required", PropertyRef: prop, Severity: "error"}))
}

func notFound(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotFound, odata.NewError("/IWBEP/CM_MGW_RT/020", what+" does not exist"))
}

// lineOf returns the canonical line ID of a sales order item number.
func (rec *orderRec) lineOf(item string) string {
	n, err := strconv.Atoi(item)
	if err != nil || n%10 != 0 || n/10-1 < 0 || n/10-1 >= len(rec.items) {
		return ""
	}
	return rec.items[n/10-1]
}

func (s *Server) createDelivery(w http.ResponseWriter, r *http.Request, _ string) {
	var e odata.OutbDelivery
	if !decodeBody(w, r, &e) {
		return
	}
	if e.IdempotencyKey == "" {
		missing(w, "YY1_IdempotencyKey_DLH")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.dlvByKey[e.IdempotencyKey]; dup {
		duplicate(w, "YY1_IdempotencyKey_DLH", e.IdempotencyKey)
		return
	}
	sh := canonical.Shipment{ID: e.ShipmentID, Version: 1, FulfillmentOrderID: e.FulfillmentOrderID, Warehouse: e.ShippingPoint,
		Carrier: canonical.Carrier{SCAC: e.Carrier}, ShippedAt: e.ActualGoodsMovementDate.Time, FinalForFulfillment: e.Final}
	if e.TrackingNumbers != "" {
		sh.TrackingNumbers = strings.Split(e.TrackingNumbers, ",")
	}
	if e.Items != nil {
		for _, it := range e.Items.Results {
			rec := s.orders[it.ReferenceSDDocument]
			if rec == nil {
				notFound(w, "Sales order "+it.ReferenceSDDocument)
				return
			}
			sh.OrderID = rec.orderID
			sh.Lines = append(sh.Lines, canonical.ShipmentLine{ID: it.ShipmentLineID, OrderLineID: rec.lineOf(it.ReferenceSDDocumentItem),
				FulfillmentLineID: it.FulfillmentLineID, Item: canonical.ItemRef{SKU: it.Material},
				Quantity: canonical.Quantity{Value: it.ActualDeliveryQuantity.Decimal, Unit: canonical.Unit(it.DeliveryQuantityUnit)}})
		}
	}
	if err := sh.Validate(); err != nil {
		writeConnectorError(w, invalid(err), func(p string) string { return p })
		return
	}
	rec := &deliveryRec{number: strconv.Itoa(s.nextDLV), shipment: sh}
	s.nextDLV++
	e.DeliveryDocument, e.OverallGoodsMovementStatus = rec.number, "A"
	rec.entity = e
	s.dlv[rec.number], s.dlvByKey[e.IdempotencyKey] = rec, rec
	writeJSON(w, http.StatusCreated, odata.Entity[odata.OutbDelivery]{D: s.deliveryEntity(rec)})
}

func (s *Server) deliveryEntity(rec *deliveryRec) odata.OutbDelivery {
	e := rec.entity
	uri := Root + OutboundDeliveryService + "/A_OutbDeliveryHeader('" + rec.number + "')"
	e.Metadata = &odata.Metadata{ID: uri, URI: uri, Type: "API_OUTBOUND_DELIVERY_SRV.A_OutbDeliveryHeaderType"}
	if rec.issued {
		e.OverallGoodsMovementStatus, e.BillingDocument = "C", rec.bill
	}
	return e
}

func (s *Server) getDeliveries(w http.ResponseWriter, r *http.Request, _ string) {
	prop, value, ok, err := filterEq(r.URL.Query())
	if err != nil || !ok || prop != "YY1_IdempotencyKey_DLH" {
		writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", "only $filter=YY1_IdempotencyKey_DLH eq '...' is supported"))
		return
	}
	s.mu.Lock()
	out := []odata.OutbDelivery{}
	if rec := s.dlvByKey[value]; rec != nil {
		out = append(out, s.deliveryEntity(rec))
	}
	s.mu.Unlock()
	page(s, w, r, out)
}

// postGoodsIssue is the function import PostGoodsIssue: it posts the
// delivery's goods issue, which bills it at once (an assumption: billing
// runs right after goods issue, as a billing job would). Posting an issued
// delivery again answers the issued delivery.
func (s *Server) postGoodsIssue(w http.ResponseWriter, r *http.Request, _ string) {
	number, _, err := keyOf("x(" + r.URL.Query().Get("DeliveryDocument") + ")")
	if err != nil {
		writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", "DeliveryDocument must be a quoted string"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.dlv[number]
	if rec == nil {
		notFound(w, "Delivery "+number)
		return
	}
	if !rec.issued {
		inv, err := s.m.PostShipment(r.Context(), rec.entity.IdempotencyKey, rec.shipment)
		if err != nil {
			writeConnectorError(w, err, func(p string) string { return p })
			return
		}
		rec.bill = s.addBill(inv, rec.number, s.byOrder[rec.shipment.OrderID])
		rec.issued = true
	}
	writeJSON(w, http.StatusOK, odata.Entity[odata.OutbDelivery]{D: s.deliveryEntity(rec)})
}

// addBill records a billing document for inv; the caller holds s.mu.
func (s *Server) addBill(inv canonical.Invoice, reference string, order *orderRec) string {
	if b := s.billByID[inv.ID]; b != nil {
		return b.number
	}
	b := &billRec{number: strconv.Itoa(s.nextBill), reference: reference, inv: inv}
	if order != nil {
		b.salesDoc = order.number
	}
	s.nextBill++
	s.bills[b.number] = b
	s.billByID[inv.ID] = b
	return b.number
}

func (s *Server) billEntity(b *billRec) odata.BillingDocument {
	inv := &b.inv
	uri := Root + BillingDocumentService + "/A_BillingDocument('" + b.number + "')"
	e := odata.BillingDocument{Metadata: &odata.Metadata{ID: uri, URI: uri, Type: "API_BILLING_DOCUMENT_SRV.A_BillingDocumentType"},
		BillingDocument: b.number, BillingDocumentType: "F2", SDDocumentCategory: "M", BillingDocumentDate: odata.Date{Time: inv.InvoiceDate},
		SoldToParty: inv.BillTo.ID, PayerParty: inv.BillTo.ID, CustomerPaymentTerms: inv.PaymentTerms, TransactionCurrency: string(inv.Currency),
		TotalNetAmount: odata.Dec(inv.Totals.Subtotal.Amount), TotalTaxAmount: odata.Dec(inv.Totals.Tax.Amount),
		TotalChargeAmount: odata.Dec(inv.Totals.Charges.Amount), NetDueDate: odata.Date{Time: inv.DueDate}, ReferenceDocument: b.reference}
	if inv.Kind == canonical.InvoiceCreditMemo {
		e.BillingDocumentType, e.SDDocumentCategory = "G2", "O"
		if o := s.billByID[inv.CreditsInvoiceID]; o != nil {
			e.CreditedInvoice = o.number
		}
	}
	if len(inv.Taxes) > 0 {
		e.Taxes = inv.Taxes[0].Jurisdiction
	}
	items := []odata.BillingDocumentItem{}
	for i, l := range inv.Lines {
		items = append(items, odata.BillingDocumentItem{BillingDocumentItem: itemNumber(i), Material: l.Item.SKU,
			BillingQuantity: odata.Dec(l.Quantity.Value), BillingQuantityUnit: string(l.Quantity.Unit), NetAmount: odata.Dec(l.Amount.Amount),
			SalesDocument: b.salesDoc, ReferenceSDDocument: b.reference, OrderLineID: l.OrderLineID,
			PricingElements: &odata.List[odata.PricingElement]{Results: []odata.PricingElement{{ConditionType: "PPR0",
				ConditionRateValue: odata.Dec(l.UnitPrice.Amount), ConditionCurrency: string(l.UnitPrice.Currency)}}}})
	}
	e.Items = &odata.List[odata.BillingDocumentItem]{Results: items}
	return e
}

func (s *Server) getBillingDocuments(w http.ResponseWriter, r *http.Request, resource string) {
	key, single, err := keyOf(resource)
	if err != nil || !single {
		writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", "read A_BillingDocument('number')"))
		return
	}
	s.mu.Lock()
	b := s.bills[key]
	var e odata.BillingDocument
	if b != nil {
		e = s.billEntity(b)
	}
	s.mu.Unlock()
	if b == nil {
		notFound(w, "Billing document "+key)
		return
	}
	writeJSON(w, http.StatusOK, odata.Entity[odata.BillingDocument]{D: e})
}

func (s *Server) createReturn(w http.ResponseWriter, r *http.Request, _ string) {
	var e odata.CustomerReturn
	if !decodeBody(w, r, &e) {
		return
	}
	if e.IdempotencyKey == "" {
		missing(w, "YY1_IdempotencyKey_SDH")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.retByKey[e.IdempotencyKey]; dup {
		duplicate(w, "YY1_IdempotencyKey_SDH", e.IdempotencyKey)
		return
	}
	order := s.orders[e.ReferenceSDDocument]
	if order == nil {
		notFound(w, "Sales order "+e.ReferenceSDDocument)
		return
	}
	ret := canonical.Return{ID: e.ReturnID, Version: 1, RMANumber: e.PurchaseOrderByCustomer, OrderID: order.orderID,
		Customer: canonical.PartyRef{ID: e.SoldToParty}, Warehouse: e.Warehouse, AuthorizedAt: e.AuthorizedAt.Time, ReceivedAt: e.ReceivedAt.Time}
	if e.Items != nil {
		for _, it := range e.Items.Results {
			l := canonical.ReturnLine{ID: it.LineID, OrderLineID: order.lineOf(it.ReferenceSDDocumentItem), Item: canonical.ItemRef{SKU: it.Material},
				Authorized: canonical.Quantity{Value: it.RequestedQuantity.Decimal, Unit: canonical.Unit(it.RequestedQuantityUnit)},
				Condition:  canonical.ReturnCondition(it.Condition), Disposition: canonical.Disposition(it.Disposition), Reason: it.ReturnReason}
			if !it.ReceivedQuantity.IsZero() {
				l.Received = canonical.Quantity{Value: it.ReceivedQuantity.Decimal, Unit: l.Authorized.Unit}
			}
			ret.Lines = append(ret.Lines, l)
		}
	}
	if err := ret.Validate(); err != nil {
		writeConnectorError(w, invalid(err), func(p string) string { return p })
		return
	}
	memo, err := s.m.PostReturn(r.Context(), e.IdempotencyKey, ret)
	if err != nil {
		writeConnectorError(w, err, func(p string) string { return p })
		return
	}
	rec := &returnRec{number: strconv.Itoa(s.nextRet)}
	s.nextRet++
	e.CustomerReturn, e.CustomerReturnType = rec.number, "CBAR"
	e.CreditMemo = s.addBill(memo, rec.number, order)
	uri := Root + CustomerReturnService + "/A_CustomerReturn('" + rec.number + "')"
	e.Metadata = &odata.Metadata{ID: uri, URI: uri, Type: "API_CUSTOMER_RETURN_SRV.A_CustomerReturnType"}
	rec.entity = e
	s.rets[rec.number], s.retByKey[e.IdempotencyKey] = rec, rec
	writeJSON(w, http.StatusCreated, odata.Entity[odata.CustomerReturn]{D: e})
}

func (s *Server) getReturns(w http.ResponseWriter, r *http.Request, _ string) {
	prop, value, ok, err := filterEq(r.URL.Query())
	if err != nil || !ok || prop != "YY1_IdempotencyKey_SDH" {
		writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", "only $filter=YY1_IdempotencyKey_SDH eq '...' is supported"))
		return
	}
	s.mu.Lock()
	out := []odata.CustomerReturn{}
	if rec := s.retByKey[value]; rec != nil {
		out = append(out, rec.entity)
	}
	s.mu.Unlock()
	page(s, w, r, out)
}

func (s *Server) createMaterialDocument(w http.ResponseWriter, r *http.Request, _ string) {
	var e odata.MaterialDocument
	if !decodeBody(w, r, &e) {
		return
	}
	if e.IdempotencyKey == "" {
		missing(w, "YY1_IdempotencyKey_MDH")
		return
	}
	var ps []canonical.InventoryPosition
	if e.Items != nil {
		for _, it := range e.Items.Results {
			u := canonical.Unit(it.EntryUnit)
			p := canonical.InventoryPosition{Item: canonical.ItemRef{SKU: it.Material}, Location: it.Plant, Lot: it.Batch,
				Status: canonical.InventoryStatus(it.Status), OnHand: canonical.Quantity{Value: it.QuantityInEntryUnit.Decimal, Unit: u},
				Allocated: canonical.Quantity{Value: it.Allocated.Decimal, Unit: u}, Available: canonical.Quantity{Value: it.Available.Decimal, Unit: u},
				Inbound: canonical.Quantity{Value: it.Inbound.Decimal, Unit: u}, AsOf: it.AsOf.Time}
			if err := p.Kind.UnmarshalText([]byte(it.Kind)); err != nil {
				writeError(w, http.StatusBadRequest, odata.NewError("YY1/KIND", err.Error(),
					odata.ErrorDetail{Code: "YY1/KIND", Message: err.Error(), PropertyRef: "YY1_PositionKind_MDI", Severity: "error"}))
				return
			}
			seq, err := strconv.ParseInt(it.Sequence, 10, 64)
			if err != nil {
				writeError(w, http.StatusBadRequest, odata.NewError("YY1/SEQUENCE", "YY1_Sequence_MDI is not an integer"))
				return
			}
			p.Sequence = seq
			ps = append(ps, p)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.mats[e.IdempotencyKey]; dup {
		duplicate(w, "YY1_IdempotencyKey_MDH", e.IdempotencyKey)
		return
	}
	if err := s.m.ApplyInventory(r.Context(), e.IdempotencyKey, ps); err != nil {
		writeConnectorError(w, err, func(p string) string { return p })
		return
	}
	e.MaterialDocument, e.MaterialDocumentYear = strconv.Itoa(s.nextMat), strconv.Itoa(s.cfg.Now().Year())
	s.nextMat++
	uri := Root + MaterialDocumentService + "/A_MaterialDocumentHeader(MaterialDocumentYear='" + e.MaterialDocumentYear + "',MaterialDocument='" + e.MaterialDocument + "')"
	e.Metadata = &odata.Metadata{ID: uri, URI: uri, Type: "API_MATERIAL_DOCUMENT_SRV.A_MaterialDocumentHeaderType"}
	s.mats[e.IdempotencyKey] = e
	writeJSON(w, http.StatusCreated, odata.Entity[odata.MaterialDocument]{D: e})
}

func (s *Server) getMaterialDocuments(w http.ResponseWriter, r *http.Request, _ string) {
	prop, value, ok, err := filterEq(r.URL.Query())
	if err != nil || !ok || prop != "YY1_IdempotencyKey_MDH" {
		writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", "only $filter=YY1_IdempotencyKey_MDH eq '...' is supported"))
		return
	}
	s.mu.Lock()
	out := []odata.MaterialDocument{}
	if e, ok := s.mats[value]; ok {
		out = append(out, e)
	}
	s.mu.Unlock()
	page(s, w, r, out)
}
