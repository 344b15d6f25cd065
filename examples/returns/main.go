// Command returns shows the flow's returns on the in-memory reference
// systems: an order ships, the CRM authorizes the return of part of it, the
// WMS receives the goods (one line restocked, the other scrapped), the ERP
// posts a credit memo, and the restocked goods reach the ERP's ledger and
// the CRM's availability. It prints the credit memo, the stock before and
// after in each system and what the CRM shows of the order, and exits 1
// when the systems disagree.
//
//	go run ./examples/returns [-faults 0.2] [-seed 1]
//
// With -faults, every connector fails, times out after the effect, and the
// feeds duplicate and reorder pages, with that probability.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "returns:", err)
		os.Exit(1)
	}
}

// summary is the first line of -h: what the program does.
const summary = "returns runs a customer return through the flow on in-memory CRM, ERP and WMS (authorize, receive, credit memo, restock), prints what each system shows and exits 1 when they disagree."

// parseFlags parses the command line; -h writes the summary, the usage
// and the flags to stderr and returns [flag.ErrHelp].
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("returns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nusage: go run ./examples/returns [flags]\n", summary)
		fs.PrintDefaults()
	}
	fs.Float64Var(&cfg.faults, "faults", 0, "fault rate on every connector, 0 to 0.5")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the faults and the warehouses")
	return cfg, fs.Parse(args)
}

// config is what the flags set.
type config struct {
	faults float64
	seed   uint64
}

// errDisagree is returned when the systems do not agree.
var errDisagree = errors.New("the systems disagree")

// clock is the simulated time of the reference systems.
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
	wms  *wms.Memory
	crm  *crm.Memory
	flow *flow.Flow
}

func newWorld(cfg config) (*world, error) {
	if cfg.faults < 0 || cfg.faults > 0.5 {
		return nil, fmt.Errorf("-faults %v: must be between 0 and 0.5", cfg.faults)
	}
	// The systems start a minute after the ERP's demo stock positions.
	w := &world{clk: &clock{t: wms.DemoEpoch().Add(time.Minute)}}
	var err error
	if w.erp, err = erp.New(erp.Config{Clock: w.clk.now}); err != nil {
		return nil, err
	}
	if w.wms, err = wms.New(wms.Config{Clock: w.clk.now, Seed: cfg.seed}); err != nil {
		return nil, err
	}
	if w.crm, err = crm.New(crm.Config{Clock: w.clk.now}); err != nil {
		return nil, err
	}
	fc := faults.Config{Seed: cfg.seed, Unavailable: cfg.faults * 0.8, RateLimited: cfg.faults * 0.2,
		AmbiguousTimeout: cfg.faults / 4, Duplicate: cfg.faults, Reorder: cfg.faults, RetryAfter: 5 * time.Millisecond}
	fe, err := faults.WrapERP(w.erp, fc)
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
	opts := connector.Options{MaxAttempts: 3, Timeout: 5 * time.Second, Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}}
	// A breaker opened by a run of faults is tried again soon: the faults
	// are random, not an outage.
	opts.Breaker.OpenTimeout = 20 * time.Millisecond
	ce, err := connector.WrapERP(fe, opts)
	if err != nil {
		return nil, err
	}
	cw, err := connector.WrapWMS(fw, opts)
	if err != nil {
		return nil, err
	}
	cc, err := connector.WrapCRM(fcrm, opts)
	if err != nil {
		return nil, err
	}
	w.flow, err = flow.New(flow.Config{ERP: ce, WMS: cw, CRM: cc, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		PollInterval: 2 * time.Millisecond,
		Policy:       eventlog.ErrorPolicy{MaxAttempts: 50, OpenRecheck: 20 * time.Millisecond, Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, Jitter: retry.NoJitter}}})
	return w, err
}

// settle drains the flow and steps the warehouses until nothing moves.
func (w *world) settle(ctx context.Context) error {
	for range 1000 {
		if err := w.flow.Drain(ctx); err != nil {
			return err
		}
		n, err := w.wms.Step(ctx)
		if err != nil {
			return err
		}
		w.clk.advance(time.Minute)
		if n == 0 {
			return w.flow.Drain(ctx)
		}
	}
	return errors.New("the warehouses did not settle in 1000 steps")
}

