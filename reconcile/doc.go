// Package reconcile finds where the ERP, the WMS, the CRM and the flow's
// state have drifted apart without an event saying so, repairs what can be
// repaired through the normal flow, and raises business exceptions: the
// orders that hurt customers even though no system failed.
//
// # What it compares
//
// For every order the flow's state store lists as open, or closed within
// Config.Recent ([flow.StateLister]), a run reads the order as the flow
// folded it ([flow.StoredOrder]) and compares it with:
//
//   - the ERP's view (connector.OrderReader): an order accepted in the ERP
//     and unknown to the WMS after Config.ReleaseGrace ([KindUnknownToWMS]);
//     shipped quantities per line ([KindShipped]); cancelled quantities per
//     line, as an edit made in the ERP by hand leaves them ([KindCancelled]);
//     a shipment the ERP has not invoiced ([KindMissingInvoice]);
//   - the WMS's fulfilment orders, when the WMS has the optional
//     [FulfillmentReader] role, and the shipments of its event feed
//     (connector.EventFeed), read incrementally from run to run; a feed
//     may have trimmed old events, so the WMS's shipped quantity is
//     compared when it is above the flow's (an event the flow missed);
//   - the CRM's shown status, when the CRM has the optional
//     flow.StatusViewer role.
//
// For inventory it compares the WMS's available quantity per SKU and
// location (connector.InventoryReader) with what the CRM shows (the
// optional [AvailabilityViewer] role), beyond Config.Tolerance
// ([KindAvailability]).
//
// Each [Difference] carries its age: Since is the time the data gives (the
// shipment's time, the order's acceptance) or, failing that, the first run
// that saw it.
//
// # Repair
//
// With Config.Repair set, a run re-appends to the flow's event log the
// source events that were lost on the way, unchanged (same source and ID,
// with the order's partition and correlation ID as the flow's pollers set
// them): the WMS's shipment events the flow never handled, and the WMS's
// latest inventory event of a SKU and location the CRM shows wrong. The
// flow handles them as it would have; a repair run twice repairs once,
// because the reconciler appends each source event once, and the flow
// recognises an event it handled already. Differences that no lost event
// explains (a cancellation made in the ERP by hand, a missing invoice, an
// order unknown to the WMS) are reported and left to an operator:
// Difference.Repair says what was done.
//
// # Cost
//
// A run makes at most Config.MaxCalls connector calls (default
// [DefaultMaxCalls]) and waits on a token bucket of Config.Rate calls per
// second (zero: no limit). Per order it makes one ERP call (GetOrder),
// one WMS call per released fulfilment order when the WMS is a
// FulfillmentReader, and one CRM read when the CRM is a StatusViewer: at
// most 2 + F calls for an order of F fulfilment orders. Inventory costs one
// WMS call per run plus one CRM read per SKU and location. The WMS feed is
// read from where the previous run stopped, Config.PageSize events a call.
// A run that reaches MaxCalls stops, reports Cost.Truncated, and the next
// run starts with the orders the previous one did not reach.
//
// # Business exceptions
//
// [Rules] are evaluated on the same reads: on hold longer than OnHold,
// backordered past a line's promised date, released but not allocated after
// NotAllocated, shipped without tracking, invoiced amounts that differ from
// the order's total. Each [Exception] is in the report, counted in
// Report.Counts, and delivered to Config.Hook once per occurrence (not per
// run): an exception that clears and comes back is delivered again.
//
// # Pages and metrics
//
// [Reconciler.Last] returns the latest run's report, for a page or a metrics
// collection that must not start a run of its own: the examples/operator
// program turns it into the operator page's findings (ops.Config.Findings),
// and the otel module's Bridge.ObserveReconcile into gauges.
package reconcile
