package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
)

// orderAPI is a handler that creates orders and counts how often it ran.
type orderAPI struct {
	runs    atomic.Int32
	gate    chan struct{} // when set, each request signals entered and waits on it
	entered chan struct{}
	panics  atomic.Int32 // the next n requests panic
	status  atomic.Int32 // when set, the status to answer instead of 201
}

func (a *orderAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := a.runs.Add(1)
	if a.gate != nil {
		a.entered <- struct{}{}
		<-a.gate
	}
	if a.panics.Add(-1) >= 0 {
		panic("order handler exploded")
	}
	body, _ := io.ReadAll(r.Body)
	status := int(a.status.Load())
	if status == 0 {
		status = http.StatusCreated
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", fmt.Sprintf("/orders/%d", n))
	w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", n))
	w.Header().Set("Set-Cookie", "session=secret")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"order":%d,`, n)
	w.(http.Flusher).Flush() // streaming handlers keep working behind the middleware
	fmt.Fprintf(w, `"request":%s}`, body)
}

// accountOf is the test servers' principal: the X-Account header, or
// "default" without one.
func accountOf(r *http.Request) string {
	if a := r.Header.Get("X-Account"); a != "" {
		return a
	}
	return "default"
}

type server struct {
	*httptest.Server
	api   *orderAPI
	store *idempotency.MemoryStore
}

func newServer(t *testing.T, cfg idempotency.MiddlewareConfig) *server {
	t.Helper()
	api := &orderAPI{}
	store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
	cfg.Store = store
	if cfg.Principal == nil && !cfg.AllowAnonymous {
		cfg.Principal = accountOf
	}
	mw, err := idempotency.Middleware(cfg)
	require.NoError(t, err, "Middleware(%+v)", cfg)
	srv := httptest.NewUnstartedServer(mw(api))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the panic test is noisy
	srv.Start()
	t.Cleanup(srv.Close)
	return &server{Server: srv, api: api, store: store}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (s *server) do(t *testing.T, method, key, body string, header ...string) (response, error) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+"/orders", strings.NewReader(body))
	require.NoError(t, err, "NewRequest")
	if key != "" {
		req.Header.Set(idempotency.Header, key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}, err
}

func (s *server) mustDo(t *testing.T, method, key, body string, header ...string) response {
	t.Helper()
	r, err := s.do(t, method, key, body, header...)
	require.NoError(t, err, "%s /orders with key %s", method, key)
	return r
}

func requireProblem(t *testing.T, r response, status int, typ, what string) {
	t.Helper()
	require.Equal(t, status, r.status, "%s: status (body %s)", what, r.body)
	assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "%s: content type", what)
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &p), "%s: problem body %s", what, r.body)
	assert.Equal(t, typ, p.Type, "%s: problem type", what)
	assert.NotEmpty(t, p.Title, "%s: problem title", what)
	assert.Equal(t, status, p.Status, "%s: problem status", what)
}

func TestMiddlewareReplaysCompletedRequest(t *testing.T) {
	s := newServer(t, idempotency.MiddlewareConfig{})
	first := s.mustDo(t, http.MethodPost, `"order-key-1"`, `{"sku":"A"}`)
	require.Equal(t, http.StatusCreated, first.status, "first POST")
	assert.Empty(t, first.header.Get(idempotency.ReplayedHeader), "first POST is not a replay")
	assert.Equal(t, "req-1", first.header.Get("X-Request-Id"), "first POST gets the handler's own headers")

	for i := range 2 {
		again := s.mustDo(t, http.MethodPost, `"order-key-1"`, `{"sku":"A"}`)
		assert.Equal(t, http.StatusCreated, again.status, "replay %d: status", i)
		assert.Equal(t, first.body, again.body, "replay %d: body", i)
		assert.Equal(t, "true", again.header.Get(idempotency.ReplayedHeader), "replay %d: %s", i, idempotency.ReplayedHeader)
		assert.Equal(t, "/orders/1", again.header.Get("Location"), "replay %d: Location (allow-listed)", i)
		assert.Equal(t, "application/json", again.header.Get("Content-Type"), "replay %d: Content-Type (allow-listed)", i)
		assert.Empty(t, again.header.Get("X-Request-Id"), "replay %d: X-Request-Id is not allow-listed", i)
		assert.Empty(t, again.header.Get("Set-Cookie"), "replay %d: Set-Cookie is never replayed", i)
	}
	assert.EqualValues(t, 1, s.api.runs.Load(), "handler runs for three POSTs with one key")

	// Another key, or the same key from another principal, is another request.
	assert.Equal(t, http.StatusCreated, s.mustDo(t, http.MethodPost, `"order-key-2"`, `{"sku":"A"}`).status, "POST with another key")
	other := s.mustDo(t, http.MethodPost, `"order-key-1"`, `{"sku":"A"}`, "X-Account", "acme")
	assert.Equal(t, http.StatusCreated, other.status, "POST with the same key by another principal")
	assert.Empty(t, other.header.Get(idempotency.ReplayedHeader), "another principal's request is not a replay")
	assert.EqualValues(t, 3, s.api.runs.Load(), "handler runs")
}

func TestMiddlewareProblems(t *testing.T) {
	s := newServer(t, idempotency.MiddlewareConfig{Required: true, MaxBodyBytes: 64})
	require.Equal(t, http.StatusCreated, s.mustDo(t, http.MethodPost, `"k1"`, `{"sku":"A"}`).status, "first POST")

	requireProblem(t, s.mustDo(t, http.MethodPost, `"k1"`, `{"sku":"B"}`), http.StatusUnprocessableEntity, idempotency.ProblemKeyReused, "same key, different body")
	requireProblem(t, s.mustDo(t, http.MethodPost, "", `{"sku":"A"}`), http.StatusBadRequest, idempotency.ProblemKeyMissing, "no key while required")
	requireProblem(t, s.mustDo(t, http.MethodPost, `bare-token`, `{}`), http.StatusBadRequest, idempotency.ProblemKeyInvalid, "bare token in strict mode")
	requireProblem(t, s.mustDo(t, http.MethodPost, `"unterminated`, `{}`), http.StatusBadRequest, idempotency.ProblemKeyInvalid, "unterminated string")
	requireProblem(t, s.mustDo(t, http.MethodPost, `"k2"`, `{}`, idempotency.Header, `"k3"`), http.StatusBadRequest, idempotency.ProblemKeyInvalid, "two Idempotency-Key headers")

	big := `{"sku":"` + strings.Repeat("x", 100) + `"}`
	requireProblem(t, s.mustDo(t, http.MethodPost, `"k-big"`, big), http.StatusRequestEntityTooLarge, idempotency.ProblemBodyTooLarge, "body over the limit, known length")
	// A body of unknown length (chunked) is cut at the limit too.
	req, err := http.NewRequest(http.MethodPost, s.URL+"/orders", io.MultiReader(strings.NewReader(big)))
	require.NoError(t, err, "NewRequest chunked")
	req.Header.Set(idempotency.Header, `"k-big"`)
	resp, err := s.Client().Do(req)
	require.NoError(t, err, "chunked POST")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	requireProblem(t, response{status: resp.StatusCode, header: resp.Header, body: string(b)}, http.StatusRequestEntityTooLarge, idempotency.ProblemBodyTooLarge, "body over the limit, chunked")
	// Nothing was stored for the rejected key: it works with a small body.
	assert.Equal(t, http.StatusCreated, s.mustDo(t, http.MethodPost, `"k-big"`, `{}`).status, "key of a rejected large body, reused with a small body")
	assert.EqualValues(t, 2, s.api.runs.Load(), "handler runs")
}

