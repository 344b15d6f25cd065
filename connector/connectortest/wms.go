package connectortest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/kit"
)

// advanceSteps is how many times the feed checks call WMSHarness.Advance
// after releasing their fulfilment orders.
const advanceSteps = 20

// RunWMS checks an WMS connector against the contracts of
// [connector.WMS]. newWMS returns a harness over a fresh system; it is
// called once per check, from the check's subtest, which is named for the
// contract it checks. A failure quotes the contract sentence it broke.
func RunWMS(t *testing.T, newWMS func(t *testing.T) WMSHarness) {
	t.Helper()
	for _, c := range wmsChecks {
		t.Run(c.name, func(t *testing.T) {
			kt := kit.Contract(t, c.contract)
			c.run(kt, openWMS(kt, func(kit.T) (WMSHarness, error) { return newWMS(t), nil }))
		})
	}
}

// CheckWMS runs the checks of [RunWMS] outside a test, each on a
// harness newHarness returns over a fresh system, and returns their
// failures joined into one error, each prefixed with the name of its
// check and the contract sentence it broke; nil means the WMS passed. An
// error from newHarness fails the check it was called for. Outside a test
// there is no *testing.T: the harness's Reopen is called with nil.
func CheckWMS(newHarness func() (WMSHarness, error)) error {
	var errs []error
	for _, c := range wmsChecks {
		errs = append(errs, kit.Run(c.name, func(t kit.T) {
			t = kit.Contract(t, c.contract)
			c.run(t, openWMS(t, func(kit.T) (WMSHarness, error) { return newHarness() }))
		}))
	}
	return errors.Join(errs...)
}

// openWMS returns the harness newHarness returns for the check t, after
// checking its required fields.
func openWMS(t kit.T, newHarness func(t kit.T) (WMSHarness, error)) WMSHarness {
	t.Helper()
	h, err := newHarness(t)
	if err != nil {
		t.Fatalf("creating the harness: %v", err)
	}
	if h.WMS == nil || h.Reopen == nil || h.FulfillmentOrder == nil || h.Return == nil || h.Advance == nil || h.Effects == nil {
		t.Fatalf("WMSHarness: every field but Capabilities is required")
	}
	return h
}

// wmsChecks are the checks of [RunWMS], in the order they run, each with
// the sentence of the contract it checks.
var wmsChecks = []struct {
	name, contract string
	run            func(t kit.T, h WMSHarness)
}{
	{"Release", "Release releases a valid fulfilment order once per key, keeping its extension attributes, and a released order with other lines is a CodeConflict.", testRelease},
	{"CancelRelease", "CancelRelease cancels a released fulfilment order once per key, and CodeNotFound for an unknown one.", testCancelRelease},
	{"Inventory", "Inventory reports the stock of the released items, and refuses malformed input.", testInventory},
	{"AuthorizeReturn", "AuthorizeReturn authorizes a valid return once per key and refuses malformed input with CodeInvalid.", testAuthorizeReturn},
	{"Feed", "The feed pages, keeps its cursor on an empty page, never skips or (unless declared) repeats an event, resumes on a reopened instance, and its events are valid canonical events.", testWMSFeed},
	{"Concurrent", "Concurrent duplicate calls have one effect.", testWMSConcurrent},
	{"Cancelled", "A call with a cancelled context fails with an error matching context.Canceled and has no effect.", testWMSCancelled},
	{"Capabilities", "The optional capabilities the harness declares are found with connector.As.", testWMSCapabilities},
	{"ReleaseChanger", "A WMS claiming ReleaseChange changes an unpicked release once per key, refuses a reused key, unknown fulfilment orders and malformed changes, and refuses to take away what has shipped.", checkReleaseChanger},
}

// testWMSCapabilities checks the optional parts the harness declares.
func testWMSCapabilities(t kit.T, h WMSHarness) {
	checkHealth(t, h.WMS, h.Capabilities)
	if h.Capabilities.Subscribe {
		release(t, h, 1)
		advance(t, h)
		checkSubscriber(t, h.WMS, h.WMS.PollEvents, h.Capabilities)
	}
}

// release releases h.FulfillmentOrder(n) and returns the result.
func release(t kit.T, h WMSHarness, n int) canonical.FulfillmentOrder {
	t.Helper()
	fo := h.FulfillmentOrder(n)
	got, err := h.WMS.Release(t.Context(), fo)
	if err != nil {
		t.Fatalf("Release(%s): %v", fo.ID, err)
	}
	return got
}

