package faults_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distsync/distsync/connector/faults"
)

// effects is a handler that counts the requests it handled.
type effects struct{ n atomic.Int64 }

func (e *effects) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	e.n.Add(1)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`)
}

func TestHTTPFaults(t *testing.T) {
	tests := []struct {
		name       string
		cfg        faults.HTTPConfig
		wantStatus int    // 0: the client gets no answer
		wantHeader string // Retry-After
		wantEffect bool
		count      func(faults.HTTPCounts) int64
	}{
		{"none", faults.HTTPConfig{}, 200, "", true, func(c faults.HTTPCounts) int64 { return c.Requests }},
		{"unavailable", faults.HTTPConfig{Unavailable: 1}, 503, "", false, func(c faults.HTTPCounts) int64 { return c.Unavailable }},
		{"rate limited", faults.HTTPConfig{RateLimited: 1, RetryAfter: 1500 * time.Millisecond}, 429, "2", false, func(c faults.HTTPCounts) int64 { return c.RateLimited }},
		{"unauthorized", faults.HTTPConfig{Unauthorized: 1}, 401, "", false, func(c faults.HTTPCounts) int64 { return c.Unauthorized }},
		{"timeout after effect", faults.HTTPConfig{TimeoutAfterEffect: 1, Hold: 20 * time.Millisecond}, 0, "", true, func(c faults.HTTPCounts) int64 { return c.TimeoutsAfterEffect }},
		{"reset after effect", faults.HTTPConfig{ResetAfterEffect: 1}, 0, "", true, func(c faults.HTTPCounts) int64 { return c.ResetsAfterEffect }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e effects
			h, err := faults.NewHTTP(&e, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			resp, err := srv.Client().Post(srv.URL+"/orders", "application/json", strings.NewReader(`{"id":1}`))
			if tt.wantStatus == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got an answer %d, want the connection closed without one", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
				}
				if got := resp.Header.Get("Retry-After"); got != tt.wantHeader {
					t.Errorf("Retry-After %q, want %q", got, tt.wantHeader)
				}
			}
			if got := e.n.Load() == 1; got != tt.wantEffect {
				t.Errorf("effect happened: %v, want %v", got, tt.wantEffect)
			}
			if got := tt.count(h.Counts()); got != 1 {
				t.Errorf("count of the fault %d, want 1 (counts %+v)", got, h.Counts())
			}
		})
	}
}

func TestHTTPTimeoutAfterEffectEndsWhenClientGivesUp(t *testing.T) {
	var e effects
	h, err := faults.NewHTTP(&e, faults.HTTPConfig{TimeoutAfterEffect: 1}) // Hold: a minute
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := srv.Client()
	c.Timeout = 50 * time.Millisecond
	_, err = c.Get(srv.URL)
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err %v, want a client timeout", err)
	}
	if e.n.Load() != 1 {
		t.Fatal("the request was not handled before its answer was withheld")
	}
	// Close waits for the handler: it returns when the client gave up, not
	// after a minute.
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the withheld handler did not end when the client closed the connection")
	}
}

func TestHTTPMatchAndReject(t *testing.T) {
	var e effects
	h, err := faults.NewHTTP(&e, faults.HTTPConfig{
		RateLimited: 1,
		RetryAfter:  3 * time.Second,
		Match:       func(r *http.Request) bool { return r.URL.Path != "/token" },
		Reject: func(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
			w.Header().Set("x-retry-after", fmt.Sprint(int(retryAfter.Seconds())))
			w.Header().Set("x-remaining-calls", "0")
			w.WriteHeader(status)
			io.WriteString(w, `[{"errorCode":"REQUEST_LIMIT_EXCEEDED"}]`)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || e.n.Load() != 1 {
		t.Fatalf("/token: status %d, effects %d; want 200 and 1 (not matched, no fault)", resp.StatusCode, e.n.Load())
	}
	resp, err = srv.Client().Get(srv.URL + "/orders")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("x-retry-after") != "3" || !strings.Contains(string(body), "REQUEST_LIMIT_EXCEEDED") {
		t.Fatalf("got %d %v %s, want the vendor-shaped 429", resp.StatusCode, resp.Header, body)
	}
	if c := h.Counts(); c.Requests != 1 || c.RateLimited != 1 {
		t.Fatalf("counts %+v, want 1 request matched and rate limited", c)
	}
}

func TestHTTPSeedReproduces(t *testing.T) {
	run := func(seed uint64) []int {
		h, err := faults.NewHTTP(&effects{}, faults.HTTPConfig{Seed: seed, Unavailable: 0.2, RateLimited: 0.2, Unauthorized: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for range 50 {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			got = append(got, rec.Code)
		}
		return got
	}
	a, b, c := run(7), run(7), run(8)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatalf("seeds 7 and 8 gave the same 50 faults: %v", a)
	}
	seen := map[int]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range []int{200, 401, 429, 503} {
		if !seen[s] {
			t.Errorf("50 requests at 20%% each never got %d: %v", s, a)
		}
	}
}

func TestHTTPConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  faults.HTTPConfig
		want string // "" means valid
	}{
		{"zero", faults.HTTPConfig{}, ""},
		{"all", faults.HTTPConfig{Unavailable: 0.2, RateLimited: 0.2, Unauthorized: 0.2, TimeoutAfterEffect: 0.2, ResetAfterEffect: 0.2}, ""},
		{"negative", faults.HTTPConfig{Unavailable: -0.1}, "Unavailable -0.1"},
		{"above one", faults.HTTPConfig{ResetAfterEffect: 1.5}, "ResetAfterEffect 1.5"},
		{"sum", faults.HTTPConfig{Unavailable: 0.6, RateLimited: 0.6}, "add up to"},
		{"retry after", faults.HTTPConfig{RetryAfter: -1}, "RetryAfter"},
		{"hold", faults.HTTPConfig{Hold: -1}, "Hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, faults.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate: %v, want ErrInvalidConfig naming %q", err, tt.want)
			}
		})
	}
	if _, err := faults.NewHTTP(nil, faults.HTTPConfig{}); !errors.Is(err, faults.ErrInvalidConfig) {
		t.Fatalf("NewHTTP(nil): %v, want ErrInvalidConfig", err)
	}
}

// A vendor emulator wrapped so that one request in five is rate limited;
// the seed makes the run reproducible.
func ExampleNewHTTP() {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	h, err := faults.NewHTTP(api, faults.HTTPConfig{Seed: 3, RateLimited: 0.2, RetryAfter: 2 * time.Second})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for range 10 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			fmt.Println("429, Retry-After", resp.Header.Get("Retry-After"))
		}
	}
	fmt.Printf("%+v\n", h.Counts())
	// Output:
	// 429, Retry-After 2
	// {Requests:10 Unavailable:0 RateLimited:1 Unauthorized:0 TimeoutsAfterEffect:0 ResetsAfterEffect:0}
}
