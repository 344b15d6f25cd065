package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
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
	// ProblemKeyReused: 422, the key was used for another request: another
	// method, path, query string or body.
	ProblemKeyReused = "https://distsync.dev/problems/idempotency-key-reused"
	// ProblemInProgress: 409, the first request with the key is still running.
	ProblemInProgress = "https://distsync.dev/problems/idempotency-request-in-progress"
	// ProblemBodyTooLarge: 413, the body exceeds MiddlewareConfig.MaxBodyBytes.
	ProblemBodyTooLarge = "https://distsync.dev/problems/idempotency-body-too-large"
	// ProblemBodyUnread: 400, the request body could not be read.
	ProblemBodyUnread = "https://distsync.dev/problems/idempotency-body-unreadable"
	// ProblemStoreUnusable: 503, the store failed, is full or holds an
	// unreadable response.
	ProblemStoreUnusable = "https://distsync.dev/problems/idempotency-store-unavailable"
	// ProblemPrincipalMissing: 403, the request has no principal to scope
	// its key and MiddlewareConfig.AllowAnonymous is false.
	ProblemPrincipalMissing = "https://distsync.dev/problems/idempotency-principal-missing"
	// ProblemResponseNotKept: 410, the request with the key was handled
	// but its response was larger than MiddlewareConfig.MaxResponseBytes,
	// or was cut short because its client went away while it was sent, so
	// it was not kept and cannot be replayed. The problem document's
	// "original_status" member holds the status of that response.
	ProblemResponseNotKept = "https://distsync.dev/problems/idempotency-response-not-kept"
)

// ReplayedHeader is the response header the middleware sets to "true" on a
// replayed response.
const ReplayedHeader = "Idempotent-Replayed"

// DefaultMaxBodyBytes is the request body limit when
// MiddlewareConfig.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// DefaultMaxResponseBytes is the largest response body stored for replay
// when MiddlewareConfig.MaxResponseBytes is zero: 1 MiB.
const DefaultMaxResponseBytes = 1 << 20

// DefaultInProgressRetryAfter is the Retry-After of the 409 answer when
// MiddlewareConfig.InProgressRetryAfter is zero.
const DefaultInProgressRetryAfter = time.Second

// defaultReplayHeaders are documented on MiddlewareConfig.ReplayHeaders.
var defaultReplayHeaders = []string{"Content-Type", "Content-Language", "Content-Location", "Location", "ETag", "Last-Modified"}

