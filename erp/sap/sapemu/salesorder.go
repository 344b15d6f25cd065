package sapemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp/sap/internal/odata"
)

// orderRec is one sales order: its number, the canonical order it holds,
// the ack of its last acceptance, and its change counter (the ETag).
type orderRec struct {
	number   string
	orderID  string
	key      string
	hash     string
	hashes   map[string]string // every key the order was saved with → its request hash
	ack      canonical.OrderAck
	expected map[string]canonical.Money // line ID → price the customer expects (EDI1)
	items    []string                   // line IDs in item order
	// custom and itemCustom are the custom (YY1_) properties the order
	// and its items (by line ID) were created with, served back as they
	// came.
	custom     map[string]json.RawMessage
	itemCustom map[string]map[string]json.RawMessage
	created    time.Time
	changed    time.Time
	changes    int
}

// Rejection and block codes the emulator writes.
const (
	rejectionReason = "Z1" // SalesDocumentRjcnReason of a line the ERP rejected
	cancelReason    = "Z2" // SalesDocumentRjcnReason of a line cancelled in full
)

// blockCodes maps hold kinds other than credit to DeliveryBlockReason.
var blockCodes = map[canonical.HoldKind]string{canonical.HoldDeliveryBlock: "01", canonical.HoldPricing: "Z2",
	canonical.HoldTax: "Z3", canonical.HoldApproval: "Z4"}

func itemNumber(i int) string { return strconv.Itoa(10 * (i + 1)) }

// orderFromEntity builds the canonical order a deep insert describes.
func orderFromEntity(e odata.SalesOrder) (canonical.Order, map[string]canonical.Money) {
	o := canonical.Order{ID: e.PurchaseOrderByCustomer, Version: 1, SoldTo: canonical.PartyRef{ID: e.SoldToParty},
		ShipTo: canonical.PartyRef{ID: e.SoldToParty}, Currency: canonical.Currency(e.TransactionCurrency),
		PaymentTerms: e.CustomerPaymentTerms, RequestedDeliveryDate: e.RequestedDeliveryDate.Time, ShipComplete: e.CompleteDeliveryIsDefined}
	if v, err := strconv.ParseInt(e.OrderVersion, 10, 64); err == nil {
		o.Version = v
	}
	if e.Partners != nil {
		for _, p := range e.Partners.Results {
			if p.PartnerFunction == "SH" {
				o.ShipTo.ID = p.Customer
			}
		}
	}
	expected := map[string]canonical.Money{}
	if e.Items != nil {
		for i, it := range e.Items.Results {
			l := canonical.OrderLine{ID: it.LineID, Item: canonical.ItemRef{SKU: it.Material},
				Quantity: canonical.Quantity{Value: it.RequestedQuantity.Decimal, Unit: canonical.Unit(it.RequestedQuantityISOUnit)}}
			if l.ID == "" {
				l.ID = itemNumber(i)
			}
			// Without an EDI1 condition the customer expects no price:
			// the ERP prices the line (its PPR0).
			l.UnitPrice = canonical.NewMoney(canonical.Decimal{}, o.Currency)
			if it.PricingElements != nil {
				for _, pe := range it.PricingElements.Results {
					if pe.ConditionType == "EDI1" {
						l.UnitPrice = canonical.NewMoney(pe.ConditionRateValue.Decimal, canonical.Currency(pe.ConditionCurrency))
						expected[l.ID] = l.UnitPrice
					}
				}
			}
			o.Lines = append(o.Lines, l)
		}
	}
	return o, expected
}

func (s *Server) simulateSalesOrder(w http.ResponseWriter, r *http.Request, _ string) {
	var e odata.SalesOrder
	if !decodeBody(w, r, &e) {
		return
	}
	o, expected := orderFromEntity(e)
	ack, err := s.m.ValidateOrder(r.Context(), &o)
	if err != nil {
		writeConnectorError(w, err, odata.PropertyRef)
		return
	}
	rec := &orderRec{orderID: o.ID, ack: ack, expected: expected, created: ack.AckedAt, changed: ack.AckedAt}
	for _, l := range o.Lines {
		rec.items = append(rec.items, l.ID)
	}
	writeJSON(w, http.StatusOK, odata.Entity[odata.SalesOrder]{D: s.entity(rec, &o)})
}

