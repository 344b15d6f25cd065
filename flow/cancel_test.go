package flow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

// cancelLines parses "LINE:QTY" into the lines of a cancel request in EA.
func cancelLines(specs ...string) []canonical.CancelLine {
	var out []canonical.CancelLine
	for _, s := range specs {
		id, q, _ := strings.Cut(s, ":")
		out = append(out, canonical.CancelLine{LineID: id, Quantity: canonical.MustParseQuantity(q, "EA")})
	}
	return out
}

// bucket returns a bucket of a line of the flow's view as a string.
func bucket(t *testing.T, v flow.OrderView, line string, b canonical.Bucket) string {
	t.Helper()
	l := v.Order.Line(line)
	require.NotNil(t, l, "order %s has line %s", v.Order.ID, line)
	return l.Buckets.Get(b).String()
}

func TestCancelScenarios(t *testing.T) {
	type want struct {
		status canonical.Status
		// shipped and cancelled per line, "L1:5".
		shipped, cancelled []string
		releases           int // WMS releases
		wmsCancels         int // WMS CancelRelease calls that cancelled something
		erpCancels         int // ERP CancelOrderLines calls that cancelled something
		message            string
	}
	shippedInvoiced := canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped, Billing: canonical.BillingInvoiced}
	tests := []struct {
		name  string
		lines []string
		// act runs after the order was submitted; settle says whether
		// the world settles before it.
		settle bool
		act    func(t *testing.T, w *world, id string)
		want   want
	}{
		{name: "before release, whole order from CRM", lines: []string{"SKU-100:10", "SKU-104:4"},
			act: func(t *testing.T, w *world, id string) {
				_, err := w.crm.RequestCancellation(context.Background(), id, nil, "customer changed plans")
				require.NoError(t, err, "RequestCancellation %s", id)
			},
			want: want{status: canonical.Status{Commercial: canonical.CommercialCancelled, Fulfillment: canonical.FulfillmentUnfulfilled, Billing: canonical.BillingNotInvoiced},
				shipped: []string{"L1:0", "L2:0"}, cancelled: []string{"L1:10", "L2:4"}, releases: 0, wmsCancels: 0, erpCancels: 1,
				message: "cancelled L1 10 EA, L2 4 EA"}},
		{name: "before release, part of a line from CRM", lines: []string{"SKU-100:10"},
			act: func(t *testing.T, w *world, id string) {
				_, err := w.crm.RequestCancellation(context.Background(), id, cancelLines("L1:4"), "")
				require.NoError(t, err, "RequestCancellation %s", id)
			},
			want: want{status: shippedInvoiced, shipped: []string{"L1:6"}, cancelled: []string{"L1:4"}, releases: 1, wmsCancels: 0, erpCancels: 1,
				message: "cancelled L1 4 EA"}},
		{name: "after partial shipment, remainder from CRM", lines: []string{"SKU-100:5", "SKU-105:7"}, settle: true,
			act: func(t *testing.T, w *world, id string) {
				_, err := w.crm.RequestCancellation(context.Background(), id, nil, "")
				require.NoError(t, err, "RequestCancellation %s", id)
			},
			want: want{status: shippedInvoiced, shipped: []string{"L1:5", "L2:0"}, cancelled: []string{"L1:0", "L2:7"}, releases: 1, wmsCancels: 1, erpCancels: 1,
				message: "cancelled L2 7 EA"}},
		{name: "after partial shipment, remainder from ERP", lines: []string{"SKU-100:5", "SKU-105:7"}, settle: true,
			act: func(t *testing.T, w *world, id string) {
				_, err := w.erp.RequestCancellation(context.Background(), id, nil, "credit risk")
				require.NoError(t, err, "erp RequestCancellation %s", id)
			},
			want: want{status: shippedInvoiced, shipped: []string{"L1:5", "L2:0"}, cancelled: []string{"L1:0", "L2:7"}, releases: 1, wmsCancels: 1, erpCancels: 1,
				message: "cancel request ECR-000001 from erp: cancelled L2 7 EA"}},
		{name: "part of a backorder from ERP", lines: []string{"SKU-100:5", "SKU-105:7"}, settle: true,
			act: func(t *testing.T, w *world, id string) {
				_, err := w.erp.RequestCancellation(context.Background(), id, cancelLines("L2:3"), "")
				require.NoError(t, err, "erp RequestCancellation %s", id)
				w.settle(t)
				w.adjust(t, "ADJ-C1", "SKU-105", "WH-EAST", "4") // the rest arrives and ships
			},
			want: want{status: shippedInvoiced, shipped: []string{"L1:5", "L2:4"}, cancelled: []string{"L1:0", "L2:3"}, releases: 1, wmsCancels: 1, erpCancels: 1,
				message: "cancelled L2 3 EA"}},
		{name: "on credit hold, whole order from CRM", lines: []string{"SKU-103:600"}, settle: true,
			act: func(t *testing.T, w *world, id string) {
				v, err := w.flow.Where(context.Background(), id)
				require.NoError(t, err, "Where %s", id)
				require.Equal(t, "on_hold", v.Phase, "phase before the request")
				_, err = w.crm.RequestCancellation(context.Background(), id, nil, "")
				require.NoError(t, err, "RequestCancellation %s", id)
			},
			want: want{status: canonical.Status{Commercial: canonical.CommercialCancelled, Fulfillment: canonical.FulfillmentUnfulfilled, Billing: canonical.BillingNotInvoiced},
				shipped: []string{"L1:0"}, cancelled: []string{"L1:600"}, releases: 0, wmsCancels: 0, erpCancels: 1,
				message: "cancelled L1 600 EA"}},
		{name: "released to two warehouses, not shipped: part of a line from CRM", lines: []string{"SKU-101:100"},
			act: func(t *testing.T, w *world, id string) {
				require.NoError(t, w.flow.Drain(context.Background()), "Drain: accept and release")
				v, err := w.flow.Where(context.Background(), id)
				require.NoError(t, err, "Where %s", id)
				require.Len(t, v.FulfillmentOrders, 2, "split before the request")
				_, err = w.crm.RequestCancellation(context.Background(), id, cancelLines("L1:90"), "")
				require.NoError(t, err, "RequestCancellation %s", id)
			},
			want: want{status: shippedInvoiced, shipped: []string{"L1:10"}, cancelled: []string{"L1:90"}, releases: 2, wmsCancels: 2, erpCancels: 1,
				message: "cancelled L1 90 EA"}},
		{name: "fully shipped order cancels nothing", lines: []string{"SKU-100:5"}, settle: true,
			act: func(t *testing.T, w *world, id string) {
				_, err := w.crm.RequestCancellation(context.Background(), id, nil, "")
				require.NoError(t, err, "RequestCancellation %s", id)
			},
			want: want{status: shippedInvoiced, shipped: []string{"L1:5"}, cancelled: []string{"L1:0"}, releases: 1, wmsCancels: 0, erpCancels: 0,
				message: "nothing left to cancel"}},
		{name: "race: the warehouse ships part before the cancel", lines: []string{"SKU-100:5", "SKU-105:7"}, settle: true,
			act: func(t *testing.T, w *world, id string) {
				_, err := w.crm.RequestCancellation(context.Background(), id, nil, "")
				require.NoError(t, err, "RequestCancellation %s", id)
				// Before the flow sees the request, 3 arrive and ship.
				w.adjust(t, "ADJ-R1", "SKU-105", "WH-EAST", "3")
				_, err = w.wms.Settle(context.Background(), 20)
				require.NoError(t, err, "wms.Settle")
			},
			want: want{status: shippedInvoiced, shipped: []string{"L1:5", "L2:3"}, cancelled: []string{"L1:0", "L2:4"}, releases: 1, wmsCancels: 1, erpCancels: 1,
				message: "cancelled L2 4 EA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, nil)
				id := w.submit(t, "ACC-0001", tt.lines...)
				if tt.settle {
					w.settle(t)
				}
				tt.act(t, w, id)
				w.settle(t)
				v := w.agree(t, id)
				assert.Equal(t, tt.want.status, v.Status, "status of %v", tt.lines)
				for _, s := range tt.want.shipped {
					line, q, _ := strings.Cut(s, ":")
					assert.Equal(t, q, bucket(t, v, line, canonical.BucketShipped), "shipped of %s", line)
				}
				for _, s := range tt.want.cancelled {
					line, q, _ := strings.Cut(s, ":")
					assert.Equal(t, q, bucket(t, v, line, canonical.BucketCancelled), "cancelled of %s", line)
				}
				assert.Equal(t, tt.want.releases, w.wms.Counts().Releases, "WMS releases")
				assert.Equal(t, tt.want.wmsCancels, w.wms.Counts().Cancellations, "WMS cancellations")
				assert.Equal(t, tt.want.erpCancels, w.erp.Counts().Cancellations, "ERP cancellations")
				assert.True(t, slices.ContainsFunc(v.CRM.Messages, func(m string) bool { return strings.Contains(m, tt.want.message) }),
					"CRM messages %q say %q", v.CRM.Messages, tt.want.message)
				assert.Empty(t, v.DeadLetters, "dead letters")
				assert.Equal(t, 0, w.metrics.get(flow.CounterDeadLettered), "dead-lettered")
			})
		})
	}
}

