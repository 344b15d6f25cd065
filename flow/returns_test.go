package flow_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/wms"
)

// returnWH is where the returns tests' order ships from.
const returnWH = "WH-EAST"

// shipForReturn submits an order of 10 SKU-100 (L1) and 20 SKU-104 (L2),
// which ships complete from returnWH, and settles it.
func shipForReturn(t *testing.T, w *world) string {
	t.Helper()
	id := w.submit(t, "ACC-0002", "SKU-100:10", "SKU-104:20")
	w.settle(t)
	v := w.agree(t, id)
	require.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "order %s ships before its returns", id)
	for _, s := range v.Shipments {
		require.Equal(t, returnWH, s.Warehouse, "warehouse of shipment %s", s.ID)
	}
	return id
}

// authorize authorizes a return in the CRM of lines "LINE:QTY".
func (w *world) authorize(t *testing.T, orderID string, lines ...string) canonical.Return {
	t.Helper()
	req := crm.ReturnRequest{OrderID: orderID, Warehouse: returnWH}
	for _, l := range lines {
		line, qty, _ := strings.Cut(l, ":")
		req.Lines = append(req.Lines, crm.ReturnRequestLine{OrderLineID: line, Quantity: canonical.MustParseQuantity(qty, "EA"), Reason: "test"})
	}
	r, err := w.crm.AuthorizeReturn(context.Background(), req)
	require.NoError(t, err, "CRM AuthorizeReturn %s %v", orderID, lines)
	return r
}

// receive receives a return in the WMS: lines "R1:QTY:CONDITION:DISPOSITION".
func (w *world) receive(t *testing.T, returnID string, lines ...string) {
	t.Helper()
	var rcs []wms.ReturnReceipt
	for _, l := range lines {
		p := strings.Split(l, ":")
		require.Len(t, p, 4, "receipt line %q", l)
		rcs = append(rcs, wms.ReturnReceipt{LineID: p[0], Quantity: canonical.MustParseQuantity(p[1], "EA"),
			Condition: canonical.ReturnCondition(p[2]), Disposition: canonical.Disposition(p[3])})
	}
	_, err := w.wms.ReceiveReturn(context.Background(), returnID, rcs)
	require.NoError(t, err, "WMS ReceiveReturn %s %v", returnID, lines)
}

// stock is what the three systems show of one SKU at returnWH.
type stock struct{ wms, erp, crm canonical.Decimal }

func (w *world) stockOf(t *testing.T, sku string) stock {
	t.Helper()
	v := wmsStock(t, w.wms, sku, returnWH)
	s := stock{wms: v.onHand}
	if q, ok := w.erp.Stock(sku, returnWH); ok {
		s.erp = q.Value
	}
	if a, ok := w.crm.ShownAvailability(sku, returnWH); ok {
		s.crm = a.Available.Value
	}
	return s
}

// feedEvents returns the events of type t on the WMS's feed.
func (w *world) feedEvents(t *testing.T, typ canonical.EventType) []canonical.Event {
	t.Helper()
	var out []canonical.Event
	var cur connector.Cursor
	for {
		page, err := w.wms.PollEvents(context.Background(), cur, 100)
		require.NoError(t, err, "PollEvents")
		for _, e := range page.Events {
			if e.Type == typ {
				out = append(out, e)
			}
		}
		if !page.More || len(page.Events) == 0 {
			return out
		}
		cur = page.Next
	}
}

