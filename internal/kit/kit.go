// Package kit lets the conformance kits (connectortest, eventlogtest,
// idempotencytest, tracingtest) run their checks outside a test, so that
// each offers, beside its Run(t, ...), a Check function returning the
// failures as an error, as testing/slogtest offers TestHandler beside Run
// and testing/fstest offers TestFS. A check is written once against [T],
// which *testing.T implements; [Run] gives it a T that records failures.
package kit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// T is the part of *testing.T the kits' checks use. *testing.T implements
// it; so does the recorder [Run] passes. testify's assert and require
// accept it.
type T interface {
	Helper()
	Name() string
	Context() context.Context
	Cleanup(f func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	FailNow()
	Failed() bool
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
}

var _ T = (*testing.T)(nil)

// Sub runs check as the named subcheck of t: a subtest when t is a
// *testing.T, else a part of t's recorded run whose failures are prefixed
// with name. It reports whether the subcheck passed.
func Sub(t T, name string, check func(t T)) bool {
	wrap := func(s T) T { return s }
	if c, ok := t.(*contract); ok {
		wrap = func(s T) T { return Contract(s, c.sentence) }
	}
	if tt, ok := unwrap(t).(*testing.T); ok {
		return tt.Run(name, func(t *testing.T) { check(wrap(t)) })
	}
	r := unwrap(t).(*recorder)
	return r.sub(name, func(s T) { check(wrap(s)) })
}

// Testing returns the *testing.T behind t, or nil when t is a recorder
// of [Run]. A kit passes it to the harness callbacks that take a
// *testing.T; outside a test they get nil, as the kits' Check functions
// document.
func Testing(t T) *testing.T {
	tt, _ := unwrap(t).(*testing.T)
	return tt
}

// Run runs check outside a test as the check called name, and returns
// its failures joined into one error, each prefixed with the name of its
// (sub)check, nil when it passed or skipped. A
// Fatalf or FailNow ends the check, as in a test; the functions it
// registered with Cleanup then run, last first, after its Context is
// cancelled.
func Run(name string, check func(t T)) error {
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{name: name, ctx: ctx, cancel: cancel, root: &results{}}
	r.run(check)
	if r.Failed() && len(r.root.errs) == 0 {
		return fmt.Errorf("%s: failed", name) // FailNow without a message
	}
	return errors.Join(r.root.errs...)
}

// results are the failures of one Run, shared by its subchecks.
type results struct {
	mu   sync.Mutex
	errs []error
}

// recorder is the T of a check run by [Run]. It is safe for concurrent
// use, as *testing.T is.
type recorder struct {
	name   string
	ctx    context.Context
	cancel context.CancelFunc
	root   *results

	mu       sync.Mutex
	failed   bool
	cleanups []func()
}

// run runs check on its own goroutine, so that FailNow can end it with
// runtime.Goexit, then runs the clean-ups.
func (r *recorder) run(check func(t T)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				r.Errorf("panic: %v", p)
			}
		}()
		check(r)
	}()
	<-done
	r.cancel()
	r.mu.Lock()
	cleanups := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}

// sub runs check as a subcheck of r.
func (r *recorder) sub(name string, check func(t T)) bool {
	ctx, cancel := context.WithCancel(r.ctx)
	s := &recorder{name: r.name + "/" + name, ctx: ctx, cancel: cancel, root: r.root}
	s.run(check)
	if s.Failed() {
		r.mu.Lock()
		r.failed = true
		r.mu.Unlock()
		return false
	}
	return true
}

func (r *recorder) Helper()                  {}
func (r *recorder) Name() string             { return r.name }
func (r *recorder) Context() context.Context { return r.ctx }
func (r *recorder) Logf(string, ...any)      {}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	r.root.mu.Lock()
	defer r.root.mu.Unlock()
	r.root.errs = append(r.root.errs, fmt.Errorf("%s: %s", r.name, fmt.Sprintf(format, args...)))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.FailNow()
}

func (r *recorder) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Skipf ends the check without failing it.
func (r *recorder) Skipf(string, ...any) { runtime.Goexit() }

// Contract returns t for a check of the contract sentence: every failure
// reported through it (Errorf, Fatalf, and so testify's assert and require)
// is prefixed with the sentence in quotes, so that a failure says which
// promise of the contract the implementation broke, as slogtest's failures
// do. [Sub] and [Testing] see through it; subchecks keep the sentence.
func Contract(t T, sentence string) T {
	if c, ok := t.(*contract); ok {
		t = c.T
	}
	return &contract{T: t, sentence: sentence}
}

// contract is the T of [Contract].
type contract struct {
	T
	sentence string
}

func (c *contract) prefix(format string) string {
	return "contract %q broken: " + format
}

func (c *contract) Errorf(format string, args ...any) {
	c.T.Helper()
	c.T.Errorf(c.prefix(format), append([]any{c.sentence}, args...)...)
}

func (c *contract) Fatalf(format string, args ...any) {
	c.T.Helper()
	c.T.Fatalf(c.prefix(format), append([]any{c.sentence}, args...)...)
}

// unwrap returns the T behind a [Contract].
func unwrap(t T) T {
	if c, ok := t.(*contract); ok {
		return c.T
	}
	return t
}
