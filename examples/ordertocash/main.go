// Command ordertocash runs distsync's order-to-cash flow end to end on the
// in-memory reference systems (CRM, ERP and three warehouses) with the
// memory event log, prints a timeline per order and a table comparing what
// each system shows, and exits non-zero when they disagree.
//
// With no flags it runs a scenario: an order shipped complete from one
// warehouse, one split across two, one shipped in part and completed later
// from a backorder when stock arrives, one held for credit and released,
// one rejected for an unknown item, one cancelled in part (it ships what
// is in stock and the customer cancels the backordered remainder in the
// CRM), and an ERP outage in the middle.
//
// Each order's timeline lists its steps in the order they started, one
// line per run of calls to one operation with their outcomes counted, and,
// marked -->, what the scenario did to it (the cancel request, the hold's
// release, the stock's arrival) where it happened. The ERP outage shows
// there as calls retried and failed as unavailable, calls refused while the
// ERP's breaker is open, and events parked until it is back (the hold
// checks of the held order included); the summary counts them.
//
//	go run ./examples/ordertocash [-orders N] [-faults P] [-seed S] [-store sqlite:PATH [-restarts N]] [-wms 2]
//
// -orders adds N generated orders (every tenth has its first line
// cancelled in the ERP once released); past 30 orders the table keeps the
// scenario's rows and those the systems disagree on, and sums up the others
// per status. -faults injects transient failures,
// ambiguous timeouts and duplicated or reordered feed pages with rate P on
// every connector, and -seed seeds the generator and the faults.
//
// -store sqlite:PATH keeps the flow's state in a new SQLite file: the event
// log with the consumer's cursors and dead letters, the dedupe keys, each
// order's state and the feeds' cursors. The simulated CRM, ERP and WMS
// live in the process, so a killed process loses them and a run cannot be
// resumed by starting the command again. -restarts N shows what the file
// gives instead: the flow is stopped N times at random points (after a
// random number of handled events), every object of it is dropped, and a
// new flow is opened from the file in the same process, while the
// simulated systems (the world outside the process) live on; the run ends
// with no duplicate order, release or invoice.
//
// -wms 2 runs the warehouses on two WMS, as a distributor whose own DC
// (WH-EAST and WH-SOUTH, WMS "dc") ships beside a 3PL (WH-WEST, WMS "3pl"):
// the flow gets both as flow.Config.Warehouses, the split order ships from
// both, the timelines name each WMS ("wms-dc", "wms-3pl") and each order
// lists which system holds which of its fulfilment orders.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/examples/internal/o2c"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/wms"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(2)
	}
	if cfg.verbose {
		cfg.logs = os.Stderr
	}
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ordertocash:", err)
		os.Exit(1)
	}
}

// summary is the first line of -h: what the program does.
const summary = "ordertocash runs the order-to-cash flow on in-memory CRM, ERP and warehouses through an ERP outage, " +
	"prints each order's timeline and what each system shows, and exits 1 when they disagree."

// parseFlags parses the command line; -h writes the summary, the usage
// and the flags to stderr and returns [flag.ErrHelp].
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("ordertocash", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nusage: go run ./examples/ordertocash [flags]\n", summary)
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.orders, "orders", 0, "generated orders to add to the scenario")
	fs.Float64Var(&cfg.faults, "faults", 0, "fault rate on every connector, 0 to 0.5")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the generated orders and the faults")
	fs.StringVar(&cfg.store, "store", "memory", "where the flow keeps its state: memory, or sqlite:PATH for a new SQLite file "+
		"(log, cursors, dead letters, dedupe keys, order states); the simulated systems always live in the process")
	fs.IntVar(&cfg.restarts, "restarts", 0, "with -store sqlite:PATH, stop the flow this many times at random points and "+
		"reopen it from the file in the process (the simulated systems live on, as the outside world would)")
	fs.IntVar(&cfg.systems, "wms", 1, "how many WMS run the warehouses: 1, or 2 for the own DC (WH-EAST, WH-SOUTH) "+
		"on one and a 3PL (WH-WEST) on another")
	fs.BoolVar(&cfg.verbose, "v", false, "write the flow's log records to stderr as JSON, each with the correlation and "+
		"causation IDs of the event being handled (tracing.NewHandler)")
	return cfg, fs.Parse(args)
}

// config is what the flags set.
type config struct {
	orders   int
	faults   float64
	seed     uint64
	store    string
	restarts int
	systems  int // WMS systems: 0 or 1 means one, 2 the DC's and the 3PL's
	verbose  bool
	logs     io.Writer // the flow's log records; nil means none
}

// world is the three systems and the flow over them.
type world struct {
	clk  *o2c.Clock
	erp  *erp.Memory
	wms  *wms.Memory // with -wms 2, the own DC's
	tpl  *wms.Memory // with -wms 2, the 3PL's; else nil
	crm  *crm.Memory
	rec  *tracing.MemoryRecorder
	flow *flow.Flow

	// The flow's connectors and state, rebuilt by a restart.
	ce       connector.ERP
	cw       connector.WMS
	ct       connector.WMS // the 3PL's, with -wms 2
	cc       connector.CRM
	store    store
	db       *durable
	stop     *stopper
	restarts int // restarts left to make
	out      io.Writer
	logger   *slog.Logger // the flow's; nil means discard

	erpFaults interface{ Counts() faults.Counts } // the ERP's fault injector, with the outage
}

