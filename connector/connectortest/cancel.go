package connectortest

import (
	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/kit"
)

// checkERPEvents checks the ERP's optional event feed when caps claims
// it: paging, resuming from a stored cursor (on a reopened instance when
// the harness can reopen), cancellation, and that every event is of a
// known type carrying a valid document.
func checkERPEvents(t kit.T, h ERPHarness) {
	t.Helper()
	feed, ok := connector.As[connector.EventFeed](h.ERP)
	if h.Capabilities.Events && !ok {
		t.Errorf("Capabilities.Events is set but %T does not implement connector.EventFeed", h.ERP)
		return
	}
	if !h.Capabilities.Events {
		return
	}
	if h.AddEvents == nil {
		t.Fatalf("ERPHarness: Capabilities.Events needs AddEvents")
	}
	if err := h.AddEvents(t.Context(), 7); err != nil {
		t.Fatalf("AddEvents(7): %v", err)
	}
	reopen := func(t kit.T) pollFunc {
		if h.Reopen == nil {
			return feed.PollEvents
		}
		f, ok := connector.As[connector.EventFeed](h.Reopen(kit.Testing(t)))
		if !ok {
			t.Fatalf("a reopened ERP does not implement connector.EventFeed")
		}
		return f.PollEvents
	}
	checkFeed(t, feed.PollEvents, reopen, 7, h.Capabilities.RepeatsEvents, "ERP PollEvents")
	es, _ := readFeed(t, feed.PollEvents, "", 1000, h.Capabilities.RepeatsEvents, "ERP PollEvents")
	for _, e := range es {
		// checkFeed checked every event's type and data; a cancel
		// request must also be about the order its subject names.
		// So must an amendment.
		switch kind, _ := canonical.EventKind(e.Type); kind {
		case canonical.KindCancelRequest:
			if r, err := canonical.DecodeData[canonical.CancelRequest](e); err == nil && r.OrderID != e.Subject {
				t.Errorf("ERP PollEvents: event %v is about order %q but its subject is %q", e.Key(), r.OrderID, e.Subject)
			}
		case canonical.KindOrderAmendment:
			if a, err := canonical.DecodeData[canonical.OrderAmendment](e); err == nil && a.OrderID != e.Subject {
				t.Errorf("ERP PollEvents: event %v is about order %q but its subject is %q", e.Key(), a.OrderID, e.Subject)
			}
		}
	}
}

