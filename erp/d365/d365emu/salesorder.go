package d365emu

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp/d365/internal/odata"
)

// Entity names as the Infolog of a failed write names them.
const (
	headerEntity = "SalesOrderHeaderV2Entity"
	lineEntity   = "SalesOrderLineV2Entity"
)

// orderRec is one sales order: its company and number, the canonical
// order it holds, the ack of its last acceptance, the InventoryLotId of
// each line, and its change counter (the ETag).
type orderRec struct {
	company  string
	number   string
	orderID  string
	key      string
	hash     string
	hashes   map[string]string // every key the order was saved with → its request hash
	ack      canonical.OrderAck
	expected map[string]canonical.Money // line ID → price the customer expects
	lineIDs  []string                   // canonical line IDs in line order
	lots     map[string]string          // canonical line ID → InventoryLotId
	shipFrom map[string]string          // canonical line ID → warehouse that shipped it
	// custom and lineCustom are the custom fields (odata.IsCustom) the
	// header and its lines (by canonical line ID) were saved with, served
	// back as they came.
	custom     map[string]json.RawMessage
	lineCustom map[string]map[string]json.RawMessage
	changes    int
}

// keepCustom keeps the custom fields of h and its lines, whose canonical
// lines are lines, in rec.
func (rec *orderRec) keepCustom(h *odata.SalesOrderHeader, lines []canonical.OrderLine) {
	rec.custom, rec.lineCustom = h.Custom, nil
	for i := range min(len(h.Lines), len(lines)) {
		if len(h.Lines[i].Custom) == 0 {
			continue
		}
		if rec.lineCustom == nil {
			rec.lineCustom = map[string]map[string]json.RawMessage{}
		}
		rec.lineCustom[lines[i].ID] = h.Lines[i].Custom
	}
}

// holdCodes maps hold kinds other than credit to DSyncHoldCode.
var holdCodes = map[canonical.HoldKind]string{canonical.HoldDeliveryBlock: "DLV", canonical.HoldPricing: "PRICE",
	canonical.HoldTax: "TAX", canonical.HoldApproval: "APPROVAL"}

func (rec *orderRec) etag() string {
	return `W/"` + base64.StdEncoding.EncodeToString([]byte("1,"+strconv.Itoa(rec.changes))) + `"`
}

// lineOf returns the canonical line ID of an InventoryLotId of the order.
func (rec *orderRec) lineOf(lot string) string {
	for id, l := range rec.lots {
		if l == lot {
			return id
		}
	}
	return ""
}

// orderFromEntity builds the canonical order a header and its lines
// describe.
func orderFromEntity(h odata.SalesOrderHeader) (canonical.Order, map[string]canonical.Money) {
	cur := canonical.Currency(h.CurrencyCode)
	o := canonical.Order{ID: h.CustomersOrderReference, Version: max(h.OrderVersion, 1), SoldTo: canonical.PartyRef{ID: h.OrderingCustomerAccountNumber},
		ShipTo: canonical.PartyRef{ID: h.DeliveryAddressLocationID}, Currency: cur, PaymentTerms: h.PaymentTermsName,
		RequestedDeliveryDate: h.RequestedReceiptDate.Time, ShipComplete: bool(h.ShipComplete)}
	if o.ShipTo.ID == "" {
		o.ShipTo.ID = o.SoldTo.ID
	}
	expected := map[string]canonical.Money{}
	for i, l := range h.Lines {
		ol := canonical.OrderLine{ID: l.LineID, Item: canonical.ItemRef{SKU: l.ItemNumber},
			Quantity:  canonical.Quantity{Value: l.OrderedSalesQuantity.Decimal, Unit: canonical.Unit(l.SalesUnitSymbol)},
			UnitPrice: canonical.NewMoney(l.SalesPrice.Decimal, cur)}
		if ol.ID == "" {
			ol.ID = strconv.Itoa(i + 1)
		}
		// A SalesPrice sent is the price the customer expects; zero lets
		// the ERP price the line.
		if !l.SalesPrice.IsZero() {
			expected[ol.ID] = ol.UnitPrice
		}
		o.Lines = append(o.Lines, ol)
	}
	return o, expected
}

// lineField names the entity of a canonical field path in an Infolog.
func entityOf(err error) string {
	if strings.Contains(err.Error(), "lines[") {
		return lineEntity
	}
	return headerEntity
}

