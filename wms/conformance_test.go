package wms_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/wms"
)

// kitFO is the fulfilment order the kit releases: two lines of demo items
// with stock in WH-EAST.
func kitFO(n int) canonical.FulfillmentOrder {
	id := fmt.Sprintf("kit-fo-%d", n)
	return canonical.FulfillmentOrder{
		ID: id, Version: 1, OrderID: fmt.Sprintf("kit-order-%d", n), OrderVersion: 1, Warehouse: "WH-EAST",
		Split:  canonical.SplitPosition{Group: fmt.Sprintf("kit-order-%d", n), Index: 1, Count: 1},
		ShipTo: canonical.PartyRef{ID: "C-1-DC", Name: "Acme Hardware DC"},
		Lines: []canonical.FulfillmentLine{
			{ID: id + ":1", OrderLineID: "1", Item: canonical.ItemRef{SKU: "SKU-100"}, Quantity: canonical.MustParseQuantity("2", "EA")},
			{ID: id + ":2", OrderLineID: "2", Item: canonical.ItemRef{SKU: "SKU-104"}, Quantity: canonical.MustParseQuantity("3", "EA")},
		},
	}
}

// kitReturn is the return the kit authorizes.
func kitReturn(n int) canonical.Return {
	id := fmt.Sprintf("kit-ret-%d", n)
	return canonical.Return{
		ID: id, Version: 1, RMANumber: fmt.Sprintf("RMA-%d", n), OrderID: fmt.Sprintf("kit-order-%d", n),
		Customer: canonical.PartyRef{ID: "C-1"}, Warehouse: "WH-EAST",
		AuthorizedAt: time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC),
		Lines: []canonical.ReturnLine{{ID: id + ":1", OrderLineID: "1", Item: canonical.ItemRef{SKU: "SKU-100"},
			Authorized: canonical.MustParseQuantity("1", "EA"), Received: canonical.MustParseQuantity("0", "EA")}},
	}
}

// harness returns a conformance harness over a fresh demo world, with the
// system under test wrapped by wrap.
func harness(t *testing.T, wrap func(connector.WMS) connector.WMS, caps connectortest.Capabilities) connectortest.WMSHarness {
	t.Helper()
	m, err := wms.New(wms.Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return connectortest.WMSHarness{
		WMS: wrap(m),
		Reopen: func(t *testing.T) connector.WMS {
			r, err := wms.New(wms.Config{State: m.State()})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			return wrap(r)
		},
		FulfillmentOrder: kitFO,
		Return:           kitReturn,
		Advance: func(ctx context.Context) error {
			_, err := m.Step(ctx)
			return err
		},
		Effects: func() connectortest.WMSEffects {
			c := m.Counts()
			return connectortest.WMSEffects{Releases: c.Releases, Cancellations: c.Cancellations, ReturnAuthorizations: c.ReturnAuthorizations}
		},
		Capabilities: caps,
	}
}

func TestConformance(t *testing.T) {
	connectortest.TestWMS(t, func(t *testing.T) connectortest.WMSHarness {
		return harness(t, func(w connector.WMS) connector.WMS { return w }, connectortest.Capabilities{Health: true})
	})
}
