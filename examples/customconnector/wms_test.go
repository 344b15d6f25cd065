package main_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/examples/customconnector/tinywms"
	"github.com/distsync/distsync/retry"
)

// fulfillmentOrder returns a valid fulfilment order numbered n that
// tinywms can release: its warehouse and stocked items.
func fulfillmentOrder(n int) canonical.FulfillmentOrder {
	o := order(n)
	fo := canonical.FulfillmentOrder{
		ID: fmt.Sprintf("fo-%d", n), Version: 1, OrderID: o.ID, OrderVersion: o.Version,
		Warehouse: "WH1", Split: canonical.SplitPosition{Group: o.ID, Index: 1, Count: 1}, ShipTo: o.ShipTo,
	}
	for _, l := range o.Lines {
		fo.Lines = append(fo.Lines, canonical.FulfillmentLine{ID: "f" + l.ID, OrderLineID: l.ID, Item: l.Item, Quantity: l.Quantity})
	}
	return fo
}

// returnAuthorization returns a valid return numbered n to warehouse WH1.
func returnAuthorization(n int) canonical.Return {
	return canonical.Return{
		ID: fmt.Sprintf("ret-%d", n), Version: 1, RMANumber: fmt.Sprintf("RMA-%d", n), OrderID: order(n).ID,
		Customer: canonical.PartyRef{ID: "cust-1"}, Warehouse: "WH1", AuthorizedAt: t0,
		Lines: []canonical.ReturnLine{{
			ID: fmt.Sprintf("ret-%d-1", n), OrderLineID: order(n).Lines[0].ID, Item: canonical.ItemRef{SKU: "SKU-A"},
			Authorized: canonical.MustParseQuantity("1", "EA"), Received: canonical.MustParseQuantity("0", "EA"),
		}},
	}
}

// wmsHarness adapts a tinywms to the kit; wms is what the kit calls
// (tinywms itself or a wrapper around it). tinywms keeps its state in
// memory, so a "reopened" instance is the same one; a WMS whose state lives
// in a database opens a new client here.
func wmsHarness(w *tinywms.WMS, wms connector.WMS) connectortest.WMSHarness {
	return connectortest.WMSHarness{
		WMS:              wms,
		Reopen:           func(*testing.T) connector.WMS { return wms },
		FulfillmentOrder: fulfillmentOrder,
		Return:           returnAuthorization,
		Advance:          w.Advance,
		Effects: func() connectortest.WMSEffects {
			s := w.Stats()
			return connectortest.WMSEffects{Releases: s.Releases, Cancellations: s.Cancellations, ReturnAuthorizations: s.ReturnAuthorizations}
		},
	}
}

func TestWMSConformance(t *testing.T) {
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		w := tinywms.New(tinywms.Config{Now: func() time.Time { return t0 }})
		return wmsHarness(w, w)
	})
}

// TestWMSConformanceWithFaults runs the kit over tinywms behind injected
// faults and the SDK's retry decorator. A retried poll may deliver a page
// twice, so the harness declares that the feed repeats events.
func TestWMSConformanceWithFaults(t *testing.T) {
	seed := uint64(0)
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		w := tinywms.New(tinywms.Config{Now: func() time.Time { return t0 }})
		seed++
		f, err := faults.WrapWMS(w, faults.Config{
			Seed: seed, Unavailable: 0.2, RateLimited: 0.05, RetryAfter: time.Millisecond,
			AmbiguousTimeout: 0.2, Outage: faults.Outage{FromCall: 5, UntilCall: 8},
		})
		require.NoError(t, err)
		wrapped, err := connector.WrapWMS(f, connector.Options{MaxAttempts: 12, NoBreaker: true, Backoff: retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond}})
		require.NoError(t, err)
		h := wmsHarness(w, wrapped)
		h.Capabilities.RepeatsEvents = true
		return h
	})
}