// advance calls h.Advance advanceSteps times.
func advance(t kit.T, h WMSHarness) {
	t.Helper()
	for i := range advanceSteps {
		if err := h.Advance(t.Context()); err != nil {
			t.Fatalf("Advance #%d: %v", i+1, err)
		}
	}
}

func testRelease(t kit.T, h WMSHarness) {
	ctx := t.Context()
	fo := h.FulfillmentOrder(1)
	if err := fo.Validate(); err != nil {
		t.Fatalf("harness FulfillmentOrder(1) is invalid: %v", err)
	}
	// Extension attributes travel with the release.
	fo.Extensions = fo.Extensions.Merge(canonical.Extensions{{Name: "kit:costCentre", Type: canonical.ExtString, Value: "CC-12"}})
	fo.Lines = append([]canonical.FulfillmentLine(nil), fo.Lines...)
	fo.Lines[0].Extensions = fo.Lines[0].Extensions.Merge(canonical.Extensions{{Name: "kit:promo", Type: canonical.ExtString, Value: "XMAS26"}})
	before := h.Effects()
	got, err := h.WMS.Release(ctx, fo)
	if err != nil {
		t.Fatalf("Release(%s): %v", fo.ID, err)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Release(%s): the result is invalid: %v", fo.ID, err)
	}
	if !sameJSON(got.Extensions, fo.Extensions) || len(got.Lines) == 0 || !sameJSON(got.Lines[0].Extensions, fo.Lines[0].Extensions) {
		t.Errorf("Release(%s) dropped extension attributes: got %v and line %v, want %v and %v", fo.ID, got.Extensions, got.Lines, fo.Extensions, fo.Lines[0].Extensions)
	}
	if got.ID != fo.ID || got.ReleasedAt.IsZero() || len(got.Lines) != len(fo.Lines) {
		t.Errorf("Release(%s) = ID %q, %d lines, released at %v; want the same ID and lines and a release time", fo.ID, got.ID, len(got.Lines), got.ReleasedAt)
	}
	again, err := h.WMS.Release(ctx, fo)
	if err != nil {
		t.Fatalf("Release(%s) again: %v", fo.ID, err)
	}
	if !sameJSON(got, again) {
		t.Errorf("Release(%s) again returned another result:\n first %+v\n again %+v", fo.ID, got, again)
	}
	if n := h.Effects().Releases - before.Releases; n != 1 {
		t.Errorf("Release(%s) twice: %d releases, want 1", fo.ID, n)
	}

	changed := fo
	changed.Lines = append([]canonical.FulfillmentLine(nil), fo.Lines...)
	changed.Lines[0].Quantity = doubled(t, changed.Lines[0].Quantity)
	_, err = h.WMS.Release(ctx, changed)
	checkCode(t, err, connector.CodeConflict, "Release of a released ID with other quantities")

	bad := h.FulfillmentOrder(2)
	bad.Lines = append([]canonical.FulfillmentLine(nil), bad.Lines...)
	bad.Lines[0].Quantity = canonical.Quantity{Unit: bad.Lines[0].Quantity.Unit}
	_, err = h.WMS.Release(ctx, bad)
	checkInvalid(t, err, bad.Validate(), "lines[0].quantity", "Release with a zero quantity")
	if n := h.Effects().Releases - before.Releases; n != 1 {
		t.Errorf("failed Release calls released: %d releases in all, want 1", n)
	}
}

// doubled returns q+q.
func doubled(t kit.T, q canonical.Quantity) canonical.Quantity {
	t.Helper()
	d, err := q.Add(q)
	if err != nil {
		t.Fatalf("doubling %v: %v", q, err)
	}
	return d
}

