// This file owns the Client: its Config, sending one request, and turning
// the answer or the failure into a *connector.Error.

package httpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// Defaults of Config, used for its zero fields.
const (
	// DefaultMaxResponseBytes bounds a response body: 10 MiB.
	DefaultMaxResponseBytes = 10 << 20
	// DefaultMaxRetryAfter caps the delay a server may ask for.
	DefaultMaxRetryAfter = 5 * time.Minute
	// DefaultRateLimitPause is how long the client pauses after a 429
	// that gave no Retry-After.
	DefaultRateLimitPause = time.Second
)

// ErrInvalidConfig is matched (with errors.Is) by the error
// Config.Validate and New return for an unusable Config.
var ErrInvalidConfig = errors.New("httpkit: invalid configuration")

// ErrResponseTooLarge is matched (with errors.Is) by the error Do returns
// when a response body is longer than Config.MaxResponseBytes. The body is
// read no further than one byte past the limit.
var ErrResponseTooLarge = errors.New("httpkit: response body too large")

// Config configures a Client. Its zero value is the documented defaults but
// for System, which Validate requires. It is a plain value: safe for
// concurrent use when not modified.
type Config struct {
	// System names the remote in errors, such as "erp" or "salesforce".
	// Required.
	System string
	// BaseURL, when set, is the absolute URL that relative references given
	// to Client.NewRequest (and next links in paged bodies) resolve against.
	BaseURL string
	// Transport sends the requests; nil means a transport shared by the
	// Clients without one: http.DefaultTransport's settings with up to
	// DefaultMaxIdleConnsPerHost idle connections kept per host (net/http
	// keeps 2, so a connector called from several workers at once would
	// open a new connection for most calls). The Client wraps it in a
	// tracing.Transport with Propagator.
	Transport http.RoundTripper
	// Propagator names the tracing headers. For a vendor API set
	// TraceContextOnly so only traceparent and tracestate are sent.
	Propagator tracing.Propagator
	// Timeout bounds each call, the body read included; zero means only the
	// caller's context bounds it.
	Timeout time.Duration
	// MaxResponseBytes bounds a response body; zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// MaxRetryAfter caps the delay a server asks for (Retry-After or a
	// vendor header) before it goes onto an error or pauses the client;
	// zero means DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// DecodeError turns the body of a non-2xx response into the detail of
	// the error, naming the vendor's error code and field; nil means the
	// first 200 bytes of the body are quoted. A nil return falls back to
	// that too. It must be safe for concurrent use.
	DecodeError func(status int, header http.Header, body []byte) error
	// Throttle reads a vendor's limit headers (such as x-retry-after, or
	// Sforce-Limit-Info reporting few calls left) of any response into a
	// pause: the client sends nothing for that long, and an error response
	// carries it as its retry-after. Nil means only Retry-After (on 429 and
	// 503) is read. It must be safe for concurrent use.
	Throttle func(status int, header http.Header) time.Duration
	// RateLimitPause is the pause after a 429 without any delay given;
	// zero means DefaultRateLimitPause.
	RateLimitPause time.Duration
	// Rate limits the requests sent, per second, across all goroutines
	// using the Client; zero means no limit besides the pauses.
	Rate float64
	// Burst is how many requests may be sent at once under Rate; zero
	// means 1.
	Burst int
	// IdempotencyHeader names the header that carries the idempotency key
	// of WithIdempotencyKey; "" means idempotency.Header. The value is
	// formatted as idempotency.FormatHeader does.
	IdempotencyHeader string
	// SetIdempotencyKey, when set, puts the key into the request instead
	// of IdempotencyHeader, for a vendor that wants it elsewhere (a bare
	// header value, a query parameter, a body field). It gets a copy of the
	// caller's request whose header and URL it may change; one that
	// replaces the body must set GetBody too. It must be safe for
	// concurrent use.
	SetIdempotencyKey func(req *http.Request, key string) error
	// Auth authorizes each request, such as an *OAuth2; nil sends the
	// requests as they are. After a 401 the Client invalidates the
	// credential and sends the request once more.
	Auth Authorizer
	// Logger logs each request and response at debug level, with the
	// secrets redacted; nil logs nothing.
	Logger *slog.Logger
	// Redact names more header names, query parameters and JSON fields
	// whose values are never logged (case-insensitive), beside the
	// built-in ones (Authorization, Cookie, Set-Cookie, Proxy-Authorization,
	// and any name containing "token", "secret", "password" or "apikey").
	Redact []string
	// LogBodies logs up to 2 KiB of each JSON body, its redacted fields
	// replaced by "[REDACTED]".
	LogBodies bool
}