// outage is the ERP's outage: its calls in this window fail as
// unavailable. In the scenario it comes while the first shipments are
// posted and the held order is checked: the timelines show the retries,
// the breaker opening and the shipments parked until the ERP is back.
var outage = faults.Outage{FromCall: 45, UntilCall: 65}

func newWorld(cfg config) (*world, error) {
	if cfg.faults < 0 || cfg.faults > 0.5 {
		return nil, fmt.Errorf("-faults %v: must be between 0 and 0.5", cfg.faults)
	}
	if cfg.orders < 0 {
		return nil, fmt.Errorf("-orders %d: must not be negative", cfg.orders)
	}
	st, err := parseStore(cfg.store)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.restarts < 0:
		return nil, fmt.Errorf("-restarts %d: must not be negative", cfg.restarts)
	case cfg.restarts > 0 && st.path == "":
		return nil, fmt.Errorf("-restarts %d: needs -store sqlite:PATH (a flow in memory keeps nothing to restart from)", cfg.restarts)
	}
	if cfg.systems < 0 || cfg.systems > 2 {
		return nil, fmt.Errorf("-wms %d: must be 1 or 2", cfg.systems)
	}
	if err := st.checkNew(); err != nil {
		return nil, err
	}
	w := &world{clk: o2c.NewClock(wms.DemoEpoch()), store: st, restarts: cfg.restarts,
		stop: &stopper{rng: rand.New(rand.NewPCG(cfg.seed, 3))}}
	if cfg.logs != nil {
		// Every record logged with the context of a handled event carries
		// its correlation and causation IDs.
		w.logger = slog.New(tracing.NewHandler(slog.NewJSONHandler(cfg.logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	}
	if w.erp, err = erp.New(erp.Config{Clock: w.clk.Now}); err != nil {
		return nil, err
	}
	if cfg.systems == 2 {
		if w.wms, err = newWMS("dc", dcWarehouses, w.clk.Now, cfg.seed); err != nil {
			return nil, err
		}
		// The 3PL labels its packages with its own GS1 prefix and tracking
		// numbers of its own.
		if w.tpl, err = newWMS("3pl", tplWarehouses, w.clk.Now, cfg.seed+1); err != nil {
			return nil, err
		}
	} else if w.wms, err = wms.New(wms.Config{Clock: w.clk.Now, Seed: cfg.seed}); err != nil {
		return nil, err
	}
	if w.crm, err = crm.New(crm.Config{Clock: w.clk.Now}); err != nil {
		return nil, err
	}
	if w.rec, err = tracing.NewMemoryRecorder(tracing.MemoryConfig{}); err != nil {
		return nil, err
	}
	fc := faults.Config{Seed: cfg.seed, Unavailable: cfg.faults * 0.8, RateLimited: cfg.faults * 0.2,
		AmbiguousTimeout: cfg.faults / 4, Duplicate: cfg.faults, Reorder: cfg.faults, RetryAfter: 5 * time.Millisecond}
	ec := fc
	// The ERP is down for calls 45 to 64 (outage): its breaker opens, the work for
	// it is parked and resumes when it is back.
	ec.Outage = outage
	fe, err := faults.WrapERP(w.erp, ec)
	if err != nil {
		return nil, err
	}
	fc.Seed++
	fw, err := faults.WrapWMS(w.wms, fc)
	if err != nil {
		return nil, err
	}
	fc.Seed++
	fcrm, err := faults.WrapCRM(w.crm, fc)
	if err != nil {
		return nil, err
	}
	var ftpl connector.WMS
	if w.tpl != nil {
		fc.Seed++
		if ftpl, err = faults.WrapWMS(w.tpl, fc); err != nil {
			return nil, err
		}
	}
	opts := connector.Options{
		Recorder:    w.rec,
		MaxAttempts: 3,
		Timeout:     5 * time.Second,
		Backoff:     retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond},
	}
	opts.Breaker.OpenTimeout = 20 * time.Millisecond
	ce, err := connector.WrapERP(fe, opts)
	if err != nil {
		return nil, err
	}
	wopts := opts
	if w.tpl != nil {
		wopts.System = "wms-dc"
	}
	cw, err := connector.WrapWMS(fw, wopts)
	if err != nil {
		return nil, err
	}
	if w.tpl != nil {
		wopts.System = "wms-3pl"
		if w.ct, err = connector.WrapWMS(ftpl, wopts); err != nil {
			return nil, err
		}
	}
	cc, err := connector.WrapCRM(fcrm, opts)
	if err != nil {
		return nil, err
	}
	w.ce, w.cw, w.cc, w.erpFaults = ce, cw, cc, fe
	return w, w.openFlow(context.Background())
}

// openFlow builds the flow over the connectors, with its state in memory
// or opened from the SQLite file.
func (w *world) openFlow(ctx context.Context) error {
	cfg := flow.Config{ERP: w.ce, WMS: w.cw, CRM: w.cc, Recorder: w.rec, Metrics: w.stop, Workers: 1, Logger: w.logger,
		PollInterval: 2 * time.Millisecond,
		Policy:       eventlog.ErrorPolicy{MaxAttempts: 50, OpenRecheck: 20 * time.Millisecond, Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, Jitter: retry.NoJitter}}}
	if w.tpl != nil {
		cfg.WMS = nil
		cfg.Warehouses = []flow.WarehouseSystem{
			{Name: "dc", WMS: w.cw, Locations: dcWarehouses},
			{Name: "3pl", WMS: w.ct, Locations: tplWarehouses},
		}
	}
	if w.store.path == "" {
		cfg.Log = eventlog.NewMemory(eventlog.MemoryConfig{})
	} else {
		d, err := openDurable(ctx, w.store.path)
		if err != nil {
			return err
		}
		w.db = d
		cfg.Log, cfg.Dedupe, cfg.State, cfg.Cursors = d.log, d.dedup, d.state, d.state
	}
	var err error
	w.flow, err = flow.New(cfg)
	return err
}