// MiddlewareConfig configures [Middleware]. Store is required, and so is
// Principal unless AllowAnonymous is set; the other zero values are the
// documented defaults. Middleware copies what it needs,
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
	// API key ID). It is part of every key, so two clients choosing the
	// same key never meet. Required unless AllowAnonymous is set. A
	// request for which it returns "" is refused with 403
	// ([ProblemPrincipalMissing]) unless AllowAnonymous is set.
	Principal func(*http.Request) string
	// AllowAnonymous lets requests without a principal (Principal nil, or
	// returning "") share one anonymous key space: any client can then
	// replay, or collide with, another client's key. Set it only when the
	// server has a single client or its keys are unguessable and private.
	AllowAnonymous bool
	// MaxBodyBytes limits the request body the middleware reads to
	// fingerprint it; a larger body gets 413 before anything is stored.
	// Zero means [DefaultMaxBodyBytes].
	MaxBodyBytes int64
	// MaxResponseBytes limits the response body stored for replay. A
	// larger response is still sent to the client in full, but only its
	// status and ReplayHeaders are stored: the key stays completed (the
	// handler's effect happened and must not run again) and a retry gets
	// 410 ([ProblemResponseNotKept]) with those headers, such as Location.
	// Zero means [DefaultMaxResponseBytes].
	MaxResponseBytes int64
	// InProgressRetryAfter is the Retry-After of the 409 answer to a
	// request whose key is still being handled: how soon its client should
	// try again. It is shortened to the time the lease has left when that
	// is less, and sent in whole seconds, rounded up. Zero means
	// [DefaultInProgressRetryAfter].
	InProgressRetryAfter time.Duration
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
	case c.MaxResponseBytes < 0:
		return fmt.Errorf("idempotency: MiddlewareConfig.MaxResponseBytes %d is negative: %w", c.MaxResponseBytes, ErrInvalidConfig)
	case c.InProgressRetryAfter < 0:
		return fmt.Errorf("idempotency: MiddlewareConfig.InProgressRetryAfter %v is negative: %w", c.InProgressRetryAfter, ErrInvalidConfig)
	case c.Principal == nil && !c.AllowAnonymous:
		return fmt.Errorf("idempotency: MiddlewareConfig.Principal is nil and AllowAnonymous is false: %w", ErrInvalidConfig)
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
// response is stored; a later request with the same key from the same
// principal, and the same method, path, query string and body, gets the
// stored response again, marked with "Idempotent-Replayed: true", without
// running the handler.
//
// The key is scoped by the principal only: the request's method, its path
// as sent (r.URL.EscapedPath(), so the path values of a route such as
// /orders/{id}/cancel count, wherever the middleware is mounted), its raw
// query string and its body make up the request's fingerprint. The same key
// for a request that differs in any of them is refused with 422.
//
// The middleware answers itself, with an application/problem+json body
// (RFC 9457) whose type is one of the Problem constants:
//
//   - 400 when the key is missing (and Required) or malformed;
//   - 403 when the request has no principal and AllowAnonymous is false;
//   - 413 when the body exceeds MaxBodyBytes, before anything is stored;
//   - 422 when the key was used for a different request;
//   - 409 with a short Retry-After (InProgressRetryAfter) while the first
//     request with the key is still being handled;
//   - 410 to a retry of a request whose response exceeded MaxResponseBytes,
//     or was cut short, and was not kept;
//   - 503 with Retry-After when the store fails or is full.
//
// The key is released, so that the client's retry runs the handler again,
// after a response with a Retryable status, after a handler that panics
// (the panic then continues to the server) and after a handler that wrote
// nothing because the request's context was cancelled (the client went
// away): no empty response is stored for every retry to replay. The claim
// itself is made even when the client goes away meanwhile (so that a
// shared store is not left holding a key nobody will release), and the
// handler then does not run. A
// handler that had begun its answer when the client went away (the
// request's context ended before it returned, or a write or flush to the
// client failed) may have stopped early: its key stays completed, as the
// effect happened, but only its status and ReplayHeaders are kept, and a
// retry gets 410 ([ProblemResponseNotKept]), never a truncated body
// replayed as if it were whole.
//
// The handler sees the request body as usual: the middleware buffers it. The
// response is written through to the client as the handler writes it and
// captured in memory, up to MaxResponseBytes, to be stored; headers a
// handler set without calling WriteHeader (an implicit 200) are captured
// like any other.
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
	if m.cfg.MaxResponseBytes == 0 {
		m.cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if m.cfg.InProgressRetryAfter == 0 {
		m.cfg.InProgressRetryAfter = DefaultInProgressRetryAfter
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
	// NotKept records that the body exceeded MaxResponseBytes, or was cut
	// short, and was dropped: the response cannot be replayed.
	NotKept bool `json:"not_kept,omitempty"`
	// Cut records that the response was cut short: the client went away
	// (or a write to it failed) while the handler was answering, so what
	// the handler wrote may be only the beginning of its answer.
	Cut bool `json:"cut,omitempty"`
}

// requestFingerprint is the fingerprint of what a request asks for: its
// method, escaped path, raw query and body, each length-prefixed so that
// no two different requests share their concatenation.
func requestFingerprint(r *http.Request, body []byte) Fingerprint {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	part := func(b []byte) {
		h.Write(binary.AppendUvarint(buf[:0], uint64(len(b))))
		h.Write(b)
	}
	part([]byte("http/v1"))
	part([]byte(r.Method))
	part([]byte(r.URL.EscapedPath()))
	part([]byte(r.URL.RawQuery))
	part(body)
	var fp Fingerprint
	h.Sum(fp[:0])
	return fp
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
	principal := m.cfg.Principal(r)
	if principal == "" && !m.cfg.AllowAnonymous {
		problem(w, http.StatusForbidden, ProblemPrincipalMissing, "The request has no principal to scope its Idempotency-Key",
			"Idempotency keys are kept per client; this request was not identified.", 0)
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
	key := Derive(principal, "http", clientKey.s)
	// The claim is made whether or not the client stays: a claim cut off
	// by the client going away can be written to a shared store and then
	// reported as cancelled, leaving the key held by nobody for the
	// whole lease. Made in full, it is released below.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.Lease)
	c, err := m.cfg.Store.Claim(cctx, key, requestFingerprint(r, body), m.cfg.Lease)
	cancel()
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
		wait := m.cfg.InProgressRetryAfter
		if c.RetryAfter > 0 && c.RetryAfter < wait {
			wait = c.RetryAfter
		}
		problem(w, http.StatusConflict, ProblemInProgress, "A request with this Idempotency-Key is being processed",
			"Retry after the original request has finished.", wait)
		return
	case Mismatch:
		problem(w, http.StatusUnprocessableEntity, ProblemKeyReused, "Idempotency-Key is already used for a different request",
			"The key was first used with another method, path, query string or body.", 0)
		return
	case Claimed:
	default:
		m.log.LogAttrs(ctx, slog.LevelError, "idempotency: store returned an unknown claim status", slog.String("key", key.s), slog.Int("status", int(c.Status)))
		problem(w, http.StatusServiceUnavailable, ProblemStoreUnusable, "Idempotency store is unavailable", "", time.Second)
		return
	}
	if ctx.Err() != nil {
		// The client went away during the claim: nobody waits for the
		// answer, so the handler does not run and the key is free again.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.Lease)
		defer cancel()
		if err := m.cfg.Store.Release(rctx, c.Lease); err != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "idempotency: releasing the key of a cancelled request failed", slog.String("key", key.s), slog.Any("error", err))
		}
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
	if status == 0 && ctx.Err() != nil {
		// The handler wrote nothing because the client went away: nothing
		// was answered, so nothing is stored; the retry runs it again.
		if err := m.cfg.Store.Release(fctx, c.Lease); err != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "idempotency: releasing the key of a cancelled request failed", slog.String("key", key.s), slog.Any("error", err))
		}
		return
	}
	if status == 0 {
		// An implicit 200 with no body: net/http sends the headers the
		// handler set once it returns, so they are the response's.
		rec.captureHeader(http.StatusOK)
		status = http.StatusOK
	}
	if m.cfg.Retryable(status) {
		if err := m.cfg.Store.Release(fctx, c.Lease); err != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "idempotency: releasing the key failed", slog.String("key", key.s), slog.Any("error", err))
		}
		return
	}
	// A handler that had begun to answer when its client went away (the
	// context is done) or a write failed may have stopped early: its body
	// is kept as "not kept", never replayed as if it were whole.
	cut := rec.writeFailed || ctx.Err() != nil
	sr := storedResponse{Status: status, Header: rec.header, Body: rec.body.Bytes(), NotKept: rec.tooLarge || cut, Cut: cut}
	if sr.NotKept {
		sr.Body = nil
	}
	if cut {
		m.log.LogAttrs(ctx, slog.LevelWarn, "idempotency: response cut short by the client going away, not kept for replay",
			slog.String("key", key.s), slog.Int("status", status))
	} else if rec.tooLarge {
		m.log.LogAttrs(ctx, slog.LevelWarn, "idempotency: response too large to keep for replay",
			slog.String("key", key.s), slog.Int64("max_response_bytes", m.cfg.MaxResponseBytes))
	}
	data, err := json.Marshal(sr)
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
		if sr.NotKept && name == "Content-Type" {
			continue // the problem document has its own
		}
		h[name] = vs
	}
	h.Set(ReplayedHeader, "true")
	if sr.NotKept {
		detail := "The request with this key was handled, but its response was too large to keep for replay."
		if sr.Cut {
			detail = "The request with this key was handled, but the client went away while its response was sent, so it was not kept for replay."
		}
		problemDocument(w, problemDoc{Type: ProblemResponseNotKept, Title: "The response to this Idempotency-Key was not kept",
			Status: http.StatusGone, OriginalStatus: sr.Status, Detail: detail}, 0)
		return
	}
	w.WriteHeader(sr.Status)
	_, _ = w.Write(sr.Body)
}

