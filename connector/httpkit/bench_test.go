package httpkit_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/distsync/distsync/connector/httpkit"
)

const benchBody = `{"id":"SO-1","status":"accepted","lines":[{"sku":"A-1","qty":"3"},{"sku":"B-2","qty":"1"}]}`

// BenchmarkCall compares one GET through a Client (tracing, idempotency
// key, limiter, bounded read, error mapping; no logger) with the same GET
// through a bare http.Client reading the body, against one loopback server.
func BenchmarkCall(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchBody)
	}))
	defer srv.Close()
	ctx := context.Background()

	b.Run("bare", func(b *testing.B) {
		hc := &http.Client{Transport: http.DefaultTransport}
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/orders/1", nil)
			req.Header.Set("Accept", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(err, resp.StatusCode)
			}
		}
	})
	b.Run("httpkit", func(b *testing.B) {
		c, err := httpkit.New(httpkit.Config{System: "erp", BaseURL: srv.URL})
		if err != nil {
			b.Fatal(err)
		}
		kctx := httpkit.WithIdempotencyKey(ctx, "erp:GetOrder:1")
		b.ReportAllocs()
		for b.Loop() {
			req, err := c.NewRequest("GetOrder", http.MethodGet, "/orders/1", nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Do(kctx, "GetOrder", req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// stubTransport answers every request at once, without a network, so that
// BenchmarkOverhead measures only what each client adds.
type stubTransport struct{}

func (stubTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(benchBody)), ContentLength: int64(len(benchBody)), Request: r}, nil
}

// BenchmarkOverhead is BenchmarkCall without the network: the difference
// between the two is the toolkit's own cost per call, less drowned in the
// loopback's noise.
func BenchmarkOverhead(b *testing.B) {
	ctx := context.Background()
	b.Run("bare", func(b *testing.B) {
		hc := &http.Client{Transport: stubTransport{}}
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://erp.test/orders/1", nil)
			req.Header.Set("Accept", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
		}
	})
	b.Run("httpkit", func(b *testing.B) {
		c, err := httpkit.New(httpkit.Config{System: "erp", BaseURL: "http://erp.test", Transport: stubTransport{}})
		if err != nil {
			b.Fatal(err)
		}
		kctx := httpkit.WithIdempotencyKey(ctx, "erp:GetOrder:1")
		b.ReportAllocs()
		for b.Loop() {
			req, err := c.NewRequest("GetOrder", http.MethodGet, "/orders/1", nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Do(kctx, "GetOrder", req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
