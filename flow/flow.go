// This file owns the flow's lifecycle: the sentinel errors, the Flow
// type and its state per order, New, Run and Drain.

package flow

import (
	"cmp"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/retry"
	"github.com/distsync/distsync/tracing"
)

// Sentinel errors. Match them with errors.Is; their text does not change.
var (
	// ErrUnknownOrder: an event or a query names an order the flow does not
	// know.
	ErrUnknownOrder = errors.New("flow: unknown order")
	// ErrUnknownFulfillment: a warehouse event names a fulfilment order the
	// flow did not plan for its order.
	ErrUnknownFulfillment = errors.New("flow: unknown fulfilment order")
	// ErrBadEvent: an event's data does not decode into a valid document of
	// its type, or its quantities do not fit the order.
	ErrBadEvent = errors.New("flow: bad event data")
	// ErrUnhandledEvent: the flow does not handle events of this type.
	ErrUnhandledEvent = errors.New("flow: unhandled event type")
	// ErrOrderState: the event does not fit the order's state, such as a
	// new version of an order while its earlier change is incomplete.
	ErrOrderState = errors.New("flow: event does not fit the order's state")
	// ErrForeignSource: an order event whose source the flow does not
	// accept for its type (see Config.OrderSources and Config.Source).
	ErrForeignSource = errors.New("flow: event from a source not accepted for its type")
	// ErrChangedDuplicate: an event names a document the flow has applied
	// (the same order version, the same shipment ID) with other content:
	// it is not a duplicate, and the flow cannot tell which is right. The
	// error gives both fingerprints.
	ErrChangedDuplicate = errors.New("flow: event repeats an applied document with other content")
	// ErrEventTooLarge: an event carries more data or more lines than
	// the flow accepts (Config.MaxEventSize, Config.MaxLines).
	ErrEventTooLarge = errors.New("flow: event too large")
	// ErrRunning is returned by Run and Drain when the flow is already
	// running.
	ErrRunning = errors.New("flow: already running")
)

// EventError is the error of a handler for an event it cannot apply: it
// names the event and wraps one of the sentinel errors. The flow returns it
// marked permanent, so the error policy dead-letters the event at once. It
// is safe for concurrent use once created. Its zero value names no event;
// the flow's handlers fill it in.
type EventError struct {
	// Type, Source and ID name the event.
	Type   canonical.EventType
	Source string
	ID     string
	// Err says what is wrong.
	Err error
}

// Error returns "flow: event TYPE SOURCE/ID: ERR".
func (e *EventError) Error() string {
	return fmt.Sprintf("flow: event %s %s/%s: %v", e.Type, e.Source, e.ID, e.Err)
}

// Unwrap returns the underlying error.
func (e *EventError) Unwrap() error { return e.Err }

// Feed names under which the flow stores the feeds' cursors.
const (
	FeedCRMOrders = "crm.orders"
	FeedWMSEvents = "wms.events"
)

// phase is where an order stands in the flow.
type phase uint8

const (
	phaseSubmitted phase = iota + 1
	phaseRejected
	phaseHeld
	phaseAccepted
	phaseReleased
)

func (p phase) String() string {
	switch p {
	case phaseSubmitted:
		return "submitted"
	case phaseRejected:
		return "rejected"
	case phaseHeld:
		return "on_hold"
	case phaseAccepted:
		return "accepted"
	case phaseReleased:
		return "released"
	}
	return "unknown"
}

