package tracing_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/tracing"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name        string
		header      http.Header
		prop        tracing.Propagator
		wantSpan    bool
		wantFlags   tracing.TraceFlags
		wantState   string
		correlation string
		causation   string
	}{
		{"nothing", http.Header{}, tracing.Propagator{}, false, 0, "", "", ""},
		{"traceparent and tracestate", http.Header{"Traceparent": {specExample}, "Tracestate": {"rojo=1,congo=2"}}, tracing.Propagator{}, true, 1, "rojo=1,congo=2", "", ""},
		{"duplicated traceparent restarts the trace", http.Header{"Traceparent": {specExample, specExample}, "Tracestate": {"rojo=1"}}, tracing.Propagator{}, false, 0, "", "", ""},
		{"several tracestate lines are combined", http.Header{"Traceparent": {specExample}, "Tracestate": {"foo=1,bar=2", "rojo=1,congo=2"}}, tracing.Propagator{}, true, 1, "foo=1,bar=2,rojo=1,congo=2", "", ""},
		{"invalid tracestate is dropped", http.Header{"Traceparent": {specExample}, "Tracestate": {"foo=1,Bar=2"}}, tracing.Propagator{}, true, 1, "", "", ""},
		{"duplicated tracestate key keeps the first", http.Header{"Traceparent": {specExample}, "Tracestate": {"foo=1,t@sys=2", "foo=3,1x=4"}}, tracing.Propagator{}, true, 1, "foo=1,t@sys=2,1x=4", "", ""},
		{"invalid traceparent ignores tracestate", http.Header{"Traceparent": {strings.ToUpper(specExample)}, "Tracestate": {"rojo=1"}}, tracing.Propagator{}, false, 0, "", "", ""},
		{"reserved flag bits are kept", http.Header{"Traceparent": {"00-" + specTraceID + "-" + specParentID + "-04"}}, tracing.Propagator{}, true, 4, "", "", ""},
		{"whitespace around traceparent", http.Header{"Traceparent": {" \t" + specExample + " "}}, tracing.Propagator{}, true, 1, "", "", ""},
		{"future version", http.Header{"Traceparent": {"cc-" + specTraceID + "-" + specParentID + "-01-future"}}, tracing.Propagator{}, true, 1, "", "", ""},
		{"correlation and causation", http.Header{"X-Correlation-Id": {"order-42"}, "X-Causation-Id": {"evt-7"}}, tracing.Propagator{}, false, 0, "", "order-42", "evt-7"},
		{"custom header names", http.Header{"X-Request-Flow": {"order-42"}, "X-Correlation-Id": {"ignored"}, "X-Cause": {"evt-7"}}, tracing.Propagator{CorrelationHeader: "X-Request-Flow", CausationHeader: "X-Cause"}, false, 0, "", "order-42", "evt-7"},
		{"correlation with a space is ignored", http.Header{"X-Correlation-Id": {"order 42"}}, tracing.Propagator{}, false, 0, "", "", ""},
		{"duplicated correlation is ignored", http.Header{"X-Correlation-Id": {"a", "b"}}, tracing.Propagator{}, false, 0, "", "", ""},
		{"too long correlation is ignored", http.Header{"X-Correlation-Id": {strings.Repeat("a", 257)}}, tracing.Propagator{}, false, 0, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.prop.Extract(t.Context(), tt.header)
			sc, ok := tracing.SpanContextFrom(ctx)
			require.Equal(t, tt.wantSpan, ok, "span extracted from %v", tt.header)
			if ok {
				assert.Equal(t, specTraceID, sc.TraceID.String(), "trace-id from %v", tt.header)
				assert.Equal(t, specParentID, sc.SpanID.String(), "parent-id from %v", tt.header)
				assert.Equal(t, tt.wantFlags, sc.Flags, "flags from %v", tt.header)
				assert.Equal(t, tt.wantState, sc.State.String(), "tracestate from %v", tt.header)
			}
			assert.Equal(t, tt.correlation, tracing.CorrelationID(ctx), "correlation ID from %v", tt.header)
			assert.Equal(t, tt.causation, tracing.CausationID(ctx), "causation ID from %v", tt.header)
		})
	}
}

