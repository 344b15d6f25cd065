package flow

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/wms"
)

// returnsFixture ships an order of 10 SKU-100 (L1) and 20 SKU-104 (L2)
// and authorizes, in the CRM, the return of 5 of L1 and 4 of L2
// (RET-000001, lines R1 and R2). It returns the flow, the ERP and the
// authorized return.
func returnsFixture(t testing.TB) (*Flow, *erp.Memory, canonical.Return) {
	t.Helper()
	ctx := context.Background()
	e, err := erp.New(erp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wms.New(wms.Config{Start: wms.DemoEpoch().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := crm.New(crm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(Config{ERP: e, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}), PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{
		{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
		{SKU: "SKU-104", Quantity: canonical.MustParseQuantity("20", "EA"), UnitPrice: canonical.MustParseMoney("3.10", "USD")}}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.ConvertOpportunity(ctx, opp.ID)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if err := f.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := w.Step(ctx); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
	}
	r, err := c.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: o.ID, Warehouse: "WH-EAST", Lines: []crm.ReturnRequestLine{
		{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("5", "EA")},
		{OrderLineID: "L2", Quantity: canonical.MustParseQuantity("4", "EA")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	return f, e, r
}

// checkReturnState checks the returns invariants of an order's state: per
// return line credited ≤ received ≤ authorized, per order line authorized
// ≤ shipped, and the returned bucket is what was credited, as in the ERP.
func checkReturnState(t *testing.T, f *Flow, e *erp.Memory, orderID string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.orders[orderID]
	credited := map[string]canonical.Decimal{}
	for _, id := range st.retOrder {
		rs := st.returns[id]
		if rs.pending != nil {
			t.Errorf("return %s: a credit is pending after its handler returned", id)
		}
		for _, l := range rs.ret.Lines {
			c, r := rs.credited[l.ID], rs.received[l.ID]
			if c.Cmp(r) > 0 || r.Cmp(l.Authorized.Value) > 0 {
				t.Errorf("return %s line %s: credited %s, received %s, authorized %s", id, l.ID, c, r, l.Authorized.Value)
			}
			credited[l.OrderLineID], _ = credited[l.OrderLineID].Add(c)
		}
	}
	eo, err := e.GetOrder(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range st.order.Lines {
		ret := l.Buckets.Get(canonical.BucketReturned)
		if !ret.Equal(credited[l.ID]) || !ret.Equal(eo.Lines[i].Buckets.Get(canonical.BucketReturned)) {
			t.Errorf("line %s: returned %s, credited %s, ERP returned %s", l.ID, ret, credited[l.ID], eo.Lines[i].Buckets.Get(canonical.BucketReturned))
		}
		if a := authorizedLocked(st, l.ID); a.Cmp(l.Buckets.Get(canonical.BucketShipped)) > 0 {
			t.Errorf("line %s: authorized %s, shipped %s", l.ID, a, l.Buckets.Get(canonical.BucketShipped))
		}
	}
}

// FuzzReturnEvents hands return events with arbitrary data to the flow's
// handler, one after the other on the same order: none panics, and after
// each the returns invariants hold.
func FuzzReturnEvents(f *testing.F) {
	fl, e, auth := returnsFixture(f)
	received := func(r1, r2 string, version int64) []byte {
		doc := auth
		doc.Lines = append([]canonical.ReturnLine(nil), auth.Lines...)
		doc.Version, doc.ReceivedAt = version, wms.DemoEpoch().Add(2*time.Hour)
		for i, q := range []string{r1, r2} {
			doc.Lines[i].Received = canonical.MustParseQuantity(q, "EA")
			if q != "0" {
				doc.Lines[i].Condition, doc.Lines[i].Disposition = canonical.ConditionNew, canonical.DispositionRestock
			}
		}
		b, err := json.Marshal(doc)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	authJSON, err := json.Marshal(auth)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(false, received("2", "0", 2))
	f.Add(false, received("5", "1", 3))
	f.Add(false, received("5", "4", 4))
	f.Add(false, received("6", "4", 5)) // more than authorized
	f.Add(false, []byte(`{"id":"RET-000001","orderId":"ORD-000001"}`))
	f.Add(false, []byte(`{"id":`))
	f.Add(true, authJSON)
	f.Add(true, []byte(`{"id":"RET-9","version":1,"rmaNumber":"X","orderId":"ORD-000001","customer":{"id":"C-2"},"warehouse":"WH-EAST","authorizedAt":"2026-01-01T00:00:00Z","lines":[{"id":"R1","orderLineId":"L1","item":{"sku":"SKU-100"},"authorized":{"value":"9","unit":"EA"},"received":{"value":"0","unit":"EA"}}]}`))
	f.Fuzz(func(t *testing.T, authorize bool, data []byte) {
		ev := canonical.Event{SpecVersion: canonical.EventSpecVersion, Type: canonical.EventReturnReceived, Source: fl.wmsSrc[0],
			ID: "fuzz", Subject: auth.ID, PartitionKey: auth.OrderID, Time: time.Now(), DataContentType: "application/json", Data: data}
		if authorize {
			ev.Type, ev.Source = canonical.EventReturnAuthorized, crm.Source
		}
		_, _ = fl.dispatch(context.Background(), ev)
		checkReturnState(t, fl, e, auth.OrderID)
	})
}
