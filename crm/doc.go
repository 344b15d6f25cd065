// Package crm is an in-memory CRM: a realistic simulator of the system
// where sales reps work. It implements [connector.CRM] and is the
// reference CRM the flows, the examples and the conformance kit run
// against.
//
// # Accounts, opportunities, orders
//
// A [Memory] holds accounts (each tied to the ERP customer it sells to)
// and opportunities. A sales rep opens an opportunity with
// [Memory.OpenOpportunity] ("OPP-000001") and converts it into an order
// with [Memory.ConvertOpportunity]: the CRM gives the order a canonical ID
// ("ORD-000001") and its own order number, and appends an
// [canonical.EventOrderSubmitted] event carrying the order to the feed that
// [Memory.PollOrders] pages through. Converting the same opportunity again
// returns the same order and appends nothing. The extension attributes of
// the opportunity and its lines (custom fields such as a cost centre),
// validated when it is opened, become the order's and its lines'. Instead of polling, a
// consumer may push-subscribe with [Memory.Subscribe], which runs in the
// caller's goroutine.
//
// # Returns
//
// A sales rep authorizes the return of shipped goods with
// [Memory.AuthorizeReturn]: the CRM checks the lines against the order and
// what it shows as shipped, gives the return the ID "RET-000001" and the
// RMA number "RMA-000001", and appends an [canonical.EventReturnAuthorized]
// event carrying it to the same order feed, with the order ID as partition
// key. The flows check it against what shipped and earlier returns, and
// show its receipts and credit memos in the order's status.
//
// # What the CRM shows
//
// The flows publish each order's customer-visible status
// ([Memory.PublishStatus], idempotent by order and sequence: an older or
// repeated sequence is ignored) and availability per item and location
// ([Memory.PublishAvailability], the same by SKU, location and sequence).
// [Memory.ShownStatus] and [Memory.ShownAvailability] return what the CRM
// currently shows, so tests compare it with the ERP and the warehouses.
//
// # Restarts and determinism
//
// The CRM's state lives apart from the handle: [Memory.Reopen] returns a
// new handle over the same state, as a client process restarted against
// the same CRM, and the cursors of the old handle stay valid. Time comes
// only from [Config.Clock] and the CRM starts no goroutines, so a test with
// a fixed clock sees the same IDs and events on every run.
//
// The zero [Config] gives the demo accounts ([DemoAccounts]) for the
// customers "C-1" to "C-3" of the erp package's demo world; [ParseConfig]
// reads accounts of one's own from a JSON fixture.
package crm