// checkReturns checks the returns invariants of an order: per return line
// the ERP credited what the WMS received; per order line the returned
// quantity in the flow, the ERP and the CRM is what the WMS received, and
// not above what shipped; the flow's and the CRM's credit memos are the
// ERP's, at the invoiced prices.
func checkReturns(t *testing.T, w *world, id string) flow.OrderView {
	t.Helper()
	ctx := context.Background()
	v := w.agree(t, id)
	var memos []canonical.Invoice
	prices := map[string]canonical.Money{}
	for _, inv := range w.erp.Invoices(id) {
		if inv.Kind == canonical.InvoiceCreditMemo {
			memos = append(memos, inv)
			continue
		}
		for _, l := range inv.Lines {
			prices[l.OrderLineID] = l.UnitPrice
		}
	}
	require.Len(t, v.CreditMemos, len(memos), "the flow's credit memos of %s are the ERP's", id)
	crmCredits := map[string]connector.Credit{}
	for _, r := range v.CRM.Returns {
		for _, c := range r.Credits {
			crmCredits[c.Number] = c
		}
	}
	require.Len(t, crmCredits, len(memos), "the CRM's credits of %s are the ERP's", id)
	byCM := map[string]canonical.Invoice{}
	for i, m := range memos {
		byCM[m.ID] = m
		assert.Equal(t, m.ID, v.CreditMemos[i].ID, "credit memo %d of %s", i, id)
		assert.True(t, m.Totals.Total.Equal(v.CreditMemos[i].Totals.Total), "flow's total of %s: %s, ERP %s", m.ID, v.CreditMemos[i].Totals.Total, m.Totals.Total)
		c, ok := crmCredits[m.Number]
		assert.True(t, ok, "the CRM shows credit memo %s of %s", m.Number, id)
		assert.True(t, m.Totals.Total.Equal(c.Total), "CRM's total of %s: %s, ERP %s", m.ID, c.Total, m.Totals.Total)
		sub := canonical.NewMoney(canonical.Decimal{}, m.Currency)
		for _, l := range m.Lines {
			assert.True(t, l.UnitPrice.Equal(prices[l.OrderLineID]), "credit memo %s line %s at the invoiced price %s, is %s", m.ID, l.ID, prices[l.OrderLineID], l.UnitPrice)
			amt, err := l.UnitPrice.Mul(l.Quantity.Value)
			require.NoError(t, err, "amount of %s line %s", m.ID, l.ID)
			assert.True(t, amt.Round().Equal(l.Amount), "credit memo %s line %s: %s × %s = %s", m.ID, l.ID, l.Quantity, l.UnitPrice, l.Amount)
			sub, err = sub.Add(l.Amount)
			require.NoError(t, err, "subtotal of %s", m.ID)
		}
		assert.True(t, sub.Equal(m.Totals.Subtotal), "subtotal of %s: %s, lines sum to %s", m.ID, m.Totals.Subtotal, sub)
	}
	received := map[string]canonical.Decimal{} // by order line
	for _, rs := range v.Returns {
		doc, err := w.wms.Return(ctx, rs.ReturnID)
		require.NoError(t, err, "WMS Return %s", rs.ReturnID)
		credited := map[string]canonical.Decimal{} // by return line
		for _, m := range memos {
			if !strings.HasPrefix(m.ReturnID, rs.ReturnID+"/") {
				continue
			}
			for _, l := range m.Lines {
				credited[l.ID], err = credited[l.ID].Add(l.Quantity.Value)
				require.NoError(t, err, "credited of %s", m.ID)
			}
		}
		for i, l := range doc.Lines {
			assert.True(t, credited[l.ID].Equal(l.Received.Value), "return %s line %s: credited %s, received %s", rs.ReturnID, l.ID, credited[l.ID], l.Received.Value)
			assert.True(t, rs.Lines[i].Received.Value.Equal(l.Received.Value), "CRM shows return %s line %s received %s, WMS %s", rs.ReturnID, l.ID, rs.Lines[i].Received, l.Received)
			received[l.OrderLineID], err = received[l.OrderLineID].Add(l.Received.Value)
			require.NoError(t, err, "received of %s", rs.ReturnID)
		}
	}
	for i, l := range v.Order.Lines {
		ret := l.Buckets.Get(canonical.BucketReturned)
		assert.True(t, ret.Equal(received[l.ID]), "flow returned of %s line %s: %s, WMS received %s", id, l.ID, ret, received[l.ID])
		assert.True(t, v.ERP.Lines[i].Buckets.Get(canonical.BucketReturned).Equal(ret), "ERP returned of %s line %s: %s, flow %s", id, l.ID, v.ERP.Lines[i].Buckets, ret)
		assert.True(t, v.CRM.Lines[i].Returned.Value.Equal(ret), "CRM returned of %s line %s: %s, flow %s", id, l.ID, v.CRM.Lines[i].Returned, ret)
		assert.LessOrEqual(t, ret.Cmp(l.Buckets.Get(canonical.BucketShipped)), 0, "returned ≤ shipped of %s line %s: %s", id, l.ID, l.Buckets)
	}
	return v
}

// flakyReturns is an ERP whose PostReturn fails transiently: before the
// effect for the first fails calls, after it (a timeout) for the next ones.
type flakyReturns struct {
	connector.ERP
	mu            sync.Mutex
	before, after int
	calls         int
	keys          map[string]bool
}

func (f *flakyReturns) wrap(e connector.ERP) connector.ERP { f.ERP = e; return f }