func testCancelRelease(t kit.T, h WMSHarness) {
	ctx := t.Context()
	fo := release(t, h, 1)
	req := connector.CancelRequest{FulfillmentOrderID: fo.ID, Reason: "kit"}
	before := h.Effects()
	res, err := h.WMS.CancelRelease(ctx, "kit-cancel-"+fo.ID, req)
	if err != nil {
		t.Fatalf("CancelRelease(%s): %v", fo.ID, err)
	}
	if res.FulfillmentOrderID != fo.ID {
		t.Errorf("CancelRelease(%s).FulfillmentOrderID = %q", fo.ID, res.FulfillmentOrderID)
	}
	for _, c := range res.Cancelled {
		i := slices.IndexFunc(fo.Lines, func(l canonical.FulfillmentLine) bool { return l.ID == c.LineID })
		if i < 0 {
			t.Errorf("CancelRelease(%s) cancelled unknown line %q", fo.ID, c.LineID)
			continue
		}
		if cmp, err := c.Quantity.Cmp(fo.Lines[i].Quantity); err != nil || cmp > 0 || c.Quantity.Sign() < 0 {
			t.Errorf("CancelRelease(%s) cancelled %v of line %q released with %v", fo.ID, c.Quantity, c.LineID, fo.Lines[i].Quantity)
		}
	}
	again, err := h.WMS.CancelRelease(ctx, "kit-cancel-"+fo.ID, req)
	if err != nil {
		t.Fatalf("CancelRelease(%s) replayed: %v", fo.ID, err)
	}
	if !sameJSON(res, again) {
		t.Errorf("CancelRelease(%s) replayed returned another result:\n first %+v\nreplay %+v", fo.ID, res, again)
	}
	if n := h.Effects().Cancellations - before.Cancellations; n > 1 {
		t.Errorf("CancelRelease(%s) twice with one key: %d cancellations, want at most 1", fo.ID, n)
	}

	_, err = h.WMS.CancelRelease(ctx, "kit-cancel-unknown", connector.CancelRequest{FulfillmentOrderID: "kit-no-such-fo"})
	checkCode(t, err, connector.CodeNotFound, "CancelRelease of an unknown fulfilment order")
	_, err = h.WMS.CancelRelease(ctx, "kit-cancel-empty", connector.CancelRequest{})
	checkInvalid(t, err, nil, "fulfillmentOrderId", "CancelRelease without a fulfilment order ID")
}

func testInventory(t kit.T, h WMSHarness) {
	ctx := t.Context()
	all, err := h.WMS.Inventory(ctx, connector.InventoryQuery{})
	if err != nil {
		t.Fatalf("Inventory(all): %v", err)
	}
	if len(all) == 0 {
		t.Fatalf("Inventory(all) is empty; the harness's fulfilment orders need stock")
	}
	for i, p := range all {
		if err := p.Validate(); err != nil {
			t.Errorf("Inventory(all)[%d] is invalid: %v", i, err)
		}
	}
	if !slices.IsSortedFunc(all, comparePositions) {
		t.Errorf("Inventory(all) is not sorted by SKU, location, lot and status")
	}
	sku := h.FulfillmentOrder(1).Lines[0].Item.SKU
	some, err := h.WMS.Inventory(ctx, connector.InventoryQuery{SKUs: []string{sku}})
	if err != nil {
		t.Fatalf("Inventory(%s): %v", sku, err)
	}
	if len(some) == 0 {
		t.Errorf("Inventory(%s) is empty, but the harness releases it", sku)
	}
	for _, p := range some {
		if p.Item.SKU != sku {
			t.Errorf("Inventory(%s) returned a position of %q", sku, p.Item.SKU)
		}
	}
	loc := all[0].Location
	at, err := h.WMS.Inventory(ctx, connector.InventoryQuery{Locations: []string{loc}})
	if err != nil {
		t.Fatalf("Inventory(location %s): %v", loc, err)
	}
	for _, p := range at {
		if p.Location != loc {
			t.Errorf("Inventory(location %s) returned a position at %q", loc, p.Location)
		}
	}
}

// comparePositions orders positions by SKU, location, lot and status.
func comparePositions(a, b canonical.InventoryPosition) int {
	if c := strings.Compare(a.Item.SKU, b.Item.SKU); c != 0 {
		return c
	}
	if c := strings.Compare(a.Location, b.Location); c != 0 {
		return c
	}
	if c := strings.Compare(a.Lot, b.Lot); c != 0 {
		return c
	}
	return strings.Compare(string(a.Status), string(b.Status))
}

func testAuthorizeReturn(t kit.T, h WMSHarness) {
	ctx := t.Context()
	r := h.Return(1)
	if err := r.Validate(); err != nil {
		t.Fatalf("harness Return(1) is invalid: %v", err)
	}
	before := h.Effects()
	got, err := h.WMS.AuthorizeReturn(ctx, r)
	if err != nil {
		t.Fatalf("AuthorizeReturn(%s): %v", r.ID, err)
	}
	if got.ID != r.ID {
		t.Errorf("AuthorizeReturn(%s).ID = %q", r.ID, got.ID)
	}
	again, err := h.WMS.AuthorizeReturn(ctx, r)
	if err != nil {
		t.Fatalf("AuthorizeReturn(%s) again: %v", r.ID, err)
	}
	if !sameJSON(got, again) {
		t.Errorf("AuthorizeReturn(%s) again returned another result", r.ID)
	}
	if n := h.Effects().ReturnAuthorizations - before.ReturnAuthorizations; n != 1 {
		t.Errorf("AuthorizeReturn(%s) twice: %d authorizations, want 1", r.ID, n)
	}
	bad := h.Return(2)
	bad.RMANumber = ""
	_, err = h.WMS.AuthorizeReturn(ctx, bad)
	checkInvalid(t, err, bad.Validate(), "rmaNumber", "AuthorizeReturn without an RMA number")
}

