package flow_test

import (
	"context"
	"path/filepath"
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
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/tracing"
)

// heldWithRejectedLine submits an order of account ACC-0003 (credit hold)
// with a good line that ships (L1), an unknown item the ERP rejects (L2)
// and a line that is backordered (L3), settles it on hold and checks that
// the hold keeps the rejection.
func heldWithRejectedLine(t *testing.T, w *world, settle func()) string {
	t.Helper()
	id := w.submit(t, "ACC-0003", "SKU-103:15", "SKU-999:1", "SKU-105:7")
	settle()
	v, err := w.flow.Where(context.Background(), id)
	require.NoError(t, err, "Where %s", id)
	require.Equal(t, "on_hold", v.Phase, "phase before the release")
	shown, ok := w.crm.ShownStatus(id)
	require.True(t, ok, "CRM shows %s", id)
	require.Equal(t, canonical.CommercialOnHold, shown.Status.Commercial, "CRM before the release")
	_, err = w.erp.ReleaseHold(context.Background(), id, canonical.HoldCredit)
	require.NoError(t, err, "ReleaseHold %s", id)
	return id
}

// checkReleasedWithRejectedLine checks the order of heldWithRejectedLine
// once released and settled: L1 shipped and invoiced, L2 rejected and never
// released, L3 open (backordered), the CRM agreeing, no dead letter.
func checkReleasedWithRejectedLine(t *testing.T, w *world, id string) flow.OrderView {
	t.Helper()
	v := w.agree(t, id)
	assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
	assert.Equal(t, "released", v.Phase, "phase after the release")
	assert.Equal(t, canonical.CommercialAccepted, v.Status.Commercial, "commercial status after the release")
	assert.Equal(t, canonical.CommercialAccepted, v.CRM.Status.Commercial, "CRM commercial status after the release")
	assert.Equal(t, "15", bucket(t, v, "L1", canonical.BucketShipped), "L1 shipped")
	assert.Equal(t, "15", bucket(t, v, "L1", canonical.BucketInvoiced), "L1 invoiced")
	assert.Equal(t, "1", bucket(t, v, "L2", canonical.BucketRejected), "L2 stays rejected")
	assert.Equal(t, "0", bucket(t, v, "L2", canonical.BucketConfirmed), "L2 not confirmed")
	assert.Equal(t, "0", bucket(t, v, "L3", canonical.BucketShipped), "L3 waits for stock")
	for _, fo := range v.FulfillmentOrders {
		for _, l := range fo.Lines {
			assert.NotEqual(t, "L2", l.OrderLineID, "rejected L2 released in %s", fo.ID)
		}
	}
	assert.Equal(t, canonical.BillingPartiallyInvoiced, v.Status.Billing, "billing while L3 waits")
	return v
}

// cancelRest asks the CRM to cancel what is left of the order and checks
// that it cancels the open line L3 only.
func cancelRest(t *testing.T, w *world, id string, settle func()) {
	t.Helper()
	_, err := w.crm.RequestCancellation(context.Background(), id, nil, "no longer needed")
	require.NoError(t, err, "RequestCancellation %s", id)
	settle()
	v := w.agree(t, id)
	assert.Empty(t, v.DeadLetters, "dead letters of %s after the cancel request", id)
	assert.Equal(t, "7", bucket(t, v, "L3", canonical.BucketCancelled), "L3 cancelled")
	assert.Equal(t, "0", bucket(t, v, "L1", canonical.BucketCancelled), "L1 shipped, nothing to cancel")
	assert.Equal(t, "0", bucket(t, v, "L2", canonical.BucketCancelled), "L2 rejected, nothing to cancel")
	assert.Equal(t, "1", bucket(t, v, "L2", canonical.BucketRejected), "L2 still rejected")
	assert.Equal(t, canonical.Status{Commercial: canonical.CommercialAccepted, Fulfillment: canonical.FulfillmentShipped,
		Billing: canonical.BillingInvoiced}, v.Status, "status after the cancel request")
	assert.Equal(t, 1, w.erp.Counts().Cancellations, "ERP cancellations")
	assert.True(t, slices.ContainsFunc(v.CRM.Messages, func(m string) bool { return strings.Contains(m, "cancelled L3 7 EA") }),
		"CRM messages %q say what was cancelled", v.CRM.Messages)
}

