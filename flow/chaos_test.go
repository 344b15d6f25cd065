package flow_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/flow"
)

var (
	chaosSeed   = flag.Uint64("chaos.seed", 1, "seed of TestChaos")
	chaosOrders = flag.Int("chaos.orders", 2000, "orders of TestChaos")
)

// TestChaos runs generated orders through the flow with faults on every
// connector and checks the invariants of order-to-cash at the end.
func TestChaos(t *testing.T) {
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
		w := newWorld(t, &fc)
		rng := rand.New(rand.NewPCG(seed, 7))
		ctx := context.Background()
		var ids, later []string
		skus := []string{"SKU-100", "SKU-101", "SKU-102", "SKU-103", "SKU-104", "SKU-105"}
		requests := 0
		for i := range n {
			var lines []string
			for range 1 + rng.IntN(3) {
				lines = append(lines, fmt.Sprintf("%s:%d", skus[rng.IntN(len(skus))], 1+rng.IntN(12)))
			}
			if rng.IntN(20) == 0 {
				lines = []string{"SKU-999:1"} // rejected: unknown item
			}
			id := w.submit(t, []string{"ACC-0001", "ACC-0002"}[rng.IntN(2)], lines...)
			ids = append(ids, id)
			// About one order in ten is cancelled in part or in full:
			// half before its release, half after some of it shipped.
			switch rng.IntN(20) {
			case 0:
				requests += w.requestCancel(t, rng, id, len(lines))
			case 1:
				later = append(later, id)
			}
			if i%25 == 24 {
				w.settle(t)
				for _, id := range later {
					requests += w.requestCancel(t, rng, id, 1)
				}
				later = later[:0]
			}
		}
		w.settle(t)
		// Stock arrives for every backorder and credit holds are released,
		// until every accepted order has shipped.
		for round := range 10 {
			released, open := 0, 0
			for _, id := range ids {
				v, err := w.flow.Where(ctx, id)
				require.NoError(t, err, "Where %s", id)
				if v.Phase == "released" && v.Status.Fulfillment != canonical.FulfillmentShipped && v.Status.Commercial != canonical.CommercialCancelled {
					open++
				}
				if v.Phase == "on_hold" {
					_, err := w.erp.ReleaseHold(ctx, id, canonical.HoldCredit)
					require.NoError(t, err, "ReleaseHold %s", id)
					released++
				}
			}
			for _, sku := range skus {
				for _, wh := range []string{"WH-EAST", "WH-SOUTH", "WH-WEST"} {
					w.adjust(t, fmt.Sprintf("ADJ-%d-%s-%s", round, sku, wh), sku, wh, "1000")
				}
			}
			w.settle(t)
			if released == 0 && open == 0 {
				break
			}
		}
		dls, err := w.flow.DeadLetters(ctx, eventlogFilter())
		require.NoError(t, err, "DeadLetters")
		for _, d := range dls {
			t.Logf("dead letter %s %s: %s", d.Event.Type, d.Reason, d.Error)
		}
		require.Empty(t, dls, "dead letters after chaos")
		fos, accepted, cancelledOrders, cancelledInFull := 0, 0, 0, 0
		for _, id := range ids {
			v := w.agree(t, id)
			if v.Phase == "rejected" {
				continue
			}
			accepted++
			fos += len(v.FulfillmentOrders)
			assert.Equal(t, "released", v.Phase, "phase of %s", id)
			if slices.ContainsFunc(v.Order.Lines, func(l canonical.OrderLine) bool { return l.Buckets.Get(canonical.BucketCancelled).IsPos() }) {
				cancelledOrders++
			}
			if v.Status.Commercial == canonical.CommercialCancelled {
				// Everything was cancelled before anything shipped.
				cancelledInFull++
				assert.Equal(t, canonical.FulfillmentUnfulfilled, v.Status.Fulfillment, "fulfilment of cancelled %s", id)
				assert.Equal(t, canonical.BillingNotInvoiced, v.Status.Billing, "billing of cancelled %s", id)
			} else {
				assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "fulfilment of %s", id)
				assert.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "billing of %s", id)
			}
			for _, l := range v.Order.Lines {
				open, err := l.Buckets.Open()
				require.NoError(t, err, "open of %s line %s", id, l.ID)
				assert.LessOrEqual(t, l.Buckets.Get(canonical.BucketShipped).Cmp(open), 0, "shipped ≤ ordered − cancelled for %s line %s", id, l.ID)
			}
		}
		assert.Equal(t, accepted, w.erp.Counts().Orders, "every order accepted in the ERP exactly once")
		assert.Equal(t, fos, w.wms.Counts().Releases, "every fulfilment order released exactly once")
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
		t.Logf("%d orders (%d accepted, %d fulfilment orders, %d cancel requests, %d orders with cancelled quantity, %d cancelled in full); faults: %+v; %s",
			n, accepted, fos, requests, cancelledOrders, cancelledInFull, injected, w)
		assert.Positive(t, cancelledOrders, "orders with cancelled quantity")
		assert.Positive(t, w.wms.Counts().Cancellations, "cancellations in the warehouses")
		assert.Equal(t, cancelledOrders, w.erp.Counts().Cancellations, "one ERP cancellation per order with cancelled quantity")
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
// remainder of an order, of every line or of one of its nlines lines (a
// random quantity), and returns how many requests it made: 0 when the
// system does not know the order (the ERP does not know a rejected one).
func (w *world) requestCancel(t *testing.T, rng *rand.Rand, id string, nlines int) int {
	t.Helper()
	var lines []canonical.CancelLine
	if rng.IntN(2) == 0 {
		lines = []canonical.CancelLine{{LineID: fmt.Sprintf("L%d", 1+rng.IntN(nlines)),
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
	require.NoError(t, err, "RequestCancellation %s %v", id, lines)
	return 1
}
