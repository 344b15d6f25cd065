package faults

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultHold is how long a handler with a withheld answer
// ([HTTPConfig.TimeoutAfterEffect]) waits for the client to give up when
// [HTTPConfig.Hold] is zero.
const DefaultHold = time.Minute

// HTTPConfig says which faults [NewHTTP] injects into the requests an HTTP
// server answers, and how often: the failures a vendor's API has, seen from
// the wire. Probabilities are between 0 and 1; the zero value injects
// nothing. HTTPConfig is read once by NewHTTP; its functions are called
// concurrently and must be safe for concurrent use.
type HTTPConfig struct {
	// Seed seeds the random source of the faults.
	Seed uint64
	// Unavailable is the probability that a request is answered 503
	// without reaching the wrapped handler.
	Unavailable float64
	// RateLimited is the probability that a request is answered 429,
	// asking to wait RetryAfter, without reaching the wrapped handler.
	RateLimited float64
	// Unauthorized is the probability that a request is answered 401
	// without reaching the wrapped handler, as when an access token
	// expired early.
	Unauthorized float64
	// TimeoutAfterEffect is the probability that the wrapped handler
	// handles a request (its effect happens) and the answer is withheld
	// until the client gives up, or Hold passes, and the connection is
	// then closed without an answer.
	TimeoutAfterEffect float64
	// ResetAfterEffect is the probability that the wrapped handler
	// handles a request and the connection is closed without an answer.
	ResetAfterEffect float64
	// RetryAfter is the wait 429 answers ask for; 0 means
	// [DefaultRetryAfter].
	RetryAfter time.Duration
	// Hold bounds how long a withheld answer waits for the client; 0 means
	// DefaultHold.
	Hold time.Duration
	// Match selects the requests that may get faults; nil means every
	// request. An emulator typically spares its token endpoint.
	Match func(*http.Request) bool
	// Reject writes the answer of an injected 503, 429 or 401 in the
	// vendor's shape: its error body and its own headers (a rate limit's
	// remaining calls, say). retryAfter is RetryAfter for a 429 and 0
	// otherwise. nil writes a plain-text answer, with a Retry-After header
	// in seconds on a 429.
	Reject func(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration)
}

// Validate reports whether c is usable: probabilities within [0, 1], their
// sum at most 1, and no negative duration. The error matches
// ErrInvalidConfig.
func (c HTTPConfig) Validate() error {
	sum := 0.0
	for _, p := range []struct {
		name string
		v    float64
	}{{"Unavailable", c.Unavailable}, {"RateLimited", c.RateLimited}, {"Unauthorized", c.Unauthorized}, {"TimeoutAfterEffect", c.TimeoutAfterEffect}, {"ResetAfterEffect", c.ResetAfterEffect}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("%w: %s %v is not a probability in [0, 1]", ErrInvalidConfig, p.name, p.v)
		}
		sum += p.v
	}
	switch {
	case sum > 1:
		return fmt.Errorf("%w: the HTTP fault probabilities add up to %v, more than 1", ErrInvalidConfig, sum)
	case c.RetryAfter < 0:
		return fmt.Errorf("%w: RetryAfter %v is negative", ErrInvalidConfig, c.RetryAfter)
	case c.Hold < 0:
		return fmt.Errorf("%w: Hold %v is negative", ErrInvalidConfig, c.Hold)
	}
	return nil
}

// HTTPCounts says how many faults an [HTTP] handler injected. It is a plain
// value, safe for concurrent use. The zero value counts nothing.
type HTTPCounts struct {
	// Requests is how many requests Match selected.
	Requests int64
	// Unavailable, RateLimited and Unauthorized count the requests
	// answered 503, 429 and 401 without reaching the wrapped handler.
	Unavailable, RateLimited, Unauthorized int64
	// TimeoutsAfterEffect and ResetsAfterEffect count the requests handled
	// whose answer was lost.
	TimeoutsAfterEffect, ResetsAfterEffect int64
}

// HTTP is an http.Handler that injects faults into the requests another
// handler answers. Create it with [NewHTTP]. It is safe for concurrent use
// when the wrapped handler is. The zero value is not usable.
type HTTP struct {
	next http.Handler
	cfg  HTTPConfig

	mu     sync.Mutex
	rng    *rand.Rand
	counts HTTPCounts
}

// NewHTTP returns a handler that answers requests with next, injecting the
// faults cfg says. The faults come from one random source seeded by
// cfg.Seed and guarded by a mutex, and every selected request draws one
// value, so requests made one after another get the same faults for the
// same seed. The error matches ErrInvalidConfig.
//
// A lost answer (TimeoutAfterEffect, ResetAfterEffect) ends the handler
// with http.ErrAbortHandler, which the server treats as a closed
// connection without logging a panic.
func NewHTTP(next http.Handler, cfg HTTPConfig) (*HTTP, error) {
	if next == nil {
		return nil, fmt.Errorf("%w: the handler to wrap is nil", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.Hold == 0 {
		cfg.Hold = DefaultHold
	}
	return &HTTP{next: next, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}, nil
}

// Counts returns the faults injected so far.
func (h *HTTP) Counts() HTTPCounts {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts
}

// httpFault is what happens to one request.
type httpFault int

const (
	httpNone httpFault = iota
	httpUnavailable
	httpRateLimited
	httpUnauthorized
	httpTimeout
	httpReset
)

// draw decides the fault of one selected request.
func (h *HTTP) draw() httpFault {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts.Requests++
	v := h.rng.Float64()
	for _, f := range []struct {
		p     float64
		fault httpFault
		count *int64
	}{
		{h.cfg.Unavailable, httpUnavailable, &h.counts.Unavailable},
		{h.cfg.RateLimited, httpRateLimited, &h.counts.RateLimited},
		{h.cfg.Unauthorized, httpUnauthorized, &h.counts.Unauthorized},
		{h.cfg.TimeoutAfterEffect, httpTimeout, &h.counts.TimeoutsAfterEffect},
		{h.cfg.ResetAfterEffect, httpReset, &h.counts.ResetsAfterEffect},
	} {
		if v < f.p {
			*f.count++
			return f.fault
		}
		v -= f.p
	}
	return httpNone
}

// ServeHTTP answers r through the wrapped handler, or injects a fault.
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Match != nil && !h.cfg.Match(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	switch h.draw() {
	case httpUnavailable:
		h.reject(w, r, http.StatusServiceUnavailable, 0)
	case httpRateLimited:
		h.reject(w, r, http.StatusTooManyRequests, h.cfg.RetryAfter)
	case httpUnauthorized:
		h.reject(w, r, http.StatusUnauthorized, 0)
	case httpTimeout:
		h.next.ServeHTTP(discard{header: http.Header{}}, r)
		t := time.NewTimer(h.cfg.Hold)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		panic(http.ErrAbortHandler)
	case httpReset:
		h.next.ServeHTTP(discard{header: http.Header{}}, r)
		panic(http.ErrAbortHandler)
	default:
		h.next.ServeHTTP(w, r)
	}
}

// reject writes an injected error answer.
func (h *HTTP) reject(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	if h.cfg.Reject != nil {
		h.cfg.Reject(w, r, status, retryAfter)
		return
	}
	if retryAfter > 0 {
		secs := int64((retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	http.Error(w, "faults: injected "+http.StatusText(status), status)
}

// discard is a ResponseWriter that drops the answer of a request whose
// answer is lost.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}
