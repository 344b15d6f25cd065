package flow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
	"github.com/distsync/distsync/wms"
)

// world is the three reference systems with a flow over them.
type world struct {
	erp     *erp.Memory
	wms     *wms.Memory
	crm     *crm.Memory
	log     eventlog.Backend
	rec     *tracing.MemoryRecorder
	metrics *countMetrics
	flow    *flow.Flow
	faults  []interface{ Counts() faults.Counts }
	// wrapWMS and wrapCRM, when set, wrap the systems inside the
	// decorators in connect (after the faults), as wrapERP does the ERP.
	wrapWMS func(connector.WMS) connector.WMS
	wrapCRM func(connector.CRM) connector.CRM
	// tpl, when set, is a second WMS, the 3PL's, that owns tplWarehouses
	// (wms then owns the others): connect gives the flow both as
	// Config.Warehouses, named "dc" and "3pl" (see newTwoWMSSystems).
	tpl *wms.Memory
	// changed, when set, holds the orders changed after the ERP's
	// decision (reviseRandom): their cancelled quantity may come from a
	// change, which the ERP records without a cancellation.
	changed map[string]bool
}

// countMetrics counts what the flow reports.
type countMetrics struct {
	mu sync.Mutex
	n  map[flow.Counter]int
}

func (m *countMetrics) Count(_ context.Context, c flow.Counter, _ string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[flow.Counter]int{}
	}
	m.n[c]++
}

func (m *countMetrics) SyncLag(context.Context, string, time.Duration) {}

func (m *countMetrics) get(c flow.Counter) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[c]
}

// newWorld builds the demo world; with fc, every connector gets those
// faults (seeded per system from fc.Seed).
func newWorld(t testing.TB, fc *faults.Config, wrapERP ...func(connector.ERP) connector.ERP) *world {
	t.Helper()
	w := newSystems(t)
	w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
	w.connect(t, fc, flow.Config{Log: w.log}, wrapERP...)
	return w
}

// newSystems builds the reference systems and the recorder, without a
// flow.
func newSystems(t testing.TB) *world {
	t.Helper()
	w := &world{metrics: &countMetrics{}}
	var err error
	w.erp, err = erp.New(erp.Config{})
	require.NoError(t, err, "erp.New")
	// Inside a synctest bubble time starts in 2000: shift the WMS's clock
	// after the ERP's demo stock positions (as of erp.DemoEpoch), or the
	// ERP takes the WMS's first inventory events for stale ones.
	shift := max(0, time.Until(erp.DemoEpoch().Add(time.Minute)))
	w.wms, err = wms.New(wms.Config{Clock: func() time.Time { return time.Now().Add(shift) }})
	require.NoError(t, err, "wms.New")
	w.crm, err = crm.New(crm.Config{})
	require.NoError(t, err, "crm.New")
	w.rec, err = tracing.NewMemoryRecorder(tracing.MemoryConfig{})
	require.NoError(t, err, "NewMemoryRecorder")
	return w
}

// connect builds a new flow over the systems, as a restarted process does:
// new decorators (and, with fc, new fault wrappers) around the systems,
// and cfg's Log and stores; the other fields of cfg are the tests'.
func (w *world) connect(t testing.TB, fc *faults.Config, cfg flow.Config, wrapERP ...func(connector.ERP) connector.ERP) {
	t.Helper()
	var (
		ce connector.ERP = w.erp
		cw connector.WMS = w.wms
		cc connector.CRM = w.crm
	)
	w.faults = nil
	if fc != nil {
		c := *fc
		fe, err := faults.WrapERP(w.erp, c)
		require.NoError(t, err, "faults.WrapERP")
		c.Seed++
		fw, err := faults.WrapWMS(w.wms, c)
		require.NoError(t, err, "faults.WrapWMS")
		c.Seed++
		fcrm, err := faults.WrapCRM(w.crm, c)
		require.NoError(t, err, "faults.WrapCRM")
		ce, cw, cc = fe, fw, fcrm
		w.faults = append(w.faults, fe, fw, fcrm)
	}
	var ct connector.WMS = w.tpl
	if fc != nil && w.tpl != nil {
		c := *fc
		c.Seed += 3
		ft, err := faults.WrapWMS(w.tpl, c)
		require.NoError(t, err, "faults.WrapWMS 3pl")
		ct = ft
		w.faults = append(w.faults, ft)
	}
	for _, wrap := range wrapERP {
		ce = wrap(ce)
	}
	if w.wrapWMS != nil {
		cw = w.wrapWMS(cw)
		if ct != nil {
			ct = w.wrapWMS(ct)
		}
	}
	if w.wrapCRM != nil {
		cc = w.wrapCRM(cc)
	}
	opts := connector.Options{Recorder: w.rec, MaxAttempts: 2, Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 10 * time.Millisecond}}
	we, err := connector.WrapERP(ce, opts)
	require.NoError(t, err, "WrapERP")
	ww, err := connector.WrapWMS(cw, opts)
	require.NoError(t, err, "WrapWMS")
	wc, err := connector.WrapCRM(cc, opts)
	require.NoError(t, err, "WrapCRM")
	cfg.ERP, cfg.WMS, cfg.CRM, cfg.Recorder = we, ww, wc, w.rec
	if w.tpl != nil {
		dcOpts, tplOpts := opts, opts
		dcOpts.System, tplOpts.System = "wms-dc", "wms-3pl"
		wd, err := connector.WrapWMS(cw, dcOpts)
		require.NoError(t, err, "WrapWMS dc")
		wt, err := connector.WrapWMS(ct, tplOpts)
		require.NoError(t, err, "WrapWMS 3pl")
		cfg.WMS = nil
		cfg.Warehouses = []flow.WarehouseSystem{
			{Name: "dc", WMS: wd, Locations: dcWarehouses},
			{Name: "3pl", WMS: wt, Locations: tplWarehouses},
		}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = w.metrics
	}
	cfg.PollInterval = 10 * time.Millisecond
	cfg.Policy = eventlog.ErrorPolicy{MaxAttempts: 20, OpenRecheck: 200 * time.Millisecond, Backoff: retry.Backoff{InitialInterval: 10 * time.Millisecond, MaxInterval: time.Second, Jitter: retry.NoJitter}}
	w.flow, err = flow.New(cfg)
	require.NoError(t, err, "flow.New")
}