func (f *flakyReturns) PostReturn(ctx context.Context, key string, r canonical.Return) (canonical.Invoice, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	f.keys[key] = true
	f.mu.Unlock()
	unavailable := connector.NewError(connector.CodeUnavailable, "erp", "PostReturn", errors.New("test outage"))
	if n <= f.before {
		return canonical.Invoice{}, unavailable
	}
	inv, err := f.ERP.PostReturn(ctx, key, r)
	if err == nil && n <= f.before+f.after {
		return canonical.Invoice{}, connector.NewError(connector.CodeUnavailable, "erp", "PostReturn", errors.New("test outage"), connector.WithMayHaveApplied(true))
	}
	return inv, err
}

func (f *flakyReturns) seen() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.keys)
}

func TestReturns(t *testing.T) {
	tests := []struct {
		name   string
		faults *faults.Config
		flaky  *flakyReturns
		// act runs after the order shipped and settled; the world is
		// settled again after it.
		act func(t *testing.T, w *world, id string)
		// memos is how many credit memos the ERP posts; returned the
		// returned quantity of L1 and L2; restocked what comes back to
		// stock of SKU-100 and SKU-104.
		memos     int
		returned  [2]string
		restocked [2]string
		// dead are texts of the dead letters' errors, one per dead letter.
		dead []string
	}{
		{name: "restock", act: func(t *testing.T, w *world, id string) {
			r := w.authorize(t, id, "L1:4")
			w.settle(t)
			w.receive(t, r.ID, "R1:4:new:restock")
		}, memos: 1, returned: [2]string{"4", "0"}, restocked: [2]string{"4", "0"}},
		{name: "scrap", act: func(t *testing.T, w *world, id string) {
			r := w.authorize(t, id, "L2:5")
			w.settle(t)
			w.receive(t, r.ID, "R1:5:damaged:scrap")
		}, memos: 1, returned: [2]string{"0", "5"}, restocked: [2]string{"0", "0"}},
		{name: "restock one line and scrap the other", act: func(t *testing.T, w *world, id string) {
			r := w.authorize(t, id, "L1:3", "L2:6")
			w.settle(t)
			w.receive(t, r.ID, "R1:3:opened:restock", "R2:6:defective:scrap")
		}, memos: 1, returned: [2]string{"3", "6"}, restocked: [2]string{"3", "0"}},
		{name: "partial receipts credit each", act: func(t *testing.T, w *world, id string) {
			r := w.authorize(t, id, "L1:4", "L2:6")
			w.settle(t)
			w.receive(t, r.ID, "R1:2:new:restock")
			w.settle(t)
			v := checkReturns(t, w, id)
			require.Len(t, v.CreditMemos, 1, "credit memos after the first receipt")
			w.receive(t, r.ID, "R2:6:damaged:scrap")
		}, memos: 2, returned: [2]string{"2", "6"}, restocked: [2]string{"2", "0"}},
		{name: "two receipts in one drain", act: func(t *testing.T, w *world, id string) {
			r := w.authorize(t, id, "L1:4", "L2:6")
			w.settle(t)
			w.receive(t, r.ID, "R1:4:new:restock")
			w.receive(t, r.ID, "R2:1:new:restock")
		}, memos: 2, returned: [2]string{"4", "1"}, restocked: [2]string{"4", "1"}},
		{name: "duplicate events change nothing", act: func(t *testing.T, w *world, id string) {
			r := w.authorize(t, id, "L1:4", "L2:6")
			w.settle(t)
			w.receive(t, r.ID, "R1:4:new:restock")
			w.receive(t, r.ID, "R2:6:damaged:scrap")
			w.settle(t)
			dup := w.metrics.get(flow.CounterDuplicate)
			evs := w.feedEvents(t, canonical.EventReturnReceived)
			require.Len(t, evs, 2, "return.received events")
			// Both receipts again, the newer first, and the authorization.
			page, err := w.crm.PollOrders(context.Background(), "", 100)
			require.NoError(t, err, "PollOrders")
			again := []canonical.Event{evs[1], evs[0], evs[1], page.Events[len(page.Events)-1]}
			for i := range again {
				again[i].CorrelationID = "c"
			}
			require.NoError(t, w.log.Append(context.Background(), again...), "Append duplicates")
			w.settle(t)
			assert.Equal(t, dup+len(again), w.metrics.get(flow.CounterDuplicate), "duplicates counted")
		}, memos: 2, returned: [2]string{"4", "6"}, restocked: [2]string{"4", "0"}},
		{name: "return beyond shipped refused", act: func(t *testing.T, w *world, id string) {
			r := w.authorize(t, id, "L1:8")
			w.settle(t)
			// The CRM checks each RMA against what shipped; the flow also
			// counts the earlier RMA.
			w.authorize(t, id, "L2:20", "L1:3")
			w.settle(t)
			w.receive(t, r.ID, "R1:8:new:restock")
		}, memos: 1, returned: [2]string{"8", "0"}, restocked: [2]string{"8", "0"},
			dead: []string{"return exceeds what was shipped: return RET-000002 line R2 (order ORD-000001 line L1): authorizes 3 EA, but 10 shipped and earlier returns authorized 8, leaving 2"}},
		{name: "return unknown to the flow", act: func(t *testing.T, w *world, id string) {
			// Authorized in the WMS behind the flow's back.
			r := canonical.Return{ID: "RET-X", Version: 1, RMANumber: "RMA-X", OrderID: id, Customer: canonical.PartyRef{ID: "C-2"}, Warehouse: returnWH,
				AuthorizedAt: time.Now(), Lines: []canonical.ReturnLine{{ID: "R1", OrderLineID: "L1",
					Item: canonical.ItemRef{SKU: "SKU-100"}, Authorized: canonical.MustParseQuantity("1", "EA"), Received: canonical.MustParseQuantity("0", "EA")}}}
			_, err := w.wms.AuthorizeReturn(context.Background(), r)
			require.NoError(t, err, "WMS AuthorizeReturn")
			w.receive(t, r.ID, "R1:1:new:restock")
		}, memos: 0, returned: [2]string{"0", "0"}, restocked: [2]string{"1", "0"},
			dead: []string{`unknown return: "RET-X" of order ORD-000001`}},
		{name: "unknown order", act: func(t *testing.T, w *world, id string) {
			r := canonical.Return{ID: "RET-Y", Version: 1, RMANumber: "RMA-Y", OrderID: "ORD-999999", Customer: canonical.PartyRef{ID: "C-2"}, Warehouse: returnWH,
				AuthorizedAt: time.Now(), Lines: []canonical.ReturnLine{{ID: "R1", OrderLineID: "L1",
					Item: canonical.ItemRef{SKU: "SKU-100"}, Authorized: canonical.MustParseQuantity("1", "EA"), Received: canonical.MustParseQuantity("0", "EA")}}}
			e, err := canonical.NewEvent(canonical.EventReturnAuthorized, r)
			require.NoError(t, err, "NewEvent")
			e.ID, e.Source, e.Subject, e.PartitionKey, e.Time = "erp-1", erp.Source, r.ID, r.OrderID, time.Now()
			require.NoError(t, w.log.Append(context.Background(), e), "Append")
		}, memos: 0, returned: [2]string{"0", "0"}, restocked: [2]string{"0", "0"},
			dead: []string{`unknown order: "ORD-999999"`}},
		{name: "ERP failures retried", flaky: &flakyReturns{before: 2, after: 2}, act: func(t *testing.T, w *world, id string) {
			r := w.authorize(t, id, "L1:4", "L2:6")
			w.settle(t)
			w.receive(t, r.ID, "R1:4:new:restock", "R2:6:new:scrap")
		}, memos: 1, returned: [2]string{"4", "6"}, restocked: [2]string{"4", "0"}},
		{name: "faults", faults: &faults.Config{Seed: 7, Unavailable: 0.15, RateLimited: 0.05, AmbiguousTimeout: 0.1,
			Duplicate: 0.3, Reorder: 0.3, RetryAfter: 20 * time.Millisecond}, act: func(t *testing.T, w *world, id string) {
			r := w.authorize(t, id, "L1:4", "L2:6")
			w.settle(t)
			w.receive(t, r.ID, "R1:1:new:restock")
			w.receive(t, r.ID, "R2:6:damaged:scrap")
		}, memos: 2, returned: [2]string{"1", "6"}, restocked: [2]string{"1", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var wraps []func(connector.ERP) connector.ERP
				if tt.flaky != nil {
					wraps = append(wraps, tt.flaky.wrap)
				}
				w := newWorld(t, tt.faults, wraps...)
				id := shipForReturn(t, w)
				before := [2]stock{w.stockOf(t, "SKU-100"), w.stockOf(t, "SKU-104")}
				tt.act(t, w, id)
				w.settle(t)
				v := checkReturns(t, w, id)
				assert.Len(t, v.CreditMemos, tt.memos, "credit memos of %s", tt.name)
				assert.Equal(t, tt.memos, w.erp.Counts().CreditMemos, "ERP credit memos of %s", tt.name)
				for i, l := range v.Order.Lines {
					assert.Equal(t, tt.returned[i], l.Buckets.Get(canonical.BucketReturned).String(), "returned of %s in %s", l.ID, tt.name)
				}
				if tt.memos > 0 {
					assert.Equal(t, canonical.BillingCredited, v.CRM.Status.Billing, "CRM billing of %s", tt.name)
				}
				for i, sku := range []string{"SKU-100", "SKU-104"} {
					after := w.stockOf(t, sku)
					d, err := after.wms.Sub(before[i].wms)
					require.NoError(t, err, "stock change")
					assert.Equal(t, tt.restocked[i], d.String(), "WMS stock change of %s in %s", sku, tt.name)
					if d.IsPos() {
						// The restock's inventory event brings the ERP and
						// the CRM to the WMS's position.
						assert.True(t, after.erp.Equal(after.wms), "ERP stock of %s in %s: %s, WMS %s", sku, tt.name, after.erp, after.wms)
						assert.True(t, after.crm.Equal(wmsStock(t, w.wms, sku, returnWH).available), "CRM availability of %s in %s: %s", sku, tt.name, after.crm)
					} else {
						assert.Equal(t, before[i], after, "nothing restocked of %s in %s: no system's stock moves", sku, tt.name)
					}
				}
				dls, err := w.flow.DeadLetters(context.Background(), eventlog.Filter{})
				require.NoError(t, err, "DeadLetters")
				require.Len(t, dls, len(tt.dead), "dead letters of %s: %+v", tt.name, dls)
				for i, want := range tt.dead {
					assert.Contains(t, dls[i].Error, want, "dead letter %d of %s", i, tt.name)
				}
				if tt.flaky != nil {
					assert.Equal(t, tt.flaky.before+tt.flaky.after+1, tt.flaky.calls, "PostReturn calls of %s", tt.name)
					// The CRM authorized version 1; the receipt is version 2.
					want := idempotency.Derive(flow.DefaultScope, "post_return", id, "RET-000001", "2").String()
					assert.Equal(t, map[string]bool{want: true}, tt.flaky.seen(), "every PostReturn attempt of %s uses the receipt's key", tt.name)
				}
			})
		})
	}
}

