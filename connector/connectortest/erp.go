package connectortest

import (
	"errors"
	"testing"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/kit"
)

// RunERP checks an ERP connector against the contracts of
// [connector.ERP]. newERP returns a harness over a fresh system; it is
// called once per check, from the check's subtest, which is named for the
// contract it checks. A failure quotes the contract sentence it broke.
func RunERP(t *testing.T, newERP func(t *testing.T) ERPHarness) {
	t.Helper()
	for _, c := range erpChecks {
		t.Run(c.name, func(t *testing.T) {
			kt := kit.Contract(t, c.contract)
			c.run(kt, openERP(kt, func(kit.T) (ERPHarness, error) { return newERP(t), nil }))
		})
	}
}

// CheckERP runs the checks of [RunERP] outside a test, each on a
// harness newHarness returns over a fresh system, and returns their
// failures joined into one error, each prefixed with the name of its
// check and the contract sentence it broke; nil means the ERP passed. An
// error from newHarness fails the check it was called for. Outside a test
// there is no *testing.T: the harness's Reopen is called with nil.
func CheckERP(newHarness func() (ERPHarness, error)) error {
	var errs []error
	for _, c := range erpChecks {
		errs = append(errs, kit.Run(c.name, func(t kit.T) {
			t = kit.Contract(t, c.contract)
			c.run(t, openERP(t, func(kit.T) (ERPHarness, error) { return newHarness() }))
		}))
	}
	return errors.Join(errs...)
}

// openERP returns the harness newHarness returns for the check t, after
// checking its required fields and filling in its defaults.
func openERP(t kit.T, newHarness func(t kit.T) (ERPHarness, error)) ERPHarness {
	t.Helper()
	h, err := newHarness(t)
	if err != nil {
		t.Fatalf("creating the harness: %v", err)
	}
	if h.ERP == nil || h.Order == nil || h.Positions == nil || h.Effects == nil {
		t.Fatalf("ERPHarness: ERP, Order, Positions and Effects are required")
	}
	if h.Shipment == nil {
		h.Shipment = ShipAll
	}
	if h.Return == nil {
		h.Return = ReturnAll
	}
	return h
}

// erpChecks are the checks of [RunERP], in the order they run, each with
// the sentence of the contract it checks.
var erpChecks = []struct {
	name, contract string
	run            func(t kit.T, h ERPHarness)
}{
	{"ValidateOrder", "ValidateOrder accepts a valid order and refuses a malformed one with CodeInvalid naming the field.", testValidateOrder},
	{"AcceptOrder", "AcceptOrder returns a valid result pointing back at the order; the same key replays it with one effect, and the same key with another order is a CodeConflict.", testAcceptOrder},
	{"GetOrder", "GetOrder returns an accepted order, and CodeNotFound for an unknown ID.", testGetOrder},
	{"PostShipment", "PostShipment posts a valid shipment once per key, refuses malformed input with CodeInvalid and unknown orders with CodeNotFound.", testPostShipment},
	{"PostReturn", "PostReturn posts a valid return once per key, refuses malformed input with CodeInvalid and unknown orders with CodeNotFound.", testPostReturn},
	{"ApplyInventory", "ApplyInventory applies positions once per key and refuses malformed positions with CodeInvalid.", testApplyInventory},
	{"Concurrent", "Concurrent duplicate calls have one effect.", testERPConcurrent},
	{"Reopen", "A reopened instance answers from the same state.", testERPReopenIfSet},
	{"Cancelled", "A call with a cancelled context fails with an error matching context.Canceled and has no effect.", testERPCancelled},
	{"Capabilities", "The optional capabilities the harness declares are found with connector.As.", testERPCapabilities},
	{"Events", "An ERP claiming Events has a feed that pages, resumes and never skips, whose events are valid canonical events.", checkERPEvents},
	{"OrderCanceller", "An ERP claiming Cancel cancels a line once per key and refuses unknown lines, unknown orders, a reused key and more than the line's quantity.", checkOrderCanceller},
	{"OrderChanger", "An ERP claiming Change applies a change once per key, changes nothing for a version it holds, refuses a reused key, unknown orders and malformed changes, and refuses to take away what has shipped.", checkOrderChanger},
}

