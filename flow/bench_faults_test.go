package flow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/retry"
)

// BenchmarkOrderToCashFaults measures order-to-cash in memory, as
// BenchmarkOrderToCash does, with every system behind transient faults
// (faults=P: each call fails with probability P, four fifths of them
// unavailable and one fifth rate limited with a Retry-After of 5ms) and
// the decorators and error policy of the ordertocash example, in real
// time, on 16 workers, in batches of 1,000 orders. As in the example run
// with many orders, a standing set of 1,000 orders is on credit hold: the
// flow checks them with the ERP at every poll. faults=0 is the same
// configuration without faults, the throughput the others compare with:
// a failing call should cost its own order time, not everyone's.
func BenchmarkOrderToCashFaults(b *testing.B) {
	for _, p := range []float64{0, 0.05, 0.20} {
		b.Run(fmt.Sprintf("faults=%.2f", p), func(b *testing.B) {
			cfg := flow.Config{Workers: 16, PollInterval: 2 * time.Millisecond,
				Policy: eventlog.ErrorPolicy{MaxAttempts: 50, OpenRecheck: 20 * time.Millisecond,
					Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 20 * time.Millisecond, Jitter: retry.NoJitter}}}
			bw := newBenchWorldWith(b, cfg, nil, benchOptions{wrap: faultyConnectors(p), holds: true})
			for range 1000 {
				bw.orderOf(b, "ACC-0003", "SKU-100:100:12.50") // 1,250 USD, over the limit
			}
			bw.settle(b)
			bw.orderToCashBatch(b, 1000)
		})
	}
}

// faultyConnectors returns a wrap of benchOptions that puts each system
// behind the faults of rate p (Unavailable 0.8p, RateLimited 0.2p,
// Retry-After 5ms) and the decorators of the ordertocash example.
func faultyConnectors(p float64) func(testing.TB, *benchWorld, *flow.Config) {
	return func(tb testing.TB, bw *benchWorld, cfg *flow.Config) {
		fc := faults.Config{Seed: 1, Unavailable: p * 0.8, RateLimited: p * 0.2, RetryAfter: 5 * time.Millisecond}
		opts := connector.Options{MaxAttempts: 3, Timeout: 5 * time.Second,
			Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}}
		opts.Breaker.OpenTimeout = 20 * time.Millisecond
		fe, err := faults.WrapERP(bw.erp, fc)
		require.NoError(tb, err, "faults.WrapERP")
		fc.Seed++
		fw, err := faults.WrapWMS(bw.wms, fc)
		require.NoError(tb, err, "faults.WrapWMS")
		fc.Seed++
		fcrm, err := faults.WrapCRM(bw.crm, fc)
		require.NoError(tb, err, "faults.WrapCRM")
		cfg.ERP, err = connector.WrapERP(fe, opts)
		require.NoError(tb, err, "connector.WrapERP")
		cfg.WMS, err = connector.WrapWMS(fw, opts)
		require.NoError(tb, err, "connector.WrapWMS")
		cfg.CRM, err = connector.WrapCRM(fcrm, opts)
		require.NoError(tb, err, "connector.WrapCRM")
	}
}
