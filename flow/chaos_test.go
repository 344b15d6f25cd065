package flow_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

var (
	chaosSeed   = flag.Uint64("chaos.seed", 1, "seed of TestChaos")
	chaosOrders = flag.Int("chaos.orders", 2000, "orders of TestChaos")
)

// TestChaos runs generated orders through the flow with faults on every
// connector and checks the invariants of order-to-cash at the end.
func TestChaos(t *testing.T) {
	chaos(t, newSystems)
}

// TestChaosTwoWMS is TestChaos over two WMS (Config.Warehouses), each with
// its own faults: the DC's owning WH-EAST and WH-SOUTH, the 3PL's WH-WEST.
func TestChaosTwoWMS(t *testing.T) {
	chaos(t, newTwoWMSSystems)
}

func chaos(t *testing.T, systems func(testing.TB) *world) {
	seed, n := *chaosSeed, *chaosOrders
	if testing.Short() {
		n = 200
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("TestChaos failed with -chaos.seed=%d -chaos.orders=%d", seed, n)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		fc := faults.Config{Seed: seed, Unavailable: 0.15, RateLimited: 0.05, AmbiguousTimeout: 0.05,
			Duplicate: 0.2, Reorder: 0.2, RetryAfter: 50 * time.Millisecond,
			Outage: faults.Outage{FromCall: int64(n / 2), UntilCall: int64(n/2 + 40)}}
		w := systems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, &fc, flow.Config{Log: w.log})
		rng := rand.New(rand.NewPCG(seed, 7))
		var ids, later, midway, amend []string
		requests, amendments := 0, 0
		// Changes are drawn from their own generator, so that the orders
		// and cancellations stay those of the seed without changes.
		cg := rand.New(rand.NewPCG(seed, 19))
		w.changed = map[string]bool{}
		for i := range n {
			id := w.submitGenerated(t, rng)
			ids = append(ids, id)
			// About one order in ten is cancelled in part or in full:
			// half before its release, half after some of it shipped.
			switch rng.IntN(20) {
			case 0:
				requests += w.requestCancel(t, rng, id)
			case 1:
				later = append(later, id)
			case 2:
				amend = append(amend, id)
			}
			// About one order in eight is changed: before its decision
			// is handled, or while the warehouse works on it.
			switch cg.IntN(16) {
			case 0:
				w.reviseRandom(t, cg, id)
			case 1:
				midway = append(midway, id)
			}
			if i%25 == 24 {
				require.NoError(t, w.flow.Drain(context.Background()), "Drain")
				w.step(t)
				for _, id := range midway {
					w.reviseRandom(t, cg, id)
				}
				midway = midway[:0]
				w.settle(t)
				for _, id := range later {
					requests += w.requestCancel(t, rng, id)
				}
				later = later[:0]
				// About one order in twenty is amended by the ERP once
				// released: a line rejected in part, or a price corrected.
				for _, id := range amend {
					amendments += w.amendInERP(t, rng, id)
				}
				amend = amend[:0]
			}
		}
		w.settle(t)
		w.finish(t, ids, func() { w.settle(t) })
		tl := w.invariants(t, ids)
		accepted, fos, cancelledOrders, cancelledInFull := tl.accepted, tl.fos, tl.cancelled, tl.cancelledInFull
		var injected faults.Counts
		for _, f := range w.faults {
			c := f.Counts()
			injected.Calls += c.Calls
			injected.Unavailable += c.Unavailable + c.RateLimited
			injected.AmbiguousTimeouts += c.AmbiguousTimeouts
			injected.Duplicates += c.Duplicates
			injected.Reorders += c.Reorders
			injected.Outage += c.Outage
		}
		t.Logf("%d orders (%d accepted, %d fulfilment orders, %d cancel requests, %d orders with cancelled quantity, %d cancelled in full, %d changed, %d ERP amendments); faults: %+v; %s",
			n, accepted, fos, requests, cancelledOrders, cancelledInFull, len(w.changed), amendments, injected, w)
		assert.Positive(t, w.erp.Counts().Changes, "changes in the ERP")
		assert.Positive(t, w.wms.Counts().Changes, "changes in the warehouses")
		assert.Positive(t, amendments, "ERP amendments")
		assert.Positive(t, cancelledOrders, "orders with cancelled quantity")
		assert.Positive(t, w.wms.Counts().Cancellations, "cancellations in the warehouses")
		if w.tpl != nil {
			assert.Positive(t, w.tpl.Counts().Releases, "releases in the 3PL's warehouse")
		}
		assert.Positive(t, injected.AmbiguousTimeouts, "ambiguous timeouts injected")
		assert.Positive(t, injected.Duplicates, "duplicated pages injected")
		assert.Positive(t, injected.Outage, "outage injected")
		assert.Positive(t, w.metrics.get(flow.CounterDuplicate), "duplicates suppressed")
		assert.Positive(t, w.metrics.get(flow.CounterRetried), "retried")
		assert.Positive(t, w.metrics.get(flow.CounterParked), "parked on the open breaker")
		t.Logf("metrics: %v", w.metrics.n)
		assert.Less(t, accepted, n, "some orders rejected")
	})
}

