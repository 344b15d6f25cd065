package salesforce

// This file owns the order feed: the SOQL query, its paging, the cursor on
// (LastModifiedDate, Id), and how Order records become canonical events.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
)

// Ref types of the connector's refs in [canonical.Refs], with System.
const (
	// RefOrder is the ref type of an Order ID ("801...").
	RefOrder = "order"
	// RefOrderNumber is the ref type of an Order's OrderNumber.
	RefOrderNumber = "order_number"
	// RefOpportunity is the ref type of the Opportunity an order was
	// converted from.
	RefOpportunity = "opportunity"
	// RefAccount is the ref type of an Account ID.
	RefAccount = "account"
)

// sfTime is Salesforce's datetime format in answers.
const sfTime = "2006-01-02T15:04:05.000-0700"

// orderFields and itemFields are the fields the feed's query selects.
const (
	orderFields = "Id, OrderNumber, AccountId, Account.AccountNumber, Account.Name, OpportunityId, " +
		"ActivatedDate, StatusCode, Type, PoNumber, CurrencyIsoCode, IsReductionOrder, OriginalOrderId, " +
		"Description, ShippingAddress, DistSync_Ship_To__c, DistSync_Warehouse__c, DistSync_RMA_Number__c, " +
		"LastModifiedDate"
	itemFields = "Id, PricebookEntryId, Product2.ProductCode, Product2.QuantityUnitOfMeasure, Quantity, " +
		"UnitPrice, OriginalOrderItemId, Description"
)

// feedQuery returns the SOQL of one feed read: activated orders not last
// modified by the integration user, after the cursor position, in
// (LastModifiedDate, Id) order.
// orderExtra and itemExtra are ", Field" lists of mapped custom fields.
func feedQuery(after time.Time, afterID, user string, limit int, orderExtra, itemExtra string) string {
	var b strings.Builder
	b.WriteString("SELECT " + orderFields + orderExtra + ", (SELECT " + itemFields + itemExtra + " FROM OrderItems) FROM Order WHERE StatusCode = 'Activated'")
	if user != "" {
		b.WriteString(" AND LastModifiedById != " + quote(user))
	}
	if afterID != "" {
		at := after.UTC().Format("2006-01-02T15:04:05.000Z")
		fmt.Fprintf(&b, " AND (LastModifiedDate > %s OR (LastModifiedDate = %s AND Id > %s))", at, at, quote(afterID))
	}
	fmt.Fprintf(&b, " ORDER BY LastModifiedDate, Id LIMIT %d", limit)
	return b.String()
}

// quote returns s as a SOQL string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// encodeCursor and parseCursor convert a feed position, the last
// record's (LastModifiedDate, Id), to and from a cursor
// "2026-07-09T10:00:00.000Z/801...".
func encodeCursor(at time.Time, id string) connector.Cursor {
	return connector.Cursor(at.UTC().Format("2006-01-02T15:04:05.000Z") + "/" + id)
}

func parseCursor(c connector.Cursor) (time.Time, string, error) {
	if c == "" {
		return time.Time{}, "", nil
	}
	ts, id, ok := strings.Cut(string(c), "/")
	at, err := time.Parse("2006-01-02T15:04:05.000Z", ts)
	// time.Parse takes variants (one-digit hours, a comma before the
	// fraction): a cursor is only what encodeCursor writes.
	if !ok || err != nil || !validID(id) || at.Format("2006-01-02T15:04:05.000Z") != ts {
		return time.Time{}, "", fmt.Errorf("salesforce: cursor %q is not LASTMODIFIEDDATE/ID", c)
	}
	return at, id, nil
}