// stock is what the three systems show of one item at one warehouse: the
// WMS's on-hand and available quantities of available stock, the ERP's
// on-hand quantity and the CRM's availability.
type stock struct {
	wmsOnHand, wmsAvl, erpOnHand, crmAvl canonical.Decimal
}

func (s stock) agree() bool { return s.erpOnHand.Equal(s.wmsOnHand) && s.crmAvl.Equal(s.wmsAvl) }

func (w *world) stock(ctx context.Context, sku, wh string) (stock, error) {
	ps, err := w.wms.Inventory(ctx, connector.InventoryQuery{SKUs: []string{sku}, Locations: []string{wh}})
	if err != nil {
		return stock{}, err
	}
	var s stock
	for _, p := range ps {
		if p.Status != canonical.InventoryAvailable {
			continue
		}
		if s.wmsOnHand, err = s.wmsOnHand.Add(p.OnHand.Value); err != nil {
			return stock{}, err
		}
		if s.wmsAvl, err = s.wmsAvl.Add(p.Available.Value); err != nil {
			return stock{}, err
		}
	}
	if q, ok := w.erp.Stock(sku, wh); ok {
		s.erpOnHand = q.Value
	}
	if a, ok := w.crm.ShownAvailability(sku, wh); ok {
		s.crmAvl = a.Available.Value
	}
	return s, nil
}

// item is one order line of the scenario and what happens to its return.
type item struct {
	sku, price, ordered, returned string
	condition                     canonical.ReturnCondition
	disposition                   canonical.Disposition
}

var items = []item{
	{sku: "SKU-100", price: "12.50", ordered: "10", returned: "4", condition: canonical.ConditionNew, disposition: canonical.DispositionRestock},
	{sku: "SKU-104", price: "3.10", ordered: "20", returned: "5", condition: canonical.ConditionDamaged, disposition: canonical.DispositionScrap},
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	w, err := newWorld(cfg)
	if err != nil {
		return err
	}
	sc, err := play(ctx, out, w)
	if err != nil {
		return err
	}
	return report(ctx, out, w, sc)
}

// scene is what the scenario did: the order, its return, the warehouse
// and the stock before the return.
type scene struct {
	orderID string
	ret     canonical.Return
	wh      string
	before  map[string]stock
}

