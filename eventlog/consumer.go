package eventlog

import (
	"container/heap"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/tracectx"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// Defaults of [ConsumerConfig].
const (
	DefaultWorkers      = 4
	DefaultBatchSize    = 256
	DefaultMaxPending   = 16384
	DefaultPollInterval = 100 * time.Millisecond
	DefaultDrainTimeout = 30 * time.Second
)

// Handler handles one event. Its ctx carries the event's correlation ID
// (tracing.CorrelationID), as causation ID the event's ID
// (tracing.CausationID) and, when the event has a valid traceparent, its
// span context (tracing.SpanContextFrom), so that the events and calls it
// makes are tied to it. It is called concurrently for events of different keys, never for
// two events of the same key at once.
// The zero value, nil, is no implementation; a field of this type says what
// nil means there.
type Handler func(ctx context.Context, ev canonical.Event) error

// ConsumerConfig configures a [Consumer]. Group and Handler are required;
// the zero values of the other fields are the documented defaults.
// NewConsumer copies it; the functions it holds are called concurrently
// and must be safe for concurrent use.
type ConsumerConfig struct {
	// Group names the consumer group: its cursor, retry states and dead
	// letters are kept under this name, and it scopes the dedupe keys.
	// Required; at most 200 bytes.
	Group string
	// Handler handles the events. Required.
	Handler Handler
	// Workers is how many handlers run at once. A handler waiting between
	// the attempts of a call retried with retry.Do (a connector
	// decorator's) does not count: another event takes its place. Zero
	// means [DefaultWorkers].
	Workers int
	// BatchSize is how many entries one read of the log returns at most.
	// Zero means [DefaultBatchSize].
	BatchSize int
	// MaxPending bounds the events held in memory: those read after the
	// oldest event not yet done. When it is reached, reading pauses until
	// that event is done, so an event parked for long (its key's retry or
	// circuit wait) eventually pauses the other keys too, once MaxPending
	// events were read behind it; each such wait lasts at most
	// ErrorPolicy.MaxRetryAfter (a backoff delay at most MaxInterval).
	// Zero means [DefaultMaxPending].
	MaxPending int
	// PollInterval is how often the replay requests are polled, and the
	// log for the appends the backend does not notify (those of other
	// processes): at each interval the log is read unless it was read in
	// the last half interval, so at least every one and a half intervals.
	// Zero means [DefaultPollInterval].
	PollInterval time.Duration
	// Policy is the error policy.
	Policy ErrorPolicy
	// Dedupe, when not nil, suppresses the second effect of an event
	// delivered twice (after a crash between handling and acknowledging):
	// the handler runs under an idempotency claim keyed by the group and
	// the event's source and id, completed after success and released
	// after failure, so a failed event is handled again. The claim also
	// holds a fingerprint of the event's content (type, subject, data
	// content type and schema, per-subject sequence and data, JSON data
	// without insignificant whitespace; not its tracing attributes or
	// time): an event that reuses a source and id
	// already handled for other content is not a duplicate but an error
	// matching [idempotency.ErrMismatch], which the policy dead-letters
	// as permanent, naming both fingerprints. The fingerprint is a
	// SHA-256, the same in every process; in an
	// [*idempotency.MemoryStore], whose records end with the process, it
	// is a 128-bit hash keyed at random once per process, which is
	// cheaper to compute. Over an [SQL] backend, a store that is an
	// [idempotency.BatchClaimer] claims the keys of the events handed to
	// the handlers together in one transaction, and one that is an
	// [idempotency.TxCompleter] on the backend's database completes them
	// in the group's commit (see the package documentation).
	Dedupe idempotency.Store
	// Lease is the dedupe claim's lease; choose it longer than a handler
	// ever runs. Zero means idempotency.DefaultLease.
	Lease time.Duration
	// DrainTimeout bounds how long Run waits for in-flight handlers once
	// its context is done; then their context is cancelled. Zero means
	// [DefaultDrainTimeout].
	DrainTimeout time.Duration
	// Logger receives dead letters (Warn) and backend failures (Error).
	// Nil means discard.
	Logger *slog.Logger
	// OnDeadLetter, when not nil, is called once for every dead letter the
	// consumer stores (a permanent error, a spent budget, an undecodable
	// entry), after it is stored, with its ID set (its State and Audit are
	// the store's and not filled in). It is called from the
	// consumer's loop, so it must be quick and must not block.
	OnDeadLetter func(ctx context.Context, d DeadLetter)
	// Now is the clock of failure times and due times. Nil means
	// time.Now. Waits use the time package's timers, so a fake clock must
	// advance with them, as the clock inside a testing/synctest bubble does.
	Now func() time.Time
}

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (c ConsumerConfig) Validate() error {
	switch {
	case c.Group == "" || len(c.Group) > 200:
		return fmt.Errorf("eventlog: ConsumerConfig.Group %q must be 1 to 200 bytes: %w", c.Group, ErrInvalidConfig)
	case c.Handler == nil:
		return fmt.Errorf("eventlog: ConsumerConfig.Handler is nil: %w", ErrInvalidConfig)
	case c.Workers < 0 || c.BatchSize < 0 || c.MaxPending < 0:
		return fmt.Errorf("eventlog: ConsumerConfig has a negative Workers, BatchSize or MaxPending: %w", ErrInvalidConfig)
	case c.PollInterval < 0 || c.Lease < 0 || c.DrainTimeout < 0:
		return fmt.Errorf("eventlog: ConsumerConfig has a negative duration: %w", ErrInvalidConfig)
	}
	return c.Policy.Validate()
}

// Notifier is an optional interface of a [Backend] that can tell, within
// the process, when events were appended, so that a consumer does not wait
// for its next poll. Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type Notifier interface {
	// Appended returns a channel closed at the next append.
	Appended() <-chan struct{}
}

