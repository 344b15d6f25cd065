// Package o2c is the scripted order-to-cash run the examples share: the
// scenario's orders and the generated ones, what users do to them in the
// systems (a cancellation in the ERP and in the CRM, a credit hold's
// release, stock arriving), each scenario order's timeline, and the table
// comparing what every system shows, whose verdict is the run's exit
// status. examples/ordertocash runs it on the in-memory systems,
// examples/overthewire through vendor-shaped connectors and emulators.
package o2c

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/wms"
)

// ErrDisagree is returned when the systems do not show the same orders.
var ErrDisagree = errors.New("the systems disagree")

// Clock is the simulated time of the reference systems: it moves a minute
// per warehouse step, so documents are the same on every run. It is safe
// for concurrent use; its zero value is the zero time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// World is the systems a run acts on and the flow over them. The
// simulators are the systems as their users see them: the scenario acts
// on them directly, as a user would in the system's own screens, and the
// comparison reads them. All fields but OrderID, CRMID and Outage are
// required.
type World struct {
	Clock *Clock
	CRM   *crm.Memory
	ERP   *erp.Memory
	// Feeds are the warehouse systems' event feeds, read at the end to
	// compare what each shipped and cancelled, with canonical order and
	// line IDs.
	Feeds []connector.EventFeed
	// Stock returns the simulator holding the stock of a warehouse.
	Stock func(warehouse string) *wms.Memory
	// Flow returns the flow (a restart may replace it).
	Flow func() *flow.Flow
	// Drain drains the flow.
	Drain func(ctx context.Context) error
	// Step moves the warehouses one step and returns how many events it
	// made.
	Step func(ctx context.Context) (int, error)
	// OrderID returns the flow's ID of the order the CRM simulator knows
	// as crmID, once the flow has read it; nil means the same ID.
	OrderID func(crmID string) (string, bool)
	// CRMID returns the CRM simulator's ID of the flow's order; nil means
	// the same ID.
	CRMID func(orderID string) string
	// Count returns how many times the flow reported a counter, in all
	// and per entity.
	Count func(flow.Counter) (int, map[string]int)
	// Outage, when not nil, says what the ERP's outage did, as "ERP
	// outage: its calls 25 to 44 failed unavailable (20 calls)".
	Outage func() string
}

// Config is what a run adds to the scenario.
type Config struct {
	// Orders is how many generated orders to add.
	Orders int
	// Seed seeds the generator.
	Seed uint64
	// WholeOrders fits a warehouse system that keeps one line per SKU
	// and cancels whole orders only (ShipBob): a generated order names
	// each SKU once (a repeated draw is left out), and every tenth is
	// cancelled in full in the ERP rather than losing its first line.
	WholeOrders bool
	// Changes adds the scenario's orders changed after the ERP's
	// decision (a new version from the CRM): one increased and
	// re-sourced to another warehouse, one reduced after a partial
	// shipment, one whose reduction is refused because the goods were
	// picked. It needs an ERP and WMS with the change roles
	// (connector.OrderChanger, connector.ReleaseChanger).
	Changes bool
}

// Result is what a run did.
type Result struct {
	// IDs are the flow's IDs of every order, sorted.
	IDs []string
	// Elapsed is the time from the first drain to the settled end.
	Elapsed time.Duration
	// Agree reports whether every system showed the same orders.
	Agree bool
}

// note is something the scenario did to an order in a system, as a user
// would: the timeline of the order shows it where it happened.
type note struct {
	at    time.Time
	order string // the CRM simulator's ID
	text  string
}

// runner is one run over a world.
type runner struct {
	w     *World
	out   io.Writer
	notes []note
}

// note records that the scenario did text to order now.
func (r *runner) note(order, text string) {
	r.notes = append(r.notes, note{at: time.Now(), order: order, text: text})
}

// notesOf returns the notes of order.
func (r *runner) notesOf(order string) []note {
	var ns []note
	for _, n := range r.notes {
		if n.order == order {
			ns = append(ns, n)
		}
	}
	return ns
}

// orderID returns the flow's ID of the CRM simulator's order.
func (r *runner) orderID(crmID string) (string, error) {
	if r.w.OrderID == nil {
		return crmID, nil
	}
	id, ok := r.w.OrderID(crmID)
	if !ok {
		return "", fmt.Errorf("the flow has no order for the CRM's %s", crmID)
	}
	return id, nil
}

// crmID returns the CRM simulator's ID of the flow's order.
func (r *runner) crmID(orderID string) string {
	if r.w.CRMID == nil {
		return orderID
	}
	return r.w.CRMID(orderID)
}

