package erp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/retry"
)

// kitOrder returns the conformance kit's order n: two lines of demo items
// for C-1 at list price, well inside the credit limit.
func kitOrder(n int) canonical.Order {
	o := newOrder(fmt.Sprintf("kit-ord-%d", n), "C-1",
		line{"SKU-100", fmt.Sprint(1 + n%5), "EA", "12.50"}, line{"SKU-104", "2", "XCS", "37.20"})
	for i := range o.Lines {
		o.Lines[i].ID = fmt.Sprintf("kit-%d-L%d", n, i+1)
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

// harness returns the kit's harness over m, wrapped by wrap; Reopen wraps a
// new handle over m's state the same way.
func harness(t *testing.T, m *erp.Memory, wrap func(*testing.T, connector.ERP) connector.ERP) connectortest.ERPHarness {
	return connectortest.ERPHarness{
		ERP: wrap(t, m), Order: kitOrder, Positions: kitPositions,
		Reopen: func(t *testing.T) connector.ERP { return wrap(t, m.Reopen()) },
		Effects: func() connectortest.ERPEffects {
			c := m.Counts()
			return connectortest.ERPEffects{Orders: c.Orders, Invoices: c.Invoices, CreditMemos: c.CreditMemos, InventoryApplications: c.InventoryApplications,
				Cancellations: c.Cancellations, Changes: c.Changes}
		},
		AddEvents:    addEvents(m),
		Capabilities: connectortest.Capabilities{Health: true, Events: true, Cancel: true, Change: true},
	}
}

// addEvents accepts n orders of their own and, in turn, requests the
// cancellation of one in the ERP or corrects its first line's price, which
// puts n cancellation requests and amendments on its feed.
func addEvents(m *erp.Memory) func(ctx context.Context, n int) error {
	return func(ctx context.Context, n int) error {
		for i := range n {
			o := kitOrder(1000 + i)
			if _, err := m.AcceptOrder(ctx, "kit-events-"+o.ID, &o); err != nil {
				return err
			}
			if i%2 == 1 {
				price := canonical.MustParseMoney("9.99", string(o.Currency))
				if _, err := m.AmendOrder(ctx, o.ID, []canonical.AmendedLine{{LineID: o.Lines[0].ID, UnitPrice: &price}}, "kit"); err != nil {
					return err
				}
				continue
			}
			if _, err := m.RequestCancellation(ctx, o.ID, nil, "kit"); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestConformance(t *testing.T) {
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		return harness(t, newERP(t, erp.Config{}), func(_ *testing.T, e connector.ERP) connector.ERP { return e })
	})
}

func TestConformanceWrapped(t *testing.T) {
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		return harness(t, newERP(t, erp.Config{}), func(t *testing.T, e connector.ERP) connector.ERP {
			w, err := connector.WrapERP(e, connector.Options{Backoff: retry.Backoff{InitialInterval: time.Microsecond, MaxInterval: time.Millisecond}})
			require.NoError(t, err)
			return w
		})
	})
}