// Skipper is an optional interface of a [Backend] whose Read returns
// only some of the log's entries (the view of one partition of a
// partitioned group), so that a consumer whose entries are rare can
// still move its cursor as the log grows and not hold back
// [Pruner.TrimEvents]. The consumer calls SkippedTo after each Read that
// did not fail, from the goroutine that read; it moves its cursor over
// the offsets reported only when it has nothing read and not done, and
// commits that cursor, fenced by its epoch, at most once per
// PollInterval and only when it moves.
type Skipper interface {
	// SkippedTo returns the offset through which the last Read, which
	// returned its last entry at after (or none after after), found no
	// entry of the reader: every event at or before it is visible and
	// none after after is the reader's. It returns after when it knows
	// of none.
	SkippedTo(after uint64) uint64
}

// GroupLocker is an optional interface of a [Backend] shared by several
// processes: [Consumer.Run] holds its group's lock while it runs, so that
// one consumer at a time runs a group, and a second one waits as a standby.
// Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type GroupLocker interface {
	// TryLockGroup takes the lock of group when it is free and returns
	// ok == true and the held lock; when another holder has it, ok is
	// false.
	TryLockGroup(ctx context.Context, group string) (lock GroupLock, ok bool, err error)
}

// GroupLock is a held group lock, as [GroupLocker.TryLockGroup] returns
// it. A lock can be lost without Unlock (the connection that holds it
// died): its holder must then stop, as [Consumer.Run] does, because
// another process may take the lock. Implementations must be safe for
// concurrent use.
// The zero value, nil, is no implementation.
type GroupLock interface {
	// Lost returns a channel that is closed when the lock is lost. It is
	// nil for a lock that cannot be lost.
	Lost() <-chan struct{}
	// Err returns nil while the lock is held and why it was lost once
	// Lost is closed.
	Err() error
	// Unlock releases the lock (if it is still held). It is called once.
	Unlock()
}

// Consumer delivers the events of a [Backend] to a handler as one consumer
// group: in log order per key ([canonical.Event.Partition]), different keys
// in parallel on a bounded number of workers, acknowledged after handling,
// with failures handled by the [ErrorPolicy]. See the package
// documentation for the delivery guarantees.
//
// A Consumer is safe for concurrent use; Run runs it, once at a time. The
// zero value is not usable; create it with [NewConsumer].
type Consumer struct {
	b     Backend
	cfg   ConsumerConfig
	pol   ErrorPolicy
	guard idempotency.Guard
	// fingerprint fingerprints an event's content for guard's store.
	fingerprint func(*canonical.Event) idempotency.Fingerprint
	log         *slog.Logger
	now         func() time.Time
	running     atomic.Bool
	batch       batchCommitter           // the backend's group commit, nil without one
	claimer     idempotency.BatchClaimer // claims the ready items' keys together, nil without

	// WaitIdle's requests. Channels are made by the goroutine that waits
	// on them (WaitIdle's reply, Run's wake), never in NewConsumer, so
	// that inside a testing/synctest bubble every wait is on a channel of
	// the bubble even when the Consumer was made outside it.
	idleMu      sync.Mutex
	idlePending []chan error  // requests not taken by a Run yet
	idleWake    chan struct{} // the running loop's wake-up, nil when not running

	// Done items and idle key queues kept between Runs (a driver such as
	// flow.Drain runs the consumer once per batch); only Run uses them.
	freeItems []*item
	freeKeys  []*keyq
}

