package memfake_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/internal/memfake"
)

func TestERPConformance(t *testing.T) {
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		m := memfake.NewERP()
		return connectortest.ERPHarness{
			ERP: m,
			// A new value over the same state, as a restart would give.
			Reopen:    func(*testing.T) connector.ERP { return struct{ connector.ERP }{m} },
			Order:     memfake.SampleOrder,
			Positions: memfake.SamplePositions,
			Effects:   m.Effects,
		}
	})
}

func TestWMSConformance(t *testing.T) {
	connectortest.RunWMS(t, func(t *testing.T) connectortest.WMSHarness {
		w := memfake.NewWMS()
		return connectortest.WMSHarness{
			WMS:              w,
			Reopen:           func(*testing.T) connector.WMS { return w.Reopen() },
			FulfillmentOrder: memfake.SampleFulfillmentOrder,
			Return:           memfake.SampleReturn,
			Advance:          w.Advance,
			Effects:          w.Effects,
			Capabilities:     connectortest.Capabilities{Subscribe: true},
		}
	})
}

func TestCRMConformance(t *testing.T) {
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		c := memfake.NewCRM()
		return connectortest.CRMHarness{
			CRM:          c,
			Reopen:       func(*testing.T) connector.CRM { return c.Reopen() },
			AddOrders:    c.AddOrders,
			Shown:        c.Shown,
			Effects:      c.Effects,
			Capabilities: connectortest.Capabilities{Health: true, StatusBatch: true},
		}
	})
}

func TestSubscribeWaitsForEvents(t *testing.T) {
	w := memfake.NewWMS()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan canonical.Event)
	errc := make(chan error, 1)
	go func() {
		errc <- w.Subscribe(ctx, "", func(_ context.Context, e canonical.Event, _ connector.Cursor) error {
			got <- e
			return nil
		})
	}()
	_, err := w.Release(ctx, memfake.SampleFulfillmentOrder(1))
	require.NoError(t, err)
	e := <-got
	assert.Equal(t, canonical.EventFulfillmentReleased, e.Type, "the event released after subscribing")
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
}
