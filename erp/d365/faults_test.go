package d365_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/connectortest"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/erp/d365"
	"github.com/distsync/distsync/erp/d365/d365emu"
	"github.com/distsync/distsync/retry"
)

// TestConformanceWithFaults runs the kit against the emulator behind
// HTTP-level faults (503, 429 with Retry-After, 401, answers lost after
// the effect, connection resets), written in F&O's error shape, with the
// connector behind connector.WrapERP as a user runs it: every replay keeps
// one effect per key. The 40th request of each run also finds the access
// tokens expired, as after an hour: the request is answered 401 and the
// connector fetches a new token.
func TestConformanceWithFaults(t *testing.T) {
	var (
		mu      sync.Mutex
		seed    uint64
		sum     faults.HTTPCounts
		expired atomic.Int64
		tokens  atomic.Int64
	)
	opts := connector.Options{
		MaxAttempts: 12,
		Breaker:     retry.BreakerConfig{ConsecutiveFailures: 50},
		Backoff:     retry.Backoff{InitialInterval: 10 * time.Microsecond, MaxInterval: 100 * time.Microsecond},
	}
	connectortest.RunERP(t, func(t *testing.T) connectortest.ERPHarness {
		var f *faults.HTTP
		emu, srv := emulator(t, func(h http.Handler) http.Handler {
			mu.Lock()
			seed++
			uses := &tokenUses{n: map[string]int{}}
			cfg := faults.HTTPConfig{Seed: seed, Unavailable: 0.05, RateLimited: 0.05, Unauthorized: 0.03, TimeoutAfterEffect: 0.04,
				ResetAfterEffect: 0.04, RetryAfter: time.Millisecond, Hold: time.Second, Reject: d365emu.Reject, Match: uses.faultable}
			mu.Unlock()
			var err error
			f, err = faults.NewHTTP(h, cfg)
			require.NoError(t, err)
			var n atomic.Int64
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if d365emu.IsTokenRequest(r) {
					tokens.Add(1)
				} else if n.Add(1) == 40 {
					h.(*d365emu.Server).ExpireTokens()
					expired.Add(1)
				}
				f.ServeHTTP(w, r)
			})
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
		wrap := func(t *testing.T, e connector.ERP) connector.ERP {
			w, err := connector.WrapERP(e, opts)
			require.NoError(t, err)
			return w
		}
		h := harness(t, emu, srv, wrap)
		h.ERP = wrap(t, faultClient(t, srv.URL))
		h.Reopen = func(t *testing.T) connector.ERP { return wrap(t, faultClient(t, srv.URL)) }
		return h
	})
	t.Logf("faults injected: %+v; tokens expired %d times, %d token requests", sum, expired.Load(), tokens.Load())
	assert.Positive(t, expired.Load(), "tokens expired")
	assert.Greater(t, tokens.Load(), int64(0), "tokens fetched")
	assert.Positive(t, sum.Unavailable, "503 injected: %+v", sum)
	assert.Positive(t, sum.RateLimited, "429 injected: %+v", sum)
	assert.Positive(t, sum.Unauthorized, "401 injected: %+v", sum)
	assert.Positive(t, sum.TimeoutsAfterEffect, "timeouts after the effect injected: %+v", sum)
	assert.Positive(t, sum.ResetsAfterEffect, "resets after the effect injected: %+v", sum)
}

// tokenUses spares the token endpoint (Entra ID is another service) and
// the first uses of each access token from the injected faults. A token
// just issued is not refused by a real environment; two injected 401s in
// a row (the second on the resend with a new token) would be
// CodeUnauthorized, which is rightly not retried, since a 401 that
// persists after a new token is a configuration error.
type tokenUses struct {
	mu sync.Mutex
	n  map[string]int
}

// freshUses is how many uses of a new token are spared: enough for the
// concurrent resends after one 401.
const freshUses = 16

func (u *tokenUses) faultable(r *http.Request) bool {
	if d365emu.IsTokenRequest(r) {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	tok := r.Header.Get("Authorization")
	u.n[tok]++
	return u.n[tok] > freshUses
}

// faultClient is a connector whose calls time out fast (a withheld
// answer) and that waits at most a millisecond on a 429.
func faultClient(t testing.TB, url string) *d365.Client {
	t.Helper()
	cfg := config(url)
	cfg.Timeout, cfg.MaxRetryAfter = 250*time.Millisecond, time.Millisecond
	c, err := d365.New(cfg)
	require.NoError(t, err)
	return c
}
