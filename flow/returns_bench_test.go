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

// BenchmarkReturns measures returns through the flow on the in-memory
// systems with the memory log, without decorators or faults: per
// iteration, 100 orders are shipped (untimed), then 100 returns of one
// unit each, one per order, are authorized in the CRM, registered with the
// WMS, received there (restocked) and credited in the ERP. Drain waits with real timers
// (PollInterval 100µs), which bounds the rate.
func BenchmarkReturns(b *testing.B) {
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
	drain := func() {
		for {
			require.NoError(b, f.Drain(ctx), "Drain")
			n, err := w.Step(ctx)
			require.NoError(b, err, "Step")
			if n == 0 {
				return
			}
		}
	}
	_, err = w.Adjust(ctx, canonical.InventoryAdjustment{ID: "B-STOCK", Item: canonical.ItemRef{SKU: "SKU-100"},
		Location: "WH-EAST", Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1000000", "EA"),
		Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
	require.NoError(b, err, "Adjust")
	// ship ships a batch of new orders of 2 SKU-100, untimed.
	ship := func() []string {
		b.StopTimer()
		defer b.StartTimer()
		ids := make([]string, batch)
		for i := range ids {
			opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{SKU: "SKU-100",
				Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
			require.NoError(b, err, "OpenOpportunity")
			o, err := c.ConvertOpportunity(ctx, opp.ID)
			require.NoError(b, err, "ConvertOpportunity")
			ids[i] = o.ID
		}
		drain()
		return ids
	}
	b.ReportAllocs()
	returns := 0
	var took time.Duration
	for b.Loop() {
		orders := ship()
		start := time.Now()
		ids := make([]string, 0, batch)
		for _, id := range orders {
			r, err := c.AuthorizeReturn(ctx, crm.ReturnRequest{OrderID: id, Warehouse: "WH-EAST",
				Lines: []crm.ReturnRequestLine{{OrderLineID: "L1", Quantity: canonical.MustParseQuantity("1", "EA")}}})
			require.NoError(b, err, "AuthorizeReturn")
			ids = append(ids, r.ID)
		}
		require.NoError(b, f.Drain(ctx), "Drain")
		for _, id := range ids {
			_, err := w.ReceiveReturn(ctx, id, []wms.ReturnReceipt{{LineID: "R1", Quantity: canonical.MustParseQuantity("1", "EA"),
				Condition: canonical.ConditionNew, Disposition: canonical.DispositionRestock}})
			require.NoError(b, err, "ReceiveReturn %s", id)
		}
		require.NoError(b, f.Drain(ctx), "Drain")
		took += time.Since(start)
		returns += batch
	}
	b.ReportMetric(float64(returns)/took.Seconds(), "returns/s")
	require.Equal(b, returns, e.Counts().CreditMemos, "one credit memo per return")
	dls, err := f.DeadLetters(ctx, eventlog.Filter{})
	require.NoError(b, err, "DeadLetters")
	require.Empty(b, dls, "dead letters: %v", fmt.Sprint(dls))
}
