// Package wms is distsync's reference warehouse management system: an
// in-memory simulator of several warehouses that implements
// [connector.WMS], deterministic so that tests and examples can replay it.
//
// # The world
//
// A [Memory] holds warehouses ([canonical.Location]), an item master and
// stock per item, warehouse, lot and status. The zero [Config] gives the
// demo world shared with the erp package: warehouses WH-EAST, WH-SOUTH and
// WH-WEST and items SKU-100 to SKU-105 (see [DemoStock]). The simulator
// keeps its own identifiers and exposes them through canonical refs of
// system "wms": outbound orders "OB-000001", shipments "SHP-000001",
// expected receipts "RT-000001", adjustments "ADJ-000001". A world can
// also be read from a small JSON fixture with [ParseConfig].
//
// # Sourcing and allocation
//
// [Memory.Plan] splits an order into fulfilment orders, one per warehouse,
// with the configured [Strategy]: nearest first, fill from one warehouse
// first, or split by available stock. [Memory.Release] accepts a
// fulfilment order (idempotent by its ID). Stock is allocated at the next
// [Memory.Step] from the fulfilment order's warehouse, lots expiring first;
// what is short is backordered and allocated, oldest release first, when
// stock arrives through [Memory.Adjust] or a restocked return. Stock is
// kept in each item's base unit; a line in a package unit (a case, XCS) is
// allocated in whole cases, each from one lot.
//
// # Time and steps
//
// Nothing moves by itself: the simulator has no goroutines. Each
// [Memory.Step] advances the simulated clock by one tick and moves every
// open fulfilment order one stage: allocate, pick, then pack and ship.
// Shipments are partial when only part is allocated; each package has an
// SSCC-18 built from the configured GS1 company prefix and a tracking
// number from the seeded random source. [Memory.CancelRelease] cancels
// what has not shipped. Returns are authorized with
// [Memory.AuthorizeReturn] and received with [Memory.ReceiveReturn], whose
// disposition decides whether the goods go back to stock. A released
// fulfilment order keeps its extension attributes, and its shipments
// carry the fulfilment order's.
//
// # The feed
//
// Everything that happens is a canonical event on the feed read with
// [Memory.PollEvents]: fulfilment released, allocated, backordered, picked,
// shipped and cancelled; inventory adjusted and snapshots
// ([Memory.Snapshot]); returns received. The feed is an append-only list in
// the simulator's [State]; its cursors are positions in it, so a new
// instance opened over the same state (Config.State) resumes from a stored
// cursor.
package wms
