package flow

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
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
	// new version of an order already decided (not supported yet).
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
// is safe for concurrent use once created.
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
	resumed  bool // the hold watcher appended the resuming accepted event
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
	alloc    map[string]canonical.AllocationUpdate
	shipped  map[string]bool
	ships    []canonical.Shipment
	invoices map[string]canonical.Invoice
	invOrder []string
	// Cancellation of an open remainder (flow/cancel.go): the cancel
	// requests seen, by source and request ID.
	cancels map[string]*cancelState

	// Returns (flow/returns.go): the order's returns by ID, in the order
	// they were authorized.
	returns  map[string]*returnState
	retOrder []string

	// Durable state (issue 7): the version of the state in the store
	// (StoredState.Version), and whether the last save stored it complete
	// (see completeLocked), so compaction need not save it again.
	version    int64
	savedFinal bool
}

// Flow runs order-to-cash. Create it with New; drive it with Run or Drain.
// It is safe for concurrent use, but Run and Drain run one at a time.
type Flow struct {
	erp      connector.ERP
	wms      connector.WMS
	crm      connector.CRM
	log      eventlog.Backend
	cursors  CursorStore
	sourcer  Sourcer
	consumer *eventlog.Consumer
	group    string
	scope    string
	source   string
	orderSrc []string // Config.OrderSources, defaulted
	erpSrc   []string // Config.ERPSources, defaulted
	wmsSrc   []string // Config.WMSSources, defaulted
	maxSize  int      // Config.MaxEventSize, defaulted
	maxLines int      // Config.MaxLines, defaulted
	pageSize int
	every    time.Duration
	check    time.Duration
	now      func() time.Time
	logger   *slog.Logger
	metrics  Metrics
	rec      tracing.Recorder
	attempts int // the error policy's MaxAttempts

	running sync.Mutex

	mu     sync.Mutex
	ledger canonical.Ledger
	orders map[string]*orderState

	inv inventorySync

	// Durable state (issue 7): the order states' store, and whether it is
	// the caller's (checkpointed) or the flow's own MemoryState (written
	// only when an order is compacted).
	states  StateStore
	durable bool
	peak    int // most orders f.orders held since it was last rebuilt
}

