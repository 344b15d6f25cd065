package idempotency_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/idempotency/idempotencytest"
)

// served wraps h and signals on the returned channel each time a request
// has been fully handled by it (the middleware included).
func served(h http.Handler) (http.Handler, <-chan struct{}) {
	done := make(chan struct{}, 16)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		h.ServeHTTP(w, r)
	}), done
}

func waitFor(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second): // only keeps a broken middleware from hanging the test
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestMiddlewareClientGoneReleasesKey(t *testing.T) {
	store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
	mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf})
	require.NoError(t, err, "Middleware")
	var runs atomic.Int32
	entered := make(chan struct{}, 1)
	handler, done := served(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if runs.Add(1) == 1 {
			entered <- struct{}{}
			<-r.Context().Done() // the client went away: answer nothing
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"order":"SO-1"}`)
	})))
	srv := httptest.NewServer(handler)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/orders", strings.NewReader(`{"sku":"A"}`))
	require.NoError(t, err, "NewRequest")
	req.Header.Set(idempotency.Header, `"gone-key"`)
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitFor(t, entered, "the first request to reach the handler")
	cancel() // the client disconnects mid-request
	require.ErrorIs(t, <-errc, context.Canceled, "the client's cancelled request")
	waitFor(t, done, "the middleware to finish the abandoned request")

	s := &server{Server: srv}
	r := s.mustDo(t, http.MethodPost, `"gone-key"`, `{"sku":"A"}`)
	assert.Equal(t, http.StatusCreated, r.status, "retry after the client went away runs the handler (not an empty 200 replayed)")
	assert.Equal(t, `{"order":"SO-1"}`, r.body, "retry body")
	assert.Empty(t, r.header.Get(idempotency.ReplayedHeader), "retry after the client went away is not a replay")
	assert.EqualValues(t, 2, runs.Load(), "handler runs")
	// The answered retry is stored like any other.
	r = s.mustDo(t, http.MethodPost, `"gone-key"`, `{"sku":"A"}`)
	assert.Equal(t, "true", r.header.Get(idempotency.ReplayedHeader), "second retry is a replay")
}

func TestMiddlewareImplicitStatusHeadersReplayed(t *testing.T) {
	handlers := map[string]http.HandlerFunc{
		"Write without WriteHeader": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Location", "/orders/7")
			w.Header().Set("ETag", `"v1"`)
			fmt.Fprint(w, `{"order":7}`)
		},
		"neither WriteHeader nor Write": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/orders/7")
			w.Header().Set("ETag", `"v1"`)
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
			mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf})
			require.NoError(t, err, "Middleware")
			srv := httptest.NewServer(mw(h))
			defer srv.Close()
			s := &server{Server: srv}
			first := s.mustDo(t, http.MethodPost, `"implicit"`, `{}`)
			require.Equal(t, http.StatusOK, first.status, "first response")
			again := s.mustDo(t, http.MethodPost, `"implicit"`, `{}`)
			require.Equal(t, "true", again.header.Get(idempotency.ReplayedHeader), "second request is a replay")
			assert.Equal(t, http.StatusOK, again.status, "replayed status")
			for _, name := range []string{"Location", "ETag", "Content-Type"} {
				assert.Equal(t, first.header.Get(name), again.header.Get(name), "replayed %s", name)
			}
			assert.Equal(t, "/orders/7", again.header.Get("Location"), "replayed Location")
			assert.Equal(t, first.body, again.body, "replayed body")
		})
	}
}

func TestMiddlewareResponseTooLargeIsNotKept(t *testing.T) {
	const limit = 16
	store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
	mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf, MaxResponseBytes: limit})
	require.NoError(t, err, "Middleware")
	var runs atomic.Int32
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Location", "/reports/1")
		w.WriteHeader(http.StatusCreated)
		// Two writes, so the limit is crossed in the middle of the response.
		w.Write(body[:len(body)/2])
		w.Write(body[len(body)/2:])
	})))
	defer srv.Close()
	s := &server{Server: srv}

	atLimit := strings.Repeat("a", limit)
	first := s.mustDo(t, http.MethodPost, `"small"`, atLimit)
	again := s.mustDo(t, http.MethodPost, `"small"`, atLimit)
	assert.Equal(t, "true", again.header.Get(idempotency.ReplayedHeader), "response of exactly MaxResponseBytes: replayed")
	assert.Equal(t, first.body, again.body, "response of exactly MaxResponseBytes: replayed body")

	big := strings.Repeat("b", 3*limit)
	first = s.mustDo(t, http.MethodPost, `"big"`, big)
	assert.Equal(t, http.StatusCreated, first.status, "response over the limit: status sent")
	assert.Equal(t, big, first.body, "response over the limit is still sent whole to the client")
	for i := range 2 {
		r := s.mustDo(t, http.MethodPost, `"big"`, big)
		requireProblem(t, r, http.StatusGone, idempotency.ProblemResponseNotKept, fmt.Sprintf("retry %d of a request whose response was not kept", i))
		assert.Equal(t, "true", r.header.Get(idempotency.ReplayedHeader), "retry %d: %s", i, idempotency.ReplayedHeader)
		assert.Equal(t, "/reports/1", r.header.Get("Location"), "retry %d: Location of the original response", i)
		var p struct {
			OriginalStatus int `json:"original_status"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.body), &p), "retry %d: problem body", i)
		assert.Equal(t, http.StatusCreated, p.OriginalStatus, "retry %d: original_status", i)
	}
	assert.EqualValues(t, 2, runs.Load(), "handler runs (one per key): the effect behind the large response is not repeated")
}

