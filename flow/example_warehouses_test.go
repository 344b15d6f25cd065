package flow_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// ExampleConfig_warehouses runs one order over two WMS: the distributor's
// own DC (WH-EAST and WH-SOUTH) on one, a 3PL (WH-WEST) on another. The
// order is split across them, each fulfilment order released to the WMS
// that owns its warehouse, and Where says which system holds which.
func ExampleConfig_warehouses() {
	ctx := context.Background()
	// demoWMS returns a WMS simulator of the demo world's warehouses in
	// owns, with their stock.
	demoWMS := func(name string, owns ...string) *wms.Memory {
		cfg := wms.Config{Name: name, Items: wms.DemoItems()}
		for _, l := range wms.DemoWarehouses() {
			if slices.Contains(owns, l.ID) {
				cfg.Warehouses = append(cfg.Warehouses, l)
			}
		}
		for _, s := range wms.DemoStock() {
			if slices.Contains(owns, s.Warehouse) {
				cfg.Stock = append(cfg.Stock, s)
			}
		}
		m, _ := wms.New(cfg)
		return m
	}
	dc, tpl := demoWMS("dc", "WH-EAST", "WH-SOUTH"), demoWMS("3pl", "WH-WEST")
	e, _ := erp.New(erp.Config{})
	c, _ := crm.New(crm.Config{})
	f, err := flow.New(flow.Config{ERP: e, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		Warehouses: []flow.WarehouseSystem{
			{Name: "dc", WMS: dc, Locations: []string{"WH-EAST", "WH-SOUTH"}}, // sources: dc.Source(), "wms://dc"
			{Name: "3pl", WMS: tpl, Locations: []string{"WH-WEST"}},
		},
		PollInterval: time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	opp, _ := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{
		SKU: "SKU-101", Quantity: canonical.MustParseQuantity("100", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")}}})
	order, _ := c.ConvertOpportunity(ctx, opp.ID)
	for {
		if err := f.Drain(ctx); err != nil {
			fmt.Println(err)
			return
		}
		n1, _ := dc.Step(ctx)
		n2, _ := tpl.Step(ctx)
		if n1+n2 == 0 {
			break
		}
	}
	v, _ := f.Where(ctx, order.ID)
	fmt.Println("flow:", v.Status)
	for _, fo := range v.FulfillmentOrders {
		fmt.Println(fo.ID, fo.Lines[0].Quantity, "held by", v.Systems[fo.ID])
	}
	fmt.Println("invoices:", len(v.Invoices), "for", len(v.Shipments), "shipments")
	// Output:
	// flow: accepted/shipped/invoiced
	// ORD-000001-WH-EAST 80 EA held by dc
	// ORD-000001-WH-WEST 20 EA held by 3pl
	// invoices: 2 for 2 shipments
}