// Submit opens and converts an opportunity in the CRM for account with
// lines "SKU:QTY" (in EA, at the demo prices) and returns the CRM's order
// ID.
func Submit(ctx context.Context, m *crm.Memory, account string, lines ...string) (string, error) {
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
	opp, err := m.OpenOpportunity(ctx, opp)
	if err != nil {
		return "", err
	}
	o, err := m.ConvertOpportunity(ctx, opp.ID)
	return o.ID, err
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Settle drains the flow and steps the warehouses until nothing moves.
func Settle(ctx context.Context, w *World) error {
	for range 1000 {
		if err := w.Drain(ctx); err != nil {
			return err
		}
		n, err := w.Step(ctx)
		if err != nil {
			return err
		}
		w.Clock.Advance(time.Minute)
		if n == 0 {
			return w.Drain(ctx)
		}
	}
	return errors.New("the warehouses did not settle in 1000 steps")
}

// scenario is one order of the scripted scenario.
type scenario struct {
	name    string
	account string
	lines   []string
	id      string // the CRM's
}

// Run runs the scenario and cfg's generated orders through w, prints each
// scenario order's timeline and the comparison table to out, with a
// summary, and returns ErrDisagree (with the result) when the systems do
// not agree.
func Run(ctx context.Context, out io.Writer, w *World, cfg Config) (Result, error) {
	r := &runner{w: w, out: out}
	var err error
	scenarios := []*scenario{
		{name: "ships complete from one warehouse", account: "ACC-0002", lines: []string{"SKU-100:10", "SKU-104:20"}},
		{name: "split across two warehouses", account: "ACC-0002", lines: []string{"SKU-101:100"}},
		{name: "partial shipment, backorder filled later", account: "ACC-0001", lines: []string{"SKU-100:5", "SKU-105:7"}},
		{name: "credit hold, released", account: "ACC-0003", lines: []string{"SKU-103:15"}},
		{name: "rejected: unknown item", account: "ACC-0001", lines: []string{"SKU-999:1"}},
		{name: "cancelled in part: ships what is in stock, the backordered remainder is cancelled", account: "ACC-0002",
			lines: []string{"SKU-102:8", "SKU-105:6"}},
	}
	// The orders changed after the ERP's decision (Config.Changes).
	var increased, reduced, picked *scenario
	if cfg.Changes {
		increased = &scenario{name: "changed: increased, the increase re-sourced to another warehouse", account: "ACC-0002", lines: []string{"SKU-100:100"}}
		reduced = &scenario{name: "changed: reduced after a partial shipment", account: "ACC-0001", lines: []string{"SKU-102:6", "SKU-105:8"}}
		picked = &scenario{name: "changed: the reduction refused, the goods are picked", account: "ACC-0002", lines: []string{"SKU-104:30"}}
		scenarios = append(scenarios, increased, reduced, picked)
	}
	for _, s := range scenarios {
		if s.id, err = Submit(ctx, w.CRM, s.account, s.lines...); err != nil {
			return Result{}, fmt.Errorf("submit %q: %w", s.name, err)
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	skus := []string{"SKU-100", "SKU-101", "SKU-102", "SKU-103", "SKU-104", "SKU-105"}
	var generated []string // the CRM's IDs
	for range cfg.Orders {
		var lines []string
		for range 1 + rng.IntN(3) {
			sku, qty := skus[rng.IntN(len(skus))], 1+rng.IntN(10)
			if cfg.WholeOrders && slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, sku+":") }) {
				continue
			}
			lines = append(lines, fmt.Sprintf("%s:%d", sku, qty))
		}
		id, err := Submit(ctx, w.CRM, []string{"ACC-0001", "ACC-0002"}[rng.IntN(2)], lines...)
		if err != nil {
			return Result{}, fmt.Errorf("submit generated order: %w", err)
		}
		generated = append(generated, id)
	}
	start := time.Now()
	if len(generated) > 0 {
		// Every tenth generated order loses its first line: customer
		// service cancels it in the ERP once the order is released,
		// before the warehouse allocates it.
		if err := w.Flow().Drain(ctx); err != nil {
			return Result{}, err
		}
		for i, crmID := range generated {
			if i%10 != 9 {
				continue
			}
			id, err := r.orderID(crmID)
			if err != nil {
				return Result{}, err
			}
			cancel := []canonical.CancelLine{{LineID: "L1", Quantity: canonical.MustParseQuantity("10", "EA")}}
			if w.OrderID != nil || cfg.WholeOrders {
				// The flow's line IDs are the CRM's: read them.
				eo, err := w.ERP.GetOrder(ctx, id)
				if connector.CodeOf(err) == connector.CodeNotFound {
					continue
				} else if err != nil {
					return Result{}, fmt.Errorf("read %s in the ERP: %w", id, err)
				}
				cancel[0].LineID = eo.Lines[0].ID
				if cfg.WholeOrders {
					cancel = nil // every open quantity
				}
			}
			_, err = w.ERP.RequestCancellation(ctx, id, cancel, "customer service")
			if err != nil && connector.CodeOf(err) != connector.CodeNotFound {
				return Result{}, fmt.Errorf("request cancellation of %s in the ERP: %w", id, err)
			}
		}
	}
	if cfg.Changes {
		if err := r.changeMidway(ctx, increased, picked); err != nil {
			return Result{}, err
		}
	}
	if err := Settle(ctx, w); err != nil {
		return Result{}, err
	}
	if cfg.Changes {
		// The partial shipment left the backorder of SKU-105: the
		// customer wants 3 of the 8 now.
		r.note(reduced.id, "the customer reduces L2 from 8 to 3 in the CRM (version 2)")
		if err := revise(ctx, w.CRM, reduced.id, "L2", "3"); err != nil {
			return Result{}, err
		}
	}
	// The customer no longer wants what has not shipped: a user cancels
	// the open remainder in the CRM, before any stock arrives.
	cancelled := scenarios[5]
	r.note(cancelled.id, "the customer cancels the open remainder in the CRM")
	if _, err := w.CRM.RequestCancellation(ctx, cancelled.id, nil, "customer no longer needs the rest"); err != nil {
		return Result{}, fmt.Errorf("request cancellation of %s: %w", cancelled.id, err)
	}
	if err := Settle(ctx, w); err != nil {
		return Result{}, err
	}
	// The credit controller releases the hold; stock arrives for the
	// backorders.
	held, err := r.orderID(scenarios[3].id)
	if err != nil {
		return Result{}, err
	}
	r.note(scenarios[3].id, "the credit controller releases the credit hold in the ERP")
	if _, err := w.ERP.ReleaseHold(ctx, held, canonical.HoldCredit); err != nil {
		return Result{}, fmt.Errorf("release hold of %s: %w", held, err)
	}
	r.note(scenarios[2].id, "stock arrives in WH-EAST for the backorder")
	east := w.Stock("WH-EAST")
	for i, sku := range skus {
		if _, err := east.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprintf("ADJ-ARRIVAL-%d", i), Item: canonical.ItemRef{SKU: sku},
			Location: "WH-EAST", Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("500", "EA"),
			Reason: canonical.AdjustFound, AdjustedAt: w.Clock.Now()}); err != nil {
			return Result{}, fmt.Errorf("adjust %s: %w", sku, err)
		}
	}
	if err := Settle(ctx, w); err != nil {
		return Result{}, err
	}
	elapsed := time.Since(start)
	ids := make([]string, 0, len(scenarios)+len(generated))
	for _, s := range scenarios {
		id, err := r.orderID(s.id)
		if err != nil {
			return Result{}, err
		}
		ids = append(ids, id)
		v, err := w.Flow().Where(ctx, id)
		if err != nil {
			return Result{}, err
		}
		fmt.Fprintf(out, "\n== %s: %s (%s) %s%s\n", id, s.name, strings.Join(s.lines, " "), v.Status, notOpen(v.Order))
		if v.CRM != nil && len(v.CRM.Messages) > 0 {
			fmt.Fprintf(out, "   CRM shows: %s\n", strings.Join(v.CRM.Messages, "; "))
		}
		if v.CRM != nil && len(v.CRM.Changes) > 0 {
			fmt.Fprintf(out, "   CRM shows the change: %s\n", describeChanges(v.CRM.Changes))
		}
		printTimeline(out, v.Timeline, r.notesOf(s.id))
		for _, fo := range v.FulfillmentOrders {
			if sys, ok := v.Systems[fo.ID]; ok {
				fmt.Fprintf(out, "   fulfilment order %s at %s is held by WMS %s\n", fo.ID, fo.Warehouse, sys)
			} else if strings.HasPrefix(s.name, "changed:") {
				fmt.Fprintf(out, "   fulfilment order %s at %s\n", fo.ID, fo.Warehouse)
			}
		}
		for _, sh := range v.Shipments {
			fmt.Fprintf(out, "   shipment %s from %s, tracking %s\n", sh.ID, sh.Warehouse, strings.Join(sh.TrackingNumbers, " "))
		}
		for _, in := range v.Invoices {
			fmt.Fprintf(out, "   invoice %s total %s\n", in.Number, in.Totals.Total)
		}
	}
	first := ids[0]
	for _, crmID := range generated {
		id, err := r.orderID(crmID)
		if err != nil {
			return Result{}, err
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// The scenario's orders keep their rows: they sort first.
	keep := len(scenarios)
	if ids[0] != first {
		return Result{}, fmt.Errorf("the scenario's first order %s does not sort first", first)
	}
	ok, err := compare(ctx, out, r, ids, keep)
	if err != nil {
		return Result{}, err
	}
	dls, err := w.Flow().DeadLetters(ctx, eventlog.Filter{})
	if err != nil {
		return Result{}, err
	}
	fmt.Fprintf(out, "\n%d orders (%d generated) in %s; %d dead letters; erp %+v\n", len(ids), len(generated),
		elapsed.Round(time.Millisecond), len(dls), w.ERP.Counts())
	if w.Outage != nil {
		fmt.Fprintf(out, "%s; the flow retried events %s and parked them %s while a system's breaker was open\n",
			w.Outage(), times(w.Count(flow.CounterRetried)), times(w.Count(flow.CounterParked)))
	}
	res := Result{IDs: ids, Elapsed: elapsed, Agree: ok}
	if !ok {
		return res, ErrDisagree
	}
	fmt.Fprintln(out, "all systems agree")
	return res, nil
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

// readWMS reads the whole feed of every warehouse system and returns what
// they shipped and cancelled per order and line.
func readWMS(ctx context.Context, feeds []connector.EventFeed) (wmsFeed, error) {
	f := wmsFeed{shipped: map[string]map[string]canonical.Decimal{}, cancelled: map[string]map[string]canonical.Decimal{}}
	for _, m := range feeds {
		if err := f.read(ctx, m); err != nil {
			return wmsFeed{}, err
		}
	}
	return f, nil
}

// read adds what the feed m shipped and cancelled.
func (f wmsFeed) read(ctx context.Context, m connector.EventFeed) error {
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
// The table has a row per order when there are at most MaxRows; past
// that, the first keep orders and every order the systems disagree on
// keep their rows, and the others are summed up in a row per status.
func compare(ctx context.Context, out io.Writer, r *runner, ids []string, keep int) (bool, error) {
	w := r.w
	feed, err := readWMS(ctx, w.Feeds)
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
		v, err := w.Flow().Where(ctx, id)
		if err != nil {
			return false, err
		}
		var problems []string
		crmShown, hasCRM := w.CRM.ShownStatus(r.crmID(id))
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
		eo, erpErr := w.ERP.GetOrder(ctx, id)
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
			n := w.ERP.InvoiceCount(id)
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
		if len(ids) <= MaxRows || i < keep || len(problems) > 0 {
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
		s.invoices += w.ERP.InvoiceCount(id)
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

// MaxRows is the most orders the comparison table shows a row each.
const MaxRows = 30

// changeMidway changes two orders while the warehouses work on them: the
// warehouses allocate, the customer increases the first (its warehouse
// has no more, so the increase goes to another), the warehouses pick, the
// customer reduces the second, which is picked.
func (r *runner) changeMidway(ctx context.Context, increased, picked *scenario) error {
	w := r.w
	step := func() error {
		if err := w.Drain(ctx); err != nil {
			return err
		}
		if _, err := w.Step(ctx); err != nil {
			return err
		}
		w.Clock.Advance(time.Minute)
		return w.Drain(ctx)
	}
	if err := step(); err != nil { // allocated
		return err
	}
	r.note(increased.id, "the customer increases L1 from 100 to 150 in the CRM (version 2)")
	if err := revise(ctx, w.CRM, increased.id, "L1", "150"); err != nil {
		return err
	}
	if err := step(); err != nil { // picked
		return err
	}
	r.note(picked.id, "the customer reduces L1 from 30 to 10 in the CRM (version 2), after picking")
	return revise(ctx, w.CRM, picked.id, "L1", "10")
}

// revise has the CRM deliver a new version of an order with a line's new
// quantity, in EA.
func revise(ctx context.Context, m *crm.Memory, orderID, line, qty string) error {
	q, err := canonical.ParseQuantity(qty, "EA")
	if err != nil {
		return err
	}
	_, err = m.ReviseOrder(ctx, orderID, func(o *canonical.Order) error {
		for i := range o.Lines {
			if o.Lines[i].ID == line {
				o.Lines[i].Quantity = q
				return nil
			}
		}
		return fmt.Errorf("order %s has no line %s", orderID, line)
	})
	if err != nil {
		return fmt.Errorf("revise %s: %w", orderID, err)
	}
	return nil
}

// describeChanges returns the change results as the CRM shows them:
// "L1 quantity applied +50 EA; L2 quantity refused -20 EA (picked)".
func describeChanges(rs []canonical.ChangeResult) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		s := strings.TrimSpace(r.LineID+" "+r.Field) + " " + string(r.Outcome)
		if r.Applied != nil && !r.Applied.IsZero() {
			s += " " + signed(*r.Applied)
		}
		if r.Refused != nil && !r.Refused.IsZero() {
			s += ", not " + signed(*r.Refused)
		}
		if r.Reason != "" {
			s += " (" + string(r.Reason) + ")"
		}
		parts[i] = s
	}
	return strings.Join(parts, "; ")
}

// signed returns "+50 EA" or "-20 EA".
func signed(q canonical.Quantity) string {
	if q.Value.IsPos() {
		return "+" + q.String()
	}
	return q.String()
}
