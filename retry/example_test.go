package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsync/distsync/retry"
)

// rateLimited is how a connector error reports HTTP 429 with Retry-After.
type rateLimited struct{ after time.Duration }

func (e *rateLimited) Error() string             { return "erp: 429 too many requests" }
func (e *rateLimited) RetryAfter() time.Duration { return e.after }

func ExampleDo_retryAfter() {
	// The server answered 429 with "Retry-After: 120".
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	after, _ := retry.ParseRetryAfter("120", now)

	attempts := 0
	p := retry.Policy{
		// Waiting 2 minutes would overrun the 30s budget: Do gives up at
		// once instead of sleeping, and the caller can park the order.
		MaxElapsed: 30 * time.Second,
		OnRetry: func(attempt int, err error, delay time.Duration) {
			fmt.Println("retrying after", delay)
		},
	}
	_, err := retry.Do(context.Background(), p, func(context.Context) (string, error) {
		attempts++
		return "", &rateLimited{after: after}
	})
	var ex *retry.ExhaustedError
	fmt.Println(attempts, errors.As(err, &ex), ex.Reason)
	var rl *rateLimited
	fmt.Println(errors.As(err, &rl), err)
	// Output:
	// 1 true max elapsed time
	// true retry: gave up after 1 attempts (max elapsed time): erp: 429 too many requests
}

func ExampleDo() {
	attempts := 0
	p := retry.Policy{
		MaxAttempts: 5,
		// A 1ms wait keeps the example quick; real callers keep the
		// default backoff (the zero Backoff: 100ms, doubling, up to 10s,
		// with jitter).
		Backoff: retry.Backoff{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, Jitter: retry.NoJitter},
		OnRetry: func(attempt int, err error, _ time.Duration) {
			fmt.Printf("attempt %d failed: %v\n", attempt, err)
		},
	}
	v, err := retry.Do(context.Background(), p, func(context.Context) (int, error) {
		attempts++
		if attempts < 3 {
			return 0, errors.New("wms: 503 unavailable")
		}
		return 42, nil
	})
	fmt.Println(v, err)

	// A permanent error stops at once.
	_, err = retry.Do(context.Background(), retry.Policy{}, func(context.Context) (int, error) {
		return 0, retry.Permanent(errors.New("erp: 400 invalid order"))
	})
	fmt.Println(err)
	// Output:
	// attempt 1 failed: wms: 503 unavailable
	// attempt 2 failed: wms: 503 unavailable
	// 42 <nil>
	// erp: 400 invalid order
}

func ExampleBreaker() {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	b, err := retry.NewBreaker(retry.BreakerConfig{
		Name:                "wms",
		ConsecutiveFailures: 2,
		OpenTimeout:         30 * time.Second,
		Now:                 func() time.Time { return now },
		OnStateChange: func(name string, from, to retry.State) {
			fmt.Printf("%s: %s -> %s\n", name, from, to)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	down := func(context.Context) error { return errors.New("wms: connection refused") }
	up := func(context.Context) error { return nil }
	ctx := context.Background()

	_ = b.Do(ctx, down)
	_ = b.Do(ctx, down)
	err = b.Do(ctx, up)
	var oe *retry.OpenError
	if errors.Is(err, retry.ErrCircuitOpen) && errors.As(err, &oe) {
		fmt.Println("park until", oe.Until.Format(time.TimeOnly))
	}

	now = now.Add(30 * time.Second)
	fmt.Println(b.Do(ctx, up), b.State())
	// Output:
	// wms: closed -> open
	// park until 09:00:30
	// wms: open -> half-open
	// wms: half-open -> closed
	// <nil> closed
}

func ExampleParseRetryAfter() {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for _, v := range []string{"120", "Fri, 27 Nov 2026 09:05:00 GMT", "soon"} {
		d, err := retry.ParseRetryAfter(v, now)
		fmt.Println(d, err)
	}
	// Output:
	// 2m0s <nil>
	// 5m0s <nil>
	// 0s retry: invalid Retry-After: "soon" is neither delay-seconds nor an HTTP-date
}
