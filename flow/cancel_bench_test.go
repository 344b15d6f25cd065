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

// BenchmarkCancelRemainder measures orders that ship in part and have
// their backordered remainder cancelled from the CRM (submitted, accepted,
// released, one line shipped and invoiced, the other cancelled in the WMS,
// the ERP and the CRM), in batches of 100 orders per iteration, on the
// in-memory systems with the memory log, without decorators or faults.
// Drain waits with real timers (PollInterval 100µs), which bounds the
// rate.
func BenchmarkCancelRemainder(b *testing.B) {
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
	settle := func() {
		for {
			require.NoError(b, f.Drain(ctx), "Drain")
			n, err := w.Step(ctx)
			require.NoError(b, err, "Step")
			if n == 0 {
				return
			}
		}
	}
	b.ReportAllocs()
	orders, adj := 0, 0
	ids := make([]string, batch)
	start := time.Now()
	for b.Loop() {
		adj++
		_, err := w.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprint("BC", adj),
			Item: canonical.ItemRef{SKU: "SKU-100"}, Location: "WH-EAST", Status: canonical.InventoryAvailable,
			Delta: canonical.MustParseQuantity("1000", "EA"), Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
		require.NoError(b, err, "Adjust")
		for i := range batch {
			opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{
				{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")},
				{SKU: "SKU-105", Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("6.40", "USD")}}})
			require.NoError(b, err, "OpenOpportunity")
			o, err := c.ConvertOpportunity(ctx, opp.ID)
			require.NoError(b, err, "ConvertOpportunity")
			ids[i] = o.ID
		}
		settle()
		for _, id := range ids {
			_, err := c.RequestCancellation(ctx, id, nil, "bench")
			require.NoError(b, err, "RequestCancellation %s", id)
		}
		settle()
		orders += batch
	}
	b.ReportMetric(float64(orders)/time.Since(start).Seconds(), "orders/s")
	require.Equal(b, orders, e.Counts().Cancellations, "one ERP cancellation per order")
	require.Equal(b, orders, w.Counts().Cancellations, "one WMS cancellation per order")
}