// bucketlessERP is an ERP whose view of an order (GetOrder) carries no
// line buckets, as a vendor API that returns the lines without their
// rejected quantities: the flow must remember which lines it rejected.
type bucketlessERP struct{ connector.ERP }

func (e bucketlessERP) GetOrder(ctx context.Context, id string) (canonical.Order, error) {
	o, err := e.ERP.GetOrder(ctx, id)
	o.Lines = slices.Clone(o.Lines)
	for i := range o.Lines {
		o.Lines[i].Buckets = canonical.Buckets{}
	}
	return o, err
}

func (e bucketlessERP) Unwrap() any { return e.ERP }

func bucketless(e connector.ERP) connector.ERP { return bucketlessERP{e} }

// TestHoldKeepsRejectedLines releases a credit hold on an order with a
// line the ERP rejected: the rejected line stays rejected and is never
// released to a warehouse, the others ship and are invoiced, the CRM shows
// the order accepted, and a cancel request cancels the open line; with
// the ERP's view of the order showing the rejected line, and without.
func TestHoldKeepsRejectedLines(t *testing.T) {
	for _, tt := range []struct {
		name string
		wrap []func(connector.ERP) connector.ERP
	}{{name: "ERP view with buckets"}, {name: "ERP view without buckets", wrap: []func(connector.ERP) connector.ERP{bucketless}}} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, nil, tt.wrap...)
				settle := func() { w.settle(t) }
				id := heldWithRejectedLine(t, w, settle)
				settle()
				checkReleasedWithRejectedLine(t, w, id)
				cancelRest(t, w, id, settle)
			})
		})
	}
}

// TestHoldKeepsRejectedLinesRestart is TestHoldKeepsRejectedLines with
// the flow's log, cursors and order states in one SQLite file, and a new
// flow built from it at each step, and an ERP whose view of the order does
// not show the rejected line: the held order's line decisions survive in
// the stored state.
func TestHoldKeepsRejectedLinesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	synctest.Test(t, func(t *testing.T) {
		w := newSystems(t)
		ctx := context.Background()
		restart := func() {
			db := openSQLite(t, path)
			t.Cleanup(func() { _ = db.Close() })
			el, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
			require.NoError(t, err, "eventlog.NewSQL")
			require.NoError(t, el.Migrate(ctx), "eventlog Migrate")
			st, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.SQLite})
			require.NoError(t, err, "NewSQLState")
			require.NoError(t, st.Migrate(ctx), "SQLState Migrate")
			w.log = el
			w.connect(t, nil, flow.Config{Log: el, State: st, Cursors: st}, bucketless)
		}
		settle := func() {
			restart()
			w.settle(t)
		}
		id := heldWithRejectedLine(t, w, settle)
		settle()
		checkReleasedWithRejectedLine(t, w, id)
		cancelRest(t, w, id, settle)
	})
}

