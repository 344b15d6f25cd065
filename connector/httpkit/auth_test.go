package httpkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/httpkit"
	"github.com/distsync/distsync/tracing"
)

// oauthServer issues token-1, token-2, ... and accepts only the latest at
// /api, echoing the body it got.
type oauthServer struct {
	mu      sync.Mutex
	issued  int
	grants  []string
	refresh []string
}

func (o *oauthServer) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		o.mu.Lock()
		o.issued++
		n := o.issued
		o.grants = append(o.grants, r.Form.Get("grant_type"))
		o.refresh = append(o.refresh, r.Form.Get("refresh_token"))
		o.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"token-%d","token_type":"Bearer","expires_in":3600,"refresh_token":"refresh-%d"}`, n, n+1)
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		want := fmt.Sprintf("Bearer token-%d", o.issued)
		o.mu.Unlock()
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(401)
			return
		}
		_, _ = io.Copy(w, r.Body)
	})
	return mux
}

func TestOAuth2RefreshOn401(t *testing.T) {
	for _, flow := range []string{"client_credentials", "refresh_token"} {
		t.Run(flow, func(t *testing.T) {
			o := &oauthServer{}
			srv := httptest.NewServer(o.handler(t))
			defer srv.Close()
			cfg := httpkit.OAuth2Config{TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "s3cret"}
			var auth *httpkit.OAuth2
			var err error
			if flow == "client_credentials" {
				auth, err = httpkit.ClientCredentials(cfg)
			} else {
				auth, err = httpkit.RefreshToken(cfg, "refresh-1")
			}
			require.NoError(t, err)
			c := newClient(t, srv.URL, func(c *httpkit.Config) { c.Auth = auth })
			post := func() (*httpkit.Response, error) {
				req, err := c.NewRequest("Post", http.MethodPost, "/api", map[string]int{"n": 1})
				require.NoError(t, err)
				return c.Do(context.Background(), "Post", req)
			}
			resp, err := post()
			require.NoError(t, err)
			assert.JSONEq(t, `{"n":1}`, string(resp.Body))
			// The server rotates: the cached token-1 is now refused, the
			// client fetches token-2 and replays the body.
			o.mu.Lock()
			o.issued++
			o.mu.Unlock()
			resp, err = post()
			require.NoError(t, err, "the 401 is answered by a fresh token")
			assert.JSONEq(t, `{"n":1}`, string(resp.Body), "the body is replayed")
			o.mu.Lock()
			defer o.mu.Unlock()
			assert.Equal(t, []string{flow, flow}, o.grants)
			if flow == "refresh_token" {
				assert.Equal(t, []string{"refresh-1", "refresh-2"}, o.refresh, "the rotated refresh token is used")
			}
		})
	}
}

func TestOAuth2Persistent401(t *testing.T) {
	var tokens atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tokens.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"t","token_type":"Bearer"}`)
			return
		}
		w.WriteHeader(401)
	}))
	defer srv.Close()
	auth, err := httpkit.ClientCredentials(httpkit.OAuth2Config{TokenURL: srv.URL + "/token", ClientID: "id"})
	require.NoError(t, err)
	c := newClient(t, srv.URL, func(c *httpkit.Config) { c.Auth = auth })
	_, err = get(t, c, context.Background(), "/api")
	require.Error(t, err)
	assert.Equal(t, connector.CodeUnauthorized, connector.CodeOf(err))
	assert.Equal(t, 401, httpkit.Status(err), "%v", err)
	assert.Equal(t, int32(2), tokens.Load(), "one refresh, then the 401 is returned")
}

func TestOAuth2TokenEndpointFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
	}))
	defer srv.Close()
	auth, err := httpkit.ClientCredentials(httpkit.OAuth2Config{TokenURL: srv.URL + "/token", ClientID: "id", ClientSecret: "s3cret"})
	require.NoError(t, err)
	c := newClient(t, srv.URL, func(c *httpkit.Config) { c.Auth = auth })
	_, err = get(t, c, context.Background(), "/api")
	require.Error(t, err)
	assert.Equal(t, connector.CodeUnauthorized, connector.CodeOf(err))
	assert.ErrorIs(t, err, httpkit.ErrToken)
	assert.Contains(t, err.Error(), "400 invalid_client")
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestHeadersAndRedactedLogs(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Set-Cookie", "session=abc")
		fmt.Fprint(w, `{"id":"1","access_token":"leak-1","nested":{"apiKey":"leak-2","ssn":"leak-3"}}`)
	}))
	defer srv.Close()
	var logs bytes.Buffer
	c := newClient(t, srv.URL, func(c *httpkit.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.LogBodies = true
		c.Redact = []string{"ssn", "X-Vendor-Key"}
		c.Propagator = tracing.Propagator{}
	})
	ctx := tracing.WithCorrelationID(context.Background(), "order-42")
	ctx = httpkit.WithIdempotencyKey(ctx, "erp:AcceptOrder:42")
	req, err := c.NewRequest("Post", http.MethodPost, "/x?token=leak-4&q=ok", map[string]string{"password": "leak-5", "sku": "A"})
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer leak-6")
	req.Header.Set("X-Vendor-Key", "leak-7")
	_, err = c.Do(ctx, "Post", req)
	require.NoError(t, err)

	assert.Equal(t, `"erp:AcceptOrder:42"`, got.Get("Idempotency-Key"))
	assert.Equal(t, "order-42", got.Get(tracing.DefaultCorrelationHeader))
	assert.Len(t, got.Get("Traceparent"), 55, "a traceparent is sent")

	out := logs.String()
	for i := 1; i <= 7; i++ {
		assert.NotContains(t, out, fmt.Sprintf("leak-%d", i), "secret %d in the logs", i)
	}
	assert.NotContains(t, out, "session=abc")
	assert.Contains(t, out, httpkit.Redacted)
	assert.Contains(t, out, `\"sku\":\"A\"`, "other fields are logged")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &rec))
	assert.Equal(t, float64(200), rec["status"])
}

