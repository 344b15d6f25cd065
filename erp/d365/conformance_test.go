package d365_test

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
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/erp/d365"
	"github.com/distsync/distsync/erp/d365/d365emu"
	"github.com/distsync/distsync/retry"
)

// t0 is the fixed time of the emulator's clock.
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const (
	clientID, secret = "distsync-app", "s3cret"
	tenant           = "contoso.onmicrosoft.com"
	company          = "usmf"
)

// kitOrder returns the kit's order n: two lines of demo items for C-1 at
// list price, well inside the credit limit.
func kitOrder(n int) canonical.Order {
	o := canonical.Order{ID: fmt.Sprintf("kit-ord-%d", n), Version: 1, SoldTo: canonical.PartyRef{ID: "C-1"},
		ShipTo: canonical.PartyRef{ID: "C-1-DC"}, Currency: "USD"}
	for i, l := range [][3]string{{"SKU-100", fmt.Sprint(1 + n%5), "EA"}, {"SKU-104", "2", "XCS"}} {
		price := map[string]string{"SKU-100": "12.50", "SKU-104": "37.20"}[l[0]]
		o.Lines = append(o.Lines, canonical.OrderLine{ID: fmt.Sprintf("kit-%d-L%d", n, i+1), Item: canonical.ItemRef{SKU: l[0]},
			Quantity: canonical.MustParseQuantity(l[1], l[2]), UnitPrice: canonical.MustParseMoney(price, "USD")})
	}
	return o
}

// kitPositions returns snapshots newer than the demo stock and than those
// of smaller n.
func kitPositions(n int) []canonical.InventoryPosition {
	ps := erp.DemoStock()[:3]
	for i := range ps {
		q := canonical.NewQuantity(canonical.DecimalFromInt(int64(100+n+i)), "EA")
		ps[i].OnHand, ps[i].Available = q, q
		ps[i].Sequence = int64(1 + n)
		ps[i].AsOf = erp.DemoEpoch().Add(time.Duration(n) * time.Hour)
	}
	return ps
}

// emulator starts the emulator over a fresh demo ERP behind wrap on a
// loopback server; the user's default company is "dat", not the company
// the connector writes to.
func emulator(t testing.TB, wrap func(http.Handler) http.Handler) (*d365emu.Server, *httptest.Server) {
	t.Helper()
	m, err := erp.New(erp.Config{Clock: func() time.Time { return t0 }})
	require.NoError(t, err)
	emu, err := d365emu.New(d365emu.Config{ERP: m, ClientID: clientID, ClientSecret: secret, Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return emu, srv
}

func config(url string) d365.Config {
	return d365.Config{BaseURL: url, Company: company, TokenURL: url + d365emu.TokenPath(tenant), ClientID: clientID, ClientSecret: secret}
}

func newClient(t testing.TB, url string) *d365.Client {
	t.Helper()
	c, err := d365.New(config(url))
	require.NoError(t, err)
	return c
}

// harness returns the kit's harness over a connector to srv, wrapped by
// wrap; Reopen builds a new connector to the same server.
func harness(t *testing.T, emu *d365emu.Server, srv *httptest.Server, wrap func(*testing.T, connector.ERP) connector.ERP) connectortest.ERPHarness {
	return connectortest.ERPHarness{
		ERP: wrap(t, newClient(t, srv.URL)), Order: kitOrder, Positions: kitPositions,
		Reopen: func(t *testing.T) connector.ERP { return wrap(t, newClient(t, srv.URL)) },
		Effects: func() connectortest.ERPEffects {
			c := emu.ERP().Counts()
			return connectortest.ERPEffects{Orders: c.Orders, Invoices: c.Invoices, CreditMemos: c.CreditMemos,
				InventoryApplications: c.InventoryApplications, Cancellations: c.Cancellations}
		},
		AddEvents: func(ctx context.Context, n int) error {
			m := emu.ERP()
			for i := range n {
				o := kitOrder(1000 + i)
				if _, err := m.AcceptOrder(ctx, "kit-events-"+o.ID, &o); err != nil {
					return err
				}
				if _, err := m.RequestCancellation(ctx, o.ID, nil, "kit"); err != nil {
					return err
				}
			}
			return nil
		},
		Capabilities: connectortest.Capabilities{Health: true, Cancel: true, Events: true},
	}
}

func TestConformance(t *testing.T) {
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		emu, srv := emulator(t, nil)
		return harness(t, emu, srv, func(_ *testing.T, e connector.ERP) connector.ERP { return e })
	})
}

func TestConformanceWrapped(t *testing.T) {
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		emu, srv := emulator(t, nil)
		return harness(t, emu, srv, func(t *testing.T, e connector.ERP) connector.ERP {
			w, err := connector.WrapERP(e, connector.Options{Backoff: retry.Backoff{InitialInterval: time.Microsecond, MaxInterval: time.Millisecond}})
			require.NoError(t, err)
			return w
		})
	})
}
