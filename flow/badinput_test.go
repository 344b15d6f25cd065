package flow_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// TestBadInput appends malformed events next to a good order: each is
// dead-lettered with a reason naming the problem, and the good order
// completes.
func TestBadInput(t *testing.T) {
	shipment := canonical.Shipment{ID: "S-1", OrderID: "ORD-999", FulfillmentOrderID: "ORD-999-WH-EAST", Warehouse: "WH-EAST", Carrier: canonical.Carrier{SCAC: "UPSN"},
		ShippedAt: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), Lines: []canonical.ShipmentLine{{ID: "S-1-1", OrderLineID: "L1",
			FulfillmentLineID: "ORD-999-WH-EAST:L1", Item: canonical.ItemRef{SKU: "SKU-100"}, Quantity: canonical.MustParseQuantity("1", "EA")}}}
	good, err := canonical.NewEvent(canonical.EventFulfillmentShipped, shipment)
	require.NoError(t, err, "NewEvent shipment")
	tests := []struct {
		name  string
		event canonical.Event
		want  error
	}{
		{name: "bad JSON data", event: canonical.Event{Type: canonical.EventFulfillmentShipped, Data: json.RawMessage(`{"id": 5}`)},
			want: flow.ErrBadEvent},
		{name: "unknown type", event: canonical.Event{Type: "com.example.unknown.v1", Data: json.RawMessage(`{}`)},
			want: flow.ErrUnhandledEvent},
		{name: "invalid document", event: canonical.Event{Type: canonical.EventFulfillmentAllocated,
			Data: json.RawMessage(`{"fulfillmentOrderId":"X","orderId":"ORD-1","warehouse":"WH-EAST","asOf":"2026-01-05T09:00:00Z","lines":[]}`)},
			want: flow.ErrBadEvent},
		{name: "unknown order", event: good, want: flow.ErrUnknownOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, nil)
				ctx := context.Background()
				ev := tt.event
				ev.ID, ev.Source, ev.SpecVersion, ev.Subject, ev.PartitionKey = "bad-1", w.wms.Source(), canonical.EventSpecVersion, "ORD-999", "ORD-999"
				ev.CorrelationID = "corr-bad"
				require.NoError(t, w.log.Append(ctx, ev), "Append %s", tt.name)
				id := w.submit(t, "ACC-0002", "SKU-100:3")
				w.settle(t)
				v := w.agree(t, id)
				assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "good order next to %s", tt.name)
				dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-bad"})
				require.NoError(t, err, "DeadLetters")
				require.Len(t, dls, 1, "dead letters for %s", tt.name)
				assert.Equal(t, eventlog.ReasonPermanent, dls[0].Reason, "reason for %s", tt.name)
				assert.Contains(t, dls[0].Error, tt.want.Error(), "error of %s", tt.name)
				assert.Contains(t, dls[0].Error, w.wms.Source()+"/bad-1", "error of %s names the event", tt.name)
				assert.Equal(t, 1, w.metrics.get(flow.CounterDeadLettered), "dead-lettered count for %s", tt.name)
			})
		})
	}
}

// brokenERP fails PostShipment with a permanent error while broken is set.
type brokenERP struct {
	connector.ERP
	broken atomic.Bool
}

func (b *brokenERP) PostShipment(ctx context.Context, key string, s canonical.Shipment) (canonical.Invoice, error) {
	if b.broken.Load() {
		return canonical.Invoice{}, connector.NewError(connector.CodeInternal, "erp", "PostShipment", errors.New("posting period closed"))
	}
	return b.ERP.PostShipment(ctx, key, s)
}

// TestReplayAfterFix dead-letters a shipment the ERP cannot post, then
// replays it once the ERP is fixed: the order completes with one invoice.
func TestReplayAfterFix(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &brokenERP{}
		b.broken.Store(true)
		w := newWorld(t, nil, func(e connector.ERP) connector.ERP { b.ERP = e; return b })
		ctx := context.Background()
		id := w.submit(t, "ACC-0001", "SKU-100:4")
		w.settle(t)
		v, err := w.flow.Where(ctx, id)
		require.NoError(t, err, "Where %s", id)
		require.Len(t, v.DeadLetters, 1, "dead letters of %s while the ERP is broken", id)
		assert.Contains(t, v.DeadLetters[0].Error, "posting period closed", "reason of the dead letter")
		assert.Equal(t, canonical.BillingNotInvoiced, v.Status.Billing, "billing while the ERP is broken")

		b.broken.Store(false)
		n, err := w.flow.Replay(ctx, eventlog.Filter{CorrelationID: v.CorrelationID}, "test", "ERP fixed")
		require.NoError(t, err, "Replay")
		require.Equal(t, 1, n, "replayed")
		w.settle(t)
		v = w.agree(t, id)
		assert.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "billing after the replay")
		assert.Equal(t, 1, w.erp.InvoiceCount(id), "one invoice after the replay")
		dl, err := w.log.Get(ctx, v.DeadLetters[0].ID)
		require.NoError(t, err, "Get dead letter")
		assert.Equal(t, eventlog.StateResolved, dl.State, "dead letter resolved by the replay")
	})
}