// validID reports whether id looks like a Salesforce ID: 15 or 18
// letters and digits.
func validID(id string) bool {
	if len(id) != 15 && len(id) != 18 {
		return false
	}
	for _, r := range id {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// orderRecord is an Order record as the feed's query returns it.
type orderRecord struct {
	ID          string `json:"Id"`
	OrderNumber string
	AccountID   string `json:"AccountId"`
	Account     *struct {
		AccountNumber string
		Name          string
	}
	OpportunityID    string `json:"OpportunityId"`
	ActivatedDate    string
	StatusCode       string
	Type             string
	PoNumber         string
	CurrencyIsoCode  string
	IsReductionOrder bool
	OriginalOrderID  string `json:"OriginalOrderId"`
	Description      string
	ShippingAddress  *struct {
		Street     string `json:"street"`
		City       string `json:"city"`
		State      string `json:"state"`
		PostalCode string `json:"postalCode"`
		Country    string `json:"country"`
	}
	ShipTo           string `json:"DistSync_Ship_To__c"`
	Warehouse        string `json:"DistSync_Warehouse__c"`
	RMANumber        string `json:"DistSync_RMA_Number__c"`
	LastModifiedDate string
	OrderItems       *struct {
		Records []itemRecord `json:"records"`
	}
	// raw is the record as the query answered it, for the mapped
	// custom fields.
	raw json.RawMessage
}

// orderRecordJSON is orderRecord without its UnmarshalJSON method.
type orderRecordJSON orderRecord

// UnmarshalJSON decodes the record and keeps a copy of its bytes.
func (r *orderRecord) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*orderRecordJSON)(r)); err != nil {
		return err
	}
	r.raw = append(json.RawMessage(nil), b...)
	return nil
}

// itemRecord is an OrderItem record of an orderRecord.
type itemRecord struct {
	ID               string `json:"Id"`
	PricebookEntryID string `json:"PricebookEntryId"`
	Product2         *struct {
		ProductCode           string
		QuantityUnitOfMeasure string
	}
	Quantity            json.Number
	UnitPrice           json.Number
	OriginalOrderItemID string `json:"OriginalOrderItemId"`
	Description         string
}