// Validate reports whether c is usable; the error matches ErrInvalidConfig
// and names the field.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.System == "":
		return bad("System is required")
	case c.Timeout < 0:
		return bad("Timeout %v is negative", c.Timeout)
	case c.MaxResponseBytes < 0:
		return bad("MaxResponseBytes %d is negative", c.MaxResponseBytes)
	case c.MaxRetryAfter < 0:
		return bad("MaxRetryAfter %v is negative", c.MaxRetryAfter)
	case c.RateLimitPause < 0:
		return bad("RateLimitPause %v is negative", c.RateLimitPause)
	case c.Rate < 0:
		return bad("Rate %v is negative", c.Rate)
	case c.Burst < 0:
		return bad("Burst %d is negative", c.Burst)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || !u.IsAbs() {
			return bad("BaseURL %q is not an absolute URL", c.BaseURL)
		}
	}
	if err := c.Propagator.Validate(); err != nil {
		return bad("Propagator: %v", err)
	}
	return nil
}

// Client sends requests to one system and turns failures into
// *connector.Error. It does not retry (but for one 401 with Auth): wrap
// calls in retry.Do, which reads the error's code, retry-after and
// may-have-applied. Create it with New; the zero value is not usable.
// It is safe for concurrent use.
type Client struct {
	cfg     Config
	base    *url.URL
	http    *http.Client
	limiter *limiter
	redact  redactor
	idemHdr string
}

// New returns a Client for cfg, or an error matching ErrInvalidConfig.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.MaxRetryAfter == 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.RateLimitPause == 0 {
		cfg.RateLimitPause = DefaultRateLimitPause
	}
	c := &Client{cfg: cfg, redact: newRedactor(cfg.Redact), idemHdr: cfg.IdempotencyHeader}
	if c.idemHdr == "" {
		c.idemHdr = idempotency.Header
	}
	if cfg.BaseURL != "" {
		c.base, _ = url.Parse(cfg.BaseURL)
	}
	base := cfg.Transport
	if base == nil {
		base = sharedTransport
	}
	c.http = &http.Client{Transport: &tracing.Transport{Base: base, Propagator: cfg.Propagator}}
	c.limiter = newLimiter(cfg.Rate, cfg.Burst)
	return c, nil
}

// DefaultMaxIdleConnsPerHost is how many idle connections per host the
// transport of Clients without Config.Transport keeps for reuse.
const DefaultMaxIdleConnsPerHost = 64

// sharedTransport is the transport of Clients without Config.Transport.
var sharedTransport = func() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	return t
}()

type idemKey struct{}

// WithIdempotencyKey returns a copy of ctx carrying key: the Client sends
// it with every request made under that context (see
// Config.IdempotencyHeader). An empty key removes it.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idemKey{}, key)
}

// IdempotencyKey returns the key carried by ctx, or "".
func IdempotencyKey(ctx context.Context) string {
	k, _ := ctx.Value(idemKey{}).(string)
	return k
}

// NewRequest returns a request for Do: method and ref, resolved against
// Config.BaseURL. A non-nil body is encoded as JSON (with Content-Type
// application/json); the request's body can be replayed (GetBody). The
// error is a *connector.Error of CodeInvalid naming what failed.
func (c *Client) NewRequest(op, method, ref string, body any) (*http.Request, error) {
	u, err := c.resolve(ref)
	if err != nil {
		return nil, connector.NewError(connector.CodeInvalid, c.cfg.System, op, err)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, connector.NewError(connector.CodeInvalid, c.cfg.System, op, fmt.Errorf("httpkit: encoding request body: %w", err))
		}
		rd = bytes.NewReader(b)
	}
	// The URL is already parsed: build on an empty one rather than parse
	// its text a second time.
	req, err := http.NewRequest(method, "", rd)
	if err != nil {
		return nil, connector.NewError(connector.CodeInvalid, c.cfg.System, op, err)
	}
	req.URL, req.Host = u, u.Host
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