// orderState is the flow's state of one order. Its handler (one at a time
// per order) writes it under Flow.mu; queries read it under Flow.mu.
type orderState struct {
	corr     string
	order    canonical.Order
	phase    phase
	decision bool // the decision event (accepted, held, rejected) is appended
	// deciding reports that decision was set by a handler that deferred
	// the decision's append to its consumer's group commit (see
	// Flow.deferDecision), which has not committed yet: a handler that
	// finds it set finds a state the store may never hold (that commit
	// failed) and loads the order again (Flow.lookup).
	deciding bool
	resumed  bool // the hold watcher appended the resuming accepted event
	// accepted is the ID of the order.accepted decision event this
	// process appended from this state, and acceptedVersion the order's
	// version it carries: its data is the order as decided, so that
	// onAccepted takes the order from the state rather than decoding the
	// event again (see ownAcceptance). A state loaded from the store has
	// none, and its event is decoded.
	accepted        string
	acceptedVersion int64
	// holdLines are the ERP's per-line decisions of an order it put on
	// hold, kept until the hold is released: a line rejected then stays
	// rejected when the order is accepted.
	holdLines []canonical.AckLine
	// fp is the fingerprint of the order as submitted (docFingerprint),
	// to tell a duplicate of its submission from a changed one.
	fp       string
	qevents  []canonical.QuantityEvent
	seq      int64
	dirty    bool // the CRM has not been shown the latest state
	messages []string
	plan     []canonical.FulfillmentOrder
	released map[string]canonical.FulfillmentOrder
	// alloc holds each fulfilment order's latest allocation update by
	// pointer: a map of a few entries has room for eight, which for the
	// 104-byte update held in place is a kilobyte per order.
	alloc    map[string]*canonical.AllocationUpdate
	shipped  map[string]bool
	ships    []canonical.Shipment
	invoices map[string]canonical.Invoice
	invOrder []string
	// Cancellation of an open remainder (flow/cancel.go): the cancel
	// requests seen, by source and request ID.
	cancels map[string]*cancelState
	// The ERP's amendments (flow/erpchange.go): the latest taken up.
	amend *amendState

	// Returns (flow/returns.go): the order's returns by ID, in the order
	// they were authorized.
	returns  map[string]*returnState
	retOrder []string

	// Changes after the ERP's decision (flow/change.go): the latest
	// change and what the systems hold; nil before the first.
	change *changeState

	// Durable state (issue 7): the version of the state in the store
	// (StoredState.Version), and whether the last save stored it complete
	// (see completeLocked), so compaction need not save it again.
	version    int64
	savedFinal bool
	// Group commit (flow/durable.go): the status sequences reserved up to
	// seqMark by a save (a save stores the greater of seq and seqMark, so
	// a restarted flow publishes above every sequence used), and the sum
	// of the last encoding saved, so an unchanged state is not saved
	// again.
	seqMark  int64
	savedSum uint64
	// changed reports that the state may differ from what deferSave last
	// encoded: a handler got it (Flow.lookup with keep, or onSubmitted
	// creating it), it was loaded from the store, or the hold watcher
	// marked it resumed. deferSave encodes only a changed state, and
	// clears the flag; in tests (checkUnchanged) it checks that a state
	// not changed still encodes to snapSum, the sum of that encoding.
	changed bool
	snapSum uint64
}

