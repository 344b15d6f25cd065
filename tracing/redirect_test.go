package tracing_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/tracing"
)

// TestTransportRedirectToAnotherHost: http.Client calls the Transport once
// per hop, so a redirect to a third party on another host gets a new
// client span of the caller's trace, seen by OnSend, and with
// TraceContextOnly no correlation or causation ID, as the first hop.
// Response.Request carries the span of the last hop.
func TestTransportRedirectToAnotherHost(t *testing.T) {
	target := newHeaderServer(t, nil)
	// Another host name for the same loopback server: the client treats
	// it as another site (it drops Authorization and cookies there).
	targetURL := strings.Replace(target.URL, "127.0.0.1", "localhost", 1) + "/elsewhere"
	origin := newHeaderServer(t, http.RedirectHandler(targetURL, http.StatusTemporaryRedirect))

	parent := tracing.NewSpanContext()
	ctx := tracing.WithCausationID(tracing.WithCorrelationID(tracing.WithSpanContext(t.Context(), parent), "order-42"), "evt-7")
	for _, only := range []bool{false, true} {
		var mu sync.Mutex
		var sent []tracing.SpanContext
		var hosts []string
		tr := &tracing.Transport{Base: origin.Client().Transport, Propagator: tracing.Propagator{TraceContextOnly: only},
			OnSend: func(req *http.Request) {
				sc, _ := tracing.SpanContextFrom(req.Context())
				mu.Lock()
				sent = append(sent, sc)
				hosts = append(hosts, req.URL.Hostname())
				mu.Unlock()
			}}
		resp := get(t, ctx, tr, origin.URL, nil)
		require.Equal(t, http.StatusNoContent, resp.StatusCode, "TraceContextOnly %v: the redirect was followed", only)

		mu.Lock()
		require.Len(t, sent, 2, "TraceContextOnly %v: OnSend calls, one per hop", only)
		assert.Equal(t, []string{"127.0.0.1", "localhost"}, hosts, "TraceContextOnly %v: hosts", only)
		for i, sc := range sent {
			assert.Equal(t, parent.TraceID, sc.TraceID, "TraceContextOnly %v: hop %d in the caller's trace", only, i)
		}
		assert.NotEqual(t, sent[0].SpanID, sent[1].SpanID, "TraceContextOnly %v: a new client span per hop", only)
		last := sent[1]
		mu.Unlock()

		for i, srv := range []*headerServer{origin, target} {
			h := srv.header()
			require.Len(t, h.Values("Traceparent"), 1, "TraceContextOnly %v: hop %d traceparent", only, i)
			if only {
				assert.Empty(t, h.Values("X-Correlation-Id"), "TraceContextOnly: hop %d correlation ID", i)
				assert.Empty(t, h.Values("X-Causation-Id"), "TraceContextOnly: hop %d causation ID", i)
			} else {
				assert.Equal(t, []string{"order-42"}, h.Values("X-Correlation-Id"), "zero Propagator: hop %d correlation ID (sent wherever the Transport is used)", i)
			}
		}
		received, err := tracing.ParseTraceparent(target.header().Get("Traceparent"))
		require.NoError(t, err, "traceparent the redirect target received")
		assert.Equal(t, last.SpanID, received.SpanID, "TraceContextOnly %v: the target's parent-id is the last hop's client span", only)
		final, ok := tracing.SpanContextFrom(resp.Request.Context())
		require.True(t, ok, "Response.Request carries a span")
		assert.Equal(t, last.SpanID, final.SpanID, "TraceContextOnly %v: Response.Request carries the last hop's client span", only)
	}
}