func testWMSFeed(t kit.T, h WMSHarness) {
	for n := 1; n <= 3; n++ {
		release(t, h, n)
	}
	advance(t, h)
	reopen := func(t kit.T) pollFunc { return h.Reopen(kit.Testing(t)).PollEvents }
	checkFeed(t, h.WMS.PollEvents, reopen, 3, h.Capabilities.RepeatsEvents, "PollEvents")
}

func testWMSConcurrent(t kit.T, h WMSHarness) {
	fo := h.FulfillmentOrder(1)
	before := h.Effects()
	got, errs := runDuplicates(func() (canonical.FulfillmentOrder, error) {
		return h.WMS.Release(t.Context(), fo)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Release(%s) #%d: %v", fo.ID, i, err)
		}
		if !sameJSON(got[0], got[i]) {
			t.Errorf("concurrent Release(%s) #%d returned another result", fo.ID, i)
		}
	}
	if n := h.Effects().Releases - before.Releases; n != 1 {
		t.Errorf("%d concurrent Release(%s): %d releases, want 1", duplicates, fo.ID, n)
	}
	fo2 := release(t, h, 2)
	req := connector.CancelRequest{FulfillmentOrderID: fo2.ID, Reason: "kit"}
	before = h.Effects()
	res, errs := runDuplicates(func() (connector.CancelResult, error) {
		return h.WMS.CancelRelease(t.Context(), "kit-cancel-"+fo2.ID, req)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent CancelRelease(%s) #%d: %v", fo2.ID, i, err)
		}
		if !sameJSON(res[0], res[i]) {
			t.Errorf("concurrent CancelRelease(%s) #%d returned another result", fo2.ID, i)
		}
	}
	if n := h.Effects().Cancellations - before.Cancellations; n > 1 {
		t.Errorf("%d concurrent CancelRelease(%s) with one key: %d cancellations, want at most 1", duplicates, fo2.ID, n)
	}
	r := h.Return(1)
	rets, errs := runDuplicates(func() (canonical.Return, error) {
		return h.WMS.AuthorizeReturn(t.Context(), r)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent AuthorizeReturn(%s) #%d: %v", r.ID, i, err)
		}
		if !sameJSON(rets[0], rets[i]) {
			t.Errorf("concurrent AuthorizeReturn(%s) #%d returned another result", r.ID, i)
		}
	}
	if n := h.Effects().ReturnAuthorizations - before.ReturnAuthorizations; n != 1 {
		t.Errorf("%d concurrent AuthorizeReturn(%s): %d authorizations, want 1", duplicates, r.ID, n)
	}
	// Polling while the warehouses move must be safe too.
	_, errs = runDuplicates(func() (connector.Page, error) {
		if err := h.Advance(t.Context()); err != nil {
			return connector.Page{}, err
		}
		return h.WMS.PollEvents(t.Context(), "", 10)
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Advance and PollEvents #%d: %v", i, err)
		}
	}
}

func testWMSCancelled(t kit.T, h WMSHarness) {
	ctx := cancelled(t)
	before := h.Effects()
	fo := h.FulfillmentOrder(1)
	_, err := h.WMS.Release(ctx, fo)
	checkCancelled(t, err, "Release")
	_, err = h.WMS.CancelRelease(ctx, "kit-cancel", connector.CancelRequest{FulfillmentOrderID: fo.ID})
	checkCancelled(t, err, "CancelRelease")
	_, err = h.WMS.Inventory(ctx, connector.InventoryQuery{})
	checkCancelled(t, err, "Inventory")
	_, err = h.WMS.AuthorizeReturn(ctx, h.Return(1))
	checkCancelled(t, err, "AuthorizeReturn")
	_, err = h.WMS.PollEvents(ctx, "", 10)
	checkCancelled(t, err, "PollEvents")
	if after := h.Effects(); after != before {
		t.Errorf("calls with a cancelled context had effects: %+v, then %+v", before, after)
	}
	release(t, h, 1)
}
