package flow

import "context"

// slot is a place in a semaphore (a buffered channel: a send takes a
// place, a receive gives one back) held by one goroutine at a time. It is
// a retry.Held: under retry.ReleaseWhileWaiting, a call the decorators
// retry gives its place up while it waits, so that a failing call costs
// its own time, not the time of every caller queued for a place.
type slot struct {
	sem  chan struct{}
	held bool
}

// Acquire takes a place, waiting until one is free or ctx is done.
func (s *slot) Acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		s.held = true
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Release gives the place back, when s holds one.
func (s *slot) Release() {
	if s.held {
		s.held = false
		<-s.sem
	}
}

// readerPlace is the place of a reader of CheckHolds: when a call gives it
// up to wait for a retry, spare starts another reader to take it.
type readerPlace struct {
	slot
	spare func()
}

// Release gives the place back and starts a spare reader.
func (p *readerPlace) Release() {
	p.slot.Release()
	p.spare()
}
