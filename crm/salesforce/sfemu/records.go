package sfemu

// This file owns the emulated sObject records: how the crm simulator's
// orders, cancellation requests and returns become Order and OrderItem
// records, and how a query reads them.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
)

// IDs the emulator gives: 18 characters, a key prefix of the object type.
const (
	orgID      = "00D000000000001AAA"
	repUserID  = "005000000000001AAA" // the sales rep who converts opportunities
	pricebook  = "01s000000000001AAA"
	timeLayout = "2006-01-02T15:04:05.000+0000"
)

func sfID(prefix string, n int) string { return fmt.Sprintf("%s%012dAAA", prefix, n) }

// orderFieldNames are the Order fields a query may select; relation
// fields are dotted.
var orderFieldNames = []string{"Id", "OrderNumber", "AccountId", "Account.AccountNumber", "Account.Name",
	"OpportunityId", "Pricebook2Id", "EffectiveDate", "ActivatedDate", "Status", "StatusCode", "Type",
	"PoNumber", "CurrencyIsoCode", "TotalAmount", "IsReductionOrder", "OriginalOrderId", "Description",
	"ShippingAddress", "DistSync_Ship_To__c", "DistSync_Warehouse__c", "DistSync_RMA_Number__c",
	"DistSync_Sequence__c", "DistSync_Status__c", "DistSync_Tracking__c",
	"CreatedDate", "LastModifiedDate", "LastModifiedById"}

var itemFieldNames = []string{"Id", "OrderId", "PricebookEntryId", "Product2Id", "Product2.ProductCode",
	"Product2.QuantityUnitOfMeasure", "Quantity", "UnitPrice", "ListPrice", "TotalPrice",
	"AvailableQuantity", "OriginalOrderItemId", "Description"}

// fieldIndex maps a lower-case field name to its spelling.
func fieldIndex(names []string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return m
}

// record is one Order (an original order or a reduction order) with its
// OrderItems.
type record struct {
	id     string
	memID  string              // the crm simulator's ID of the order, request or return
	kind   canonical.EventType // the event it came from
	fields map[string]any
	items  []map[string]any
	// lines maps an OrderItem ID to the simulator's line ID.
	lines map[string]string
}

func (r *record) get(field string) any { return lookup(r.fields, field) }

func lookup(m map[string]any, field string) any {
	if rel, f, ok := strings.Cut(field, "."); ok {
		sub, _ := m[rel].(map[string]any)
		return sub[f]
	}
	return m[field]
}

// wire converts a stored value to its JSON form.
func wire(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(timeLayout)
	case canonical.Decimal:
		return json.Number(x.String())
	}
	return v
}

// project returns the selected fields of m in the wire shape, relation
// fields as nested objects with their attributes.
func project(m map[string]any, fields []string, typ, url string) map[string]any {
	out := map[string]any{"attributes": map[string]any{"type": typ, "url": url}}
	for _, f := range fields {
		if rel, sub, ok := strings.Cut(f, "."); ok {
			o, _ := out[rel].(map[string]any)
			if o == nil {
				relType := rel
				o = map[string]any{"attributes": map[string]any{"type": relType}}
				out[rel] = o
			}
			o[sub] = wire(lookup(m, f))
			continue
		}
		out[f] = wire(m[f])
	}
	return out
}

// ingestLocked reads what the simulator's feed holds beyond the
// emulator's position and turns it into records. The caller holds s.mu.
func (s *Server) ingestLocked(ctx context.Context) error {
	for {
		p, err := s.crm.PollOrders(ctx, s.memCursor, 1000)
		if err != nil {
			return err
		}
		for _, e := range p.Events {
			if err := s.addLocked(e); err != nil {
				return err
			}
		}
		s.memCursor = p.Next
		if !p.More || len(p.Events) == 0 {
			return nil
		}
	}
}

// stampLocked returns the next LastModifiedDate: the clock in
// milliseconds, never before the previous one.
func (s *Server) stampLocked() time.Time {
	t := s.clock().UTC().Truncate(time.Millisecond)
	if t.Before(s.lastStamp) {
		t = s.lastStamp
	}
	s.lastStamp = t
	return t
}