// recorder writes through to the client and keeps the status, the
// allow-listed headers and, up to MaxResponseBytes, the body.
type recorder struct {
	http.ResponseWriter
	m        *middleware
	status   int
	header   http.Header
	body     bytes.Buffer
	tooLarge bool // the body exceeded MaxResponseBytes and was dropped
	// writeFailed records that a write or flush to the client failed: the
	// handler may have stopped answering there.
	writeFailed bool
}

// captureHeader records status and the allow-listed headers as they are
// sent.
func (rw *recorder) captureHeader(code int) {
	rw.status = code
	rw.header = http.Header{}
	for _, name := range rw.m.cfg.ReplayHeaders {
		if vs := rw.ResponseWriter.Header().Values(name); len(vs) > 0 {
			rw.header[name] = slices.Clone(vs)
		}
	}
}

func (rw *recorder) WriteHeader(code int) {
	if rw.status == 0 && code >= 200 {
		rw.captureHeader(code)
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if !rw.tooLarge {
		if int64(rw.body.Len())+int64(len(b)) > rw.m.cfg.MaxResponseBytes {
			rw.tooLarge = true
			rw.body = bytes.Buffer{} // free it: only status and headers are kept
		} else {
			rw.body.Write(b)
		}
	}
	n, err := rw.ResponseWriter.Write(b)
	if err != nil {
		rw.writeFailed = true
	}
	return n, err
}

// Flush sends what was written so far to the client, for handlers that
// stream; the captured copy is unaffected.
func (rw *recorder) Flush() {
	_ = rw.FlushError()
}

// FlushError is Flush reporting the error, which [http.ResponseController]
// returns to the handler.
func (rw *recorder) FlushError() error {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	err := http.NewResponseController(rw.ResponseWriter).Flush()
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		rw.writeFailed = true
	}
	return err
}

// Unwrap lets [http.ResponseController] reach the underlying writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

type problemDoc struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// OriginalStatus is the status of the response that was not kept
	// (ProblemResponseNotKept).
	OriginalStatus int `json:"original_status,omitempty"`
}

// problem writes an RFC 9457 problem response. A positive retryAfter sets
// Retry-After, in whole seconds rounded up.
func problem(w http.ResponseWriter, status int, typ, title, detail string, retryAfter time.Duration) {
	problemDocument(w, problemDoc{Type: typ, Title: title, Status: status, Detail: detail}, retryAfter)
}

// problemDocument writes p as a problem response with p.Status.
func problemDocument(w http.ResponseWriter, p problemDoc, retryAfter time.Duration) {
	body, _ := json.Marshal(p)
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}
