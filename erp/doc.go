// Package erp is an in-memory ERP: a realistic simulator of the system of
// record for customers, prices, orders and invoices. It implements
// [connector.ERP] and is the reference ERP the flows, the examples and the
// conformance kit run against.
//
// # The world it simulates
//
// A [Memory] holds, from its [Config]:
//
//   - accounts: customers with payment terms, a credit limit, an open
//     balance (invoiced, not paid) and a blocked flag;
//   - a price list per base unit of each item, with quantity breaks and
//     customer-specific prices that take precedence over list prices;
//   - sales-tax rates by ship-to country and region;
//   - an inventory ledger per item, location, lot and status, fed by
//     [Memory.ApplyInventory] from the warehouses.
//
// The zero Config gives a small demo world ([DemoAccounts], [DemoItems],
// [DemoPrices], [DemoTaxRates], [DemoStock]) shared with the crm and wms
// simulators: customers "C-1" to "C-3" ("C-3" with a low credit limit) and
// items "SKU-100" to "SKU-105" priced in USD, shipped to US regions with
// sales tax. A world of one's own can be kept as a JSON fixture: see
// [ParseConfig] and the example in testdata/world.json.
//
// # Orders
//
// [Memory.ValidateOrder] judges an order without side effects: it reprices
// every line from the price list (a line whose price differs comes back as
// price_changed), rejects lines of unknown items (naming
// lines[i].item.sku), rejects every line of a blocked or unknown customer,
// computes tax from the ship-to region, and puts the order on a credit hold
// when the customer's exposure (open balance, plus uninvoiced orders, plus
// this order) would exceed the credit limit. Lines the inventory cannot
// cover come back backordered with the missing quantity.
//
// [Memory.AcceptOrder] does the same and records the order under its own
// sales order number ("SO-000001"), which it returns in the ack's refs; it is
// idempotent by key. [Memory.ReleaseHold] releases a hold, as a credit
// controller would. [Memory.GetOrder] returns the ERP's view with the
// confirmed, rejected, backordered, shipped, invoiced and returned buckets.
//
// # Billing
//
// [Memory.PostShipment] posts a warehouse shipment and produces exactly one
// invoice per shipment ("INV-000001"), with the order's prices, the tax of
// its ship-to region and totals rounded to the currency's minor unit.
// [Memory.PostReturn] credits what a warehouse received back with a credit
// memo ("CM-000001") that points to the invoice it credits. The order's
// extension attributes are kept with it and copied onto its invoices, each
// order line's onto the invoice lines that bill it.
//
// # Time and determinism
//
// [Memory.Reopen] returns a new handle over the same state, as a client
// restarted against the same ERP: idempotency keys survive it. The
// simulator reads time only from [Config.Clock] and keeps no goroutines,
// so a test with a fixed clock sees the same numbers, dates and documents
// on every run.
package erp
