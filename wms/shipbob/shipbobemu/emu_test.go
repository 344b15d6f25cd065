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

// TestWebhookRetries checks the delivery schedule of a message its
// receiver never acknowledges: retried after 1s, 2s, 4s, ... up to an
// hour apart, and dropped once a day has passed since it was queued.
func TestWebhookRetries(t *testing.T) {
	clk := &clock{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
	var got []string
	var mu sync.Mutex
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("webhook-id")+" "+r.Header.Get("x-webhook-topic"))
		mu.Unlock()
		assert.NotEmpty(t, r.Header.Get("webhook-signature"))
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer receiver.Close()
	emu, err := shipbobemu.New(shipbobemu.Config{Clock: clk.Now, RateLimit: -1, WebhookSecret: []byte("s")})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	post := func(path, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer x")
		req.Header.Set("shipbob_channel_id", "1")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, 201, post("/2026-07/webhook", `{"topics":["order.shipped"],"url":"`+receiver.URL+`"}`))
	require.Equal(t, 201, post("/2026-07/order", `{"reference_id":"r1","shipping_method":"Standard","type":"B2B","recipient":{"name":"N","address":{"address1":"1 A St","city":"C","country":"US"}},"products":[{"reference_id":"SKU-100","name":"x","quantity":1}]}`))
	for range 4 {
		_, err := emu.Step(t.Context())
		require.NoError(t, err)
	}
	require.Equal(t, 1, emu.Pending())
	attempts := 0
	for range 200 {
		if emu.Pending() == 0 {
			break
		}
		_, err := emu.DeliverWebhooks(t.Context())
		require.NoError(t, err)
		clk.Add(time.Second)
		if n := emu.Counts().WebhooksSent; n > attempts {
			attempts = n
			clk.Add(shipbobemu.RetryMax) // jump to the next attempt at the latest
		}
	}
	assert.Zero(t, emu.Pending(), "dropped after a day")
	c := emu.Counts()
	assert.Zero(t, c.WebhooksDelivered)
	// 1s, 2s, 4s, ..., 2048s, then hourly until a day has passed.
	assert.Greater(t, c.WebhooksSent, 12)
	assert.Less(t, c.WebhooksSent, 40)
	mu.Lock()
	defer mu.Unlock()
	for _, g := range got {
		assert.Equal(t, got[0], g, "every attempt has the message's webhook-id")
	}
	assert.Contains(t, got[0], "order.shipped")
}