// PollOrders returns the order events after cursor, at most limit of them
// (connector.DefaultPageSize when limit ≤ 0, capped at 2000), read with
// one SOQL query paged by nextRecordsUrl. Each activated Order is an
// [canonical.EventOrderSubmitted] event; a reduction order of Type
// "Return" an [canonical.EventReturnAuthorized] event; any other reduction
// order an [canonical.EventOrderCancelRequested] event. Records last
// modified by the integration user (the echo of PublishStatus) are not
// read. The cursor is the last record's (LastModifiedDate, Id): a
// malformed one is CodeInvalid. A record the connector cannot map is
// CodeInvalid naming the record and field, and the feed stops there until
// the record is fixed in Salesforce (which moves it later in the feed).
func (c *CRM) PollOrders(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	const op = "PollOrders"
	if ctx.Err() != nil {
		return connector.Page{}, context.Cause(ctx)
	}
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	limit = min(limit, maxPageSize)
	after, afterID, err := parseCursor(cursor)
	if err != nil {
		return connector.Page{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	hc, user, err := c.client(ctx, op)
	if err != nil {
		return connector.Page{}, err
	}
	first := c.path("query?q=" + url.QueryEscape(feedQuery(after, afterID, user, limit, c.extraFields("Order"), c.extraFields("OrderItem"))))
	page := connector.Page{Next: cursor}
	n := 0
	var ext func(*orderRecord, *canonical.Order) error
	if len(c.cfg.Extensions) > 0 {
		ext = func(r *orderRecord, o *canonical.Order) error { return c.readExtensions(r.ID, r.raw, o) }
	}
	for rec, err := range httpkit.PagesByLink[orderRecord](ctx, hc, op, first, httpkit.Paging{Items: "/records", Next: "/nextRecordsUrl"}) {
		if err != nil {
			return connector.Page{}, recode(op, err)
		}
		n++
		e, err := event(&rec, ext)
		if err != nil {
			return connector.Page{}, connector.NewError(connector.CodeInvalid, System, op, err)
		}
		lmd, err := time.Parse(sfTime, rec.LastModifiedDate)
		if err != nil {
			return connector.Page{}, connector.NewError(connector.CodeInvalid, System, op, fmt.Errorf("order record %s: LastModifiedDate %q: %w", rec.ID, rec.LastModifiedDate, err))
		}
		page.Events = append(page.Events, e)
		page.Next = encodeCursor(lmd, rec.ID)
	}
	page.More = n >= limit
	return page, nil
}

// recordError names a record and field that cannot be mapped.
func recordError(id, field, format string, args ...any) error {
	return fmt.Errorf("order record %s: %s: %s", id, field, fmt.Sprintf(format, args...))
}

// event maps one Order record to its canonical event; ext, when not nil,
// sets the extensions of an original order from the record.
func event(r *orderRecord, ext func(*orderRecord, *canonical.Order) error) (canonical.Event, error) {
	at, err := time.Parse(sfTime, r.ActivatedDate)
	if err != nil {
		return canonical.Event{}, recordError(r.ID, "ActivatedDate", "%q is not a datetime", r.ActivatedDate)
	}
	if r.OrderItems == nil || len(r.OrderItems.Records) == 0 {
		return canonical.Event{}, recordError(r.ID, "OrderItems", "an order without products")
	}
	soldTo := canonical.PartyRef{ID: r.AccountID, Refs: canonical.Refs{{System: System, Type: RefAccount, Value: r.AccountID}}}
	if r.Account != nil {
		soldTo.Name = r.Account.Name
		if r.Account.AccountNumber != "" {
			soldTo.ID = r.Account.AccountNumber
		}
	}
	refs := canonical.Refs{{System: System, Type: RefOrder, Value: r.ID}, {System: System, Type: RefOrderNumber, Value: r.OrderNumber}}
	var e canonical.Event
	switch {
	case !r.IsReductionOrder:
		o, err := order(r, soldTo, refs, at)
		if err != nil {
			return canonical.Event{}, err
		}
		if ext != nil {
			if err := ext(r, &o); err != nil {
				return canonical.Event{}, err
			}
		}
		if e, err = canonical.NewEvent(canonical.EventOrderSubmitted, o); err != nil {
			return canonical.Event{}, fmt.Errorf("order record %s: %w", r.ID, err)
		}
		e.Subject, e.Sequence, e.CorrelationID = r.ID, 1, r.ID
	case r.OriginalOrderID == "":
		return canonical.Event{}, recordError(r.ID, "OriginalOrderId", "a reduction order without its original order")
	case r.Type == "Return":
		ret := canonical.Return{ID: r.ID, Version: 1, Refs: refs, RMANumber: r.RMANumber, OrderID: r.OriginalOrderID,
			Customer: soldTo, Warehouse: r.Warehouse, AuthorizedAt: at}
		if ret.RMANumber == "" {
			ret.RMANumber = r.OrderNumber
		}
		for i, it := range r.OrderItems.Records {
			sku, q, err := reduced(r.ID, i, &it)
			if err != nil {
				return canonical.Event{}, err
			}
			ret.Lines = append(ret.Lines, canonical.ReturnLine{ID: it.ID, OrderLineID: it.OriginalOrderItemID,
				Item: canonical.ItemRef{SKU: sku}, Authorized: q, Received: canonical.NewQuantity(canonical.Decimal{}, q.Unit), Reason: it.Description})
		}
		if e, err = canonical.NewEvent(canonical.EventReturnAuthorized, ret); err != nil {
			return canonical.Event{}, fmt.Errorf("order record %s: %w", r.ID, err)
		}
		e.Subject, e.PartitionKey, e.Sequence, e.CorrelationID = r.ID, r.OriginalOrderID, 1, r.OriginalOrderID
	default:
		req := canonical.CancelRequest{ID: r.ID, OrderID: r.OriginalOrderID, RequestedBy: System, Reason: r.Description, RequestedAt: at}
		for i, it := range r.OrderItems.Records {
			_, q, err := reduced(r.ID, i, &it)
			if err != nil {
				return canonical.Event{}, err
			}
			req.Lines = append(req.Lines, canonical.CancelLine{LineID: it.OriginalOrderItemID, Quantity: q})
		}
		if e, err = canonical.NewEvent(canonical.EventOrderCancelRequested, req); err != nil {
			return canonical.Event{}, fmt.Errorf("order record %s: %w", r.ID, err)
		}
		// Later requests about the order come later in its sequence.
		e.Subject, e.Sequence, e.CorrelationID = r.OriginalOrderID, uint64(max(2, at.UnixMilli())), r.OriginalOrderID
	}
	e.ID = r.ID
	e.Source = Source
	e.Time = at
	return e, nil
}

// order maps an original Order record.
func order(r *orderRecord, soldTo canonical.PartyRef, refs canonical.Refs, at time.Time) (canonical.Order, error) {
	if r.OpportunityID != "" {
		refs = append(refs, canonical.ExternalRef{System: System, Type: RefOpportunity, Value: r.OpportunityID})
	}
	o := canonical.Order{ID: r.ID, Version: 1, Refs: refs, CustomerPO: r.PoNumber, SoldTo: soldTo,
		ShipTo: canonical.PartyRef{ID: r.ShipTo}, Currency: canonical.Currency(r.CurrencyIsoCode), OrderedAt: at, SubmittedAt: at}
	if o.ShipTo.ID == "" {
		o.ShipTo.ID = soldTo.ID
	}
	if a := r.ShippingAddress; a != nil && a.Country != "" {
		addr := &canonical.Address{City: a.City, Region: a.State, PostalCode: a.PostalCode, Country: a.Country}
		if a.Street != "" {
			addr.Lines = strings.Split(a.Street, "\n")
		}
		o.ShipTo.Address = addr
	}
	for i, it := range r.OrderItems.Records {
		p := fmt.Sprintf("OrderItems[%d]", i)
		if it.Product2 == nil || it.Product2.ProductCode == "" {
			return canonical.Order{}, recordError(r.ID, p+".Product2.ProductCode", "required")
		}
		q, err := canonical.ParseQuantity(it.Quantity.String(), it.Product2.QuantityUnitOfMeasure)
		if err != nil {
			return canonical.Order{}, recordError(r.ID, p+".Quantity", "%v", err)
		}
		price, err := canonical.ParseMoney(it.UnitPrice.String(), r.CurrencyIsoCode)
		if err != nil {
			return canonical.Order{}, recordError(r.ID, p+".UnitPrice", "%v", err)
		}
		o.Lines = append(o.Lines, canonical.OrderLine{ID: it.ID, Item: canonical.ItemRef{SKU: it.Product2.ProductCode}, Quantity: q, UnitPrice: price})
	}
	if err := o.Validate(); err != nil {
		return canonical.Order{}, fmt.Errorf("order record %s: %w", r.ID, err)
	}
	return o, nil
}

// reduced returns the SKU and the (positive) quantity a reduction order
// item takes off its original item.
func reduced(id string, i int, it *itemRecord) (string, canonical.Quantity, error) {
	p := fmt.Sprintf("OrderItems[%d]", i)
	if it.OriginalOrderItemID == "" {
		return "", canonical.Quantity{}, recordError(id, p+".OriginalOrderItemId", "required on a reduction order")
	}
	if it.Product2 == nil || it.Product2.ProductCode == "" {
		return "", canonical.Quantity{}, recordError(id, p+".Product2.ProductCode", "required")
	}
	q, err := canonical.ParseQuantity(it.Quantity.String(), it.Product2.QuantityUnitOfMeasure)
	if err != nil {
		return "", canonical.Quantity{}, recordError(id, p+".Quantity", "%v", err)
	}
	if !q.Value.IsNeg() {
		return "", canonical.Quantity{}, recordError(id, p+".Quantity", "must be negative on a reduction order, is %s", q.Value)
	}
	q.Value = q.Value.Neg()
	return it.Product2.ProductCode, q, nil
}
