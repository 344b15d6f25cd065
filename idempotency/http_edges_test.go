package idempotency_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
)

// TestMiddlewareCutResponseIsNotReplayed: a handler that has started its
// answer (200 and a first part of the body) when the client goes away,
// and stops writing, leaves a truncated body behind. The key stays
// completed (the effect happened) but the truncated body must never be
// replayed as if it were the whole response: a retry gets 410 with the
// original status.
func TestMiddlewareCutResponseIsNotReplayed(t *testing.T) {
	for _, stop := range []string{"on the context", "on a write error"} {
		t.Run(stop, func(t *testing.T) {
			store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
			mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf})
			require.NoError(t, err, "Middleware")
			var runs atomic.Int32
			wrote := make(chan struct{}, 1)
			chunk := strings.Repeat("x", 8<<10)
			handler, done := served(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				runs.Add(1)
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Location", "/reports/1")
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, chunk)
				http.NewResponseController(w).Flush()
				wrote <- struct{}{}
				if stop == "on the context" {
					<-r.Context().Done() // stop streaming: nobody is listening
					return
				}
				// Stream until a write fails, as io.Copy does.
				for {
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
					if err := http.NewResponseController(w).Flush(); err != nil {
						return
					}
				}
			})))
			srv := httptest.NewServer(handler)
			defer srv.Close()

			// A raw client that reads the first part and hangs up.
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err, "dial")
			fmt.Fprintf(conn, "POST /orders HTTP/1.1\r\nHost: x\r\nIdempotency-Key: \"cut\"\r\nContent-Length: 2\r\n\r\n{}")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err, "first response")
			require.Equal(t, http.StatusOK, resp.StatusCode, "first response status")
			waitFor(t, wrote, "the handler to write its first part")
			require.NoError(t, conn.Close(), "client hangs up")
			waitFor(t, done, "the middleware to finish the cut request")

			s := &server{Server: srv}
			r := s.mustDo(t, http.MethodPost, `"cut"`, `{}`)
			requireProblem(t, r, http.StatusGone, idempotency.ProblemResponseNotKept, "retry of a request whose response was cut")
			assert.Equal(t, "/reports/1", r.header.Get("Location"), "retry: Location of the original response")
			var p struct {
				OriginalStatus int `json:"original_status"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.body), &p), "retry: problem body")
			assert.Equal(t, http.StatusOK, p.OriginalStatus, "retry: original_status")
			assert.EqualValues(t, 1, runs.Load(), "handler runs: the effect is not repeated")
		})
	}
}

// TestMiddlewareTwoServersOneDatabase: two servers, each with its own
// *sql.DB and SQLStore over one table (as two processes would be), and 16
// clients sending one request with one key at once, half to each server.
// Exactly one handler runs; while it runs every other client gets 409;
// afterwards each server replays its response.
func TestMiddlewareTwoServersOneDatabase(t *testing.T) {
	opens := map[string]func(t *testing.T) (*sql.DB, *sql.DB, idempotency.Dialect){
		"SQLite": func(t *testing.T) (*sql.DB, *sql.DB, idempotency.Dialect) {
			path := filepath.Join(t.TempDir(), "shared.db")
			open := func() *sql.DB {
				db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)")
				require.NoError(t, err, "open SQLite %s", path)
				t.Cleanup(func() { _ = db.Close() })
				return db
			}
			return open(), open(), idempotency.SQLite
		},
		"PostgreSQL": func(t *testing.T) (*sql.DB, *sql.DB, idempotency.Dialect) {
			return openPostgres(t), openPostgres(t), idempotency.Postgres
		},
	}
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			db1, db2, dialect := open(t)
			first := newSQLStore(t, db1, idempotency.SQLConfig{Dialect: dialect})
			second, err := idempotency.NewSQLStore(db2, idempotency.SQLConfig{Dialect: dialect, Table: first.Table()})
			require.NoError(t, err, "second store on %s", first.Table())
			t.Cleanup(func() { _ = second.Close() })

			api := &orderAPI{gate: make(chan struct{}), entered: make(chan struct{}, 16)}
			var servers [2]*server
			for i, store := range []idempotency.Store{first, second} {
				mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf})
				require.NoError(t, err, "Middleware")
				srv := httptest.NewServer(mw(api))
				t.Cleanup(srv.Close)
				servers[i] = &server{Server: srv, api: api}
			}

			const clients = 16
			start := make(chan struct{})
			results := make(chan response, clients)
			for i := range clients {
				go func() {
					<-start
					r, err := servers[i%2].do(t, http.MethodPost, `"race"`, `{"sku":"A"}`)
					if err != nil {
						r.status, r.body = -1, err.Error()
					}
					results <- r
				}()
			}
			close(start)
			waitFor(t, api.entered, "one handler to start")
			for i := range clients - 1 {
				r := <-results
				requireProblem(t, r, http.StatusConflict, idempotency.ProblemInProgress, fmt.Sprintf("concurrent client %d while the first runs", i))
			}
			close(api.gate)
			winner := <-results
			require.Equal(t, http.StatusCreated, winner.status, "the one client whose request ran (body %s)", winner.body)
			for i, s := range servers {
				r := s.mustDo(t, http.MethodPost, `"race"`, `{"sku":"A"}`)
				assert.Equal(t, "true", r.header.Get(idempotency.ReplayedHeader), "server %d: replay after the run", i)
				assert.Equal(t, winner.body, r.body, "server %d: replayed body", i)
			}
			assert.EqualValues(t, 1, api.runs.Load(), "handler runs over both servers")
		})
	}
}

// TestMiddlewareLargeBodies: a 10 MB request body is refused with 413
// under the default limit before anything is stored (chunked or with a
// Content-Length), and handled and replayed under a larger one; a 10 MB
// response is sent whole and not kept.
func TestMiddlewareLargeBodies(t *testing.T) {
	const size = 10 << 20
	big := strings.Repeat("z", size)
	store := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
	var runs atomic.Int32
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
		w.Write(body)
	})
	for _, chunked := range []bool{false, true} {
		mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf})
		require.NoError(t, err, "Middleware")
		srv := httptest.NewServer(mw(echo))
		var body io.Reader = strings.NewReader(big)
		if chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL, body)
		require.NoError(t, err, "NewRequest")
		req.Header.Set(idempotency.Header, `"big-in"`)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err, "POST 10 MB (chunked %v)", chunked)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		requireProblem(t, response{status: resp.StatusCode, header: resp.Header, body: string(b)}, http.StatusRequestEntityTooLarge,
			idempotency.ProblemBodyTooLarge, fmt.Sprintf("10 MB body, chunked %v", chunked))
		srv.Close()
	}
	assert.Zero(t, store.Len(), "nothing stored for a refused body")
	assert.Zero(t, runs.Load(), "handler runs for a refused body")

	mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf, MaxBodyBytes: 16 << 20, MaxResponseBytes: 16 << 20})
	require.NoError(t, err, "Middleware")
	srv := httptest.NewServer(mw(echo))
	defer srv.Close()
	s := &server{Server: srv}
	r := s.mustDo(t, http.MethodPost, `"big-ok"`, big)
	require.Equal(t, http.StatusCreated, r.status, "10 MB under a 16 MiB limit")
	assert.Len(t, r.body, size, "10 MB echoed")
	r = s.mustDo(t, http.MethodPost, `"big-ok"`, big)
	assert.Equal(t, "true", r.header.Get(idempotency.ReplayedHeader), "10 MB replay")
	assert.True(t, r.body == big, "10 MB replayed body is the original")
	requireProblem(t, s.mustDo(t, http.MethodPost, `"big-ok"`, big[:size-1]+"y"), http.StatusUnprocessableEntity,
		idempotency.ProblemKeyReused, "10 MB body differing in its last byte")

	mw, err = idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf, MaxBodyBytes: 16 << 20})
	require.NoError(t, err, "Middleware")
	srv2 := httptest.NewServer(mw(echo))
	defer srv2.Close()
	s = &server{Server: srv2}
	r = s.mustDo(t, http.MethodPost, `"big-out"`, big)
	assert.True(t, r.body == big, "10 MB response over MaxResponseBytes is sent whole")
	requireProblem(t, s.mustDo(t, http.MethodPost, `"big-out"`, big), http.StatusGone, idempotency.ProblemResponseNotKept, "retry of a 10 MB response")
	assert.EqualValues(t, 2, runs.Load(), "handler runs")
}

// TestMemoryStoreLimitsUnderConcurrency: many goroutines claim, complete,
// release and reclaim keys of a small MemoryStore at once, with expired
// records taken over and reaped on the way. The store's counts must not
// drift: once every record is gone, exactly MaxKeys new keys fit again
// (and MaxBytes of them), no fewer and no more.
func TestMemoryStoreLimitsUnderConcurrency(t *testing.T) {
	const maxKeys = 8
	var nowNanos atomic.Int64
	nowNanos.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, nowNanos.Load()) }
	s := newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1, Retention: time.Minute, MaxKeys: maxKeys, MaxBytes: 4096, Shards: 4, Now: now})
	ctx := context.Background()

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := idempotency.MustParse(fmt.Sprintf("k%d", (g*7+i)%24))
				c, err := s.Claim(ctx, k, idempotency.Fingerprint{}, time.Second)
				if err != nil {
					if !errors.Is(err, idempotency.ErrStoreFull) {
						t.Errorf("Claim(%s): %v", k, err)
						return
					}
					continue
				}
				if c.Status != idempotency.Claimed {
					continue
				}
				switch i % 3 {
				case 0:
					_ = s.Release(ctx, c.Lease)
				case 1:
					_ = s.Complete(ctx, c.Lease, idempotency.Result{Data: []byte(strings.Repeat("r", i%200))})
				}
				// case 2: abandoned, taken over once its lease ends
				if i%50 == 0 {
					nowNanos.Add(int64(2 * time.Second)) // leases end, sometimes retention
				}
				if i%500 == 0 {
					_, _ = s.Reap(ctx)
				}
			}
		}()
	}
	wg.Wait()
	nowNanos.Add(int64(time.Hour))
	_, err := s.Reap(ctx)
	require.NoError(t, err, "Reap")
	require.Zero(t, s.Len(), "records after everything expired and was reaped")

	var leases []idempotency.Lease
	for i := range maxKeys {
		c, err := s.Claim(ctx, idempotency.MustParse(fmt.Sprintf("fresh-%d", i)), idempotency.Fingerprint{}, time.Minute)
		require.NoError(t, err, "fresh claim %d of %d into an empty store", i+1, maxKeys)
		leases = append(leases, c.Lease)
	}
	_, err = s.Claim(ctx, idempotency.MustParse("one-too-many"), idempotency.Fingerprint{}, time.Minute)
	require.ErrorIs(t, err, idempotency.ErrStoreFull, "claim %d into a store of %d keys", maxKeys+1, maxKeys)
	for _, l := range leases {
		require.NoError(t, s.Release(ctx, l), "Release(%s)", l.Key)
	}
	// MaxBytes: 4096 bytes of keys and results; one 4000-byte result fits
	// in an empty store, and then a key of 100 bytes does not.
	c, err := s.Claim(ctx, idempotency.MustParse("b"), idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "claim for the byte test")
	require.NoError(t, s.Complete(ctx, c.Lease, idempotency.Result{Data: make([]byte, 4000)}), "Complete 4000 bytes")
	_, err = s.Claim(ctx, idempotency.MustParse(strings.Repeat("x", 100)), idempotency.Fingerprint{}, time.Minute)
	require.ErrorIs(t, err, idempotency.ErrStoreFull, "a 100-byte key beside 4001 bytes held (MaxBytes 4096)")
	_, err = s.Claim(ctx, idempotency.MustParse(strings.Repeat("x", 90)), idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "a 90-byte key beside 4001 bytes held (MaxBytes 4096)")
}

// committedThenCancelledStore is a Store whose Claim, like an SQL store
// whose INSERT commits just as the client's context is cancelled, makes
// the claim and then reports the context's error when the context ended
// meanwhile. Its Claim waits for proceed before claiming.
type committedThenCancelledStore struct {
	*idempotency.MemoryStore
	entered chan struct{}
	proceed chan struct{}
	once    sync.Once
}

func (s *committedThenCancelledStore) Claim(ctx context.Context, key idempotency.Key, fp idempotency.Fingerprint, lease time.Duration) (idempotency.Claim, error) {
	first := false
	s.once.Do(func() { first = true })
	if first {
		s.entered <- struct{}{}
		<-s.proceed
	}
	c, err := s.MemoryStore.Claim(context.WithoutCancel(ctx), key, fp, lease)
	if err == nil && ctx.Err() != nil {
		return idempotency.Claim{}, context.Cause(ctx) // committed, but the driver reports the cancellation
	}
	return c, err
}

// TestMiddlewareClientGoneDuringClaim: a client that goes away while its
// key is being claimed must not leave the key claimed for the whole lease
// (every retry answered 409 for 5 minutes): the claim is made whatever
// the client does, and then released because nothing was answered.
func TestMiddlewareClientGoneDuringClaim(t *testing.T) {
	store := &committedThenCancelledStore{
		MemoryStore: newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1}),
		entered:     make(chan struct{}, 1),
		proceed:     make(chan struct{}),
	}
	mw, err := idempotency.Middleware(idempotency.MiddlewareConfig{Store: store, Principal: accountOf})
	require.NoError(t, err, "Middleware")
	api := &orderAPI{}
	requests := make(chan context.Context, 1)
	handler, done := served(mw(api))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case requests <- r.Context():
		default:
		}
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err, "dial")
	fmt.Fprintf(conn, "POST /orders HTTP/1.1\r\nHost: x\r\nIdempotency-Key: \"claim-gone\"\r\nContent-Length: 2\r\n\r\n{}")
	reqCtx := <-requests
	waitFor(t, store.entered, "the claim to start")
	require.NoError(t, conn.Close(), "client hangs up during the claim")
	waitFor(t, reqCtx.Done(), "the server to see the client gone")
	close(store.proceed)
	waitFor(t, done, "the middleware to finish the abandoned request")

	s := &server{Server: srv, api: api}
	r := s.mustDo(t, http.MethodPost, `"claim-gone"`, `{}`)
	assert.Equal(t, http.StatusCreated, r.status, "retry after the client went away during the claim runs the handler (body %s)", r.body)
	assert.EqualValues(t, 1, api.runs.Load(), "handler runs: the abandoned request answered nothing")
}

// TestMiddlewarePrincipalSeparators: the principal and the client's key
// are joined length-prefixed, so no choice of separator characters makes
// one client's key another's: tenant "a|b" with key "c" and tenant "a"
// with key "b|c" (and the like) are distinct requests.
func TestMiddlewarePrincipalSeparators(t *testing.T) {
	s := newServer(t, idempotency.MiddlewareConfig{})
	pairs := []struct{ account, key string }{
		{"a|b", `"c"`}, {"a", `"b|c"`}, {"a:b", `"c"`}, {"a", `"b:c"`}, {"a/http/b", `"c"`}, {"a", `"http/b/c"`}, {"ab", `"c"`}, {"a", `"bc"`},
	}
	for _, p := range pairs {
		r := s.mustDo(t, http.MethodPost, p.key, `{}`, "X-Account", p.account)
		assert.Equal(t, http.StatusCreated, r.status, "account %q key %s (body %s)", p.account, p.key, r.body)
		assert.Empty(t, r.header.Get(idempotency.ReplayedHeader), "account %q key %s is nobody else's replay", p.account, p.key)
	}
	assert.EqualValues(t, len(pairs), s.api.runs.Load(), "handler runs: one per account and key")
}
