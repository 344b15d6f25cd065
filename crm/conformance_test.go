package crm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/retry"
)

// addOrders opens and converts n opportunities, for accounts in turn.
func addOrders(m *crm.Memory) func(ctx context.Context, n int) error {
	return func(ctx context.Context, n int) error {
		for i := range n {
			o := opp(fmt.Sprintf("ACC-%04d", 1+i%3), crm.OpportunityLine{
				SKU: fmt.Sprintf("SKU-%d", 100+i%6), Quantity: canonical.MustParseQuantity(fmt.Sprint(1+i), "EA"),
				UnitPrice: canonical.MustParseMoney("9.80", "USD"),
			})
			got, err := m.OpenOpportunity(ctx, o)
			if err != nil {
				return err
			}
			if _, err := m.ConvertOpportunity(ctx, got.ID); err != nil {
				return err
			}
		}
		return nil
	}
}

func crmHarness(t *testing.T, m *crm.Memory, wrap func(*testing.T, *crm.Memory) connector.CRM) connectortest.CRMHarness {
	return connectortest.CRMHarness{
		CRM:       wrap(t, m),
		Reopen:    func(t *testing.T) connector.CRM { return wrap(t, m.Reopen()) },
		AddOrders: addOrders(m),
		Shown:     m.ShownStatus,
		Location:  "WH-EAST",
		RequestCancellation: func(ctx context.Context, orderID string) error {
			_, err := m.RequestCancellation(ctx, orderID, nil, "kit")
			return err
		},
		Effects: func() connectortest.CRMEffects {
			c := m.Counts()
			return connectortest.CRMEffects{StatusUpdates: c.StatusUpdates, AvailabilityUpdates: c.AvailabilityUpdates}
		},
		Capabilities: connectortest.Capabilities{Health: true, StatusBatch: true, Subscribe: true},
	}
}

func TestConformance(t *testing.T) {
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		return crmHarness(t, newCRM(t), func(_ *testing.T, m *crm.Memory) connector.CRM { return m })
	})
}

func TestConformanceWrapped(t *testing.T) {
	opts := connector.Options{Backoff: retry.Backoff{InitialInterval: time.Microsecond, MaxInterval: time.Millisecond}}
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		return crmHarness(t, newCRM(t), func(t *testing.T, m *crm.Memory) connector.CRM {
			w, err := connector.WrapCRM(m, opts)
			require.NoError(t, err)
			return w
		})
	})
}
