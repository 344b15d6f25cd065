package connectortest

import (
	"errors"
	"testing"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/kit"
)

// RunCRM checks an CRM connector against the contracts of
// [connector.CRM]. newCRM returns a harness over a fresh system; it is
// called once per check, from the check's subtest, which is named for the
// contract it checks. A failure quotes the contract sentence it broke.
func RunCRM(t *testing.T, newCRM func(t *testing.T) CRMHarness) {
	t.Helper()
	for _, c := range crmChecks {
		t.Run(c.name, func(t *testing.T) {
			kt := kit.Contract(t, c.contract)
			c.run(kt, openCRM(kt, func(kit.T) (CRMHarness, error) { return newCRM(t), nil }))
		})
	}
}

// CheckCRM runs the checks of [RunCRM] outside a test, each on a
// harness newHarness returns over a fresh system, and returns their
// failures joined into one error, each prefixed with the name of its
// check and the contract sentence it broke; nil means the CRM passed. An
// error from newHarness fails the check it was called for. Outside a test
// there is no *testing.T: the harness's Reopen is called with nil.
func CheckCRM(newHarness func() (CRMHarness, error)) error {
	var errs []error
	for _, c := range crmChecks {
		errs = append(errs, kit.Run(c.name, func(t kit.T) {
			t = kit.Contract(t, c.contract)
			c.run(t, openCRM(t, func(kit.T) (CRMHarness, error) { return newHarness() }))
		}))
	}
	return errors.Join(errs...)
}

// openCRM returns the harness newHarness returns for the check t, after
// checking its required fields and filling in its defaults.
func openCRM(t kit.T, newHarness func(t kit.T) (CRMHarness, error)) CRMHarness {
	t.Helper()
	h, err := newHarness(t)
	if err != nil {
		t.Fatalf("creating the harness: %v", err)
	}
	if h.CRM == nil || h.Reopen == nil || h.AddOrders == nil || h.Shown == nil || h.Effects == nil {
		t.Fatalf("CRMHarness: CRM, Reopen, AddOrders, Shown and Effects are required")
	}
	if h.Location == "" {
		h.Location = "WH1"
	}
	return h
}

// crmChecks are the checks of [RunCRM], in the order they run, each with
// the sentence of the contract it checks.
var crmChecks = []struct {
	name, contract string
	run            func(t kit.T, h CRMHarness)
}{
	{"OrderFeed", "The order feed pages, keeps its cursor on an empty page, never skips or (unless declared) repeats an event, resumes on a reopened instance, and its events are valid canonical events.", testOrderFeed},
	{"PublishStatus", "PublishStatus shows the newest status by sequence, a repeat or an older sequence changing nothing, and refuses an unknown order with CodeNotFound and malformed input with CodeInvalid.", testPublishStatus},
	{"PublishAvailability", "PublishAvailability publishes valid availability once per key and refuses malformed input with CodeInvalid.", testPublishAvailability},
	{"Concurrent", "Concurrent duplicate calls have one effect.", testCRMConcurrent},
	{"Cancelled", "A call with a cancelled context fails with an error matching context.Canceled and has no effect.", testCRMCancelled},
	{"Capabilities", "The optional capabilities the harness declares are found with connector.As.", testCRMCapabilities},
}

// testCRMCapabilities checks the optional parts the harness declares.
func testCRMCapabilities(t kit.T, h CRMHarness) {
	checkHealth(t, h.CRM, h.Capabilities)
	if h.Capabilities.Subscribe {
		addOrders(t, h, 3)
		checkSubscriber(t, h.CRM, h.CRM.PollOrders, h.Capabilities)
	}
	checkStatusBatch(t, h)
}

