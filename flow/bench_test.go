package flow_test

import (
	"context"
	"fmt"
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

// BenchmarkOrderToCash measures orders through the whole flow (submitted in
// the CRM, accepted, released, shipped, invoiced, shown) on the in-memory
// systems with the memory log, in batches of 100 orders per iteration,
// without decorators or faults. Drain waits with real timers (PollInterval
// 100µs), which bounds the rate.
func BenchmarkOrderToCash(b *testing.B) {
	const batch = 100
	ctx := context.Background()
	accounts := erp.DemoAccounts()
	for i := range accounts {
		accounts[i].Customer.CreditLimit = nil
	}
	e, err := erp.New(erp.Config{Accounts: accounts})
	require.NoError(b, err, "erp.New")
	w, err := wms.New(wms.Config{})
	require.NoError(b, err, "wms.New")
	c, err := crm.New(crm.Config{})
	require.NoError(b, err, "crm.New")
	f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		PollInterval: 100 * time.Microsecond})
	require.NoError(b, err, "flow.New")
	b.ReportAllocs()
	adj := 0
	orders := 0
	start := time.Now()
	for b.Loop() {
		for _, wh := range []string{"WH-EAST", "WH-SOUTH", "WH-WEST"} {
			adj++
			_, err := w.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprint("B", adj), Item: canonical.ItemRef{SKU: "SKU-100"},
				Location: wh, Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1000", "EA"),
				Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
			require.NoError(b, err, "Adjust")
		}
		for range batch {
			opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{SKU: "SKU-100",
				Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
			require.NoError(b, err, "OpenOpportunity")
			_, err = c.ConvertOpportunity(ctx, opp.ID)
			require.NoError(b, err, "ConvertOpportunity")
		}
		for {
			require.NoError(b, f.Drain(ctx), "Drain")
			n, err := w.Step(ctx)
			require.NoError(b, err, "Step")
			if n == 0 {
				break
			}
		}
		orders += batch
	}
	b.ReportMetric(float64(orders)/time.Since(start).Seconds(), "orders/s")
	require.Equal(b, orders, e.Counts().Invoices, "one invoice per order")
}
