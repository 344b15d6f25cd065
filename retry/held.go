package retry

import (
	"context"
	"sync/atomic"
)

// Held is a resource that the caller of an operation holds while the
// operation runs, such as a place in a bounded set of concurrent calls or
// a lock that orders the calls of one key, and that [Do] gives up while it
// waits between attempts when the context says so (see
// [ReleaseWhileWaiting]): a call waiting out its backoff then costs its
// own time, not the time of every caller queued for the resource.
//
// Do calls Release and Acquire on the goroutine that runs it, one at a
// time: Release before each wait, while the resource is held, and Acquire
// after the wait. When ctx ends during a wait, Do returns without calling
// Acquire; when Acquire returns an error, Do returns it. So whether the
// caller holds the resource when Do returns is for the implementation to
// record.
type Held interface {
	// Release gives the resource up.
	Release()
	// Acquire takes the resource back, waiting until it is free or ctx
	// is done; then it returns context.Cause(ctx) without the resource.
	Acquire(ctx context.Context) error
}

// heldKey is the context key of a *heldContext.
type heldKey struct{}

// heldContext is the context of ReleaseWhileWaiting: its parent with h,
// which the outermost Do that runs under it claims (one allocation, where
// context.WithValue and a value would take two).
type heldContext struct {
	context.Context
	h       Held
	claimed atomic.Bool
	// outer is the heldContext ctx was made under, if any: a handler's
	// worker place around a lock the handler takes, say.
	outer *heldContext
}

// Value returns the heldContext itself for heldKey, else the parent's
// value.
func (c *heldContext) Value(key any) any {
	if key == (heldKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// ReleaseWhileWaiting returns a copy of ctx under which [Do] gives h up
// while it waits between attempts: it calls h.Release before each wait and
// h.Acquire after it (see [Held]). The caller must hold h when it calls
// the operation. Only one Do at a time uses h: the first that runs under
// the context claims it until it returns, so that a Do nested in its
// operation, or run beside it by the operation, waits holding h as any Do
// does, and does not release what its own caller holds. A later Do under
// the context (the next call of a loop) claims it again. Operations that
// retry with Do, such as the connector decorators, need no change. A nil h
// returns ctx.
//
// Under a ctx of ReleaseWhileWaiting already, Do gives up both (and so on
// outwards): the inner h first, and it takes the outer one back first, so
// that they are taken in the order their holders took them.
//
// Pass the returned context only to calls that may wait, not to work that
// must stay under h from start to end.
func ReleaseWhileWaiting(ctx context.Context, h Held) context.Context {
	if h == nil {
		return ctx
	}
	outer, _ := ctx.Value(heldKey{}).(*heldContext)
	return &heldContext{Context: ctx, h: h, outer: outer}
}

// maxHeld bounds how many nested Helds one Do gives up.
const maxHeld = 4

// heldSet is what one Do claimed: the Helds of its context not claimed by
// another Do, innermost first.
type heldSet struct {
	n int
	c [maxHeld]*heldContext
}

// claimHeld claims the heldContexts of ctx that no other Do has claimed.
func claimHeld(ctx context.Context) heldSet {
	var s heldSet
	v, _ := ctx.Value(heldKey{}).(*heldContext)
	for ; v != nil && s.n < maxHeld; v = v.outer {
		if v.claimed.CompareAndSwap(false, true) {
			s.c[s.n] = v
			s.n++
		}
	}
	return s
}

// unclaim lets a later Do claim them again.
func (s *heldSet) unclaim() {
	for _, v := range s.c[:s.n] {
		v.claimed.Store(false)
	}
}

// release gives the Helds up, innermost first.
func (s *heldSet) release() {
	for _, v := range s.c[:s.n] {
		v.h.Release()
	}
}

// acquire takes them back, outermost first, stopping at an error.
func (s *heldSet) acquire(ctx context.Context) error {
	for i := s.n - 1; i >= 0; i-- {
		if err := s.c[i].h.Acquire(ctx); err != nil {
			return err
		}
	}
	return nil
}
