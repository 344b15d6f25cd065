// Command inventorysync shows the flow's inventory sync on the in-memory
// reference systems: stock changes in the WMS (a receipt, a burst of
// adjustments of one item, snapshots, a damage, and an old snapshot
// delivered late) reach the ERP's inventory ledger and the CRM's
// availability per item and warehouse. It prints what each system shows
// and exits 1 when they disagree.
//
//	go run ./examples/inventorysync [-faults 0.2] [-seed 1]
//
// With -faults, every connector fails, times out after the effect, and the
// WMS feed duplicates and reorders pages, with that probability.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
		fmt.Fprintln(os.Stderr, "inventorysync:", err)
		os.Exit(1)
	}
}

// summary is the first line of -h: what the program does.
const summary = "inventorysync syncs stock changes from an in-memory WMS to the ERP and the CRM through the flow, prints what each system shows and exits 1 when they disagree."

// parseFlags parses the command line; -h writes the summary, the usage
// and the flags to stderr and returns [flag.ErrHelp].
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("inventorysync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nusage: go run ./examples/inventorysync [flags]\n", summary)
		fs.PrintDefaults()
	}
	fs.Float64Var(&cfg.faults, "faults", 0, "fault rate on every connector, 0 to 0.5")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the faults")
	return cfg, fs.Parse(args)
}

// config is what the flags set.
type config struct {
	faults float64
	seed   uint64
}

// errDisagree is returned when the systems do not show the same stock.
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

// counts counts what the flow reports; it is safe for concurrent use.
type counts struct {
	mu sync.Mutex
	n  map[flow.Counter]int
}

func (c *counts) Count(_ context.Context, k flow.Counter, _ string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[k]++
}

func (c *counts) SyncLag(context.Context, string, time.Duration) {}

func (c *counts) get(k flow.Counter) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

// world is the three systems and the flow over them.
type world struct {
	clk     *clock
	erp     *erp.Memory
	wms     *wms.Memory
	crm     *crm.Memory
	log     *eventlog.Memory
	metrics *counts
	flow    *flow.Flow
}

func newWorld(cfg config) (*world, error) {
	if cfg.faults < 0 || cfg.faults > 0.5 {
		return nil, fmt.Errorf("-faults %v: must be between 0 and 0.5", cfg.faults)
	}
	w := &world{clk: &clock{t: wms.DemoEpoch()}, log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		metrics: &counts{n: map[flow.Counter]int{}}}
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
	// Inventory sync alone needs only the WMS's inventory and feed, the
	// ERP's ledger and the CRM's availability; the decorated connectors
	// have those roles among others.
	w.flow, err = flow.NewInventorySync(flow.InventoryConfig{WMS: cw, ERP: ce, CRM: cc, Log: w.log, Metrics: w.metrics, PollInterval: 2 * time.Millisecond,
		Policy: eventlog.ErrorPolicy{MaxAttempts: 50, OpenRecheck: 20 * time.Millisecond, Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, Jitter: retry.NoJitter}}})
	return w, err
}

// adjust changes the available stock of sku at wh by delta.
func (w *world) adjust(ctx context.Context, id, sku, wh, delta string, reason canonical.AdjustmentReason) error {
	q, err := canonical.ParseQuantity(delta, "EA")
	if err != nil {
		return fmt.Errorf("adjustment %s: %w", id, err)
	}
	_, err = w.wms.Adjust(ctx, canonical.InventoryAdjustment{ID: id, Item: canonical.ItemRef{SKU: sku}, Location: wh,
		Status: canonical.InventoryAvailable, Delta: q, Reason: reason, AdjustedAt: w.clk.now()})
	return err
}

// row is what the three systems show of one item at one warehouse.
type row struct {
	sku, wh            string
	wmsOnHand, wmsAvl  canonical.Decimal
	wmsSeq             int64
	erpOnHand, crmAvl  canonical.Decimal
	crmSeq             int64
	erpFound, crmFound bool
}

func (r row) agree() bool {
	return r.erpFound && r.crmFound && r.erpOnHand.Equal(r.wmsOnHand) && r.crmAvl.Equal(r.wmsAvl) && r.crmSeq == r.wmsSeq
}

