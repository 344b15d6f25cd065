package eventlog

import "sync"

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
}

// newWorkQueue returns an empty queue. It is made by the goroutine that
// waits on it (see Consumer), so that its channel belongs to the same
// testing/synctest bubble.
func newWorkQueue() *workQueue {
	q := &workQueue{handled: make(chan struct{}, 1)}
	q.cond.L = &q.mu
	return q
}

// work runs handle for the queued items, one at a time, until the queue is
// closed.
func (q *workQueue) work(handle func(*item) error) {
	q.mu.Lock()
	for {
		for q.head == len(q.todo) && !q.closed {
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
		it.err = handle(it)
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