// erpReturn is a return as an ERP-side integration authorizes it.
func erpReturn(orderID, id string, lines ...string) canonical.Return {
	r := canonical.Return{ID: id, Version: 1, RMANumber: "E" + id, OrderID: orderID, Customer: canonical.PartyRef{ID: "C-2"},
		Warehouse: returnWH}
	skus := map[string]string{"L1": "SKU-100", "L2": "SKU-104", "L9": "SKU-100"}
	for i, l := range lines {
		line, qty, _ := strings.Cut(l, ":")
		r.Lines = append(r.Lines, canonical.ReturnLine{ID: "E" + string(rune('1'+i)), OrderLineID: line, Item: canonical.ItemRef{SKU: skus[line]},
			Authorized: canonical.MustParseQuantity(qty, "EA"), Received: canonical.MustParseQuantity("0", "EA")})
	}
	return r
}

func TestAuthorizeReturn(t *testing.T) {
	tests := []struct {
		name string
		ret  func(id string) canonical.Return
		want error // nil: authorized
		text string
	}{
		{name: "part of two lines", ret: func(id string) canonical.Return { return erpReturn(id, "ERA-1", "L1:10", "L2:1") }},
		{name: "two lines of one order line beyond shipped", ret: func(id string) canonical.Return { return erpReturn(id, "ERA-1", "L1:6", "L1:5") },
			want: flow.ErrReturnExceedsShipped, text: "return ERA-1 line E2 (order ORD-000001 line L1): authorizes 11 EA, but 10 shipped and earlier returns authorized 0, leaving 10"},
		{name: "beyond what the CRM's RMA left", ret: func(id string) canonical.Return { return erpReturn(id, "ERA-1", "L2:19") },
			want: flow.ErrReturnExceedsShipped, text: "line E1 (order ORD-000001 line L2): authorizes 19 EA, but 20 shipped and earlier returns authorized 2, leaving 18"},
		{name: "unknown order", ret: func(string) canonical.Return { return erpReturn("ORD-404", "ERA-1", "L1:1") },
			want: flow.ErrUnknownOrder, text: `"ORD-404"`},
		{name: "unknown line", ret: func(id string) canonical.Return { return erpReturn(id, "ERA-1", "L9:1") },
			want: flow.ErrBadEvent, text: `return ERA-1 line E1: order ORD-000001 has no line "L9"`},
		{name: "another item", ret: func(id string) canonical.Return {
			r := erpReturn(id, "ERA-1", "L1:1")
			r.Lines[0].Item.SKU = "SKU-104"
			return r
		}, want: flow.ErrBadEvent, text: "item SKU-104 is not the item SKU-100 of order line L1"},
		{name: "another unit", ret: func(id string) canonical.Return {
			r := erpReturn(id, "ERA-1", "L1:1")
			r.Lines[0].Authorized.Unit, r.Lines[0].Received.Unit = "XCS", "XCS"
			return r
		}, want: flow.ErrBadEvent, text: "unit XCS is not the unit EA of order line L1"},
		{name: "already received", ret: func(id string) canonical.Return {
			r := erpReturn(id, "ERA-1", "L1:2")
			r.Lines[0].Received.Value = canonical.MustParseDecimal("1")
			r.Lines[0].Condition, r.Lines[0].Disposition, r.ReceivedAt = canonical.ConditionNew, canonical.DispositionRestock, time.Now()
			return r
		}, want: flow.ErrBadEvent, text: "an authorization receives nothing"},
		{name: "invalid", ret: func(id string) canonical.Return {
			r := erpReturn(id, "ERA-1", "L1:1")
			r.RMANumber = ""
			return r
		}, want: flow.ErrBadEvent, text: "rmaNumber"},
		{name: "the CRM's RMA with other lines", ret: func(id string) canonical.Return {
			r := erpReturn(id, "RET-000001", "L2:1")
			r.RMANumber = "RMA-000001"
			return r
		}, want: flow.ErrOrderState, text: "return RET-000001 of order ORD-000001 was authorized with other lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				w := newWorld(t, nil)
				id := shipForReturn(t, w)
				w.authorize(t, id, "L2:2")
				w.settle(t)
				ret := tt.ret(id)
				err := w.flow.AuthorizeReturn(ctx, ret)
				if tt.want != nil {
					require.ErrorIs(t, err, tt.want, "AuthorizeReturn %s", tt.name)
					assert.Contains(t, err.Error(), tt.text, "error of %s", tt.name)
					w.settle(t)
					_, err := w.wms.Return(ctx, ret.ID)
					if ret.ID != "RET-000001" {
						assert.Error(t, err, "the WMS does not know refused return %s", ret.ID)
					}
					v := checkReturns(t, w, id)
					assert.Len(t, v.Returns, 1, "only the CRM's return in %s", tt.name)
					return
				}
				require.NoError(t, err, "AuthorizeReturn %s", tt.name)
				require.NoError(t, w.flow.AuthorizeReturn(ctx, ret), "AuthorizeReturn %s again", tt.name)
				w.settle(t)
				doc, err := w.wms.Return(ctx, ret.ID)
				require.NoError(t, err, "the WMS expects return %s", ret.ID)
				assert.Equal(t, ret.RMANumber, doc.RMANumber, "RMA number in the WMS")
				v := checkReturns(t, w, id)
				require.Len(t, v.CRM.Returns, 2, "the CRM shows both returns")
				shown := v.CRM.Returns[1]
				assert.Equal(t, ret.ID, shown.ReturnID, "the CRM shows the ERP's return")
				for i, l := range shown.Lines {
					assert.True(t, l.Authorized.Equal(ret.Lines[i].Authorized), "CRM authorized of %s line %s", ret.ID, l.LineID)
					assert.True(t, l.Received.IsZero(), "CRM received of %s line %s before receipt", ret.ID, l.LineID)
				}
				assert.Equal(t, 2, w.wms.Counts().ReturnAuthorizations, "WMS authorizations: one per return, the repeat is a duplicate")
				assert.Positive(t, w.metrics.get(flow.CounterDuplicate), "the second authorization is a duplicate")

				// Received in the WMS, credited in the ERP.
				var rcs []string
				for _, l := range ret.Lines {
					rcs = append(rcs, l.ID+":"+l.Authorized.Value.String()+":opened:restock")
				}
				w.receive(t, ret.ID, rcs...)
				w.settle(t)
				v = checkReturns(t, w, id)
				require.Len(t, v.CreditMemos, 1, "credit memo of %s", ret.ID)
				assert.Equal(t, ret.ID+"/2", v.CreditMemos[0].ReturnID, "the credit memo's return is the receipt")
			})
		})
	}
}

