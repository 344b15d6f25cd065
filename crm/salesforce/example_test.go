package salesforce_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
)

// Example starts the emulator over the crm simulator on loopback, converts
// an opportunity there, and reads it through the connector's order feed.
func Example() {
	ctx := context.Background()
	sim, _ := crm.New(crm.Config{})
	emu, _ := sfemu.New(sfemu.Config{CRM: sim, ClientID: "app", ClientSecret: "secret"})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	opp, _ := sim.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0001", Lines: []crm.OpportunityLine{
		{SKU: "SKU-100", Quantity: canonical.MustParseQuantity("4", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")}}})
	_, _ = sim.ConvertOpportunity(ctx, opp.ID)

	sf, err := salesforce.New(salesforce.Config{LoginURL: srv.URL, ClientID: "app", ClientSecret: "secret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var c connector.CRM = sf
	page, err := c.PollOrders(ctx, "", 10)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range page.Events {
		o, _ := canonical.DecodeData[canonical.Order](e)
		fmt.Println(e.Type, o.ID, o.SoldTo.ID, o.Lines[0].Item.SKU, o.Lines[0].Quantity, o.Lines[0].UnitPrice)
	}
	// Output:
	// distsync.order.submitted.v1 801000000000001AAA C-1 SKU-100 4 EA 9.80 USD
}
