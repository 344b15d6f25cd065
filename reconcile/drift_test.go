package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/reconcile"
	"github.com/distsync/distsync/wms"
)

// lossyWMS loses the feed events that drop selects on the way to the flow,
// as a broken webhook or a lost message would.
type lossyWMS struct {
	*wms.Memory
	mu   sync.Mutex
	drop func(canonical.Event) bool
}

func (l *lossyWMS) PollEvents(ctx context.Context, cur connector.Cursor, limit int) (connector.Page, error) {
	p, err := l.Memory.PollEvents(ctx, cur, limit)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drop != nil {
		p.Events = slices.DeleteFunc(p.Events, l.drop)
	}
	return p, err
}

func (l *lossyWMS) setDrop(f func(canonical.Event) bool) {
	l.mu.Lock()
	l.drop = f
	l.mu.Unlock()
}

// forgetfulWMS has lost the fulfilment orders of one order, as a manual
// delete in the warehouse would.
type forgetfulWMS struct {
	*wms.Memory
	order string
}

func (f forgetfulWMS) FulfillmentOrder(ctx context.Context, id string) (canonical.FulfillmentOrder, error) {
	fo, err := f.Memory.FulfillmentOrder(ctx, id)
	if err == nil && fo.OrderID == f.order {
		return canonical.FulfillmentOrder{}, connector.NewError(connector.CodeNotFound, "wms", "FulfillmentOrder", errors.New("deleted"))
	}
	return fo, err
}

type world struct {
	e   *erp.Memory
	w   *wms.Memory
	c   *crm.Memory
	lw  *lossyWMS
	f   *flow.Flow
	st  *flow.MemoryState
	log *eventlog.Memory
}

func newWorld(t testing.TB) *world {
	t.Helper()
	e, err := erp.New(erp.Config{})
	require.NoError(t, err)
	w, err := wms.New(wms.Config{})
	require.NoError(t, err)
	c, err := crm.New(crm.Config{})
	require.NoError(t, err)
	wd := &world{e: e, w: w, c: c, lw: &lossyWMS{Memory: w}, st: &flow.MemoryState{}, log: eventlog.NewMemory(eventlog.MemoryConfig{})}
	wd.f, err = flow.New(flow.Config{ERP: e, WMS: wd.lw, CRM: c, Log: wd.log, State: wd.st, PollInterval: time.Millisecond})
	require.NoError(t, err)
	return wd
}

func (wd *world) order(t testing.TB, sku, qty string) string {
	t.Helper()
	return wd.orderFor(t, "ACC-0002", sku, qty)
}