// createOrder saves a sales order header with its lines (one changeset).
// The caller does not hold s.mu.
func (s *Server) createOrder(r *http.Request, body []byte) (any, []any, *odata.ErrorBody, int) {
	var h odata.SalesOrderHeader
	if err := json.Unmarshal(body, &h); err != nil {
		e := odata.NewError("The request body is not valid for SalesOrderHeaderV2: "+err.Error(), "", "")
		return nil, nil, &e, http.StatusBadRequest
	}
	if h.DataAreaID == "" || h.CustomerRequisitionNumber == "" || len(h.Lines) == 0 {
		e := odata.WriteFailed(headerEntity, "dataAreaId, Customer requisition and at least one line are required.")
		return nil, nil, &e, http.StatusBadRequest
	}
	o, expected := orderFromEntity(h)
	// The uniqueness check of the customer requisition that package d365
	// assumes: under the lock that saves the order, so two creates with
	// one key cannot both pass.
	s.mu.Lock()
	defer s.mu.Unlock()
	if dup := s.byKey[h.CustomerRequisitionNumber]; dup != nil {
		e := odata.WriteFailed(headerEntity, fmt.Sprintf("Customer requisition '%s' is already used on sales order %s.", h.CustomerRequisitionNumber, dup.number))
		return nil, nil, &e, http.StatusBadRequest
	}
	ack, err := s.m.AcceptOrder(r.Context(), h.CustomerRequisitionNumber, &o)
	if err != nil {
		status, e := connectorError(entityOf(err), err)
		return nil, nil, &e, status
	}
	rec := s.byOrder[o.ID]
	if rec == nil {
		rec = &orderRec{company: strings.ToLower(h.DataAreaID), number: fmt.Sprintf("SO-%06d", s.nextSO), orderID: o.ID,
			hashes: map[string]string{}, lots: map[string]string{}, shipFrom: map[string]string{}}
		s.nextSO++
		s.orders[rec.company+"/"+rec.number] = rec
		s.byOrder[o.ID] = rec
	}
	rec.key, rec.hash, rec.ack, rec.expected = h.CustomerRequisitionNumber, h.RequestHash, ack, expected
	rec.hashes[h.CustomerRequisitionNumber] = h.RequestHash
	rec.keepCustom(&h, o.Lines)
	rec.lineIDs = rec.lineIDs[:0]
	for _, l := range o.Lines {
		rec.lineIDs = append(rec.lineIDs, l.ID)
		if rec.lots[l.ID] == "" {
			rec.lots[l.ID] = fmt.Sprintf("LOT%09d", s.nextLot)
			s.nextLot++
			s.lots[rec.lots[l.ID]] = rec
		}
	}
	rec.changes++
	s.byKey[h.CustomerRequisitionNumber] = rec
	cur, err := s.m.GetOrder(r.Context(), o.ID)
	if err != nil {
		cur = o
	}
	e := s.entity(rec, &cur)
	lines := make([]any, 0, len(e.Lines))
	for _, l := range e.Lines {
		lines = append(lines, l)
	}
	e.Lines = nil
	return e, lines, nil, http.StatusCreated
}

// connectorError is the status and F&O body of an error of the business
// logic.
func connectorError(entity string, err error) (int, odata.ErrorBody) {
	rec := &recorder{header: http.Header{}}
	writeConnectorError(rec, entity, err)
	var b odata.ErrorBody
	_ = json.Unmarshal(rec.body, &b)
	return rec.status, b
}

