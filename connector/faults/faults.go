package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/distsync/distsync/connector"
)

// DefaultRetryAfter is the Retry-After of injected rate limits when
// [Config.RetryAfter] is zero.
const DefaultRetryAfter = time.Second

// ErrInvalidConfig is matched (with errors.Is) by the error
// [Config.Validate] returns, and so by the constructors' errors.
var ErrInvalidConfig = errors.New("faults: invalid configuration")

// ErrInjected is matched (with errors.Is) by every error the wrappers
// inject, so a test can tell injected failures from real ones.
var ErrInjected = errors.New("faults: injected")

// Config says which faults to inject and how often. Probabilities are
// between 0 and 1; the zero value injects nothing, so a wrapper with a
// zero Config behaves as the wrapped connector. Config is read once by the
// constructor; its functions are called concurrently and must be safe for
// concurrent use.
type Config struct {
	// Seed seeds the random source of the faults.
	Seed uint64
	// Unavailable is the probability that a call fails with
	// CodeUnavailable without reaching the wrapped connector.
	Unavailable float64
	// RateLimited is the probability that a call fails with
	// CodeRateLimited, carrying RetryAfter, without reaching the wrapped
	// connector. Unavailable plus RateLimited is at most 1.
	RateLimited float64
	// RetryAfter is the delay injected rate limits ask for; 0 means
	// DefaultRetryAfter.
	RetryAfter time.Duration
	// AmbiguousTimeout is the probability that a call the wrapped
	// connector completed successfully fails with CodeTimeout and
	// MayHaveApplied true: its effect happened, its result is lost.
	AmbiguousTimeout float64
	// Latency is the largest delay added before a call; each call waits a
	// uniformly random time in [0, Latency). 0 adds none.
	Latency time.Duration
	// Sleep waits for d or until ctx is done, returning context.Cause(ctx)
	// in that case. nil means a timer; tests pass a function that records
	// or advances a fake clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Duplicate is the probability that a feed page is delivered again by
	// the next poll from its cursor.
	Duplicate float64
	// Reorder is the probability that the events of a feed page are
	// shuffled.
	Reorder float64
	// Outage is a window during which every call fails with
	// CodeUnavailable.
	Outage Outage
	// Now is the clock of Outage.From and Outage.Until; nil means
	// time.Now.
	Now func() time.Time
}

// Outage is a window during which every call fails with CodeUnavailable:
// by the clock, from From (inclusive) to Until (exclusive), and by call
// number (the 1-based count of calls through one wrapper), from FromCall
// (inclusive) to UntilCall (exclusive). A zero pair disables its half. It
// is a plain value, safe for concurrent use.
type Outage struct {
	From, Until         time.Time
	FromCall, UntilCall int64
}

// Validate reports whether c is usable: probabilities within [0, 1],
// Unavailable plus RateLimited at most 1, no negative duration or call
// number, and each window's end after its start. The error matches
// ErrInvalidConfig.
func (c Config) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"Unavailable", c.Unavailable}, {"RateLimited", c.RateLimited}, {"AmbiguousTimeout", c.AmbiguousTimeout}, {"Duplicate", c.Duplicate}, {"Reorder", c.Reorder}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("%w: %s %v is not a probability in [0, 1]", ErrInvalidConfig, p.name, p.v)
		}
	}
	switch {
	case c.Unavailable+c.RateLimited > 1:
		return fmt.Errorf("%w: Unavailable %v plus RateLimited %v exceeds 1", ErrInvalidConfig, c.Unavailable, c.RateLimited)
	case c.RetryAfter < 0:
		return fmt.Errorf("%w: RetryAfter %v is negative", ErrInvalidConfig, c.RetryAfter)
	case c.Latency < 0:
		return fmt.Errorf("%w: Latency %v is negative", ErrInvalidConfig, c.Latency)
	case c.Outage.FromCall < 0 || c.Outage.UntilCall < 0:
		return fmt.Errorf("%w: Outage call numbers %d..%d must not be negative", ErrInvalidConfig, c.Outage.FromCall, c.Outage.UntilCall)
	case c.Outage.UntilCall != 0 && c.Outage.UntilCall < c.Outage.FromCall:
		return fmt.Errorf("%w: Outage.UntilCall %d is before FromCall %d", ErrInvalidConfig, c.Outage.UntilCall, c.Outage.FromCall)
	case !c.Outage.Until.IsZero() && c.Outage.Until.Before(c.Outage.From):
		return fmt.Errorf("%w: Outage.Until %v is before From %v", ErrInvalidConfig, c.Outage.Until, c.Outage.From)
	}
	return nil
}

// Counts says how many faults a wrapper injected. It is a plain value, safe
// for concurrent use. The zero value counts nothing.
type Counts struct {
	// Calls is how many calls went through the wrapper.
	Calls int64
	// Unavailable and RateLimited count the injected transient errors.
	Unavailable int64
	RateLimited int64
	// AmbiguousTimeouts counts calls applied but reported as timed out.
	AmbiguousTimeouts int64
	// Outage counts calls failed by the outage window.
	Outage int64
	// Delays counts the calls delayed, and Delayed their total delay.
	Delays  int64
	Delayed time.Duration
	// Duplicates counts pages delivered again, Reorders pages shuffled.
	Duplicates int64
	Reorders   int64
}

