package idempotency

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// The problem types (RFC 9457) of the responses the middleware writes
// itself. They are stable identifiers, not necessarily resolvable URLs.
const (
	// ProblemKeyMissing: 400, the Idempotency-Key header is required and absent.
	ProblemKeyMissing = "https://distsync.dev/problems/idempotency-key-missing"
	// ProblemKeyInvalid: 400, the header is malformed or repeated.
	ProblemKeyInvalid = "https://distsync.dev/problems/idempotency-key-invalid"
	// ProblemKeyReused: 422, the key was used for a request with another body.
	ProblemKeyReused = "https://distsync.dev/problems/idempotency-key-reused"
	// ProblemInProgress: 409, the first request with the key is still running.
	ProblemInProgress = "https://distsync.dev/problems/idempotency-request-in-progress"
	// ProblemBodyTooLarge: 413, the body exceeds MiddlewareConfig.MaxBodyBytes.
	ProblemBodyTooLarge = "https://distsync.dev/problems/idempotency-body-too-large"
	// ProblemBodyUnread: 400, the request body could not be read.
	ProblemBodyUnread = "https://distsync.dev/problems/idempotency-body-unreadable"
	// ProblemStoreUnusable: 503, the store failed or holds an unreadable response.
	ProblemStoreUnusable = "https://distsync.dev/problems/idempotency-store-unavailable"
)

// ReplayedHeader is the response header the middleware sets to "true" on a
// replayed response.
const ReplayedHeader = "Idempotent-Replayed"

// DefaultMaxBodyBytes is the request body limit when
// MiddlewareConfig.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// defaultReplayHeaders are documented on MiddlewareConfig.ReplayHeaders.
var defaultReplayHeaders = []string{"Content-Type", "Content-Language", "Content-Location", "Location", "ETag", "Last-Modified"}

// MiddlewareConfig configures [Middleware]. Store is required; the other
// zero values are the documented defaults. Middleware copies what it needs,
// so the config may be reused; the functions in it are called concurrently
// and must be safe for concurrent use.
type MiddlewareConfig struct {
	// Store keeps the keys. Required.
	Store Store
	// Lease is how long a request holds its key; choose it longer than
	// any handler runs. Zero means [DefaultLease].
	Lease time.Duration
	// Required makes a request without an Idempotency-Key header fail
	// with 400. When false such a request goes to the handler unguarded.
	Required bool
	// Lenient accepts a bare key (Stripe style) besides the RFC 8941
	// quoted string; see [ParseHeader].
	Lenient bool
	// Methods are the request methods the middleware guards; others pass
	// straight through. Nil means POST and PATCH, the methods that are not
	// idempotent by definition.
	Methods []string
	// Principal returns who makes the request (a tenant, an account, an
	// API key ID), which scopes the client's keys so that two clients
	// choosing the same key never meet. Nil means every request has the
	// same principal: set it on any server with more than one client.
	Principal func(*http.Request) string
	// Route returns the operation a request targets, with the method
	// scoping the key. Nil means the request's ServeMux pattern
	// ([http.Request.Pattern]) when set, otherwise its URL path.
	Route func(*http.Request) string
	// MaxBodyBytes limits the request body the middleware reads to
	// fingerprint it; a larger body gets 413 before anything is stored.
	// Zero means [DefaultMaxBodyBytes].
	MaxBodyBytes int64
	// ReplayHeaders are the response headers stored and replayed. Nil
	// means Content-Type, Content-Language, Content-Location, Location,
	// ETag and Last-Modified; cookies and other per-session headers are
	// deliberately absent.
	ReplayHeaders []string
	// Retryable reports whether a response status releases the key, so
	// that the client's retry runs the handler again, instead of being
	// stored and replayed. Nil means 408, 429 and every 5xx status.
	Retryable func(status int) bool
	// Logger receives store failures that happen after the response was
	// sent and so cannot be reported to the client. Nil means discard.
	Logger *slog.Logger
}

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (c MiddlewareConfig) Validate() error {
	switch {
	case c.Store == nil:
		return fmt.Errorf("idempotency: MiddlewareConfig.Store is nil: %w", ErrInvalidConfig)
	case c.Lease < 0:
		return fmt.Errorf("idempotency: MiddlewareConfig.Lease %v is negative: %w", c.Lease, ErrInvalidConfig)
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("idempotency: MiddlewareConfig.MaxBodyBytes %d is negative: %w", c.MaxBodyBytes, ErrInvalidConfig)
	}
	return nil
}