// entity renders the sales order of rec whose current canonical state is
// o. The caller holds s.mu.
func (s *Server) entity(rec *orderRec, o *canonical.Order) odata.SalesOrderHeader {
	ack := &rec.ack
	e := odata.SalesOrderHeader{ETag: rec.etag(), DataAreaID: rec.company, SalesOrderNumber: rec.number,
		SalesOrderStatus: odata.StatusBackorder, ReleaseStatus: odata.ReleaseNone, OrderingCustomerAccountNumber: o.SoldTo.ID,
		InvoiceCustomerAccountNumber: o.SoldTo.ID, CurrencyCode: string(o.Currency), CustomersOrderReference: o.ID,
		CustomerRequisitionNumber: rec.key, PaymentTermsName: o.PaymentTerms, RequestedReceiptDate: odata.Date{Time: o.RequestedDeliveryDate},
		DeliveryAddressLocationID: o.ShipTo.ID, ShipComplete: odata.NoYes(o.ShipComplete), OrderVersion: ack.OrderVersion,
		RequestHash: rec.hash, AcceptedAt: odata.Date{Time: ack.AckedAt}, Custom: rec.custom}
	if ack.Totals != nil {
		net, tax, ch := odata.Dec(ack.Totals.Subtotal.Amount), odata.Dec(ack.Totals.Tax.Amount), odata.Dec(ack.Totals.Charges.Amount)
		e.NetAmount, e.TaxAmount, e.ChargeAmount = &net, &tax, &ch
	}
	for _, h := range o.Holds {
		if !h.ReleasedAt.IsZero() {
			continue
		}
		if h.Kind == canonical.HoldCredit {
			e.CreditHold = true
		} else if e.HoldCode == "" {
			e.HoldCode = holdCodes[h.Kind]
		}
	}
	results := map[string]canonical.AckLine{}
	for _, al := range ack.Lines {
		results[al.LineID] = al
	}
	closed, shipped, delivered, invoiced := 0, 0, 0, 0
	for i, l := range o.Lines {
		bs := &l.Buckets
		price := l.UnitPrice
		if al, ok := results[l.ID]; ok && al.UnitPrice != nil {
			price = *al.UnitPrice
		}
		ln := odata.SalesOrderLine{DataAreaID: rec.company, SalesOrderNumber: rec.number, InventoryLotID: rec.lots[l.ID],
			LineCreationSequenceNumber: i + 1, ItemNumber: l.Item.SKU, OrderedSalesQuantity: odata.Dec(l.Quantity.Value),
			SalesUnitSymbol: string(l.Quantity.Unit), SalesPrice: odata.Dec(price.Amount), ShippingWarehouseID: rec.shipFrom[l.ID],
			SalesOrderLineStatus: odata.StatusBackorder, ConfirmedShippingDate: odata.Date{Time: results[l.ID].PromisedDate}, LineID: l.ID,
			Custom: rec.lineCustom[l.ID]}
		ln.ETag = rec.etag()
		if net, err := l.Quantity.Value.Mul(price.Amount); err == nil {
			n := odata.Dec(net.Round(2))
			ln.LineAmount = &n
		}
		if exp, ok := rec.expected[l.ID]; ok {
			x := odata.Dec(exp.Amount)
			ln.ExpectedPrice = &x
		}
		ordered := l.Quantity.Value
		confirmed := ordered
		switch al := results[l.ID]; {
		case al.Result == canonical.LineRejected || bs.Get(canonical.BucketRejected).IsPos():
			ln.Rejected, confirmed = true, canonical.Decimal{}
		case bs.Get(canonical.BucketBackordered).IsPos():
			confirmed, _ = ordered.Sub(bs.Get(canonical.BucketBackordered))
		case al.Result == canonical.LineBackordered && al.Quantity != nil:
			confirmed, _ = ordered.Sub(al.Quantity.Value)
		}
		sh, cancelled, inv := bs.Get(canonical.BucketShipped), bs.Get(canonical.BucketCancelled), bs.Get(canonical.BucketInvoiced)
		open, _ := ordered.Sub(sh)
		open, _ = open.Sub(cancelled)
		switch {
		case bool(ln.Rejected) || cancelled.Cmp(ordered) >= 0:
			ln.SalesOrderLineStatus = odata.StatusCanceled
			closed++
		case inv.IsPos() && !open.IsPos():
			ln.SalesOrderLineStatus = odata.StatusInvoiced
			invoiced++
		case sh.IsPos() && !open.IsPos():
			ln.SalesOrderLineStatus = odata.StatusDelivered
			delivered++
		}
		if sh.IsPos() {
			shipped++
		}
		c, shq, cq, iq, rq := odata.Dec(confirmed), odata.Dec(sh), odata.Dec(cancelled), odata.Dec(inv), odata.Dec(bs.Get(canonical.BucketReturned))
		ln.ConfirmedQuantity, ln.ShippedQuantity, ln.CancelledQuantity, ln.InvoicedQuantity, ln.ReturnedQuantity = &c, &shq, &cq, &iq, &rq
		e.Lines = append(e.Lines, ln)
	}
	n := len(o.Lines)
	switch {
	case n > 0 && closed == n:
		e.SalesOrderStatus = odata.StatusCanceled
	case n > 0 && invoiced > 0 && invoiced+closed == n:
		e.SalesOrderStatus = odata.StatusInvoiced
	case n > 0 && delivered+invoiced > 0 && delivered+invoiced+closed == n:
		e.SalesOrderStatus = odata.StatusDelivered
	}
	switch {
	case shipped > 0 && shipped+closed >= n:
		e.ReleaseStatus = odata.ReleaseReleased
	case shipped > 0:
		e.ReleaseStatus = odata.ReleasePartially
	}
	return e
}