func (wd *world) orderFor(t testing.TB, account, sku, qty string) string {
	t.Helper()
	ctx := context.Background()
	opp, err := wd.c.OpenOpportunity(ctx, crm.Opportunity{AccountID: account, Lines: []crm.OpportunityLine{{
		SKU: sku, Quantity: canonical.MustParseQuantity(qty, "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
	require.NoError(t, err)
	o, err := wd.c.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err)
	return o.ID
}

// settle runs the flow and the warehouse until neither has work.
func (wd *world) settle(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for range 100 {
		require.NoError(t, wd.f.Drain(ctx))
		n, err := wd.w.Step(ctx)
		require.NoError(t, err)
		if n == 0 {
			require.NoError(t, wd.f.Drain(ctx))
			return
		}
	}
	t.Fatal("the world did not settle in 100 steps")
}

func kinds(ds []reconcile.Difference) []string {
	var out []string
	for _, d := range ds {
		k := string(d.Kind) + " " + d.OrderID
		if d.OrderID == "" {
			k += d.SKU + "@" + d.Location
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestDrift drifts the simulators on purpose: a WMS shipment event lost on
// its way to the flow, a cancellation made in the ERP by hand, a WMS
// inventory change whose event the CRM never heard of, and a fulfilment
// order deleted in the WMS. Reconciliation must find exactly those (none on
// the healthy order), repair the two a lost event explains, and a second
// repair must do nothing.
func TestDrift(t *testing.T) {
	ctx := context.Background()
	wd := newWorld(t)
	healthy := wd.order(t, "SKU-100", "3")
	lostShip := wd.order(t, "SKU-100", "4")
	edited := wd.order(t, "SKU-105", "5") // always backordered: stays open
	deleted := wd.order(t, "SKU-100", "1")
	// Lose the shipment event of lostShip, and hold edited in the warehouse
	// by not letting it go further than released: settle first without loss.
	wd.lw.setDrop(func(ev canonical.Event) bool {
		return ev.Type == canonical.EventFulfillmentShipped && ev.PartitionKey == lostShip
	})
	wd.settle(t)

	// A manual edit in the ERP: cancel 2 of edited's line there, outside the flow.
	ev, err := wd.e.GetOrder(ctx, edited)
	require.NoError(t, err)
	_, err = wd.e.CancelOrderLines(ctx, "manual-edit-1", connector.OrderCancellation{OrderID: edited,
		Lines: []connector.LineQuantity{{LineID: ev.Lines[0].ID, Quantity: canonical.MustParseQuantity("2", "EA")}}})
	require.NoError(t, err)

	// A healthy inventory change the CRM hears of.
	_, err = wd.w.Adjust(ctx, canonical.InventoryAdjustment{ID: "ADJ-0", Item: canonical.ItemRef{SKU: "SKU-100"}, Location: "WH-EAST",
		Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("5", "EA"), Reason: canonical.AdjustmentReason("found"),
		AdjustedAt: time.Now()})
	require.NoError(t, err)
	wd.settle(t)
	_, ok := wd.c.ShownAvailability("SKU-100", "WH-EAST")
	require.True(t, ok, "the CRM shows SKU-100@WH-EAST")

	// A WMS inventory change whose event never reaches the flow, so the CRM never hears of it.
	wd.lw.setDrop(func(ev canonical.Event) bool {
		return ev.Type == canonical.EventFulfillmentShipped && ev.PartitionKey == lostShip || ev.Type == canonical.EventInventoryAdjusted
	})
	_, err = wd.w.Adjust(ctx, canonical.InventoryAdjustment{ID: "ADJ-1", Item: canonical.ItemRef{SKU: "SKU-100"}, Location: "WH-EAST",
		Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("-7", "EA"), Reason: canonical.AdjustmentReason("shrinkage"),
		AdjustedAt: time.Now()})
	require.NoError(t, err)
	wd.settle(t)
	wd.lw.setDrop(nil)

	now := time.Now().Add(time.Hour) // past every grace
	cfg := reconcile.Config{State: wd.st, ERP: wd.e, WMS: forgetfulWMS{wd.w, deleted}, CRM: wd.c, Log: wd.log, Now: func() time.Time { return now }}
	r, err := reconcile.New(cfg)
	require.NoError(t, err)
	rep, err := r.Reconcile(ctx)
	require.NoError(t, err)
	t.Logf("report: %+v", rep.Differences)
	require.NotContains(t, kinds(rep.Differences), "shipped_quantity "+healthy, "healthy order")
	for _, d := range rep.Differences {
		require.NotEqual(t, healthy, d.OrderID, "no difference on the healthy order: %+v", d)
	}
	want := []string{"availability SKU-100@WH-EAST", "cancelled_quantity " + edited, "shipped_quantity " + lostShip,
		"unknown_to_wms " + deleted}
	require.Equal(t, want, kinds(rep.Differences))
	require.Equal(t, 1, rep.Counts["difference/shipped_quantity"])
	for _, d := range rep.Differences {
		require.False(t, d.Since.IsZero(), "%s has an age", d.Kind)
		require.False(t, d.Since.After(rep.At), "%s began before the run", d.Kind)
		require.Empty(t, d.Repair, "a report-only run repairs nothing")
	}

	// Repair: the lost shipment and inventory events are appended again.
	cfg.Repair = true
	rr, err := reconcile.New(cfg)
	require.NoError(t, err)
	rep, err = rr.Reconcile(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Cost.Appended, "appended: %+v", rep.Differences)
	rep2, err := rr.Reconcile(ctx) // before the flow handled them: nothing appended twice
	require.NoError(t, err)
	require.Zero(t, rep2.Cost.Appended)
	// Another reconciler (another process) repairing before the flow caught
	// up appends the same events again: the flow takes them as duplicates.
	other, err := reconcile.New(cfg)
	require.NoError(t, err)
	rep3, err := other.Reconcile(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, rep3.Cost.Appended)
	wd.settle(t)

	rep, err = rr.Reconcile(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"cancelled_quantity " + edited, "unknown_to_wms " + deleted}, kinds(rep.Differences),
		"after repair, what no lost event explains is left to an operator")
	for _, d := range rep.Differences {
		require.Contains(t, d.Repair, "none: ", "%s says it was not repaired", d.Kind)
	}
	require.Zero(t, rep.Cost.Appended)
	require.Equal(t, 1, wd.e.InvoiceCount(healthy))
	require.Equal(t, 1, wd.e.InvoiceCount(lostShip), "the lost shipment is invoiced once")
}
