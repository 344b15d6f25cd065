package ops_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/ops"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/wms"
)

// refusingWMS is a WMS whose warehouses refuse (permanently) to release the
// fulfilment orders of the orders in refuse, and are unavailable for the
// first release call, so the timeline shows a retry.
type refusingWMS struct {
	connector.WMS
	mu       sync.Mutex
	refuse   map[string]bool
	calls    int
	outFirst bool
}

func (r *refusingWMS) Unwrap() any { return r.WMS }

func (r *refusingWMS) Release(ctx context.Context, fo canonical.FulfillmentOrder) (canonical.FulfillmentOrder, error) {
	r.mu.Lock()
	r.calls++
	first, refused := r.calls == 1 && r.outFirst, r.refuse[fo.OrderID]
	r.mu.Unlock()
	if first {
		return fo, connector.NewError(connector.CodeUnavailable, "wms", "Release", errors.New("warehouse gateway down"))
	}
	if refused {
		return fo, connector.NewError(connector.CodeInvalid, "wms", "Release", errors.New("ship-to address incomplete"))
	}
	return r.WMS.Release(ctx, fo)
}

func (r *refusingWMS) setRefuse(order string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse[order] = on
}

// world is a live flow over the in-memory simulators with a few orders,
// one of which (refused) has a dead letter.
type world struct {
	flow    *flow.Flow
	log     *eventlog.Memory
	wms     *wms.Memory
	crm     *crm.Memory
	gate    *refusingWMS
	board   *ops.BreakerBoard
	orders  []string
	refused string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{board: &ops.BreakerBoard{}}
	e, err := erp.New(erp.Config{})
	require.NoError(t, err, "erp.New")
	w.wms, err = wms.New(wms.Config{})
	require.NoError(t, err, "wms.New")
	w.crm, err = crm.New(crm.Config{})
	require.NoError(t, err, "crm.New")
	rec, err := tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	require.NoError(t, err, "NewMemoryRecorder")
	w.gate = &refusingWMS{WMS: w.wms, refuse: map[string]bool{}, outFirst: true}
	w.board.Track("erp", "wms", "crm")
	opts := connector.Options{Recorder: rec, MaxAttempts: 3,
		Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond},
		Breaker: retry.BreakerConfig{OnStateChange: w.board.Observe}}
	ce, err := connector.WrapERP(e, opts)
	require.NoError(t, err, "WrapERP")
	cw, err := connector.WrapWMS(w.gate, opts)
	require.NoError(t, err, "WrapWMS")
	cc, err := connector.WrapCRM(w.crm, opts)
	require.NoError(t, err, "WrapCRM")
	w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
	w.flow, err = flow.New(flow.Config{ERP: ce, WMS: cw, CRM: cc, Log: w.log, Recorder: rec,
		PollInterval: time.Millisecond, WMSSources: []string{w.wms.Source()},
		Policy: eventlog.ErrorPolicy{MaxAttempts: 3, Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond}}})
	require.NoError(t, err, "flow.New")

	for i, sku := range []string{"SKU-101", "SKU-102", "SKU-103"} {
		opp, err := w.crm.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Name: "ops test", Lines: []crm.OpportunityLine{{
			SKU: sku, Quantity: canonical.MustParseQuantity("5", "EA"), UnitPrice: canonical.MustParseMoney("9.80", "USD")}}})
		require.NoError(t, err, "OpenOpportunity %s", sku)
		o, err := w.crm.ConvertOpportunity(ctx, opp.ID)
		require.NoError(t, err, "ConvertOpportunity %s", sku)
		w.orders = append(w.orders, o.ID)
		if i == 2 {
			w.refused = o.ID
			w.gate.setRefuse(o.ID, true)
		}
	}
	w.settle(t)
	return w
}

// settle drains the flow and steps the warehouses until nothing moves.
func (w *world) settle(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for range 200 {
		require.NoError(t, w.flow.Drain(ctx), "Drain")
		n, err := w.wms.Step(ctx)
		require.NoError(t, err, "wms.Step")
		if n == 0 {
			require.NoError(t, w.flow.Drain(ctx), "Drain")
			return
		}
	}
	t.Fatal("the world did not settle in 200 rounds")
}

// deadLetter returns the refused order's dead letter.
func (w *world) deadLetter(t testing.TB) eventlog.DeadLetter {
	t.Helper()
	v, err := w.flow.Where(context.Background(), w.refused)
	require.NoError(t, err, "Where %s", w.refused)
	require.Len(t, v.DeadLetters, 1, "dead letters of refused order %s", w.refused)
	return v.DeadLetters[0]
}

// config is the handler configuration over the world, with the given
// Authenticate.
func (w *world) config(auth func(*http.Request) (string, bool)) ops.Config {
	return ops.Config{DeadLetters: w.log, Groups: w.log, Log: w.log, Orders: w.flow, Inventory: w.flow,
		Breakers: w.board, Authenticate: auth}
}

func (w *world) server(t testing.TB, cfg ops.Config) *httptest.Server {
	t.Helper()
	h, err := ops.New(cfg)
	require.NoError(t, err, "ops.New")
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// headerAuth authenticates a request by its X-Operator header, as a test
// stand-in for the embedding service's session or token check.
func headerAuth(r *http.Request) (string, bool) {
	who := r.Header.Get("X-Operator")
	return who, who != ""
}

func TestWorld(t *testing.T) {
	w := newWorld(t)
	d := w.deadLetter(t)
	require.Equal(t, eventlog.ReasonPermanent, d.Reason, "reason of %s", d.Error)
	require.Contains(t, d.Error, "ship-to address incomplete")
	v, err := w.flow.Where(context.Background(), w.orders[0])
	require.NoError(t, err)
	require.Empty(t, v.DeadLetters, "order %s has no dead letter", w.orders[0])
}

func httptestServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
