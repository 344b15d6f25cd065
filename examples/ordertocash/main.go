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
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
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

// errDisagree is returned when the systems do not show the same orders.
var errDisagree = errors.New("the systems disagree")

// clock is the simulated time of the reference systems: it moves a minute
// per warehouse step, so documents are the same on every run.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is the three systems and the flow over them.
type world struct {
	clk  *clock
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
	notes     []note                              // what the scenario did to the systems, for the timelines
}

// note is something the scenario did to an order in a system, as a user
// would: the timeline of the order shows it where it happened.
type note struct {
	at    time.Time
	order string
	text  string
}

// note records that the scenario did text to order now.
func (w *world) note(order, text string) {
	w.notes = append(w.notes, note{at: time.Now(), order: order, text: text})
}

// notesOf returns the notes of order.
func (w *world) notesOf(order string) []note {
	var ns []note
	for _, n := range w.notes {
		if n.order == order {
			ns = append(ns, n)
		}
	}
	return ns
}

// outage is the ERP's outage: its calls in this window fail as
// unavailable. In the scenario it comes while the first shipments are
// posted and the held order is checked: the timelines show the retries,
// the breaker opening and the shipments parked until the ERP is back.
var outage = faults.Outage{FromCall: 25, UntilCall: 45}

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
	w := &world{clk: &clock{t: wms.DemoEpoch()}, store: st, restarts: cfg.restarts,
		stop: &stopper{rng: rand.New(rand.NewPCG(cfg.seed, 3))}}
	if cfg.logs != nil {
		// Every record logged with the context of a handled event carries
		// its correlation and causation IDs.
		w.logger = slog.New(tracing.NewHandler(slog.NewJSONHandler(cfg.logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	}
	if w.erp, err = erp.New(erp.Config{Clock: w.clk.now}); err != nil {
		return nil, err
	}
	if cfg.systems == 2 {
		if w.wms, err = newWMS("dc", dcWarehouses, w.clk.now, cfg.seed); err != nil {
			return nil, err
		}
		// The 3PL labels its packages with its own GS1 prefix and tracking
		// numbers of its own.
		if w.tpl, err = newWMS("3pl", tplWarehouses, w.clk.now, cfg.seed+1); err != nil {
			return nil, err
		}
	} else if w.wms, err = wms.New(wms.Config{Clock: w.clk.now, Seed: cfg.seed}); err != nil {
		return nil, err
	}
	if w.crm, err = crm.New(crm.Config{Clock: w.clk.now}); err != nil {
		return nil, err
	}
	if w.rec, err = tracing.NewMemoryRecorder(tracing.MemoryConfig{}); err != nil {
		return nil, err
	}
	fc := faults.Config{Seed: cfg.seed, Unavailable: cfg.faults * 0.8, RateLimited: cfg.faults * 0.2,
		AmbiguousTimeout: cfg.faults / 4, Duplicate: cfg.faults, Reorder: cfg.faults, RetryAfter: 5 * time.Millisecond}
	ec := fc
	// The ERP is down for calls 25 to 40: its breaker opens, the work for
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

// submit opens and converts an opportunity and returns the order ID.
func (w *world) submit(ctx context.Context, account string, lines ...string) (string, error) {
	prices := map[string]string{"SKU-100": "12.50", "SKU-101": "9.80", "SKU-102": "4.25", "SKU-103": "89.00",
		"SKU-104": "3.10", "SKU-105": "6.40"}
	opp := crm.Opportunity{AccountID: account, Name: strings.Join(lines, " ")}
	for _, l := range lines {
		sku, qty, _ := strings.Cut(l, ":")
		price := cmpOr(prices[sku], "1.00")
		q, err := canonical.ParseQuantity(qty, "EA")
		if err != nil {
			return "", fmt.Errorf("line %q: %w", l, err)
		}
		opp.Lines = append(opp.Lines, crm.OpportunityLine{SKU: sku, Quantity: q, UnitPrice: canonical.MustParseMoney(price, "USD")})
	}
	opp, err := w.crm.OpenOpportunity(ctx, opp)
	if err != nil {
		return "", err
	}
	o, err := w.crm.ConvertOpportunity(ctx, opp.ID)
	return o.ID, err
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// settle drains the flow and steps the warehouses until nothing moves.
func (w *world) settle(ctx context.Context) error {
	for range 1000 {
		if err := w.drain(ctx); err != nil {
			return err
		}
		n, err := w.wms.Step(ctx)
		if err != nil {
			return err
		}
		if w.tpl != nil {
			k, err := w.tpl.Step(ctx)
			if err != nil {
				return err
			}
			n += k
		}
		w.clk.advance(time.Minute)
		if n == 0 {
			return w.drain(ctx)
		}
	}
	return errors.New("the warehouses did not settle in 1000 steps")
}

// scenario is one order of the scripted scenario.
type scenario struct {
	name    string
	account string
	lines   []string
	id      string
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	w, err := newWorld(cfg)
	if err != nil {
		return err
	}
	defer w.close()
	w.out = out
	scenarios := []*scenario{
		{name: "ships complete from one warehouse", account: "ACC-0002", lines: []string{"SKU-100:10", "SKU-104:20"}},
		{name: "split across two warehouses", account: "ACC-0002", lines: []string{"SKU-101:100"}},
		{name: "partial shipment, backorder filled later", account: "ACC-0001", lines: []string{"SKU-100:5", "SKU-105:7"}},
		{name: "credit hold, released", account: "ACC-0003", lines: []string{"SKU-103:15"}},
		{name: "rejected: unknown item", account: "ACC-0001", lines: []string{"SKU-999:1"}},
		{name: "cancelled in part: ships what is in stock, the backordered remainder is cancelled", account: "ACC-0002",
			lines: []string{"SKU-102:8", "SKU-105:6"}},
	}
	for _, s := range scenarios {
		if s.id, err = w.submit(ctx, s.account, s.lines...); err != nil {
			return fmt.Errorf("submit %q: %w", s.name, err)
		}
	}
	rng := rand.New(rand.NewPCG(cfg.seed, 1))
	skus := []string{"SKU-100", "SKU-101", "SKU-102", "SKU-103", "SKU-104", "SKU-105"}
	var generated []string
	for range cfg.orders {
		var lines []string
		for range 1 + rng.IntN(3) {
			lines = append(lines, fmt.Sprintf("%s:%d", skus[rng.IntN(len(skus))], 1+rng.IntN(10)))
		}
		id, err := w.submit(ctx, []string{"ACC-0001", "ACC-0002"}[rng.IntN(2)], lines...)
		if err != nil {
			return fmt.Errorf("submit generated order: %w", err)
		}
		generated = append(generated, id)
	}
	start := time.Now()
	if len(generated) > 0 {
		// Every tenth generated order loses its first line: customer
		// service cancels it in the ERP once the order is released,
		// before the warehouse allocates it.
		if err := w.flow.Drain(ctx); err != nil {
			return err
		}
		for i, id := range generated {
			if i%10 != 9 {
				continue
			}
			_, err := w.erp.RequestCancellation(ctx, id, []canonical.CancelLine{{LineID: "L1", Quantity: canonical.MustParseQuantity("10", "EA")}}, "customer service")
			if err != nil && connector.CodeOf(err) != connector.CodeNotFound {
				return fmt.Errorf("request cancellation of %s in the ERP: %w", id, err)
			}
		}
	}
	if err := w.settle(ctx); err != nil {
		return err
	}
	// The customer no longer wants what has not shipped: a user cancels
	// the open remainder in the CRM, before any stock arrives.
	cancelled := scenarios[5]
	w.note(cancelled.id, "the customer cancels the open remainder in the CRM")
	if _, err := w.crm.RequestCancellation(ctx, cancelled.id, nil, "customer no longer needs the rest"); err != nil {
		return fmt.Errorf("request cancellation of %s: %w", cancelled.id, err)
	}
	if err := w.settle(ctx); err != nil {
		return err
	}
	// The credit controller releases the hold; stock arrives for the
	// backorders.
	w.note(scenarios[3].id, "the credit controller releases the credit hold in the ERP")
	if _, err := w.erp.ReleaseHold(ctx, scenarios[3].id, canonical.HoldCredit); err != nil {
		return fmt.Errorf("release hold of %s: %w", scenarios[3].id, err)
	}
	w.note(scenarios[2].id, "stock arrives in WH-EAST for the backorder")
	for i, sku := range skus {
		if _, err := w.wms.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprintf("ADJ-ARRIVAL-%d", i), Item: canonical.ItemRef{SKU: sku},
			Location: "WH-EAST", Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("500", "EA"),
			Reason: canonical.AdjustFound, AdjustedAt: w.clk.now()}); err != nil {
			return fmt.Errorf("adjust %s: %w", sku, err)
		}
	}
	if err := w.settle(ctx); err != nil {
		return err
	}
	elapsed := time.Since(start)
	for _, s := range scenarios {
		v, err := w.flow.Where(ctx, s.id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\n== %s: %s (%s) %s%s\n", s.id, s.name, strings.Join(s.lines, " "), v.Status, notOpen(v.Order))
		if v.CRM != nil && len(v.CRM.Messages) > 0 {
			fmt.Fprintf(out, "   CRM shows: %s\n", strings.Join(v.CRM.Messages, "; "))
		}
		printTimeline(out, v.Timeline, w.notesOf(s.id))
		for _, fo := range v.FulfillmentOrders {
			if sys, ok := v.Systems[fo.ID]; ok {
				fmt.Fprintf(out, "   fulfilment order %s at %s is held by WMS %s\n", fo.ID, fo.Warehouse, sys)
			}
		}
		for _, sh := range v.Shipments {
			fmt.Fprintf(out, "   shipment %s from %s, tracking %s\n", sh.ID, sh.Warehouse, strings.Join(sh.TrackingNumbers, " "))
		}
		for _, in := range v.Invoices {
			fmt.Fprintf(out, "   invoice %s total %s\n", in.Number, in.Totals.Total)
		}
	}
	ids := make([]string, 0, len(scenarios)+len(generated))
	for _, s := range scenarios {
		ids = append(ids, s.id)
	}
	ids = append(ids, generated...)
	slices.Sort(ids)
	ok, err := compare(ctx, out, w, ids, len(scenarios))
	if err != nil {
		return err
	}
	dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%d orders (%d generated) in %s; %d dead letters; erp %+v\n", len(ids), len(generated),
		elapsed.Round(time.Millisecond), len(dls), w.erp.Counts())
	fmt.Fprintf(out, "ERP outage: its calls %d to %d failed unavailable (%d calls); the flow retried events %s and parked them %s "+
		"while a system's breaker was open\n", outage.FromCall, outage.UntilCall-1, w.erpFaults.Counts().Outage,
		times(w.stop.count(flow.CounterRetried)), times(w.stop.count(flow.CounterParked)))
	if !ok {
		return errDisagree
	}
	fmt.Fprintln(out, "all systems agree")
	return nil
}

// times says how many times a counter counted, and for which entities:
// "64 times (shipment 60, order 4)".
func times(n int, by map[string]int) string {
	if n == 0 {
		return "0 times"
	}
	entities := slices.Sorted(maps.Keys(by))
	parts := make([]string, len(entities))
	for i, e := range entities {
		parts[i] = fmt.Sprintf("%s %d", cmpOr(e, "other"), by[e])
	}
	unit := "times"
	if n == 1 {
		unit = "time"
	}
	return fmt.Sprintf("%d %s (%s)", n, unit, strings.Join(parts, ", "))
}

// notOpen says which quantities of o were cancelled or rejected, as
// "; cancelled L2 6 of 6 EA": its status alone reads the same whether or
// not part of it was cancelled.
func notOpen(o canonical.Order) string {
	var parts []string
	for _, b := range []struct {
		bucket canonical.Bucket
		name   string
	}{{canonical.BucketCancelled, "cancelled"}, {canonical.BucketRejected, "rejected"}} {
		var ls []string
		for _, l := range o.Lines {
			if q := l.Buckets.Get(b.bucket); q.IsPos() {
				ls = append(ls, fmt.Sprintf("%s %s of %s", l.ID, q, l.Quantity))
			}
		}
		if len(ls) > 0 {
			parts = append(parts, b.name+" "+strings.Join(ls, ", "))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// printTimeline prints the steps in the order they started, with the notes
// where they happened. A run of steps of one operation is one line, its
// outcomes counted ("ok ×8, retry(unavailable) ×2"); one or two lines
// repeated (a parked event rechecked while a breaker is open) are printed
// once with how many times they came.
func printTimeline(out io.Writer, steps []tracing.Step, notes []note) {
	var lines []string
	width := 5 // the system column: "flow ", "erp  ", or wider for "wms-3pl"
	for _, s := range steps {
		width = max(width, len(s.System)+1)
	}
	flush := func(run []tracing.Step) {
		if len(run) == 0 {
			return
		}
		var outcomes []string
		for i := 0; i < len(run); {
			o := outcome(run[i])
			j := i + 1
			for j < len(run) && outcome(run[j]) == o {
				j++
			}
			if j-i > 1 {
				o += fmt.Sprintf(" ×%d", j-i)
			}
			outcomes = append(outcomes, o)
			i = j
		}
		lines = append(lines, fmt.Sprintf("%-*s %-28s %s", width, run[0].System, run[0].Operation, strings.Join(outcomes, ", ")))
	}
	var run []tracing.Step
	for _, s := range steps {
		for len(notes) > 0 && notes[0].at.Before(s.Start) {
			flush(run)
			run = nil
			lines = append(lines, "-->   "+notes[0].text)
			notes = notes[1:]
		}
		if len(run) > 0 && (s.System != run[0].System || s.Operation != run[0].Operation) {
			flush(run)
			run = nil
		}
		run = append(run, s)
	}
	flush(run)
	for _, n := range notes {
		lines = append(lines, "-->   "+n.text)
	}
	for i := 0; i < len(lines); {
		k, n := repeats(lines[i:])
		for _, l := range lines[i : i+k] {
			fmt.Fprintf(out, "   %s\n", l)
		}
		switch {
		case n > 1 && k == 1:
			fmt.Fprintf(out, "         (the line above: %d times in all)\n", n)
		case n > 1:
			fmt.Fprintf(out, "         (the %d lines above: %d times in all)\n", k, n)
		}
		i += k * n
	}
}

// repeats returns the shortest block (of one or two lines) at the start of
// lines and how many times it repeats there.
func repeats(lines []string) (k, n int) {
	for k := 1; k <= 2 && 2*k <= len(lines); k++ {
		n := 1
		for (n+1)*k <= len(lines) && slices.Equal(lines[n*k:(n+1)*k], lines[:k]) {
			n++
		}
		if n > 1 {
			return k, n
		}
	}
	return 1, 1
}

// outcome is how a step ended, with its error class: "retry(unavailable)".
func outcome(s tracing.Step) string {
	if s.ErrorClass == "" {
		return string(s.Outcome)
	}
	return string(s.Outcome) + "(" + s.ErrorClass + ")"
}

// wmsFeed is what the WMS's feed shows per order: the quantity shipped
// and cancelled per order line.
type wmsFeed struct {
	shipped, cancelled map[string]map[string]canonical.Decimal
}

// add adds q to m[order][line].
func add(m map[string]map[string]canonical.Decimal, order, line string, q canonical.Decimal) error {
	if m[order] == nil {
		m[order] = map[string]canonical.Decimal{}
	}
	v, err := m[order][line].Add(q)
	m[order][line] = v
	return err
}

// readWMS reads the whole feed of each WMS and returns what they shipped
// and cancelled per order and line.
func readWMS(ctx context.Context, ms ...*wms.Memory) (wmsFeed, error) {
	f := wmsFeed{shipped: map[string]map[string]canonical.Decimal{}, cancelled: map[string]map[string]canonical.Decimal{}}
	for _, m := range ms {
		if m == nil {
			continue
		}
		if err := f.read(ctx, m); err != nil {
			return wmsFeed{}, err
		}
	}
	return f, nil
}

// read adds what m's feed shipped and cancelled to f.
func (f wmsFeed) read(ctx context.Context, m *wms.Memory) error {
	var cur connector.Cursor
	for {
		p, err := m.PollEvents(ctx, cur, 500)
		if err != nil {
			return err
		}
		for _, e := range p.Events {
			switch e.Type {
			case canonical.EventFulfillmentShipped:
				s, err := canonical.DecodeData[canonical.Shipment](e)
				if err != nil {
					return err
				}
				for _, l := range s.Lines {
					if err := add(f.shipped, s.OrderID, l.OrderLineID, l.Quantity.Value); err != nil {
						return err
					}
				}
			case canonical.EventFulfillmentCancelled:
				fo, err := canonical.DecodeData[canonical.FulfillmentOrder](e)
				if err != nil {
					return err
				}
				for _, l := range fo.Lines {
					if err := add(f.cancelled, fo.OrderID, l.OrderLineID, l.Quantity.Value); err != nil {
						return err
					}
				}
			}
		}
		cur = p.Next
		if !p.More {
			return nil
		}
	}
}

// compare prints what each system shows of every order and reports
// whether they agree: the CRM shows the flow's status, the ERP its
// commercial status, shipped, invoiced and cancelled quantities and one
// invoice per shipment, the WMS shipped what the ERP invoiced, and the CRM
// shows the ERP's cancelled quantities, of which the WMS cancelled what
// it had been released (the rest was cancelled before the release).
//
// The table has a row per order when there are at most maxRows; past
// that, the first keep orders and every order the systems disagree on
// keep their rows, and the others are summed up in a row per status.
func compare(ctx context.Context, out io.Writer, w *world, ids []string, keep int) (bool, error) {
	feed, err := readWMS(ctx, w.wms, w.tpl)
	if err != nil {
		return false, err
	}
	shipped := feed.shipped
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(out)
	fmt.Fprintln(tw, "ORDER\tFLOW\tCRM\tERP\tSHIPPED erp/wms\tCANCELLED erp/crm/wms\tINVOICES\tAGREE")
	// summed is the orders summed up in one row, per status.
	type summed struct {
		first, row          string // the first order and its row
		n, cancelled        int
		invoices, shipments int
	}
	var statuses []canonical.Status
	sums := map[canonical.Status]*summed{}
	all := true
	for i, id := range ids {
		v, err := w.flow.Where(ctx, id)
		if err != nil {
			return false, err
		}
		var problems []string
		crmShown, hasCRM := w.crm.ShownStatus(id)
		crmText := "-"
		if !hasCRM {
			problems = append(problems, "CRM shows nothing")
		} else {
			crmText = crmShown.Status.String()
			if crmShown.Status != v.Status {
				problems = append(problems, "CRM status")
			}
		}
		erpText, shipText, cancelText, invText := "not found", "", "", ""
		eo, erpErr := w.erp.GetOrder(ctx, id)
		switch {
		case erpErr != nil && v.Status.Commercial == canonical.CommercialRejected:
		case erpErr != nil:
			problems = append(problems, "ERP: "+erpErr.Error())
		default:
			erpText = eo.Status().Commercial.String()
			if eo.Status().Commercial != v.Status.Commercial {
				problems = append(problems, "ERP commercial status")
			}
			var parts []string
			for i, l := range eo.Lines {
				es := l.Buckets.Get(canonical.BucketShipped)
				ws := shipped[id][l.ID]
				parts = append(parts, l.ID+":"+es.String()+"/"+ws.String())
				if !es.Equal(ws) || !es.Equal(v.Order.Lines[i].Buckets.Get(canonical.BucketShipped)) {
					problems = append(problems, "shipped "+l.ID)
				}
				if !l.Buckets.Get(canonical.BucketInvoiced).Equal(es) {
					problems = append(problems, "invoiced "+l.ID)
				}
			}
			shipText = strings.Join(parts, " ")
			parts = parts[:0]
			for i, l := range eo.Lines {
				ec := l.Buckets.Get(canonical.BucketCancelled)
				wc := feed.cancelled[id][l.ID]
				var cc canonical.Decimal
				if i < len(crmShown.Lines) {
					cc = crmShown.Lines[i].Cancelled.Value
				}
				if ec.IsPos() || cc.IsPos() || wc.IsPos() {
					parts = append(parts, l.ID+":"+ec.String()+"/"+cc.String()+"/"+wc.String())
				}
				if !ec.Equal(cc) || !ec.Equal(v.Order.Lines[i].Buckets.Get(canonical.BucketCancelled)) || wc.Cmp(ec) > 0 {
					problems = append(problems, "cancelled "+l.ID)
				}
			}
			cancelText = strings.Join(parts, " ")
			if cancelText == "" {
				cancelText = "-"
			}
			n := w.erp.InvoiceCount(id)
			invText = fmt.Sprintf("%d for %d shipments", n, len(v.Shipments))
			if n != len(v.Shipments) {
				problems = append(problems, "invoices")
			}
		}
		agree := "yes"
		if len(problems) > 0 {
			all = false
			agree = "NO: " + strings.Join(slices.Compact(problems), ", ")
		}
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, v.Status, crmText, erpText, shipText, cancelText, invText, agree)
		if len(ids) <= maxRows || i < keep || len(problems) > 0 {
			fmt.Fprint(tw, row)
			continue
		}
		s := sums[v.Status]
		if s == nil {
			s = &summed{first: id, row: row}
			sums[v.Status] = s
			statuses = append(statuses, v.Status)
		}
		s.n++
		if cancelText != "-" {
			s.cancelled++
		}
		s.invoices += w.erp.InvoiceCount(id)
		s.shipments += len(v.Shipments)
	}
	for _, st := range statuses {
		s := sums[st]
		if s.n == 1 {
			fmt.Fprint(tw, s.row)
			continue
		}
		orders, cancelled := fmt.Sprintf("%d more from %s", s.n, s.first), "-"
		if s.cancelled > 0 {
			cancelled = fmt.Sprintf("in %d of them", s.cancelled)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t%s\t%d for %d shipments\tyes\n", orders, st, st, st.Commercial, cancelled,
			s.invoices, s.shipments)
	}
	return all, tw.Flush()
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

// maxRows is the most orders the comparison table shows a row each.
const maxRows = 30