// DefaultRetryable is the Retryable function used when
// MiddlewareConfig.Retryable is nil: 408, 429 and 5xx release the key.
func DefaultRetryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// Middleware returns HTTP middleware that makes requests carrying an
// Idempotency-Key header (IETF draft-ietf-httpapi-idempotency-key-header)
// take effect once: the first request with a key runs the handler and its
// response is stored; a later request with the same key, principal, method
// and route and the same body gets the stored response again, marked with
// "Idempotent-Replayed: true", without running the handler.
//
// The middleware answers itself, with an application/problem+json body
// (RFC 9457) whose type is one of the Problem constants:
//
//   - 400 when the key is missing (and Required) or malformed;
//   - 413 when the body exceeds MaxBodyBytes, before anything is stored;
//   - 422 when the key was used for a request with a different body;
//   - 409 with Retry-After while the first request with the key is still
//     being handled;
//   - 503 with Retry-After when the store fails.
//
// A response with a Retryable status, and a handler that panics, release
// the key (the panic then continues to the server). The handler sees the
// request body as usual: the middleware buffers it. The response is
// written through to the client as the handler writes it and captured in
// memory to be stored.
//
// The error, from cfg.Validate, matches [ErrInvalidConfig].
func Middleware(cfg MiddlewareConfig) (func(http.Handler) http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &middleware{cfg: cfg, log: loggerOrDiscard(cfg.Logger)}
	if m.cfg.Lease == 0 {
		m.cfg.Lease = DefaultLease
	}
	if m.cfg.Methods == nil {
		m.cfg.Methods = []string{http.MethodPost, http.MethodPatch}
	}
	if m.cfg.MaxBodyBytes == 0 {
		m.cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if m.cfg.ReplayHeaders == nil {
		m.cfg.ReplayHeaders = defaultReplayHeaders
	}
	m.cfg.ReplayHeaders = slices.Clone(m.cfg.ReplayHeaders)
	for i, h := range m.cfg.ReplayHeaders {
		m.cfg.ReplayHeaders[i] = http.CanonicalHeaderKey(h)
	}
	if m.cfg.Retryable == nil {
		m.cfg.Retryable = DefaultRetryable
	}
	if m.cfg.Principal == nil {
		m.cfg.Principal = func(*http.Request) string { return "" }
	}
	if m.cfg.Route == nil {
		m.cfg.Route = func(r *http.Request) string {
			if r.Pattern != "" {
				return r.Pattern
			}
			return r.URL.Path
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
	}, nil
}

type middleware struct {
	cfg MiddlewareConfig
	log *slog.Logger
}

// storedResponse is the encoding of a response in [Result.Data].
type storedResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body,omitempty"`
}

func (m *middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if !slices.Contains(m.cfg.Methods, r.Method) {
		next.ServeHTTP(w, r)
		return
	}
	values := r.Header.Values(Header)
	if len(values) == 0 {
		if m.cfg.Required {
			problem(w, http.StatusBadRequest, ProblemKeyMissing, "Idempotency-Key header is missing",
				"This operation requires an Idempotency-Key header.", 0)
			return
		}
		next.ServeHTTP(w, r)
		return
	}
	if len(values) > 1 {
		problem(w, http.StatusBadRequest, ProblemKeyInvalid, "Idempotency-Key header is invalid",
			"The request carries more than one Idempotency-Key header.", 0)
		return
	}
	clientKey, err := ParseHeader(values[0], m.cfg.Lenient)
	if err != nil {
		problem(w, http.StatusBadRequest, ProblemKeyInvalid, "Idempotency-Key header is invalid", err.Error(), 0)
		return
	}

	limit := m.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		problem(w, http.StatusRequestEntityTooLarge, ProblemBodyTooLarge, "Request body is too large",
			"The body exceeds "+strconv.FormatInt(limit, 10)+" bytes.", 0)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		problem(w, http.StatusBadRequest, ProblemBodyUnread, "Request body could not be read", "", 0)
		return
	}
	if int64(len(body)) > limit {
		problem(w, http.StatusRequestEntityTooLarge, ProblemBodyTooLarge, "Request body is too large",
			"The body exceeds "+strconv.FormatInt(limit, 10)+" bytes.", 0)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	ctx := r.Context()
	key := Derive(m.cfg.Principal(r), r.Method+" "+m.cfg.Route(r), clientKey.s)
	c, err := m.cfg.Store.Claim(ctx, key, FingerprintBytes(body), m.cfg.Lease)
	if err != nil {
		m.log.LogAttrs(ctx, slog.LevelError, "idempotency: claim failed", slog.String("key", key.s), slog.Any("error", err))
		problem(w, http.StatusServiceUnavailable, ProblemStoreUnusable, "Idempotency store is unavailable", "", time.Second)
		return
	}
	switch c.Status {
	case Completed:
		m.replay(w, r, key, c.Result)
		return
	case InProgress:
		problem(w, http.StatusConflict, ProblemInProgress, "A request with this Idempotency-Key is being processed",
			"Retry after the original request has finished.", c.RetryAfter)
		return
	case Mismatch:
		problem(w, http.StatusUnprocessableEntity, ProblemKeyReused, "Idempotency-Key is already used for a different request",
			"The key was first used with another request body.", 0)
		return
	case Claimed:
	default:
		m.log.LogAttrs(ctx, slog.LevelError, "idempotency: store returned an unknown claim status", slog.String("key", key.s), slog.Int("status", int(c.Status)))
		problem(w, http.StatusServiceUnavailable, ProblemStoreUnusable, "Idempotency store is unavailable", "", time.Second)
		return
	}

	rec := &recorder{ResponseWriter: w, m: m}
	finished := false
	defer func() {
		if finished {
			return
		}
		// The handler panicked: free the key so the client can retry.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.Lease)
		defer cancel()
		if err := m.cfg.Store.Release(fctx, c.Lease); err != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "idempotency: releasing the key of a panicking handler failed", slog.String("key", key.s), slog.Any("error", err))
		}
	}()
	next.ServeHTTP(rec, r)
	finished = true

	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.Lease)
	defer cancel()
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	if m.cfg.Retryable(status) {
		if err := m.cfg.Store.Release(fctx, c.Lease); err != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "idempotency: releasing the key failed", slog.String("key", key.s), slog.Any("error", err))
		}
		return
	}
	data, err := json.Marshal(storedResponse{Status: status, Header: rec.header, Body: rec.body.Bytes()})
	if err == nil {
		err = m.cfg.Store.Complete(fctx, c.Lease, Result{Data: data})
	}
	if err != nil {
		m.log.LogAttrs(ctx, slog.LevelError, "idempotency: storing the response failed", slog.String("key", key.s), slog.Any("error", err))
	}
}