// NewConsumer returns a Consumer of b configured by cfg. The error matches
// [ErrInvalidConfig].
func NewConsumer(b Backend, cfg ConsumerConfig) (*Consumer, error) {
	if b == nil {
		return nil, fmt.Errorf("eventlog: NewConsumer: nil Backend: %w", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	c := &Consumer{b: b, cfg: cfg, pol: cfg.Policy.withDefaults(), log: cfg.Logger, now: cfg.Now}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	var db *sql.DB
	c.batch, db = batching(b)
	if cfg.Dedupe != nil {
		c.fingerprint = contentFingerprint
		if _, ok := cfg.Dedupe.(*idempotency.MemoryStore); ok {
			c.fingerprint = processFingerprint
		}
		store := c.batchStore(cfg.Dedupe, db)
		// The consumer decides what a failure means; the key is released
		// after every failure so that a retry or a replay runs again.
		c.guard = idempotency.Guard{Store: store, Lease: cfg.Lease, Logger: cfg.Logger,
			Policy: func(err error) idempotency.Outcome {
				if err == nil {
					return idempotency.Replay
				}
				return idempotency.Retry
			}}
	}
	return c, nil
}

// item is one delivery: an entry of the log or a replayed dead letter.
type item struct {
	// The fields every delivery reads or writes come first, in two cache
	// lines: the loop and a worker pass each item between their cores.
	off      uint64           // 0 for a replay
	ev       *canonical.Event // never nil; the log's own copy when a Memory lent it
	key      string
	decErr   error
	err      error
	replay   *DeadLetter
	batch    batchCommitter // see writes
	attempts int
	due      time.Time
	done     bool
	hidx     int
	raw      []byte
	first    time.Time
	last     time.Time
	dead     *DeadLetter // set while its dead letter could not be stored
	// Set while the handler runs when the consumer commits in batches
	// (see Defer): the batch committer, and the writes, rows
	// (TxBatch.Defer), appends (SQL.DeferAppend) and after functions it
	// deferred.
	writes  []TxWrite
	rows    []deferredRow
	appends []deferredAppend
	afters  []func()
	// The dedupe claim made for it with those of the other ready items
	// (claimReady, only with a batch claimer), and the lease whose
	// completion its handler deferred.
	pre    preClaim
	dedupe idempotency.Lease
}

// keyq holds the items of one key that are not done, oldest first; the
// head is in flight or parked when busy.
type keyq struct {
	items []*item
	busy  bool
}

// parkHeap orders parked items by due time.
type parkHeap []*item

func (h parkHeap) Len() int           { return len(h) }
func (h parkHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h parkHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].hidx = i; h[j].hidx = j }
func (h *parkHeap) Push(x any)        { it := x.(*item); it.hidx = len(*h); *h = append(*h, it) }
func (h *parkHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}

// run is the state of one Run, owned by its coordinating goroutine.
type run struct {
	c         *Consumer
	epoch     uint64    // the group's epoch this run claimed
	lock      GroupLock // the group's lock, nil without a GroupLocker
	fenced    error     // a write was refused: another run claimed the group
	committed uint64
	readPos   uint64
	skipped   uint64 // no entry of the run in (readPos, skipped] (a Skipper's)
	caughtUp  bool
	window    []*item // log items not done, in offset order (head at whead)
	whead     int
	keys      map[string]*keyq
	retries   map[uint64]Retry
	replaying map[int64]bool
	parked    parkHeap
	ready     []*item
	inflight  int
	notifier  Notifier
	notify    <-chan struct{}    // from notifier, taken before the last read
	readOK    bool               // the last read of the log succeeded
	lastRead  int                // entries the last read returned
	readAt    time.Time          // when the log was last read, by time.Now as the poll ticker
	replaysOK bool               // the last poll of the replay requests succeeded
	waiters   []chan error       // WaitIdle calls waiting for the next idle
	freeItems []*item            // done items, reused
	freeKeys  []*keyq            // idle key queues, reused
	lent      []*canonical.Event // the events a Memory lent, reused
	unflushed []*item            // handled, their deferred writes not committed yet
	stopping  bool               // the loop stops: failures are left for the next Run
	// With a batch committer, the group's commits run on a goroutine of
	// their own, one at a time (commitGroup): committing is set while one
	// is in flight, whose result comes back on commits; commitRetry is
	// when a failed commit of the cursor alone is tried again.
	commits     chan *commitJob
	committing  bool
	commitRetry time.Time
}

// newItem returns a zeroed item, reused when one is free.
func (r *run) newItem() *item {
	if n := len(r.freeItems); n > 0 {
		it := r.freeItems[n-1]
		r.freeItems = r.freeItems[:n-1]
		return it
	}
	return &item{}
}

// Run delivers events until ctx is done, then stops reading, waits for the
// handlers in flight (after DrainTimeout it cancels their context and waits
// for them to return: a handler must honour its context), records their
// successes, commits the cursor and returns context.Cause(ctx). A handler failure during that drain is neither
// retried nor dead-lettered: the event is delivered again at the next Run.
// When the backend is a [GroupLocker], Run first waits until it holds the
// group's lock (another process may be running the group). It then claims
// the group ([Cursors.Claim]) and writes the group's state with the epoch
// it got, so that the writes of an earlier run of the group that has not
// stopped yet are refused.
//
// When the group lock is lost ([GroupLock.Lost]) or a write is refused
// because another run claimed the group ([ErrFenced]), Run stops at once:
// it cancels the context of the handlers in flight (with the error as
// its cause; on a lost lock at once, even while Run itself waits for a
// backend call that does not return), waits for them to return, records their successes, commits
// the cursor if its epoch is still current, and returns an error matching
// [ErrLockLost] or [ErrFenced]. The events it had not finished are
// delivered again by the run that took over. Call Run again to wait as a
// standby.
// Run returns an error matching [ErrRunning] when the Consumer is already
// running, the backend's error when it cannot claim or read the group's
// state at the start, and one matching [ErrNotMigrated] when the
// backend's tables are missing (while waiting for the group lock too);
// other failures to take the lock and later backend failures are logged
// and retried.
func (c *Consumer) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer c.running.Store(false)
	var lock GroupLock
	if gl, ok := c.b.(GroupLocker); ok {
		var err error
		if lock, err = c.lockGroup(ctx, gl); err != nil {
			return err
		}
		defer lock.Unlock()
	}
	epoch, err := c.b.Claim(ctx, c.cfg.Group)
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("eventlog: consumer %q: claim group: %w", c.cfg.Group, err)
	}
	st, err := c.b.Group(ctx, c.cfg.Group)
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("eventlog: consumer %q: load group state: %w", c.cfg.Group, err)
	}
	r := &run{c: c, epoch: epoch, lock: lock, committed: st.Cursor, readPos: st.Cursor,
		keys: make(map[string]*keyq), retries: make(map[uint64]Retry, len(st.Retries)),
		replaying: make(map[int64]bool), freeItems: c.freeItems, freeKeys: c.freeKeys}
	if c.batch != nil {
		r.commits = make(chan *commitJob, 1)
	}
	for _, rt := range st.Retries {
		r.retries[rt.Offset] = rt
	}
	// The free items and key queues go to the next Run (Run is exclusive).
	defer func() { c.freeItems, c.freeKeys = r.freeItems, r.freeKeys }()
	return r.loop(ctx)
}