// Flow runs order-to-cash and inventory sync. Create it with New (or
// NewInventorySync, for inventory sync alone); drive it with Run or Drain.
// It is safe for concurrent use, but Run and Drain run one at a time. The
// zero value is not usable.
type Flow struct {
	erp      connector.ERP
	crm      connector.CRM
	otc      bool           // order-to-cash runs: erp, wms and crm are set (New)
	roles    inventoryRoles // inventory sync's roles, set by New and NewInventorySync
	log      eventlog.Backend
	cursors  CursorStore
	sourcer  Sourcer
	consumer Consumer
	group    string
	scope    string
	source   string
	orderSrc []string // Config.OrderSources, defaulted
	erpSrc   []string // Config.ERPSources, defaulted
	wmsSrc   []string // Config.WMSSources, defaulted; with Config.Warehouses, every system's sources
	// systems are the WMS (flow/warehouses.go): the one of Config.WMS,
	// or those of Config.Warehouses, whose owners map each warehouse to
	// its system (nil with one system, which owns every warehouse).
	systems   []*wmsSystem
	owner     map[string]*wmsSystem
	maxSize   int // Config.MaxEventSize, defaulted
	maxLines  int // Config.MaxLines, defaulted
	pageSize  int
	every     time.Duration
	check     time.Duration
	now       func() time.Time
	logger    *slog.Logger
	metrics   Metrics
	rec       tracing.Recorder
	unhandled func(context.Context, canonical.Event) error // Config.Unhandled
	attempts  int                                          // the error policy's MaxAttempts

	running sync.Mutex

	holdReaders int // Config.Workers, defaulted: CheckHolds' concurrent reads

	mu     sync.Mutex
	ledger canonical.Ledger
	orders map[string]*orderState

	inv inventorySync

	// Durable state (issue 7): the order states' store, and whether it is
	// the caller's (checkpointed) or the flow's own MemoryState (written
	// only when an order is compacted).
	states  StateStore
	durable bool
	// shared: the handler runs on a Consumer of Config.NewConsumer, and
	// other processes may handle the flow's orders (flow/consumer.go).
	shared bool
	sqlst  *SQLState // states, when it is one: its saves join the consumer's group commit
	seed   maphash.Seed
	peak   int // most orders f.orders held since it was last rebuilt
}

// inventoryRoles are the roles inventory sync uses: the WMS's event feed
// and inventory, the ERP's ledger and the CRM's availability.
type inventoryRoles struct {
	feed   connector.EventFeed
	stock  connector.InventoryReader
	ledger connector.InventoryApplier
	avail  connector.AvailabilityPublisher
}

// New returns a Flow configured by cfg, running order-to-cash (with its
// cancellations and returns) and inventory sync. The error matches
// ErrInvalidConfig.
func New(cfg Config) (*Flow, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return build(cfg, cfg.roles())
}