// testERPReopenIfSet checks keys surviving a restart when the harness
// can reopen the ERP.
func testERPReopenIfSet(t kit.T, h ERPHarness) {
	if h.Reopen == nil {
		t.Logf("ERPHarness.Reopen is nil: keys surviving a restart are not checked")
		return
	}
	testERPReopen(t, h)
}

// testERPCapabilities checks the optional parts the harness declares.
func testERPCapabilities(t kit.T, h ERPHarness) {
	checkHealth(t, h.ERP, h.Capabilities)
}

// invalidOrder returns o with the quantity of its first line zeroed, and
// the canonical validation error of the result.
func invalidOrder(o canonical.Order) (canonical.Order, error) {
	o.Lines = append([]canonical.OrderLine(nil), o.Lines...)
	if len(o.Lines) > 0 {
		o.Lines[0].Quantity = canonical.Quantity{Unit: o.Lines[0].Quantity.Unit}
	}
	return o, o.Validate()
}

func testValidateOrder(t kit.T, h ERPHarness) {
	ctx := t.Context()
	o := h.Order(1)
	if err := o.Validate(); err != nil {
		t.Fatalf("harness Order(1) is invalid: %v", err)
	}
	before := h.Effects()
	ack, err := h.ERP.ValidateOrder(ctx, &o)
	if err != nil {
		t.Fatalf("ValidateOrder(%s): %v", o.ID, err)
	}
	checkAck(t, ack, o, "ValidateOrder")
	if after := h.Effects(); after != before {
		t.Errorf("ValidateOrder(%s) had an effect: %+v, then %+v", o.ID, before, after)
	}
	if _, err := h.ERP.GetOrder(ctx, o.ID); connector.CodeOf(err) != connector.CodeNotFound {
		t.Errorf("GetOrder(%s) after ValidateOrder only: error = %v, want not_found", o.ID, err)
	}

	bad, want := invalidOrder(h.Order(2))
	_, err = h.ERP.ValidateOrder(ctx, &bad)
	checkInvalid(t, err, want, "lines[0].quantity", "ValidateOrder with a zero quantity")
	_, err = h.ERP.ValidateOrder(ctx, nil)
	checkCode(t, err, connector.CodeInvalid, "ValidateOrder(nil)")
}

// checkAck checks an ack for o that must not be a rejection.
func checkAck(t kit.T, ack canonical.OrderAck, o canonical.Order, what string) {
	t.Helper()
	if err := ack.Validate(); err != nil {
		t.Errorf("%s(%s): the ack is invalid: %v", what, o.ID, err)
	}
	if ack.OrderID != o.ID {
		t.Errorf("%s(%s): ack.OrderID = %q", what, o.ID, ack.OrderID)
	}
	if ack.Outcome == canonical.AckRejected {
		t.Errorf("%s(%s): the harness's valid order was rejected: %+v", what, o.ID, ack.Messages)
	}
}

// accept accepts h.Order(n) with a key of its own and returns the order
// and the ack.
func accept(t kit.T, h ERPHarness, n int) (canonical.Order, canonical.OrderAck) {
	t.Helper()
	o := h.Order(n)
	ack, err := h.ERP.AcceptOrder(t.Context(), "kit-accept-"+o.ID, &o)
	if err != nil {
		t.Fatalf("AcceptOrder(%s): %v", o.ID, err)
	}
	return o, ack
}