func (m *middleware) replay(w http.ResponseWriter, r *http.Request, key Key, res Result) {
	var sr storedResponse
	if err := json.Unmarshal(res.Data, &sr); err != nil || res.Failed || sr.Status < 200 || sr.Status > 999 {
		m.log.LogAttrs(r.Context(), slog.LevelError, "idempotency: stored response is unreadable", slog.String("key", key.s), slog.Any("error", err))
		problem(w, http.StatusServiceUnavailable, ProblemStoreUnusable, "Idempotency store is unavailable", "", time.Second)
		return
	}
	h := w.Header()
	for name, vs := range sr.Header {
		h[name] = vs
	}
	h.Set(ReplayedHeader, "true")
	w.WriteHeader(sr.Status)
	_, _ = w.Write(sr.Body)
}

// recorder writes through to the client and keeps the status, the
// allow-listed headers and the body.
type recorder struct {
	http.ResponseWriter
	m      *middleware
	status int
	header http.Header
	body   bytes.Buffer
}

func (rw *recorder) WriteHeader(code int) {
	if rw.status == 0 && code >= 200 {
		rw.status = code
		rw.header = http.Header{}
		for _, name := range rw.m.cfg.ReplayHeaders {
			if vs := rw.ResponseWriter.Header().Values(name); len(vs) > 0 {
				rw.header[name] = slices.Clone(vs)
			}
		}
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	rw.body.Write(b)
	return rw.ResponseWriter.Write(b)
}

// Flush sends what was written so far to the client, for handlers that
// stream; the captured copy is unaffected.
func (rw *recorder) Flush() {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

// Unwrap lets [http.ResponseController] reach the underlying writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

type problemDoc struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// problem writes an RFC 9457 problem response. A positive retryAfter sets
// Retry-After, in whole seconds rounded up.
func problem(w http.ResponseWriter, status int, typ, title, detail string, retryAfter time.Duration) {
	body, _ := json.Marshal(problemDoc{Type: typ, Title: title, Status: status, Detail: detail})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
