package connectortest

// The checks of the optional change roles: connector.OrderChanger of an
// ERP (Capabilities.Change) and connector.ReleaseChanger of a WMS
// (Capabilities.ReleaseChange).

import (
	"slices"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/kit"
)

// changeN is the harness order and fulfilment order number the change
// checks use, apart from those of the other checks.
const changeN = 41

// netOrdered returns ordered − cancelled − rejected of line id of o.
func netOrdered(t kit.T, o canonical.Order, id, what string) canonical.Decimal {
	t.Helper()
	l := o.Line(id)
	if l == nil {
		t.Fatalf("%s: order %s lacks line %q", what, o.ID, id)
	}
	n, err := l.Buckets.NetOrdered()
	if err != nil {
		t.Fatalf("%s: line %q: %v", what, id, err)
	}
	return n
}

// quantityResult returns the quantity result of line in rs, checking that
// it is valid and that applied + refused is delta.
func quantityResult(t kit.T, rs []canonical.ChangeResult, line string, delta canonical.Quantity, what string) canonical.ChangeResult {
	t.Helper()
	i := slices.IndexFunc(rs, func(r canonical.ChangeResult) bool {
		return r.LineID == line && r.Field == canonical.ChangeFieldQuantity
	})
	if i < 0 {
		t.Fatalf("%s: no quantity result for line %q in %+v", what, line, rs)
	}
	r := rs[i]
	if err := r.Validate(); err != nil {
		t.Fatalf("%s: result of line %q: %v", what, line, err)
	}
	if sum, err := r.Applied.Add(*r.Refused); err != nil || !sum.Equal(delta) {
		t.Errorf("%s: line %q: applied %v + refused %v is not the delta %v", what, line, r.Applied, r.Refused, delta)
	}
	return r
}