// restart drops the flow and everything over the database, as a killed
// process loses them, and opens a new flow from the file.
func (w *world) restart(ctx context.Context, handled int) error {
	w.flow = nil
	if err := w.db.close(); err != nil {
		return err
	}
	w.db = nil
	w.restarts--
	fmt.Fprintf(w.out, "== the flow stopped after %d handled events; reopened from %s\n", handled, w.store.path)
	return w.openFlow(ctx)
}

// close closes the database, if any.
func (w *world) close() error {
	if w.db == nil {
		return nil
	}
	return w.db.close()
}

// drain drains the flow; while restarts are left, it stops the flow after
// 1 to 25 handled events and reopens it from the file, until a drain
// handles fewer events than that.
func (w *world) drain(ctx context.Context) error {
	for {
		if w.restarts == 0 {
			return w.flow.Drain(ctx)
		}
		rctx, cancel := context.WithCancel(ctx)
		w.stop.arm(cancel, 25)
		err := w.flow.Drain(rctx)
		stopped := rctx.Err() != nil && ctx.Err() == nil
		handled := w.stop.disarm()
		cancel()
		if !stopped {
			return err
		}
		if err := w.restart(ctx, handled); err != nil {
			return err
		}
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	w, err := newWorld(cfg)
	if err != nil {
		return err
	}
	defer w.close()
	w.out = out
	feeds := []connector.EventFeed{w.wms}
	if w.tpl != nil {
		feeds = append(feeds, w.tpl)
	}
	ow := &o2c.World{Clock: w.clk, CRM: w.crm, ERP: w.erp, Feeds: feeds,
		Stock: func(warehouse string) *wms.Memory {
			if w.tpl != nil && slices.Contains(tplWarehouses, warehouse) {
				return w.tpl
			}
			return w.wms
		},
		Flow:  func() *flow.Flow { return w.flow },
		Drain: w.drain,
		Step:  w.step,
		Count: w.stop.count,
		Outage: func() string {
			return fmt.Sprintf("ERP outage: its calls %d to %d failed unavailable (%d calls)", outage.FromCall, outage.UntilCall-1,
				w.erpFaults.Counts().Outage)
		}}
	_, err = o2c.Run(ctx, out, ow, o2c.Config{Orders: cfg.orders, Seed: cfg.seed, Changes: true})
	return err
}

// step moves the warehouses of every WMS one step.
func (w *world) step(ctx context.Context) (int, error) {
	n, err := w.wms.Step(ctx)
	if err != nil || w.tpl == nil {
		return n, err
	}
	k, err := w.tpl.Step(ctx)
	return n + k, err
}

// The warehouses of each WMS with -wms 2: the distributor's own DC runs
// two, a 3PL the third.
var (
	dcWarehouses  = []string{"WH-EAST", "WH-SOUTH"}
	tplWarehouses = []string{"WH-WEST"}
)

// newWMS returns a WMS simulator of the demo world that holds only the
// given warehouses and their stock, named name (its source "wms://NAME").
func newWMS(name string, owns []string, clock func() time.Time, seed uint64) (*wms.Memory, error) {
	cfg := wms.Config{Name: name, Items: wms.DemoItems(), Clock: clock, Seed: seed}
	if name != "dc" {
		cfg.CompanyPrefix = "0614142"
	}
	for _, l := range wms.DemoWarehouses() {
		if slices.Contains(owns, l.ID) {
			cfg.Warehouses = append(cfg.Warehouses, l)
		}
	}
	for _, st := range wms.DemoStock() {
		if slices.Contains(owns, st.Warehouse) {
			cfg.Stock = append(cfg.Stock, st)
		}
	}
	return wms.New(cfg)
}