func TestMiddlewarePassThrough(t *testing.T) {
	s := newServer(t, idempotency.MiddlewareConfig{})
	for i := range 2 {
		assert.Equal(t, http.StatusCreated, s.mustDo(t, http.MethodPost, "", `{}`).status, "POST #%d without key, not required", i)
		r := s.mustDo(t, http.MethodPut, `"put-key"`, `{}`)
		assert.Empty(t, r.header.Get(idempotency.ReplayedHeader), "PUT #%d is not guarded", i)
	}
	assert.EqualValues(t, 4, s.api.runs.Load(), "handler runs for unguarded requests")
}

func TestMiddlewareLenient(t *testing.T) {
	s := newServer(t, idempotency.MiddlewareConfig{Lenient: true})
	assert.Equal(t, http.StatusCreated, s.mustDo(t, http.MethodPost, `stripe-style-key`, `{}`).status, "bare key in lenient mode")
	r := s.mustDo(t, http.MethodPost, `"stripe-style-key"`, `{}`)
	assert.Equal(t, "true", r.header.Get(idempotency.ReplayedHeader), "the quoted form of a bare key is the same key")
}

func TestMiddlewareRetryableStatusReleases(t *testing.T) {
	s := newServer(t, idempotency.MiddlewareConfig{})
	s.api.status.Store(http.StatusServiceUnavailable)
	assert.Equal(t, http.StatusServiceUnavailable, s.mustDo(t, http.MethodPost, `"k"`, `{}`).status, "first POST fails with 503")
	s.api.status.Store(http.StatusBadRequest)
	assert.Equal(t, http.StatusBadRequest, s.mustDo(t, http.MethodPost, `"k"`, `{}`).status, "retry after 503 runs the handler, which now says 400")
	r := s.mustDo(t, http.MethodPost, `"k"`, `{}`)
	assert.Equal(t, http.StatusBadRequest, r.status, "a 400 is stored and replayed")
	assert.Equal(t, "true", r.header.Get(idempotency.ReplayedHeader), "replayed 400")
	assert.EqualValues(t, 2, s.api.runs.Load(), "handler runs")
}

