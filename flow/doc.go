// Package flow orchestrates order-to-cash and inventory sync across a CRM,
// an ERP and a WMS: orders converted in the CRM are validated and accepted in
// the ERP, sourced and released to the warehouses, and the warehouses'
// allocation, backorder, pick and shipment events are folded into the order,
// posted and invoiced in the ERP exactly once, and shown in the CRM; the
// warehouses' stock reaches the ERP's ledger and the CRM's availability.
//
// # Events and effects
//
// Pollers read the CRM's order feed and the WMS's event feed and append what
// they read to an [eventlog.Backend], with the order's correlation ID; the
// feeds' cursors are kept in a [CursorStore] after each page, so a restart
// resumes after the last page stored. One [eventlog.Consumer] handles the
// log, one order at a time per order ID (its partition key) and different
// orders in parallel. Its [eventlog.ErrorPolicy] is the flow's one error
// policy: transient errors are retried with backoff (honouring Retry-After)
// without holding back other orders, work for a system whose breaker is open
// is parked and resumed, permanent errors and spent budgets are
// dead-lettered with their reason, and a dead letter replayed after the
// cause is fixed completes the order.
//
// Every effect is idempotent: AcceptOrder takes a key derived with
// [idempotency.Derive] from ("ordertocash", "accept", order ID, version),
// PostShipment one from ("ordertocash", "post_shipment", order ID, shipment
// ID); fulfilment orders are released under IDs derived from the order and
// the warehouse, and the CRM ignores a status whose sequence it has seen.
// Handlers recognise events they have already applied (the same order
// version, an allocation update with an older sequence, a shipment already
// invoiced) and count them as duplicates, so duplicated or reordered feed
// pages change nothing.
//
// # Order state
//
// The flow keeps each order's state in memory: the order with its line
// buckets folded by [canonical.Ledger] from quantity events tagged with the
// source message, its fulfilment orders, shipments and invoices. Status is
// derived from the buckets ([canonical.Order.Status]) and published to the
// CRM with a sequence that grows with every publication. [Flow.Where] answers
// "where is order X" from that state, from what the ERP and the CRM show and
// from the timeline and dead letters.
//
// # Inventory sync
//
// [Flow.PollWarehouse] appends the WMS's inventory.adjusted and
// inventory.snapshot events to the same log, partitioned by "SKU@WAREHOUSE",
// so the same consumer and error policy handle them, one at a time per key.
// The flow keeps, per key, the WMS's per-subject sequence of the last
// position it pushed. An event at or below that sequence is covered by it
// (a duplicate, a stale snapshot delivered after a newer event, or an
// earlier event of a burst) and is counted as a duplicate. Any newer event
// makes the flow re-read the key's current positions from the WMS
// (connector.InventoryReader) and push them: to the ERP as snapshots with
// ApplyInventory, under a key derived from ("ordertocash",
// "apply_inventory", key, event source, event ID), and to the CRM as one
// availability (the sum of what is available over the key's lots) with
// PublishAvailability, whose sequence is that same WMS sequence. A retried
// event pushes the positions it read first, so its key always carries the
// same positions.
//
// Coalescing follows from this rule: when several events of one key are
// pending, the first one handled pushes the newest position, and the others
// are covered by it, so the ERP and the CRM get one push per burst. Since
// only absolute positions read from the source are pushed, and the ERP and
// the CRM ignore positions not newer than the ones they hold, duplicated or
// reordered feed events never move them backwards. The sync lag (from the
// event's time to the push) is reported through [Metrics.SyncLag] for the
// event that pushed, with entity "inventory_adjustment" or
// "inventory_position". Availability that changes without an inventory event
// (allocation of orders) reaches the CRM with the key's next inventory event.
//
// # Driving the flow
//
// [Flow.Run] runs the pollers, the hold watcher and the consumer until its
// context is done. [Flow.Drain] is the deterministic driver of tests and
// examples: it polls the feeds and handles everything in the log until
// nothing is left to do, and returns. It waits for the consumer with
// [eventlog.Consumer.WaitIdle], not with timers: only backoff (of retries,
// or of a failed poll) takes time, and inside a testing/synctest bubble no
// real time.
package flow
