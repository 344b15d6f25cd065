// Command customconnector is the starting point for a team writing its own
// connectors: packages tinyerp, tinywms and tinycrm implement
// [connector.ERP], [connector.WMS] and [connector.CRM] for tiny in-memory
// systems; main_test.go, wms_test.go and crm_test.go prove them with the
// conformance kit (connectortest.RunERP, RunWMS and RunCRM, plain and
// behind injected faults); and this program takes one order from the CRM
// through the ERP and the warehouse and back, with all three behind the
// SDK's decorators. Copy the package of your system's role and replace its
// maps with calls to your system.
//
// Run the demonstration, which exits with status 1 when a connector breaks
// a contract it shows:
//
//	go run ./examples/customconnector
//
// Run the conformance kit, the proof that the connectors honour every
// contract:
//
//	go test ./examples/customconnector/...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/examples/customconnector/tinycrm"
	"github.com/distsync/distsync/examples/customconnector/tinyerp"
	"github.com/distsync/distsync/examples/customconnector/tinywms"
	"github.com/distsync/distsync/tracing"
)

// summary is the first line of -h: what the program does.
const summary = "customconnector shows a team's own ERP connector (package tinyerp) at work behind the SDK's decorators " +
	"and exits 1 when it breaks a contract; go test ./examples/customconnector/... proves it with the conformance kit."

// usage writes the -h text: the summary, then how to run the program.
func usage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nusage: go run ./examples/customconnector\n", summary)
}

func main() {
	flag.Usage = func() { usage(flag.CommandLine.Output()) }
	flag.Parse()
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "customconnector:", err)
		os.Exit(1)
	}
}