// lockGroup waits until it holds the group's lock, trying every
// PollInterval; it returns the context's cause when ctx ends first, and
// an error matching [ErrNotMigrated] at once.
func (c *Consumer) lockGroup(ctx context.Context, gl GroupLocker) (GroupLock, error) {
	var t *time.Timer
	for logged := false; ; logged = true {
		lock, ok, err := gl.TryLockGroup(ctx, c.cfg.Group)
		switch {
		case errors.Is(err, ErrNotMigrated):
			// No retry cures it: Run fails as it does without a lock.
			if t != nil {
				t.Stop()
			}
			return nil, fmt.Errorf("eventlog: consumer %q: lock group: %w", c.cfg.Group, err)
		case err != nil && ctx.Err() == nil:
			c.log.ErrorContext(ctx, "eventlog: taking the group lock failed; will retry", "group", c.cfg.Group, "err", err)
		case ok:
			if t != nil {
				t.Stop()
			}
			return lock, nil
		case !logged:
			c.log.InfoContext(ctx, "eventlog: another consumer runs the group; waiting as a standby", "group", c.cfg.Group)
		}
		if t == nil {
			t = time.NewTimer(c.cfg.PollInterval)
		} else {
			t.Reset(c.cfg.PollInterval)
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		case <-t.C:
		}
	}
}

func (r *run) loop(ctx context.Context) error {
	c := r.c
	hctx, hcancelCause := context.WithCancelCause(context.WithoutCancel(ctx))
	hcancel := func() { hcancelCause(context.Canceled) }
	defer hcancel()
	// Every ready item is queued for the workers at once and every outcome
	// collected at once, but each worker takes one item at a time: a slow
	// handler never delays an event of another key that an idle worker
	// could take.
	q := newWorkQueue(hctx, c.cfg.Workers, c.handle)
	for range c.cfg.Workers {
		go q.work(false)
	}
	defer q.close()
	var outcomes []*item // the last batch of outcomes, reused

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	poll := time.NewTicker(c.cfg.PollInterval)
	defer poll.Stop()
	r.notifier, _ = c.b.(Notifier)
	runCtx := ctx
	wake := make(chan struct{}, 1)
	c.idleMu.Lock()
	c.idleWake = wake
	if len(c.idlePending) > 0 {
		wake <- struct{}{}
	}
	c.idleMu.Unlock()
	defer func() {
		c.idleMu.Lock()
		c.idleWake = nil
		c.idleMu.Unlock()
	}()

	var drain <-chan time.Time
	stopping := false
	var lost <-chan struct{}
	if r.lock != nil {
		lost = r.lock.Lost()
	}
	if lost != nil {
		// The handlers are cancelled as soon as the lock is lost, not when
		// the loop next selects: the loop may be blocked in a write to a
		// backend that does not answer (the outage that killed the lock's
		// connection), while the process that takes the lock over starts
		// handling after its wait (see GroupLocker).
		quit := make(chan struct{})
		defer close(quit)
		lost := lost // the loop's copy is set to nil by halt
		go func() {
			select {
			case <-lost:
				hcancelCause(fmt.Errorf("eventlog: consumer %q stopped: %w: %w", c.cfg.Group, ErrLockLost, r.lock.Err()))
			case <-quit:
			}
		}()
	}
	var stopErr error // why the run stops other than by ctx
	// halt stops the run at once, cancelling the handlers in flight: the
	// group may be run by another process already.
	halt := func(err error) {
		stopErr = err
		hcancelCause(err)
		lost, drain = nil, nil
		if !stopping {
			stopping = true
			ctx = context.WithoutCancel(ctx)
		}
	}

	r.pollReplays(ctx)
	defer func() { r.release(ErrStopped) }()
	for {
		r.stopping = stopping
		if r.fenced != nil && stopErr == nil {
			halt(fmt.Errorf("eventlog: consumer %q stopped: %w", c.cfg.Group, r.fenced))
		}
		if !stopping {
			r.fill(ctx)
			if len(r.waiters) > 0 {
				r.checkIdle(ctx)
			}
		}
		if stopping {
			// Items queued but not taken by a worker are not started.
			r.inflight -= q.takeBack()
		} else if len(r.ready) > 0 {
			r.claimReady(ctx)
			q.push(r.ready)
			r.inflight += len(r.ready)
			clear(r.ready)
			r.ready = r.ready[:0]
		}
		var notify <-chan struct{}
		var idleWake chan struct{}
		if !stopping {
			idleWake = wake
			if r.caughtUp {
				notify = r.notify
			}
		}
		r.armTimer(timer)
		if stopping && r.inflight == 0 && !r.committing {
			break
		}
		select {
		case j := <-r.commits:
			wctx := context.WithoutCancel(ctx)
			r.landed(wctx, j)
			r.commit(wctx)
		case <-q.handled:
			// Outcomes are recorded even when ctx ends meanwhile.
			wctx := context.WithoutCancel(ctx)
			outcomes = q.collect(outcomes)
			for i, it := range outcomes {
				outcomes[i] = nil
				r.inflight--
				r.complete(wctx, it, stopping)
			}
			r.commit(wctx)
		case <-timer.C:
			r.unpark(context.WithoutCancel(ctx))
			r.commit(context.WithoutCancel(ctx))
		case <-notify:
			r.caughtUp = false
		case <-idleWake:
			// Idle is confirmed by a read and a poll of the replay
			// requests made after the request (checkIdle).
			c.idleMu.Lock()
			r.waiters = append(r.waiters, c.idlePending...)
			clear(c.idlePending)
			c.idlePending = c.idlePending[:0]
			c.idleMu.Unlock()
		case <-poll.C:
			// A Notifier may not see appends of other processes: the
			// log is read again, unless a read made in the last half
			// interval did (a busy consumer reads often), so that it is
			// read at least every one and a half intervals.
			if time.Since(r.readAt) >= c.cfg.PollInterval/2 {
				r.caughtUp = false
			}
			if !stopping {
				r.skip(context.WithoutCancel(ctx))
				r.pollReplays(ctx)
			}
		case <-lost:
			halt(fmt.Errorf("eventlog: consumer %q stopped: %w: %w", c.cfg.Group, ErrLockLost, r.lock.Err()))
		case <-ctx.Done():
			if !stopping {
				stopping = true
				ctx = context.WithoutCancel(ctx)
				drain = time.After(c.cfg.DrainTimeout)
			}
		case <-drain:
			hcancel()
			drain = nil
		}
	}
	r.stopping = true
	r.commitLast(context.WithoutCancel(ctx))
	r.releaseUnstarted(context.WithoutCancel(ctx))
	if stopErr != nil {
		return stopErr
	}
	if r.fenced != nil {
		return fmt.Errorf("eventlog: consumer %q stopped: %w", c.cfg.Group, r.fenced)
	}
	return context.Cause(runCtx)
}