// requestCancel asks the CRM or the ERP (at random) to cancel the open
// remainder of an order, of every line or of one of its lines (a random
// quantity), and returns how many requests it made: 0 when the system does
// not know the order (the ERP does not know a rejected one).
func (w *world) requestCancel(t testing.TB, rng *rand.Rand, id string) int {
	t.Helper()
	o, ok := w.crm.Order(id)
	require.True(t, ok, "the CRM knows order %s", id)
	nlines := len(o.Lines)
	var lines []canonical.CancelLine
	if rng.IntN(2) == 0 {
		// A line of the order's latest version: a change may have
		// removed or added lines.
		lines = []canonical.CancelLine{{LineID: o.Lines[rng.IntN(nlines)].ID,
			Quantity: canonical.NewQuantity(canonical.DecimalFromInt(int64(1+rng.IntN(6))), "EA")}}
	}
	var err error
	if rng.IntN(2) == 0 {
		_, err = w.crm.RequestCancellation(context.Background(), id, lines, "chaos")
	} else {
		_, err = w.erp.RequestCancellation(context.Background(), id, lines, "chaos")
	}
	if connector.CodeOf(err) == connector.CodeNotFound {
		return 0
	}
	if connector.CodeOf(err) == connector.CodeInvalid && w.changed[id] {
		return 0 // a line the changed order has in the CRM, not in the ERP (refused, or held)
	}
	require.NoError(t, err, "RequestCancellation %s %v", id, lines)
	return 1
}

// reviseRandom has the CRM deliver a new version of an order with one
// random change: a line removed (of an order of several lines), a line
// added, or a line's quantity set anew; it records the order in
// w.changed.
func (w *world) reviseRandom(t testing.TB, rng *rand.Rand, id string) {
	t.Helper()
	_, err := w.crm.ReviseOrder(context.Background(), id, func(o *canonical.Order) error {
		switch k := rng.IntN(4); {
		case k == 0 && len(o.Lines) > 1:
			i := rng.IntN(len(o.Lines))
			o.Lines = append(o.Lines[:i], o.Lines[i+1:]...)
		case k == 1:
			o.Lines = append(o.Lines, canonical.OrderLine{ID: fmt.Sprintf("X%d", o.Version+1),
				Item:     canonical.ItemRef{SKU: genSKUs[rng.IntN(len(genSKUs))]},
				Quantity: canonical.NewQuantity(canonical.DecimalFromInt(int64(1+rng.IntN(12))), "EA"), UnitPrice: canonical.MustParseMoney("5.00", "USD")})
		default:
			i := rng.IntN(len(o.Lines))
			o.Lines[i].Quantity = canonical.NewQuantity(canonical.DecimalFromInt(int64(1+rng.IntN(20))), "EA")
		}
		return nil
	})
	require.NoError(t, err, "ReviseOrder %s", id)
	w.changed[id] = true
}

// amendInERP has the ERP amend a released order of its own accord: reject
// part of a line's open, unshipped quantity (leaving at least one to ship)
// or correct a line's price. It returns how many amendments it made: 0
// when the order is not released (rejected, on hold) or nothing is left
// to reject.
func (w *world) amendInERP(t testing.TB, rng *rand.Rand, id string) int {
	t.Helper()
	ctx := context.Background()
	v, err := w.flow.Where(ctx, id)
	require.NoError(t, err, "Where %s", id)
	if v.Phase != "released" {
		return 0
	}
	eo, err := w.erp.GetOrder(ctx, id)
	require.NoError(t, err, "ERP GetOrder %s", id)
	l := eo.Lines[rng.IntN(len(eo.Lines))]
	al := canonical.AmendedLine{LineID: l.ID}
	if rng.IntN(2) == 0 {
		p := canonical.NewMoney(canonical.DecimalFromInt(int64(1+rng.IntN(50))), l.UnitPrice.Currency)
		al.UnitPrice = &p
	} else {
		bs := l.Buckets
		open, err := bs.NetOrdered()
		require.NoError(t, err, "open of %s %s", id, l.ID)
		open, err = open.Sub(bs.Get(canonical.BucketShipped))
		require.NoError(t, err, "unshipped of %s %s", id, l.ID)
		if open.Cmp(canonical.DecimalFromInt(2)) < 0 {
			return 0
		}
		k := canonical.DecimalFromInt(1)
		total, err := bs.Get(canonical.BucketRejected).Add(k)
		require.NoError(t, err, "rejected of %s %s", id, l.ID)
		q := canonical.NewQuantity(total, l.Quantity.Unit)
		al.Rejected = &q
	}
	_, err = w.erp.AmendOrder(ctx, id, []canonical.AmendedLine{al}, "chaos")
	require.NoError(t, err, "AmendOrder %s %+v", id, al)
	return 1
}