// checkOrderChanger checks an ERP that claims Capabilities.Change.
func checkOrderChanger(t kit.T, h ERPHarness) {
	t.Helper()
	oc, ok := connector.As[connector.OrderChanger](h.ERP)
	if h.Capabilities.Change && !ok {
		t.Errorf("Capabilities.Change is set but %T does not implement connector.OrderChanger", h.ERP)
		return
	}
	if !h.Capabilities.Change {
		return
	}
	ctx := t.Context()
	o, _ := accept(t, h, changeN)
	held, err := h.ERP.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatalf("GetOrder(%s): %v", o.ID, err)
	}
	// Version 2 takes one unit off the last line.
	l := o.Lines[len(o.Lines)-1]
	one := canonical.NewQuantity(canonical.DecimalFromInt(1), l.Quantity.Unit)
	minusOne := canonical.NewQuantity(one.Value.Neg(), l.Quantity.Unit)
	v2 := o
	v2.Version = held.Version + 1
	v2.Lines = slices.Clone(o.Lines)
	less, err := l.Quantity.Sub(one)
	if err != nil || !less.Value.IsPos() {
		t.Fatalf("ERPHarness.Order(%d): the last line needs more than 1 to take one off, has %v", changeN, l.Quantity)
	}
	v2.Lines[len(v2.Lines)-1].Quantity = less
	o.Version = held.Version
	c, err := canonical.DiffOrders(o, v2)
	if err != nil {
		t.Fatalf("DiffOrders: %v", err)
	}
	netBefore := netOrdered(t, held, l.ID, "GetOrder")

	before := h.Effects()
	_, err = oc.ChangeOrder(cancelled(t), "kit-change-1", c)
	checkCancelled(t, err, "ChangeOrder")
	ack, err := oc.ChangeOrder(ctx, "kit-change-1", c)
	if err != nil {
		t.Fatalf("ChangeOrder(%s, -1 of %s): %v", o.ID, l.ID, err)
	}
	if err := ack.Validate(); err != nil {
		t.Errorf("ChangeOrder(%s) returned an invalid ack: %v", o.ID, err)
	}
	if ack.OrderID != o.ID || ack.FromVersion != c.FromVersion || ack.ToVersion != c.ToVersion {
		t.Errorf("ChangeOrder(%s %d→%d) acked %s %d→%d", o.ID, c.FromVersion, c.ToVersion, ack.OrderID, ack.FromVersion, ack.ToVersion)
	}
	if r := quantityResult(t, ack.Results, l.ID, minusOne, "ChangeOrder"); r.Outcome != canonical.ChangeApplied {
		t.Errorf("ChangeOrder(%s): taking 1 off an unshipped line: %s (%s), want applied", o.ID, r.Outcome, r.Reason)
	}
	if got := h.Effects().Changes - before.Changes; got != 1 {
		t.Errorf("ChangeOrder had %d effects, want 1", got)
	}
	view, err := h.ERP.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatalf("GetOrder(%s): %v", o.ID, err)
	}
	if want, _ := netBefore.Sub(one.Value); !netOrdered(t, view, l.ID, "GetOrder after the change").Equal(want) {
		t.Errorf("GetOrder(%s) after taking 1 off line %s: ordered − cancelled − rejected = %s, want %s", o.ID, l.ID, netOrdered(t, view, l.ID, ""), want)
	}
	if view.Version != c.ToVersion {
		t.Errorf("GetOrder(%s) after the change: version %d, want %d", o.ID, view.Version, c.ToVersion)
	}

	again, err := oc.ChangeOrder(ctx, "kit-change-1", c)
	if err != nil {
		t.Fatalf("ChangeOrder(%s) replayed: %v", o.ID, err)
	}
	if !sameJSON(ack, again) {
		t.Errorf("ChangeOrder(%s) replayed returned another ack:\n first %+v\nreplay %+v", o.ID, ack, again)
	}
	// The same version again under another key changes nothing.
	stale, err := oc.ChangeOrder(ctx, "kit-change-stale", c)
	if err != nil {
		t.Fatalf("ChangeOrder(%s) of a version it holds: %v", o.ID, err)
	}
	if stale.Outcome != canonical.ChangeRefused {
		t.Errorf("ChangeOrder(%s) of a version it holds: outcome %s, want refused", o.ID, stale.Outcome)
	}
	for _, r := range stale.Results {
		if r.Reason != canonical.ChangeReasonStale {
			t.Errorf("ChangeOrder(%s) of a version it holds: %s %s refused for %q, want stale", o.ID, r.LineID, r.Field, r.Reason)
		}
	}
	if got := h.Effects().Changes - before.Changes; got != 1 {
		t.Errorf("a replay and a stale version had effects: %d in all, want 1", got)
	}

	// Concurrent duplicates of version 3 change once.
	v3 := v2
	v3.Version = v2.Version + 1
	v3.Lines = slices.Clone(v2.Lines)
	v3.ShipComplete = !v2.ShipComplete
	c3, err := canonical.DiffOrders(v2, v3)
	if err != nil {
		t.Fatalf("DiffOrders: %v", err)
	}
	_, errs := runDuplicates(func() (canonical.ChangeAck, error) { return oc.ChangeOrder(ctx, "kit-change-3", c3) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent ChangeOrder #%d: %v", i, err)
		}
	}
	if got := h.Effects().Changes - before.Changes; got != 2 {
		t.Errorf("two keys (one replayed, one sent %d times at once) had %d effects, want 2", duplicates, got)
	}

	other := c3
	other.ToVersion++
	_, err = oc.ChangeOrder(ctx, "kit-change-1", other)
	checkCode(t, err, connector.CodeConflict, "ChangeOrder of another change with a used key")
	unknown := c
	unknown.OrderID = "kit-no-such-order"
	_, err = oc.ChangeOrder(ctx, "kit-change-unknown", unknown)
	checkCode(t, err, connector.CodeNotFound, "ChangeOrder of an unknown order")
	malformed := c
	malformed.ToVersion = malformed.FromVersion
	_, err = oc.ChangeOrder(ctx, "kit-change-malformed", malformed)
	checkInvalid(t, err, malformed.Validate(), "toVersion", "ChangeOrder with ToVersion not above FromVersion")
	noOrder := c
	noOrder.OrderID = ""
	_, err = oc.ChangeOrder(ctx, "kit-change-noorder", noOrder)
	checkInvalid(t, err, nil, "orderId", "ChangeOrder without an order ID")
	if got := h.Effects().Changes - before.Changes; got != 2 {
		t.Errorf("refused ChangeOrder calls had effects: %d in all, want 2", got)
	}

	// What has shipped is not taken away.
	so, sh := ship(t, h, changeN+1)
	sv, err := h.ERP.GetOrder(ctx, so.ID)
	if err != nil {
		t.Fatalf("GetOrder(%s): %v", so.ID, err)
	}
	sl := sh.Lines[0]
	i := slices.IndexFunc(so.Lines, func(l canonical.OrderLine) bool { return l.ID == sl.OrderLineID })
	if i < 0 {
		t.Fatalf("shipment %s points at no line of order %s", sh.ID, so.ID)
	}
	sold := so
	sold.Version = sv.Version
	snew := so
	snew.Version = sv.Version + 1
	snew.Lines = slices.Clone(so.Lines)
	snew.Lines = slices.Delete(snew.Lines, i, i+1)
	cs, err := canonical.DiffOrders(sold, snew)
	if err != nil {
		t.Fatalf("DiffOrders: %v", err)
	}
	sack, err := oc.ChangeOrder(ctx, "kit-change-shipped", cs)
	if err != nil {
		t.Fatalf("ChangeOrder(%s) removing a shipped line: %v", so.ID, err)
	}
	removed := so.Lines[i].Quantity
	r := quantityResult(t, sack.Results, so.Lines[i].ID, canonical.NewQuantity(removed.Value.Neg(), removed.Unit), "ChangeOrder removing a shipped line")
	if r.Refused.IsZero() || r.Reason != canonical.ChangeReasonShipped {
		t.Errorf("ChangeOrder(%s) removing line %s after shipment %s of %v: refused %v for %q, want the shipped quantity refused for shipped",
			so.ID, so.Lines[i].ID, sh.ID, sl.Quantity, r.Refused, r.Reason)
	}
}