// addOrders asks the harness for n orders and returns every order on the
// feed.
func addOrders(t kit.T, h CRMHarness, n int) []canonical.Order {
	t.Helper()
	if err := h.AddOrders(t.Context(), n); err != nil {
		t.Fatalf("AddOrders(%d): %v", n, err)
	}
	es, _ := readFeed(t, h.CRM.PollOrders, "", 1000, h.Capabilities.RepeatsEvents, "PollOrders")
	var orders []canonical.Order
	seen := map[string]bool{}
	for _, e := range es {
		if e.Type == canonical.EventOrderCancelRequested {
			continue // checked by checkCancelRequests
		}
		if e.Type == canonical.EventReturnAuthorized {
			continue // an RMA authorized in the CRM, not an order
		}
		if e.Type != canonical.EventOrderSubmitted {
			t.Errorf("PollOrders: event %v has type %q, want %q", e.Key(), e.Type, canonical.EventOrderSubmitted)
			continue
		}
		o, err := canonical.DecodeData[canonical.Order](e)
		if err != nil {
			t.Errorf("PollOrders: event %v: %v", e.Key(), err)
			continue
		}
		if !seen[o.ID] {
			seen[o.ID] = true
			orders = append(orders, o)
		}
	}
	if len(orders) < n {
		t.Fatalf("PollOrders after AddOrders(%d) holds %d orders", n, len(orders))
	}
	return orders
}

func testOrderFeed(t kit.T, h CRMHarness) {
	checkCancelRequests(t, h, addOrders(t, h, 7))
	reopen := func(t kit.T) pollFunc { return h.Reopen(kit.Testing(t)).PollOrders }
	checkFeed(t, h.CRM.PollOrders, reopen, 7, h.Capabilities.RepeatsEvents, "PollOrders")
}

// statusOf returns a status update of o with the given sequence.
func statusOf(o canonical.Order, seq int64) connector.OrderStatus {
	s := connector.OrderStatus{
		OrderID:   o.ID,
		Sequence:  seq,
		Status:    o.Status(),
		UpdatedAt: kitTime,
		Messages:  []string{"kit update"},
	}
	for _, l := range o.Lines {
		s.Lines = append(s.Lines, connector.LineStatus{LineID: l.ID, Ordered: l.Quantity})
	}
	return s
}

func testPublishStatus(t kit.T, h CRMHarness) {
	ctx := t.Context()
	o := addOrders(t, h, 1)[0]
	before := h.Effects()
	s2 := statusOf(o, 2)
	if err := h.CRM.PublishStatus(ctx, s2); err != nil {
		t.Fatalf("PublishStatus(%s, sequence 2): %v", o.ID, err)
	}
	shown, ok := h.Shown(o.ID)
	if !ok || shown.Sequence != 2 {
		t.Errorf("after PublishStatus(%s, sequence 2) the CRM shows %+v (shown %v)", o.ID, shown, ok)
	}
	if err := h.CRM.PublishStatus(ctx, s2); err != nil {
		t.Errorf("PublishStatus(%s, sequence 2) repeated: %v", o.ID, err)
	}
	s1 := statusOf(o, 1)
	s1.Messages = []string{"older"}
	if err := h.CRM.PublishStatus(ctx, s1); err != nil {
		t.Errorf("PublishStatus(%s, older sequence 1): %v, want it ignored without error", o.ID, err)
	}
	if shown, _ := h.Shown(o.ID); shown.Sequence != 2 {
		t.Errorf("an older status replaced a newer one: the CRM shows sequence %d", shown.Sequence)
	}
	if n := h.Effects().StatusUpdates - before.StatusUpdates; n != 1 {
		t.Errorf("sequence 2 twice and sequence 1: %d status updates, want 1", n)
	}
	if err := h.CRM.PublishStatus(ctx, statusOf(o, 3)); err != nil {
		t.Fatalf("PublishStatus(%s, sequence 3): %v", o.ID, err)
	}
	if shown, _ := h.Shown(o.ID); shown.Sequence != 3 {
		t.Errorf("after sequence 3 the CRM shows sequence %d", shown.Sequence)
	}

	unknown := statusOf(o, 1)
	unknown.OrderID = "kit-no-such-order"
	err := h.CRM.PublishStatus(ctx, unknown)
	checkCode(t, err, connector.CodeNotFound, "PublishStatus of an unknown order")
	empty := statusOf(o, 4)
	empty.OrderID = ""
	err = h.CRM.PublishStatus(ctx, empty)
	checkInvalid(t, err, nil, "orderId", "PublishStatus without an order ID")
}

// availabilityOf returns availability updates for the items of o.
func availabilityOf(o canonical.Order, loc string, seq int64) []connector.Availability {
	var as []connector.Availability
	for _, l := range o.Lines {
		as = append(as, connector.Availability{SKU: l.Item.SKU, Location: loc, Available: l.Quantity, AsOf: kitTime, Sequence: seq})
	}
	return as
}