func TestInjectExtractRoundTrip(t *testing.T) {
	sc, err := tracing.ParseTraceparent(specExample)
	require.NoError(t, err)
	sc.State, err = tracing.ParseTraceState("rojo=1,congo=2")
	require.NoError(t, err)
	ctx := tracing.WithSpanContext(t.Context(), sc)
	ctx = tracing.WithCorrelationID(ctx, "order-42")
	ctx = tracing.WithCausationID(ctx, "evt-7")

	h := http.Header{}
	var p tracing.Propagator
	p.Inject(ctx, h)
	assert.Equal(t, http.Header{
		"Traceparent":      {specExample},
		"Tracestate":       {"rojo=1,congo=2"},
		"X-Correlation-Id": {"order-42"},
		"X-Causation-Id":   {"evt-7"},
	}, h, "injected headers")

	got := p.Extract(context.Background(), h)
	gotSC, ok := tracing.SpanContextFrom(got)
	require.True(t, ok, "extracted span")
	assert.Equal(t, sc.Traceparent(), gotSC.Traceparent(), "traceparent round trip")
	assert.Equal(t, sc.State.String(), gotSC.State.String(), "tracestate round trip")
	assert.Equal(t, "order-42", tracing.CorrelationID(got), "correlation round trip")
	assert.Equal(t, "evt-7", tracing.CausationID(got), "causation round trip")

	// Injecting an empty context clears stale values.
	p.Inject(context.Background(), h)
	assert.Empty(t, h, "headers after injecting an empty context")
}

func TestPropagatorValidate(t *testing.T) {
	tests := []struct {
		name string
		p    tracing.Propagator
		ok   bool
	}{
		{"zero value", tracing.Propagator{}, true},
		{"custom names", tracing.Propagator{CorrelationHeader: "X-Flow-Id", CausationHeader: "X-Cause"}, true},
		{"space in name", tracing.Propagator{CorrelationHeader: "X Flow"}, false},
		{"colon in name", tracing.Propagator{CausationHeader: "X-Cause:"}, false},
		{"reserved traceparent", tracing.Propagator{CorrelationHeader: "traceparent"}, false},
		{"reserved tracestate", tracing.Propagator{CausationHeader: "TraceState"}, false},
		{"same names", tracing.Propagator{CorrelationHeader: "x-id", CausationHeader: "X-ID"}, false},
		{"causation named like the default correlation", tracing.Propagator{CausationHeader: "x-correlation-id"}, false},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if tt.ok {
			assert.NoError(t, err, "Validate %s", tt.name)
		} else {
			assert.ErrorIs(t, err, tracing.ErrInvalidConfig, "Validate %s", tt.name)
		}
	}
}

func TestMiddleware(t *testing.T) {
	var got context.Context
	h := tracing.Propagator{}.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Context()
	}))

	t.Run("continues the caller's trace", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Traceparent", specExample)
		req.Header.Set("Tracestate", "rojo=1")
		req.Header.Set("X-Correlation-ID", "order-42")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		sc, ok := tracing.SpanContextFrom(got)
		require.True(t, ok, "server span")
		assert.Equal(t, specTraceID, sc.TraceID.String(), "same trace")
		assert.NotEqual(t, specParentID, sc.SpanID.String(), "new server span")
		assert.Equal(t, "rojo=1", sc.State.String(), "tracestate kept")
		assert.Equal(t, "order-42", tracing.CorrelationID(got), "correlation ID")
		assert.Equal(t, "order-42", rec.Header().Get("X-Correlation-ID"), "correlation ID echoed")
	})
	t.Run("starts a trace and a flow", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header["Traceparent"] = []string{specExample, specExample}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		sc, ok := tracing.SpanContextFrom(got)
		require.True(t, ok, "server span")
		assert.NotEqual(t, specTraceID, sc.TraceID.String(), "duplicated traceparent restarts the trace")
		id := tracing.CorrelationID(got)
		_, err := uuid.Parse(id)
		assert.NoError(t, err, "new correlation ID %q is a UUID", id)
		assert.Equal(t, id, rec.Header().Get("X-Correlation-ID"), "new correlation ID echoed")
	})
}

// recordingTransport records the requests it is given.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, r)
	rt.mu.Unlock()
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: r}, nil
}

