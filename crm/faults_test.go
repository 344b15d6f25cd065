package crm_test

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
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/retry"
)

// TestConformanceWithFaults runs the kit against the CRM behind seeded
// fault injection (transient errors, rate limits, timeouts after the
// effect, latency, an outage, repeated and shuffled feed pages) and the
// retry decorator.
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
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		h := crmHarness(t, newCRM(t), func(t *testing.T, m *crm.Memory) connector.CRM {
			mu.Lock()
			seed++
			cfg := faults.Config{Seed: seed, Unavailable: 0.15, RateLimited: 0.05, RetryAfter: time.Millisecond, AmbiguousTimeout: 0.15,
				Latency: time.Second, Sleep: func(context.Context, time.Duration) error { return nil },
				Duplicate: 0.3, Reorder: 0.5, Outage: faults.Outage{FromCall: 5, UntilCall: 8}}
			mu.Unlock()
			f, err := faults.WrapCRM(m, cfg)
			require.NoError(t, err)
			t.Cleanup(func() {
				c := f.Counts()
				mu.Lock()
				defer mu.Unlock()
				sum.Add(c)
			})
			w, err := connector.WrapCRM(f, opts)
			require.NoError(t, err)
			return w
		})
		h.Capabilities.RepeatsEvents = true
		// Subscribe is the CRM's own (the wrappers do not forward
		// Subscriber), checked by TestConformance; the subscriber check
		// compares it with polls whose pages this run shuffles.
		h.Capabilities.Subscribe = false
		return h
	})
	assert.Positive(t, sum.Unavailable, "unavailable injected: %+v", sum)
	assert.Positive(t, sum.RateLimited, "rate limits injected: %+v", sum)
	assert.Positive(t, sum.AmbiguousTimeouts, "timeouts after the effect injected: %+v", sum)
	assert.Positive(t, sum.Outage, "outage injected: %+v", sum)
	assert.Positive(t, sum.Duplicates, "repeated pages injected: %+v", sum)
	assert.Positive(t, sum.Reorders, "shuffled pages injected: %+v", sum)
}
