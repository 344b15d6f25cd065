package flow_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// benchWorld is the in-memory systems of the benchmarks and the memory
// test, without decorators or faults, and a flow over them. The ERP's demo
// accounts have no credit limit, so no order is held.
type benchWorld struct {
	erp  *erp.Memory
	wms  *wms.Memory
	crm  *crm.Memory
	flow *flow.Flow
	now  func() time.Time // the WMS's clock
	adj  int              // adjustments made, for their IDs
}

// newBenchWorld builds the systems and a flow configured by cfg, whose
// ERP, WMS and CRM it sets; a nil cfg.Log is a new memory log, a zero
// PollInterval 100µs. wmsClock, when not nil, is the WMS's clock.
func newBenchWorld(tb testing.TB, cfg flow.Config, wmsClock func() time.Time) *benchWorld {
	tb.Helper()
	return newBenchWorldWith(tb, cfg, wmsClock, benchOptions{})
}

// benchOptions are the variations of the benchmarks' world.
type benchOptions struct {
	// wrap, when not nil, puts the systems the flow sees behind faults or
	// decorators; the benchmark still drives and inspects the bare ones.
	wrap func(testing.TB, *benchWorld, *flow.Config)
	// holds keeps the credit limit of C-3 (ACC-0003, 1,000 USD), so that
	// its larger orders are held.
	holds bool
}

// newBenchWorldWith is newBenchWorld with the variations of o.
func newBenchWorldWith(tb testing.TB, cfg flow.Config, wmsClock func() time.Time, o benchOptions) *benchWorld {
	tb.Helper()
	accounts := erp.DemoAccounts()
	for i := range accounts {
		if !o.holds || accounts[i].Customer.ID != "C-3" {
			accounts[i].Customer.CreditLimit = nil
		}
	}
	bw := &benchWorld{now: wmsClock}
	if bw.now == nil {
		bw.now = time.Now
	}
	var err error
	bw.erp, err = erp.New(erp.Config{Accounts: accounts})
	require.NoError(tb, err, "erp.New")
	bw.wms, err = wms.New(wms.Config{Clock: bw.now})
	require.NoError(tb, err, "wms.New")
	bw.crm, err = crm.New(crm.Config{})
	require.NoError(tb, err, "crm.New")
	cfg.ERP, cfg.WMS, cfg.CRM = bw.erp, bw.wms, bw.crm
	if o.wrap != nil {
		o.wrap(tb, bw, &cfg)
	}
	if cfg.Log == nil {
		cfg.Log = eventlog.NewMemory(eventlog.MemoryConfig{})
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Microsecond
	}
	bw.flow, err = flow.New(cfg)
	require.NoError(tb, err, "flow.New")
	return bw
}

// stock adds qty of sku to the stock of each warehouse.
func (bw *benchWorld) stock(tb testing.TB, sku, qty string, warehouses ...string) {
	tb.Helper()
	for _, wh := range warehouses {
		bw.adj++
		_, err := bw.wms.Adjust(context.Background(), canonical.InventoryAdjustment{ID: "B" + strconv.Itoa(bw.adj),
			Item: canonical.ItemRef{SKU: sku}, Location: wh, Status: canonical.InventoryAvailable,
			Delta: canonical.MustParseQuantity(qty, "EA"), Reason: canonical.AdjustFound, AdjustedAt: bw.now()})
		require.NoError(tb, err, "Adjust %s %s", sku, wh)
	}
}

// order converts an opportunity of ACC-0002 with lines "SKU:QTY:PRICE"
// into an order and returns its ID.
func (bw *benchWorld) order(tb testing.TB, lines ...string) string {
	tb.Helper()
	return bw.orderOf(tb, "ACC-0002", lines...)
}

// orderOf is order for the CRM account account.
func (bw *benchWorld) orderOf(tb testing.TB, account string, lines ...string) string {
	tb.Helper()
	ctx := context.Background()
	opp := crm.Opportunity{AccountID: account}
	for _, l := range lines {
		sku, rest, _ := strings.Cut(l, ":")
		qty, price, _ := strings.Cut(rest, ":")
		opp.Lines = append(opp.Lines, crm.OpportunityLine{SKU: sku, Quantity: canonical.MustParseQuantity(qty, "EA"),
			UnitPrice: canonical.MustParseMoney(price, "USD")})
	}
	opp, err := bw.crm.OpenOpportunity(ctx, opp)
	require.NoError(tb, err, "OpenOpportunity %v", lines)
	o, err := bw.crm.ConvertOpportunity(ctx, opp.ID)
	require.NoError(tb, err, "ConvertOpportunity %v", lines)
	return o.ID
}

// settle drains the flow and steps the warehouses until neither has
// anything left to do.
func (bw *benchWorld) settle(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	for {
		require.NoError(tb, bw.flow.Drain(ctx), "Drain")
		n, err := bw.wms.Step(ctx)
		require.NoError(tb, err, "Step")
		if n == 0 {
			return
		}
	}
}

// orderToCash runs batches of 100 orders of 3 SKU-100 through bw's flow,
// from the CRM to the invoice, and reports orders/s and the costs per
// order (see meter).
func (bw *benchWorld) orderToCash(b *testing.B) {
	bw.orderToCashBatch(b, 100)
}

// orderToCashBatch is orderToCash in batches of batch orders.
func (bw *benchWorld) orderToCashBatch(b *testing.B, batch int) {
	b.ReportAllocs()
	orders := 0
	m := startMeter()
	for b.Loop() {
		bw.openBatch(b, batch)
		bw.settle(b)
		orders += batch
	}
	m.report(b, orders, "order")
	require.Equal(b, orders, bw.erp.Counts().Invoices, "one invoice per order")
}

// openBatch stocks the warehouses for batch orders of 3 SKU-100 and opens
// them in the CRM.
func (bw *benchWorld) openBatch(tb testing.TB, batch int) {
	tb.Helper()
	bw.stock(tb, "SKU-100", strconv.Itoa(10*batch), "WH-EAST", "WH-SOUTH", "WH-WEST")
	for range batch {
		bw.order(tb, "SKU-100:3:12.50")
	}
}
