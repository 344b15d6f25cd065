package connectortest

import (
	"context"
	"testing"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// Capabilities declares the optional parts of a connector, so that the kit
// checks what an implementation claims and nothing else. The zero value
// claims none. It is a plain value, safe for concurrent use.
type Capabilities struct {
	// Health: the connector implements [connector.HealthChecker]; the kit
	// requires Health to return nil on a fresh system.
	Health bool
	// Subscribe: the feed implements [connector.Subscriber]; the kit
	// requires it to deliver the events the feed polls, in order, from the
	// start and from a stored cursor.
	Subscribe bool
	// StatusBatch: the CRM implements [connector.StatusBatchPublisher]; the
	// kit requires one result per update and the contract of
	// PublishStatus for each.
	StatusBatch bool
	// RepeatsEvents: the feed may deliver an event more than once, or
	// out of order within a page (as a fault injector does). The kit then
	// tolerates repeated and reordered events; it never tolerates a
	// skipped one.
	RepeatsEvents bool
	// Events: the ERP implements [connector.EventFeed] (found with
	// [connector.As]); the kit checks its paging with the events
	// ERPHarness.AddEvents makes.
	Events bool
	// Cancel: the ERP implements [connector.OrderCanceller]; the kit
	// checks its idempotency and error codes.
	Cancel bool
	// Change: the ERP implements [connector.OrderChanger]; the kit checks
	// a decrease of an unshipped line, idempotent replay, a stale version,
	// concurrent duplicates, error codes, and that shipped quantity is
	// refused. ERPHarness.Order(41) needs a last line of more than one
	// unit.
	Change bool
	// ReleaseChange: the WMS implements [connector.ReleaseChanger]; the
	// kit checks a decrease right after the release, idempotent replay,
	// concurrent duplicates, error codes, and, once the feed reports a
	// shipment, that shipped quantity is refused. WMSHarness.FulfillmentOrder(41)
	// needs a line of at least 3 units.
	ReleaseChange bool
}

// ERPEffects counts the effects an ERP has had since it was created (or
// since the state it was reopened over was created). The kit compares
// counts before and after calls to check that replays and concurrent
// duplicates have one effect. It is a plain value, safe for concurrent use.
// The zero value counts nothing.
type ERPEffects struct {
	// Orders is how many orders were created or updated by AcceptOrder.
	Orders int
	// Invoices is how many invoices PostShipment produced.
	Invoices int
	// CreditMemos is how many credit memos PostReturn produced.
	CreditMemos int
	// InventoryApplications is how many ApplyInventory calls changed the
	// ERP's inventory ledger.
	InventoryApplications int
	// Cancellations is how many CancelOrderLines calls cancelled
	// quantities (for an ERP with Capabilities.Cancel).
	Cancellations int
	// Changes is how many ChangeOrder calls changed an order (for an ERP
	// with Capabilities.Change; stale versions and replays do not count).
	Changes int
}

// ERPHarness is what [RunERP] needs to drive an ERP. The kit only reads it.
// Fields marked optional may be nil. The kit calls its functions from
// several goroutines at once (the concurrency checks), so they must be safe
// for concurrent use. The zero value is not usable: ERP and the fields not
// marked optional are required.
type ERPHarness struct {
	// ERP is the implementation under test, possibly decorated.
	ERP connector.ERP
	// Order returns a valid order the ERP will accept (not reject): a
	// known customer, known items, its own currency. Calls with different
	// n return orders with different IDs and line IDs; calls with the
	// same n return the same order.
	Order func(n int) canonical.Order
	// Shipment returns a valid shipment of (part of) an accepted order,
	// distinct for each n. Optional: nil means [ShipAll].
	Shipment func(order canonical.Order, n int) canonical.Shipment
	// Return returns a valid received return of (part of) a posted
	// shipment, distinct for each n. Optional: nil means [ReturnAll].
	Return func(order canonical.Order, shipment canonical.Shipment, n int) canonical.Return
	// Positions returns valid inventory positions (snapshots) the ERP
	// applies, distinct for each n and newer than those of smaller n.
	Positions func(n int) []canonical.InventoryPosition
	// Effects counts the ERP's effects so far.
	Effects func() ERPEffects
	// Reopen returns a new instance over the same state, as after a
	// restart. Optional: when set, the kit also checks that idempotency
	// keys survive the restart (a replay on the new instance returns the
	// first result and has no second effect).
	Reopen func(t *testing.T) connector.ERP
	// AddEvents makes the ERP put at least n new events on its event feed
	// (say, cancellation requests of accepted orders). Required when
	// Capabilities.Events is set.
	AddEvents func(ctx context.Context, n int) error
	// Capabilities declares the optional parts.
	Capabilities Capabilities
}

// WMSEffects counts the effects a WMS has had since its state was created.
// It is a plain value, safe for concurrent use. The zero value counts
// nothing.
type WMSEffects struct {
	// Releases is how many fulfilment orders were released.
	Releases int
	// Cancellations is how many CancelRelease calls cancelled something.
	Cancellations int
	// ReturnAuthorizations is how many returns were authorized.
	ReturnAuthorizations int
	// Changes is how many ChangeRelease calls changed something (for a
	// WMS with Capabilities.ReleaseChange).
	Changes int
}

// WMSHarness is what [RunWMS] needs to drive a WMS. The kit only reads it.
// Fields marked optional may be nil. The kit calls its functions from
// several goroutines at once (the concurrency checks), so they must be safe
// for concurrent use. The zero value is not usable: WMS and the fields not
// marked optional are required.
type WMSHarness struct {
	// WMS is the implementation under test, possibly decorated.
	WMS connector.WMS
	// Reopen returns a new instance over the same state, as after a
	// restart of the process: what the old instance released and put on
	// its feed is there, and cursors it returned are valid.
	Reopen func(t *testing.T) connector.WMS
	// FulfillmentOrder returns a valid fulfilment order the WMS can
	// release: a known warehouse and items with stock there. Different n
	// give different IDs; the same n gives the same order.
	FulfillmentOrder func(n int) canonical.FulfillmentOrder
	// Return returns a valid return authorization for a known warehouse,
	// distinct for each n.
	Return func(n int) canonical.Return
	// Advance moves the simulated warehouses one step (time, work), so
	// that released fulfilment orders produce events on the feed
	// (allocation, pick, shipment). The kit calls it repeatedly; it must
	// not block.
	Advance func(ctx context.Context) error
	// Effects counts the WMS's effects so far.
	Effects func() WMSEffects
	// Capabilities declares the optional parts.
	Capabilities Capabilities
}

// CRMEffects counts the effects a CRM has had since its state was created.
// It is a plain value, safe for concurrent use. The zero value counts
// nothing.
type CRMEffects struct {
	// StatusUpdates is how many published statuses changed what the CRM
	// shows (an ignored older or repeated sequence does not count).
	StatusUpdates int
	// AvailabilityUpdates is how many published availabilities changed
	// what the CRM shows.
	AvailabilityUpdates int
}

// CRMHarness is what [RunCRM] needs to drive a CRM. The kit only reads it.
// Fields marked optional may be nil. The kit calls its functions from
// several goroutines at once (the concurrency checks), so they must be safe
// for concurrent use. The zero value is not usable: CRM and the fields not
// marked optional are required.
type CRMHarness struct {
	// CRM is the implementation under test, possibly decorated.
	CRM connector.CRM
	// Reopen returns a new instance over the same state, as after a
	// restart: the order feed and its cursors are preserved.
	Reopen func(t *testing.T) connector.CRM
	// AddOrders makes the CRM put n new orders on its order feed (say, by
	// converting opportunities). Every order must pass canonical
	// validation.
	AddOrders func(ctx context.Context, n int) error
	// Shown returns the status the CRM currently shows for an order, and
	// false when it shows none.
	Shown func(orderID string) (connector.OrderStatus, bool)
	// Location is a location the CRM takes availability for; "" means
	// "WH1".
	Location string
	// RequestCancellation makes the CRM put a request to cancel the open
	// remainder of the order on its order feed. Optional: when set, the
	// kit checks the request appears there as an
	// [canonical.EventOrderCancelRequested] event about the order.
	RequestCancellation func(ctx context.Context, orderID string) error
	// Effects counts the CRM's effects so far.
	Effects func() CRMEffects
	// Capabilities declares the optional parts.
	Capabilities Capabilities
}
