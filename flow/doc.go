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
// resumes after the last page stored. The flow takes orders only from the
// sources it is told to (Config.OrderSources, by default its CRM's): an
// order.submitted event of another source appended to the log, or an
// order.accepted event not emitted by the flow itself, is dead-lettered
// with [ErrForeignSource] before it has any effect. So are a cancel
// request (order.cancel_requested) and a return (return.authorized) that
// come neither from those sources nor from the ERP's event feed
// (Config.ERPSources, by default its ERP's), nor, for a return, from the
// flow's own [Flow.AuthorizeReturn]; and a fulfilment, return.received or
// inventory event that does not come from the WMS's feed
// (Config.WMSSources, by default its WMS's). An order's events are handled
// in the order's partition only: the pollers partition an order's
// fulfilment and return events by its ID, and an order event in another
// partition is dead-lettered with [ErrBadEvent]. So is an event that
// carries more than the flow accepts (Config.MaxEventSize bytes of data,
// Config.MaxLines lines), with [ErrEventTooLarge]. An event of a type the
// flow does not handle is dead-lettered with [ErrUnhandledEvent], unless
// Config.Unhandled takes it: a team that appends its own event types to the
// same log handles them in its own consumer group and lets the flow skip
// them (see the package example OwnConsumerGroup). One [eventlog.Consumer]
// handles the log, one order at a time per order ID (its partition key) and
// different orders in parallel. Its [eventlog.ErrorPolicy] is the flow's one
// error policy: transient errors are retried with backoff (honouring
// Retry-After) without holding back other orders, work for a system whose
// breaker is open is parked and resumed, permanent errors and spent budgets
// are dead-lettered with their reason, and a dead letter replayed after the
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
// pages change nothing. An order version or a shipment that comes again
// with other content is no duplicate: it is dead-lettered with
// [ErrChangedDuplicate], naming both fingerprints, never dropped silently.
//
// # Order state
//
// The flow keeps each open order's state in memory: the order with its line
// buckets folded by [canonical.Ledger] from quantity events tagged with the
// source message, its fulfilment orders, shipments and invoices. Status is
// derived from the buckets ([canonical.Order.Status]) and published to the
// CRM with a sequence that grows with every publication. [Flow.Where] answers
// "where is order X" from that state, from what the ERP and the CRM show and
// from the timeline and dead letters.
//
// An order the ERP puts on hold keeps the ERP's decision for each line in
// its state (and in the stored state). When the hold watcher sees the holds
// released, the order is accepted with those decisions: a line the ERP
// rejected (or that the ERP's view of the order shows rejected) stays
// rejected, with its messages shown in the CRM, and is never released to a
// warehouse; the other lines are confirmed. An order whose every line the
// ERP rejects is rejected, whether the ERP says so when it puts the order
// on hold (the flow then does not wait for the hold) or in its view of the
// order when the hold is released.
//
// # Durable state and crashes
//
// With Config.State set to a [StateStore] ([SQLState] on SQLite or
// PostgreSQL, next to an eventlog.SQL log, an idempotency.SQLStore as
// Config.Dedupe and the same SQLState as Config.Cursors), the flow saves an
// order's state (one versioned record, [StateVersion]) at checkpoints, and
// a restarted flow loads it when an event, a poller's correlation lookup,
// the hold watcher ([StateStore.HeldOrders]) or [Flow.Where] first names the
// order. The checkpoints are chosen so that a crash at any point is safe:
// every event whose handler did not complete is handled again (the log
// delivers at least once), and handling it again repeats only idempotent
// effects with the same input:
//
//   - the sourcing plan is saved before any fulfilment order is released,
//     because a new plan could choose other warehouses (other fulfilment
//     orders); releases are idempotent by fulfilment order ID;
//   - the CRM status sequence is saved before the status is published,
//     because the CRM ignores a sequence it has seen, so a sequence reused
//     for other content would be lost; a status published again after a
//     crash takes the next sequence;
//   - the decision (order.accepted or held) is appended before the
//     decided state is first saved (a rejection, whose validation in the
//     ERP is not idempotent, is saved first and appended from the saved
//     state), and the hold watcher's resumption
//     is saved after its event is appended: were one lost, the event
//     appended again has the same ID and is recognised as a duplicate; an
//     order whose fulfilment orders are all saved released is released;
//   - acceptance and shipment posting are idempotent by key in the ERP:
//     after a crash between the effect and the save, the ERP returns the
//     first result (the same ack, the same invoice);
//   - released fulfilment orders, allocation updates, shipments and
//     invoices are saved with the next status publication, the ERP's
//     answers and the warehouses' events being obtained again on a repeat.
//
// The state of an order after a crash is therefore at most one handler
// behind, and what that handler did is done again idempotently.
// Without Config.State nothing survives the process.
//
// When Config.State is an [SQLState] on the database of an eventlog.SQL
// log, the consumer commits in groups (see eventlog.Defer): at the end of
// each handler the order's state, when it changed since its last save, is
// saved in the transaction that also completes the events' dedupe claims
// and commits the consumer's cursor for the events handled together, and
// the order's next event is handled only after that commit. A crash
// before it loses the saves and the acknowledgements together: those
// events are handled again from the state saved before them, still at
// most one handler behind for each order. On that path, when Config.Log
// is that eventlog.SQL itself, the guarantees above are kept with no
// commit of their own:
//
//   - the decision event (order.accepted, held or rejected) is appended in
//     that same transaction (eventlog.SQL.DeferAppend), with the decided
//     state: a decided state is saved if and only if its decision is
//     appended, a rejection's as any other. A crash before the commit
//     loses both, and the order.submitted event handled again asks the
//     ERP again (acceptance is idempotent by key; no system has seen the
//     lost answer). Nothing is published to the CRM before that commit:
//     the decided status is published by the handler of the decision
//     event (order.accepted publishes it before the releases, within the
//     sequences reserved by the decision's save; order.held and
//     order.rejected publish it). When that commit fails and the event's
//     writes fail again alone, the event is handled again, and the
//     handler does not trust its copy of the order in memory (decided
//     without the decision appended): it loads the order from the store;
//   - the status sequence is not saved before each publication: a save
//     (the decision's first) reserves the next 8 sequences (the state
//     stores the last one reserved, and a restarted flow publishes above
//     it), and a publication beyond them is saved first;
//   - the sourcing plan of an order the ERP accepts at once is made
//     before the decision's commit and saved by it, so its releases need
//     no save before; a plan made later (an order released from hold, or
//     planned again after a change or cancellation) is saved before any
//     release, and the hold watcher's resumptions are saved after their
//     event is appended, outside handlers, as above.
//
// A flow whose Config.Log is another log (or an eventlog.SQL wrapped in
// another Backend), a replayed dead letter, and a flow without an
// [SQLState] keep the checkpoints of the list above.
//
// Each save is conditional on the version the flow loaded
// ([StoredState.Version]): when several processes run the flow over one
// PostgreSQL database (the consumer group runs in one of them at a time),
// a process whose copy of an order another one has made stale fails to
// save it with [ErrStateConflict], drops its copy and handles the event
// again from the stored state.
//
// With Config.Dedupe, the consumer claims each event in the dedupe store
// before its handler runs. A crash leaves the claims of the events in
// flight held until their lease runs out (Config.DedupeLease,
// [DefaultDedupeLease]); a restarted flow parks those events until then
// and handles them after.
//
// # Across processes
//
// Several processes run one flow when Config.NewConsumer gives each a
// member of a partitioned consumer group (package eventlog:
// SQL.GroupConsumer, over one database; package eventlog/jetstream:
// Backend.GroupConsumer): every process runs [Flow.Run] with the same
// Group, Scope and Source, over the same Log, State (and Cursors) and
// Dedupe. The log's partition key of an order's events is its order ID,
// so each order is handled by the process that owns its partition, one
// event at a time and in order; when a partition moves (a process joins,
// leaves or crashes), its new owner starts after the last committed event
// and the events the former owner had in flight are delivered again (see
// the group's own documentation for the bound and the fencing).
//
// The state of an order is shared, not owned: each save is conditional
// on the version loaded, as above, so a process whose copy another has
// made stale (it owned the order's partition before) fails the save with
// [ErrStateConflict], drops its copy and handles the event again from the
// store. Queries ([Flow.Where]) read the store and take its state when it
// is newer than the copy in memory, and the hold watcher keeps in memory
// only the orders its process handles.
//
// Every process polls every feed and checks the held orders, each
// Config.PollInterval, from the cursors in the shared Config.Cursors:
// there is no elected poller to fail over. Two processes that read the
// same page append the same events; the log stores an event once per
// dedupe key (source and ID: with JetStream, the stream's duplicate
// window), and the events the flow emits itself (decisions, resumptions
// of held orders) have IDs derived from their content, so they too are
// stored once. A process that saves a cursor after a faster one may move
// it back a page; that page is read and appended again, stored once
// within the log's duplicate window, and beyond it recognised by the
// handlers as documents already applied, as any redelivery is. The cost
// is one read of each feed per process and interval: with N processes,
// choose PollInterval N times longer than one process would poll. A WMS
// feed that implements [connector.Subscriber] wakes every process when it
// grows, and each reads the new events: N reads of each new page.
//
// [Flow.DeadLetters], [Flow.Replay] and [Flow.Where] cover the consumer
// groups of every partition when the Consumer reports them
// ([ConsumerGroups]). [Flow.Drain] waits with the Consumer's WaitIdle; an
// eventlog or jetstream Group's waits for the whole group, whichever
// process owns each partition.
//
// # Compaction
//
// Memory held per completed order is bounded: an order that is final
// (rejected, cancelled, or accepted and shipped and invoiced in full with
// the CRM up to date) is saved with [StoredState.Final] and dropped from
// memory after the handler that completed it. A late event that names it
// (a duplicated shipment, a return) loads it again, and it is dropped again
// after that event. Without Config.State, final orders are kept encoded in
// the flow's own [MemoryState] for [DefaultStateRetention] after the last
// event that named them, then forgotten; a [MemoryState] given as
// Config.State keeps them for its Retention, an [SQLState] until
// [SQLState.DeleteFinal]. An event that names a forgotten order is
// dead-lettered with [ErrUnknownOrder], and an order.submitted event of a
// forgotten order would be taken for a new order: keep completed orders
// for longer than the feeds may deliver an event again. [Flow.Orders]
// lists the orders in memory and those of a [MemoryState].
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
// "apply_inventory", key, event source, event ID, positions), and
// to the CRM as one availability (the sum of what is available over the
// key's lots) with PublishAvailability, whose sequence is that WMS
// sequence times [AvailabilityStride]. A retried event pushes the positions it read first, so its key
// always carries the same positions; after a restart the positions (and
// the inventory state) are read again, and pushing them again is safe
// since they are absolute.
//
// Coalescing follows from this rule: when several events of one key are
// pending, the first one handled pushes the newest position, and the others
// are covered by it, so the ERP and the CRM get one push per burst. Since
// only absolute positions read from the source are pushed, and the ERP and
// the CRM ignore positions not newer than the ones they hold, duplicated or
// reordered feed events never move them backwards. The sync lag (from the
// event's time to the push) is reported through [Metrics.SyncLag] for the
// event that pushed, with entity "inventory_adjustment" or
// "inventory_position".
//
// Availability also changes without an inventory event: allocation,
// backorder, a short pick and deallocation after a cancellation move the
// WMS's allocated quantity but no inventory sequence. The order-to-cash
// flow, on each fulfilment allocation update (allocated, backordered,
// picked, and the one the WMS sends after a cancellation), re-reads the
// positions of each of its items at its warehouse and publishes their
// availability to the CRM; the ERP's ledger is left alone, since on hand
// did not move. Reads of a key are made one at a time and each is given
// the next availability sequence: the WMS sequence times
// AvailabilityStride (plus one for a refresh), or one more than the last
// given when that is not less. So the CRM keeps the newest read whatever
// order the publishes land in: an older snapshot's read never overtakes an
// allocation's refresh, and the key's next inventory event overtakes every
// refresh before it. A sequence above the WMS sequence times the stride,
// which no later read could derive, is stored in the [CursorStore] (under
// [FeedCRMAvailability]) before it is published, with the next 63 reserved
// by the same save, and a restarted flow loads it on its first read of the
// key: its refreshes go on above the ones the CRM shows.
//
// # Roles each sub-flow needs
//
// Order-to-cash and its cancellations and returns act on the same orders,
// and each of them calls all three systems (the ERP validates, accepts,
// posts and credits; the WMS releases, cancels and authorizes returns; the
// CRM shows the status), so [New] takes whole connectors ([connector.ERP],
// [connector.WMS], [connector.CRM]) and runs inventory sync beside them.
// Inventory sync alone needs three roles only: the WMS's inventory and event
// feed ([InventoryFeed]), the ERP's ledger ([connector.InventoryApplier])
// and the CRM's availability ([connector.AvailabilityPublisher]).
// [NewInventorySync] takes just those in an [InventoryConfig], so a team
// that syncs stock does not implement order calls it never makes. A
// separate constructor was chosen over a Config whose nil connectors
// disable sub-flows: the order sub-flows cannot run on part of a system,
// so their only valid subsets are "all" and "none", and a separate
// configuration says that in its type instead of in a list of rules. A
// role missing from either configuration is an [ErrInvalidConfig] naming
// the field and the role. A flow made by NewInventorySync appends only the
// inventory events of the WMS's feed; its order entry points find no orders
// ([Flow.PollOrders], [Flow.PollERP] and [Flow.CheckHolds] return 0,
// [Flow.Where] returns [ErrUnknownOrder], [Flow.AuthorizeReturn]
// [ErrInvalidConfig]) and any order event on its log is a type it does not
// handle (InventoryConfig.Unhandled).
//
// # Cancellation of an open remainder
//
// A user asks to cancel what has not shipped of an order, in full or of
// given lines, in the CRM (an order.cancel_requested event on its order
// feed) or in the ERP (the same event on the ERP's optional event feed,
// [connector.EventFeed] found with [connector.As], read by [Flow.PollERP]
// under [FeedERPEvents]). The request is partitioned by order ID, so it is
// handled in order with the order's other events. Before the release the
// open quantity is cancelled directly; after it, each fulfilment order is
// asked to cancel with CancelRelease under a key derived from ("cancel",
// order ID, request, fulfilment order), and only what the warehouse
// reports cancelled is folded, so goods it shipped first stay shipped.
// What was cancelled goes into the cancelled bucket through quantity
// deltas tagged with the request, reaches the ERP through
// [connector.OrderCanceller] (when the ERP has it) and the CRM through the
// status and a message, and is recorded as order.cancelled. A request for
// an order with nothing open cancels nothing and says so in the CRM's
// messages; a request delivered again is a duplicate. A remainder
// cancelled in full completes the order: its status follows from the
// buckets.
//
// # Changes after the ERP's decision
//
// A customer changes an accepted order (a quantity up or down, a line
// added or removed, a new requested date, another ship-to, ship-complete):
// the CRM's feed delivers a new version of it (order.submitted with a
// higher version; crm.Memory.ReviseOrder in the simulator). The flow
// computes the change against what the systems hold
// ([canonical.DiffOrders]: the quantities, dates and fields as applied by
// earlier changes, not as asked) and, for an order released to the
// warehouses, first asks each fulfilment order's WMS
// ([connector.ReleaseChanger], found with [connector.As]) to take away
// what it can of the decreases: it refuses what is picked or shipped, and
// its answer decides a change that races a shipment. The ERP
// ([connector.OrderChanger]) then decides the change with the decreases
// the warehouses made: it applies, holds (credit) or refuses (stock, item,
// customer, closed) each part. The increases it accepted go where the
// Sourcer plans them: onto the line of a fulfilment order of that
// warehouse that is still open, else into a new fulfilment order
// ("<planned ID>-v<version>"), so an increase is re-sourced when its
// warehouse has no more; a new ship-to, ship-complete or requested ship
// date goes to every fulfilment order released before. An order not
// released yet (or on hold) is changed in the ERP alone, and its release
// plans what is open then. Every quantity is a quantity event: a decrease
// in the cancelled bucket, an increase in ordered, confirmed and rejected
// as the ERP decided, so status, invoices and returns follow. The CRM is
// shown per line and field what was applied and what was refused, with the
// reason ([connector.OrderStatus.Changes]), and a message.
//
// Each call has a key derived from (step, order ID, version, fulfilment
// order), the state is saved before the releases that depend on the
// Sourcer's plan, and each step records what it did, so a retried or
// replayed change repeats no effect. A version at or below the one the
// flow holds is a duplicate; the same version with other content is an
// [ErrChangedDuplicate]; a new version while an earlier change is
// incomplete (dead-lettered) is an [ErrOrderState]: replay the earlier one
// first. A change of a rejected order is refused for
// [canonical.ChangeReasonClosed]; when the ERP lacks OrderChanger, or the
// WMS of a released fulfilment order lacks ReleaseChanger, the whole change
// is refused for [canonical.ChangeReasonUnsupported], naming the system and
// the role in the CRM's message, and nothing changes but the version.
// Increases the ERP held for credit are kept: the hold watcher checks the
// released order ([Flow.CheckHolds]) and, once the ERP has released the
// hold, sends them again as a change from the ERP's version to the next
// (the ERP decides them anew and may hold them again). Held increases of
// an order that was itself on hold when changed are not sent again.
//
// # The ERP's own changes
//
// The ERP may change an order it has accepted on its own: correct a price,
// reject (part of) a line later, confirm less than is open, promise
// another date. It puts an order.amended event ([canonical.OrderAmendment])
// on its event feed, accepted from [Config.ERPSources] only, with each
// amended line's new totals and a revision per order. The flow takes up an
// amendment once: one at or below the revision it took up is a duplicate
// (the revision is kept in the order's state, so across restarts too). A
// higher rejected total is booked as a rejected quantity delta; a confirmed
// total below what is open withholds the rest. On a released order, what
// no longer ships is taken away from the fulfilment orders, with
// [connector.ReleaseChanger] when the WMS has it (else CancelRelease),
// under keys derived from ("erp_amend", order ID, revision, fulfilment
// order). What a warehouse refuses because it is picked, packed or
// shipped stays to ship: only what it took away is booked, the ERP is told
// what was kept with [connector.AmendmentReporter] (when it has it), and
// the CRM's messages give the reason. Prices and promised dates are set on
// the order and shown. A withholding on an order not released yet is
// dead-lettered with [ErrOrderState], to replay once it is released; a
// higher confirmation releases nothing more.
//
// # Returns
//
// A return (RMA) is authorized in the CRM (its order feed carries
// return.authorized events, partitioned by the order) or by an integration
// on the ERP's side with [Flow.AuthorizeReturn], which appends the same
// event to the log; the handler does not care where it came from. The
// return must name lines of a known order, in their units, and authorize
// per order line no more than the order shipped minus what its earlier
// returns authorized ([ErrReturnExceedsShipped], naming the line); a
// return the flow refuses is dead-lettered with that reason. An accepted
// one is registered with the WMS (AuthorizeReturn, idempotent by the
// return's ID) and shown in the CRM ([connector.OrderStatus] Returns).
//
// [Flow.PollWarehouse] appends the WMS's return.received events,
// partitioned by the order, so they are handled in order with the order's
// other events. Each carries the return with what was received so far;
// what it received and the flow has not credited yet is one receipt,
// posted to the ERP with PostReturn under a key derived from
// ("ordertocash", "post_return", order ID, return ID, receipt version) as
// a return whose ID is "RETURN-ID/VERSION" and whose lines hold the
// receipt's quantities, condition and disposition. The receipt is kept
// until the ERP answers, so a retried or replayed event posts the same
// receipt under the same key. The credit memo's quantities then grow the
// returned bucket of the order lines (tagged with the memo), so billing
// becomes "credited", and the CRM shows the returned quantities and the
// memo's number and total. Two receipts of one return give two credit
// memos; a duplicated or older receipt event finds nothing new and is
// counted as a duplicate; a receipt of a return the flow never authorized
// is dead-lettered ([ErrUnknownReturn]).
//
// Restocked goods reach the ERP and the CRM through inventory sync: the
// WMS emits an inventory.adjusted event (reason return_to_stock) when it
// puts returned goods back in stock. Scrapped goods change no stock.
//
// # Several WMS
//
// A distributor may run its own DC on one WMS and ship from a 3PL on
// another. [Config.Warehouses] then replaces Config.WMS: a list of
// [WarehouseSystem], each a WMS with a name, the warehouses it owns (each
// warehouse owned by exactly one) and the CloudEvents sources of its
// events. Routing is by warehouse. The default Sourcer reads the stock of
// every system, each for the warehouses it owns, so an order that no one
// warehouse can fill is split across systems; each fulfilment order is
// released to the system that owns its warehouse and cancelled there; a
// return is registered with the system of its receiving warehouse; and
// inventory sync reads a warehouse's positions from its owner.
// [Flow.PollWarehouse] reads every system's feed into the one log, each
// under its own cursor (FeedWMSEvents+"/"+name, in Config.Cursors, so a
// restarted flow resumes each feed where it stopped), and webhooks
// appended to the log by other means are merged the same way. A system
// speaks only for its own warehouses: a fulfilment, return or inventory
// event about a warehouse is accepted only from its owner's sources (an
// event of the DC's WMS about the 3PL's warehouse is dead-lettered with
// [ErrForeignSource], as is one about a warehouse no system owns), and a
// fulfilment event must name the warehouse of the fulfilment order it is
// about. [OrderView].Systems says which system holds which fulfilment
// order and return. Ownership is configuration, not state: a restarted
// flow routes by the Warehouses it is given. Decorate each WMS with its
// own [connector.Options].System so timelines and metrics tell them apart.
// Inventory sync alone ([NewInventorySync]) takes one WMS.
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
