package flow_test

import (
	"context"
	"fmt"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// Example_inventorySync adjusts stock in the WMS three times and drains an
// inventory-only flow (NewInventorySync) once: the burst is pushed once,
// with the newest position, to the ERP's ledger and the CRM's
// availability.
func Example_inventorySync() {
	ctx := context.Background()
	e, _ := erp.New(erp.Config{})
	// The WMS starts an hour after the ERP's demo stock positions.
	w, _ := wms.New(wms.Config{Start: wms.DemoEpoch().Add(time.Hour)})
	c, _ := crm.New(crm.Config{})
	// Inventory sync alone: the WMS's inventory and feed, the ERP's ledger
	// and the CRM's availability are all it takes.
	f, err := flow.NewInventorySync(flow.InventoryConfig{WMS: w, ERP: e, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		PollInterval: time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, delta := range []string{"10", "-4", "25"} {
		_, err := w.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprint("ADJ-", i+1), Item: canonical.ItemRef{SKU: "SKU-100"},
			Location: "WH-WEST", Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity(delta, "EA"),
			Reason: canonical.AdjustCycleCount, AdjustedAt: wms.DemoEpoch().Add(time.Hour)})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := f.Drain(ctx); err != nil {
		fmt.Println(err)
		return
	}
	stock, _ := e.Stock("SKU-100", "WH-WEST")
	shown, _ := c.ShownAvailability("SKU-100", "WH-WEST")
	seq, _ := f.InventorySeq("SKU-100", "WH-WEST")
	fmt.Println("erp on hand:", stock)
	fmt.Println("crm available:", shown.Available, "sequence", shown.Sequence, "(WMS sequence", shown.Sequence/flow.AvailabilityStride, "× stride)")
	fmt.Println("flow pushed sequence", seq, "in", e.Counts().InventoryApplications, "ERP application")
	// Output:
	// erp on hand: 91 EA
	// crm available: 91 EA sequence 3000000 (WMS sequence 3 × stride)
	// flow pushed sequence 3 in 1 ERP application
}