// TestHoldCancelWithRejectedLine asks the CRM to cancel an order while it
// is on credit hold with a line the ERP rejected: the open lines are
// cancelled, in the flow and in the ERP, and the rejected line, which has
// nothing open, stays rejected; nothing is dead-lettered.
func TestHoldCancelWithRejectedLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, nil)
		ctx := context.Background()
		id := w.submit(t, "ACC-0003", "SKU-103:15", "SKU-999:1", "SKU-105:7")
		w.settle(t)
		v, err := w.flow.Where(ctx, id)
		require.NoError(t, err, "Where %s", id)
		require.Equal(t, "on_hold", v.Phase, "phase before the request")
		assert.Equal(t, "1", bucket(t, v, "L2", canonical.BucketRejected), "L2 rejected while on hold")
		_, err = w.crm.RequestCancellation(ctx, id, nil, "")
		require.NoError(t, err, "RequestCancellation %s", id)
		w.settle(t)
		v = w.agree(t, id)
		assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
		assert.Equal(t, "15", bucket(t, v, "L1", canonical.BucketCancelled), "L1 cancelled")
		assert.Equal(t, "0", bucket(t, v, "L2", canonical.BucketCancelled), "L2 not cancelled")
		assert.Equal(t, "1", bucket(t, v, "L2", canonical.BucketRejected), "L2 still rejected")
		assert.Equal(t, "7", bucket(t, v, "L3", canonical.BucketCancelled), "L3 cancelled")
		assert.Equal(t, canonical.CommercialCancelled, v.Status.Commercial, "commercial status")
		assert.Equal(t, 1, w.erp.Counts().Cancellations, "ERP cancellations")
		assert.Zero(t, w.wms.Counts().Releases, "WMS releases")
	})
}

// rejectingHoldERP is an ERP that, when it puts an order on hold, rejects
// every line of it in its answer (ValidateOrder, AcceptOrder); with view,
// its view of an order (GetOrder) shows every line rejected too.
type rejectingHoldERP struct {
	connector.ERP
	view bool
}

func (e rejectingHoldERP) rejectAll(ack canonical.OrderAck) canonical.OrderAck {
	if ack.Outcome == canonical.AckOnHold && !e.view {
		ack.Lines = slices.Clone(ack.Lines)
		for i := range ack.Lines {
			ack.Lines[i].Result = canonical.LineRejected
		}
	}
	return ack
}

func (e rejectingHoldERP) ValidateOrder(ctx context.Context, o *canonical.Order) (canonical.OrderAck, error) {
	ack, err := e.ERP.ValidateOrder(ctx, o)
	return e.rejectAll(ack), err
}

func (e rejectingHoldERP) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	ack, err := e.ERP.AcceptOrder(ctx, key, o)
	return e.rejectAll(ack), err
}

func (e rejectingHoldERP) GetOrder(ctx context.Context, id string) (canonical.Order, error) {
	o, err := e.ERP.GetOrder(ctx, id)
	if e.view {
		o.Lines = slices.Clone(o.Lines)
		for i := range o.Lines {
			o.Lines[i].Buckets.Set(canonical.BucketRejected, o.Lines[i].Quantity.Value)
		}
	}
	return o, err
}

func (e rejectingHoldERP) Unwrap() any { return e.ERP }

// TestHoldRejectingEveryLine: an order whose every line the ERP rejects is
// rejected, whether the ERP says so when it puts the order on hold (then
// the flow does not wait for the hold) or in its view of the order when
// the hold is released. Nothing is released to a warehouse, the flow and
// the CRM show the order rejected, and nothing is dead-lettered.
func TestHoldRejectingEveryLine(t *testing.T) {
	for _, tt := range []struct {
		name string
		view bool
		// held is the phase before the ERP releases the hold.
		held string
	}{{name: "on hold", held: "rejected"}, {name: "on release", view: true, held: "on_hold"}} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, nil, func(e connector.ERP) connector.ERP { return rejectingHoldERP{ERP: e, view: tt.view} })
				ctx := context.Background()
				id := w.submit(t, "ACC-0003", "SKU-103:15", "SKU-100:2")
				w.settle(t)
				v, err := w.flow.Where(ctx, id)
				require.NoError(t, err, "Where %s", id)
				assert.Equal(t, tt.held, v.Phase, "phase before the release")
				_, err = w.erp.ReleaseHold(ctx, id, canonical.HoldCredit)
				require.NoError(t, err, "ReleaseHold %s", id)
				w.settle(t)
				v, err = w.flow.Where(ctx, id)
				require.NoError(t, err, "Where %s", id)
				assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
				assert.Equal(t, "rejected", v.Phase, "phase after the release")
				assert.Equal(t, canonical.CommercialRejected, v.Status.Commercial, "commercial status")
				shown, ok := w.crm.ShownStatus(id)
				require.True(t, ok, "CRM shows %s", id)
				assert.Equal(t, canonical.CommercialRejected, shown.Status.Commercial, "CRM commercial status")
				assert.Zero(t, w.wms.Counts().Releases, "WMS releases")
				held, err := w.flow.CheckHolds(ctx)
				require.NoError(t, err, "CheckHolds")
				assert.Zero(t, held, "orders resumed by a later hold check")
			})
		})
	}
}

