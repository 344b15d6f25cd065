package erp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/erp"
)

// t0 is the fixed time of the test clock.
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// newERP returns a demo-world ERP whose clock stands at t0.
func newERP(t testing.TB, cfg erp.Config) *erp.Memory {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = func() time.Time { return t0 }
	}
	m, err := erp.New(cfg)
	require.NoError(t, err, "erp.New")
	return m
}

// line is a short form of an order line: SKU, quantity, unit, price.
type line struct {
	sku, qty, unit, price string
}

// newOrder returns a valid USD order of the customer, shipped to its
// demo DC, with the lines L1, L2, ...
func newOrder(id, customer string, lines ...line) canonical.Order {
	o := canonical.Order{
		ID:       id,
		Version:  1,
		Refs:     canonical.Refs{{System: "crm", Type: "opportunity", Value: "OPP-" + id}},
		SoldTo:   canonical.PartyRef{ID: customer},
		ShipTo:   canonical.PartyRef{ID: customer + "-DC"},
		Currency: "USD",
	}
	for i, l := range lines {
		o.Lines = append(o.Lines, canonical.OrderLine{
			ID:        fmt.Sprintf("L%d", i+1),
			Item:      canonical.ItemRef{SKU: l.sku},
			Quantity:  canonical.MustParseQuantity(l.qty, l.unit),
			UnitPrice: canonical.MustParseMoney(l.price, "USD"),
		})
	}
	return o
}

// shipAll returns a shipment of the given quantities of the order's lines
// (all of every line when qtys is empty).
func shipment(o canonical.Order, id string, qtys ...string) canonical.Shipment {
	s := canonical.Shipment{ID: id, Version: 1, OrderID: o.ID, FulfillmentOrderID: "fo-" + o.ID, Warehouse: "WH-EAST",
		Carrier: canonical.Carrier{SCAC: "UPSN"}, ShippedAt: t0}
	for i, l := range o.Lines {
		q := l.Quantity
		if i < len(qtys) {
			if qtys[i] == "" {
				continue
			}
			q = canonical.MustParseQuantity(qtys[i], string(l.Quantity.Unit))
		}
		s.Lines = append(s.Lines, canonical.ShipmentLine{ID: fmt.Sprintf("%s-%d", id, i+1), OrderLineID: l.ID,
			FulfillmentLineID: "fl-" + l.ID, Item: l.Item, Quantity: q})
	}
	return s
}

// received returns a received return of qty of the order's line lineID.
func received(o canonical.Order, id, lineID, qty string, d canonical.Disposition) canonical.Return {
	l := o.Line(lineID)
	q := canonical.MustParseQuantity(qty, string(l.Quantity.Unit))
	return canonical.Return{ID: id, Version: 1, RMANumber: "RMA-" + id, OrderID: o.ID, Customer: o.SoldTo, Warehouse: "WH-EAST",
		AuthorizedAt: t0, ReceivedAt: t0.Add(time.Hour),
		Lines: []canonical.ReturnLine{{ID: id + "-1", OrderLineID: lineID, Item: l.Item, Authorized: q, Received: q,
			Condition: canonical.ConditionNew, Disposition: d}}}
}

func money(s string) canonical.Money { return canonical.MustParseMoney(s, "USD") }
