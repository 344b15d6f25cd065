// This file owns the client-side rate limit: a token bucket from
// golang.org/x/time/rate and a pause that 429s and vendor limit headers
// extend.

package httpkit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter holds back requests: first until the pause a server asked for
// ends, then by the token bucket (nil when there is no rate).
type limiter struct {
	bucket *rate.Limiter

	mu    sync.Mutex
	until time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	l := &limiter{}
	if perSecond > 0 {
		l.bucket = rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))
	}
	return l
}

// pauseUntil holds back every request until t; an earlier t than the
// current pause changes nothing.
func (l *limiter) pauseUntil(t time.Time) {
	l.mu.Lock()
	if t.After(l.until) {
		l.until = t
	}
	l.mu.Unlock()
}

// wait blocks until a request may be sent, or ctx is done. A pause that
// would end after ctx's deadline fails at once.
func (l *limiter) wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		until := l.until
		l.mu.Unlock()
		d := time.Until(until)
		if d <= 0 {
			break
		}
		if dl, ok := ctx.Deadline(); ok && dl.Before(until) {
			return fmt.Errorf("httpkit: client paused for %v by the server, past the context's deadline: %w", d.Round(time.Millisecond), context.DeadlineExceeded)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
	if l.bucket == nil {
		return ctx.Err()
	}
	if err := l.bucket.Wait(ctx); err != nil {
		if ctx.Err() == nil {
			// The wait would outlast the deadline.
			return fmt.Errorf("httpkit: rate limit: %v: %w", err, context.DeadlineExceeded)
		}
		return fmt.Errorf("httpkit: rate limit: %w", err)
	}
	return nil
}