// table reads every item and warehouse the WMS has inventory events for
// and what the ERP and the CRM show of them.
func (w *world) table(ctx context.Context) ([]row, error) {
	ps, err := w.wms.Inventory(ctx, connector.InventoryQuery{})
	if err != nil {
		return nil, err
	}
	var rows []row
	for _, p := range ps {
		if p.Sequence == 0 {
			continue // no inventory event yet: nothing to sync
		}
		if n := len(rows); n == 0 || rows[n-1].sku != p.Item.SKU || rows[n-1].wh != p.Location {
			rows = append(rows, row{sku: p.Item.SKU, wh: p.Location})
		}
		r := &rows[len(rows)-1]
		r.wmsSeq = max(r.wmsSeq, p.Sequence)
		if p.Status != canonical.InventoryAvailable {
			continue
		}
		if r.wmsOnHand, err = r.wmsOnHand.Add(p.OnHand.Value); err != nil {
			return nil, err
		}
		if r.wmsAvl, err = r.wmsAvl.Add(p.Available.Value); err != nil {
			return nil, err
		}
	}
	for i := range rows {
		r := &rows[i]
		q, ok := w.erp.Stock(r.sku, r.wh)
		r.erpOnHand, r.erpFound = q.Value, ok
		a, ok := w.crm.ShownAvailability(r.sku, r.wh)
		// The CRM orders by the WMS sequence × flow.AvailabilityStride.
		r.crmAvl, r.crmSeq, r.crmFound = a.Available.Value, a.Sequence/flow.AvailabilityStride, ok
	}
	return rows, nil
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	w, err := newWorld(cfg)
	if err != nil {
		return err
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"receipt: 30 SKU-100 found in WH-EAST", func() error {
			return w.adjust(ctx, "ADJ-1", "SKU-100", "WH-EAST", "30", canonical.AdjustFound)
		}},
		{"burst: four adjustments of SKU-101 in WH-WEST in one drain", func() error {
			for i, d := range []string{"5", "5", "-3", "10"} {
				if err := w.adjust(ctx, fmt.Sprintf("ADJ-2.%d", i+1), "SKU-101", "WH-WEST", d, canonical.AdjustCycleCount); err != nil {
					return err
				}
			}
			return nil
		}},
		{"snapshot: SKU-103 in every warehouse", func() error {
			_, err := w.wms.Snapshot(ctx, connector.InventoryQuery{SKUs: []string{"SKU-103"}})
			return err
		}},
		{"snapshot: SKU-104 in WH-EAST (two lots)", func() error {
			_, err := w.wms.Snapshot(ctx, connector.InventoryQuery{SKUs: []string{"SKU-104"}, Locations: []string{"WH-EAST"}})
			return err
		}},
		{"snapshot of SKU-102 in WH-SOUTH, then 20 damaged", func() error {
			if _, err := w.wms.Snapshot(ctx, connector.InventoryQuery{SKUs: []string{"SKU-102"}, Locations: []string{"WH-SOUTH"}}); err != nil {
				return err
			}
			return w.adjust(ctx, "ADJ-3", "SKU-102", "WH-SOUTH", "-20", canonical.AdjustDamage)
		}},
		{"stale: the old SKU-102 snapshot delivered again, late", func() error {
			return w.redeliverSnapshot(ctx, "SKU-102@WH-SOUTH")
		}},
	}
	fmt.Fprintln(out, "Inventory sync: WMS → ERP ledger and CRM availability")
	for i, s := range steps {
		// Each change happens a minute after the last, after the demo
		// stock positions the ERP starts with.
		w.clk.advance(time.Minute)
		if err := s.do(); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.what, err)
		}
		if err := w.flow.Drain(ctx); err != nil {
			return fmt.Errorf("drain after step %d (%s): %w", i+1, s.what, err)
		}
		fmt.Fprintf(out, "%d. %s\n", i+1, s.what)
	}
	rows, err := w.table(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SKU\tWAREHOUSE\tWMS ON HAND\tWMS AVAILABLE\tWMS SEQ\tERP ON HAND\tCRM AVAILABLE\tCRM SEQ\t\t")
	disagree := 0
	for _, r := range rows {
		mark := "ok"
		if !r.agree() {
			mark = "DISAGREE"
			disagree++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\t\n", r.sku, r.wh, r.wmsOnHand, r.wmsAvl, r.wmsSeq,
			show(r.erpOnHand, r.erpFound), show(r.crmAvl, r.crmFound), r.crmSeq, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nevents pushed: %d; covered by a newer push (duplicates, stale, bursts): %d; %d dead letters\n",
		w.metrics.get(flow.CounterHandled), w.metrics.get(flow.CounterDuplicate), len(dls))
	if disagree > 0 || len(dls) > 0 {
		return fmt.Errorf("%w: %d of %d items and warehouses, %d dead letters", errDisagree, disagree, len(rows), len(dls))
	}
	fmt.Fprintln(out, "all systems agree")
	return nil
}

func show(d canonical.Decimal, found bool) string {
	if !found {
		return "-"
	}
	return d.String()
}

// redeliverSnapshot appends the first snapshot event of key on the WMS
// feed to the flow's log again, as a late redelivery would: the flow has
// already pushed a newer position of key.
func (w *world) redeliverSnapshot(ctx context.Context, key string) error {
	var cur connector.Cursor
	for {
		page, err := w.wms.PollEvents(ctx, cur, 100)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if e.Type == canonical.EventInventorySnapshot && e.Partition() == key {
				return w.log.Append(ctx, e)
			}
		}
		if !page.More || len(page.Events) == 0 {
			return fmt.Errorf("no snapshot of %s on the WMS feed", key)
		}
		cur = page.Next
	}
}