func testAcceptOrder(t kit.T, h ERPHarness) {
	ctx := t.Context()
	o := h.Order(1)
	key := "kit-accept-" + o.ID
	before := h.Effects()
	ack, err := h.ERP.AcceptOrder(ctx, key, &o)
	if err != nil {
		t.Fatalf("AcceptOrder(%s): %v", o.ID, err)
	}
	checkAck(t, ack, o, "AcceptOrder")
	if got := h.Effects().Orders - before.Orders; got != 1 {
		t.Errorf("AcceptOrder(%s) created %d orders, want 1", o.ID, got)
	}

	again, err := h.ERP.AcceptOrder(ctx, key, &o)
	if err != nil {
		t.Fatalf("AcceptOrder(%s) replayed with key %q: %v", o.ID, key, err)
	}
	if !sameJSON(ack, again) {
		t.Errorf("AcceptOrder(%s) replayed with key %q returned another ack:\n first %+v\nreplay %+v", o.ID, key, ack, again)
	}
	if got := h.Effects().Orders - before.Orders; got != 1 {
		t.Errorf("AcceptOrder(%s) twice with key %q created %d orders, want 1", o.ID, key, got)
	}

	other := h.Order(2)
	_, err = h.ERP.AcceptOrder(ctx, key, &other)
	checkCode(t, err, connector.CodeConflict, "AcceptOrder of another order with a used key")

	bad, want := invalidOrder(h.Order(3))
	_, err = h.ERP.AcceptOrder(ctx, "kit-accept-bad", &bad)
	checkInvalid(t, err, want, "lines[0].quantity", "AcceptOrder with a zero quantity")
	_, err = h.ERP.AcceptOrder(ctx, "kit-accept-nil", nil)
	checkCode(t, err, connector.CodeInvalid, "AcceptOrder(nil)")
	if got := h.Effects().Orders - before.Orders; got != 1 {
		t.Errorf("rejected AcceptOrder calls created orders: %d in all, want 1", got)
	}
}

func testGetOrder(t kit.T, h ERPHarness) {
	ctx := t.Context()
	o, _ := accept(t, h, 1)
	got, err := h.ERP.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatalf("GetOrder(%s): %v", o.ID, err)
	}
	if got.ID != o.ID {
		t.Errorf("GetOrder(%s).ID = %q", o.ID, got.ID)
	}
	if len(got.Lines) != len(o.Lines) {
		t.Errorf("GetOrder(%s) has %d lines, want %d", o.ID, len(got.Lines), len(o.Lines))
	}
	for _, l := range o.Lines {
		if got.Line(l.ID) == nil {
			t.Errorf("GetOrder(%s) lacks line %q", o.ID, l.ID)
		}
	}
	_, err = h.ERP.GetOrder(ctx, "kit-no-such-order")
	checkCode(t, err, connector.CodeNotFound, "GetOrder of an unknown ID")
}