// clock is a fixed clock that moves one second per reading, so the output
// is the same on every run.
func clock() func() time.Time {
	t := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func run(ctx context.Context) error {
	now := clock()
	erp := tinyerp.New(tinyerp.Config{Now: now})
	wms := tinywms.New(tinywms.Config{Now: now})
	crm := tinycrm.New(tinycrm.Config{Now: now})
	timeline, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	if err != nil {
		return err
	}
	// The decorators add retry, a circuit breaker, timeouts and a
	// timeline; the team's connectors only speak to their systems.
	opts := connector.Options{Recorder: timeline, Now: now}
	wrappedERP, err := connector.WrapERP(erp, opts)
	if err != nil {
		return err
	}
	wrappedWMS, err := connector.WrapWMS(wms, opts)
	if err != nil {
		return err
	}
	wrappedCRM, err := connector.WrapCRM(crm, opts)
	if err != nil {
		return err
	}
	ctx = tracing.WithCorrelationID(ctx, "order-1001")

	// A sales rep converts an opportunity; the order appears on the CRM's
	// feed.
	if err := crm.Convert(ctx, canonical.Order{
		ID: "order-1001", Version: 1, Currency: "USD", OrderedAt: now(),
		SoldTo: canonical.PartyRef{ID: "cust-1", Name: "Acme"}, ShipTo: canonical.PartyRef{ID: "cust-1-dock"},
		Lines: []canonical.OrderLine{
			{ID: "L1", Item: canonical.ItemRef{SKU: "SKU-A"}, Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
			{ID: "L2", Item: canonical.ItemRef{SKU: "SKU-B"}, Quantity: canonical.MustParseQuantity("5", "EA"), UnitPrice: canonical.MustParseMoney("4.00", "USD")},
		},
	}); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	page, err := wrappedCRM.PollOrders(ctx, "", 10)
	if err != nil {
		return fmt.Errorf("poll the CRM: %w", err)
	}
	if len(page.Events) != 1 {
		return fmt.Errorf("the CRM's feed holds %d events, want 1", len(page.Events))
	}
	order, err := canonical.DecodeData[canonical.Order](page.Events[0])
	if err != nil {
		return fmt.Errorf("the CRM's order: %w", err)
	}
	opp, _ := order.Refs.Get(tinycrm.System, "opportunity")
	fmt.Printf("crm: %s %s from %s\n", page.Events[0].Type, order.ID, opp.Value)

	ack, err := wrappedERP.ValidateOrder(ctx, &order)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	fmt.Printf("erp: validated %s: %s, total %s\n", order.ID, ack.Outcome, ack.Totals.Total)
	for _, l := range ack.Lines {
		if l.UnitPrice != nil {
			fmt.Printf("  line %s: %s to %s\n", l.LineID, l.Result, *l.UnitPrice)
		}
	}

	const key = "o2c/accept/order-1001/v1"
	ack, err = wrappedERP.AcceptOrder(ctx, key, &order)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	so, _ := ack.Refs.Get(tinyerp.System, "salesOrder")
	fmt.Printf("erp: accepted %s as %s: %s\n", order.ID, so.Value, ack.Outcome)

	// A redelivered request with the same key books nothing new.
	again, err := wrappedERP.AcceptOrder(ctx, key, &order)
	if err != nil {
		return fmt.Errorf("accept again: %w", err)
	}
	if r, _ := again.Refs.Get(tinyerp.System, "salesOrder"); r != so || erp.Stats().Orders != 1 {
		return errors.New("a replay with the same key booked another order")
	}
	fmt.Printf("erp: replayed key %q: same %s, %d order booked\n", key, so.Value, erp.Stats().Orders)

	other := order
	other.ID = "order-1002"
	if _, err := wrappedERP.AcceptOrder(ctx, key, &other); connector.CodeOf(err) != connector.CodeConflict {
		return fmt.Errorf("a key reused for another order gave %v, want a conflict", err)
	}
	fmt.Println("erp: reused key for another order: conflict")

	if _, err := wrappedERP.GetOrder(ctx, "order-9999"); connector.CodeOf(err) != connector.CodeNotFound {
		return fmt.Errorf("an unknown order gave %v, want not found", err)
	}
	fmt.Println("erp: unknown order: not_found")

	// The order goes to the warehouse, which ships it.
	fo := canonical.FulfillmentOrder{
		ID: "fo-1001-1", Version: 1, OrderID: order.ID, OrderVersion: order.Version, Warehouse: "WH1",
		Split: canonical.SplitPosition{Group: order.ID, Index: 1, Count: 1}, ShipTo: order.ShipTo,
	}
	for _, l := range order.Lines {
		fo.Lines = append(fo.Lines, canonical.FulfillmentLine{ID: "F" + l.ID, OrderLineID: l.ID, Item: l.Item, Quantity: l.Quantity})
	}
	released, err := wrappedWMS.Release(ctx, fo)
	if err != nil {
		return fmt.Errorf("release: %w", err)
	}
	pt, _ := released.Refs.Get(tinywms.System, "pickTicket")
	fmt.Printf("wms: released %s as %s\n", fo.ID, pt.Value)
	if err := wms.Advance(ctx); err != nil {
		return fmt.Errorf("advance the warehouse: %w", err)
	}
	var shipment canonical.Shipment
	var cursor connector.Cursor
	for shipment.ID == "" {
		page, err := wrappedWMS.PollEvents(ctx, cursor, 10)
		if err != nil {
			return fmt.Errorf("poll the WMS: %w", err)
		}
		if len(page.Events) == 0 {
			return errors.New("the WMS's feed ended without a shipment")
		}
		for _, e := range page.Events {
			fmt.Printf("wms: %s %s\n", e.Type, e.Subject)
			if e.Type == canonical.EventFulfillmentShipped {
				if shipment, err = canonical.DecodeData[canonical.Shipment](e); err != nil {
					return fmt.Errorf("the WMS's shipment: %w", err)
				}
			}
		}
		cursor = page.Next
	}

	inv, err := wrappedERP.PostShipment(ctx, "o2c/ship/"+shipment.ID, shipment)
	if err != nil {
		return fmt.Errorf("post shipment: %w", err)
	}
	fmt.Printf("erp: shipment %s invoiced as %s: %s\n", shipment.ID, inv.Number, inv.Totals.Total)

	// The CRM shows the customer where the order is.
	status := connector.OrderStatus{OrderID: order.ID, Sequence: 1, Status: order.Status(), TrackingNumbers: shipment.TrackingNumbers, UpdatedAt: now()}
	if err := wrappedCRM.PublishStatus(ctx, status); err != nil {
		return fmt.Errorf("publish status: %w", err)
	}
	shown, _ := crm.Shown(order.ID)
	fmt.Printf("crm: %s shows tracking number %v\n", shown.OrderID, shown.TrackingNumbers)

	fmt.Println("timeline of order-1001:")
	for _, s := range timeline.Timeline("order-1001") {
		fmt.Println(" ", s)
	}
	return nil
}