func TestMiddlewareHandlerPanicReleasesKey(t *testing.T) {
	s := newServer(t, idempotency.MiddlewareConfig{})
	s.api.panics.Store(1)
	// This must be the client's first request: net/http's Transport
	// retries a request carrying Idempotency-Key by itself when a reused
	// connection breaks, which would hide the aborted response.
	_, err := s.do(t, http.MethodPost, `"panic-key"`, `{}`)
	require.Error(t, err, "the client sees the aborted response of a panicking handler")
	r := s.mustDo(t, http.MethodPost, `"panic-key"`, `{}`)
	assert.Equal(t, http.StatusCreated, r.status, "retry after the panic runs the handler again")
	assert.Empty(t, r.header.Get(idempotency.ReplayedHeader), "retry after the panic is not a replay")
	assert.EqualValues(t, 2, s.api.runs.Load(), "handler runs")
}

func TestMiddlewareConcurrentDuplicates(t *testing.T) {
	s := newServer(t, idempotency.MiddlewareConfig{Lease: 30 * time.Second})
	s.api.gate, s.api.entered = make(chan struct{}), make(chan struct{}, 1)
	const n = 24
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		bodies   = map[string]int{}
	)
	// The first request enters the handler and waits at the gate.
	first := make(chan response, 1)
	go func() { r, _ := s.do(t, http.MethodPost, `"dup"`, `{"sku":"A"}`); first <- r }()
	<-s.api.entered
	for range n {
		wg.Go(func() {
			r, err := s.do(t, http.MethodPost, `"dup"`, `{"sku":"A"}`)
			if !assert.NoError(t, err, "concurrent duplicate POST") {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			statuses[r.status]++
			if r.status == http.StatusConflict {
				requireProblem(t, r, http.StatusConflict, idempotency.ProblemInProgress, "duplicate while in flight")
				// A short interval, not the 30s the lease has left.
				assert.Equal(t, "1", r.header.Get("Retry-After"), "Retry-After of a duplicate while in flight")
			}
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusConflict: n}, statuses, "%d duplicates while the first is in flight", n)
	close(s.api.gate)
	orig := <-first
	require.Equal(t, http.StatusCreated, orig.status, "the original request")

	// Now all duplicates, concurrently, get the replay.
	for range n {
		wg.Go(func() {
			r, err := s.do(t, http.MethodPost, `"dup"`, `{"sku":"A"}`)
			if !assert.NoError(t, err, "duplicate POST after completion") {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			bodies[r.body]++
			assert.Equal(t, "true", r.header.Get(idempotency.ReplayedHeader), "duplicate after completion")
		})
	}
	wg.Wait()
	assert.Equal(t, map[string]int{orig.body: n}, bodies, "bodies of %d duplicates after completion", n)
	assert.EqualValues(t, 1, s.api.runs.Load(), "handler runs for %d duplicates", 2*n+1)
}

func TestMiddlewareConcurrentLoadManyKeys(t *testing.T) {
	s := newServer(t, idempotency.MiddlewareConfig{})
	const keys, copies = 20, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	bodies := map[int]map[string]bool{}
	for k := range keys {
		bodies[k] = map[string]bool{}
	}
	for k := range keys {
		for range copies {
			wg.Go(func() {
				r, err := s.do(t, http.MethodPost, fmt.Sprintf(`"load-%d"`, k), fmt.Sprintf(`{"n":%d}`, k))
				if !assert.NoError(t, err, "POST load-%d", k) {
					return
				}
				if r.status == http.StatusConflict {
					return // in flight; its client would retry
				}
				assert.Equal(t, http.StatusCreated, r.status, "POST load-%d", k)
				mu.Lock()
				bodies[k][r.body] = true
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	for k := range keys {
		assert.Len(t, bodies[k], 1, "distinct successful bodies for key load-%d", k)
	}
	assert.EqualValues(t, keys, s.api.runs.Load(), "handler runs for %d keys × %d copies", keys, copies)
}

// failingStore fails every call, to check the 503 path.
type failingStore struct{}

var errStoreDown = errors.New("store down")

func (failingStore) Claim(context.Context, idempotency.Key, idempotency.Fingerprint, time.Duration) (idempotency.Claim, error) {
	return idempotency.Claim{}, errStoreDown
}
func (failingStore) Complete(context.Context, idempotency.Lease, idempotency.Result) error {
	return errStoreDown
}
func (failingStore) Release(context.Context, idempotency.Lease) error { return errStoreDown }

func TestMiddlewareStoreFailure(t *testing.T) {
	mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: failingStore{}, AllowAnonymous: true})
	require.NoError(t, err, "Middleware")
	srv := httptest.NewServer(mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler ran although the store failed")
	})))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	req.Header.Set(idempotency.Header, `"k"`)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err, "POST")
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	requireProblem(t, response{status: resp.StatusCode, header: resp.Header, body: string(b)}, http.StatusServiceUnavailable, idempotency.ProblemStoreUnusable, "store failure")
	assert.Equal(t, "1", resp.Header.Get("Retry-After"), "Retry-After on store failure")
}