// checkOrderCanceller checks the ERP's optional OrderCanceller when caps
// claims it: the cancelled bucket grows once per key, replays and
// concurrent duplicates have one effect, bad requests get their codes.
func checkOrderCanceller(t kit.T, h ERPHarness) {
	t.Helper()
	oc, ok := connector.As[connector.OrderCanceller](h.ERP)
	if h.Capabilities.Cancel && !ok {
		t.Errorf("Capabilities.Cancel is set but %T does not implement connector.OrderCanceller", h.ERP)
		return
	}
	if !h.Capabilities.Cancel {
		return
	}
	ctx := t.Context()
	o, _ := accept(t, h, 1)
	l := o.Lines[len(o.Lines)-1]
	one := canonical.NewQuantity(canonical.DecimalFromInt(1), l.Quantity.Unit)
	c := connector.OrderCancellation{OrderID: o.ID, Lines: []connector.LineQuantity{{LineID: l.ID, Quantity: one}}, Reason: "kit"}
	cancelledOf := func(got canonical.Order, what string) canonical.Decimal {
		t.Helper()
		gl := got.Line(l.ID)
		if gl == nil {
			t.Fatalf("%s: the order lacks line %q", what, l.ID)
		}
		return gl.Buckets.Get(canonical.BucketCancelled)
	}

	before := h.Effects()
	_, err := oc.CancelOrderLines(cancelled(t), "kit-cancel-1", c)
	checkCancelled(t, err, "CancelOrderLines")
	got, err := oc.CancelOrderLines(ctx, "kit-cancel-1", c)
	if err != nil {
		t.Fatalf("CancelOrderLines(%s, 1 of %s): %v", o.ID, l.ID, err)
	}
	if v := cancelledOf(got, "CancelOrderLines"); !v.Equal(one.Value) {
		t.Errorf("CancelOrderLines(%s, 1 of %s): cancelled %s, want 1", o.ID, l.ID, v)
	}
	if got := h.Effects().Cancellations - before.Cancellations; got != 1 {
		t.Errorf("CancelOrderLines had %d effects, want 1", got)
	}
	again, err := oc.CancelOrderLines(ctx, "kit-cancel-1", c)
	if err != nil {
		t.Fatalf("CancelOrderLines(%s) replayed: %v", o.ID, err)
	}
	if v := cancelledOf(again, "replay"); !v.Equal(one.Value) {
		t.Errorf("CancelOrderLines replayed with its key: cancelled %s, want still 1", v)
	}
	// Concurrent duplicates of a new key cancel once more, not eight times.
	_, errs := runDuplicates(func() (canonical.Order, error) { return oc.CancelOrderLines(ctx, "kit-cancel-2", c) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent CancelOrderLines #%d: %v", i, err)
		}
	}
	if got := h.Effects().Cancellations - before.Cancellations; got != 2 {
		t.Errorf("two keys (one replayed, one sent %d times at once) had %d effects, want 2", duplicates, got)
	}
	view, err := h.ERP.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatalf("GetOrder(%s): %v", o.ID, err)
	}
	two := canonical.DecimalFromInt(2)
	if v := cancelledOf(view, "GetOrder"); !v.Equal(two) {
		t.Errorf("GetOrder(%s) after two cancellations of 1: cancelled %s, want 2", o.ID, v)
	}

	other := c
	other.Reason = "another"
	_, err = oc.CancelOrderLines(ctx, "kit-cancel-1", other)
	checkCode(t, err, connector.CodeConflict, "CancelOrderLines of another cancellation with a used key")
	unknown := c
	unknown.OrderID = "kit-no-such-order"
	_, err = oc.CancelOrderLines(ctx, "kit-cancel-unknown", unknown)
	checkCode(t, err, connector.CodeNotFound, "CancelOrderLines of an unknown order")
	badLine := c
	badLine.Lines = []connector.LineQuantity{{LineID: "kit-no-such-line", Quantity: one}}
	_, err = oc.CancelOrderLines(ctx, "kit-cancel-badline", badLine)
	checkInvalid(t, err, nil, "lines[0].lineId", "CancelOrderLines of an unknown line")
	tooMuch := c
	tooMuch.Lines = []connector.LineQuantity{{LineID: l.ID, Quantity: l.Quantity}}
	_, err = oc.CancelOrderLines(ctx, "kit-cancel-toomuch", tooMuch)
	checkCode(t, err, connector.CodeConflict, "CancelOrderLines of more than is open")
	if got := h.Effects().Cancellations - before.Cancellations; got != 2 {
		t.Errorf("refused CancelOrderLines calls had effects: %d in all, want 2", got)
	}
}

// checkCancelRequests checks that a cancellation request made in the CRM
// appears on its order feed as an [canonical.EventOrderCancelRequested]
// event about the order, with a valid request.
func checkCancelRequests(t kit.T, h CRMHarness, orders []canonical.Order) {
	t.Helper()
	if h.RequestCancellation == nil {
		return
	}
	o := orders[0]
	if err := h.RequestCancellation(t.Context(), o.ID); err != nil {
		t.Fatalf("RequestCancellation(%s): %v", o.ID, err)
	}
	es, _ := readFeed(t, h.CRM.PollOrders, "", 1000, h.Capabilities.RepeatsEvents, "PollOrders")
	found := false
	for _, e := range es {
		if e.Type != canonical.EventOrderCancelRequested {
			continue
		}
		r, err := canonical.DecodeData[canonical.CancelRequest](e)
		if err != nil {
			t.Errorf("PollOrders: event %v: %v", e.Key(), err)
			continue
		}
		if r.OrderID == o.ID && e.Subject == o.ID {
			found = true
		}
	}
	if !found {
		t.Errorf("PollOrders: no %s event about order %s after RequestCancellation", canonical.EventOrderCancelRequested, o.ID)
	}
}
