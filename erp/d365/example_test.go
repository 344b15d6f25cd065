package d365_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/d365"
	"github.com/distsync/distsync/erp/d365/d365emu"
)

// Example starts the emulator (F&O and its Entra ID token endpoint) on a
// loopback server, builds the connector behind the retry decorators, and
// accepts an order: a token, a read by the key, and the header with its
// lines as one $batch changeset.
func Example() {
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	m, _ := erp.New(erp.Config{Clock: clock}) // the demo world: C-1, SKU-100, ...
	emu, _ := d365emu.New(d365emu.Config{ERP: m, ClientID: "app", ClientSecret: "secret", Now: clock})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	client, _ := d365.New(d365.Config{BaseURL: srv.URL, Company: "usmf", TokenURL: srv.URL + d365emu.TokenPath("contoso"),
		ClientID: "app", ClientSecret: "secret"})
	fo, _ := connector.WrapERP(client, connector.Options{})

	o := canonical.Order{ID: "ord-1", Version: 1, SoldTo: canonical.PartyRef{ID: "C-1"}, ShipTo: canonical.PartyRef{ID: "C-1-DC"},
		Currency: "USD", Lines: []canonical.OrderLine{{ID: "L1", Item: canonical.ItemRef{SKU: "SKU-100"},
			Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}}
	ack, err := fo.AcceptOrder(context.Background(), "accept-ord-1-v1", &o)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ack.Outcome, ack.Refs[0].Type, ack.Refs[0].Value, ack.Totals.Subtotal)
	// Output: accepted salesOrder usmf/SO-001000 37.50 USD
}

// ExampleExtensionField maps a custom field of the sales order header,
// CostCentre_Custom, to the order's extension d365:costCentre: AcceptOrder
// writes it, GetOrder reads it back.
func ExampleExtensionField() {
	clock := func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	m, _ := erp.New(erp.Config{Clock: clock})
	emu, _ := d365emu.New(d365emu.Config{ERP: m, ClientID: "app", ClientSecret: "secret", Now: clock})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	client, err := d365.New(d365.Config{BaseURL: srv.URL, Company: "usmf", TokenURL: srv.URL + d365emu.TokenPath("contoso"),
		ClientID: "app", ClientSecret: "secret", Extensions: []d365.ExtensionField{
			{Entity: d365.EntitySalesOrderHeader, Property: "CostCentre_Custom", Name: "d365:costCentre", Type: canonical.ExtString}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	o := canonical.Order{ID: "ord-1", Version: 1, SoldTo: canonical.PartyRef{ID: "C-1"}, ShipTo: canonical.PartyRef{ID: "C-1-DC"},
		Currency: "USD", Lines: []canonical.OrderLine{{ID: "L1", Item: canonical.ItemRef{SKU: "SKU-100"},
			Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}}
	_ = canonical.SetExt(&o.Extensions, "d365:costCentre", "CC-4711")
	ctx := context.Background()
	if _, err := client.AcceptOrder(ctx, "accept-ord-1-v1", &o); err != nil {
		fmt.Println(err)
		return
	}
	got, err := client.GetOrder(ctx, "ord-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	cc, _, _ := canonical.Ext[string](got.Extensions, "d365:costCentre")
	fmt.Println(cc)
	// Output: CC-4711
}