func (s *Server) accountID(acct string) string {
	id, ok := s.accounts[acct]
	if !ok {
		id = sfID("001", len(s.accounts)+1)
		s.accounts[acct] = id
	}
	return id
}

func (s *Server) newRecordLocked(memID string, kind canonical.EventType, at time.Time) *record {
	s.nextOrder++
	r := &record{id: sfID("801", s.nextOrder), memID: memID, kind: kind, fields: map[string]any{}, lines: map[string]string{}}
	for _, f := range orderFieldNames {
		if !strings.Contains(f, ".") {
			r.fields[f] = nil
		}
	}
	stamp := s.stampLocked()
	r.fields["Id"] = r.id
	r.fields["OrderNumber"] = fmt.Sprintf("%08d", 100+s.nextOrder)
	r.fields["Pricebook2Id"] = pricebook
	r.fields["EffectiveDate"] = at.UTC().Format(time.DateOnly)
	r.fields["ActivatedDate"] = at.UTC().Truncate(time.Millisecond)
	r.fields["Status"] = "Activated"
	r.fields["StatusCode"] = "Activated"
	r.fields["IsReductionOrder"] = false
	r.fields["CreatedDate"] = stamp
	r.fields["LastModifiedDate"] = stamp
	r.fields["LastModifiedById"] = repUserID
	s.fillCustom("Order", r.fields, nil)
	return r
}

func (s *Server) itemLocked(r *record, sku string, q canonical.Quantity, price canonical.Money) map[string]any {
	s.nextItem++
	id := sfID("802", s.nextItem)
	prod, ok := s.products[sku]
	if !ok {
		prod = sfID("01t", len(s.products)+1)
		s.products[sku] = prod
	}
	it := map[string]any{"Id": id, "OrderId": r.id, "PricebookEntryId": "01u" + prod[3:], "Product2Id": prod,
		"Product2": map[string]any{"ProductCode": sku, "QuantityUnitOfMeasure": string(q.Unit)},
		"Quantity": q.Value, "UnitPrice": price.Amount, "ListPrice": price.Amount, "AvailableQuantity": q.Value,
		"OriginalOrderItemId": nil, "Description": nil}
	if total, err := q.Value.Mul(price.Amount); err == nil {
		it["TotalPrice"] = total
	}
	s.fillCustom("OrderItem", it, nil)
	r.items = append(r.items, it)
	return it
}

