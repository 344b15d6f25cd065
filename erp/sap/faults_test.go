package sap_test

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
	"github.com/distsync/distsync/erp/sap"
	"github.com/distsync/distsync/erp/sap/sapemu"
	"github.com/distsync/distsync/retry"
)

// TestConformanceWithFaults runs the kit against the emulator behind
// HTTP-level faults (503, 429 with Retry-After, 401, answers lost after
// the effect, connection resets), written in SAP's error shape, with the
// connector behind connector.WrapERP as a user runs it: every replay keeps
// one effect per key.
func TestConformanceWithFaults(t *testing.T) {
	var (
		mu   sync.Mutex
		seed uint64
		sum  faults.HTTPCounts
		// csrfRefused counts writes refused for an expired session.
		csrfRefused atomic.Int64
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
			cfg := faults.HTTPConfig{Seed: seed, Unavailable: 0.05, RateLimited: 0.05, Unauthorized: 0.03, TimeoutAfterEffect: 0.04,
				ResetAfterEffect: 0.04, RetryAfter: time.Millisecond, Hold: time.Second, Reject: sapemu.Reject}
			mu.Unlock()
			var err error
			f, err = faults.NewHTTP(h, cfg)
			require.NoError(t, err)
			// Every 60th request finds the sessions expired, as after a
			// session timeout: the next write gets 403 with
			// X-CSRF-Token: Required and must refetch the token.
			var n atomic.Int64
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1)%60 == 0 {
					h.(*sapemu.Server).ExpireSessions()
				}
				sw := &statusWriter{ResponseWriter: w}
				f.ServeHTTP(sw, r)
				if sw.status == http.StatusForbidden && sw.Header().Get("X-CSRF-Token") == "Required" {
					csrfRefused.Add(1)
				}
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
	t.Logf("faults injected: %+v; CSRF refusals: %d", sum, csrfRefused.Load())
	assert.Positive(t, csrfRefused.Load(), "writes refused with X-CSRF-Token: Required")
	assert.Positive(t, sum.Unavailable, "503 injected: %+v", sum)
	assert.Positive(t, sum.RateLimited, "429 injected: %+v", sum)
	assert.Positive(t, sum.Unauthorized, "401 injected: %+v", sum)
	assert.Positive(t, sum.TimeoutsAfterEffect, "timeouts after the effect injected: %+v", sum)
	assert.Positive(t, sum.ResetsAfterEffect, "resets after the effect injected: %+v", sum)
}

// faultClient is a connector whose calls time out fast (a withheld
// answer) and that waits at most a millisecond on a 429.
func faultClient(t testing.TB, url string) *sap.Client {
	t.Helper()
	c, err := sap.New(sap.Config{BaseURL: url, User: user, Password: password, Timeout: 250 * time.Millisecond, MaxRetryAfter: time.Millisecond})
	require.NoError(t, err)
	return c
}

// statusWriter records the status an http.Handler writes.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection (the fault
// injector hijacks it to reset).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