func (c *Client) resolve(ref string) (*url.URL, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("httpkit: URL %q: %w", ref, err)
	}
	if !u.IsAbs() {
		if c.base == nil {
			return nil, fmt.Errorf("httpkit: URL %q is relative and Config.BaseURL is not set", ref)
		}
		u = c.base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("httpkit: URL %q: scheme must be http or https", ref)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("httpkit: URL %q has no host", ref)
	}
	return u, nil
}

// Response is a completed 2xx answer, its body read in full (at most
// Config.MaxResponseBytes). It is a plain value: safe for concurrent reads.
// The zero value is an empty answer.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header is the response header.
	Header http.Header
	// Body is the whole response body.
	Body []byte

	system, op string
}

// Do sends req under ctx (which replaces the request's own context) and
// returns the 2xx response.
// Any other outcome is a *connector.Error for op:
//
//   - 400, 422 and other 4xx: CodeInvalid; 401, 403: CodeUnauthorized;
//     404, 410: CodeNotFound; 409, 412: CodeConflict; 408: CodeTimeout;
//     429: CodeRateLimited; 5xx: CodeUnavailable. The message holds
//     Config.DecodeError's detail (the vendor's code and field).
//   - Retry-After (delay-seconds or HTTP-date) and Config.Throttle's pause,
//     capped at Config.MaxRetryAfter, become the error's RetryAfter, and
//     pause the Client.
//   - May have applied: true when the request was written to the
//     connection and the outcome is unknown (a timeout or a reset after
//     writing; 500, 502 and 504), and when a 2xx body could not be read
//     (too large, truncated); false when the request was never written
//     (dial and DNS failures, a pause or rate limit outlasting the
//     context) or the remote refused it (4xx, 503). This is
//     reported for every method alike: a GET may "have applied" too, and
//     retrying it is harmless, so retry reads with retry.Policy.Idempotent.
//   - No answer: CodeTimeout when a deadline passed, CodeUnavailable
//     otherwise; the error wraps the cause, so errors.Is matches
//     context.Canceled or context.DeadlineExceeded.
//
// The idempotency key of the context (WithIdempotencyKey) is sent, and
// Config.Auth authorizes the request; after a 401 the credential is
// invalidated and the request sent once more, which needs req.GetBody when
// it has a body (as NewRequest and http.NewRequest set).
func (c *Client) Do(ctx context.Context, op string, req *http.Request) (*Response, error) {
	if c.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	// The caller's request is never modified: a shallow copy with its own
	// header map carries the key and the credential.
	req = req.WithContext(ctx)
	if req.URL != nil {
		u := *req.URL
		req.URL = &u
	}
	req.Header = req.Header.Clone()
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	if key := IdempotencyKey(ctx); key != "" {
		if err := c.setKey(req, key); err != nil {
			return nil, connector.NewError(connector.CodeInvalid, c.cfg.System, op, err)
		}
	}
	resp, sent, err := c.send(ctx, req, op, nil)
	if err == nil || c.cfg.Auth == nil || sent == nil || Status(err) != http.StatusUnauthorized {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return nil, err
	}
	c.cfg.Auth.Invalidate(sent)
	resp, _, err = c.send(ctx, req, op, sent)
	return resp, err
}

func (c *Client) setKey(req *http.Request, key string) error {
	if c.cfg.SetIdempotencyKey != nil {
		return c.cfg.SetIdempotencyKey(req, key)
	}
	if req.Header.Get(c.idemHdr) != "" {
		return nil
	}
	k, err := idempotency.Parse(key)
	if err != nil {
		return err
	}
	req.Header.Set(c.idemHdr, idempotency.FormatHeader(k))
	return nil
}

// statusError carries the HTTP status under the connector error's detail.
type statusError struct {
	status int
	detail error
}

func (e *statusError) Error() string {
	if e.detail == nil {
		return fmt.Sprintf("HTTP %d", e.status)
	}
	return fmt.Sprintf("HTTP %d: %v", e.status, e.detail)
}

func (e *statusError) Unwrap() error { return e.detail }

// Status returns the HTTP status code of an error Do returned for a non-2xx
// answer, or 0 when err carries none.
func Status(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return 0
}

