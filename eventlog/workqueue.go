package eventlog

import (
	"context"
	"sync"

	"github.com/distsync/distsync/retry"
)

// workQueue hands the items of a run to its workers and their outcomes
// back to the run's loop in batches: the loop queues all its ready items
// with one lock and collects all the outcomes there are with one, instead
// of a channel send and receive per item, while each worker still takes
// one item at a time.
type workQueue struct {
	mu      sync.Mutex
	cond    sync.Cond // signalled when todo grows or the queue closes
	todo    []*item   // queued, not taken yet: todo[head:]
	head    int
	done    []*item // handled, not collected yet
	waiting int     // workers waiting for an item
	closed  bool
	// handled has a value when done became non-empty since the last
	// collect.
	handled chan struct{}
	// places holds a value per handler running, as many as workers at
	// most: a handler waiting between the attempts of a call retried with
	// retry.Do gives its place up (see workerPlace) to a spare worker.
	places chan struct{}
	ctx    context.Context // the handlers'
	handle func(context.Context, *item) error
}

// newWorkQueue returns an empty queue whose workers run handle with ctx,
// workers at a time. It is made by the goroutine that waits on it (see
// Consumer), so that its channels belong to the same testing/synctest
// bubble.
func newWorkQueue(ctx context.Context, workers int, handle func(context.Context, *item) error) *workQueue {
	q := &workQueue{handled: make(chan struct{}, 1), places: make(chan struct{}, workers), ctx: ctx, handle: handle}
	q.cond.L = &q.mu
	return q
}

// work runs handle for the queued items, one at a time, holding a place
// while it handles one; a worker returns once the queue is closed, a spare
// (see workerPlace) once it is empty.
func (q *workQueue) work(spare bool) {
	place := &workerPlace{q: q}
	ctx := retry.ReleaseWhileWaiting(q.ctx, place)
	q.mu.Lock()
	for {
		for q.head == len(q.todo) && !q.closed && !spare {
			q.waiting++
			q.cond.Wait()
			q.waiting--
		}
		if q.head == len(q.todo) {
			q.mu.Unlock()
			return
		}
		it := q.todo[q.head]
		q.todo[q.head] = nil
		if q.head++; q.head == len(q.todo) {
			q.todo, q.head = q.todo[:0], 0
		}
		q.mu.Unlock()
		if it.err = place.Acquire(q.ctx); it.err == nil {
			it.err = q.handle(ctx, it)
			place.give()
		}
		q.mu.Lock()
		q.done = append(q.done, it)
		if len(q.done) == 1 {
			select {
			case q.handled <- struct{}{}:
			default: // the loop has not taken the last signal yet
			}
		}
	}
}

// push queues items (in order) and wakes as many waiting workers.
func (q *workQueue) push(items []*item) {
	q.mu.Lock()
	q.todo = append(q.todo, items...)
	wake := min(q.waiting, len(items))
	q.mu.Unlock()
	for range wake {
		q.cond.Signal()
	}
}

// takeBack removes the items no worker has taken yet and returns how many
// there were.
func (q *workQueue) takeBack() int {
	q.mu.Lock()
	n := len(q.todo) - q.head
	clear(q.todo)
	q.todo, q.head = q.todo[:0], 0
	q.mu.Unlock()
	return n
}

// collect returns the outcomes handled since the last collect, in buf's
// memory (buf's items must be cleared).
func (q *workQueue) collect(buf []*item) []*item {
	q.mu.Lock()
	out := q.done
	q.done = buf[:0]
	q.mu.Unlock()
	return out
}

// close makes the workers return once they are idle.
func (q *workQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// workerPlace is a worker's place among the handlers running. It is a
// retry.Held: a handler's call that retry.Do retries (a connector
// decorator's) gives it up while it waits, so that a failing call costs its
// own event time, not the time of the events queued behind it; when items
// are queued and no worker is idle, a spare worker starts to take the
// place, and returns once the queue is empty.
type workerPlace struct {
	q    *workQueue
	held bool
}

// Acquire takes a place, waiting until a handler gives one up or ctx is
// done.
func (p *workerPlace) Acquire(ctx context.Context) error {
	select {
	case p.q.places <- struct{}{}:
		p.held = true
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// give gives the place back.
func (p *workerPlace) give() {
	if p.held {
		p.held = false
		<-p.q.places
	}
}

// Release gives the place back and starts a spare worker when items are
// queued and no worker is idle.
func (p *workerPlace) Release() {
	p.give()
	q := p.q
	q.mu.Lock()
	spare := q.head < len(q.todo) && q.waiting == 0 && !q.closed
	q.mu.Unlock()
	if spare {
		go q.work(true)
	}
}