// TestHoldReleasedInSteps holds an order on two holds (no sales-tax rate
// for Texas, and the credit limit) with a line the ERP rejects: released
// from its credit hold only, the order stays on hold with the line
// rejected, a hold check later included; released from its tax hold too,
// it is accepted with the line still rejected, ships the rest, and the
// CRM agrees.
func TestHoldReleasedInSteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newSystems(t)
		rates := slices.DeleteFunc(erp.DemoTaxRates(), func(r erp.TaxRate) bool { return r.Region == "TX" })
		var err error
		w.erp, err = erp.New(erp.Config{TaxRates: rates})
		require.NoError(t, err, "erp.New")
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, nil, flow.Config{Log: w.log})
		ctx := context.Background()
		id := w.submit(t, "ACC-0003", "SKU-103:15", "SKU-999:1")
		w.settle(t)
		eo, err := w.erp.GetOrder(ctx, id)
		require.NoError(t, err, "GetOrder %s", id)
		kinds := map[canonical.HoldKind]bool{}
		for _, h := range eo.Holds {
			kinds[h.Kind] = h.Active()
		}
		require.Equal(t, map[canonical.HoldKind]bool{canonical.HoldCredit: true, canonical.HoldTax: true}, kinds, "holds in the ERP")

		_, err = w.erp.ReleaseHold(ctx, id, canonical.HoldCredit)
		require.NoError(t, err, "ReleaseHold credit")
		w.settle(t)
		n, err := w.flow.CheckHolds(ctx)
		require.NoError(t, err, "CheckHolds")
		assert.Zero(t, n, "orders resumed with the tax hold active")
		v, err := w.flow.Where(ctx, id)
		require.NoError(t, err, "Where %s", id)
		assert.Equal(t, "on_hold", v.Phase, "phase with the tax hold active")
		assert.Equal(t, "1", bucket(t, v, "L2", canonical.BucketRejected), "L2 rejected on hold")
		assert.Zero(t, w.wms.Counts().Releases, "WMS releases on hold")

		_, err = w.erp.ReleaseHold(ctx, id, canonical.HoldTax)
		require.NoError(t, err, "ReleaseHold tax")
		w.settle(t)
		v = w.agree(t, id)
		assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
		assert.Equal(t, "released", v.Phase, "phase after both releases")
		assert.Equal(t, canonical.CommercialAccepted, v.Status.Commercial, "commercial status")
		assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "fulfilment")
		assert.Equal(t, "1", bucket(t, v, "L2", canonical.BucketRejected), "L2 stays rejected")
		assert.Equal(t, "15", bucket(t, v, "L1", canonical.BucketShipped), "L1 shipped")
	})
}

// holdCheckSpy records the correlation and causation IDs of the ERP's
// GetOrder calls, as the connector sees them.
type holdCheckSpy struct {
	connector.ERP
	mu    sync.Mutex
	calls []string // "order correlation causation"
}

func (s *holdCheckSpy) GetOrder(ctx context.Context, id string) (canonical.Order, error) {
	s.mu.Lock()
	s.calls = append(s.calls, id+" "+tracing.CorrelationID(ctx)+" "+tracing.CausationID(ctx))
	s.mu.Unlock()
	return s.ERP.GetOrder(ctx, id)
}