func TestTransport(t *testing.T) {
	base := &recordingTransport{}
	tr := &tracing.Transport{Base: base}
	root := tracing.NewSpanContext()
	ctx := tracing.WithCorrelationID(tracing.WithSpanContext(t.Context(), root), "order-42")

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://erp.invalid/orders", nil)
	require.NoError(t, err)
	for i := range 2 {
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err, "RoundTrip %d", i)
		require.NoError(t, resp.Body.Close())
	}
	assert.Empty(t, req.Header, "the caller's request is not modified")
	require.Len(t, base.reqs, 2, "requests sent")
	var spans []string
	for i, r := range base.reqs {
		sc, err := tracing.ParseTraceparent(r.Header.Get("Traceparent"))
		require.NoError(t, err, "traceparent of request %d", i)
		assert.Equal(t, root.TraceID, sc.TraceID, "trace of request %d", i)
		assert.NotEqual(t, root.SpanID, sc.SpanID, "span of request %d", i)
		assert.Equal(t, "order-42", r.Header.Get("X-Correlation-ID"), "correlation of request %d", i)
		spans = append(spans, sc.SpanID.String())
	}
	assert.NotEqual(t, spans[0], spans[1], "a new span per call")

	// Without a span in the context, the call starts a trace.
	req, err = http.NewRequestWithContext(t.Context(), http.MethodGet, "http://erp.invalid/orders", nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	_, err = tracing.ParseTraceparent(base.reqs[2].Header.Get("Traceparent"))
	assert.NoError(t, err, "traceparent of a call without a span")
	assert.Empty(t, base.reqs[2].Header.Get("X-Correlation-ID"), "no correlation ID is invented by the client")
}

// hop is what one server saw.
type hop struct {
	parent      string // traceparent received
	span        tracing.SpanContext
	correlation string
	causation   string
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	s := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for s.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(s.Bytes(), &m), "log line %s", s.Text())
		out = append(out, m)
	}
	return out
}

func TestTwoHops(t *testing.T) {
	var p tracing.Propagator
	var logA, logB syncBuffer
	loggerA := slog.New(tracing.NewHandler(slog.NewJSONHandler(&logA, nil)))
	loggerB := slog.New(tracing.NewHandler(slog.NewJSONHandler(&logB, nil)))
	var seenA, seenB hop

	srvB := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sc, _ := tracing.SpanContextFrom(ctx)
		seenB = hop{r.Header.Get("Traceparent"), sc, tracing.CorrelationID(ctx), tracing.CausationID(ctx)}
		loggerB.InfoContext(ctx, "reserving stock")
		w.WriteHeader(http.StatusNoContent)
	})))
	defer srvB.Close()
	clientB := &http.Client{Transport: &tracing.Transport{Base: srvB.Client().Transport}}

	srvA := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sc, _ := tracing.SpanContextFrom(ctx)
		seenA = hop{r.Header.Get("Traceparent"), sc, tracing.CorrelationID(ctx), tracing.CausationID(ctx)}
		loggerA.InfoContext(ctx, "accepting order")
		req, err := http.NewRequestWithContext(tracing.WithCausationID(ctx, "request-a"), http.MethodPost, srvB.URL, nil)
		if !assert.NoError(t, err, "request to B") {
			return
		}
		resp, err := clientB.Do(req)
		if !assert.NoError(t, err, "call to B") {
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		w.WriteHeader(http.StatusNoContent)
	})))
	defer srvA.Close()
	clientA := &http.Client{Transport: &tracing.Transport{Base: srvA.Client().Transport}}

	root := tracing.NewSpanContext()
	ctx := tracing.WithSpanContext(t.Context(), root)
	ctx = tracing.WithCorrelationID(ctx, "order-42")
	ctx = tracing.WithCausationID(ctx, "evt-1")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srvA.URL, nil)
	require.NoError(t, err)
	resp, err := clientA.Do(req)
	require.NoError(t, err, "call to A")
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "order-42", resp.Header.Get("X-Correlation-ID"), "A echoes the correlation ID")

	parentA, err := tracing.ParseTraceparent(seenA.parent)
	require.NoError(t, err, "traceparent received by A: %q", seenA.parent)
	parentB, err := tracing.ParseTraceparent(seenB.parent)
	require.NoError(t, err, "traceparent received by B: %q", seenB.parent)

	for name, id := range map[string]tracing.TraceID{
		"client call to A": parentA.TraceID, "A's span": seenA.span.TraceID,
		"A's call to B": parentB.TraceID, "B's span": seenB.span.TraceID,
	} {
		assert.Equal(t, root.TraceID, id, "trace ID of %s", name)
	}
	spans := map[tracing.SpanID]string{}
	for name, id := range map[string]tracing.SpanID{
		"root": root.SpanID, "client call to A": parentA.SpanID, "A's span": seenA.span.SpanID,
		"A's call to B": parentB.SpanID, "B's span": seenB.span.SpanID,
	} {
		assert.Empty(t, spans[id], "span ID of %s is also the span ID of %s", name, spans[id])
		spans[id] = name
	}
	assert.Equal(t, "order-42", seenA.correlation, "correlation ID at A")
	assert.Equal(t, "order-42", seenB.correlation, "correlation ID at B")
	assert.Equal(t, "evt-1", seenA.causation, "causation ID at A")
	assert.Equal(t, "request-a", seenB.causation, "causation ID at B")

	for name, buf := range map[string]*syncBuffer{"A": &logA, "B": &logB} {
		lines := buf.lines(t)
		require.Len(t, lines, 1, "log lines of %s", name)
		assert.Equal(t, "order-42", lines[0]["correlation_id"], "correlation_id logged by %s", name)
		assert.Equal(t, root.TraceID.String(), lines[0]["trace_id"], "trace_id logged by %s", name)
	}
	assert.Equal(t, seenA.span.SpanID.String(), logA.lines(t)[0]["span_id"], "span_id logged by A")
	assert.Equal(t, seenB.span.SpanID.String(), logB.lines(t)[0]["span_id"], "span_id logged by B")
}

