// Command customconnector is the starting point for a team writing its own
// connector: package tinyerp implements [connector.ERP] for a tiny
// in-memory ERP, main_test.go proves it with the conformance kit
// (connectortest.TestERP, plain and behind injected faults), and this
// program shows it at work behind the SDK's decorators.
//
// Run the demonstration, which exits with status 1 when the ERP breaks a
// contract it shows:
//
//	go run ./examples/customconnector
//
// Run the conformance kit, the proof that the ERP honours every contract:
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
	"github.com/distsync/distsync/examples/customconnector/tinyerp"
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
	timeline, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	if err != nil {
		return err
	}
	// The decorators add retry, a circuit breaker, timeouts and a
	// timeline; the team's connector only speaks to its ERP.
	wrapped, err := connector.WrapERP(erp, connector.Options{Recorder: timeline, Now: now})
	if err != nil {
		return err
	}
	ctx = tracing.WithCorrelationID(ctx, "order-1001")

	order := canonical.Order{
		ID: "order-1001", Version: 1, Currency: "USD",
		SoldTo: canonical.PartyRef{ID: "cust-1", Name: "Acme"}, ShipTo: canonical.PartyRef{ID: "cust-1-dock"},
		Lines: []canonical.OrderLine{
			{ID: "L1", Item: canonical.ItemRef{SKU: "SKU-A"}, Quantity: canonical.MustParseQuantity("10", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
			{ID: "L2", Item: canonical.ItemRef{SKU: "SKU-B"}, Quantity: canonical.MustParseQuantity("5", "EA"), UnitPrice: canonical.MustParseMoney("4.00", "USD")},
		},
	}
	ack, err := wrapped.ValidateOrder(ctx, &order)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	fmt.Printf("validated %s: %s, total %s\n", order.ID, ack.Outcome, ack.Totals.Total)
	for _, l := range ack.Lines {
		if l.UnitPrice != nil {
			fmt.Printf("  line %s: %s to %s\n", l.LineID, l.Result, *l.UnitPrice)
		}
	}

	const key = "o2c/accept/order-1001/v1"
	ack, err = wrapped.AcceptOrder(ctx, key, &order)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	so, _ := ack.Refs.Get(tinyerp.System, "salesOrder")
	fmt.Printf("accepted %s as %s: %s\n", order.ID, so.Value, ack.Outcome)

	// A redelivered request with the same key books nothing new.
	again, err := wrapped.AcceptOrder(ctx, key, &order)
	if err != nil {
		return fmt.Errorf("accept again: %w", err)
	}
	if r, _ := again.Refs.Get(tinyerp.System, "salesOrder"); r != so || erp.Stats().Orders != 1 {
		return errors.New("a replay with the same key booked another order")
	}
	fmt.Printf("replayed key %q: same %s, %d order booked\n", key, so.Value, erp.Stats().Orders)

	other := order
	other.ID = "order-1002"
	if _, err := wrapped.AcceptOrder(ctx, key, &other); connector.CodeOf(err) != connector.CodeConflict {
		return fmt.Errorf("a key reused for another order gave %v, want a conflict", err)
	}
	fmt.Println("reused key for another order: conflict")

	if _, err := wrapped.GetOrder(ctx, "order-9999"); connector.CodeOf(err) != connector.CodeNotFound {
		return fmt.Errorf("an unknown order gave %v, want not found", err)
	}
	fmt.Println("unknown order: not_found")

	shipment := canonical.Shipment{
		ID: "shp-1", Version: 1, OrderID: order.ID, FulfillmentOrderID: "fo-1", Warehouse: "WH1",
		Carrier: canonical.Carrier{SCAC: "UPSN"}, ShippedAt: now(),
		Lines: []canonical.ShipmentLine{{ID: "S1", OrderLineID: "L1", FulfillmentLineID: "F1", Item: order.Lines[0].Item, Quantity: canonical.MustParseQuantity("10", "EA")}},
	}
	inv, err := wrapped.PostShipment(ctx, "o2c/ship/shp-1", shipment)
	if err != nil {
		return fmt.Errorf("post shipment: %w", err)
	}
	fmt.Printf("shipment %s invoiced as %s: %s\n", shipment.ID, inv.Number, inv.Totals.Total)

	fmt.Println("timeline of order-1001:")
	for _, s := range timeline.Timeline("order-1001") {
		class := ""
		if s.ErrorClass != "" {
			class = " (" + s.ErrorClass + ")"
		}
		fmt.Printf("  %s %s attempt %d: %s%s\n", s.System, s.Operation, s.Attempt, s.Outcome, class)
	}
	return nil
}