// fill reads the log while there is room and the log has more, and queues
// what it read behind the keys.
func (r *run) fill(ctx context.Context) {
	c := r.c
	for !r.caughtUp && r.held() < c.cfg.MaxPending {
		limit := min(c.cfg.BatchSize, c.cfg.MaxPending-r.held())
		if r.notifier != nil {
			r.notify = r.notifier.Appended()
		}
		n, err := r.read(ctx, limit)
		if err != nil {
			if ctx.Err() == nil {
				c.log.ErrorContext(ctx, "eventlog: read failed; retrying at the next poll",
					"group", c.cfg.Group, "after", r.readPos, "err", err)
			}
			r.caughtUp, r.notify, r.readOK = true, nil, false
			return
		}
		r.readOK, r.lastRead, r.readAt = true, n, time.Now()
		if n < limit {
			r.caughtUp = true
		}
	}
}

// read reads at most limit entries after readPos and queues them,
// returning how many it read. A [Memory] lends its events: the items
// point to the log's own copies, which are never written again, rather
// than hold copies.
func (r *run) read(ctx context.Context, limit int) (int, error) {
	if m, ok := r.c.b.(*Memory); ok {
		evs, err := m.lend(ctx, r.readPos, limit, r.lent)
		if err != nil {
			return 0, err
		}
		for i, ev := range evs {
			evs[i] = nil
			it := r.newItem()
			it.off, it.ev = r.readPos+1, ev
			r.add(it)
		}
		r.lent = evs[:0]
		return len(evs), nil
	}
	entries, err := r.c.b.Read(ctx, r.readPos, limit)
	if err != nil {
		return 0, err
	}
	for i := range entries {
		e := &entries[i]
		it := r.newItem()
		it.off, it.ev, it.raw, it.decErr = e.Offset, &e.Event, e.Raw, e.Err
		r.add(it)
	}
	if s, ok := r.c.b.(Skipper); ok {
		r.skipped = s.SkippedTo(r.readPos)
	}
	return len(entries), nil
}

// skip moves the read position, and the cursor, over the entries in
// which a Skipper's reads found none of the run's, when the run is quiet
// (so the cursor would be the read position) and not stopping: the
// cursor of a consumer whose entries are rare follows the log, so that
// it does not hold back [Pruner.TrimEvents]. It is called at each poll:
// the cursor is written at most once per PollInterval, and only when it
// moves (a failed write is tried again at the next poll). An entry of
// the run read later is after skipped, so the cursor never passes one
// not done; the commit is fenced by the run's epoch as any other.
func (r *run) skip(ctx context.Context) {
	if r.skipped <= r.committed || r.stopping || r.committing || !r.quiet() {
		return
	}
	r.readPos = max(r.readPos, r.skipped)
	r.commit(ctx)
}

// add queues it, an entry of the log read after readPos, behind its key.
func (r *run) add(it *item) {
	if it.decErr != nil {
		it.key = "\x00offset:" + strconv.FormatUint(it.off, 10)
	} else {
		it.key = it.ev.Partition()
	}
	if len(r.retries) > 0 {
		if rt, ok := r.retries[it.off]; ok {
			it.attempts, it.first, it.last, it.due = rt.Attempts, rt.FirstFailure, rt.LastFailure, rt.Due
			delete(r.retries, it.off)
		}
	}
	r.window = append(r.window, it)
	r.enqueue(it)
	r.readPos = it.off
}

// quiet reports whether nothing read is pending: every entry and replay
// queued is done and recorded.
func (r *run) quiet() bool {
	return r.held() == 0 && len(r.keys) == 0 && r.inflight == 0 && len(r.ready) == 0 && len(r.parked) == 0
}