// build returns the Flow of a valid cfg with the roles of inventory sync:
// order-to-cash runs when cfg has the three systems (New), not when it has
// none (NewInventorySync).
func build(cfg Config, roles inventoryRoles) (*Flow, error) {
	f := &Flow{erp: cfg.ERP, crm: cfg.CRM, otc: cfg.ERP != nil && cfg.WMS != nil && cfg.CRM != nil, roles: roles, log: cfg.Log, cursors: cfg.Cursors, sourcer: cfg.Sourcer,
		group: orDefault(cfg.Group, DefaultGroup), scope: orDefault(cfg.Scope, DefaultScope), source: orDefault(cfg.Source, DefaultSource),
		pageSize: cfg.PageSize, every: cfg.PollInterval, check: cfg.PollInterval, now: cfg.Now, logger: cfg.Logger,
		metrics: cfg.Metrics, rec: cfg.Recorder, unhandled: cfg.Unhandled, orders: map[string]*orderState{}}
	if f.cursors == nil {
		f.cursors = &MemoryCursors{}
	}
	f.states, f.durable = cfg.State, cfg.State != nil
	f.sqlst, _ = cfg.State.(*SQLState)
	f.seed = maphash.MakeSeed()
	if f.states == nil {
		f.states = &MemoryState{Now: cfg.Now}
	}
	f.wmsSrc, _ = cfg.wmsSources(roles.feed) // checked by Validate
	if len(cfg.Warehouses) > 0 {
		f.systems, _ = cfg.validateWarehouses() // checked by Validate
		f.owner = map[string]*wmsSystem{}
		f.wmsSrc = nil
		for _, s := range f.systems {
			for _, l := range s.owns {
				f.owner[l] = s
			}
			f.wmsSrc = append(f.wmsSrc, s.sources...)
		}
		f.roles.stock = systemsReader{systems: f.systems}
		f.otc = cfg.ERP != nil && cfg.CRM != nil
	} else {
		f.systems = []*wmsSystem{{name: "", wms: cfg.WMS, feed: roles.feed, stock: roles.stock, cursor: FeedWMSEvents, sources: f.wmsSrc}}
	}
	if f.sourcer == nil && f.otc {
		f.sourcer = &InventorySourcer{Inventory: f.roles.stock}
	}
	if f.pageSize == 0 {
		f.pageSize = DefaultPageSize
	}
	if f.every == 0 {
		f.every = DefaultPollInterval
	}
	if f.check == 0 {
		f.check = eventlog.DefaultPollInterval
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.logger == nil {
		f.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f.orderSrc, _ = cfg.orderSources() // checked by Validate
	f.erpSrc, _ = cfg.erpSources()
	f.maxSize = cmp.Or(cfg.MaxEventSize, DefaultMaxEventSize)
	f.maxLines = cmp.Or(cfg.MaxLines, DefaultMaxLines)
	f.attempts = cmp.Or(cfg.Policy.MaxAttempts, eventlog.DefaultMaxAttempts)
	f.holdReaders = cmp.Or(cfg.Workers, eventlog.DefaultWorkers)
	handler := eventlog.Handler(f.handle)
	if cfg.Middleware != nil {
		if handler = cfg.Middleware(handler); handler == nil {
			return nil, fmt.Errorf("%w: Middleware returned a nil handler", ErrInvalidConfig)
		}
	}
	ccfg := eventlog.ConsumerConfig{Group: f.group, Handler: handler,
		Workers: cfg.Workers, PollInterval: cfg.PollInterval, Policy: cfg.Policy, Dedupe: cfg.Dedupe,
		Lease:  cmp.Or(cfg.DedupeLease, DefaultDedupeLease),
		Logger: cfg.Logger, Now: cfg.Now, OnDeadLetter: f.deadLettered}
	if cfg.NewConsumer != nil {
		c, err := cfg.NewConsumer(ccfg)
		if err != nil {
			return nil, fmt.Errorf("%w: NewConsumer: %w", ErrInvalidConfig, err)
		}
		if c == nil {
			return nil, fmt.Errorf("%w: NewConsumer returned a nil Consumer", ErrInvalidConfig)
		}
		f.consumer, f.shared = c, true
		return f, nil
	}
	c, err := eventlog.NewConsumer(cfg.Log, ccfg)
	if err != nil {
		return nil, fmt.Errorf("%w: consumer: %w", ErrInvalidConfig, err)
	}
	f.consumer = c
	return f, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// key derives the idempotency key of a step.
func (f *Flow) key(step string, identity ...string) string {
	return idempotency.Derive(f.scope, step, identity...).String()
}

// eventID derives the ID of an event the flow emits, the same for the same
// arguments, so that an event appended twice is recognised.
// It is uuid.NewSHA1(uuid.NameSpaceURL, parts joined by NUL): the name is
// hashed from a stack buffer when it fits, one allocation in all.
func eventID(parts ...string) string {
	var buf [256]byte
	b := append(buf[:0], uuid.NameSpaceURL[:]...)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	sum := sha1.Sum(b)
	var id uuid.UUID
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x50 // version 5
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id.String()
}

// Run polls the feeds and the held orders every Config.PollInterval and
// handles the log with the consumer until ctx is done, then lets the
// handlers in flight finish and returns context.Cause(ctx). A WMS feed
// that implements [connector.Subscriber] is also polled as soon as it has
// new events, without waiting for the interval, unless the last poll
// failed: then the next one waits for the interval. Poll failures
// are logged and retried at the next poll; nothing in flight is
// dead-lettered by the shutdown.
func (f *Flow) Run(ctx context.Context) error {
	if !f.running.TryLock() {
		return ErrRunning
	}
	defer f.running.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- f.consumer.Run(ctx) }()
	t := time.NewTicker(f.every)
	defer t.Stop()
	waker := f.startWaker(ctx) // nil: no WMS feed pushes (flow/wake.go)
	defer waker.close()
	var wake chan struct{} // nil: never ready
	if waker != nil {
		wake = waker.wake
	}
	all := true
	for {
		var err error
		if all {
			_, err = f.pollAll(ctx)
		} else {
			_, err = f.PollWarehouse(ctx)
		}
		if waker != nil {
			waker.polled()
		}
		woken := wake
		if err != nil && ctx.Err() == nil {
			f.logger.WarnContext(ctx, "flow: poll failed; will retry", "err", err)
			// The next poll waits for the ticker: a subscription sees the
			// events the failed poll could not read, and would wake Run
			// at once, again and again, while the feed's reads fail.
			woken = nil
		}
		select {
		case <-ctx.Done():
			<-done
			return context.Cause(ctx)
		case err := <-done:
			cancel(err)
			return err
		case <-t.C:
			all = true
		case <-woken:
			all = false
		}
	}
}

// errDrained ends the consumer of a Drain.
var errDrained = errors.New("flow: drained")

// Drain polls the feeds and the held orders and handles the log until a
// round finds nothing new and the consumer has caught up: every event is
// handled or dead-lettered and no replay is pending. It waits for the
// consumer with [eventlog.Consumer.WaitIdle], not with timers; only a
// failed poll is retried after Config.PollInterval, and retries of the
// handlers wait their backoff, so inside a testing/synctest bubble it
// takes no real time. Transient poll failures are retried; Drain returns
// the error of a permanent one, or context.Cause(ctx).
func (f *Flow) Drain(ctx context.Context) error {
	if !f.running.TryLock() {
		return ErrRunning
	}
	defer f.running.Unlock()
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- f.consumer.Run(cctx) }()
	stop := func() error {
		cancel(errDrained)
		if err := <-done; err != nil && !errors.Is(err, errDrained) {
			return err
		}
		return nil
	}
	idle := make(chan error, 1)
	for {
		n, err := f.pollAll(ctx)
		if err != nil {
			if ctx.Err() != nil || retry.IsPermanent(err) && !errors.Is(err, retry.ErrCircuitOpen) {
				return errors.Join(err, stop())
			}
			n = 1 // try again after a wait
		}
		go func() { idle <- f.consumer.WaitIdle(cctx) }()
		select {
		case <-ctx.Done():
			// WaitIdle's answer names what the flow was waiting for.
			var waited error
			select {
			case waited = <-idle:
			case <-time.After(time.Second):
			}
			if errors.Is(waited, context.Cause(ctx)) {
				return errors.Join(waited, stop())
			}
			return errors.Join(context.Cause(ctx), stop())
		case err := <-done:
			return err
		case err := <-idle:
			if err != nil {
				return errors.Join(err, stop())
			}
		}
		if n == 0 {
			return stop()
		}
		if err != nil {
			select {
			case <-ctx.Done():
				return errors.Join(context.Cause(ctx), stop())
			case <-time.After(retryWait(err, f.check)):
			}
		}
	}
}

// maxCircuitWait bounds the wait of Drain for an open circuit breaker.
const maxCircuitWait = time.Minute

// retryWait is how long Drain waits after a failed poll: wait, or, when a
// circuit breaker of a system rejected a poll, until the last such breaker
// lets a probe through (at most maxCircuitWait), so that Drain does not
// poll the other systems every wait while one is known to be down. Each
// extra round would be one more chance to trip their breakers too, and,
// with the ERP's feed and hold checks behind one breaker, Drain could go
// round without end.
func retryWait(err error, wait time.Duration) time.Duration {
	var until time.Time
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *retry.OpenError:
			if e.Until.After(until) {
				until = e.Until
			}
		case interface{ Unwrap() []error }:
			for _, err := range e.Unwrap() {
				walk(err)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	if d := time.Until(until); d > wait {
		return min(d, maxCircuitWait)
	}
	return wait
}