// getOrders serves SalesOrderHeadersV2: one by its key, or the set with
// $filter on CustomersOrderReference, CustomerRequisitionNumber,
// SalesOrderStatus (a type-qualified SalesStatus literal), ReleaseStatus
// and dataAreaId, paged; $expand=SalesOrderLines adds the lines.
func (s *Server) getOrders(w http.ResponseWriter, r *http.Request, pred string) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	expand := strings.Contains(r.URL.Query().Get("$expand"), "SalesOrderLines")
	if pred != "" {
		key, err := odata.ParseKey(pred)
		if err != nil || key["dataAreaId"] == "" || key["SalesOrderNumber"] == "" || len(key) != 2 {
			badRequest(w, fmt.Sprintf("The key %s of SalesOrderHeadersV2 must be (dataAreaId='...',SalesOrderNumber='...').", pred))
			return
		}
		s.mu.Lock()
		rec := s.orders[strings.ToLower(key["dataAreaId"])+"/"+key["SalesOrderNumber"]]
		var e odata.SalesOrderHeader
		found := false
		if rec != nil {
			if o, err := s.m.GetOrder(r.Context(), rec.orderID); err == nil {
				e, found = s.entity(rec, &o), true
			}
		}
		s.mu.Unlock()
		if !found {
			writeError(w, http.StatusNotFound, odata.NewError("Resource not found for the segment 'SalesOrderHeadersV2'.", "", ""))
			return
		}
		if !expand {
			e.Lines = nil
		}
		w.Header().Set("ETag", e.ETag)
		b, _ := selectJSON(e, q.selected)
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
		_, _ = w.Write(b)
		return
	}
	for prop := range q.eq {
		switch prop {
		case "dataAreaId", "CustomersOrderReference", "CustomerRequisitionNumber", "SalesOrderStatus", "ReleaseStatus":
		default:
			badRequest(w, "$filter on "+prop+" is not supported by the emulator.")
			return
		}
	}
	s.mu.Lock()
	var recs []*orderRec
	switch {
	case q.eq["CustomerRequisitionNumber"] != "":
		if rec := s.byKey[q.eq["CustomerRequisitionNumber"]]; rec != nil {
			recs = append(recs, rec)
		}
	case q.eq["CustomersOrderReference"] != "":
		if rec := s.byOrder[q.eq["CustomersOrderReference"]]; rec != nil {
			recs = append(recs, rec)
		}
	default:
		for _, rec := range s.orders {
			recs = append(recs, rec)
		}
		slices.SortFunc(recs, func(a, b *orderRec) int { return strings.Compare(a.company+a.number, b.company+b.number) })
	}
	out := make([]odata.SalesOrderHeader, 0, len(recs))
	for _, rec := range recs {
		if !s.sees(q, rec.company) {
			continue
		}
		if v, ok := q.eq["CustomersOrderReference"]; ok && rec.orderID != v {
			continue
		}
		o, err := s.m.GetOrder(r.Context(), rec.orderID)
		if err != nil {
			continue
		}
		e := s.entity(rec, &o)
		if k, ok := q.eq["CustomerRequisitionNumber"]; ok {
			// Found by an older key: show that key and its request.
			e.CustomerRequisitionNumber, e.RequestHash = k, rec.hashes[k]
		}
		if v, ok := q.eq["SalesOrderStatus"]; ok && e.SalesOrderStatus != v {
			continue
		}
		if v, ok := q.eq["ReleaseStatus"]; ok && e.ReleaseStatus != v {
			continue
		}
		if !expand {
			e.Lines = nil
		}
		out = append(out, e)
	}
	s.mu.Unlock()
	page(s, w, r, q, "SalesOrderHeadersV2", out)
}