func TestDefaultHeaderNamesCanonical(t *testing.T) {
	h := http.Header{}
	tracing.Propagator{}.Inject(tracing.WithCausationID(tracing.WithCorrelationID(t.Context(), "c"), "e"), h)
	assert.Equal(t, "c", h.Get(tracing.DefaultCorrelationHeader), "correlation header readable with Get")
	assert.Equal(t, "e", h.Get(tracing.DefaultCausationHeader), "causation header readable with Get")
}

// TestRandomTraceIDFlag follows the random trace-id flag over two real HTTP
// hops: a client call, server A, A's call to server B. A trace this package
// starts carries it; a continued trace keeps the flag as received, set or
// not.
func TestRandomTraceIDFlag(t *testing.T) {
	var p tracing.Propagator
	var mu sync.Mutex
	var gotB string // traceparent received by B
	srvB := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotB = r.Header.Get("Traceparent")
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})))
	defer srvB.Close()
	clientB := &http.Client{Transport: &tracing.Transport{Base: srvB.Client().Transport}}
	srvA := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, srvB.URL, nil)
		if !assert.NoError(t, err, "request to B") {
			return
		}
		resp, err := clientB.Do(req)
		if !assert.NoError(t, err, "call to B") {
			return
		}
		_ = resp.Body.Close()
		w.WriteHeader(http.StatusNoContent)
	})))
	defer srvA.Close()

	tests := []struct {
		name        string
		traceparent string // sent to A; "" for none
		flags       string // trace-flags B must receive
		sameTrace   bool
	}{
		{"new trace is random and sampled", "", "03", false},
		{"random flag kept", "00-" + specTraceID + "-" + specParentID + "-02", "02", true},
		{"random and sampled kept", "00-" + specTraceID + "-" + specParentID + "-03", "03", true},
		{"unset random flag stays unset", "00-" + specTraceID + "-" + specParentID + "-01", "01", true},
		{"invalid traceparent restarts a random trace", "00-" + specTraceID + "-" + specParentID + "-0x", "03", false},
		{"reserved flags are not sent on", "00-" + specTraceID + "-" + specParentID + "-ff", "03", true},
		{"reserved flag alone is not sent on", "00-" + specTraceID + "-" + specParentID + "-04", "00", true},
		{"future version's reserved flags are not sent on", "cc-" + specTraceID + "-" + specParentID + "-fe-x", "02", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srvA.URL, nil)
			require.NoError(t, err)
			if tt.traceparent != "" {
				req.Header.Set("Traceparent", tt.traceparent)
			}
			resp, err := srvA.Client().Do(req)
			require.NoError(t, err, "call to A")
			require.NoError(t, resp.Body.Close())
			mu.Lock()
			got := gotB
			mu.Unlock()
			sc, err := tracing.ParseTraceparent(got)
			require.NoError(t, err, "traceparent received by B: %q", got)
			assert.Equal(t, tt.flags, sc.Flags.String(), "trace-flags received by B for %q", tt.traceparent)
			assert.Equal(t, tt.sameTrace, sc.TraceID.String() == specTraceID, "trace continued for %q", tt.traceparent)
		})
	}
}

// headerServer is a loopback server that records the headers of the last
// request it got.
type headerServer struct {
	*httptest.Server
	mu  sync.Mutex
	got http.Header
}