// TestAuthorizeReturnTwiceBeforeHandled authorizes two different returns
// under one ID before the flow handles either: the first is registered, the
// second dead-lettered for it.
func TestAuthorizeReturnTwiceBeforeHandled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, nil)
		id := shipForReturn(t, w)
		first, second := erpReturn(id, "ERA-1", "L1:2"), erpReturn(id, "ERA-1", "L1:3")
		require.NoError(t, w.flow.AuthorizeReturn(ctx, first), "first AuthorizeReturn")
		require.NoError(t, w.flow.AuthorizeReturn(ctx, second), "second AuthorizeReturn, checked before the first is handled")
		w.settle(t)
		doc, err := w.wms.Return(ctx, "ERA-1")
		require.NoError(t, err, "the WMS expects ERA-1")
		assert.Equal(t, "2", doc.Lines[0].Authorized.Value.String(), "the WMS has the first authorization")
		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 1, "the second authorization is dead-lettered")
		assert.Contains(t, dls[0].Error, "return ERA-1 of order ORD-000001 was authorized with other lines", "reason")
		require.ErrorIs(t, w.flow.AuthorizeReturn(ctx, second), flow.ErrOrderState, "the second again, after the first was handled")
		checkReturns(t, w, id)
	})
}

// TestReturnsInvariants runs generated returns (one or two per order, each
// received in one or two receipts, restocked, quarantined or scrapped)
// through the flow with faults on every connector, and checks the returns
// invariants of every order: credited = received per return line, returned
// in the flow, the ERP and the CRM = received ≤ shipped per order line, one
// credit memo per receipt.
func TestReturnsInvariants(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				fc := faults.Config{Seed: seed, Unavailable: 0.15, RateLimited: 0.05, AmbiguousTimeout: 0.1,
					Duplicate: 0.2, Reorder: 0.2, RetryAfter: 20 * time.Millisecond}
				w := newWorld(t, &fc)
				var ids []string
				for range 8 {
					ids = append(ids, w.submit(t, "ACC-0002", fmt.Sprint("SKU-100:", 1+rng.IntN(10)), fmt.Sprint("SKU-104:", 1+rng.IntN(10))))
				}
				w.settle(t)
				var rets []canonical.Return
				for _, id := range ids {
					v, err := w.flow.Where(context.Background(), id)
					require.NoError(t, err, "Where %s (seed %d)", id, seed)
					left := map[string]int{}
					for _, l := range v.Order.Lines {
						n, _ := l.Buckets.Get(canonical.BucketShipped).Int64()
						left[l.ID] = int(n)
					}
					for range 1 + rng.IntN(2) {
						var lines []string
						for _, l := range v.Order.Lines {
							if left[l.ID] > 0 && rng.IntN(3) > 0 {
								q := 1 + rng.IntN(left[l.ID])
								left[l.ID] -= q
								lines = append(lines, fmt.Sprint(l.ID, ":", q))
							}
						}
						if len(lines) > 0 {
							rets = append(rets, w.authorize(t, id, lines...))
						}
					}
				}
				w.settle(t)
				dispositions := []string{"new:restock", "opened:restock", "damaged:scrap", "defective:quarantine", "opened:refurbish"}
				receipts := 0
				for _, ret := range rets {
					// Each line received once, in one or two receipts.
					var first, second []string
					for _, l := range ret.Lines {
						n, _ := l.Authorized.Value.Int64()
						rc := fmt.Sprint(l.ID, ":", 1+rng.Int64N(n), ":", dispositions[rng.IntN(len(dispositions))])
						if rng.IntN(2) == 0 {
							first = append(first, rc)
						} else {
							second = append(second, rc)
						}
					}
					for _, rcs := range [][]string{first, second} {
						if len(rcs) == 0 {
							continue
						}
						w.receive(t, ret.ID, rcs...)
						receipts++
						if rng.IntN(2) == 0 {
							w.settle(t)
						}
					}
				}
				w.settle(t)
				for _, id := range ids {
					checkReturns(t, w, id)
				}
				assert.Equal(t, receipts, w.erp.Counts().CreditMemos, "one credit memo per receipt (seed %d)", seed)
				assert.Positive(t, w.metrics.get(flow.CounterRetried), "faults made the flow retry (seed %d)", seed)
				t.Logf("seed %d: %d returns, %d receipts, %d retried, %d duplicates", seed, len(rets), receipts,
					w.metrics.get(flow.CounterRetried), w.metrics.get(flow.CounterDuplicate))
				dls, err := w.flow.DeadLetters(context.Background(), eventlog.Filter{})
				require.NoError(t, err, "DeadLetters")
				assert.Empty(t, dls, "dead letters (seed %d)", seed)
			})
		})
	}
}

