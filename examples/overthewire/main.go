// Command overthewire runs distsync's order-to-cash flow over HTTP: it
// starts three emulators on loopback, a Salesforce org (sfemu), an SAP
// S/4HANA system (sapemu) and a ShipBob account (shipbobemu), each backed
// by the in-memory simulator of its role, builds the real connectors
// (crm/salesforce, erp/sap, wms/shipbob) against them behind
// connector.WrapCRM, WrapERP and WrapWMS, and runs the scripted orders of
// examples/ordertocash through them: an order shipped complete, one split
// across two warehouses, a backorder filled later, a credit hold released,
// an unknown item rejected, an order cancelled in part in Salesforce, and
// an ERP outage (its HTTP requests 40 to 59 answered 503). It ends with the
// same table as the in-memory run, comparing what each system shows, and
// exits 1 when they disagree.
//
//	go run ./examples/overthewire [-erp sap|d365] [-dc=false] [-orders N] [-faults F] [-seed S] [-workers W] [-shipbob-limit L]
//
// By default the distributor's own DC (WH-WEST) runs on the in-memory WMS
// in the process and ShipBob is the 3PL (WH-EAST and WH-SOUTH): the flow
// gets both as flow.Config.Warehouses, the split order ships from both,
// and each order lists which system holds which of its fulfilment orders.
// -dc=false gives ShipBob all three warehouses, so that every WMS call
// goes over HTTP. -erp d365 puts Dynamics 365 Finance & Operations
// (erp/d365 against d365emu) in SAP's place.
//
// -orders adds N generated orders. -faults F injects HTTP faults into every
// emulator (connector/faults.NewHTTP with the emulator's own refusals):
// with probability F a request is answered 503, rate limited in the
// vendor's shape (Salesforce's 403 REQUEST_LIMIT_EXCEEDED, SAP's 429,
// ShipBob's 429 with x-retry-after), refused as unauthorized (an expired
// session or token), or handled and its answer lost by a reset or a
// timeout; the own DC's WMS, in the process, gets faults at its calls as
// in examples/ordertocash. The summary counts the HTTP requests each
// emulator answered, per operation, and the faults it injected.
//
// ShipBob allows 150 requests a minute per user, and the emulator enforces
// it; at that pace a run of hundreds of orders takes many minutes, so the
// example switches the emulator's limit off unless -shipbob-limit sets one
// (the connector honours a 429's x-retry-after and slows down as
// x-remaining-calls runs low).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/distsync/distsync/examples/internal/o2c"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "overthewire:", err)
		os.Exit(1)
	}
}

// summary is the first line of -h: what the program does.
const summary = "overthewire runs the order-to-cash flow over HTTP through the Salesforce, SAP (or Dynamics 365) and ShipBob connectors " +
	"against their emulators on loopback, prints each order's timeline and what each system shows, and exits 1 when they disagree."

// parseFlags parses the command line; -h writes the summary, the usage
// and the flags to stderr and returns [flag.ErrHelp].
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("overthewire", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nusage: go run ./examples/overthewire [flags]\n", summary)
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.orders, "orders", 0, "generated orders to add to the scenario")
	fs.Float64Var(&cfg.faults, "faults", 0, "probability of an HTTP fault per request in every emulator "+
		"(503, vendor-shaped rate limit, expired session, answer lost after the effect), 0 to 0.5")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the generated orders and the faults")
	fs.StringVar(&cfg.erp, "erp", "sap", "the ERP: sap (SAP S/4HANA over OData v2, erp/sap) or d365 (Dynamics 365 F&O over OData v4, erp/d365)")
	fs.BoolVar(&cfg.ownDC, "dc", true, "run the own DC (WH-WEST) on the in-memory WMS beside ShipBob as the 3PL (WH-EAST, WH-SOUTH); "+
		"-dc=false gives ShipBob all three warehouses")
	fs.IntVar(&cfg.workers, "workers", 4, "orders the flow handles at once")
	fs.IntVar(&cfg.shipbobLimit, "shipbob-limit", 0, "requests per minute the ShipBob emulator allows (ShipBob's is 150); "+
		"0 switches the limit off, since at 150 a minute a run of hundreds of orders takes many minutes")
	return cfg, fs.Parse(args)
}

// config is what the flags set.
type config struct {
	orders       int
	faults       float64
	seed         uint64
	workers      int
	erp          string // "sap" or "d365"
	ownDC        bool   // the own DC on the in-memory WMS beside ShipBob
	shipbobLimit int
	noOutage     bool // for the benchmark: no SAP outage
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	w, err := newWorld(cfg)
	if err != nil {
		return err
	}
	defer w.close()
	w.describe(out)
	// ShipBob keeps one line per SKU and cancels whole orders only: the
	// generated orders fit that.
	res, err := o2c.Run(ctx, out, w.o2c(), o2c.Config{Orders: cfg.orders, Seed: cfg.seed, WholeOrders: true})
	if res.IDs != nil {
		w.summarize(out, len(res.IDs))
	}
	return err
}
