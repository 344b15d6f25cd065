// Package lease holds the bookkeeping that the partitioned consumer
// groups of eventlog (SQL) and eventlog/jetstream share: a held partition
// lease, renewed on a ticker until it is unlocked or lost ([Lease]), the
// set of partitions a member owns ([Owned]), and how a member picks its
// share ([Target], [Order]); and the wait for a whole group to be idle
// ([WaitIdle]). What a renewal or a release writes is the backend's,
// behind [Store]; what keeps a group busy is the backend's reading.
package lease

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"
)

// ErrTaken is what [Store.Renew] returns when another member holds the
// lease now: the lease is then lost at once.
var ErrTaken = errors.New("lease: taken by another member")

// Store writes one held lease in the backend's storage. Its methods are
// called from one goroutine at a time: Renew by [Lease.Keep], then
// Release by [Lease.Unlock] once Keep has returned.
type Store interface {
	// Renew extends the lease, conditional on this holder still holding
	// it. It returns nil when it did, an error matching [ErrTaken] when
	// another member holds the lease, and any other error when the
	// outcome is unknown (the renewal is tried again at the next tick).
	Renew(ctx context.Context) error
	// Release frees the lease, conditional on this holder still holding
	// it, so that another member may take it at once. Its error is
	// ignored: a lease not released expires.
	Release(ctx context.Context) error
}

// Config configures a [Lease]. Every field is required.
type Config struct {
	// Name names the lease at the start of the errors [Lease.Err]
	// returns, with the backend's prefix: `eventlog: lease of partition 3
	// of group "orders"`.
	Name string
	// Lost is the sentinel the errors of [Lease.Err] wrap
	// (eventlog.ErrLockLost).
	Lost error
	// TTL is how long the lease lives without renewal; Renew how often
	// it is renewed, less than TTL/2.
	TTL, Renew time.Duration
	// Acquired is when the write that took the lease was sent.
	Acquired time.Time
}

// Lease is a held lease: [Lease.Keep] renews it every Config.Renew and
// declares it lost when a renewal finds it taken by another member or
// when no renewal succeeded for TTL − Renew since the last successful one
// was sent (or, before any renewal, since Config.Acquired). A member that
// takes a lease over waits until it saw the lease unrenewed for TTL, so
// the holder gives up at least Renew before.
//
// It implements eventlog.GroupLock (Lost, Err, Unlock). Create it with
// [New] and run Keep in a goroutine of its own before anything calls
// Unlock. Its methods are safe for concurrent use; the zero value is not
// usable.
type Lease struct {
	cfg   Config
	store Store

	mu      sync.Mutex
	err     error
	lost    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// New returns the lease cfg describes, held through store. It does not
// start the renewals: run [Lease.Keep].
func New(cfg Config, store Store) *Lease {
	return &Lease{cfg: cfg, store: store, lost: make(chan struct{}), stop: make(chan struct{}), stopped: make(chan struct{})}
}

// Keep renews the lease until it is unlocked or lost. A renewal may take
// until the lease's deadline (TTL − Renew after the last successful
// renewal was sent): its context ends then, and the lease is lost.
func (l *Lease) Keep() {
	defer close(l.stopped)
	ttl, renew := l.cfg.TTL, l.cfg.Renew
	okAt := l.cfg.Acquired // when the last successful write was sent
	t := time.NewTicker(renew)
	defer t.Stop()
	deadline := time.NewTimer(ttl - renew - time.Since(okAt))
	defer deadline.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-deadline.C:
			l.lose(fmt.Errorf("%s not renewed for %v: %w", l.cfg.Name, time.Since(okAt).Round(time.Millisecond), l.cfg.Lost))
			return
		case <-t.C:
		}
		left := ttl - renew - time.Since(okAt)
		if left <= 0 {
			continue // the deadline fires
		}
		ctx, cancel := context.WithTimeout(context.Background(), left)
		sent := time.Now()
		err := l.store.Renew(ctx)
		cancel()
		switch {
		case err == nil:
			okAt = sent
			deadline.Reset(ttl - renew - time.Since(sent))
		case errors.Is(err, ErrTaken):
			l.lose(fmt.Errorf("%s taken by another member: %w", l.cfg.Name, l.cfg.Lost))
			return
		}
	}
}

func (l *Lease) lose(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	close(l.lost)
}

// Lost returns a channel that is closed when the lease is lost.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err returns nil while the lease is held and why it was lost once Lost
// is closed: an error wrapping Config.Lost.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Unlock stops the renewals, waits for Keep to return and then, when the
// lease is still held, releases it (waiting up to TTL for the release).
// Later calls do nothing.
func (l *Lease) Unlock() {
	l.once.Do(func() {
		close(l.stop)
		<-l.stopped
		select {
		case <-l.lost:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.TTL)
		defer cancel()
		_ = l.store.Release(ctx)
	})
}

// Owned is the set of partitions a member owns, each with the function
// that stops its consumer. The zero value is an empty set, ready to use;
// it is safe for concurrent use.
type Owned struct {
	mu sync.Mutex
	m  map[int]func()
}

// Add records partition n as owned, stopped by stop.
func (o *Owned) Add(n int, stop func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = make(map[int]func())
	}
	o.m[n] = stop
}

// Remove forgets partition n.
func (o *Owned) Remove(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.m, n)
}

// List returns the owned partitions in increasing order.
func (o *Owned) List() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]int, 0, len(o.m))
	for n := range o.m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Stop calls the stop function of each of the partitions ns that is
// owned; a partition not owned (any more) is passed over. Stop does not
// wait for the consumers, nor forget the partitions: each consumer
// removes its partition when it ends.
func (o *Owned) Stop(ns ...int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range ns {
		if stop := o.m[n]; stop != nil {
			stop()
		}
	}
}

// StopAll calls the stop function of every owned partition, as Stop does.
func (o *Owned) StopAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, stop := range o.m {
		stop()
	}
}

// Target returns how many of parts partitions a member owns at most when
// members members share them: ceil(parts/members). members below 1 count
// as 1.
func Target(parts, members int) int {
	members = max(members, 1)
	return (parts + members - 1) / members
}

// Order returns the order, of length parts, in which member tries the
// partitions it does not own: from the 32-bit FNV-1a hash of its name
// modulo parts onwards, wrapping around, so that members starting at once
// mostly try different partitions first. It returns nil when parts is
// less than 1.
func Order(member string, parts int) []int {
	if parts < 1 {
		return nil
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(member))
	start := int(h.Sum32() % uint32(parts))
	out := make([]int, parts)
	for i := range out {
		out[i] = (start + i) % parts
	}
	return out
}
