package memfake_test

import (
	"testing"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/internal/memfake"
)

func TestERPConformance(t *testing.T) {
	connectortest.TestERP(t, func(t *testing.T) connectortest.ERPHarness {
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
	connectortest.TestWMS(t, func(t *testing.T) connectortest.WMSHarness {
		w := memfake.NewWMS()
		return connectortest.WMSHarness{
			WMS:              w,
			Reopen:           func(*testing.T) connector.WMS { return w.Reopen() },
			FulfillmentOrder: memfake.SampleFulfillmentOrder,
			Return:           memfake.SampleReturn,
			Advance:          w.Advance,
			Effects:          w.Effects,
		}
	})
}

func TestCRMConformance(t *testing.T) {
	connectortest.TestCRM(t, func(t *testing.T) connectortest.CRMHarness {
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