func (s *Server) createSalesOrder(w http.ResponseWriter, r *http.Request, _ string) {
	var e odata.SalesOrder
	if !decodeBody(w, r, &e) {
		return
	}
	if e.IdempotencyKey == "" {
		writeError(w, http.StatusBadRequest, odata.NewError("YY1/REFERENCE", "YY1_IdempotencyKey_SDH is required",
			odata.ErrorDetail{Code: "YY1/REFERENCE", Message: "is required", PropertyRef: "YY1_IdempotencyKey_SDH", Severity: "error"}))
		return
	}
	o, expected := orderFromEntity(e)
	// The uniqueness check of the reference key, as a customer's BAdI
	// would make it: under the lock, so two concurrent creates with one key
	// cannot both pass.
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byKey[e.IdempotencyKey]; dup {
		writeError(w, http.StatusBadRequest, odata.NewError("YY1/DUPLICATE_REFERENCE",
			fmt.Sprintf("A sales order with reference key %q exists already", e.IdempotencyKey),
			odata.ErrorDetail{Code: "YY1/DUPLICATE_REFERENCE", Message: "exists already", PropertyRef: "YY1_IdempotencyKey_SDH", Severity: "error"}))
		return
	}
	ack, err := s.m.AcceptOrder(r.Context(), e.IdempotencyKey, &o)
	if err != nil {
		writeConnectorError(w, err, odata.PropertyRef)
		return
	}
	rec := s.byOrder[o.ID]
	now := s.cfg.Now()
	if rec == nil {
		rec = &orderRec{number: strconv.Itoa(s.nextSO), orderID: o.ID, created: now}
		s.nextSO++
		s.orders[rec.number] = rec
		s.byOrder[o.ID] = rec
	}
	rec.key, rec.hash, rec.ack, rec.expected = e.IdempotencyKey, e.RequestHash, ack, expected
	if rec.hashes == nil {
		rec.hashes = map[string]string{}
	}
	rec.hashes[e.IdempotencyKey] = e.RequestHash
	rec.items = rec.items[:0]
	for _, l := range o.Lines {
		rec.items = append(rec.items, l.ID)
	}
	rec.custom, rec.itemCustom = e.Custom, nil
	if e.Items != nil {
		for i, it := range e.Items.Results {
			if len(it.Custom) == 0 || i >= len(o.Lines) {
				continue
			}
			if rec.itemCustom == nil {
				rec.itemCustom = map[string]map[string]json.RawMessage{}
			}
			rec.itemCustom[o.Lines[i].ID] = it.Custom
		}
	}
	rec.touch(now)
	s.byKey[e.IdempotencyKey] = rec
	cur, err := s.m.GetOrder(r.Context(), o.ID)
	if err != nil {
		cur = o
	}
	w.Header().Set("Location", s.orderURI(rec.number))
	writeJSON(w, http.StatusCreated, odata.Entity[odata.SalesOrder]{D: s.entity(rec, &cur)})
}

func (rec *orderRec) touch(now time.Time) {
	rec.changes++
	if !now.After(rec.changed) {
		now = rec.changed.Add(time.Microsecond)
	}
	rec.changed = now
}

func (rec *orderRec) etag() string {
	return `W/"datetimeoffset'` + url.QueryEscape(rec.changed.UTC().Format("2006-01-02T15:04:05.0000000Z")) + `'"`
}

func (s *Server) orderURI(number string) string {
	return Root + SalesOrderService + "/A_SalesOrder('" + number + "')"
}