// addLocked turns one event of the simulator's order feed into a record.
func (s *Server) addLocked(e canonical.Event) error {
	switch e.Type {
	case canonical.EventOrderSubmitted:
		o, err := canonical.DecodeData[canonical.Order](e)
		if err != nil {
			return err
		}
		r := s.newRecordLocked(o.ID, e.Type, o.SubmittedAt)
		acct := ""
		for _, ref := range o.SoldTo.Refs {
			if ref.Type == crm.RefAccount {
				acct = ref.Value
			}
		}
		r.fields["AccountId"] = s.accountID(acct)
		r.fields["Account"] = map[string]any{"AccountNumber": o.SoldTo.ID, "Name": o.SoldTo.Name}
		for _, ref := range o.Refs {
			if ref.Type == crm.RefOpportunity {
				r.fields["OpportunityId"] = "006" + strings.TrimPrefix(ref.Value, "OPP-")
			}
		}
		r.fields["CurrencyIsoCode"] = string(o.Currency)
		s.fillCustom("Order", r.fields, o.Extensions)
		if o.CustomerPO != "" {
			r.fields["PoNumber"] = o.CustomerPO
		}
		r.fields["DistSync_Ship_To__c"] = o.ShipTo.ID
		if a := o.ShipTo.Address; a != nil {
			r.fields["ShippingAddress"] = map[string]any{"street": strings.Join(a.Lines, "\n"), "city": a.City,
				"state": a.Region, "postalCode": a.PostalCode, "country": a.Country}
		}
		total := canonical.Decimal{}
		for _, l := range o.Lines {
			it := s.itemLocked(r, l.Item.SKU, l.Quantity, l.UnitPrice)
			s.fillCustom("OrderItem", it, l.Extensions)
			r.lines[it["Id"].(string)] = l.ID
			if t, ok := it["TotalPrice"].(canonical.Decimal); ok {
				total, _ = total.Add(t)
			}
		}
		r.fields["TotalAmount"] = total
		s.addRecordLocked(r)
	case canonical.EventOrderCancelRequested:
		c, err := canonical.DecodeData[canonical.CancelRequest](e)
		if err != nil {
			return err
		}
		orig := s.byMem[c.OrderID]
		if orig == nil {
			return fmt.Errorf("sfemu: cancellation %s of an order %s not seen", c.ID, c.OrderID)
		}
		r := s.reductionLocked(orig, c.ID, e.Type, "Cancellation", c.RequestedAt)
		if c.Reason != "" {
			r.fields["Description"] = c.Reason
		}
		want := map[string]canonical.Quantity{}
		for _, l := range c.Lines {
			want[l.LineID] = l.Quantity
		}
		for _, it := range orig.items {
			line := orig.lines[it["Id"].(string)]
			q, ok := want[line]
			if len(c.Lines) > 0 && !ok {
				continue
			}
			if !ok { // every open quantity: at most what was ordered
				q = canonical.Quantity{Value: it["Quantity"].(canonical.Decimal), Unit: canonical.Unit(lookup(it, "Product2.QuantityUnitOfMeasure").(string))}
			}
			s.reductionItemLocked(r, it, q, "")
		}
		s.addRecordLocked(r)
	case canonical.EventReturnAuthorized:
		ret, err := canonical.DecodeData[canonical.Return](e)
		if err != nil {
			return err
		}
		orig := s.byMem[ret.OrderID]
		if orig == nil {
			return fmt.Errorf("sfemu: return %s of an order %s not seen", ret.ID, ret.OrderID)
		}
		r := s.reductionLocked(orig, ret.ID, e.Type, "Return", ret.AuthorizedAt)
		r.fields["DistSync_Warehouse__c"] = ret.Warehouse
		r.fields["DistSync_RMA_Number__c"] = ret.RMANumber
		for _, l := range ret.Lines {
			for _, it := range orig.items {
				if orig.lines[it["Id"].(string)] == l.OrderLineID {
					ri := s.reductionItemLocked(r, it, l.Authorized, l.Reason)
					r.lines[ri["Id"].(string)] = l.ID
				}
			}
		}
		s.addRecordLocked(r)
	}
	return nil
}

// reductionLocked returns a reduction order of orig.
func (s *Server) reductionLocked(orig *record, memID string, kind canonical.EventType, typ string, at time.Time) *record {
	r := s.newRecordLocked(memID, kind, at)
	for _, f := range []string{"AccountId", "Account", "OpportunityId", "CurrencyIsoCode", "ShippingAddress", "DistSync_Ship_To__c"} {
		r.fields[f] = orig.fields[f]
	}
	r.fields["IsReductionOrder"] = true
	r.fields["OriginalOrderId"] = orig.id
	r.fields["Type"] = typ
	return r
}

// reductionItemLocked adds to r a reduction of q of the original item
// orig: a negative quantity pointing at it.
func (s *Server) reductionItemLocked(r *record, orig map[string]any, q canonical.Quantity, reason string) map[string]any {
	price, _ := orig["UnitPrice"].(canonical.Decimal)
	it := s.itemLocked(r, lookup(orig, "Product2.ProductCode").(string), q, canonical.Money{Amount: price})
	neg := q.Value.Neg()
	it["Quantity"] = neg
	it["AvailableQuantity"] = canonical.Decimal{}
	if total, err := neg.Mul(price); err == nil {
		it["TotalPrice"] = total
	}
	it["OriginalOrderItemId"] = orig["Id"]
	if reason != "" {
		it["Description"] = reason
	}
	return it
}