func testPostShipment(t kit.T, h ERPHarness) {
	ctx := t.Context()
	o, _ := accept(t, h, 1)
	s := h.Shipment(o, 1)
	if err := s.Validate(); err != nil {
		t.Fatalf("harness Shipment is invalid: %v", err)
	}
	key := "kit-ship-" + s.ID
	before := h.Effects()
	inv, err := h.ERP.PostShipment(ctx, key, s)
	if err != nil {
		t.Fatalf("PostShipment(%s): %v", s.ID, err)
	}
	if err := inv.Validate(); err != nil {
		t.Errorf("PostShipment(%s): the invoice is invalid: %v", s.ID, err)
	}
	if inv.Kind != canonical.InvoiceStandard || inv.OrderID != o.ID {
		t.Errorf("PostShipment(%s): invoice kind %q order %q, want %q for %q", s.ID, inv.Kind, inv.OrderID, canonical.InvoiceStandard, o.ID)
	}
	again, err := h.ERP.PostShipment(ctx, key, s)
	if err != nil {
		t.Fatalf("PostShipment(%s) replayed: %v", s.ID, err)
	}
	if !sameJSON(inv, again) {
		t.Errorf("PostShipment(%s) replayed with key %q returned another invoice:\n first %+v\nreplay %+v", s.ID, key, inv, again)
	}
	if got := h.Effects().Invoices - before.Invoices; got != 1 {
		t.Errorf("PostShipment(%s) twice with key %q produced %d invoices, want 1", s.ID, key, got)
	}

	other := h.Shipment(o, 2)
	_, err = h.ERP.PostShipment(ctx, key, other)
	checkCode(t, err, connector.CodeConflict, "PostShipment of another shipment with a used key")

	unknown := ShipAll(h.Order(9), 1)
	unknown.OrderID = "kit-no-such-order"
	_, err = h.ERP.PostShipment(ctx, "kit-ship-unknown", unknown)
	checkCode(t, err, connector.CodeNotFound, "PostShipment for an unknown order")

	bad := h.Shipment(o, 3)
	bad.Lines = append([]canonical.ShipmentLine(nil), bad.Lines...)
	bad.Lines[0].Quantity = canonical.Quantity{Unit: bad.Lines[0].Quantity.Unit}
	_, err = h.ERP.PostShipment(ctx, "kit-ship-bad", bad)
	checkInvalid(t, err, bad.Validate(), "lines[0].quantity", "PostShipment with a zero quantity")
	if got := h.Effects().Invoices - before.Invoices; got != 1 {
		t.Errorf("failed PostShipment calls produced invoices: %d in all, want 1", got)
	}
}

// ship accepts h.Order(n) and posts its shipment 1, returning both.
func ship(t kit.T, h ERPHarness, n int) (canonical.Order, canonical.Shipment) {
	t.Helper()
	o, _ := accept(t, h, n)
	s := h.Shipment(o, 1)
	if _, err := h.ERP.PostShipment(t.Context(), "kit-ship-"+s.ID, s); err != nil {
		t.Fatalf("PostShipment(%s): %v", s.ID, err)
	}
	return o, s
}

func testPostReturn(t kit.T, h ERPHarness) {
	ctx := t.Context()
	o, s := ship(t, h, 1)
	r := h.Return(o, s, 1)
	if err := r.Validate(); err != nil {
		t.Fatalf("harness Return is invalid: %v", err)
	}
	key := "kit-return-" + r.ID
	before := h.Effects()
	memo, err := h.ERP.PostReturn(ctx, key, r)
	if err != nil {
		t.Fatalf("PostReturn(%s): %v", r.ID, err)
	}
	if err := memo.Validate(); err != nil {
		t.Errorf("PostReturn(%s): the credit memo is invalid: %v", r.ID, err)
	}
	if memo.Kind != canonical.InvoiceCreditMemo {
		t.Errorf("PostReturn(%s): kind %q, want %q", r.ID, memo.Kind, canonical.InvoiceCreditMemo)
	}
	again, err := h.ERP.PostReturn(ctx, key, r)
	if err != nil {
		t.Fatalf("PostReturn(%s) replayed: %v", r.ID, err)
	}
	if !sameJSON(memo, again) {
		t.Errorf("PostReturn(%s) replayed with key %q returned another memo:\n first %+v\nreplay %+v", r.ID, key, memo, again)
	}
	if got := h.Effects().CreditMemos - before.CreditMemos; got != 1 {
		t.Errorf("PostReturn(%s) twice with key %q produced %d credit memos, want 1", r.ID, key, got)
	}

	unknown := ReturnAll(o, s, 9)
	unknown.OrderID = "kit-no-such-order"
	_, err = h.ERP.PostReturn(ctx, "kit-return-unknown", unknown)
	checkCode(t, err, connector.CodeNotFound, "PostReturn for an unknown order")

	bad := h.Return(o, s, 2)
	bad.RMANumber = ""
	_, err = h.ERP.PostReturn(ctx, "kit-return-bad", bad)
	checkInvalid(t, err, bad.Validate(), "rmaNumber", "PostReturn without an RMA number")
	if got := h.Effects().CreditMemos - before.CreditMemos; got != 1 {
		t.Errorf("failed PostReturn calls produced credit memos: %d in all, want 1", got)
	}
}