// TestMiddlewareFingerprintCoversRequest checks that a key reused for
// another path (path values of one route included), query string or method
// is refused with 422, whether the middleware wraps the route's handler
// (r.Pattern set) or the whole mux (r.Pattern empty).
func TestMiddlewareFingerprintCoversRequest(t *testing.T) {
	for _, mount := range []string{"inside the mux", "around the mux"} {
		t.Run(mount, func(t *testing.T) {
			store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
			mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf})
			require.NoError(t, err, "Middleware")
			var runs atomic.Int32
			cancel := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				runs.Add(1)
				w.WriteHeader(http.StatusAccepted)
				fmt.Fprintf(w, "cancelled %s", r.PathValue("id"))
			})
			mux := http.NewServeMux()
			var h http.Handler = mux
			if mount == "inside the mux" {
				mux.Handle("/orders/{id}/cancel", mw(cancel))
			} else {
				mux.Handle("/orders/{id}/cancel", cancel)
				h = mw(mux)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			send := func(method, path, key string) response {
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(`{"reason":"customer"}`))
				req.Header.Set(idempotency.Header, key)
				resp, err := srv.Client().Do(req)
				require.NoError(t, err, "%s %s", method, path)
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
			}
			require.Equal(t, http.StatusAccepted, send(http.MethodPost, "/orders/1/cancel", `"cancel-1"`).status, "first cancel of order 1")
			r := send(http.MethodPost, "/orders/1/cancel", `"cancel-1"`)
			assert.Equal(t, "true", r.header.Get(idempotency.ReplayedHeader), "same key, same request: replayed")
			for _, tc := range []struct{ method, path, what string }{
				{http.MethodPost, "/orders/2/cancel", "another order (path value) of the same route"},
				{http.MethodPost, "/orders/1/cancel?force=true", "another query string"},
				{http.MethodPatch, "/orders/1/cancel", "another method"},
			} {
				requireProblem(t, send(tc.method, tc.path, `"cancel-1"`), http.StatusUnprocessableEntity, idempotency.ProblemKeyReused, "same key, "+tc.what)
			}
			assert.EqualValues(t, 1, runs.Load(), "handler runs")
			// The second order with a key of its own is cancelled.
			r = send(http.MethodPost, "/orders/2/cancel", `"cancel-2"`)
			assert.Equal(t, "cancelled 2", r.body, "cancel of order 2 with its own key")
		})
	}
}