// checkReleaseChanger checks a WMS that claims Capabilities.ReleaseChange.
func checkReleaseChanger(t kit.T, h WMSHarness) {
	t.Helper()
	rc, ok := connector.As[connector.ReleaseChanger](h.WMS)
	if h.Capabilities.ReleaseChange && !ok {
		t.Errorf("Capabilities.ReleaseChange is set but %T does not implement connector.ReleaseChanger", h.WMS)
		return
	}
	if !h.Capabilities.ReleaseChange {
		return
	}
	ctx := t.Context()
	fo := release(t, h, changeN)
	k := slices.IndexFunc(fo.Lines, func(l canonical.FulfillmentLine) bool {
		return l.Quantity.Value.Cmp(canonical.DecimalFromInt(3)) >= 0
	})
	if k < 0 {
		t.Fatalf("WMSHarness.FulfillmentOrder(%d): a line of at least 3 is needed to take one off twice", changeN)
	}
	l := fo.Lines[k]
	one := canonical.NewQuantity(canonical.DecimalFromInt(1), l.Quantity.Unit)
	minusOne := canonical.NewQuantity(one.Value.Neg(), l.Quantity.Unit)
	req := connector.ReleaseChange{FulfillmentOrderID: fo.ID, Lines: []connector.ReleaseLineChange{{LineID: l.ID, Delta: minusOne}}, Reason: "kit"}

	before := h.Effects()
	_, err := rc.ChangeRelease(cancelled(t), "kit-rchange-1", req)
	checkCancelled(t, err, "ChangeRelease")
	res, err := rc.ChangeRelease(ctx, "kit-rchange-1", req)
	if err != nil {
		t.Fatalf("ChangeRelease(%s, -1 of %s): %v", fo.ID, l.ID, err)
	}
	if res.FulfillmentOrderID != fo.ID {
		t.Errorf("ChangeRelease(%s).FulfillmentOrderID = %q", fo.ID, res.FulfillmentOrderID)
	}
	if r := quantityResult(t, res.Results, l.ID, minusOne, "ChangeRelease"); r.Outcome != canonical.ChangeApplied {
		t.Errorf("ChangeRelease(%s) right after the release: taking 1 off %s: %s (%s), want applied", fo.ID, l.ID, r.Outcome, r.Reason)
	}
	if got := h.Effects().Changes - before.Changes; got != 1 {
		t.Errorf("ChangeRelease had %d effects, want 1", got)
	}
	again, err := rc.ChangeRelease(ctx, "kit-rchange-1", req)
	if err != nil {
		t.Fatalf("ChangeRelease(%s) replayed: %v", fo.ID, err)
	}
	if !sameJSON(res, again) {
		t.Errorf("ChangeRelease(%s) replayed returned another result:\n first %+v\nreplay %+v", fo.ID, res, again)
	}
	_, errs := runDuplicates(func() (connector.ReleaseChangeResult, error) { return rc.ChangeRelease(ctx, "kit-rchange-2", req) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent ChangeRelease #%d: %v", i, err)
		}
	}
	if got := h.Effects().Changes - before.Changes; got != 2 {
		t.Errorf("two keys (one replayed, one sent %d times at once) had %d effects, want 2", duplicates, got)
	}

	other := req
	other.Reason = "another"
	other.Lines = []connector.ReleaseLineChange{{LineID: l.ID, Delta: canonical.NewQuantity(canonical.DecimalFromInt(-2), l.Quantity.Unit)}}
	_, err = rc.ChangeRelease(ctx, "kit-rchange-1", other)
	checkCode(t, err, connector.CodeConflict, "ChangeRelease of another request with a used key")
	_, err = rc.ChangeRelease(ctx, "kit-rchange-unknown", connector.ReleaseChange{FulfillmentOrderID: "kit-no-such-fo", Lines: req.Lines})
	checkCode(t, err, connector.CodeNotFound, "ChangeRelease of an unknown fulfilment order")
	_, err = rc.ChangeRelease(ctx, "kit-rchange-empty", connector.ReleaseChange{Lines: req.Lines})
	checkInvalid(t, err, nil, "fulfillmentOrderId", "ChangeRelease without a fulfilment order ID")
	_, err = rc.ChangeRelease(ctx, "kit-rchange-badline", connector.ReleaseChange{FulfillmentOrderID: fo.ID,
		Lines: []connector.ReleaseLineChange{{LineID: "kit-no-such-line", Delta: minusOne}}})
	checkInvalid(t, err, nil, "lines[0].lineId", "ChangeRelease of an unknown line")
	_, err = rc.ChangeRelease(ctx, "kit-rchange-zero", connector.ReleaseChange{FulfillmentOrderID: fo.ID,
		Lines: []connector.ReleaseLineChange{{LineID: l.ID, Delta: canonical.NewQuantity(canonical.Decimal{}, l.Quantity.Unit)}}})
	checkInvalid(t, err, nil, "lines[0].delta.value", "ChangeRelease of a zero delta")
	if got := h.Effects().Changes - before.Changes; got != 2 {
		t.Errorf("refused ChangeRelease calls had effects: %d in all, want 2", got)
	}

	// Once the feed reports a shipment of the line, a decrease of the
	// whole released quantity is refused for at least what shipped.
	advance(t, h)
	events, _ := readFeed(t, h.WMS.PollEvents, "", 0, true, "the feed after Advance")
	shipped := canonical.Decimal{}
	for _, e := range events {
		if e.Type != canonical.EventFulfillmentShipped || e.Subject != fo.ID {
			continue
		}
		s, err := canonical.DecodeData[canonical.Shipment](e)
		if err != nil {
			t.Errorf("shipment event %s: %v", e.ID, err)
			continue
		}
		for _, sl := range s.Lines {
			if sl.FulfillmentLineID == l.ID {
				shipped, _ = shipped.Add(sl.Quantity.Value)
			}
		}
	}
	if !shipped.IsPos() {
		t.Logf("no shipment of %s after %d Advance calls: refusal of shipped quantity not checked", fo.ID, advanceSteps)
		return
	}
	all := canonical.NewQuantity(l.Quantity.Value.Neg(), l.Quantity.Unit)
	late, err := rc.ChangeRelease(ctx, "kit-rchange-late", connector.ReleaseChange{FulfillmentOrderID: fo.ID,
		Lines: []connector.ReleaseLineChange{{LineID: l.ID, Delta: all}}})
	if err != nil {
		t.Fatalf("ChangeRelease(%s) after a shipment: %v", fo.ID, err)
	}
	r := quantityResult(t, late.Results, l.ID, all, "ChangeRelease after a shipment")
	refused := r.Refused.Value.Abs()
	switch {
	case refused.Cmp(shipped) < 0:
		t.Errorf("ChangeRelease(%s) of %v after %s of line %s shipped: refused only %v", fo.ID, all, shipped, l.ID, r.Refused)
	case r.Reason != canonical.ChangeReasonPicked && r.Reason != canonical.ChangeReasonPacked && r.Reason != canonical.ChangeReasonShipped:
		t.Errorf("ChangeRelease(%s) after a shipment: refused for %q, want picked, packed or shipped", fo.ID, r.Reason)
	}
}
