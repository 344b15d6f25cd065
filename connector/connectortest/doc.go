// Package connectortest is the conformance kit for implementations of the
// connector contracts: [RunERP], [RunWMS] and [RunCRM] check any ERP,
// WMS or CRM connector, in the way testing/fstest.TestFS checks a file
// system. Our reference systems (packages erp, wms and crm) run it, plain and
// behind the fault injector of package connector/faults; a team writing its
// own connector runs it from its own tests.
//
// # Harnesses
//
// The kit drives a system through a harness the implementation's test
// provides: the system under test, valid sample documents for it, a way to
// count its effects, a way to reopen it over the same state (a restart), and,
// for a WMS or CRM, a way to make events appear on its feed. The kit calls the
// factory once per check, so every check starts from a fresh system:
//
//	func TestConformance(t *testing.T) {
//		connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
//			m := myerp.New(myerp.Config{})
//			return connectortest.ERPHarness{
//				ERP:       m,
//				Order:     func(n int) canonical.Order { return sampleOrder(n) },
//				Positions: func(n int) []canonical.InventoryPosition { return samplePositions(n) },
//				Effects:   func() connectortest.ERPEffects { return m.Effects() },
//			}
//		})
//	}
//
// # What is checked
//
//   - the happy path of every role, with results that pass canonical
//     validation and point back at the request;
//   - idempotent replay: the same key (or document ID) returns the first
//     result and has one effect, counted through the harness; the same key
//     with another document is a [connector.CodeConflict] error;
//   - concurrent duplicate calls have one effect (run the kit with -race);
//   - malformed input gives [connector.CodeInvalid] naming the offending
//     field, as canonical validation names it;
//   - unknown IDs give [connector.CodeNotFound];
//   - a cancelled context is honoured: the call fails with an error matching
//     context.Canceled and has no effect;
//   - feeds return at most the requested number of events, keep the cursor on
//     an empty page, never skip an event (whatever the page size), never
//     repeat one unless [Capabilities.RepeatsEvents] says the feed may, and
//     resume from a stored cursor on a reopened instance;
//   - every feed event passes [canonical.Event.Validate], has one of
//     canonical's event types, and its data decodes ([canonical.DecodeData])
//     into the document kind its type declares ([canonical.EventKind]) and
//     passes that document's validation: a shipment event carrying an
//     order, or data that is only {"id":"x"}, fails;
//   - the optional capabilities the harness declares in [Capabilities],
//     found with [connector.As] so that decorated systems pass too.
//
// # Inputs the kit derives
//
// Besides the harness's samples, the kit sends documents of its own, so an
// implementation must accept or reject them as the contracts say:
//
//   - malformed copies of the samples: line 0 with a zero quantity (orders,
//     shipments, fulfilment orders), an empty RMA number (returns), an
//     empty location (inventory positions), an empty order ID (statuses),
//     an empty SKU (availability), an empty fulfilment order ID
//     (cancellations), and a nil order;
//   - unknown IDs, all starting with "kit-no-such-";
//   - idempotency keys starting with "kit-";
//   - by default, shipments from [ShipAll] (warehouse "WH1", carrier UPSN)
//     and returns from [ReturnAll];
//   - a fulfilment order already released, with the quantity of line 0
//     doubled (expecting a conflict);
//   - status updates with sequences 1 to 4 for orders read from the CRM's
//     feed, and availability of their items at [CRMHarness.Location].
//
// The WMS feed check releases FulfillmentOrder(1) to (3) and calls Advance
// 20 times, then expects at least 3 distinct events; the CRM feed check
// calls AddOrders(ctx, 7) and expects at least 7, and, when
// [CRMHarness.RequestCancellation] is set, a cancel request for the first
// order to appear on the feed. The inventory check expects stock of the
// first item of FulfillmentOrder(1).
//
// An ERP may claim two optional capabilities: [Capabilities.Events] (an
// event feed, [connector.EventFeed]: AddEvents(ctx, 7) must put at least 7
// events of known types on it, checked like the other feeds) and
// [Capabilities.Cancel] ([connector.OrderCanceller]: the last line of
// Order(1) is cancelled 1 at a time under two keys, one replayed and one
// sent concurrently, expecting 2 cancelled and 2 effects; an unknown line,
// an unknown order, a used key with another cancellation and more than
// the line's quantity are refused) and [Capabilities.Change]
// ([connector.OrderChanger]: version 2 of Order(41) takes 1 off its last
// line, sent with a cancelled context, then once, replayed, and again as
// the same version under another key, expecting the decrease applied,
// ordered − cancelled − rejected 1 lower, the ERP at version 2, one
// effect and a stale refusal; version 3 switches ship-complete, sent
// concurrently, for one more effect; a used key with another change, an
// unknown order, ToVersion not above FromVersion and an empty order ID
// are refused; then Order(42) is shipped in full with Shipment and the
// removal of its shipped line must be refused for shipped).
//
// A WMS may claim [Capabilities.ReleaseChange]
// ([connector.ReleaseChanger]): FulfillmentOrder(41) is released and its
// first line of at least 3 units is decreased by 1 under two keys (one
// replayed, one sent concurrently), expecting the decrease applied and 2
// effects; a used key with another request, an unknown fulfilment order,
// an empty ID, an unknown line and a zero delta are refused; then, after
// Advance has run 20 times, if the feed reports a shipment of that line, a
// decrease of the whole released quantity must refuse at least what
// shipped, for picked, packed or shipped.
//
// Failures are reported with t.Errorf or t.Fatalf from subtests named after
// the contract they check, such as "AcceptOrder", and each failure quotes
// the contract sentence it broke.
//
// # Outside a test
//
// [CheckERP], [CheckWMS] and [CheckCRM] run the same checks outside a test
// (from a program, or an example) and return what failed as one error, each
// failure prefixed with the name of its check and the contract sentence it
// broke. There is no *testing.T
// there: a harness's Reopen is called with nil.
package connectortest