func TestMiddlewareConfigValidate(t *testing.T) {
	store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
	principal := func(*http.Request) string { return "p" }
	for _, tt := range []struct {
		cfg     idempotency.MiddlewareConfig
		wantErr string
	}{
		{idempotency.MiddlewareConfig{Principal: principal}, "Store is nil"},
		{idempotency.MiddlewareConfig{Store: store, Principal: principal, Lease: -1}, "Lease -1ns"},
		{idempotency.MiddlewareConfig{Store: store, Principal: principal, MaxBodyBytes: -1}, "MaxBodyBytes -1"},
		{idempotency.MiddlewareConfig{Store: store, Principal: principal, MaxResponseBytes: -1}, "MaxResponseBytes -1"},
		{idempotency.MiddlewareConfig{Store: store, Principal: principal, InProgressRetryAfter: -time.Second}, "InProgressRetryAfter -1s"},
		// Scoping is safe by default: no principal needs an explicit opt-in.
		{idempotency.MiddlewareConfig{Store: store}, "Principal is nil and AllowAnonymous is false"},
	} {
		_, err := idempotency.Middleware(tt.cfg)
		assert.ErrorIs(t, err, idempotency.ErrInvalidConfig, "Middleware(%+v)", tt.cfg)
		assert.ErrorContains(t, err, tt.wantErr, "Middleware(%+v)", tt.cfg)
	}
	_, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, AllowAnonymous: true})
	assert.NoError(t, err, "Middleware without Principal, AllowAnonymous set")
}

// TestMiddlewareOverSQLStores runs a real HTTP client against the
// middleware on SQLite and PostgreSQL (the memory store is used by the
// other tests).
func TestMiddlewareOverSQLStores(t *testing.T) {
	stores := map[string]func(t *testing.T) idempotency.Store{
		"SQLite": func(t *testing.T) idempotency.Store {
			return newSQLStore(t, openSQLite(t), idempotency.SQLConfig{Dialect: idempotency.SQLite})
		},
		"PostgreSQL": func(t *testing.T) idempotency.Store {
			return newSQLStore(t, openPostgres(t), idempotency.SQLConfig{Dialect: idempotency.Postgres})
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: newStore(t), Principal: accountOf})
			require.NoError(t, err, "Middleware")
			api := &orderAPI{}
			srv := httptest.NewServer(mw(api))
			defer srv.Close()
			s := &server{Server: srv, api: api}
			first := s.mustDo(t, http.MethodPost, `"sql-key"`, `{"sku":"A"}`)
			require.Equal(t, http.StatusCreated, first.status, "first POST")
			again := s.mustDo(t, http.MethodPost, `"sql-key"`, `{"sku":"A"}`)
			assert.Equal(t, first.body, again.body, "replayed body")
			assert.Equal(t, "true", again.header.Get(idempotency.ReplayedHeader), "replay")
			assert.Equal(t, "/orders/1", again.header.Get("Location"), "replayed Location")
			requireProblem(t, s.mustDo(t, http.MethodPost, `"sql-key"`, `{"sku":"B"}`), http.StatusUnprocessableEntity, idempotency.ProblemKeyReused, "reuse with another body")
			other := s.mustDo(t, http.MethodPost, `"sql-key"`, `{"sku":"A"}`, "X-Account", "other")
			assert.Empty(t, other.header.Get(idempotency.ReplayedHeader), "the same key from another principal is not a replay")
			assert.EqualValues(t, 2, api.runs.Load(), "handler runs")
		})
	}
}