func newHeaderServer(t *testing.T, h http.Handler) *headerServer {
	s := &headerServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.got = r.Header.Clone()
		s.mu.Unlock()
		if h != nil {
			h.ServeHTTP(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *headerServer) header() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

// get sends a GET with ctx and extra headers through tr to url and
// returns the response, its body closed.
func get(t *testing.T, ctx context.Context, tr http.RoundTripper, url string, extra http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range extra {
		req.Header[k] = v
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err, "GET %s", url)
	require.NoError(t, resp.Body.Close())
	return resp
}

func TestTraceContextOnlyTransport(t *testing.T) {
	srv := newHeaderServer(t, nil)
	ctx := tracing.WithSpanContext(t.Context(), tracing.NewSpanContext())
	ctx = tracing.WithCausationID(tracing.WithCorrelationID(ctx, "order-42"), "evt-7")
	tests := []struct {
		name        string
		prop        tracing.Propagator
		extra       http.Header // set on the request by the caller
		correlation string      // want received, "" for none
		causation   string
	}{
		{"zero Propagator sends both IDs", tracing.Propagator{}, nil, "order-42", "evt-7"},
		{"trace context only sends neither", tracing.Propagator{TraceContextOnly: true}, nil, "", ""},
		{"trace context only, custom names", tracing.Propagator{TraceContextOnly: true, CorrelationHeader: "X-Flow"}, nil, "", ""},
		{"trace context only, asked for on the request", tracing.Propagator{TraceContextOnly: true}, http.Header{"X-Correlation-Id": {"order-42"}}, "order-42", ""},
		{"zero Propagator overrides the request's own", tracing.Propagator{}, http.Header{"X-Correlation-Id": {"stale"}}, "order-42", "evt-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get(t, ctx, &tracing.Transport{Base: srv.Client().Transport, Propagator: tt.prop}, srv.URL, tt.extra)
			h := srv.header()
			_, err := tracing.ParseTraceparent(h.Get("Traceparent"))
			assert.NoError(t, err, "traceparent received")
			assert.Equal(t, tt.correlation, h.Get("X-Correlation-Id"), "correlation ID received")
			assert.Equal(t, tt.causation, h.Get("X-Causation-Id"), "causation ID received")
			assert.Empty(t, h.Get("X-Flow"), "custom correlation header received")
		})
	}
}

func TestTraceContextOnlyMiddleware(t *testing.T) {
	for _, only := range []bool{false, true} {
		p := tracing.Propagator{TraceContextOnly: only}
		var mu sync.Mutex
		var seen context.Context
		srv := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = r.Context()
			mu.Unlock()
		})))
		resp := get(t, t.Context(), srv.Client().Transport, srv.URL, http.Header{
			"Traceparent": {specExample}, "X-Correlation-Id": {"order-42"}, "X-Causation-Id": {"evt-7"},
		})
		srv.Close()
		mu.Lock()
		ctx := seen
		mu.Unlock()
		sc, ok := tracing.SpanContextFrom(ctx)
		require.True(t, ok, "TraceContextOnly=%v: server span", only)
		assert.Equal(t, specTraceID, sc.TraceID.String(), "TraceContextOnly=%v: trace continued", only)
		if only {
			id := tracing.CorrelationID(ctx)
			_, err := uuid.Parse(id)
			assert.NoError(t, err, "TraceContextOnly: a fresh correlation ID %q, not the caller's", id)
			assert.Empty(t, tracing.CausationID(ctx), "TraceContextOnly: the caller's causation ID is ignored")
			assert.Empty(t, resp.Header.Values("X-Correlation-Id"), "TraceContextOnly: correlation ID not echoed")
		} else {
			assert.Equal(t, "order-42", tracing.CorrelationID(ctx), "correlation ID read")
			assert.Equal(t, "evt-7", tracing.CausationID(ctx), "causation ID read")
			assert.Equal(t, "order-42", resp.Header.Get("X-Correlation-Id"), "correlation ID echoed")
		}
	}
}