// patchOrder updates a sales order header under optimistic concurrency:
// If-Match must carry the current ETag (428 without it, 412 when stale).
// The update it takes is a cancellation of open quantities (extension
// fields); it answers 204 with the new ETag.
func (s *Server) patchOrder(w http.ResponseWriter, r *http.Request, pred string) {
	key, err := odata.ParseKey(pred)
	if err != nil || key["dataAreaId"] == "" || key["SalesOrderNumber"] == "" {
		badRequest(w, "PATCH needs SalesOrderHeadersV2(dataAreaId='...',SalesOrderNumber='...').")
		return
	}
	var body odata.Cancellation
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		badRequest(w, "The request body is not valid for SalesOrderHeaderV2: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.orders[strings.ToLower(key["dataAreaId"])+"/"+key["SalesOrderNumber"]]
	if rec == nil {
		writeError(w, http.StatusNotFound, odata.NewError("Resource not found for the segment 'SalesOrderHeadersV2'.", "", ""))
		return
	}
	switch match := r.Header.Get("If-Match"); {
	case match == "":
		writeError(w, http.StatusPreconditionRequired, odata.NewError("The request must carry If-Match for SalesOrderHeadersV2.", "", ""))
		return
	case match != "*" && match != rec.etag():
		writeError(w, http.StatusPreconditionFailed, odata.NewError("An error has occurred.",
			"The record has been updated by another user since it was read (ETag mismatch).", "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataConcurrencyException"))
		return
	}
	if body.Key == "" {
		writeError(w, http.StatusBadRequest, odata.WriteFailed(headerEntity, "DSyncCancellationKey must be filled in."))
		return
	}
	o, err := s.m.GetOrder(r.Context(), rec.orderID)
	if err != nil {
		status, e := connectorError(headerEntity, err)
		writeError(w, status, e)
		return
	}
	c := connector.OrderCancellation{OrderID: rec.orderID, Reason: body.Reason}
	for i, part := range strings.Split(body.Request, ",") {
		lot, qty, ok := strings.Cut(part, ":")
		d, err := odata.ParseNumber(qty)
		line := rec.lineOf(lot)
		if !ok || err != nil || line == "" {
			writeError(w, http.StatusBadRequest, odata.WriteFailed(headerEntity, fmt.Sprintf("Entry %d '%s' of DSyncCancellationRequest is not InventoryLotId:quantity of a line of the order.", i, part)))
			return
		}
		unit := canonical.Unit("")
		if l := o.Line(line); l != nil {
			unit = l.Quantity.Unit
		}
		c.Lines = append(c.Lines, connector.LineQuantity{LineID: line, Quantity: canonical.Quantity{Value: d, Unit: unit}})
	}
	before := s.m.Counts().Cancellations
	if _, err := s.m.CancelOrderLines(r.Context(), body.Key, c); err != nil {
		status, e := connectorError(lineEntity, err)
		writeError(w, status, e)
		return
	}
	if s.m.Counts().Cancellations != before {
		rec.changes++
	}
	w.Header().Set("ETag", rec.etag())
	w.WriteHeader(http.StatusNoContent)
}

// recorder is a minimal http.ResponseWriter that keeps an answer.
type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body = append(r.body, b...)
	return len(b), nil
}
func (r *recorder) WriteHeader(status int) { r.status = status }

// simulate serves the DSyncSimulate action: the header with its lines
// ({"salesOrder":{...,"SalesOrderLines":[...]}}) priced and checked by the
// business logic without saving; the answer is the sales order as it
// would be, without a number.
func (s *Server) simulate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SalesOrder odata.SalesOrderHeader `json:"salesOrder"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		badRequest(w, "The parameters of DSyncSimulate are not valid: "+err.Error())
		return
	}
	o, expected := orderFromEntity(body.SalesOrder)
	ack, err := s.m.ValidateOrder(r.Context(), &o)
	if err != nil {
		status, e := connectorError(entityOf(err), err)
		writeError(w, status, e)
		return
	}
	rec := &orderRec{company: strings.ToLower(body.SalesOrder.DataAreaID), orderID: o.ID, ack: ack, expected: expected, lots: map[string]string{}, shipFrom: map[string]string{}}
	for _, l := range o.Lines {
		rec.lineIDs = append(rec.lineIDs, l.ID)
	}
	rec.keepCustom(&body.SalesOrder, o.Lines)
	o.Holds = append(o.Holds, ack.Holds...)
	s.mu.Lock()
	e := s.entity(rec, &o)
	s.mu.Unlock()
	e.ETag = ""
	writeJSON(w, http.StatusOK, e)
}
