package idempotencytest

import (
	"sync"
	"time"
)

// Clock is a manual clock for tests: time stands still until Advance moves
// it. Pass its Now method as the Now field of a store's configuration.
//
// A Clock is safe for concurrent use. Its zero value is not useful; create
// it with [NewClock].
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
