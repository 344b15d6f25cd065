package connectortest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/examples/customconnector/tinywms"
)

// wmsHarness adapts tinywms, the starter WMS of examples/customconnector,
// to the kit: samples it can release, a way to count its effects and to
// move its warehouse.
func wmsHarness(w *tinywms.WMS, wms connector.WMS) connectortest.WMSHarness {
	order := func(n int) (string, []canonical.FulfillmentLine) {
		id := fmt.Sprintf("order-%d", n)
		return id, []canonical.FulfillmentLine{{
			ID: id + "-f1", OrderLineID: id + "-1", Item: canonical.ItemRef{SKU: "SKU-A"},
			Quantity: canonical.MustParseQuantity("3", "EA"),
		}}
	}
	return connectortest.WMSHarness{
		WMS:    wms,
		Reopen: func(*testing.T) connector.WMS { return wms }, // its state is in memory
		FulfillmentOrder: func(n int) canonical.FulfillmentOrder {
			id, lines := order(n)
			return canonical.FulfillmentOrder{
				ID: fmt.Sprintf("fo-%d", n), Version: 1, OrderID: id, OrderVersion: 1, Warehouse: "WH1",
				Split: canonical.SplitPosition{Group: id, Index: 1, Count: 1}, ShipTo: canonical.PartyRef{ID: "cust-1-dock"},
				Lines: lines,
			}
		},
		Return: func(n int) canonical.Return {
			id, lines := order(n)
			return canonical.Return{
				ID: fmt.Sprintf("ret-%d", n), Version: 1, RMANumber: fmt.Sprintf("RMA-%d", n), OrderID: id,
				Customer: canonical.PartyRef{ID: "cust-1"}, Warehouse: "WH1",
				AuthorizedAt: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC),
				Lines: []canonical.ReturnLine{{
					ID: id + "-r1", OrderLineID: lines[0].OrderLineID, Item: lines[0].Item,
					Authorized: canonical.MustParseQuantity("1", "EA"), Received: canonical.MustParseQuantity("0", "EA"),
				}},
			}
		},
		Advance: w.Advance,
		Effects: func() connectortest.WMSEffects {
			s := w.Stats()
			return connectortest.WMSEffects{Releases: s.Releases, Cancellations: s.Cancellations, ReturnAuthorizations: s.ReturnAuthorizations}
		},
	}
}

// shipsBareIDs is a broken WMS: its shipment events carry {"id":"x"}
// instead of the shipment.
type shipsBareIDs struct{ *tinywms.WMS }

func (b shipsBareIDs) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	p, err := b.WMS.PollEvents(ctx, cursor, limit)
	p.Events = slices.Clone(p.Events)
	for i, e := range p.Events {
		if e.Type == canonical.EventFulfillmentShipped {
			p.Events[i].Data = json.RawMessage(`{"id":"x"}`)
		}
	}
	return p, err
}

// A connector's own tests call RunWMS (or RunERP, RunCRM) with their t:
//
//	func TestConformance(t *testing.T) {
//		connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness { ... })
//	}
//
// CheckWMS runs the same checks anywhere and returns what failed, each
// failure prefixed with the name of its check and the contract sentence it
// broke.
func ExampleCheckWMS() {
	now := func() time.Time { return time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC) }
	err := connectortest.CheckWMS(func() (connectortest.WMSHarness, error) {
		w := tinywms.New(tinywms.Config{Now: now})
		return wmsHarness(w, w), nil
	})
	fmt.Println("tinywms passes:", err == nil)

	err = connectortest.CheckWMS(func() (connectortest.WMSHarness, error) {
		w := tinywms.New(tinywms.Config{Now: now})
		return wmsHarness(w, shipsBareIDs{w}), nil
	})
	fmt.Println("shipsBareIDs passes:", err == nil)
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		first, _, _ := strings.Cut(e.Error(), "\n") // the first failure of each failed check
		fmt.Println(" ", first)
	}
	// Output:
	// tinywms passes: true
	// shipsBareIDs passes: false
	//   Feed: contract "The feed pages, keeps its cursor on an empty page, never skips or (unless declared) repeats an event, resumes on a reopened instance, and its events are valid canonical events." broken: PollEvents: event urn:distsync:wms:tinywms evt-000004 of type "distsync.fulfillment.shipped.v1": the data is not the shipment document its type declares: canonical: invalid event: data.orderId: is required; data.fulfillmentOrderId: is required; data.warehouse: is required; data.carrier.scac: is required; data.shippedAt: is required; data.lines: is required
}
