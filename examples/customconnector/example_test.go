package main

import "context"

// Example_run is the demonstration main runs, with its output checked.
func Example_run() {
	if err := run(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// validated order-1001: accepted_with_changes, total 146.00 USD
	//   line L2: price_changed to 4.20 USD
	// accepted order-1001 as SO-000001: accepted_with_changes
	// replayed key "o2c/accept/order-1001/v1": same SO-000001, 1 order booked
	// reused key for another order: conflict
	// unknown order: not_found
	// shipment shp-1 invoiced as INV-000001: 125.00 USD
	// timeline of order-1001:
	//   09:00:03.000 erp ValidateOrder attempt 1: ok, 4s
	//   09:00:09.000 erp AcceptOrder attempt 1: ok, 4s
	//   09:00:15.000 erp AcceptOrder attempt 1: ok, 3s
	//   09:00:20.000 erp AcceptOrder attempt 1: failed (conflict), 3s
	//   09:00:25.000 erp GetOrder attempt 1: failed (not_found), 3s
	//   09:00:31.000 erp PostShipment attempt 1: ok, 3s
}