// TestCancelDuplicate delivers the same cancel request twice, then a new
// request for the same remainder: neither changes anything, the first is
// counted as a duplicate and the second says it found nothing to cancel.
func TestCancelDuplicate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		id := w.submit(t, "ACC-0001", "SKU-100:5", "SKU-105:7")
		w.settle(t)
		_, err := w.crm.RequestCancellation(ctx, id, nil, "")
		require.NoError(t, err, "RequestCancellation")
		w.settle(t)
		before := w.agree(t, id)
		page, err := w.crm.PollOrders(ctx, "", 100)
		require.NoError(t, err, "PollOrders")
		i := slices.IndexFunc(page.Events, func(e canonical.Event) bool { return e.Type == canonical.EventOrderCancelRequested })
		require.GreaterOrEqual(t, i, 0, "the CRM's feed holds the request")
		dupsBefore := w.metrics.get(flow.CounterDuplicate)
		again := page.Events[i]
		again.PartitionKey = again.Subject
		again.CorrelationID = before.CorrelationID
		require.NoError(t, w.log.Append(ctx, again), "append the request again")
		w.settle(t)
		v := w.agree(t, id)
		assert.Equal(t, dupsBefore+1, w.metrics.get(flow.CounterDuplicate), "the request delivered twice is a duplicate")
		assert.Equal(t, "7", bucket(t, v, "L2", canonical.BucketCancelled), "cancelled after the duplicate")
		assert.Equal(t, 1, w.wms.Counts().Cancellations, "WMS cancellations after the duplicate")
		assert.Equal(t, 1, w.erp.Counts().Cancellations, "ERP cancellations after the duplicate")

		_, err = w.crm.RequestCancellation(ctx, id, nil, "asked twice")
		require.NoError(t, err, "second RequestCancellation")
		w.settle(t)
		v = w.agree(t, id)
		assert.Equal(t, "7", bucket(t, v, "L2", canonical.BucketCancelled), "cancelled after a second request")
		assert.Equal(t, 1, w.erp.Counts().Cancellations, "ERP cancellations after a second request")
		assert.Contains(t, v.CRM.Messages[len(v.CRM.Messages)-1], "CCR-000002 from crm: nothing left to cancel", "CRM says the second request cancelled nothing")
		assert.Equal(t, before.Status, v.Status, "status after the second request")
	})
}