// Add adds o's counts to c, to total the faults of several wrappers.
func (c *Counts) Add(o Counts) {
	c.Calls += o.Calls
	c.Unavailable += o.Unavailable
	c.RateLimited += o.RateLimited
	c.AmbiguousTimeouts += o.AmbiguousTimeouts
	c.Outage += o.Outage
	c.Delays += o.Delays
	c.Delayed += o.Delayed
	c.Duplicates += o.Duplicates
	c.Reorders += o.Reorders
}

// injector is the fault machinery shared by the wrappers.
type injector struct {
	cfg    Config
	system string
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time

	mu      sync.Mutex
	rng     *rand.Rand
	counts  Counts
	pending map[connector.Cursor]connector.Page // pages to deliver again
}

func newInjector(cfg Config, system string) (*injector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	in := &injector{
		cfg:     cfg,
		system:  system,
		sleep:   cfg.Sleep,
		now:     cfg.Now,
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		pending: map[connector.Cursor]connector.Page{},
	}
	if in.cfg.RetryAfter == 0 {
		in.cfg.RetryAfter = DefaultRetryAfter
	}
	if in.sleep == nil {
		in.sleep = sleepTimer
	}
	if in.now == nil {
		in.now = time.Now
	}
	return in, nil
}

// sleepTimer waits for d or until ctx is done.
func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Counts returns the faults injected so far.
func (in *injector) Counts() Counts {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.counts
}

// plan is what happens to one call, drawn at its start.
type plan struct {
	err       error // fail before the call
	delay     time.Duration
	ambiguous bool // fail after the call succeeded
}

// injected returns an injected *connector.Error.
func (in *injector) injected(code connector.Code, op string, delay time.Duration, maybe bool, what string) error {
	return connector.NewError(code, in.system, op, fmt.Errorf("%w %s", ErrInjected, what), connector.WithRetryAfter(delay), connector.WithMayHaveApplied(maybe))
}

// draw decides the faults of one call. It draws the same number of values
// for every call, so that the faults of later calls do not depend on
// which faults earlier calls got.
func (in *injector) draw(op string) plan {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts.Calls++
	n := in.counts.Calls
	transient, ambiguous, latency := in.rng.Float64(), in.rng.Float64(), in.rng.Float64()
	var p plan
	o := in.cfg.Outage
	byCall := o.FromCall != 0 || o.UntilCall != 0
	byClock := !o.From.IsZero() || !o.Until.IsZero()
	inCalls := byCall && n >= o.FromCall && (o.UntilCall == 0 || n < o.UntilCall)
	inClock := false
	if byClock {
		now := in.now()
		inClock = !now.Before(o.From) && (o.Until.IsZero() || now.Before(o.Until))
	}
	switch {
	case inCalls || inClock:
		in.counts.Outage++
		p.err = in.injected(connector.CodeUnavailable, op, 0, false, "outage")
		return p
	case transient < in.cfg.Unavailable:
		in.counts.Unavailable++
		p.err = in.injected(connector.CodeUnavailable, op, 0, false, "unavailable")
		return p
	case transient < in.cfg.Unavailable+in.cfg.RateLimited:
		in.counts.RateLimited++
		p.err = in.injected(connector.CodeRateLimited, op, in.cfg.RetryAfter, false, "rate limit")
		return p
	}
	if in.cfg.Latency > 0 {
		p.delay = time.Duration(latency * float64(in.cfg.Latency))
		if p.delay > 0 {
			in.counts.Delays++
			in.counts.Delayed += p.delay
		}
	}
	if ambiguous < in.cfg.AmbiguousTimeout {
		p.ambiguous = true
	}
	return p
}

// do runs fn with the faults of one call.
func do[T any](ctx context.Context, in *injector, op string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	if ctx.Err() != nil {
		return zero, context.Cause(ctx)
	}
	p := in.draw(op)
	if p.err != nil {
		return zero, p.err
	}
	if p.delay > 0 {
		if err := in.sleep(ctx, p.delay); err != nil {
			return zero, err
		}
	}
	v, err := fn(ctx)
	if err == nil && p.ambiguous {
		in.mu.Lock()
		in.counts.AmbiguousTimeouts++
		in.mu.Unlock()
		return zero, in.injected(connector.CodeTimeout, op, 0, true, "timeout after the call was applied")
	}
	return v, err
}

// poll runs a feed poll with the faults of one call and of feeds.
func (in *injector) poll(ctx context.Context, op string, cursor connector.Cursor, limit int, fn func(context.Context, connector.Cursor, int) (connector.Page, error)) (connector.Page, error) {
	return do(ctx, in, op, func(ctx context.Context) (connector.Page, error) {
		max := limit
		if max <= 0 {
			max = connector.DefaultPageSize
		}
		in.mu.Lock()
		again, ok := in.pending[cursor]
		delete(in.pending, cursor)
		in.mu.Unlock()
		if ok && len(again.Events) <= max {
			again.Events = append(again.Events[:0:0], again.Events...)
			again.More = true
			return again, nil
		}
		page, err := fn(ctx, cursor, limit)
		if err != nil || len(page.Events) == 0 {
			return page, err
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		dup, shuffle := in.rng.Float64(), in.rng.Float64()
		if shuffle < in.cfg.Reorder && len(page.Events) > 1 {
			in.counts.Reorders++
			page.Events = append(page.Events[:0:0], page.Events...)
			in.rng.Shuffle(len(page.Events), func(i, j int) {
				page.Events[i], page.Events[j] = page.Events[j], page.Events[i]
			})
		}
		if dup < in.cfg.Duplicate && page.Next != cursor {
			in.counts.Duplicates++
			clear(in.pending) // one page pending at most: a consumer may never come back for it
			in.pending[page.Next] = page
		}
		return page, nil
	})
}
