package erp_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/retry"
)

// TestConformanceWithFaults runs the kit against the ERP behind seeded
// fault injection (transient errors, rate limits, timeouts after the
// effect, latency, an outage) and the retry decorator: every replay keeps
// one effect per key.
func TestConformanceWithFaults(t *testing.T) {
	var (
		mu   sync.Mutex
		seed uint64
		sum  faults.Counts
	)
	opts := connector.Options{
		MaxAttempts: 12,
		Breaker:     retry.BreakerConfig{ConsecutiveFailures: 50},
		Backoff:     retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond},
	}
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		return harness(t, newERP(t, erp.Config{}), func(t *testing.T, e connector.ERP) connector.ERP {
			mu.Lock()
			seed++
			cfg := faults.Config{Seed: seed, Unavailable: 0.15, RateLimited: 0.05, RetryAfter: time.Millisecond, AmbiguousTimeout: 0.15,
				Latency: time.Second, Sleep: func(context.Context, time.Duration) error { return nil }, Outage: faults.Outage{FromCall: 5, UntilCall: 8}}
			mu.Unlock()
			f, err := faults.WrapERP(e, cfg)
			require.NoError(t, err)
			t.Cleanup(func() {
				c := f.Counts()
				mu.Lock()
				defer mu.Unlock()
				sum.Add(c)
			})
			w, err := connector.WrapERP(f, opts)
			require.NoError(t, err)
			return w
		})
	})
	assert.Positive(t, sum.Unavailable, "unavailable injected: %+v", sum)
	assert.Positive(t, sum.RateLimited, "rate limits injected: %+v", sum)
	assert.Positive(t, sum.AmbiguousTimeouts, "timeouts after the effect injected: %+v", sum)
	assert.Positive(t, sum.Outage, "outage injected: %+v", sum)
}