// TestCancelBadInput appends cancel requests that cannot be honoured: each
// is dead-lettered with a reason naming the problem, and a good order next
// to them completes.
func TestCancelBadInput(t *testing.T) {
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		req     canonical.CancelRequest
		subject string
		want    []string
	}{
		{name: "unknown order", req: canonical.CancelRequest{ID: "X-1", OrderID: "ORD-999", RequestedBy: "crm", RequestedAt: at},
			subject: "ORD-999", want: []string{flow.ErrUnknownOrder.Error(), `"ORD-999"`}},
		{name: "unknown line", req: canonical.CancelRequest{ID: "X-2", OrderID: "ORD-000001", RequestedBy: "crm", RequestedAt: at, Lines: cancelLines("L9:1")},
			subject: "ORD-000001", want: []string{flow.ErrBadEvent.Error(), `lines[0].lineId: order ORD-000001 has no line "L9"`}},
		{name: "wrong unit", req: canonical.CancelRequest{ID: "X-3", OrderID: "ORD-000001", RequestedBy: "crm", RequestedAt: at,
			Lines: []canonical.CancelLine{{LineID: "L1", Quantity: canonical.MustParseQuantity("1", "XCS")}}},
			subject: "ORD-000001", want: []string{flow.ErrBadEvent.Error(), "lines[0].quantity.unit: must be the line's unit EA, is XCS"}},
		{name: "partition is another order", req: canonical.CancelRequest{ID: "X-4", OrderID: "ORD-000001", RequestedBy: "crm", RequestedAt: at},
			subject: "ORD-000002", want: []string{flow.ErrBadEvent.Error(), `its partition is "ORD-000002"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, nil)
				ctx := context.Background()
				id := w.submit(t, "ACC-0002", "SKU-100:3")
				w.settle(t)
				ev, err := canonical.NewEvent(canonical.EventOrderCancelRequested, tt.req)
				require.NoError(t, err, "NewEvent %s", tt.name)
				ev.ID, ev.Source, ev.Subject, ev.PartitionKey, ev.CorrelationID = "bad-1", crm.Source, tt.subject, tt.subject, "corr-bad"
				require.NoError(t, w.log.Append(ctx, ev), "Append %s", tt.name)
				w.settle(t)
				v := w.agree(t, id)
				assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "good order next to %s", tt.name)
				dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-bad"})
				require.NoError(t, err, "DeadLetters")
				require.Len(t, dls, 1, "dead letters for %s", tt.name)
				assert.Equal(t, eventlog.ReasonPermanent, dls[0].Reason, "reason for %s", tt.name)
				for _, s := range tt.want {
					assert.Contains(t, dls[0].Error, s, "error of %s", tt.name)
				}
				assert.Contains(t, dls[0].Error, crm.Source+"/bad-1", "error of %s names the event", tt.name)
			})
		})
	}

	// Malformed data on the CRM's feed shape: dead-lettered, never a panic.
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		ev := canonical.Event{Type: canonical.EventOrderCancelRequested, Data: json.RawMessage(`{"id":"X","lines":[{"lineId":"L1","quantity":{"value":"x","unit":"EA"}}]}`),
			ID: "bad-2", Source: crm.Source, SpecVersion: canonical.EventSpecVersion, Subject: "ORD-000001", PartitionKey: "ORD-000001",
			CorrelationID: "corr-bad", DataContentType: "application/json"}
		require.NoError(t, w.log.Append(ctx, ev), "Append malformed")
		w.settle(t)
		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{CorrelationID: "corr-bad"})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 1, "dead letters for malformed data")
		assert.Contains(t, dls[0].Error, flow.ErrBadEvent.Error(), "error of malformed data")
		assert.Contains(t, dls[0].Error, `invalid decimal "x"`, "error of malformed data names the problem")
	})
}

// flakyCancelERP fails the first CancelOrderLines call with
// CodeUnavailable before it reaches the ERP under it.
type flakyCancelERP struct {
	connector.ERP
	mu     sync.Mutex
	failed bool
}

// Unwrap lets connector.As find the optional roles under it.
func (e *flakyCancelERP) Unwrap() any { return e.ERP }

func (e *flakyCancelERP) CancelOrderLines(ctx context.Context, key string, c connector.OrderCancellation) (canonical.Order, error) {
	e.mu.Lock()
	first := !e.failed
	e.failed = true
	e.mu.Unlock()
	if first {
		return canonical.Order{}, connector.NewError(connector.CodeUnavailable, "erp", "CancelOrderLines", nil)
	}
	oc, ok := connector.As[connector.OrderCanceller](e.ERP)
	if !ok {
		return canonical.Order{}, errors.New("the ERP cannot cancel order lines")
	}
	return oc.CancelOrderLines(ctx, key, c)
}

// TestCancelERPThroughDecorators checks that the ERP's optional
// OrderCanceller is called through the connector decorators: a transient
// failure is retried by the decorator within the handling of the request,
// and both attempts are on the order's timeline.
func TestCancelERPThroughDecorators(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil, func(e connector.ERP) connector.ERP { return &flakyCancelERP{ERP: e} })
		id := w.submit(t, "ACC-0001", "SKU-100:5", "SKU-105:7")
		w.settle(t)
		_, err := w.crm.RequestCancellation(context.Background(), id, nil, "")
		require.NoError(t, err, "RequestCancellation")
		w.settle(t)
		v := w.agree(t, id)
		assert.Equal(t, 1, w.erp.Counts().Cancellations, "ERP cancellations")
		assert.Empty(t, v.DeadLetters, "dead letters")
		var got []string
		for _, s := range v.Timeline {
			if s.Operation == "CancelOrderLines" {
				assert.Equal(t, v.CorrelationID, s.CorrelationID, "the step carries the order's correlation ID")
				got = append(got, fmt.Sprintf("%s %s %d %s %s", s.System, s.Operation, s.Attempt, s.Outcome, s.ErrorClass))
			}
		}
		assert.Equal(t, []string{"erp CancelOrderLines 1 retry unavailable", "erp CancelOrderLines 2 ok "}, got,
			"the decorator retried the call and recorded each attempt")
	})
}
