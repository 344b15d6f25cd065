package flow_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/flow"
)

func TestOrderToCashScenarios(t *testing.T) {
	tests := []struct {
		name    string
		account string
		lines   []string
		// between runs after the first settle, before the second.
		between    func(t *testing.T, w *world, id string)
		phase      string
		status     canonical.Status
		fos        int
		minShips   int
		warehouses []string
	}{
		{name: "one warehouse", account: "ACC-0002", lines: []string{"SKU-100:10", "SKU-104:20"},
			phase: "released", fos: 1, minShips: 1, warehouses: []string{"WH-EAST"},
			status: canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced}},
		{name: "split across two", account: "ACC-0002", lines: []string{"SKU-101:100"},
			phase: "released", fos: 2, minShips: 2, warehouses: []string{"WH-EAST", "WH-WEST"},
			status: canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced}},
		{name: "backorder filled later", account: "ACC-0001", lines: []string{"SKU-100:5", "SKU-105:7"},
			between: func(t *testing.T, w *world, id string) {
				v, err := w.flow.Where(context.Background(), id)
				require.NoError(t, err, "Where %s", id)
				assert.Equal(t, canonical.FulfillmentPartiallyShipped, v.Status.Fulfillment, "before the stock arrives")
				assert.Equal(t, canonical.BillingPartiallyInvoiced, v.Status.Billing, "before the stock arrives")
				w.adjust(t, "ADJ-T1", "SKU-105", v.FulfillmentOrders[0].Warehouse, "7")
			},
			phase: "released", fos: 1, minShips: 2,
			status: canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced}},
		{name: "credit hold released", account: "ACC-0003", lines: []string{"SKU-103:15"},
			between: func(t *testing.T, w *world, id string) {
				v, err := w.flow.Where(context.Background(), id)
				require.NoError(t, err, "Where %s", id)
				assert.Equal(t, "on_hold", v.Phase, "before the release")
				assert.Equal(t, canonical.CommercialOnHold, v.CRM.Status.Commercial, "CRM before the release")
				assert.NotEmpty(t, v.CRM.Holds, "CRM shows the hold")
				_, err = w.erp.ReleaseHold(context.Background(), id, canonical.HoldCredit)
				require.NoError(t, err, "ReleaseHold %s", id)
			},
			phase: "released", fos: 2, minShips: 2,
			status: canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced}},
		{name: "rejected unknown item", account: "ACC-0001", lines: []string{"SKU-999:1"},
			phase:  "rejected",
			status: canonical.Status{Commercial: canonical.CommercialRejected, Fulfillment: canonical.FulfillmentUnfulfilled, Billing: canonical.BillingNotInvoiced}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, nil)
				id := w.submit(t, tt.account, tt.lines...)
				w.settle(t)
				if tt.between != nil {
					tt.between(t, w, id)
					w.settle(t)
				}
				v := w.agree(t, id)
				assert.Equal(t, tt.phase, v.Phase, "phase of %v", tt.lines)
				assert.Equal(t, tt.status, v.Status, "status of %v", tt.lines)
				assert.Len(t, v.FulfillmentOrders, tt.fos, "fulfilment orders of %v", tt.lines)
				assert.GreaterOrEqual(t, len(v.Shipments), tt.minShips, "shipments of %v", tt.lines)
				for i, wh := range tt.warehouses {
					assert.Equal(t, wh, v.FulfillmentOrders[i].Warehouse, "warehouse %d of %v", i, tt.lines)
				}
				assert.NotEmpty(t, v.Timeline, "timeline of %v", tt.lines)
				assert.Empty(t, v.DeadLetters, "dead letters of %v", tt.lines)
				if tt.phase == "rejected" {
					assert.NotEmpty(t, v.CRM.Messages, "CRM shows the reasons of the rejection of %v", tt.lines)
				}
				assert.Equal(t, 0, w.metrics.get(flow.CounterDeadLettered), "dead-lettered for %v", tt.lines)
			})
		})
	}
}