// TestReturnFromERPFeed authorizes a return in the ERP: it comes through
// the ERP's event feed, is registered with the WMS, and what the WMS
// receives is credited once, like a return from the CRM.
func TestReturnFromERPFeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, nil)
		id := shipForReturn(t, w)
		r, err := w.erp.RequestReturn(ctx, id, returnWH, []erp.ReturnLineRequest{
			{LineID: "L1", Quantity: canonical.MustParseQuantity("3", "EA"), Reason: "damaged in transit"}})
		require.NoError(t, err, "ERP RequestReturn")
		assert.Equal(t, "ERET-000001", r.ID, "ERP return ID")
		w.settle(t)
		doc, err := w.wms.Return(ctx, r.ID)
		require.NoError(t, err, "the WMS expects %s", r.ID)
		assert.Equal(t, "3", doc.Lines[0].Authorized.Value.String(), "authorized at the WMS")

		w.receive(t, r.ID, "R1:3:damaged:scrap")
		w.settle(t)
		v := checkReturns(t, w, id)
		require.Len(t, v.CreditMemos, 1, "one credit memo for the ERP's return")
		assert.Equal(t, "3", v.Order.Lines[0].Buckets.Get(canonical.BucketReturned).String(), "returned on L1")
		assert.Equal(t, canonical.BillingCredited, v.Status.Billing, "billing after the credit")

		_, err = w.erp.RequestReturn(ctx, id, returnWH, []erp.ReturnLineRequest{{LineID: "L1", Quantity: canonical.MustParseQuantity("8", "EA")}})
		require.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "more than shipped and not credited back: %v", err)
		assert.Contains(t, err.Error(), "lines[0].quantity.value", "the error names the field")
	})
}

