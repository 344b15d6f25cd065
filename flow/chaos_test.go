package flow_test

import (
	"flag"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

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
		var ids []string
		for i := range n {
			ids = append(ids, w.submitGenerated(t, rng))
			if i%25 == 24 {
				w.settle(t)
			}
		}
		w.settle(t)
		w.finish(t, ids, func() { w.settle(t) })
		accepted, fos := w.invariants(t, ids)
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
		t.Logf("%d orders (%d accepted, %d fulfilment orders); faults: %+v; %s", n, accepted, fos, injected, w)
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