// play ships an order, authorizes the return of part of it in the CRM and
// receives it in the WMS, printing each step.
func play(ctx context.Context, out io.Writer, w *world) (sc scene, err error) {
	fmt.Fprintln(out, "Returns: CRM authorizes, WMS receives, ERP credits, stock is restocked or scrapped")

	// 1. An order converted in the CRM ships.
	opp := crm.Opportunity{AccountID: "ACC-0001", Name: "returns demo"}
	for _, it := range items {
		opp.Lines = append(opp.Lines, crm.OpportunityLine{SKU: it.sku, Quantity: canonical.MustParseQuantity(it.ordered, "EA"),
			UnitPrice: canonical.MustParseMoney(it.price, "USD")})
	}
	if opp, err = w.crm.OpenOpportunity(ctx, opp); err != nil {
		return sc, err
	}
	order, err := w.crm.ConvertOpportunity(ctx, opp.ID)
	if err != nil {
		return sc, err
	}
	if err := w.settle(ctx); err != nil {
		return sc, fmt.Errorf("ship order %s: %w", order.ID, err)
	}
	v, err := w.flow.Where(ctx, order.ID)
	if err != nil {
		return sc, err
	}
	if v.Status.Fulfillment != canonical.FulfillmentShipped || len(v.FulfillmentOrders) != 1 {
		return sc, fmt.Errorf("order %s: %s with %d fulfilment orders, want shipped from one warehouse", order.ID, v.Status, len(v.FulfillmentOrders))
	}
	wh := v.FulfillmentOrders[0].Warehouse
	var invs []string
	for _, inv := range v.Invoices {
		invs = append(invs, inv.Number+" "+inv.Totals.Total.String())
	}
	fmt.Fprintf(out, "1. order %s shipped from %s: %s; invoiced %s\n", order.ID, wh, lines(items, func(it item) string { return it.ordered }), strings.Join(invs, ", "))

	// The WMS's periodic stock count brings the ERP and the CRM to its
	// position after the shipment.
	var skus []string
	for _, it := range items {
		skus = append(skus, it.sku)
	}
	w.clk.advance(time.Minute)
	if _, err := w.wms.Snapshot(ctx, connector.InventoryQuery{SKUs: skus, Locations: []string{wh}}); err != nil {
		return sc, err
	}
	if err := w.flow.Drain(ctx); err != nil {
		return sc, err
	}
	before := map[string]stock{}
	for _, it := range items {
		if before[it.sku], err = w.stock(ctx, it.sku, wh); err != nil {
			return sc, err
		}
	}

	// 2. The sales rep authorizes the return of part of it in the CRM.
	req := crm.ReturnRequest{OrderID: order.ID, Warehouse: wh}
	for i, it := range items {
		req.Lines = append(req.Lines, crm.ReturnRequestLine{OrderLineID: order.Lines[i].ID,
			Quantity: canonical.MustParseQuantity(it.returned, "EA"), Reason: "customer return"})
	}
	ret, err := w.crm.AuthorizeReturn(ctx, req)
	if err != nil {
		return sc, err
	}
	if err := w.flow.Drain(ctx); err != nil {
		return sc, err
	}
	fmt.Fprintf(out, "2. %s (%s) authorized in the CRM: %s\n", ret.RMANumber, ret.ID, lines(items, func(it item) string { return it.returned }))

	// 3. The goods arrive at the warehouse.
	w.clk.advance(time.Minute)
	var rcs []wms.ReturnReceipt
	var got []string
	for i, it := range items {
		rcs = append(rcs, wms.ReturnReceipt{LineID: ret.Lines[i].ID, Quantity: ret.Lines[i].Authorized, Condition: it.condition, Disposition: it.disposition})
		got = append(got, fmt.Sprintf("%s %s %s → %s", it.returned, it.sku, it.condition, it.disposition))
	}
	if _, err := w.wms.ReceiveReturn(ctx, ret.ID, rcs); err != nil {
		return sc, err
	}
	if err := w.flow.Drain(ctx); err != nil {
		return sc, err
	}
	fmt.Fprintf(out, "3. received in %s: %s\n", wh, strings.Join(got, "; "))

	return scene{orderID: order.ID, ret: ret, wh: wh, before: before}, nil
}

// lines describes the items with the quantity qty picks.
func lines(items []item, qty func(item) string) string {
	var s []string
	for _, it := range items {
		s = append(s, qty(it)+" "+it.sku)
	}
	return strings.Join(s, ", ")
}