// submit opens and converts an opportunity of account with lines
// "SKU:QTY" at the list price and returns the order ID.
func (w *world) submit(t testing.TB, account string, lines ...string) string {
	t.Helper()
	ctx := context.Background()
	prices := map[string]string{"SKU-100": "12.50", "SKU-101": "9.80", "SKU-102": "4.25", "SKU-103": "89.00",
		"SKU-104": "3.10", "SKU-105": "6.40"}
	opp := crm.Opportunity{AccountID: account, Name: "test"}
	for _, l := range lines {
		sku, qty, _ := strings.Cut(l, ":")
		price := prices[sku]
		if price == "" {
			price = "1.00"
		}
		opp.Lines = append(opp.Lines, crm.OpportunityLine{SKU: sku, Quantity: canonical.MustParseQuantity(qty, "EA"),
			UnitPrice: canonical.MustParseMoney(price, "USD")})
	}
	opp, err := w.crm.OpenOpportunity(ctx, opp)
	require.NoError(t, err, "OpenOpportunity %v", lines)
	o, err := w.crm.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err, "ConvertOpportunity %v", lines)
	return o.ID
}

// settle drains the flow and steps the warehouses until neither has
// anything left to do.
func (w *world) settle(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for range 500 {
		require.NoError(t, w.flow.Drain(ctx), "Drain")
		n := w.step(t)
		if n == 0 {
			require.NoError(t, w.flow.Drain(ctx), "Drain")
			return
		}
	}
	t.Fatal("the world did not settle in 500 rounds")
}

// step steps the warehouses once and returns how much they did.
func (w *world) step(t testing.TB) int {
	t.Helper()
	n, err := w.wms.Step(context.Background())
	require.NoError(t, err, "wms.Step")
	if w.tpl != nil {
		k, err := w.tpl.Step(context.Background())
		require.NoError(t, err, "3pl wms.Step")
		n += k
	}
	return n
}

// wmsOf returns the WMS that owns a warehouse.
func (w *world) wmsOf(wh string) *wms.Memory {
	if w.tpl != nil && slices.Contains(tplWarehouses, wh) {
		return w.tpl
	}
	return w.wms
}

// releases counts the releases in the warehouses.
func (w *world) releases() int {
	n := w.wms.Counts().Releases
	if w.tpl != nil {
		n += w.tpl.Counts().Releases
	}
	return n
}

