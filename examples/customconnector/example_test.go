package main

import "context"

// Example_run is the demonstration main runs, with its output checked.
func Example_run() {
	if err := run(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// crm: distsync.order.submitted.v1 order-1001 from OPP-000001
	// erp: validated order-1001: accepted_with_changes, total 146.00 USD
	//   line L2: price_changed to 4.20 USD
	// erp: accepted order-1001 as SO-000001: accepted_with_changes
	// erp: replayed key "o2c/accept/order-1001/v1": same SO-000001, 1 order booked
	// erp: reused key for another order: conflict
	// erp: unknown order: not_found
	// wms: released fo-1001-1 as PT-000001
	// wms: distsync.fulfillment.released.v1 order-1001
	// wms: distsync.fulfillment.shipped.v1 order-1001
	// erp: shipment SHP-fo-1001-1 invoiced as INV-000001: 146.00 USD
	// crm: order-1001 shows tracking number [1Z000001]
	// timeline of order-1001:
	//   09:00:07.000 crm PollOrders attempt 1: ok, 3s
	//   09:00:12.000 erp ValidateOrder attempt 1: ok, 4s
	//   09:00:18.000 erp AcceptOrder attempt 1: ok, 4s
	//   09:00:24.000 erp AcceptOrder attempt 1: ok, 3s
	//   09:00:29.000 erp AcceptOrder attempt 1: failed (conflict), 3s
	//   09:00:34.000 erp GetOrder attempt 1: failed (not_found), 3s
	//   09:00:39.000 wms Release attempt 1: ok, 5s
	//   09:00:48.000 wms PollEvents attempt 1: ok, 3s
	//   09:00:53.000 erp PostShipment attempt 1: ok, 3s
	//   09:00:59.000 crm PublishStatus attempt 1: ok, 3s
}