func (s *Server) addRecordLocked(r *record) {
	s.records = append(s.records, r)
	s.byID[r.id] = r
	s.byMem[r.memID] = r
}

// run evaluates q over the records and returns the matching ones in the
// wire shape.
func (s *Server) runLocked(q *query) ([]map[string]any, error) {
	if !strings.EqualFold(q.object, "Order") {
		return nil, &soqlError{"INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", q.object)}
	}
	fields, err := canon(q.fields, s.orderIdx, "Order")
	if err != nil {
		return nil, err
	}
	var childFields []string
	if q.child != nil {
		if !strings.EqualFold(q.child.relation, "OrderItems") {
			return nil, &soqlError{"INVALID_TYPE", fmt.Sprintf("Didn't understand relationship '%s' in FROM part of query call.", q.child.relation)}
		}
		if childFields, err = canon(q.child.fields, s.itemIdx, "OrderItem"); err != nil {
			return nil, err
		}
	}
	if err := canonCond(q.where, s.orderIdx); err != nil {
		return nil, err
	}
	var order []orderKey
	for _, k := range q.orderBy {
		f, ok := s.orderIdx[strings.ToLower(k.field)]
		if !ok {
			return nil, invalidField(k.field, "Order")
		}
		order = append(order, orderKey{f, k.desc})
	}
	var hits []*record
	// One getter for the scan: the method value r.get would allocate a
	// closure per record.
	var cur *record
	get := func(field string) any { return cur.get(field) }
	for _, r := range s.records {
		cur = r
		if q.where == nil || q.where.eval(get) {
			hits = append(hits, r)
		}
	}
	if len(order) > 0 {
		slices.SortStableFunc(hits, func(a, b *record) int {
			for _, k := range order {
				n, ok := compare(a.get(k.field), b.get(k.field))
				if !ok || n == 0 {
					continue
				}
				if k.desc {
					return -n
				}
				return n
			}
			return 0
		})
	}
	if q.hasLimit && len(hits) > q.limit {
		hits = hits[:q.limit]
	}
	out := make([]map[string]any, 0, len(hits))
	for _, r := range hits {
		m := project(r.fields, fields, "Order", s.path("sobjects/Order/"+r.id))
		if q.child != nil {
			if len(r.items) == 0 {
				m["OrderItems"] = nil
			} else {
				recs := make([]map[string]any, 0, len(r.items))
				for _, it := range r.items {
					recs = append(recs, project(it, childFields, "OrderItem", s.path("sobjects/OrderItem/"+it["Id"].(string))))
				}
				m["OrderItems"] = map[string]any{"totalSize": len(recs), "done": true, "records": recs}
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func invalidField(f, object string) error {
	return &soqlError{"INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'.", f, object)}
}

// canon returns the fields spelt as the object spells them.
func canon(fs []string, known map[string]string, object string) ([]string, error) {
	out := make([]string, len(fs))
	for i, f := range fs {
		c, ok := known[strings.ToLower(f)]
		if !ok {
			return nil, invalidField(f, object)
		}
		out[i] = c
	}
	return out, nil
}

// canonCond respells the fields of a condition, in place.
func canonCond(c cond, orderFields map[string]string) error {
	switch x := c.(type) {
	case andCond:
		for _, y := range x {
			if err := canonCond(y, orderFields); err != nil {
				return err
			}
		}
	case orCond:
		for _, y := range x {
			if err := canonCond(y, orderFields); err != nil {
				return err
			}
		}
	case *cmpCond:
		f, ok := orderFields[strings.ToLower(x.field)]
		if !ok {
			return invalidField(x.field, "Order")
		}
		x.field = f
	}
	return nil
}

// statusOf translates a status the connector wrote (in Salesforce IDs) to
// the simulator's IDs.
func (s *Server) statusOf(r *record, st connector.OrderStatus) connector.OrderStatus {
	st.OrderID = r.memID
	st.Lines = slices.Clone(st.Lines)
	for i, l := range st.Lines {
		if id, ok := r.lines[l.LineID]; ok {
			st.Lines[i].LineID = id
		}
	}
	return st
}