// send makes one attempt with base; after a 401, prev is the
// attempt that got it, and the body is replayed. It returns the request
// it sent (nil when none was sent).
func (c *Client) send(ctx context.Context, base *http.Request, op string, prev *http.Request) (*Response, *http.Request, error) {
	if err := c.limiter.wait(ctx); err != nil {
		return nil, nil, c.noAnswer(op, ctx, err, false)
	}
	// base is Do's own clone: its header may be written.
	req := base
	if prev != nil && base.GetBody != nil {
		body, err := base.GetBody()
		if err != nil {
			return nil, nil, connector.NewError(connector.CodeInvalid, c.cfg.System, op, fmt.Errorf("httpkit: replaying request body: %w", err))
		}
		req = base.WithContext(ctx)
		req.Body = body
	}
	if c.cfg.Auth != nil {
		if err := c.cfg.Auth.Authorize(req); err != nil {
			return nil, nil, connector.NewError(connector.CodeUnauthorized, c.cfg.System, op, err)
		}
	}
	sent := req
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	}))
	start := time.Now()
	c.logRequest(ctx, req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, sent, c.noAnswer(op, ctx, err, wrote.Load())
	}
	defer resp.Body.Close()
	body, rerr := readLimited(resp.Body, resp.ContentLength, c.cfg.MaxResponseBytes)
	c.logResponse(ctx, req, resp, body, time.Since(start))
	pause := c.pause(resp)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if rerr != nil {
			return nil, sent, c.readError(op, ctx, rerr)
		}
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, system: c.cfg.System, op: op}, sent, nil
	}
	if rerr != nil && !errors.Is(rerr, ErrResponseTooLarge) {
		code, applied := statusCode(resp.StatusCode)
		return nil, sent, connector.NewError(code, c.cfg.System, op, &statusError{status: resp.StatusCode, detail: fmt.Errorf("reading error body: %w", rerr)},
			connector.WithRetryAfter(pause), connector.WithMayHaveApplied(applied))
	}
	return nil, sent, c.statusErr(op, resp.StatusCode, resp.Header, body, pause)
}

// StatusError returns the error Do returns for a non-2xx answer with
// this status, header and body (Config.DecodeError's detail, the code,
// may-have-applied, Retry-After capped at Config.MaxRetryAfter), without
// pausing the Client. It is for answers embedded in a 2xx response, such
// as the parts of an OData $batch; Status reads the status back.
func (c *Client) StatusError(op string, status int, header http.Header, body []byte) error {
	var pause time.Duration
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		pause = RetryAfter(header.Get("Retry-After"), time.Now(), c.cfg.MaxRetryAfter)
	}
	return c.statusErr(op, status, header, body, pause)
}

func (c *Client) statusErr(op string, status int, header http.Header, body []byte, pause time.Duration) error {
	var detail error
	if c.cfg.DecodeError != nil {
		detail = c.cfg.DecodeError(status, header, body)
	}
	if detail == nil && len(body) > 0 {
		detail = fmt.Errorf("%q", quoteBody(body))
	}
	code, applied := statusCode(status)
	return connector.NewError(code, c.cfg.System, op, &statusError{status: status, detail: detail},
		connector.WithRetryAfter(pause), connector.WithMayHaveApplied(applied))
}

func quoteBody(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// statusCode maps a non-2xx status to a code and whether the remote may
// have applied the request.
func statusCode(status int) (connector.Code, bool) {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return connector.CodeUnauthorized, false
	case http.StatusNotFound, http.StatusGone:
		return connector.CodeNotFound, false
	case http.StatusConflict, http.StatusPreconditionFailed:
		return connector.CodeConflict, false
	case http.StatusRequestTimeout:
		return connector.CodeTimeout, false
	case http.StatusTooManyRequests:
		return connector.CodeRateLimited, false
	case http.StatusServiceUnavailable:
		return connector.CodeUnavailable, false
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return connector.CodeUnavailable, true
	}
	switch {
	case status >= 500:
		return connector.CodeUnavailable, true
	case status >= 400:
		return connector.CodeInvalid, false
	}
	// 1xx and 3xx (a redirect not followed): an answer the client cannot use.
	return connector.CodeInternal, true
}