func testApplyInventory(t kit.T, h ERPHarness) {
	ctx := t.Context()
	ps := h.Positions(1)
	if len(ps) == 0 {
		t.Fatalf("harness Positions(1) is empty")
	}
	for i, p := range ps {
		if err := p.Validate(); err != nil {
			t.Fatalf("harness Positions(1)[%d] is invalid: %v", i, err)
		}
	}
	before := h.Effects()
	if err := h.ERP.ApplyInventory(ctx, "kit-inv-1", ps); err != nil {
		t.Fatalf("ApplyInventory: %v", err)
	}
	if err := h.ERP.ApplyInventory(ctx, "kit-inv-1", ps); err != nil {
		t.Fatalf("ApplyInventory replayed: %v", err)
	}
	if got := h.Effects().InventoryApplications - before.InventoryApplications; got != 1 {
		t.Errorf("ApplyInventory twice with one key applied %d times, want 1", got)
	}
	if err := h.ERP.ApplyInventory(ctx, "kit-inv-2", h.Positions(2)); err != nil {
		t.Fatalf("ApplyInventory of newer positions: %v", err)
	}
	if got := h.Effects().InventoryApplications - before.InventoryApplications; got != 2 {
		t.Errorf("ApplyInventory of newer positions with a new key: %d applications in all, want 2", got)
	}

	bad := append([]canonical.InventoryPosition(nil), h.Positions(3)...)
	bad[0].Location = ""
	err := h.ERP.ApplyInventory(ctx, "kit-inv-bad", bad)
	checkInvalid(t, err, bad[0].Validate(), "location", "ApplyInventory without a location")
}

func testERPConcurrent(t kit.T, h ERPHarness) {
	ctx := t.Context()
	o := h.Order(1)
	before := h.Effects()
	acks, errs := runDuplicates(func() (canonical.OrderAck, error) {
		return h.ERP.AcceptOrder(ctx, "kit-accept-"+o.ID, &o)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent AcceptOrder(%s) #%d: %v", o.ID, i, err)
		}
		if !sameJSON(acks[0], acks[i]) {
			t.Errorf("concurrent AcceptOrder(%s) #%d returned another ack", o.ID, i)
		}
	}
	if got := h.Effects().Orders - before.Orders; got != 1 {
		t.Errorf("%d concurrent AcceptOrder(%s) with one key created %d orders, want 1", duplicates, o.ID, got)
	}

	s := h.Shipment(o, 1)
	invs, errs := runDuplicates(func() (canonical.Invoice, error) {
		return h.ERP.PostShipment(ctx, "kit-ship-"+s.ID, s)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent PostShipment(%s) #%d: %v", s.ID, i, err)
		}
		if !sameJSON(invs[0], invs[i]) {
			t.Errorf("concurrent PostShipment(%s) #%d returned another invoice", s.ID, i)
		}
	}
	if got := h.Effects().Invoices - before.Invoices; got != 1 {
		t.Errorf("%d concurrent PostShipment(%s) with one key produced %d invoices, want 1", duplicates, s.ID, got)
	}

	// Different orders at once: each is accepted exactly once.
	orders := make([]canonical.Order, duplicates)
	for i := range orders {
		orders[i] = h.Order(100 + i)
	}
	next := make(chan int, duplicates)
	for i := range duplicates {
		next <- i
	}
	close(next)
	_, errs = runDuplicates(func() (canonical.OrderAck, error) {
		i := <-next
		return h.ERP.AcceptOrder(ctx, "kit-accept-"+orders[i].ID, &orders[i])
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent AcceptOrder of distinct orders, call #%d: %v", i, err)
		}
	}
	if got := h.Effects().Orders - before.Orders; got != 1+duplicates {
		t.Errorf("after %d distinct concurrent orders: %d orders created, want %d", duplicates, got, 1+duplicates)
	}
}