func TestTransportClientSpan(t *testing.T) {
	srv := newHeaderServer(t, nil)
	parent := tracing.NewSpanContext()
	ctx := tracing.WithCorrelationID(tracing.WithSpanContext(t.Context(), parent), "order-42")
	var mu sync.Mutex
	var sent []tracing.SpanContext
	tr := &tracing.Transport{Base: srv.Client().Transport, OnSend: func(req *http.Request) {
		sc, ok := tracing.SpanContextFrom(req.Context())
		assert.True(t, ok, "OnSend: the request's context carries the client span")
		assert.Equal(t, "order-42", tracing.CorrelationID(req.Context()), "OnSend: the correlation ID stays in the context")
		mu.Lock()
		sent = append(sent, sc)
		mu.Unlock()
	}}

	resp := get(t, ctx, tr, srv.URL, nil)
	received, err := tracing.ParseTraceparent(srv.header().Get("Traceparent"))
	require.NoError(t, err, "traceparent received")
	client, ok := tracing.SpanContextFrom(resp.Request.Context())
	require.True(t, ok, "Response.Request's context carries the client span")
	assert.Equal(t, received.SpanID, client.SpanID, "the client span is the parent-id the server got")
	assert.Equal(t, parent.TraceID, client.TraceID, "the client span is in the caller's trace")
	assert.NotEqual(t, parent.SpanID, client.SpanID, "the client span is a new span")
	mu.Lock()
	require.Len(t, sent, 1, "OnSend calls")
	assert.Equal(t, client, sent[0], "OnSend saw the client span")
	mu.Unlock()
	got, _ := tracing.SpanContextFrom(ctx)
	assert.Equal(t, parent, got, "the caller's context is unchanged")

	// A call that fails without a response still shows its span to OnSend.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dead.URL, nil)
	require.NoError(t, err)
	_, err = (&http.Client{Transport: tr}).Do(req)
	require.Error(t, err, "call to a closed server")
	mu.Lock()
	require.Len(t, sent, 2, "OnSend calls after a failed call")
	assert.Equal(t, parent.TraceID, sent[1].TraceID, "failed call's span in the caller's trace")
	assert.NotEqual(t, sent[0].SpanID, sent[1].SpanID, "a new span per call")
	mu.Unlock()
}

func TestCorrelationIDValidatedOnTheWayOut(t *testing.T) {
	srv := newHeaderServer(t, nil)
	tr := &tracing.Transport{Base: srv.Client().Transport}
	tests := []struct {
		name string
		id   string
		sent bool
	}{
		{"plain", "order-42", true},
		{"256 characters", strings.Repeat("a", 256), true},
		{"every visible character", "!\"#$%&'()*+,-./0-9:;<=>?@A-Z[\\]^_`a-z{|}~", true},
		{"257 characters", strings.Repeat("a", 257), false},
		{"space", "order 42", false},
		{"CR LF", "order-42\r\nX-Injected: 1", false},
		{"NUL", "order\x0042", false},
		{"non-ASCII", "bestellung-ä", false},
		{"DEL", "order\x7f", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tracing.WithCausationID(tracing.WithCorrelationID(t.Context(), tt.id), tt.id)
			get(t, ctx, tr, srv.URL, http.Header{"X-Correlation-Id": {"stale"}})
			h := srv.header()
			want := []string(nil)
			if tt.sent {
				want = []string{tt.id}
			}
			assert.Equal(t, want, h.Values("X-Correlation-Id"), "correlation header for %q", tt.id)
			assert.Equal(t, want, h.Values("X-Causation-Id"), "causation header for %q", tt.id)
			assert.Empty(t, h.Values("X-Injected"), "header injected by %q", tt.id)

			inj := http.Header{"X-Correlation-Id": {"stale"}}
			tracing.Propagator{}.Inject(ctx, inj)
			assert.Equal(t, want, inj.Values("X-Correlation-Id"), "Inject of %q", tt.id)
		})
	}

	// A server whose base context carries an invalid correlation ID gives
	// the request a fresh one, and echoes that.
	var mu sync.Mutex
	var seen string
	mw := httptest.NewUnstartedServer(tracing.Propagator{}.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = tracing.CorrelationID(r.Context())
		mu.Unlock()
	})))
	mw.Config.BaseContext = func(net.Listener) context.Context {
		return tracing.WithCorrelationID(context.Background(), "bad id\n")
	}
	mw.Start()
	defer mw.Close()
	resp := get(t, t.Context(), mw.Client().Transport, mw.URL, nil)
	mu.Lock()
	defer mu.Unlock()
	_, err := uuid.Parse(seen)
	assert.NoError(t, err, "correlation ID %q given by the middleware", seen)
	assert.Equal(t, seen, resp.Header.Get("X-Correlation-Id"), "correlation ID echoed")
}