// TestHoldCheckCarriesCorrelation checks that the hold watcher's call to
// the ERP carries the held order's correlation ID, and the ID of the
// decision that held it as causation ID, so the call (and its failures
// while the ERP is down) appears in the order's timeline.
func TestHoldCheckCarriesCorrelation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		spy := &holdCheckSpy{}
		w := newWorld(t, nil, func(e connector.ERP) connector.ERP { spy.ERP = e; return spy })
		ctx := context.Background()
		id := w.submit(t, "ACC-0003", "SKU-103:15")
		w.settle(t)
		v, err := w.flow.Where(ctx, id)
		require.NoError(t, err, "Where %s", id)
		require.Equal(t, "on_hold", v.Phase, "phase of %s", id)
		require.NotEmpty(t, v.CorrelationID, "correlation ID of %s", id)

		spy.mu.Lock()
		spy.calls = nil
		spy.mu.Unlock()
		n, err := w.flow.CheckHolds(ctx)
		require.NoError(t, err, "CheckHolds")
		assert.Zero(t, n, "orders resumed while on hold")
		spy.mu.Lock()
		calls := slices.Clone(spy.calls)
		spy.mu.Unlock()
		require.Len(t, calls, 1, "GetOrder calls of one hold check")
		fields := strings.Fields(calls[0])
		require.Len(t, fields, 3, "GetOrder call %q has an order, a correlation and a causation ID", calls[0])
		assert.Equal(t, id, fields[0], "order of the hold check")
		assert.Equal(t, v.CorrelationID, fields[1], "correlation ID of the hold check")

		v, err = w.flow.Where(ctx, id)
		require.NoError(t, err, "Where %s", id)
		var checks int
		for _, s := range v.Timeline {
			if s.System == "erp" && s.Operation == "GetOrder" {
				checks++
			}
		}
		assert.Positive(t, checks, "hold checks in the timeline of %s:\n%v", id, v.Timeline)
	})
}

// gatedHoldERP holds the ERP's GetOrder of order first until the
// GetOrder of order last has been called (or the call's context ends):
// read one after the other, the check of first would wait for ever.
type gatedHoldERP struct {
	connector.ERP
	first, last string
	open        chan struct{}
	once        sync.Once
}

func (e *gatedHoldERP) GetOrder(ctx context.Context, id string) (canonical.Order, error) {
	switch id {
	case e.last:
		e.once.Do(func() { close(e.open) })
	case e.first:
		select {
		case <-e.open:
		case <-ctx.Done():
			return canonical.Order{}, context.Cause(ctx)
		}
	}
	return e.ERP.GetOrder(ctx, id)
}

func (e *gatedHoldERP) Unwrap() any { return e.ERP }

// TestHoldChecksConcurrent checks that CheckHolds reads the held orders
// from the ERP several at a time: a read that hangs (or fails and is
// retried) costs its own order time, not every held order's. The ERP
// answers the first held order only once the last one was read.
func TestHoldChecksConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := &gatedHoldERP{open: make(chan struct{})}
		w := newWorld(t, nil, func(e connector.ERP) connector.ERP { gate.ERP = e; return gate })
		ctx := context.Background()
		var ids []string
		for range 3 {
			ids = append(ids, w.submit(t, "ACC-0003", "SKU-103:15"))
		}
		w.settle(t)
		slices.Sort(ids)
		gate.first, gate.last = ids[0], ids[len(ids)-1]
		start := time.Now()
		n, err := w.flow.CheckHolds(ctx)
		require.NoError(t, err, "CheckHolds of %v", ids)
		assert.Zero(t, n, "orders resumed while on hold")
		assert.Zero(t, time.Since(start), "CheckHolds waited for the first order's read")

		_, err = w.erp.ReleaseHold(ctx, ids[1], canonical.HoldCredit)
		require.NoError(t, err, "ReleaseHold %s", ids[1])
		n, err = w.flow.CheckHolds(ctx)
		require.NoError(t, err, "CheckHolds after a release")
		assert.Equal(t, 1, n, "orders resumed after the release of %s", ids[1])
	})
}