// reversedWMS is a WMS whose feed delivers the events of every page in
// reverse order, as a feed may reorder them within a page (faults'
// Config.Reorder does so at random).
type reversedWMS struct{ connector.WMS }

func (w reversedWMS) PollEvents(ctx context.Context, cur connector.Cursor, limit int) (connector.Page, error) {
	p, err := w.WMS.PollEvents(ctx, cur, limit)
	p.Events = slices.Clone(p.Events)
	slices.Reverse(p.Events)
	return p, err
}

func (w reversedWMS) Unwrap() any { return w.WMS }

// TestReturnReceiptsReorderedInPage receives a return in two receipts
// read in one page of the WMS's feed that delivers them in reverse order.
// Each return.received event carries the return as received so far, so a
// handler given the second receipt first would credit both receipts in one
// credit memo and find nothing new in the first: the flow restores the
// return's sequence within the page, and the ERP posts one credit memo per
// receipt.
func TestReturnReceiptsReorderedInPage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newSystems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.wrapWMS = func(c connector.WMS) connector.WMS { return reversedWMS{c} }
		w.connect(t, nil, flow.Config{Log: w.log})
		id := shipForReturn(t, w)
		ret := w.authorize(t, id, "L1:3", "L2:5")
		w.settle(t)
		require.Len(t, ret.Lines, 2, "lines of %s", ret.ID)
		w.receive(t, ret.ID, ret.Lines[0].ID+":3:damaged:scrap")
		w.receive(t, ret.ID, ret.Lines[1].ID+":5:new:restock")
		w.settle(t)
		v := checkReturns(t, w, id)
		require.Len(t, v.CreditMemos, 2, "one credit memo per receipt of %s", ret.ID)
		for i, want := range []string{"L1", "L2"} {
			require.Len(t, v.CreditMemos[i].Lines, 1, "lines of credit memo %d", i)
			assert.Equal(t, want, v.CreditMemos[i].Lines[0].OrderLineID, "order line of credit memo %d", i)
		}
		assert.Equal(t, 2, w.erp.Counts().CreditMemos, "credit memos posted")
		assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
	})
}
