package shipbobemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// get sends GET path with the bearer token and returns the answer and body.
func get(t *testing.T, srv *httptest.Server, path, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// TestRateLimit checks the sliding window of ShipBob's limit, per user:
// the remaining calls on each answer, then 429 with x-retry-after (the
// seconds until the oldest call leaves the window, rounded up) and
// x-remaining-calls 0 and ShipBob's body, until the window slides.
func TestRateLimit(t *testing.T) {
	clk := &clock{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
	emu, err := shipbobemu.New(shipbobemu.Config{RateLimit: 3, Clock: clk.Now})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	defer srv.Close()

	steps := []struct {
		name      string
		advance   time.Duration
		user      string
		status    int
		remaining string
		retry     string
	}{
		{"first call", 0, "a", 200, "2", ""},
		{"second call 10s later", 10 * time.Second, "a", 200, "1", ""},
		{"third call 20s later", 10 * time.Second, "a", 200, "0", ""},
		{"fourth call is limited until 60s after the first", 5500 * time.Millisecond, "a", 429, "0", "35"},
		{"another user has his own window", 0, "b", 200, "2", ""},
		{"still limited a second before", 33500 * time.Millisecond, "a", 429, "0", "1"},
		{"the first call left the window", time.Second, "a", 200, "0", ""},
		{"the second has not", 0, "a", 429, "0", "10"},
	}
	for _, s := range steps {
		clk.Add(s.advance)
		resp, body := get(t, srv, "/2026-07/location", s.user)
		assert.Equal(t, s.status, resp.StatusCode, "%s: status", s.name)
		assert.Equal(t, s.remaining, resp.Header.Get("x-remaining-calls"), "%s: x-remaining-calls", s.name)
		assert.Equal(t, s.retry, resp.Header.Get("x-retry-after"), "%s: x-retry-after", s.name)
		if s.status == 429 {
			var m struct {
				StatusCode int    `json:"statusCode"`
				Message    string `json:"message"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &m), "%s: body %s", s.name, body)
			assert.Equal(t, 429, m.StatusCode, s.name)
			assert.Equal(t, "Rate limit is exceeded. Try again in "+s.retry+" seconds.", m.Message, s.name)
		}
	}
	assert.Equal(t, 3, emu.Counts().RateLimited)
}

// TestRequests checks the answers to malformed or unauthorized requests.
func TestRequests(t *testing.T) {
	emu, err := shipbobemu.New(shipbobemu.Config{Token: "good"})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	order := `{"reference_id":"r1","shipping_method":"Standard","type":"B2B","recipient":{"name":"N","address":{"address1":"1 A St","city":"C","country":"US"}},"products":[{"reference_id":"SKU-100","name":"x","quantity":1}]}`
	cases := []struct {
		name, method, path, token, channel, body string
		status                                   int
		contains                                 string
	}{
		{"no token", "GET", "/2026-07/location", "", "", "", 401, "denied"},
		{"wrong token", "GET", "/2026-07/location", "bad", "", "", 401, "denied"},
		{"unknown path", "GET", "/2026-07/nothing", "good", "", "", 404, "No route"},
		{"old version", "GET", "/1.0/location", "good", "", "", 404, "No route"},
		{"create without channel", "POST", "/2026-07/order", "good", "", order, 400, "shipbob_channel_id"},
		{"create with another channel", "POST", "/2026-07/order", "good", "7", order, 400, "shipbob_channel_id"},
		{"create with bad JSON", "POST", "/2026-07/order", "good", "1", "{", 400, "not valid JSON"},
		{"create without products", "POST", "/2026-07/order", "good", "1", strings.Replace(order, `[{"reference_id":"SKU-100","name":"x","quantity":1}]`, `[]`, 1), 400, "products"},
		{"create with an unknown SKU", "POST", "/2026-07/order", "good", "1", strings.Replace(order, "SKU-100", "NOPE", 1), 400, "products[0]"},
		{"create", "POST", "/2026-07/order", "good", "1", order, 201, `"reference_id":"r1"`},
		{"create again", "POST", "/2026-07/order", "good", "1", order, 409, "already exists"},
		{"list by reference", "GET", "/2026-07/order?ReferenceIds=r1", "good", "", "", 200, `"status":"Processing"`},
		{"list with a bad limit", "GET", "/2026-07/order?Limit=251", "good", "", "", 400, "Limit"},
		{"list with a bad date", "GET", "/2026-07/order?LastUpdateStartDate=yesterday", "good", "", "", 400, "LastUpdateStartDate"},
		{"unknown order", "GET", "/2026-07/order/42", "good", "", "", 404, "not found"},
		{"cancel unknown order", "POST", "/2026-07/order/42/cancel", "good", "", "", 404, "not found"},
		{"inventory", "GET", "/2026-07/inventory?SKUs=SKU-100", "good", "", "", 200, `"fulfillable_quantity":120`},
		{"subscribe without secret", "POST", "/2026-07/webhook", "good", "", `{"topics":["order.shipped"],"url":"http://x.test/"}`, 400, "secret"},
	}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		require.NoError(t, err)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		if c.channel != "" {
			req.Header.Set("shipbob_channel_id", c.channel)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err, c.name)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, c.status, resp.StatusCode, "%s: %s", c.name, b)
		assert.Contains(t, string(b), c.contains, c.name)
	}
}