// New returns a Flow configured by cfg. The error matches ErrInvalidConfig.
func New(cfg Config) (*Flow, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := &Flow{erp: cfg.ERP, wms: cfg.WMS, crm: cfg.CRM, log: cfg.Log, cursors: cfg.Cursors, sourcer: cfg.Sourcer,
		group: orDefault(cfg.Group, DefaultGroup), scope: orDefault(cfg.Scope, DefaultScope), source: orDefault(cfg.Source, DefaultSource),
		pageSize: cfg.PageSize, every: cfg.PollInterval, check: cfg.PollInterval, now: cfg.Now, logger: cfg.Logger,
		metrics: cfg.Metrics, rec: cfg.Recorder, orders: map[string]*orderState{}}
	if f.cursors == nil {
		f.cursors = &MemoryCursors{}
	}
	f.states, f.durable = cfg.State, cfg.State != nil
	if f.states == nil {
		f.states = &MemoryState{Now: cfg.Now}
	}
	if f.sourcer == nil {
		f.sourcer = &InventorySourcer{Inventory: cfg.WMS}
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
	f.wmsSrc, _ = cfg.wmsSources()
	f.maxSize = cmp.Or(cfg.MaxEventSize, DefaultMaxEventSize)
	f.maxLines = cmp.Or(cfg.MaxLines, DefaultMaxLines)
	f.attempts = cmp.Or(cfg.Policy.MaxAttempts, eventlog.DefaultMaxAttempts)
	c, err := eventlog.NewConsumer(cfg.Log, eventlog.ConsumerConfig{Group: f.group, Handler: f.handle,
		Workers: cfg.Workers, PollInterval: cfg.PollInterval, Policy: cfg.Policy, Dedupe: cfg.Dedupe,
		Lease:  cmp.Or(cfg.DedupeLease, DefaultDedupeLease),
		Logger: cfg.Logger, Now: cfg.Now, OnDeadLetter: f.deadLettered})
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
func eventID(parts ...string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(strings.Join(parts, "\x00"))).String()
}

// Run polls the feeds and the held orders every Config.PollInterval and
// handles the log with the consumer until ctx is done, then lets the
// handlers in flight finish and returns context.Cause(ctx). Poll failures
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
	for {
		if _, err := f.pollAll(ctx); err != nil && ctx.Err() == nil {
			f.logger.WarnContext(ctx, "flow: poll failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			<-done
			return context.Cause(ctx)
		case err := <-done:
			cancel(err)
			return err
		case <-t.C:
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

// pollAll polls both feeds and the holds once, returning how many events it
// appended. A failed hold check is logged, not returned: the next round
// checks again, and Drain need not wait for it.
func (f *Flow) pollAll(ctx context.Context) (int, error) {
	a, err1 := f.PollOrders(ctx)
	b, err2 := f.PollWarehouse(ctx)
	// The ERP's feed before the hold checks: many failed checks may open
	// the ERP's breaker, which the feed shares.
	d, err4 := f.PollERP(ctx) // the ERP's optional feed (flow/cancel.go)
	c, err3 := f.CheckHolds(ctx)
	if err3 != nil && ctx.Err() == nil {
		f.logger.WarnContext(ctx, "flow: hold check failed; will retry", "err", err3)
	}
	return a + b + c + d, errors.Join(err1, err2, err4)
}

// PollOrders reads the CRM's order feed from its stored cursor to its end,
// appends the orders to the log with a correlation ID per order, and stores
// the cursor after each page. It returns how many events it appended.
func (f *Flow) PollOrders(ctx context.Context) (int, error) {
	return f.poll(ctx, FeedCRMOrders, inSequence(f.crm.PollOrders), func(e *canonical.Event) bool {
		partitionByOrder(e)
		if e.PartitionKey == "" {
			e.PartitionKey = e.Subject
		}
		e.CorrelationID = f.correlation(e.PartitionKey, e.Key())
		return true
	})
}

// PollWarehouse reads the WMS's event feed from its stored cursor to its
// end and appends the fulfilment events to the log with their order's
// correlation ID, the inventory events for inventory sync and the returns
// received, storing the cursor after each page. The fulfilment events and
// returns are partitioned by their order, whatever key the feed gave them
// (the flow handles an order's events one at a time, and an order.*,
// fulfillment.* or return.* event in another partition than its order's
// is dead-lettered with ErrBadEvent). It returns how many events it
// appended.
func (f *Flow) PollWarehouse(ctx context.Context) (int, error) {
	return f.poll(ctx, FeedWMSEvents, f.wms.PollEvents, func(e *canonical.Event) bool {
		partitionByOrder(e)
		if isInventory(e.Type) {
			return true
		}
		if strings.HasPrefix(string(e.Type), "distsync.inventory.") {
			return false
		}
		if corr := f.correlationOf(ctx, e.Partition()); corr != "" {
			e.CorrelationID = corr
		}
		return true
	})
}

// partitionByOrder sets the partition key of a fulfilment or return
// event to the order ID its data names, replacing the one its feed set (a
// warehouse may key its events by fulfilment order or return): the flow
// handles one event of an order at a time only because the consumer hands
// one partition's events to one handler at a time, so an order's events
// must share one partition. Data that names no order is left to the
// handler, which dead-letters it.
func partitionByOrder(e *canonical.Event) {
	switch e.Type {
	case canonical.EventFulfillmentReleased, canonical.EventFulfillmentAllocated, canonical.EventFulfillmentBackordered,
		canonical.EventFulfillmentPicked, canonical.EventFulfillmentShipped, canonical.EventFulfillmentCancelled,
		canonical.EventReturnAuthorized, canonical.EventReturnReceived:
	default:
		return
	}
	var d struct {
		OrderID string `json:"orderId"`
	}
	if json.Unmarshal(e.Data, &d) == nil && d.OrderID != "" {
		e.PartitionKey = d.OrderID
	}
}

// checkPartition returns an error (the caller wraps it in ErrBadEvent)
// for an event about an order that is not in the
// order's partition (see partitionByOrder), as one appended to the log by
// other means than the flow's pollers may be: handled beside the order's
// other events, it could race them.
func checkPartition(ev canonical.Event, orderID string) error {
	if p := ev.Partition(); p != orderID {
		return fmt.Errorf("%s of order %q is in partition %q, not the order's", shortType(ev.Type), orderID, p)
	}
	return nil
}

// correlation returns the correlation ID of an order: the one it has, else
// a new one derived from the event that brings it, so that the same event
// read twice gets the same ID.
func (f *Flow) correlation(orderID string, k canonical.EventKey) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.orders[orderID]; st != nil {
		return st.corr
	}
	return eventID("correlation", k.Source, k.ID)
}

func (f *Flow) poll(ctx context.Context, feed string, read func(context.Context, connector.Cursor, int) (connector.Page, error), keep func(*canonical.Event) bool) (int, error) {
	cur, err := f.cursors.Load(ctx, feed)
	if err != nil {
		return 0, fmt.Errorf("flow: load cursor of %s: %w", feed, err)
	}
	n := 0
	for {
		page, err := read(ctx, cur, f.pageSize)
		if err != nil {
			return n, fmt.Errorf("flow: poll %s: %w", feed, err)
		}
		evs := make([]canonical.Event, 0, len(page.Events))
		for i := range page.Events {
			// keep edits the copy in evs: a loop variable given to it
			// would be allocated per event.
			evs = append(evs, page.Events[i])
			if !keep(&evs[len(evs)-1]) {
				evs = evs[:len(evs)-1]
			}
		}
		if err := f.append(ctx, evs); err != nil {
			return n, fmt.Errorf("flow: append %s: %w", feed, err)
		}
		n += len(evs)
		if page.Next != cur {
			if err := f.cursors.Save(ctx, feed, page.Next); err != nil {
				return n, fmt.Errorf("flow: save cursor of %s: %w", feed, err)
			}
			cur = page.Next
		}
		if !page.More || len(page.Events) == 0 {
			return n, nil
		}
	}
}

// append appends evs to the log. When the log refuses the batch for an
// invalid event, it appends the valid ones and dead-letters the invalid
// ones with the reason, so that one bad event never blocks the others.
func (f *Flow) append(ctx context.Context, evs []canonical.Event) error {
	if len(evs) == 0 {
		return nil
	}
	err := f.log.Append(ctx, evs...)
	if !errors.Is(err, eventlog.ErrInvalidEvent) {
		return err
	}
	for _, e := range evs {
		err := f.log.Append(ctx, e)
		if !errors.Is(err, eventlog.ErrInvalidEvent) {
			if err != nil {
				return err
			}
			continue
		}
		t := f.now()
		if _, err := f.log.Put(ctx, eventlog.DeadLetter{Consumer: f.group, Event: e, Reason: eventlog.ReasonPermanent,
			Error: err.Error(), ErrorClass: "invalid", Attempts: 1, FirstFailure: t, LastFailure: t,
			CorrelationID: e.CorrelationID}); err != nil {
			return err
		}
		f.count(ctx, CounterDeadLettered, kindOf(e.Type))
	}
	return nil
}

func kindOf(t canonical.EventType) string {
	k, _ := canonical.EventKind(t)
	return k
}

func (f *Flow) count(ctx context.Context, c Counter, entity string) {
	if f.metrics != nil {
		f.metrics.Count(ctx, c, entity)
	}
}

// emit appends an event the flow produces, carrying doc, caused by cause.
func (f *Flow) emit(ctx context.Context, t canonical.EventType, doc canonical.Document, orderID, corr string, cause canonical.Event, id string) error {
	e, err := canonical.NewEvent(t, doc)
	if err != nil {
		return retry.Permanent(fmt.Errorf("flow: emit %s for order %s: %w", t, orderID, err))
	}
	e.ID, e.Source, e.Subject, e.PartitionKey, e.Time = id, f.source, orderID, orderID, f.now()
	e.CorrelationID, e.CausationID = corr, cause.ID
	return f.log.Append(ctx, e)
}

// handle is the consumer's handler: it applies one event and reports it.
func (f *Flow) handle(ctx context.Context, ev canonical.Event) error {
	start := f.now()
	attempt := max(eventlog.Attempt(ctx), 1)
	dup, err := f.dispatch(ctx, ev)
	if err == nil {
		err = f.compact(ctx, ev.Partition())
	}
	var ee *EventError
	if errors.As(err, &ee) {
		err = retry.Permanent(err)
	}
	entity := kindOf(ev.Type)
	outcome := tracing.OutcomeOK
	switch {
	case err == nil && dup:
		outcome = tracing.OutcomeDuplicate
		f.count(ctx, CounterDuplicate, entity)
	case err == nil:
		f.count(ctx, CounterHandled, entity)
		if f.metrics != nil && !ev.Time.IsZero() {
			f.metrics.SyncLag(ctx, entity, f.now().Sub(ev.Time))
		}
	case errors.Is(err, retry.ErrCircuitOpen):
		outcome = tracing.OutcomeParked
		f.count(ctx, CounterParked, entity)
	case retry.IsPermanent(err) || attempt >= f.attempts:
		// The consumer dead-letters it; deadLettered counts it.
		outcome = tracing.OutcomeFailed
	default:
		outcome = tracing.OutcomeRetry
		f.count(ctx, CounterRetried, entity)
	}
	if f.rec != nil {
		f.rec.Record(ctx, tracing.Step{CorrelationID: ev.CorrelationID, System: "flow",
			Operation: "handle " + shortType(ev.Type), Start: start, Duration: f.now().Sub(start), Attempt: attempt,
			Outcome: outcome, ErrorClass: tracing.ErrorClass(err)})
	}
	return err
}

// deadLettered is the consumer's OnDeadLetter hook.
func (f *Flow) deadLettered(ctx context.Context, d eventlog.DeadLetter) {
	f.count(ctx, CounterDeadLettered, kindOf(d.Event.Type))
}

// shortType returns "order.submitted" for "distsync.order.submitted.v1".
func shortType(t canonical.EventType) string {
	s := strings.TrimPrefix(string(t), "distsync.")
	if i := strings.LastIndex(s, ".v"); i > 0 {
		s = s[:i]
	}
	return s
}

func (f *Flow) dispatch(ctx context.Context, ev canonical.Event) (bool, error) {
	bad := func(err error) error {
		return &EventError{Type: ev.Type, Source: ev.Source, ID: ev.ID, Err: err}
	}
	// The flow's own events carry documents it bounded when they came
	// in (AuthorizeReturn bounds its returns), or the ERP's view of such
	// an order, which is larger: the hold watcher's order.accepted of an
	// order of 6,500 lines, 0.9 MB as submitted, is 1.9 MB.
	if ev.Source != f.source {
		if err := f.checkBounds(ev.Data, len(ev.BinaryData)); err != nil {
			return false, bad(err)
		}
	}
	if err := f.checkSource(ev); err != nil {
		return false, bad(err)
	}
	switch ev.Type {
	case canonical.EventOrderSubmitted:
		o, err := canonical.DecodeData[canonical.Order](ev)
		if err == nil {
			err = checkPartition(ev, o.ID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onSubmitted(ctx, ev, o, bad)
	case canonical.EventOrderAccepted:
		o, err := canonical.DecodeData[canonical.Order](ev)
		if err == nil {
			err = checkPartition(ev, o.ID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onAccepted(ctx, ev, o, bad)
	case canonical.EventOrderRejected, canonical.EventOrderHeld, canonical.EventOrderCancelled:
		// Records of the flow's own decisions: their effects were made
		// by the handler that emitted them.
		return false, nil
	case canonical.EventFulfillmentAllocated, canonical.EventFulfillmentBackordered, canonical.EventFulfillmentPicked:
		u, err := canonical.DecodeData[canonical.AllocationUpdate](ev)
		if err == nil {
			err = checkPartition(ev, u.OrderID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onAllocation(ctx, u, bad)
	case canonical.EventFulfillmentShipped:
		s, err := canonical.DecodeData[canonical.Shipment](ev)
		if err == nil {
			err = checkPartition(ev, s.OrderID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onShipped(ctx, ev, s, bad)
	case canonical.EventFulfillmentReleased, canonical.EventFulfillmentCancelled:
		// The WMS's echo of a release or a cancellation the flow made
		// (what a cancellation cancelled is folded from its result).
		return false, nil
	case canonical.EventOrderCancelRequested:
		r, err := canonical.DecodeData[canonical.CancelRequest](ev)
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onCancelRequested(ctx, ev, r, bad)
	case canonical.EventInventoryAdjusted, canonical.EventInventorySnapshot:
		return f.onInventory(ctx, ev, bad)
	case canonical.EventReturnAuthorized:
		r, err := canonical.DecodeData[canonical.Return](ev)
		if err == nil {
			err = checkPartition(ev, r.OrderID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onReturnAuthorized(ctx, r, bad)
	case canonical.EventReturnReceived:
		r, err := canonical.DecodeData[canonical.Return](ev)
		if err == nil && r.OrderID != "" { // no order: onReturnReceived says so
			err = checkPartition(ev, r.OrderID)
		}
		if err != nil {
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		return f.onReturnReceived(ctx, r, bad)
	}
	return false, bad(fmt.Errorf("%w: %q", ErrUnhandledEvent, ev.Type))
}

// checkSource refuses an order event from a source the flow does not
// accept for its type: an order.submitted event not from
// Config.OrderSources, an order.accepted event not from Config.Source, a
// cancel request not from Config.OrderSources or Config.ERPSources, a
// return.authorized event not from those or Config.Source (returns
// authorized with Flow.AuthorizeReturn), a fulfilment, return.received or
// inventory event not from Config.WMSSources.
func (f *Flow) checkSource(ev canonical.Event) error {
	switch ev.Type {
	case canonical.EventFulfillmentReleased, canonical.EventFulfillmentAllocated, canonical.EventFulfillmentBackordered,
		canonical.EventFulfillmentPicked, canonical.EventFulfillmentShipped, canonical.EventFulfillmentCancelled,
		canonical.EventReturnReceived, canonical.EventInventoryAdjusted, canonical.EventInventorySnapshot:
		if !slices.Contains(f.wmsSrc, ev.Source) {
			return fmt.Errorf("%w: warehouse events are accepted from %q only (Config.WMSSources)", ErrForeignSource, f.wmsSrc)
		}
	case canonical.EventOrderSubmitted:
		if !slices.Contains(f.orderSrc, ev.Source) {
			return fmt.Errorf("%w: orders are accepted from %q only (Config.OrderSources)", ErrForeignSource, f.orderSrc)
		}
	case canonical.EventOrderAccepted:
		if ev.Source != f.source {
			return fmt.Errorf("%w: order.accepted is accepted from the flow's own source %q only", ErrForeignSource, f.source)
		}
	case canonical.EventOrderCancelRequested:
		if !slices.Contains(f.orderSrc, ev.Source) && !slices.Contains(f.erpSrc, ev.Source) {
			return fmt.Errorf("%w: cancel requests are accepted from %q only (Config.OrderSources, Config.ERPSources)",
				ErrForeignSource, slices.Concat(f.orderSrc, f.erpSrc))
		}
	case canonical.EventReturnAuthorized:
		if ev.Source != f.source && !slices.Contains(f.orderSrc, ev.Source) && !slices.Contains(f.erpSrc, ev.Source) {
			return fmt.Errorf("%w: returns are accepted from %q only (Config.OrderSources, Config.ERPSources, Config.Source)",
				ErrForeignSource, slices.Concat(f.orderSrc, f.erpSrc, []string{f.source}))
		}
	}
	return nil
}

// state returns the order's state, loaded from the store when it is not in
// memory, or an ErrUnknownOrder error.
func (f *Flow) state(ctx context.Context, orderID string, bad func(error) error) (*orderState, error) {
	st, err := f.lookup(ctx, orderID, true)
	if errors.Is(err, ErrBadState) {
		return nil, bad(err)
	}
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, bad(fmt.Errorf("%w: %q", ErrUnknownOrder, orderID))
	}
	return st, nil
}

func (f *Flow) onSubmitted(ctx context.Context, ev canonical.Event, o canonical.Order, bad func(error) error) (bool, error) {
	st, err := f.lookup(ctx, o.ID, true)
	if errors.Is(err, ErrBadState) {
		return false, bad(err)
	}
	if err != nil {
		return false, err
	}
	fp, err := docFingerprint(o)
	if err != nil {
		return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
	}
	f.mu.Lock()
	if st == nil {
		st = f.orders[o.ID]
	}
	if st == nil {
		if o.SubmittedAt.IsZero() {
			err = o.Submit(ev.Time)
		}
		if err != nil {
			f.mu.Unlock()
			return false, bad(fmt.Errorf("%w: %w", ErrOrderState, err))
		}
		for i := range o.Lines {
			o.Lines[i].Buckets = canonical.Buckets{}
		}
		st = &orderState{corr: ev.CorrelationID, order: o, phase: phaseSubmitted, dirty: true, fp: fp,
			released: map[string]canonical.FulfillmentOrder{}, alloc: map[string]canonical.AllocationUpdate{},
			shipped: map[string]bool{}, invoices: map[string]canonical.Invoice{}}
		if err := f.foldLocked(st); err != nil {
			f.mu.Unlock()
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		f.orders[o.ID] = st
	}
	version, ph, decided, seen := st.order.Version, st.phase, st.decision, st.fp
	f.mu.Unlock()
	if o.Version == version && seen != "" && seen != fp {
		return false, bad(fmt.Errorf("%w: order %s version %d submitted with fingerprint %s, applied with %s",
			ErrChangedDuplicate, o.ID, o.Version, fp, seen))
	}
	if o.Version > version {
		return false, bad(fmt.Errorf("%w: order %s version %d after version %d: changing an order is not supported yet",
			ErrOrderState, o.ID, o.Version, version))
	}
	if o.Version < version || decided {
		return true, f.publish(ctx, st)
	}
	if ph == phaseSubmitted {
		if err := f.decide(ctx, st); err != nil {
			return false, err
		}
	}
	f.mu.Lock()
	o = st.order
	o.Lines = slices.Clone(o.Lines)
	ph = st.phase
	f.mu.Unlock()
	var t canonical.EventType
	switch ph {
	case phaseRejected:
		t = canonical.EventOrderRejected
	case phaseHeld:
		t = canonical.EventOrderHeld
	default:
		t = canonical.EventOrderAccepted
	}
	if err := f.emit(ctx, t, o, o.ID, st.corr, ev, eventID("decision", o.ID, strconv.FormatInt(o.Version, 10))); err != nil {
		return false, err
	}
	f.mu.Lock()
	st.decision = true
	f.mu.Unlock()
	// Published (and saved) after the decision event is appended, so that
	// a saved decided state always has it appended.
	return false, f.publish(ctx, st)
}

// decide validates the order in the ERP and, unless it is rejected, accepts
// it there (an order on hold is recorded on hold).
func (f *Flow) decide(ctx context.Context, st *orderState) error {
	f.mu.Lock()
	o := st.order
	o.Lines = slices.Clone(o.Lines)
	f.mu.Unlock()
	ack, err := f.erp.ValidateOrder(ctx, &o)
	if err != nil {
		return err
	}
	if ack.Outcome != canonical.AckRejected {
		if ack, err = f.erp.AcceptOrder(ctx, f.key("accept", o.ID, strconv.FormatInt(o.Version, 10)), &o); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applyAckLocked(st, ack)
}

func messages(ms []canonical.AckMessage) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		s := m.Text
		if m.Field != "" {
			s = m.Field + ": " + s
		}
		out = append(out, s)
	}
	return out
}

// applyAckLocked applies the ERP's answer to the order's state.
func (f *Flow) applyAckLocked(st *orderState, ack canonical.OrderAck) error {
	o := &st.order
	t := ack.AckedAt
	if t.IsZero() {
		t = f.now()
	}
	for _, r := range ack.Refs {
		o.Refs = o.Refs.With(r)
	}
	st.messages = messages(ack.Messages)
	for _, al := range ack.Lines {
		st.messages = append(st.messages, messages(al.Messages)...)
	}
	st.dirty = true
	if ack.Outcome == canonical.AckOnHold && rejectsEvery(o.Lines, ack.Lines) {
		// No release of the hold could make a line shippable: the order
		// is rejected, as an ERP that rejects every line answers.
		ack.Outcome = canonical.AckRejected
	}
	switch ack.Outcome {
	case canonical.AckRejected:
		st.phase = phaseRejected
		if err := o.Reject(t); err != nil {
			return retry.Permanent(fmt.Errorf("flow: reject order %s: %w", o.ID, err))
		}
		return nil
	case canonical.AckOnHold:
		st.phase = phaseHeld
		st.holdLines = slices.Clone(ack.Lines)
		for _, h := range ack.Holds {
			if !h.Active() {
				continue
			}
			if err := o.PlaceHold(h); err != nil {
				return retry.Permanent(fmt.Errorf("flow: hold order %s: %w", o.ID, err))
			}
		}
		// A line the ERP rejected is rejected while the order waits: a
		// cancel request meanwhile finds nothing of it open.
		src := "erp/hold/" + o.ID + "/" + strconv.FormatInt(o.Version, 10)
		at := lineIndex(o.Lines, func(l canonical.OrderLine) string { return l.ID })
		for _, al := range ack.Lines {
			if i, ok := at[al.LineID]; ok && al.Result == canonical.LineRejected {
				l := &o.Lines[i]
				st.qevents = append(st.qevents, canonical.QuantityEvent{LineID: l.ID, Bucket: canonical.BucketRejected,
					Kind: canonical.QuantitySnapshot, Value: l.Quantity.Value, AsOf: t, SourceMessageID: src})
			}
		}
		return f.foldLocked(st)
	}
	if err := o.Accept(t); err != nil {
		return retry.Permanent(fmt.Errorf("flow: accept order %s: %w", o.ID, err))
	}
	st.phase = phaseAccepted
	results := map[string]canonical.AckLine{}
	for _, al := range ack.Lines {
		results[al.LineID] = al
	}
	src := "erp/ack/" + o.ID + "/" + strconv.FormatInt(o.Version, 10)
	for i := range o.Lines {
		l := &o.Lines[i]
		al := results[l.ID]
		if !al.PromisedDate.IsZero() {
			l.PromisedDate = al.PromisedDate
		}
		b := canonical.BucketConfirmed
		if al.Result == canonical.LineRejected {
			b = canonical.BucketRejected
		}
		st.qevents = append(st.qevents, canonical.QuantityEvent{LineID: l.ID, Bucket: b, Kind: canonical.QuantitySnapshot,
			Value: l.Quantity.Value, AsOf: t, SourceMessageID: src})
	}
	return f.foldLocked(st)
}

// lineIndex returns the index in s of each ID that id gives, the first
// one where an ID repeats: lookups by line ID in one pass, not one scan of
// s per line (10,000 lines took a second under Flow.mu).
func lineIndex[T any](s []T, id func(T) string) map[string]int {
	m := make(map[string]int, len(s))
	for i, x := range s {
		if _, ok := m[id(x)]; !ok {
			m[id(x)] = i
		}
	}
	return m
}

// rejectsEvery reports whether the ERP's per-line answer rejects every
// line of the order.
func rejectsEvery(lines []canonical.OrderLine, answer []canonical.AckLine) bool {
	rejected := make(map[string]bool, len(answer))
	for _, al := range answer {
		if al.Result == canonical.LineRejected {
			rejected[al.LineID] = true
		}
	}
	for _, l := range lines {
		if !rejected[l.ID] {
			return false
		}
	}
	return len(lines) > 0
}

// foldLocked recomputes the line buckets: the ledger's from the quantity
// events, allocated, backordered and picked as the sum of the latest
// allocation update of each fulfilment order.
func (f *Flow) foldLocked(st *orderState) error {
	if err := f.ledger.Fold(st.order.Lines, st.qevents); err != nil {
		return err
	}
	type agg struct{ alloc, back, picked canonical.Decimal }
	sums := map[string]*agg{}
	for _, u := range st.alloc {
		for _, l := range u.Lines {
			a := sums[l.OrderLineID]
			if a == nil {
				a = &agg{}
				sums[l.OrderLineID] = a
			}
			var err error
			if a.alloc, err = a.alloc.Add(l.Allocated.Value); err != nil {
				return err
			}
			if a.back, err = a.back.Add(l.Backordered.Value); err != nil {
				return err
			}
			if l.Picked != nil {
				if a.picked, err = a.picked.Add(l.Picked.Value); err != nil {
					return err
				}
			}
		}
	}
	for i := range st.order.Lines {
		if a := sums[st.order.Lines[i].ID]; a != nil {
			bs := &st.order.Lines[i].Buckets
			bs.Set(canonical.BucketAllocated, a.alloc)
			bs.Set(canonical.BucketBackordered, a.back)
			bs.Set(canonical.BucketPicked, a.picked)
		}
	}
	return nil
}

func (f *Flow) onAccepted(ctx context.Context, ev canonical.Event, erpView canonical.Order, bad func(error) error) (bool, error) {
	st, err := f.state(ctx, erpView.ID, bad)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	if st.phase == phaseHeld {
		// The hold watcher saw the holds released in the ERP.
		o := &st.order
		t := f.now()
		for _, h := range o.Holds {
			if h.Active() {
				if err := o.ReleaseHold(h.Kind, t); err != nil {
					f.mu.Unlock()
					return false, bad(fmt.Errorf("%w: %w", ErrOrderState, err))
				}
			}
		}
		ack := canonical.OrderAck{OrderID: o.ID, OrderVersion: o.Version, Refs: erpView.Refs, Outcome: canonical.AckAccepted, AckedAt: t,
			Lines: releasedLines(o.Lines, st.holdLines, erpView.Lines)}
		if rejectsEvery(o.Lines, ack.Lines) {
			ack.Outcome = canonical.AckRejected
		}
		if err := f.applyAckLocked(st, ack); err != nil {
			f.mu.Unlock()
			return false, err
		}
		st.holdLines = nil
		if st.phase == phaseRejected { // the ERP's view rejects every line
			f.mu.Unlock()
			return false, f.publish(ctx, st)
		}
	}
	ph, plan := st.phase, st.plan
	o := st.order
	o.Lines = slices.Clone(o.Lines)
	f.mu.Unlock()
	switch ph {
	case phaseReleased:
		return true, f.publish(ctx, st)
	case phaseAccepted:
	default:
		return false, bad(fmt.Errorf("%w: order %s is %s, not accepted", ErrOrderState, o.ID, ph))
	}
	if plan == nil {
		p, err := f.sourcer.Plan(ctx, o)
		if err != nil {
			return false, err
		}
		if len(p) == 0 && !nothingOpen(&o) { // everything cancelled: nothing to release
			return false, bad(fmt.Errorf("%w: order %s: the sourcer planned no fulfilment order", ErrOrderState, o.ID))
		}
		f.mu.Lock()
		st.plan, plan = p, p
		f.mu.Unlock()
		// Saved before any release: a new plan could choose other
		// warehouses.
		if err := f.checkpoint(ctx, st); err != nil {
			return false, err
		}
	}
	for _, fo := range plan {
		f.mu.Lock()
		_, done := st.released[fo.ID]
		f.mu.Unlock()
		if done {
			continue
		}
		r, err := f.wms.Release(ctx, fo)
		if err != nil {
			return false, err
		}
		f.mu.Lock()
		st.released[fo.ID] = r
		st.dirty = true
		f.mu.Unlock()
	}
	if err := f.publish(ctx, st); err != nil {
		return false, err
	}
	f.mu.Lock()
	st.phase = phaseReleased
	f.mu.Unlock()
	return false, nil
}

// releasedLines returns the per-line answer of an order whose holds the
// ERP released: each line keeps the decision the ERP made when it held the
// order (held), and a line the ERP's view of the order (erpLines) shows
// rejected is rejected too; the other lines are accepted, with the promised
// date of the ERP's view, else of the held decision. A rejected line keeps
// its messages, so the CRM still shows why.
func releasedLines(lines []canonical.OrderLine, held []canonical.AckLine, erpLines []canonical.OrderLine) []canonical.AckLine {
	out := make([]canonical.AckLine, 0, len(lines))
	heldAt := lineIndex(held, func(h canonical.AckLine) string { return h.LineID })
	erpAt := lineIndex(erpLines, func(e canonical.OrderLine) string { return e.ID })
	for _, l := range lines {
		al := canonical.AckLine{LineID: l.ID, Result: canonical.LineAccepted}
		if i, ok := heldAt[l.ID]; ok {
			al.PromisedDate = held[i].PromisedDate
			if held[i].Result == canonical.LineRejected {
				al.Result, al.Messages = canonical.LineRejected, held[i].Messages
			}
		}
		if i, ok := erpAt[l.ID]; ok {
			if el := &erpLines[i]; el.Buckets.Get(canonical.BucketRejected).IsPos() {
				al.Result = canonical.LineRejected
			} else if !el.PromisedDate.IsZero() {
				al.PromisedDate = el.PromisedDate
			}
		}
		if al.Result == canonical.LineRejected {
			al.PromisedDate = time.Time{}
		}
		out = append(out, al)
	}
	return out
}

// planned reports whether the order's plan has the fulfilment order.
func planned(st *orderState, foID string) bool {
	return slices.ContainsFunc(st.plan, func(fo canonical.FulfillmentOrder) bool { return fo.ID == foID })
}

func (f *Flow) onAllocation(ctx context.Context, u canonical.AllocationUpdate, bad func(error) error) (bool, error) {
	st, err := f.state(ctx, u.OrderID, bad)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	if !planned(st, u.FulfillmentOrderID) {
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: %q of order %s", ErrUnknownFulfillment, u.FulfillmentOrderID, u.OrderID))
	}
	prev, seen := st.alloc[u.FulfillmentOrderID]
	dup := seen && prev.Sequence >= u.Sequence
	if !dup {
		st.alloc[u.FulfillmentOrderID] = u
		if err := f.foldLocked(st); err != nil {
			if seen {
				st.alloc[u.FulfillmentOrderID] = prev
			} else {
				delete(st.alloc, u.FulfillmentOrderID)
			}
			_ = f.foldLocked(st)
			f.mu.Unlock()
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
		st.dirty = true
	}
	f.mu.Unlock()
	return dup, f.publish(ctx, st)
}

func (f *Flow) onShipped(ctx context.Context, ev canonical.Event, s canonical.Shipment, bad func(error) error) (bool, error) {
	st, err := f.state(ctx, s.OrderID, bad)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	if !planned(st, s.FulfillmentOrderID) {
		f.mu.Unlock()
		return false, bad(fmt.Errorf("%w: %q of order %s", ErrUnknownFulfillment, s.FulfillmentOrderID, s.OrderID))
	}
	if st.shipped[s.ID] {
		if err := changedShipment(st, s); err != nil {
			f.mu.Unlock()
			return false, bad(err)
		}
	}
	_, invoiced := st.invoices[s.ID]
	if invoiced {
		f.mu.Unlock()
		return true, f.publish(ctx, st)
	}
	if !st.shipped[s.ID] {
		qe, err := s.QuantityEvents("wms/shipment/" + s.ID)
		if err == nil {
			lines := slices.Clone(st.order.Lines)
			err = f.ledger.Fold(lines, append(slices.Clone(st.qevents), qe...))
		}
		if err != nil {
			_ = f.foldLocked(st)
			f.mu.Unlock()
			return false, bad(fmt.Errorf("%w: shipment %s: %w", ErrBadEvent, s.ID, err))
		}
		st.qevents = append(st.qevents, qe...)
		st.shipped[s.ID] = true
		st.ships = append(st.ships, s)
		st.dirty = true
		if err := f.foldLocked(st); err != nil {
			f.mu.Unlock()
			return false, bad(fmt.Errorf("%w: %w", ErrBadEvent, err))
		}
	}
	f.mu.Unlock()
	inv, err := f.erp.PostShipment(ctx, f.key("post_shipment", s.OrderID, s.ID), s)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	var qe []canonical.QuantityEvent
	src := "erp/invoice/" + inv.ID
	for _, l := range s.Lines {
		qe = append(qe, canonical.QuantityEvent{LineID: l.OrderLineID, Bucket: canonical.BucketInvoiced,
			Kind: canonical.QuantityDelta, Value: l.Quantity.Value, AsOf: s.ShippedAt, SourceMessageID: src})
	}
	qe = mergeEvents(qe)
	st.qevents = append(st.qevents, qe...)
	if err := f.foldLocked(st); err != nil {
		st.qevents = st.qevents[:len(st.qevents)-len(qe)]
		_ = f.foldLocked(st)
		f.mu.Unlock()
		return false, retry.Permanent(fmt.Errorf("flow: invoice %s of shipment %s: %w", inv.Number, s.ID, err))
	}
	st.invoices[s.ID] = inv
	st.invOrder = append(st.invOrder, s.ID)
	st.dirty = true
	f.mu.Unlock()
	return false, f.publish(ctx, st)
}

// docFingerprint returns the fingerprint of a document: the hex SHA-256 of
// its canonical encoding (canonical.Encode), the first 16 bytes of it.
func docFingerprint(d canonical.Document) (string, error) {
	b, err := canonical.Encode(d)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

// changedShipment returns an ErrChangedDuplicate error when the order has
// applied a shipment of s's ID with other content. The caller holds f.mu.
func changedShipment(st *orderState, s canonical.Shipment) error {
	i := slices.IndexFunc(st.ships, func(x canonical.Shipment) bool { return x.ID == s.ID })
	if i < 0 {
		return nil
	}
	was, err1 := docFingerprint(st.ships[i])
	now, err2 := docFingerprint(s)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%w: shipment %s: %w", ErrBadEvent, s.ID, err)
	}
	if was != now {
		return fmt.Errorf("%w: shipment %s of order %s with fingerprint %s, applied with %s", ErrChangedDuplicate, s.ID, s.OrderID, now, was)
	}
	return nil
}

// mergeEvents sums events of the same line, which the ledger would
// otherwise count once.
func mergeEvents(qe []canonical.QuantityEvent) []canonical.QuantityEvent {
	out := qe[:0]
	at := make(map[string]int, len(qe))
	for _, e := range qe {
		i, ok := at[e.LineID]
		if !ok {
			at[e.LineID] = len(out)
			out = append(out, e)
			continue
		}
		if v, err := out[i].Value.Add(e.Value); err == nil {
			out[i].Value = v
		}
	}
	return out
}

// publish shows the order's state in the CRM when it changed since the
// last publication.
func (f *Flow) publish(ctx context.Context, st *orderState) error {
	f.mu.Lock()
	if !st.dirty {
		f.mu.Unlock()
		return nil
	}
	st.seq++
	s := st.statusLocked(f.now())
	f.mu.Unlock()
	// Saved before it is published: the CRM ignores a sequence it has
	// seen, so a sequence must never be used again for other content.
	if err := f.checkpoint(ctx, st); err != nil {
		return err
	}
	if err := f.crm.PublishStatus(ctx, s); err != nil {
		return err
	}
	f.mu.Lock()
	if st.seq == s.Sequence {
		st.dirty = false
	}
	f.mu.Unlock()
	return nil
}

// statusLocked returns what the CRM should show of the order.
func (st *orderState) statusLocked(now time.Time) connector.OrderStatus {
	o := &st.order
	s := connector.OrderStatus{OrderID: o.ID, Sequence: st.seq, Status: o.Status(), Messages: slices.Clone(st.messages), UpdatedAt: now}
	for _, h := range o.Holds {
		if h.Active() {
			s.Holds = append(s.Holds, h)
		}
	}
	for _, l := range o.Lines {
		u := l.Quantity.Unit
		bs := l.Buckets
		s.Lines = append(s.Lines, connector.LineStatus{LineID: l.ID,
			Ordered:     canonical.NewQuantity(bs.Get(canonical.BucketOrdered), u),
			Shipped:     canonical.NewQuantity(bs.Get(canonical.BucketShipped), u),
			Backordered: canonical.NewQuantity(bs.Get(canonical.BucketBackordered), u),
			Cancelled:   canonical.NewQuantity(bs.Get(canonical.BucketCancelled), u),
			Returned:    canonical.NewQuantity(bs.Get(canonical.BucketReturned), u)})
		if !l.PromisedDate.IsZero() && (s.PromisedDate.IsZero() || l.PromisedDate.Before(s.PromisedDate)) {
			s.PromisedDate = l.PromisedDate
		}
	}
	for _, sh := range st.ships {
		s.TrackingNumbers = append(s.TrackingNumbers, sh.TrackingNumbers...)
	}
	s.Returns = st.returnsLocked()
	return s
}

// CheckHolds re-reads from the ERP every order the flow holds on hold and,
// for each whose holds the ERP has released, appends an order.accepted
// event that resumes it. It returns how many it resumed.
func (f *Flow) CheckHolds(ctx context.Context) (int, error) {
	held, err := f.heldOrders(ctx)
	if err != nil {
		return 0, err
	}
	slices.SortFunc(held, func(a, b *orderState) int { return strings.Compare(a.order.ID, b.order.ID) })
	n := 0
	var errs []error
	for _, st := range held {
		id := st.order.ID
		// The check is part of the order's flow: it carries the order's
		// correlation ID, and the decision that held it as its cause, so
		// the call (and its failures) shows in the order's timeline.
		cause := canonical.Event{ID: eventID("decision", id, strconv.FormatInt(st.order.Version, 10))}
		octx := tracing.WithCausationID(tracing.WithCorrelationID(ctx, st.corr), cause.ID)
		o, err := f.erp.GetOrder(octx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("flow: check holds of order %s: %w", id, err))
			continue
		}
		if slices.ContainsFunc(o.Holds, canonical.Hold.Active) || o.AcceptedAt.IsZero() {
			continue
		}
		if err := f.emit(ctx, canonical.EventOrderAccepted, o, id, st.corr, cause, eventID("resume", id, strconv.FormatInt(o.Version, 10))); err != nil {
			errs = append(errs, err)
			continue
		}
		f.mu.Lock()
		st.resumed = true
		f.mu.Unlock()
		if err := f.checkpoint(ctx, st); err != nil {
			errs = append(errs, err)
		}
		n++
	}
	return n, errors.Join(errs...)
}