func testPublishAvailability(t kit.T, h CRMHarness) {
	ctx := t.Context()
	o := addOrders(t, h, 1)[0]
	before := h.Effects()
	as := availabilityOf(o, h.Location, 1)
	if err := h.CRM.PublishAvailability(ctx, as); err != nil {
		t.Fatalf("PublishAvailability: %v", err)
	}
	if err := h.CRM.PublishAvailability(ctx, as); err != nil {
		t.Fatalf("PublishAvailability repeated: %v", err)
	}
	if n := h.Effects().AvailabilityUpdates - before.AvailabilityUpdates; n != len(as) {
		t.Errorf("%d availabilities published twice: %d updates, want %d", len(as), n, len(as))
	}
	bad := availabilityOf(o, h.Location, 2)
	bad[0].SKU = ""
	err := h.CRM.PublishAvailability(ctx, bad)
	checkInvalid(t, err, nil, "sku", "PublishAvailability without a SKU")
}

func testCRMConcurrent(t kit.T, h CRMHarness) {
	o := addOrders(t, h, 1)[0]
	before := h.Effects()
	next := make(chan int64, duplicates)
	for i := range duplicates {
		next <- int64(1 + i%3)
	}
	close(next)
	_, errs := runDuplicates(func() (struct{}, error) {
		return struct{}{}, h.CRM.PublishStatus(t.Context(), statusOf(o, <-next))
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent PublishStatus #%d: %v", i, err)
		}
	}
	if shown, _ := h.Shown(o.ID); shown.Sequence != 3 {
		t.Errorf("after concurrent updates with sequences 1 to 3 the CRM shows sequence %d", shown.Sequence)
	}
	if n := h.Effects().StatusUpdates - before.StatusUpdates; n < 1 || n > 3 {
		t.Errorf("concurrent updates with sequences 1 to 3: %d status updates, want 1 to 3", n)
	}
	_, errs = runDuplicates(func() (struct{}, error) {
		return struct{}{}, h.CRM.PublishAvailability(t.Context(), availabilityOf(o, h.Location, 5))
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent PublishAvailability #%d: %v", i, err)
		}
	}
	if n := h.Effects().AvailabilityUpdates - before.AvailabilityUpdates; n != len(o.Lines) {
		t.Errorf("%d concurrent identical PublishAvailability: %d updates, want %d", duplicates, n, len(o.Lines))
	}
}

func testCRMCancelled(t kit.T, h CRMHarness) {
	o := addOrders(t, h, 1)[0]
	ctx := cancelled(t)
	before := h.Effects()
	err := h.CRM.PublishStatus(ctx, statusOf(o, 1))
	checkCancelled(t, err, "PublishStatus")
	err = h.CRM.PublishAvailability(ctx, availabilityOf(o, h.Location, 1))
	checkCancelled(t, err, "PublishAvailability")
	_, err = h.CRM.PollOrders(ctx, "", 10)
	checkCancelled(t, err, "PollOrders")
	if after := h.Effects(); after != before {
		t.Errorf("calls with a cancelled context had effects: %+v, then %+v", before, after)
	}
}

// checkStatusBatch checks the batch status capability when claimed.
func checkStatusBatch(t kit.T, h CRMHarness) {
	t.Helper()
	bp, ok := connector.As[connector.StatusBatchPublisher](h.CRM)
	if h.Capabilities.StatusBatch && !ok {
		t.Errorf("Capabilities.StatusBatch is set but %T does not implement connector.StatusBatchPublisher", h.CRM)
		return
	}
	if !h.Capabilities.StatusBatch {
		return
	}
	o := addOrders(t, h, 1)[0]
	unknown := statusOf(o, 1)
	unknown.OrderID = "kit-no-such-order"
	errs, err := bp.PublishStatuses(t.Context(), []connector.OrderStatus{statusOf(o, 1), unknown, statusOf(o, 2)})
	if err != nil {
		t.Fatalf("PublishStatuses: %v", err)
	}
	if len(errs) != 3 {
		t.Fatalf("PublishStatuses of 3 updates returned %d results", len(errs))
	}
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("PublishStatuses: results %v, want nil for the known order", errs)
	}
	checkCode(t, errs[1], connector.CodeNotFound, "PublishStatuses of an unknown order")
	if shown, _ := h.Shown(o.ID); shown.Sequence != 2 {
		t.Errorf("after PublishStatuses the CRM shows sequence %d, want 2", shown.Sequence)
	}
}