func TestMiddlewareInProgressRetryAfterIsShort(t *testing.T) {
	clock := idempotencytest.NewClock(time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC))
	store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1, Now: clock.Now})
	mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{
		Store: store, Principal: accountOf, Lease: 10 * time.Minute, InProgressRetryAfter: 3 * time.Second,
	})
	require.NoError(t, err, "Middleware")
	api := &orderAPI{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	srv := httptest.NewServer(mw(api))
	defer srv.Close()
	s := &server{Server: srv, api: api}
	first := make(chan response, 1)
	go func() { r, _ := s.do(t, http.MethodPost, `"slow"`, `{}`); first <- r }()
	waitFor(t, api.entered, "the first request to reach the handler")

	r := s.mustDo(t, http.MethodPost, `"slow"`, `{}`)
	requireProblem(t, r, http.StatusConflict, idempotency.ProblemInProgress, "duplicate while in flight")
	assert.Equal(t, "3", r.header.Get("Retry-After"), "Retry-After with 10m of lease left: the configured interval")
	clock.Advance(10*time.Minute - 1500*time.Millisecond)
	r = s.mustDo(t, http.MethodPost, `"slow"`, `{}`)
	assert.Equal(t, "2", r.header.Get("Retry-After"), "Retry-After with 1.5s of lease left: the lease's end, rounded up")
	close(api.gate)
	assert.Equal(t, http.StatusCreated, (<-first).status, "the original request")
}

func TestMiddlewarePrincipalScoping(t *testing.T) {
	headerOnly := func(r *http.Request) string { return r.Header.Get("X-Account") }
	t.Run("no principal is refused", func(t *testing.T) {
		s := newServer(t, idempotency.MiddlewareConfig{Principal: headerOnly})
		requireProblem(t, s.mustDo(t, http.MethodPost, `"k"`, `{}`), http.StatusForbidden, idempotency.ProblemPrincipalMissing, "request without a principal")
		assert.Zero(t, s.api.runs.Load(), "handler runs for a request without a principal")
		assert.Equal(t, http.StatusCreated, s.mustDo(t, http.MethodPost, `"k"`, `{}`, "X-Account", "acme").status, "request with a principal")
		// Without a key the middleware does not guard, so it needs no principal.
		assert.Equal(t, http.StatusCreated, s.mustDo(t, http.MethodPost, "", `{}`).status, "request without a key nor a principal")
	})
	t.Run("AllowAnonymous", func(t *testing.T) {
		for _, principal := range []func(*http.Request) string{nil, headerOnly} {
			s := newServer(t, idempotency.MiddlewareConfig{Principal: principal, AllowAnonymous: true})
			assert.Equal(t, http.StatusCreated, s.mustDo(t, http.MethodPost, `"k"`, `{}`).status, "anonymous request (Principal set: %v)", principal != nil)
			r := s.mustDo(t, http.MethodPost, `"k"`, `{}`)
			assert.Equal(t, "true", r.header.Get(idempotency.ReplayedHeader), "anonymous requests share one key space (Principal set: %v)", principal != nil)
		}
	})
}

func TestMiddlewareStoreFull(t *testing.T) {
	store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1, MaxKeys: 1})
	mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf})
	require.NoError(t, err, "Middleware")
	api := &orderAPI{}
	srv := httptest.NewServer(mw(api))
	defer srv.Close()
	s := &server{Server: srv, api: api}
	assert.Equal(t, http.StatusCreated, s.mustDo(t, http.MethodPost, `"first"`, `{}`).status, "first key")
	r := s.mustDo(t, http.MethodPost, `"second"`, `{}`)
	requireProblem(t, r, http.StatusServiceUnavailable, idempotency.ProblemStoreUnusable, "second key, store full")
	assert.Equal(t, "1", r.header.Get("Retry-After"), "Retry-After when the store is full")
	assert.Equal(t, "true", s.mustDo(t, http.MethodPost, `"first"`, `{}`).header.Get(idempotency.ReplayedHeader), "the first key still replays")
	assert.EqualValues(t, 1, api.runs.Load(), "handler runs")
}