// report prints the credit memo, the stock and the CRM's view, and
// returns errDisagree when the systems do not agree.
func report(ctx context.Context, out io.Writer, w *world, sc scene) error {
	orderID, ret, wh, before := sc.orderID, sc.ret, sc.wh, sc.before
	v, err := w.flow.Where(ctx, orderID)
	if err != nil {
		return err
	}
	var problems []string
	var memos []canonical.Invoice
	for _, inv := range w.erp.Invoices(orderID) {
		if inv.Kind == canonical.InvoiceCreditMemo {
			memos = append(memos, inv)
		}
	}
	if len(memos) != 1 {
		problems = append(problems, fmt.Sprintf("the ERP posted %d credit memos, want 1", len(memos)))
	}
	fmt.Fprintln(out)
	for _, m := range memos {
		fmt.Fprintf(out, "Credit memo %s for return %s, crediting invoice %s\n", m.Number, m.ReturnID, m.CreditsInvoiceID)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  LINE\tORDER LINE\tITEM\tQUANTITY\tUNIT PRICE\tAMOUNT")
		for _, l := range m.Lines {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.OrderLineID, l.Item.SKU, l.Quantity, l.UnitPrice, l.Amount)
		}
		fmt.Fprintf(tw, "  \t\t\t\tsubtotal\t%s\n  \t\t\t\ttax\t%s\n  \t\t\t\ttotal\t%s\n", m.Totals.Subtotal, m.Totals.Tax, m.Totals.Total)
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "\nStock at %s (available stock)\n", wh)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SKU\tDISPOSITION\tWMS BEFORE\tWMS AFTER\tERP BEFORE\tERP AFTER\tCRM BEFORE\tCRM AFTER\t\t")
	for _, it := range items {
		b := before[it.sku]
		a, err := w.stock(ctx, it.sku, wh)
		if err != nil {
			return err
		}
		want := b.wmsOnHand
		if it.disposition == canonical.DispositionRestock {
			if want, err = want.Add(canonical.MustParseDecimal(it.returned)); err != nil {
				return err
			}
		}
		mark := "ok"
		if !a.agree() || !b.agree() || !a.wmsOnHand.Equal(want) {
			mark = "DISAGREE"
			problems = append(problems, fmt.Sprintf("stock of %s: WMS %s (want %s), ERP %s, CRM %s", it.sku, a.wmsOnHand, want, a.erpOnHand, a.crmAvl))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", it.sku, it.disposition, b.wmsOnHand, a.wmsOnHand,
			b.erpOnHand, a.erpOnHand, b.crmAvl, a.crmAvl, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	shown, ok := w.crm.ShownStatus(orderID)
	if !ok {
		return fmt.Errorf("%w: the CRM shows nothing of order %s", errDisagree, orderID)
	}
	fmt.Fprintf(out, "\nCRM shows order %s: %s\n", orderID, shown.Status)
	if shown.Status != v.Status || shown.Status.Billing != canonical.BillingCredited {
		problems = append(problems, fmt.Sprintf("the CRM shows %s, the flow derives %s, want billing credited", shown.Status, v.Status))
	}
	erpOrder, err := w.erp.GetOrder(ctx, orderID)
	if err != nil {
		return err
	}
	wmsRet, err := w.wms.Return(ctx, ret.ID)
	if err != nil {
		return err
	}
	for i, l := range shown.Lines {
		fmt.Fprintf(out, "  line %s: ordered %s, shipped %s, returned %s\n", l.LineID, l.Ordered, l.Shipped, l.Returned)
		received := wmsRet.Lines[i].Received.Value
		if !l.Returned.Value.Equal(received) || !erpOrder.Lines[i].Buckets.Get(canonical.BucketReturned).Equal(received) {
			problems = append(problems, fmt.Sprintf("returned of line %s: CRM %s, ERP %s, WMS received %s",
				l.LineID, l.Returned, erpOrder.Lines[i].Buckets.Get(canonical.BucketReturned), received))
		}
	}
	for _, r := range shown.Returns {
		var credits []string
		for _, c := range r.Credits {
			credits = append(credits, c.Number+" "+c.Total.String())
		}
		fmt.Fprintf(out, "  return %s (%s): credited %s\n", r.RMANumber, r.ReturnID, strings.Join(credits, ", "))
		if len(r.Credits) != len(memos) {
			problems = append(problems, fmt.Sprintf("the CRM shows %d credits of %s, the ERP has %d", len(r.Credits), r.ReturnID, len(memos)))
			continue
		}
		for i, c := range r.Credits {
			if c.Number != memos[i].Number || !c.Total.Equal(memos[i].Totals.Total) {
				problems = append(problems, fmt.Sprintf("the CRM shows credit %s %s, the ERP %s %s", c.Number, c.Total, memos[i].Number, memos[i].Totals.Total))
			}
		}
	}
	dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
	if err != nil {
		return err
	}
	for _, d := range dls {
		problems = append(problems, "dead letter: "+d.Error)
	}
	fmt.Fprintf(out, "\n%d dead letters\n", len(dls))
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(out, "DISAGREE:", p)
		}
		return fmt.Errorf("%w: %s", errDisagree, strings.Join(problems, "; "))
	}
	fmt.Fprintln(out, "all systems agree")
	return nil
}