// adjust adds qty of sku to a warehouse's stock.
func (w *world) adjust(t testing.TB, id, sku, wh, qty string) {
	t.Helper()
	_, err := w.wmsOf(wh).Adjust(context.Background(), canonical.InventoryAdjustment{ID: id, Item: canonical.ItemRef{SKU: sku},
		Location: wh, Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity(qty, "EA"),
		Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
	require.NoError(t, err, "Adjust %s %s %s", sku, wh, qty)
}

// agree checks that the CRM shows the flow's status and that the ERP's
// shipped and invoiced quantities and invoices match the flow's.
func (w *world) agree(t testing.TB, id string) flow.OrderView {
	t.Helper()
	v, err := w.flow.Where(context.Background(), id)
	require.NoError(t, err, "Where %s", id)
	// Read the systems themselves, not through their faults.
	shown, ok := w.crm.ShownStatus(id)
	require.True(t, ok, "CRM shows order %s", id)
	v.CRM = &shown
	if eo, err := w.erp.GetOrder(context.Background(), id); err != nil {
		v.ERP, v.ERPErr = nil, err
	} else {
		v.ERP, v.ERPErr = &eo, nil
	}
	require.Equal(t, v.Status, v.CRM.Status, "CRM status of %s", id)
	for i, l := range v.Order.Lines {
		require.True(t, l.Buckets.Get(canonical.BucketShipped).Equal(v.CRM.Lines[i].Shipped.Value), "CRM shipped of %s line %s", id, l.ID)
		require.True(t, l.Buckets.Get(canonical.BucketInvoiced).Equal(l.Buckets.Get(canonical.BucketShipped)),
			"invoiced = shipped for %s line %s: %s", id, l.ID, l.Buckets)
	}
	if v.Phase == "rejected" {
		require.Error(t, v.ERPErr, "ERP must not know rejected order %s", id)
		return v
	}
	require.NoError(t, v.ERPErr, "ERP GetOrder %s", id)
	for i, l := range v.Order.Lines {
		el := v.ERP.Lines[i]
		require.True(t, el.Buckets.Get(canonical.BucketShipped).Equal(l.Buckets.Get(canonical.BucketShipped)),
			"ERP shipped of %s line %s: erp %s flow %s", id, l.ID, el.Buckets, l.Buckets)
		require.True(t, el.Buckets.Get(canonical.BucketInvoiced).Equal(l.Buckets.Get(canonical.BucketInvoiced)),
			"ERP invoiced of %s line %s", id, l.ID)
		require.True(t, el.Buckets.Get(canonical.BucketCancelled).Equal(l.Buckets.Get(canonical.BucketCancelled)),
			"ERP cancelled of %s line %s: erp %s flow %s", id, l.ID, el.Buckets, l.Buckets)
		require.True(t, v.CRM.Lines[i].Cancelled.Value.Equal(l.Buckets.Get(canonical.BucketCancelled)),
			"CRM cancelled of %s line %s", id, l.ID)
	}
	require.Equal(t, len(v.Shipments), w.erp.InvoiceCount(id), "one ERP invoice per shipment of %s", id)
	require.Equal(t, v.Order.Status().Commercial, v.ERP.Status().Commercial, "commercial status in the ERP of %s", id)
	return v
}

func (w *world) String() string {
	if w.tpl != nil {
		return fmt.Sprintf("erp %+v wms dc %+v wms 3pl %+v crm %+v", w.erp.Counts(), w.wms.Counts(), w.tpl.Counts(), w.crm.Counts())
	}
	return fmt.Sprintf("erp %+v wms %+v crm %+v", w.erp.Counts(), w.wms.Counts(), w.crm.Counts())
}

func eventlogFilter() eventlog.Filter { return eventlog.Filter{} }

// genSKUs are the items of generated orders.
var genSKUs = []string{"SKU-100", "SKU-101", "SKU-102", "SKU-103", "SKU-104", "SKU-105"}

// submitGenerated submits an order of one to three random lines, or one
// in twenty for an unknown item (rejected), and one in twenty with a line
// of an unknown item besides (rejected line, the order accepted or held
// with it), for a random account, and returns its ID.
func (w *world) submitGenerated(t testing.TB, rng *rand.Rand) string {
	t.Helper()
	var lines []string
	for range 1 + rng.IntN(3) {
		lines = append(lines, fmt.Sprintf("%s:%d", genSKUs[rng.IntN(len(genSKUs))], 1+rng.IntN(12)))
	}
	switch rng.IntN(20) {
	case 0:
		lines = []string{"SKU-999:1"} // rejected: unknown item
	case 1:
		lines = append(lines, "SKU-998:1") // a rejected line
	}
	return w.submit(t, []string{"ACC-0001", "ACC-0002"}[rng.IntN(2)], lines...)
}

// finish releases the credit holds of the orders and brings stock for
// every backorder, calling settle after each round, until every accepted
// order has shipped (at most ten rounds).
func (w *world) finish(t testing.TB, ids []string, settle func()) {
	t.Helper()
	ctx := context.Background()
	for round := range 10 {
		released, open := 0, 0
		for _, id := range ids {
			v, err := w.flow.Where(ctx, id)
			require.NoError(t, err, "Where %s", id)
			if v.Phase == "released" && v.Status.Fulfillment != canonical.FulfillmentShipped && v.Status.Commercial != canonical.CommercialCancelled {
				open++
			}
			if v.Phase == "released" && v.Status.Commercial == canonical.CommercialOnHold {
				// An increase of a change held for credit: the customer
				// pays, so that it passes when it is sent again.
				acct, ok := w.erp.Account(v.Order.SoldTo.ID)
				require.True(t, ok, "account %s", v.Order.SoldTo.ID)
				if acct.OpenBalance.IsPos() {
					require.NoError(t, w.erp.RecordPayment(ctx, v.Order.SoldTo.ID, canonical.NewMoney(acct.OpenBalance, v.Order.Currency)), "RecordPayment")
				}
			}
			if v.Phase == "on_hold" || v.Status.Commercial == canonical.CommercialOnHold {
				_, err := w.erp.ReleaseHold(ctx, id, canonical.HoldCredit)
				require.NoError(t, err, "ReleaseHold %s", id)
				released++
			}
		}
		for _, sku := range genSKUs {
			for _, wh := range []string{"WH-EAST", "WH-SOUTH", "WH-WEST"} {
				w.adjust(t, fmt.Sprintf("ADJ-%d-%s-%s", round, sku, wh), sku, wh, "1000")
			}
		}
		settle()
		if released == 0 && open == 0 {
			return
		}
	}
}

// tally counts what invariants saw.
type tally struct {
	accepted, fos int
	// cancelled counts the orders with cancelled quantity, cancelledInFull
	// those cancelled before anything shipped.
	cancelled, cancelledInFull int
	// cancelledChanged counts the orders with cancelled quantity that
	// were changed after the ERP's decision.
	cancelledChanged int
}

// invariants checks the invariants of order-to-cash over the orders: no
// dead letters; each order agrees across the systems (see agree) and is
// final: rejected, cancelled in full, or released, shipped and invoiced in
// full with shipped ≤ ordered − cancelled per line; every accepted order
// accepted in the ERP exactly once, every fulfilment order released
// exactly once, and one ERP cancellation per order with cancelled
// quantity.
func (w *world) invariants(t testing.TB, ids []string) tally {
	var n tally
	t.Helper()
	ctx := context.Background()
	dls, err := w.flow.DeadLetters(ctx, eventlogFilter())
	require.NoError(t, err, "DeadLetters")
	for _, d := range dls {
		t.Logf("dead letter %s %s: %s", d.Event.Type, d.Reason, d.Error)
	}
	require.Zero(t, len(dls), "dead letters (listed above)")
	for _, id := range ids {
		v := w.agree(t, id)
		if v.Phase == "rejected" {
			continue
		}
		n.accepted++
		n.fos += len(v.FulfillmentOrders)
		assert.Equal(t, "released", v.Phase, "phase of %s", id)
		if slices.ContainsFunc(v.Order.Lines, func(l canonical.OrderLine) bool { return l.Buckets.Get(canonical.BucketCancelled).IsPos() }) {
			n.cancelled++
			if w.changed[id] {
				n.cancelledChanged++
			}
		}
		if v.Status.Commercial == canonical.CommercialCancelled {
			// Everything was cancelled before anything shipped.
			n.cancelledInFull++
			assert.Equal(t, canonical.FulfillmentUnfulfilled, v.Status.Fulfillment, "fulfilment of cancelled %s", id)
			assert.Equal(t, canonical.BillingNotInvoiced, v.Status.Billing, "billing of cancelled %s", id)
		} else {
			assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "fulfilment of %s", id)
			assert.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "billing of %s", id)
		}
		for _, l := range v.Order.Lines {
			open, err := l.Buckets.NetOrdered()
			require.NoError(t, err, "open of %s line %s", id, l.ID)
			assert.LessOrEqual(t, l.Buckets.Get(canonical.BucketShipped).Cmp(open), 0, "shipped ≤ ordered − cancelled for %s line %s", id, l.ID)
		}
	}
	assert.Equal(t, n.accepted, w.erp.Counts().Orders, "every order accepted in the ERP exactly once")
	assert.Equal(t, n.fos, w.releases(), "every fulfilment order released exactly once")
	// A change cancels through the ERP's OrderChanger, not with a
	// cancellation: an order changed may have its cancelled quantity from
	// a change, from a cancel request, or both.
	cancels := w.erp.Counts().Cancellations
	assert.GreaterOrEqual(t, cancels, n.cancelled-n.cancelledChanged, "one ERP cancellation per order with cancelled quantity (changed orders aside)")
	assert.LessOrEqual(t, cancels, n.cancelled, "one ERP cancellation per order with cancelled quantity, at most")
	if len(w.changed) == 0 {
		assert.Equal(t, n.cancelled, cancels, "one ERP cancellation per order with cancelled quantity")
	}
	return n
}
