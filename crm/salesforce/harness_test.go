package salesforce_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
)

// org is an emulated org on loopback with the simulator behind it.
type org struct {
	crm *crm.Memory
	emu *sfemu.Server
	srv *httptest.Server
}

// newOrg starts an emulator over a new simulator; wrap, when set, wraps
// its handler (a fault injector).
func newOrg(t testing.TB, cfg sfemu.Config, wrap func(http.Handler) http.Handler) *org {
	t.Helper()
	m, err := crm.New(crm.Config{})
	require.NoError(t, err)
	cfg.CRM = m
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = "distsync-app", "s3cret"
	}
	emu, err := sfemu.New(cfg)
	require.NoError(t, err)
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &org{crm: m, emu: emu, srv: srv}
}

// connect returns a connector for the org.
func (o *org) connect(t testing.TB, cfg salesforce.Config) *salesforce.CRM {
	t.Helper()
	cfg.LoginURL = o.srv.URL
	cfg.ClientID, cfg.ClientSecret = "distsync-app", "s3cret"
	if cfg.LimitPause == 0 {
		cfg.LimitPause = time.Millisecond
	}
	c, err := salesforce.New(cfg)
	require.NoError(t, err)
	return c
}

// addOrders opens and converts n opportunities in the simulator, for the
// demo accounts in turn, with two lines each.
func (o *org) addOrders(ctx context.Context, n int) error {
	for i := range n {
		opp := crm.Opportunity{AccountID: fmt.Sprintf("ACC-%04d", 1+i%3), CustomerPO: fmt.Sprintf("PO-%d", i), Lines: []crm.OpportunityLine{
			{SKU: fmt.Sprintf("SKU-%d", 100+i%6), Quantity: canonical.MustParseQuantity(fmt.Sprint(1+i), "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")},
			{SKU: "SKU-200", Quantity: canonical.MustParseQuantity("2", "EA"), UnitPrice: canonical.MustParseMoney("120.00", "USD")},
		}}
		got, err := o.crm.OpenOpportunity(ctx, opp)
		if err != nil {
			return err
		}
		if _, err := o.crm.ConvertOpportunity(ctx, got.ID); err != nil {
			return err
		}
	}
	return nil
}

// shown returns the status the simulator shows for a Salesforce order.
func (o *org) shown(id string) (connector.OrderStatus, bool) {
	memID, ok := o.emu.SimulatorID(id)
	if !ok {
		return connector.OrderStatus{}, false
	}
	return o.crm.ShownStatus(memID)
}

// harness returns the kit's harness over the org, with the connectors
// wrap makes.
func (o *org) harness(t *testing.T, cfg salesforce.Config, wrap func(*testing.T, *salesforce.CRM) connector.CRM) connectortest.CRMHarness {
	return connectortest.CRMHarness{
		CRM:       wrap(t, o.connect(t, cfg)),
		Reopen:    func(t *testing.T) connector.CRM { return wrap(t, o.connect(t, cfg)) },
		AddOrders: o.addOrders,
		Shown:     o.shown,
		Location:  "WH-EAST",
		RequestCancellation: func(ctx context.Context, orderID string) error {
			memID, ok := o.emu.SimulatorID(orderID)
			if !ok {
				return fmt.Errorf("no simulator order for %s", orderID)
			}
			_, err := o.crm.RequestCancellation(ctx, memID, nil, "kit")
			return err
		},
		Effects: func() connectortest.CRMEffects {
			c := o.crm.Counts()
			return connectortest.CRMEffects{StatusUpdates: c.StatusUpdates, AvailabilityUpdates: c.AvailabilityUpdates}
		},
		Capabilities: connectortest.Capabilities{Health: true, StatusBatch: true},
	}
}