// noAnswer builds the error of a call that got no response.
func (c *Client) noAnswer(op string, ctx context.Context, err error, wrote bool) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
		err = fmt.Errorf("%w (%w)", err, cause)
	}
	code := connector.CodeUnavailable
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		code = connector.CodeTimeout
	}
	return connector.NewError(code, c.cfg.System, op, err, connector.WithMayHaveApplied(wrote))
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// readError builds the error of a 2xx answer whose body could not be read:
// the remote answered, so it may have applied the request.
func (c *Client) readError(op string, ctx context.Context, err error) error {
	if errors.Is(err, ErrResponseTooLarge) {
		return connector.NewError(connector.CodeInternal, c.cfg.System, op, err, connector.WithMayHaveApplied(true))
	}
	return c.noAnswer(op, ctx, fmt.Errorf("httpkit: reading response body: %w", err), true)
}

// readLimited reads r to its end, failing with ErrResponseTooLarge past
// limit bytes; it never holds more than limit+1 bytes. size is the
// announced length, -1 when unknown.
func readLimited(r io.Reader, size, limit int64) ([]byte, error) {
	if size >= 0 && size <= limit {
		// The length is known (the transport enforces it): one allocation.
		buf := make([]byte, size)
		n, err := io.ReadFull(r, buf)
		if err == io.EOF {
			// No body at all, as for HEAD: the transport reports a short
			// body as io.ErrUnexpectedEOF.
			err = nil
		}
		return buf[:n], err
	}
	if size > limit {
		return nil, fmt.Errorf("%w: %d bytes announced, over the limit of %d bytes", ErrResponseTooLarge, size, limit)
	}
	// The length is unknown (a chunked answer): read into a pooled
	// buffer, which grows once for many answers, and return an exact copy.
	buf := readBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			readBufs.Put(buf)
		}
	}()
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return bytes.Clone(buf.Bytes()), err
	}
	if n > limit {
		return bytes.Clone(buf.Bytes()[:limit]), fmt.Errorf("%w: over the limit of %d bytes", ErrResponseTooLarge, limit)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// readBufs holds the buffers readLimited reads answers of unknown length
// into; one larger than maxPooledBuffer is left to the garbage collector.
var readBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 1 << 20

// pause reads the delay the response asks for, capped, and pauses the
// client for it. A 429 that gives no valid delay pauses for
// Config.RateLimitPause; "Retry-After: 0" pauses for nothing.
func (c *Client) pause(resp *http.Response) time.Duration {
	var d time.Duration
	given := false
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if v := resp.Header.Get("Retry-After"); v != "" {
			var err error
			d, err = retry.ParseRetryAfter(v, time.Now())
			given = err == nil
		}
	}
	if c.cfg.Throttle != nil {
		d = max(d, c.cfg.Throttle(resp.StatusCode, resp.Header))
	}
	if d == 0 && !given && resp.StatusCode == http.StatusTooManyRequests {
		d = c.cfg.RateLimitPause
	}
	d = min(d, c.cfg.MaxRetryAfter)
	if d > 0 {
		c.limiter.pauseUntil(time.Now().Add(d))
	}
	return d
}

// RetryAfter parses a Retry-After value (delay-seconds or an HTTP-date,
// relative to now) into a delay capped at limit. An invalid value, or one
// in the past, gives 0.
func RetryAfter(value string, now time.Time, limit time.Duration) time.Duration {
	d, err := retry.ParseRetryAfter(value, now)
	if err != nil || d < 0 {
		return 0
	}
	return min(d, limit)
}

// DecodeJSON decodes the response body into v. Invalid JSON, or JSON that
// does not fit v, is a *connector.Error of CodeInternal for op, marked as
// may have applied (the remote answered 2xx), naming the byte offset.
func (r *Response) DecodeJSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			err = fmt.Errorf("httpkit: invalid JSON in response at byte %d: %w", se.Offset, err)
		} else {
			err = fmt.Errorf("httpkit: decoding response: %w", err)
		}
		return connector.NewError(connector.CodeInternal, r.system, r.op, err, connector.WithMayHaveApplied(true))
	}
	return nil
}

// DoJSON sends req through c and decodes the 2xx body into a T; see
// Client.Do for the errors and Response.DecodeJSON for the decoding.
func DoJSON[T any](ctx context.Context, c *Client, op string, req *http.Request) (T, error) {
	var v T
	resp, err := c.Do(ctx, op, req)
	if err != nil {
		return v, err
	}
	if len(bytes.TrimSpace(resp.Body)) == 0 {
		return v, nil
	}
	err = resp.DecodeJSON(&v)
	return v, err
}
