package reconcile_test

import (
	"context"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/reconcile"
	"github.com/distsync/distsync/wms"
)

// Example runs an order through the flow, changes stock in the warehouse
// without the CRM hearing of it, and reconciles with repair: the
// reconciler finds the difference and re-appends the warehouse's event,
// which the flow then handles.
func Example() {
	ctx := context.Background()
	e, _ := erp.New(erp.Config{})
	w, _ := wms.New(wms.Config{})
	c, _ := crm.New(crm.Config{})
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	state := &flow.MemoryState{}
	f, _ := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: log, State: state})
	adjust := func(id, delta string) {
		_, _ = w.Adjust(ctx, canonical.InventoryAdjustment{ID: id, Item: canonical.ItemRef{SKU: "SKU-100"}, Location: "WH-EAST",
			Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity(delta, "EA"),
			Reason: canonical.AdjustmentReason("cycle_count"), AdjustedAt: time.Now()})
	}
	adjust("ADJ-1", "5")
	_ = f.Drain(ctx) // the CRM shows 125 available
	adjust("ADJ-2", "-20")
	// The flow has not polled the warehouse since: the CRM still shows 125,
	// as it would if the event had been lost.

	now := time.Now().Add(time.Hour)
	r, _ := reconcile.New(reconcile.Config{State: state, ERP: e, WMS: w, CRM: c, Log: log, Repair: true,
		Now: func() time.Time { return now }})
	rep, _ := r.Reconcile(ctx)
	for _, d := range rep.Differences {
		fmt.Printf("%s %s@%s: %s; %s\n", d.Kind, d.SKU, d.Location, d.Detail, d.Repair)
	}
	// The flow handles the appended event; the copy its own polling brings
	// later is a duplicate it ignores. The next run finds nothing.
	for range 3 {
		_ = f.Drain(ctx)
	}
	rep, _ = r.Reconcile(ctx)
	fmt.Println("differences after repair:", len(rep.Differences))
	// Output:
	// availability SKU-100@WH-EAST: wms 105, crm 125; re-appended 1 event(s)
	// differences after repair: 0
}
