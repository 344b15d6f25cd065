package httpkit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/retry"
)

func newClient(t *testing.T, base string, mod func(*httpkit.Config)) *httpkit.Client {
	t.Helper()
	cfg := httpkit.Config{System: "wms", BaseURL: base}
	if mod != nil {
		mod(&cfg)
	}
	c, err := httpkit.New(cfg)
	require.NoError(t, err)
	return c
}

func get(t *testing.T, c *httpkit.Client, ctx context.Context, path string) (*httpkit.Response, error) {
	t.Helper()
	req, err := c.NewRequest("GetThing", http.MethodGet, path, nil)
	require.NoError(t, err)
	return c.Do(ctx, "GetThing", req)
}

func TestStatusCodes(t *testing.T) {
	tests := []struct {
		status     int
		header     map[string]string
		code       connector.Code
		applied    bool
		retryAfter time.Duration
	}{
		{400, nil, connector.CodeInvalid, false, 0},
		{422, nil, connector.CodeInvalid, false, 0},
		{405, nil, connector.CodeInvalid, false, 0},
		{401, nil, connector.CodeUnauthorized, false, 0},
		{403, nil, connector.CodeUnauthorized, false, 0},
		{404, nil, connector.CodeNotFound, false, 0},
		{409, nil, connector.CodeConflict, false, 0},
		{412, nil, connector.CodeConflict, false, 0},
		{408, nil, connector.CodeTimeout, false, 0},
		{429, map[string]string{"Retry-After": "0"}, connector.CodeRateLimited, false, 0},
		{429, map[string]string{"Retry-After": "3"}, connector.CodeRateLimited, false, 3 * time.Second},
		{429, map[string]string{"Retry-After": "99999"}, connector.CodeRateLimited, false, 10 * time.Second},
		{429, nil, connector.CodeRateLimited, false, httpkit.DefaultRateLimitPause},
		{503, map[string]string{"Retry-After": "2"}, connector.CodeUnavailable, false, 2 * time.Second},
		{503, nil, connector.CodeUnavailable, false, 0},
		{500, nil, connector.CodeUnavailable, true, 0},
		{502, nil, connector.CodeUnavailable, true, 0},
		{504, nil, connector.CodeUnavailable, true, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.header), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, `{"code":"E1","field":"sku"}`)
			}))
			defer srv.Close()
			// A fresh client per case: a pause from one case must not slow the next.
			c := newClient(t, srv.URL, func(c *httpkit.Config) { c.MaxRetryAfter = 10 * time.Second })
			_, err := get(t, c, context.Background(), "/thing")
			require.Error(t, err, "status %d", tt.status)
			var ce *connector.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.code, ce.Code(), "status %d", tt.status)
			assert.Equal(t, tt.applied, ce.MayHaveApplied(), "status %d", tt.status)
			assert.Equal(t, tt.retryAfter, ce.RetryAfter(), "status %d", tt.status)
			assert.Equal(t, tt.status, httpkit.Status(err))
			assert.Contains(t, err.Error(), `E1`, "the body is quoted without a decoder")
			assert.Equal(t, "wms", ce.System())
			assert.Equal(t, "GetThing", ce.Op())
		})
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	now := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"120", 2 * time.Minute},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"1000000", 10 * time.Minute},
		{"soon", 0},
		{"-5", 0},
		{"", 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, httpkit.RetryAfter(tt.value, now, 10*time.Minute), "Retry-After %q", tt.value)
	}
}

type vendorError struct{ Code, Field string }

func (e *vendorError) Error() string { return "vendor error " + e.Code + " on field " + e.Field }

func TestVendorErrorDecoder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `[{"errorCode":"REQUIRED_FIELD_MISSING","fields":["Status"]}]`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *httpkit.Config) {
		c.DecodeError = func(status int, _ http.Header, body []byte) error {
			if strings.Contains(string(body), "REQUIRED_FIELD_MISSING") {
				return &vendorError{Code: "REQUIRED_FIELD_MISSING", Field: "Status"}
			}
			return nil
		}
	})
	_, err := get(t, c, context.Background(), "/x")
	require.Error(t, err)
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err))
	assert.Contains(t, err.Error(), "REQUIRED_FIELD_MISSING on field Status")
	var ve *vendorError
	require.ErrorAs(t, err, &ve, "the decoder's error is in the chain")
	assert.Equal(t, "Status", ve.Field)
}