// entity renders the sales order of rec whose current canonical state is o.
// The caller holds s.mu, or rec is not shared.
func (s *Server) entity(rec *orderRec, o *canonical.Order) odata.SalesOrder {
	ack := &rec.ack
	e := odata.SalesOrder{SalesOrder: rec.number, SalesOrderType: "OR", SalesOrganization: "1010", DistributionChannel: "10",
		OrganizationDivision: "00", SoldToParty: o.SoldTo.ID, PurchaseOrderByCustomer: o.ID, TransactionCurrency: string(o.Currency),
		CustomerPaymentTerms: o.PaymentTerms, RequestedDeliveryDate: odata.Date{Time: o.RequestedDeliveryDate},
		CompleteDeliveryIsDefined: o.ShipComplete, CreationDate: odata.Date{Time: ack.AckedAt},
		LastChangeDateTime: odata.Date{Time: rec.changed}, IdempotencyKey: rec.key, RequestHash: rec.hash,
		OrderVersion: strconv.FormatInt(ack.OrderVersion, 10), TotalCreditCheckStatus: "A",
		Partners: &odata.List[odata.Partner]{Results: []odata.Partner{{PartnerFunction: "SH", Customer: o.ShipTo.ID}}},
		Custom:   rec.custom}
	if rec.number != "" {
		e.Metadata = &odata.Metadata{ID: s.orderURI(rec.number), URI: s.orderURI(rec.number), Type: "API_SALES_ORDER_SRV.A_SalesOrderType", ETag: rec.etag()}
	}
	if ack.Totals != nil {
		net, tax, ch := odata.Dec(ack.Totals.Subtotal.Amount), odata.Dec(ack.Totals.Tax.Amount), odata.Dec(ack.Totals.Charges.Amount)
		e.TotalNetAmount, e.TotalTaxAmount, e.TotalChargeAmount = &net, &tax, &ch
	}
	holds := o.Holds
	if rec.number == "" {
		holds = ack.Holds
	}
	for _, h := range holds {
		if !h.ReleasedAt.IsZero() {
			continue
		}
		if h.Kind == canonical.HoldCredit {
			e.TotalCreditCheckStatus = "B"
		} else if e.DeliveryBlockReason == "" {
			e.DeliveryBlockReason = blockCodes[h.Kind]
		}
	}
	results := map[string]canonical.AckLine{}
	for _, al := range ack.Lines {
		results[al.LineID] = al
	}
	items := []odata.SalesOrderItem{}
	rejected, shippedLines, fullyShipped := 0, 0, 0
	for i, l := range o.Lines {
		bs := &l.Buckets
		it := odata.SalesOrderItem{SalesOrder: rec.number, SalesOrderItem: itemNumber(i), Material: l.Item.SKU,
			RequestedQuantity: odata.Dec(l.Quantity.Value), RequestedQuantityUnit: string(l.Quantity.Unit),
			RequestedQuantityISOUnit: string(l.Quantity.Unit), LineID: l.ID, SDProcessStatus: "A", Custom: rec.itemCustom[l.ID]}
		price := l.UnitPrice
		if al, ok := results[l.ID]; ok && al.UnitPrice != nil {
			price = *al.UnitPrice
		}
		net, err := l.Quantity.Value.Mul(price.Amount)
		if err == nil {
			n := odata.Dec(net.Round(2))
			it.NetAmount = &n
		}
		pes := []odata.PricingElement{{ConditionType: "PPR0", ConditionRateValue: odata.Dec(price.Amount), ConditionCurrency: string(o.Currency)}}
		if exp, ok := rec.expected[l.ID]; ok {
			pes = append(pes, odata.PricingElement{ConditionType: "EDI1", ConditionRateValue: odata.Dec(exp.Amount), ConditionCurrency: string(exp.Currency)})
		}
		it.PricingElements = &odata.List[odata.PricingElement]{Results: pes}
		ordered := l.Quantity.Value
		confirmed := ordered
		if results[l.ID].Result == canonical.LineRejected || bs.Get(canonical.BucketRejected).IsPos() {
			it.SalesDocumentRjcnReason = rejectionReason
			confirmed = canonical.Decimal{}
			rejected++
		} else if b := bs.Get(canonical.BucketBackordered); b.IsPos() {
			confirmed, _ = ordered.Sub(b)
		} else if al := results[l.ID]; al.Result == canonical.LineBackordered && al.Quantity != nil {
			confirmed, _ = ordered.Sub(al.Quantity.Value)
		}
		shipped := bs.Get(canonical.BucketShipped)
		cancelled := bs.Get(canonical.BucketCancelled)
		if cancelled.Cmp(ordered) >= 0 && it.SalesDocumentRjcnReason == "" {
			it.SalesDocumentRjcnReason = cancelReason
		}
		open, _ := confirmed.Sub(shipped)
		open, _ = open.Sub(cancelled)
		if open.IsNeg() {
			open = canonical.Decimal{}
		}
		if shipped.IsPos() {
			shippedLines++
			it.SDProcessStatus = "B"
			if !open.IsPos() {
				fullyShipped++
				it.SDProcessStatus = "C"
			}
		}
		it.ScheduleLines = &odata.List[odata.ScheduleLine]{Results: []odata.ScheduleLine{{ScheduleLine: "1",
			ConfirmedDeliveryDate: odata.Date{Time: results[l.ID].PromisedDate}, ScheduleLineOrderQuantity: odata.Dec(ordered),
			ConfdOrderQtyByMatlAvailCheck: odata.Dec(confirmed), DeliveredQtyInOrderQtyUnit: odata.Dec(shipped),
			OpenConfdDelivQtyInOrdQtyUnit: odata.Dec(open)}}}
		c, inv, ret := odata.Dec(cancelled), odata.Dec(bs.Get(canonical.BucketInvoiced)), odata.Dec(bs.Get(canonical.BucketReturned))
		it.CancelledQty, it.InvoicedQty, it.ReturnedQty = &c, &inv, &ret
		items = append(items, it)
	}
	e.Items = &odata.List[odata.SalesOrderItem]{Results: items}
	switch {
	case rejected == 0:
		e.OverallSDDocumentRejectionSts = "A"
	case rejected == len(items):
		e.OverallSDDocumentRejectionSts = "C"
	default:
		e.OverallSDDocumentRejectionSts = "B"
	}
	switch {
	case fullyShipped == len(items)-rejected && fullyShipped > 0:
		e.OverallSDProcessStatus = "C"
	case shippedLines > 0:
		e.OverallSDProcessStatus = "B"
	default:
		e.OverallSDProcessStatus = "A"
	}
	return e
}

