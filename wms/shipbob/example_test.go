package shipbob_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/wms/shipbob"
	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
)

// Example starts the emulator on loopback, releases a fulfilment order
// through the connector, lets the warehouse work, and reads the feed.
func Example() {
	ctx := context.Background()
	emu, _ := shipbobemu.New(shipbobemu.Config{Token: "pat"})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	c, err := shipbob.New(shipbob.Config{
		BaseURL: srv.URL, Token: "pat", ChannelID: emu.ChannelID(),
		DefaultAddress: canonical.Address{Lines: []string{"1 Commerce Way"}, City: "Columbus", Country: "US"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fo := canonical.FulfillmentOrder{
		ID: "SO-1-WH-EAST", Version: 1, OrderID: "SO-1", OrderVersion: 1, Warehouse: "WH-EAST",
		Split:  canonical.SplitPosition{Group: "SO-1", Index: 1, Count: 1},
		ShipTo: canonical.PartyRef{ID: "C-1", Name: "Acme Hardware"},
		Lines: []canonical.FulfillmentLine{{ID: "SO-1-WH-EAST:1", OrderLineID: "1",
			Item: canonical.ItemRef{SKU: "SKU-100"}, Quantity: canonical.MustParseQuantity("2", "EA")}},
	}
	released, err := c.Release(ctx, fo)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("released as", released.Refs[0].System, released.Refs[0].Type)
	for range 3 {
		_, _ = emu.Step(ctx)
	}
	page, err := c.PollEvents(ctx, "", connector.DefaultPageSize)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range page.Events {
		fmt.Println(e.Type, e.Subject)
	}
	// Output:
	// released as shipbob order
	// distsync.fulfillment.released.v1 SO-1-WH-EAST
	// distsync.fulfillment.shipped.v1 SO-1-WH-EAST
}