func TestVendorThrottleHeader(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("x-retry-after", "7")
		w.WriteHeader(429)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *httpkit.Config) {
		c.Throttle = func(_ int, h http.Header) time.Duration {
			return httpkit.RetryAfter(h.Get("x-retry-after"), time.Now(), time.Hour)
		}
	})
	_, err := get(t, c, context.Background(), "/x")
	var ce *connector.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 7*time.Second, ce.RetryAfter())
	// The client is paused now: a call whose deadline ends before the pause
	// fails at once, without reaching the server.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = get(t, c, ctx, "/x")
	require.Error(t, err)
	assert.Equal(t, connector.CodeTimeout, connector.CodeOf(err))
	assert.False(t, ce.MayHaveApplied())
	require.ErrorAs(t, err, &ce)
	assert.False(t, ce.MayHaveApplied(), "a paused call never left")
	assert.Equal(t, int32(1), calls.Load(), "the paused call reached the server")
}

func TestMayHaveApplied(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	hijack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	defer hijack.Close()
	truncated := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"id":`)
	}))
	defer truncated.Close()
	// A listener closed at once: a port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		code    connector.Code
		applied bool
		is      error
	}{
		{"slow response after the request was written", slow.URL, 200 * time.Millisecond, connector.CodeTimeout, true, context.DeadlineExceeded},
		{"connection closed after the request was read", hijack.URL, 5 * time.Second, connector.CodeUnavailable, true, nil},
		{"truncated body", truncated.URL, 5 * time.Second, connector.CodeUnavailable, true, io.ErrUnexpectedEOF},
		{"dial failure", dead, 5 * time.Second, connector.CodeUnavailable, false, nil},
		{"DNS failure", "http://no-such-host.invalid", 5 * time.Second, connector.CodeUnavailable, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.url, nil)
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			req, err := c.NewRequest("PostShipment", http.MethodPost, "/shipments", map[string]string{"id": "S1"})
			require.NoError(t, err)
			_, err = c.Do(ctx, "PostShipment", req)
			require.Error(t, err, tt.name)
			var ce *connector.Error
			require.ErrorAs(t, err, &ce, tt.name)
			assert.Equal(t, tt.code, ce.Code(), "%s: %v", tt.name, err)
			assert.Equal(t, tt.applied, ce.MayHaveApplied(), "%s: %v", tt.name, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is, tt.name)
			}
			// retry.Do must not retry a may-have-applied error of a
			// non-idempotent call.
			var attempts int
			_, rerr := retry.Do(context.Background(), retry.Policy{MaxAttempts: 2, Backoff: retry.Backoff{InitialInterval: time.Millisecond}}, func(context.Context) (int, error) {
				attempts++
				return 0, err
			})
			require.Error(t, rerr)
			if tt.applied {
				assert.Equal(t, 1, attempts, "%s: may have applied stops retry", tt.name)
			} else {
				assert.Equal(t, 2, attempts, "%s: retried", tt.name)
			}
		})
	}
}

func TestResponseLimitAndJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge":
			chunk := strings.Repeat("x", 1<<10)
			for range 1 << 10 { // 1 MiB, never fully read
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
			}
		case "/huge-announced":
			w.Header().Set("Content-Length", strconv.Itoa(1<<20))
			chunk := strings.Repeat("x", 1<<10)
			for range 1 << 10 {
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
			}
		case "/invalid":
			_, _ = io.WriteString(w, `{"id": 12,}`)
		case "/ok":
			_, _ = io.WriteString(w, `{"id":"S1","qty":3}`)
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *httpkit.Config) { c.MaxResponseBytes = 64 << 10 })
	type thing struct {
		ID  string `json:"id"`
		Qty int    `json:"qty"`
	}
	tests := []struct {
		path    string
		want    thing
		code    connector.Code
		is      error
		message string
	}{
		{"/ok", thing{ID: "S1", Qty: 3}, 0, nil, ""},
		{"/huge", thing{}, connector.CodeInternal, httpkit.ErrResponseTooLarge, "65536 bytes"},
		{"/huge-announced", thing{}, connector.CodeInternal, httpkit.ErrResponseTooLarge, "65536 bytes"},
		{"/invalid", thing{}, connector.CodeInternal, nil, "invalid JSON in response at byte 11"},
	}
	for _, tt := range tests {
		req, err := c.NewRequest("GetThing", http.MethodGet, tt.path, nil)
		require.NoError(t, err)
		got, err := httpkit.DoJSON[thing](context.Background(), c, "GetThing", req)
		if tt.code == 0 {
			require.NoError(t, err, tt.path)
			assert.Equal(t, tt.want, got, tt.path)
			continue
		}
		require.Error(t, err, tt.path)
		assert.Equal(t, tt.code, connector.CodeOf(err), tt.path)
		if tt.is != nil {
			assert.ErrorIs(t, err, tt.is, tt.path)
		}
		assert.Contains(t, err.Error(), tt.message, tt.path)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  httpkit.Config
		msg  string
	}{
		{"no system", httpkit.Config{}, "System is required"},
		{"relative base", httpkit.Config{System: "x", BaseURL: "/api"}, "BaseURL"},
		{"negative rate", httpkit.Config{System: "x", Rate: -1}, "Rate"},
		{"negative limit", httpkit.Config{System: "x", MaxResponseBytes: -1}, "MaxResponseBytes"},
	}
	for _, tt := range tests {
		_, err := httpkit.New(tt.cfg)
		require.Error(t, err, tt.name)
		assert.ErrorIs(t, err, httpkit.ErrInvalidConfig, tt.name)
		assert.Contains(t, err.Error(), tt.msg, tt.name)
	}
	assert.True(t, errors.Is(httpkit.Config{System: "x"}.Validate(), nil))
}

// A 2xx whose vendor header reports few calls left pauses the client too.
func TestThrottleOnLowRemaining(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Sforce-Limit-Info", "api-usage=99990/100000")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *httpkit.Config) {
		c.Throttle = func(_ int, h http.Header) time.Duration {
			var used, limit int
			if _, err := fmt.Sscanf(h.Get("Sforce-Limit-Info"), "api-usage=%d/%d", &used, &limit); err == nil && limit-used < 100 {
				return time.Minute
			}
			return 0
		}
	})
	_, err := get(t, c, context.Background(), "/x")
	require.NoError(t, err, "the answer itself succeeds")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = get(t, c, ctx, "/x")
	require.Error(t, err)
	assert.Equal(t, connector.CodeTimeout, connector.CodeOf(err))
	assert.Contains(t, err.Error(), "paused")
	assert.Equal(t, int32(1), calls.Load(), "the paused call reached the server")
}

func TestNewRequestRefs(t *testing.T) {
	withBase := newClient(t, "https://erp.test/api/v1/", nil)
	noBase := newClient(t, "", nil)
	tests := []struct {
		c    *httpkit.Client
		ref  string
		want string
		err  string
	}{
		{withBase, "orders?top=2", "https://erp.test/api/v1/orders?top=2", ""},
		{withBase, "/services/data/v66.0/query/01g-500", "https://erp.test/services/data/v66.0/query/01g-500", ""},
		{withBase, "http://other.test/x", "http://other.test/x", ""},
		{noBase, "/orders", "", "relative and Config.BaseURL is not set"},
		{noBase, "ftp://erp.test/x", "", "scheme must be http or https"},
		{noBase, "http:///x", "", "has no host"},
		{noBase, "http://erp.test/%zz", "", "invalid URL escape"},
	}
	for _, tt := range tests {
		req, err := tt.c.NewRequest("Op", http.MethodGet, tt.ref, nil)
		if tt.err != "" {
			require.Error(t, err, tt.ref)
			assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), tt.ref)
			assert.Contains(t, err.Error(), tt.err, tt.ref)
			continue
		}
		require.NoError(t, err, tt.ref)
		assert.Equal(t, tt.want, req.URL.String(), tt.ref)
		assert.Equal(t, req.URL.Host, req.Host, tt.ref)
	}
}

func TestHead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1234")
		w.Header().Set("ETag", `"v7"`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	req, err := c.NewRequest("HeadThing", http.MethodHead, "/x", nil)
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), "HeadThing", req)
	require.NoError(t, err)
	assert.Empty(t, resp.Body)
	assert.Equal(t, `"v7"`, resp.Header.Get("ETag"))
}

func TestStatusError(t *testing.T) {
	c, err := httpkit.New(httpkit.Config{System: "erp", MaxRetryAfter: 2 * time.Second,
		DecodeError: func(status int, _ http.Header, body []byte) error { return fmt.Errorf("vendor said %s", body) }})
	require.NoError(t, err)
	tests := []struct {
		status  int
		header  http.Header
		code    connector.Code
		applied bool
		after   time.Duration
	}{
		{400, nil, connector.CodeInvalid, false, 0},
		{412, nil, connector.CodeConflict, false, 0},
		{429, http.Header{"Retry-After": {"30"}}, connector.CodeRateLimited, false, 2 * time.Second},
		{500, nil, connector.CodeUnavailable, true, 0},
	}
	for _, tt := range tests {
		err := c.StatusError("Op", tt.status, tt.header, []byte("boom"))
		var ce *connector.Error
		require.ErrorAs(t, err, &ce, "status %d", tt.status)
		assert.Equal(t, tt.code, ce.Code(), "status %d", tt.status)
		assert.Equal(t, tt.applied, ce.MayHaveApplied(), "status %d", tt.status)
		assert.Equal(t, tt.after, ce.RetryAfter(), "status %d", tt.status)
		assert.Equal(t, tt.status, httpkit.Status(err), "status %d", tt.status)
		assert.Contains(t, err.Error(), "vendor said boom", "status %d", tt.status)
	}
}