func TestVendorIdempotencyField(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query().Get("request_id") + "|" + r.Header.Get("Idempotency-Key")
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *httpkit.Config) {
		c.SetIdempotencyKey = func(req *http.Request, key string) error {
			q := req.URL.Query()
			q.Set("request_id", key)
			req.URL.RawQuery = q.Encode()
			return nil
		}
	})
	req, err := c.NewRequest("GetThing", http.MethodGet, "/x", nil)
	require.NoError(t, err)
	_, err = c.Do(httpkit.WithIdempotencyKey(context.Background(), "k-1"), "GetThing", req)
	require.NoError(t, err)
	assert.Equal(t, "k-1|", got)
	assert.Empty(t, req.URL.RawQuery, "the caller's URL is left alone")

	c = newClient(t, srv.URL, func(c *httpkit.Config) { c.IdempotencyHeader = "X-Request-Key" })
	_, err = get(t, c, httpkit.WithIdempotencyKey(context.Background(), "bad key\n"), "/x")
	require.Error(t, err)
	assert.Equal(t, connector.CodeInvalid, connector.CodeOf(err), "an invalid key is refused before sending")
}

// Concurrent calls that all get a 401 fetch one new token, not one each,
// and the caller's request is left as it was.
func TestOAuth2Concurrent401(t *testing.T) {
	o := &oauthServer{}
	srv := httptest.NewServer(o.handler(t))
	defer srv.Close()
	auth, err := httpkit.ClientCredentials(httpkit.OAuth2Config{TokenURL: srv.URL + "/token", ClientID: "id"})
	require.NoError(t, err)
	c := newClient(t, srv.URL, func(c *httpkit.Config) { c.Auth = auth })
	_, err = get(t, c, context.Background(), "/api")
	require.NoError(t, err)
	o.mu.Lock()
	o.issued++ // the server no longer accepts the cached token
	o.mu.Unlock()

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			req, err := c.NewRequest("Post", http.MethodPost, "/api", map[string]int{"n": i})
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = c.Do(context.Background(), "Post", req)
			if req.Header.Get("Authorization") != "" {
				errs[i] = fmt.Errorf("the caller's request got an Authorization header")
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "call %d", i)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	assert.Len(t, o.grants, 2, "one token at the start, one after the 401s")
}

// A 401 on a request whose body cannot be replayed is returned as it is.
func TestOAuth2NoReplayWithoutGetBody(t *testing.T) {
	var tokens atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tokens.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"t","token_type":"Bearer"}`)
			return
		}
		w.WriteHeader(401)
	}))
	defer srv.Close()
	auth, err := httpkit.ClientCredentials(httpkit.OAuth2Config{TokenURL: srv.URL + "/token", ClientID: "id"})
	require.NoError(t, err)
	c := newClient(t, srv.URL, func(c *httpkit.Config) { c.Auth = auth })
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api", io.NopCloser(strings.NewReader(`{}`)))
	require.NoError(t, err)
	require.Nil(t, req.GetBody)
	_, err = c.Do(context.Background(), "Post", req)
	require.Error(t, err)
	assert.Equal(t, 401, httpkit.Status(err), "%v", err)
	assert.Equal(t, int32(1), tokens.Load(), "no second attempt")
}

func TestOAuth2ConfigValidate(t *testing.T) {
	tests := []struct {
		cfg httpkit.OAuth2Config
		msg string
	}{
		{httpkit.OAuth2Config{ClientID: "id"}, "TokenURL is required"},
		{httpkit.OAuth2Config{TokenURL: "/token", ClientID: "id"}, "not an absolute URL"},
		{httpkit.OAuth2Config{TokenURL: "https://idp.test/token"}, "ClientID is required"},
	}
	for _, tt := range tests {
		_, err := httpkit.ClientCredentials(tt.cfg)
		require.Error(t, err, tt.msg)
		assert.ErrorIs(t, err, httpkit.ErrInvalidConfig)
		assert.Contains(t, err.Error(), tt.msg)
	}
	_, err := httpkit.RefreshToken(httpkit.OAuth2Config{TokenURL: "https://idp.test/token", ClientID: "id"}, "")
	assert.ErrorIs(t, err, httpkit.ErrInvalidConfig, "empty refresh token")

	a, err := httpkit.ClientCredentials(httpkit.OAuth2Config{TokenURL: "https://idp.test/token", ClientID: "id", ClientSecret: "s3cret"})
	require.NoError(t, err)
	var out bytes.Buffer
	slog.New(slog.NewTextHandler(&out, nil)).Info("auth", "oauth2", a)
	assert.Contains(t, out.String(), "client_id=id")
	assert.NotContains(t, out.String(), "s3cret")
}
