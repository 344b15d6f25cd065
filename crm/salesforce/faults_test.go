package salesforce_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/crm/salesforce"
	"github.com/distsync/distsync/crm/salesforce/sfemu"
	"github.com/distsync/distsync/retry"
)

// TestConformanceWithFaults runs the kit against the emulator behind
// seeded HTTP faults in Salesforce's shape (503 SERVER_UNAVAILABLE, 403
// REQUEST_LIMIT_EXCEEDED with Sforce-Limit-Info, 401 INVALID_SESSION_ID,
// answers lost after the effect by a timeout or a reset), with the
// connector behind connector.WrapCRM as a user runs it.
func TestConformanceWithFaults(t *testing.T) {
	var (
		mu   sync.Mutex
		seed uint64
		sum  faults.HTTPCounts
	)
	opts := connector.Options{
		MaxAttempts: 12,
		Timeout:     200 * time.Millisecond,
		Breaker:     retry.BreakerConfig{ConsecutiveFailures: 50},
		Backoff:     retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond},
	}
	connectortest.RunCRM(t, func(t *testing.T) connectortest.CRMHarness {
		var f *faults.HTTP
		o := newOrg(t, sfemu.Config{BatchSize: 4}, func(h http.Handler) http.Handler {
			emu := h.(*sfemu.Server)
			mu.Lock()
			seed++
			cfg := faults.HTTPConfig{Seed: seed, Unavailable: 0.05, RateLimited: 0.04, Unauthorized: 0.03,
				TimeoutAfterEffect: 0.03, ResetAfterEffect: 0.03, Hold: time.Second,
				// The token endpoint is spared, and so is the first use of a
				// token: a session just opened has not expired.
				Match:  func(r *http.Request) bool { return !sfemu.IsTokenRequest(r) && !emu.FirstUse(r) },
				Reject: emu.Reject}
			mu.Unlock()
			var err error
			f, err = faults.NewHTTP(emu, cfg)
			require.NoError(t, err)
			return f
		})
		t.Cleanup(func() {
			c := f.Counts()
			mu.Lock()
			defer mu.Unlock()
			sum.Requests += c.Requests
			sum.Unavailable += c.Unavailable
			sum.RateLimited += c.RateLimited
			sum.Unauthorized += c.Unauthorized
			sum.TimeoutsAfterEffect += c.TimeoutsAfterEffect
			sum.ResetsAfterEffect += c.ResetsAfterEffect
		})
		h := o.harness(t, salesforce.Config{}, func(t *testing.T, c *salesforce.CRM) connector.CRM {
			w, err := connector.WrapCRM(c, opts)
			require.NoError(t, err)
			return w
		})
		return h
	})
	t.Logf("faults injected: %+v", sum)
	assert.Positive(t, sum.Unavailable, "503 injected: %+v", sum)
	assert.Positive(t, sum.RateLimited, "REQUEST_LIMIT_EXCEEDED injected: %+v", sum)
	assert.Positive(t, sum.Unauthorized, "INVALID_SESSION_ID injected: %+v", sum)
	assert.Positive(t, sum.TimeoutsAfterEffect, "timeouts after the effect injected: %+v", sum)
	assert.Positive(t, sum.ResetsAfterEffect, "resets after the effect injected: %+v", sum)
}