func (s *Server) getSalesOrders(w http.ResponseWriter, r *http.Request, resource string) {
	key, single, err := keyOf(resource)
	if err != nil {
		writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", err.Error()))
		return
	}
	var recs []*orderRec
	s.mu.Lock()
	switch {
	case single:
		if rec := s.orders[key]; rec != nil {
			recs = append(recs, rec)
		}
	default:
		prop, value, filtered, err := filterEq(r.URL.Query())
		if err != nil {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", err.Error()))
			return
		}
		switch {
		case !filtered:
			for _, rec := range s.orders {
				recs = append(recs, rec)
			}
			slices.SortFunc(recs, func(a, b *orderRec) int { return strings.Compare(a.number, b.number) })
		case prop == "PurchaseOrderByCustomer":
			if rec := s.byOrder[value]; rec != nil {
				recs = append(recs, rec)
			}
		case prop == "YY1_IdempotencyKey_SDH":
			if rec := s.byKey[value]; rec != nil {
				recs = append(recs, rec)
			}
		default:
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, odata.NewError("/IWBEP/CM_MGW_RT/004", "$filter on "+prop+" is not supported"))
			return
		}
	}
	out := make([]odata.SalesOrder, 0, len(recs))
	_, byKey, _, _ := filterEq(r.URL.Query())
	for _, rec := range recs {
		o, err := s.m.GetOrder(r.Context(), rec.orderID)
		if err != nil {
			continue
		}
		e := s.entity(rec, &o)
		if h, ok := rec.hashes[byKey]; ok {
			// Found by an older key: show that key and its request, as a
			// filter on a multi-valued reference would.
			e.IdempotencyKey, e.RequestHash = byKey, h
		}
		out = append(out, e)
	}
	s.mu.Unlock()
	if single {
		if len(out) == 0 {
			writeError(w, http.StatusNotFound, odata.NewError("/IWBEP/CM_MGW_RT/020", "Resource not found for segment 'A_SalesOrder'"))
			return
		}
		writeJSON(w, http.StatusOK, odata.Entity[odata.SalesOrder]{D: out[0]})
		return
	}
	page(s, w, r, out)
}