// checkIdle answers the WaitIdle requests when the run is idle: quiet,
// the cursor committed (a failed commit is tried again here, at each turn
// of the loop), and a read of the log and a poll of the replay requests
// made now finding nothing new. Reading again matters for backends
// without [Notifier] (and for appends a handler made after the last read).
func (r *run) checkIdle(ctx context.Context) {
	if !r.caughtUp || !r.quiet() {
		return
	}
	if r.committed != r.readPos {
		r.commit(context.WithoutCancel(ctx))
		if r.committed != r.readPos {
			return
		}
	}
	r.caughtUp = false
	r.fill(ctx)
	if !r.readOK || r.lastRead > 0 {
		return
	}
	r.pollReplays(ctx)
	if !r.replaysOK || !r.quiet() {
		return
	}
	r.release(nil)
}

// release answers the waiting WaitIdle calls with err.
func (r *run) release(err error) {
	for _, w := range r.waiters {
		w <- err
	}
	r.waiters = nil
}

// WaitIdle waits until the running consumer is idle and returns nil: it
// has read the log to its end and found nothing new in a read made after
// the call, every event it read is done (handled, or dead-lettered) and
// its cursor committed, no retry or circuit wait is pending, and no replay
// request is pending. When the consumer is not running (or is stopping),
// WaitIdle waits for the next Run. It returns [ErrStopped] when the Run
// that took the call returns first, and context.Cause(ctx) when ctx is
// done first. A dead letter being stored again after a failure, a failing
// read or a failing commit keeps the consumer from idle.
//
// WaitIdle is how a driver (a test, a batch job) waits for the consumer
// to catch up without polling the backend: the loop answers it as soon as
// it is idle, reading the log again itself rather than waiting for a poll,
// with or without a [Notifier].
func (c *Consumer) WaitIdle(ctx context.Context) error {
	w := make(chan error, 1) // the loop never blocks on it
	c.idleMu.Lock()
	c.idlePending = append(c.idlePending, w)
	if c.idleWake != nil {
		select {
		case c.idleWake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	c.idleMu.Unlock()
	select {
	case err := <-w:
		return err
	case <-ctx.Done():
		c.idleMu.Lock()
		if i := slices.Index(c.idlePending, w); i >= 0 {
			c.idlePending = slices.Delete(c.idlePending, i, i+1)
		}
		c.idleMu.Unlock()
		return context.Cause(ctx)
	}
}

// held returns the number of log entries held in memory: those read after
// the low-water mark, done or not.
func (r *run) held() int { return len(r.window) - r.whead }

// enqueue puts it behind its key, and starts it when the key is idle.
func (r *run) enqueue(it *item) {
	q := r.keys[it.key]
	if q == nil {
		if n := len(r.freeKeys); n > 0 {
			q = r.freeKeys[n-1]
			r.freeKeys = r.freeKeys[:n-1]
		} else {
			q = &keyq{}
		}
		r.keys[it.key] = q
	}
	q.items = append(q.items, it)
	if !q.busy {
		r.start(q)
	}
}

// start makes the head of q ready, or parks it when it is not due yet.
func (r *run) start(q *keyq) {
	it := q.items[0]
	q.busy = true
	if !it.due.IsZero() && it.due.After(r.c.now()) {
		heap.Push(&r.parked, it)
		return
	}
	r.ready = append(r.ready, it)
}

// finish removes the done head of its key and starts the next one.
func (r *run) finish(it *item) {
	it.done = true
	q := r.keys[it.key]
	q.items[0] = nil
	q.items = q.items[1:]
	q.busy = false
	if len(q.items) == 0 {
		delete(r.keys, it.key)
		q.items = q.items[:0:0]
		if len(r.freeKeys) < 1024 {
			r.freeKeys = append(r.freeKeys, q)
		}
		return
	}
	r.start(q)
}

// armTimer sets timer to fire when the first parked item is due.
func (r *run) armTimer(t *time.Timer) {
	t.Stop()
	if len(r.parked) > 0 {
		t.Reset(max(r.parked[0].due.Sub(r.c.now()), 0))
	}
}

// unpark makes the parked items that are due ready, or stores the dead
// letters that could not be stored before.
func (r *run) unpark(ctx context.Context) {
	now := r.c.now()
	var again []*item
	for len(r.parked) > 0 && !r.parked[0].due.After(now) {
		it := heap.Pop(&r.parked).(*item)
		if it.dead != nil {
			again = append(again, it)
			continue
		}
		r.ready = append(r.ready, it)
	}
	for _, it := range again {
		r.deadLetter(ctx, it)
	}
}

// complete applies the outcome of a handled item. While stopping, a
// failure leaves the item as it is, to be delivered again at the next Run.
func (r *run) complete(ctx context.Context, it *item, stopping bool) {
	c := r.c
	if it.err == nil {
		if it.replay != nil {
			if err := c.b.Resolve(ctx, it.replay.ID); err != nil {
				c.log.ErrorContext(ctx, "eventlog: resolving a replayed dead letter failed",
					"group", c.cfg.Group, "dead_letter", it.replay.ID, "err", err)
			}
			delete(r.replaying, it.replay.ID)
		}
		if len(it.writes) > 0 || len(it.rows) > 0 || len(it.appends) > 0 || len(it.afters) > 0 {
			// Finished once its writes commit (landed).
			r.unflushed = append(r.unflushed, it)
			return
		}
		r.finish(it)
		return
	}
	// What a failed attempt deferred is dropped: the next attempt
	// defers its own.
	it.writes, it.rows, it.appends, it.afters = nil, nil, nil, nil
	if stopping {
		return
	}
	now := c.now()
	v, delay, attempts := c.pol.decide(it.err, it.attempts)
	switch v {
	case vPark, vRetry:
		if it.first.IsZero() && v == vRetry {
			it.first = now
		}
		if v == vRetry {
			it.last = now
		}
		it.attempts = attempts
		if delay < 0 { // circuit open until a known time, capped
			it.due = openUntil(it.err)
			if limit := now.Add(c.pol.MaxRetryAfter); it.due.After(limit) {
				it.due = limit
			}
		} else {
			it.due = now.Add(delay)
		}
		if v == vRetry && it.replay == nil {
			rt := Retry{Offset: it.off, Attempts: it.attempts, FirstFailure: it.first, LastFailure: it.last, Due: it.due}
			if err := c.b.SaveRetry(ctx, c.cfg.Group, r.epoch, rt); err != nil {
				r.noteFenced(err)
				c.log.ErrorContext(ctx, "eventlog: saving retry state failed", "group", c.cfg.Group, "offset", it.off, "err", err)
			}
		}
		heap.Push(&r.parked, it)
	default:
		if it.first.IsZero() {
			it.first = now
		}
		it.last, it.attempts = now, attempts
		reason, text := ReasonExhausted, it.err.Error()
		switch {
		case it.decErr != nil:
			reason = ReasonUndecodable
		case v == vDead:
			reason = ReasonPermanent
		case v == vDeadAfter:
			reason = ReasonRetryAfter
			text += fmt.Sprintf(" (asked to retry after %v, beyond MaxRetryAfter %v)", delay, c.pol.MaxRetryAfter)
		}
		d := &DeadLetter{Consumer: c.cfg.Group, Offset: it.off, Event: *it.ev, Raw: it.raw, Reason: reason,
			Error: text, ErrorClass: tracing.ErrorClass(it.err), Attempts: it.attempts,
			FirstFailure: it.first, LastFailure: it.last, CorrelationID: it.ev.CorrelationID}
		if it.replay != nil {
			d.Offset = it.replay.Offset
			d.Raw = it.replay.Raw
			d.ID = it.replay.ID // the same dead letter, whatever its key
		}
		it.dead = d
		r.deadLetter(ctx, it)
	}
}

// deadLetter stores it.dead and finishes it. When the store fails, the
// item stays parked (its key waits) and storing is tried again after
// OpenRecheck, without running the handler again.
func (r *run) deadLetter(ctx context.Context, it *item) {
	c := r.c
	d := *it.dead
	d.Epoch = r.epoch
	id, err := c.b.Put(ctx, d)
	if err != nil && it.replay != nil && errors.Is(err, ErrNotFound) {
		// The dead letter was deleted while it was replayed (a purge of
		// replaying letters, for personal data): it is gone on purpose,
		// so it is not stored again, nor retried for ever.
		c.log.WarnContext(ctx, "eventlog: a replayed dead letter failed again but was deleted meanwhile; dropped",
			"group", c.cfg.Group, "dead_letter", it.replay.ID, "reason", string(it.dead.Reason), "err", it.err)
		delete(r.replaying, it.replay.ID)
		r.finish(it)
		return
	}
	if err != nil {
		r.noteFenced(err)
		// Without a durable dead letter the event must not count as done.
		c.log.ErrorContext(ctx, "eventlog: dead-lettering failed; will try again",
			"group", c.cfg.Group, "offset", it.off, "err", err)
		it.due = c.now().Add(c.pol.OpenRecheck)
		heap.Push(&r.parked, it)
		return
	}
	c.log.WarnContext(ctx, "eventlog: event dead-lettered", "group", c.cfg.Group, "dead_letter", id,
		"offset", it.off, "reason", string(it.dead.Reason), "attempts", it.attempts, "err", it.err)
	if c.cfg.OnDeadLetter != nil {
		d := *it.dead
		d.ID = id
		c.cfg.OnDeadLetter(ctx, d)
	}
	if it.replay != nil {
		delete(r.replaying, it.replay.ID)
	}
	r.finish(it)
}

// noteFenced records a write refused for its epoch: the run stops.
func (r *run) noteFenced(err error) {
	if r.fenced == nil && errors.Is(err, ErrFenced) {
		r.fenced = err
	}
}

// openUntil returns the time an open circuit lets a probe through, or the
// zero time.
func openUntil(err error) time.Time {
	var oe *retry.OpenError
	if errors.As(err, &oe) {
		return oe.Until
	}
	return time.Time{}
}

// maxFreeItems bounds the done items a consumer keeps for reuse, so that
// what it holds between batches stays small (an item holds an event).
const maxFreeItems = 1024

// commit advances the low-water mark over the done items at the head of
// the window and stores it when it moved. With a batch committer it
// starts the group's commit and returns at once (commitGroup).
func (r *run) commit(ctx context.Context) {
	if r.commits != nil {
		r.commitGroup(ctx)
		return
	}
	r.advance()
	lwm := r.readPos
	if r.whead < len(r.window) {
		lwm = r.window[r.whead].off - 1
	}
	if lwm <= r.committed {
		return
	}
	if err := r.c.b.Commit(ctx, r.c.cfg.Group, r.epoch, lwm); err != nil {
		r.noteFenced(err)
		r.c.log.ErrorContext(ctx, "eventlog: commit failed; will retry", "group", r.c.cfg.Group, "cursor", lwm, "err", err)
		return
	}
	r.committed = lwm
}

// advance moves the head of the window over the done items, keeping them
// for reuse.
func (r *run) advance() {
	for r.whead < len(r.window) && r.window[r.whead].done {
		if len(r.freeItems) < min(r.c.cfg.MaxPending, maxFreeItems) {
			*r.window[r.whead] = item{}
			r.freeItems = append(r.freeItems, r.window[r.whead])
		}
		r.window[r.whead] = nil
		r.whead++
	}
	if r.whead == len(r.window) {
		r.window, r.whead = r.window[:0], 0
	} else if r.whead > 1024 && r.whead*2 > len(r.window) {
		n := copy(r.window, r.window[r.whead:])
		clear(r.window[n:])
		r.window, r.whead = r.window[:n], 0
	}
}

// pollReplays queues the dead letters of the group an operator asked to
// replay, the oldest BatchSize of them not yet queued.
func (r *run) pollReplays(ctx context.Context) {
	c := r.c
	dls, err := c.b.List(ctx, Filter{Consumer: c.cfg.Group, State: StateReplaying, Limit: c.cfg.BatchSize})
	r.replaysOK = err == nil
	if err != nil {
		if ctx.Err() == nil {
			c.log.ErrorContext(ctx, "eventlog: listing replays failed", "group", c.cfg.Group, "err", err)
		}
		return
	}
	for i := range dls {
		d := &dls[i]
		if r.replaying[d.ID] {
			continue
		}
		r.replaying[d.ID] = true
		it := &item{ev: &d.Event, raw: d.Raw, replay: d}
		if d.Event.ID == "" {
			// Kept as raw bytes (undecodable, or invalid when it was
			// dead-lettered): decoded again now, so that bytes an
			// operator corrected (Put again under the same Consumer and
			// Offset) are handled.
			var ev canonical.Event
			err := errors.New("stored payload is not a valid event")
			if len(d.Raw) > 0 {
				err = ev.UnmarshalJSON(d.Raw)
			}
			if err != nil {
				it.decErr = &DecodeError{Offset: d.Offset, Err: err}
				it.key = "\x00dead:" + strconv.FormatInt(d.ID, 10)
			} else {
				it.ev, it.key = &ev, ev.Partition()
			}
		} else {
			it.key = d.Event.Partition()
		}
		r.enqueue(it)
	}
}

type attemptKey struct{}

type eventKey struct{}

// handlerContext is the context of one handler call: it carries the
// attempt and the event for [Attempt] and [EventFrom], the event's
// correlation and causation IDs for package tracing and, when the
// consumer commits in batches, the item for [Defer], in one allocation,
// where a node of its own, tracing.WithIDs and a context.WithValue would
// take three.
type handlerContext struct {
	context.Context
	attempt int
	ev      *canonical.Event
	batch   *item // nil unless its writes are deferred to the group's commit
	ids     tracectx.IDs
}

// Value implements [context.Context].
func (c *handlerContext) Value(key any) any {
	switch key.(type) {
	case attemptKey:
		return c.attempt
	case eventKey:
		return c.ev
	case tracectx.Key:
		return &c.ids
	case batchKey:
		if c.batch != nil {
			return c.batch
		}
	}
	return c.Context.Value(key)
}

// EventFrom returns the event that the handler called with ctx is handling,
// and whether ctx comes from a Consumer. It lets code that sees only the
// context, such as a tracing.Recorder or a flow's metrics, name the event
// (its type, subject and partition key) it observes. Call it only while
// the handler runs: once the handler has returned, the consumer may reuse
// the memory the context refers to.
func EventFrom(ctx context.Context) (canonical.Event, bool) {
	ev, ok := ctx.Value(eventKey{}).(*canonical.Event)
	if !ok {
		return canonical.Event{}, false
	}
	return *ev, true
}

// Attempt returns which attempt at an event the handler called with ctx is
// making: 1 the first time a Consumer hands it the event, n+1 after n
// failed attempts that spent the error policy's budget (waits on an open
// circuit do not count). A replayed dead letter starts again at 1. It
// returns 0 for a context that does not come from a Consumer.
func Attempt(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n
}

// handle runs the handler for it, under the dedupe claim when configured.
// A panic in the handler is returned as an error.
func (c *Consumer) handle(ctx context.Context, it *item) (err error) {
	if it.decErr != nil {
		return it.decErr
	}
	ev := it.ev
	corr := ev.CorrelationID
	if corr == "" {
		corr = tracing.CorrelationID(ctx) // kept, as WithCorrelationID was not called
	}
	hc := &handlerContext{Context: ctx, attempt: it.attempts + 1, ev: ev,
		ids: tracectx.IDs{Correlation: corr, Causation: ev.ID, Parent: ctx}}
	if c.batch != nil && it.replay == nil {
		it.batch = c.batch
		hc.batch = it
	}
	ctx = hc
	if ev.TraceParent != "" {
		if sc, err := tracing.ParseTraceparent(ev.TraceParent); err == nil {
			ctx = tracing.WithSpanContext(ctx, sc)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("eventlog: handler panicked: %v", p)
		}
	}()
	if c.guard.Store == nil {
		return c.cfg.Handler(ctx, *ev)
	}
	var fp idempotency.Fingerprint
	if c.claimer != nil && it.pre.set {
		fp = it.pre.fp // computed when its key was claimed with others
	} else {
		fp = c.fingerprint(ev) // pre is never set without a claimer
	}
	_, err = c.guard.HandleEvent(ctx, c.cfg.Group, idempotency.EventRef{Source: ev.Source, ID: ev.ID, Fingerprint: fp},
		func(ctx context.Context) error { return c.cfg.Handler(ctx, *ev) })
	return err
}