func testERPReopen(t kit.T, h ERPHarness) {
	ctx := t.Context()
	o, ack := accept(t, h, 1)
	s := h.Shipment(o, 1)
	inv, err := h.ERP.PostShipment(ctx, "kit-ship-"+s.ID, s)
	if err != nil {
		t.Fatalf("PostShipment(%s): %v", s.ID, err)
	}
	before := h.Effects()
	erp := h.Reopen(kit.Testing(t))
	again, err := erp.AcceptOrder(ctx, "kit-accept-"+o.ID, &o)
	if err != nil {
		t.Fatalf("AcceptOrder(%s) replayed on a reopened instance: %v", o.ID, err)
	}
	if !sameJSON(ack, again) {
		t.Errorf("AcceptOrder(%s) replayed on a reopened instance returned another ack:\n first %+v\nreplay %+v", o.ID, ack, again)
	}
	invAgain, err := erp.PostShipment(ctx, "kit-ship-"+s.ID, s)
	if err != nil {
		t.Fatalf("PostShipment(%s) replayed on a reopened instance: %v", s.ID, err)
	}
	if !sameJSON(inv, invAgain) {
		t.Errorf("PostShipment(%s) replayed on a reopened instance returned another invoice", s.ID)
	}
	if got, err := erp.GetOrder(ctx, o.ID); err != nil || got.ID != o.ID {
		t.Errorf("GetOrder(%s) on a reopened instance: %v", o.ID, err)
	}
	if after := h.Effects(); after != before {
		t.Errorf("replays on a reopened instance had effects: %+v, then %+v", before, after)
	}
}

func testERPCancelled(t kit.T, h ERPHarness) {
	ctx := cancelled(t)
	o := h.Order(1)
	before := h.Effects()
	_, err := h.ERP.ValidateOrder(ctx, &o)
	checkCancelled(t, err, "ValidateOrder")
	_, err = h.ERP.AcceptOrder(ctx, "kit-accept-"+o.ID, &o)
	checkCancelled(t, err, "AcceptOrder")
	_, err = h.ERP.GetOrder(ctx, o.ID)
	checkCancelled(t, err, "GetOrder")
	s := h.Shipment(o, 1)
	_, err = h.ERP.PostShipment(ctx, "kit-ship-"+s.ID, s)
	checkCancelled(t, err, "PostShipment")
	_, err = h.ERP.PostReturn(ctx, "kit-return", h.Return(o, s, 1))
	checkCancelled(t, err, "PostReturn")
	err = h.ERP.ApplyInventory(ctx, "kit-inv", h.Positions(1))
	checkCancelled(t, err, "ApplyInventory")
	if after := h.Effects(); after != before {
		t.Errorf("calls with a cancelled context had effects: %+v, then %+v", before, after)
	}
	// The key of the cancelled call must not be marked as done.
	if _, err := h.ERP.AcceptOrder(t.Context(), "kit-accept-"+o.ID, &o); err != nil {
		t.Errorf("AcceptOrder(%s) after a cancelled call with the same key: %v", o.ID, err)
	}
}

// checkHealth checks the health capability of c when caps claims it.
func checkHealth(t kit.T, c any, caps Capabilities) {
	t.Helper()
	hc, ok := connector.As[connector.HealthChecker](c)
	if caps.Health && !ok {
		t.Errorf("Capabilities.Health is set but %T does not implement connector.HealthChecker", c)
		return
	}
	if !caps.Health {
		return
	}
	if err := hc.Health(t.Context()); err != nil {
		t.Errorf("Health of a fresh system: %v", err)
	}
	err := hc.Health(cancelled(t))
	checkCancelled(t, err, "Health")
}
