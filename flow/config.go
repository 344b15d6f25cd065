//lint:file-ignore ST1005 Validate's errors start with the Go name of the Config field they are about.

package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/tracing"
)

// Defaults of Config.
const (
	// DefaultGroup is the consumer group of the flow's handler.
	DefaultGroup = "ordertocash"
	// DefaultScope is the scope of the idempotency keys the flow derives.
	DefaultScope = "ordertocash"
	// DefaultPageSize is how many events one poll of a feed asks for.
	DefaultPageSize = 100
	// DefaultPollInterval is how often Run polls the feeds and the holds.
	DefaultPollInterval = time.Second
	// DefaultSource is the CloudEvents source of the events the flow emits.
	DefaultSource = "urn:distsync:flow"
	// DefaultMaxEventSize is the most bytes of data one event may carry
	// (Config.MaxEventSize): 4 MiB, which holds every document of an order
	// of DefaultMaxLines lines.
	DefaultMaxEventSize = 4 << 20
	// DefaultMaxLines is the most lines one document of an event may carry
	// (Config.MaxLines).
	DefaultMaxLines = 10_000
	// DefaultDedupeLease is the lease of the consumer's claims in
	// Config.Dedupe: how long an event whose handler was cut short by a
	// crash waits before a restarted flow handles it again.
	DefaultDedupeLease = 30 * time.Second
)

// ErrInvalidConfig is matched by the error Config.Validate and New return for
// an unusable configuration.
var ErrInvalidConfig = errors.New("flow: invalid configuration")

// Config configures a Flow that runs order-to-cash and inventory sync (for
// inventory sync alone, see InventoryConfig). ERP, WMS (or Warehouses),
// CRM and Log are required; the zero value of every other field is its
// documented default. New reads it once; the interfaces it holds are
// called concurrently and must be safe for concurrent use.
type Config struct {
	// ERP, WMS and CRM are the systems, typically decorated with
	// connector.WrapERP, WrapWMS and WrapCRM (retry, breaker, timeline),
	// which also decorate the ERP's optional event feed and
	// OrderCanceller that the flow finds with connector.As.
	ERP connector.ERP
	WMS connector.WMS
	CRM connector.CRM
	// Warehouses, instead of WMS, are several WMS, each owning a set of
	// warehouses: a distributor's own DC on one system and a 3PL on
	// another. The default Sourcer sees the stock of all of them; each
	// fulfilment order is released to the system that owns its warehouse,
	// and cancelled there; a return is registered with the system of its
	// receiving warehouse; every system's feed is polled, under a cursor
	// of its own, into the one log; and an event about a warehouse is
	// accepted only from the sources of the system that owns it.
	// OrderView.Systems says which system holds which fulfilment order
	// and return. Ownership is configuration, not state: a restarted flow
	// routes by the Warehouses it is given. Exclusive with WMS and
	// WMSSources; see WarehouseSystem for what each entry requires.
	Warehouses []WarehouseSystem
	// Log is the event log and its consumer state. Required.
	Log eventlog.Backend
	// Cursors keeps the feeds' cursors; nil means a new MemoryCursors.
	Cursors CursorStore
	// State keeps each order's state, so that a restarted flow resumes
	// its orders (see the package documentation, section Durable state
	// and crashes). Nil means that open orders live in memory only and
	// completed ones are compacted into a new MemoryState (keeping them
	// for DefaultStateRetention); nothing then survives the process.
	State StateStore
	// Sourcer chooses warehouses; nil means an InventorySourcer over WMS.
	Sourcer Sourcer
	// Policy is the error policy of the consumer.
	Policy eventlog.ErrorPolicy
	// Workers is how many orders are handled at once; 0 means
	// eventlog.DefaultWorkers.
	Workers int
	// Dedupe, when not nil, is passed to the consumer to suppress the
	// second handling of an event delivered again after a crash. It is
	// optional with a durable State: the handlers recognise replays from
	// the stored states.
	Dedupe idempotency.Store
	// DedupeLease is the lease of the consumer's claim on an event in
	// Dedupe (eventlog.ConsumerConfig.Lease): after a crash while events
	// were being handled, a restarted flow handles them again once their
	// claims' leases have run out. Zero means DefaultDedupeLease, not
	// idempotency.DefaultLease (5 minutes), for which a restarted flow
	// would sit on those events. The claim is not renewed while the
	// handler runs, and a handler that runs longer than the lease keeps
	// it all the same within one flow: the consumer hands an order's
	// events (one partition, see Flow.PollWarehouse) to one handler at a
	// time, so no other worker claims the event meanwhile. Another
	// process takes it over only after this one lost the log's group lock
	// (eventlog.ErrLockLost), which cancels the handlers' contexts at
	// once; a connector call deaf to its context may then still run when
	// the new holder, once the lease ran out, handles the event again
	// (the effects are idempotent by their keys). So keep the lease above
	// the time one handler's connector calls take with their retries.
	DedupeLease time.Duration
	// MaxEventSize bounds the data (canonical.Event.Data, in bytes) of an
	// event the flow handles; a larger event is dead-lettered with
	// ErrEventTooLarge before it is decoded. 0 means DefaultMaxEventSize.
	// Choose it to hold every document of the largest order MaxLines
	// admits, not only the order as submitted: the warehouse's pick update
	// of an order is about one and a half times its size (the simulators
	// write about 140 bytes per line of an order, 210 of a pick update), so
	// 4 MiB holds an order of 10,000 lines and its updates, where 1 MiB
	// would refuse the pick update of an order above about 5,000 lines.
	// The flow's own events (of Source) are not bounded: they carry what
	// it bounded when it came in, or the ERP's view of such an order,
	// which may be twice as large; Flow.AuthorizeReturn refuses a return
	// beyond the bounds with ErrEventTooLarge.
	MaxEventSize int
	// MaxLines bounds the lines of the document an event carries (an
	// order, a cancel request, an allocation update, a shipment, a
	// return), and each other list in it (a shipment's packages, a
	// package's lines, tracking numbers, an order's notes or refs); an
	// event with a longer list is dead-lettered with ErrEventTooLarge,
	// naming the list, before it has any effect. 0 means DefaultMaxLines
	// (10,000).
	MaxLines int
	// Group is the consumer group; "" means DefaultGroup.
	Group string
	// Scope scopes the idempotency keys; "" means DefaultScope.
	Scope string
	// Source is the source of the events the flow emits; "" means
	// DefaultSource. The flow handles an order.accepted event only from
	// this source (its hold watcher emits them): keep it across restarts.
	Source string
	// OrderSources are the CloudEvents sources whose order.submitted
	// events the flow accepts: its CRM's order feed, or whatever else
	// feeds it orders. Cancel requests (order.cancel_requested) and
	// returns (return.authorized) are accepted from these sources too, as
	// the CRM's feed carries them. An order.submitted event of another
	// source, or an order.accepted event not of Source, is dead-lettered
	// with ErrForeignSource before it has any effect. Nil means the
	// source the CRM connector reports through a Source() string method,
	// found with connector.As through decorators (crm.Memory has one);
	// Validate requires OrderSources when it has none. Sources must not
	// be empty.
	OrderSources []string
	// ERPSources are the CloudEvents sources of the ERP's event feed
	// (Flow.PollERP): the flow accepts the cancel requests and returns
	// requested in the ERP from these sources (and from OrderSources);
	// one from any other source, except a return of Source (appended by
	// Flow.AuthorizeReturn), is dead-lettered with ErrForeignSource
	// before it has any effect. Nil means the source the ERP connector
	// reports through a Source() string method, found with connector.As
	// through decorators (erp.Memory has one), or none when the ERP has
	// no event feed (connector.EventFeed); Validate requires ERPSources
	// when the ERP has a feed and reports no source. An empty, non-nil
	// ERPSources accepts no ERP's events. Sources must not be empty.
	ERPSources []string
	// WMSSources are the CloudEvents sources of the WMS's event feed
	// (Flow.PollWarehouse), with Config.WMS (with Warehouses, each
	// WarehouseSystem has its Sources): the flow accepts fulfilment
	// events, returns received and inventory events only from these
	// sources; one from any other source is dead-lettered with
	// ErrForeignSource before it has any effect (a shipment would be
	// posted and invoiced). Nil means the source the WMS connector
	// reports through a Source() string method, found with connector.As
	// through decorators (wms.Memory has one); Validate requires
	// WMSSources when it has none. Sources must not be empty.
	WMSSources []string
	// PageSize is the page size of feed polls; 0 means DefaultPageSize.
	PageSize int
	// PollInterval is how often Run polls the feeds and the held orders
	// (a WMS feed that implements connector.Subscriber is also polled as
	// soon as it has new events), how often the consumer polls the log and the replay requests
	// (eventlog.ConsumerConfig.PollInterval), and how long Drain waits
	// before it retries a failed poll; 0 means DefaultPollInterval for Run
	// and eventlog.DefaultPollInterval for the consumer and Drain.
	PollInterval time.Duration
	// Recorder receives a step per handled event; when it also has a
	// Timeline(correlationID) []tracing.Step method (as
	// *tracing.MemoryRecorder has), Where returns the order's timeline.
	Recorder tracing.Recorder
	// Metrics, when not nil, observes the flow.
	Metrics Metrics
	// Logger receives dead letters and poll failures; nil means discard.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Unhandled, when not nil, is called with each event of a type the
	// flow does not handle, such as another team's events on the same log
	// (handled by that team's own consumer group), before any of the
	// flow's checks (size, source). Its result is the flow's handler's: nil
	// marks the event handled (counted as CounterHandled), an error is
	// retried under Policy and dead-lettered when it is permanent
	// (retry.Permanent) or the attempts run out. Nil means that such an
	// event is dead-lettered with ErrUnhandledEvent.
	Unhandled func(ctx context.Context, ev canonical.Event) error
	// Middleware, when not nil, wraps the flow's event handler: the
	// consumer calls Middleware(handler) for each event. It sees the
	// handler's context before the flow does and its error after, so that
	// an OpenTelemetry bridge can run the handling in a span whose children
	// are the connector calls it makes (otel's Bridge.Handler). Its result
	// is the handler's; it must call the handler it wraps, or return an
	// error, and be safe for concurrent use. Nil means the handler as is.
	Middleware func(eventlog.Handler) eventlog.Handler
	// NewConsumer, when not nil, builds what runs the flow's handler over
	// Log, from the configuration the flow would give its own
	// eventlog.Consumer (Group, Handler, Workers, PollInterval, Policy,
	// Dedupe, Lease, Logger, Now, OnDeadLetter): a member of a
	// partitioned consumer group, so that several processes run the flow
	// over one log, each handling the orders of the partitions it owns
	// (with package eventlog/jetstream, Backend.GroupConsumer returns
	// one). Its error is returned by New, wrapped in ErrInvalidConfig.
	// See the package documentation, section Across processes. Nil means
	// an eventlog.Consumer of its own over Log, one process at a time.
	NewConsumer func(eventlog.ConsumerConfig) (Consumer, error)
}

// Validate reports whether c is usable. The error matches ErrInvalidConfig
// and names the field.
func (c Config) Validate() error {
	var errs []error
	if c.ERP == nil {
		errs = append(errs, errors.New("ERP is required"))
	}
	if len(c.Warehouses) > 0 {
		if _, err := c.validateWarehouses(); err != nil {
			errs = append(errs, err)
		}
	} else if c.WMS == nil {
		errs = append(errs, errors.New("WMS is required (or Warehouses)"))
	}
	if c.CRM == nil {
		errs = append(errs, errors.New("CRM is required"))
	}
	if _, err := c.orderSources(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.erpSources(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateCommon(c.roles()); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// roles returns the roles of inventory sync in c's connectors.
func (c Config) roles() inventoryRoles {
	r := inventoryRoles{}
	if c.WMS != nil {
		r.feed, r.stock = c.WMS, c.WMS
	}
	if c.ERP != nil {
		r.ledger = c.ERP
	}
	if c.CRM != nil {
		r.avail = c.CRM
	}
	return r
}

// validateCommon checks the fields of c that New and NewInventorySync
// share, with the WMS feed whose source defaults WMSSources. The errors are
// joined, without ErrInvalidConfig.
func (c Config) validateCommon(roles inventoryRoles) error {
	var errs []error
	if c.Log == nil {
		errs = append(errs, errors.New("Log is required"))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("Workers is negative: %d", c.Workers))
	}
	if c.PageSize < 0 {
		errs = append(errs, fmt.Errorf("PageSize is negative: %d", c.PageSize))
	}
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("PollInterval is negative: %s", c.PollInterval))
	}
	if len(c.Warehouses) == 0 {
		if _, err := c.wmsSources(roles.feed); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxEventSize < 0 {
		errs = append(errs, fmt.Errorf("MaxEventSize is negative: %d", c.MaxEventSize))
	}
	if c.MaxLines < 0 {
		errs = append(errs, fmt.Errorf("MaxLines is negative: %d", c.MaxLines))
	}
	if c.DedupeLease < 0 {
		errs = append(errs, fmt.Errorf("DedupeLease is negative: %s", c.DedupeLease))
	}
	if err := c.Policy.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("Policy: %w", err))
	}
	return errors.Join(errs...)
}

// sourceReporter is the optional method of a CRM connector that reports
// the CloudEvents source of its order feed's events.
type sourceReporter interface{ Source() string }

// orderSources returns the sources whose orders the flow accepts (see
// Config.OrderSources).
func (c Config) orderSources() ([]string, error) {
	if c.OrderSources == nil {
		if c.CRM == nil {
			return nil, nil // reported as "CRM is required"
		}
		r, ok := connector.As[sourceReporter](c.CRM)
		if !ok || r.Source() == "" {
			return nil, errors.New("OrderSources is required: the CRM connector reports no source (Source() string)")
		}
		return []string{r.Source()}, nil
	}
	if len(c.OrderSources) == 0 {
		return nil, errors.New("OrderSources is empty: no order would be accepted")
	}
	if slices.Contains(c.OrderSources, "") {
		return nil, errors.New("OrderSources has an empty source")
	}
	return slices.Clone(c.OrderSources), nil
}

// erpSources returns the sources of the ERP's feed whose events the flow
// accepts (see Config.ERPSources).
func (c Config) erpSources() ([]string, error) {
	if c.ERPSources == nil {
		if c.ERP == nil {
			return nil, nil // reported as "ERP is required"
		}
		if r, ok := connector.As[sourceReporter](c.ERP); ok && r.Source() != "" {
			return []string{r.Source()}, nil
		}
		if _, ok := connector.As[connector.EventFeed](c.ERP); ok {
			return nil, errors.New("ERPSources is required: the ERP connector has an event feed but reports no source (Source() string)")
		}
		return nil, nil
	}
	if slices.Contains(c.ERPSources, "") {
		return nil, errors.New("ERPSources has an empty source")
	}
	return slices.Clone(c.ERPSources), nil
}

// wmsSources returns the sources of the WMS's events the flow accepts
// (see Config.WMSSources), defaulted from feed, the WMS's event feed.
func (c Config) wmsSources(feed connector.EventFeed) ([]string, error) {
	if c.WMSSources == nil {
		if feed == nil {
			return nil, nil // reported as "WMS is required"
		}
		r, ok := connector.As[sourceReporter](feed)
		if !ok || r.Source() == "" {
			return nil, errors.New("WMSSources is required: the WMS connector reports no source (Source() string)")
		}
		return []string{r.Source()}, nil
	}
	if len(c.WMSSources) == 0 {
		return nil, errors.New("WMSSources is empty: no warehouse event would be accepted")
	}
	if slices.Contains(c.WMSSources, "") {
		return nil, errors.New("WMSSources has an empty source")
	}
	return slices.Clone(c.WMSSources), nil
}

// Counter names a count reported to Metrics. It is safe for concurrent use
// as a value. The zero value names no counter.
type Counter string

// The counters.
const (
	// CounterHandled counts events handled successfully.
	CounterHandled Counter = "handled"
	// CounterRetried counts handler failures the error policy retries: not
	// the last attempt its budget allows.
	CounterRetried Counter = "retried"
	// CounterParked counts handler failures because a system's breaker is
	// open: the event is parked until the system is back.
	CounterParked Counter = "parked"
	// CounterDeadLettered counts events dead-lettered: for a permanent
	// error, a spent retry budget, or data the log cannot decode or accept.
	// List them with DeadLetters.
	CounterDeadLettered Counter = "dead_lettered"
	// CounterDuplicate counts events recognised as already applied.
	CounterDuplicate Counter = "duplicate"
)

// Metrics observes a Flow. Entity is the kind of the event's document, one
// of the canonical.Kind constants ("order", "allocation_update",
// "shipment", ...), or "" when unknown.
// Implementations must be safe for concurrent use and must not block; they
// are called with no lock held.
// The zero value, nil, is no implementation; a field of this type says what
// nil means there.
type Metrics interface {
	// Count adds one to counter c for an event about entity.
	Count(ctx context.Context, c Counter, entity string)
	// SyncLag reports the time from an event's occurrence in its source
	// system to its effect being applied in the target systems.
	SyncLag(ctx context.Context, entity string, lag time.Duration)
}

// EventCounter is an optional capability of a [Metrics], found by type
// assertion: when the Metrics implements it, the flow calls CountEvent
// instead of Metrics.Count, naming the event's type too. The zero value,
// nil, is no implementation. Implementations must be safe for concurrent
// use and must not block.
type EventCounter interface {
	// CountEvent adds one to counter c for an event of type t about
	// entity (as for Metrics.Count; t's kind). An event of a type the
	// flow could not read (undecodable data) has the empty type.
	CountEvent(ctx context.Context, c Counter, entity string, t canonical.EventType)
}

// TargetSyncLagger is an optional capability of a [Metrics], found by type
// assertion: the flow calls SyncLagTo each time an effect of the event it
// handles lands in a target system, besides calling Metrics.SyncLag once
// the event is handled. The zero value, nil, is no implementation.
// Implementations must be safe for concurrent use and must not block.
type TargetSyncLagger interface {
	// SyncLagTo reports the time from an event's occurrence (its time) in
	// source (its CloudEvents source) to an effect of it landing in target:
	// "erp" (an order accepted, a shipment, return or inventory posted),
	// "crm" (a status or availability published) or "wms" (a fulfilment
	// order released; with Config.Warehouses, the WarehouseSystem's Name).
	// Entity is as for Metrics. An event may report several targets, and
	// a target once per effect.
	SyncLagTo(ctx context.Context, entity, source, target string, lag time.Duration)
}

// CursorStore keeps the position of each feed the flow polls, so that a
// restarted flow resumes after the last page it appended to the log.
// Implementations must be safe for concurrent use.
// The zero value, nil, is no implementation; a field of this type says what
// nil means there.
type CursorStore interface {
	// Load returns the stored cursor of feed, the zero Cursor when none is.
	Load(ctx context.Context, feed string) (connector.Cursor, error)
	// Save stores the cursor of feed.
	Save(ctx context.Context, feed string, c connector.Cursor) error
}

// MemoryCursors is a CursorStore in memory. Its zero value is ready to use;
// it is safe for concurrent use.
type MemoryCursors struct {
	mu sync.Mutex
	m  map[string]connector.Cursor
}

var _ CursorStore = (*MemoryCursors)(nil)

// Load implements CursorStore.
func (m *MemoryCursors) Load(ctx context.Context, feed string) (connector.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return "", context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[feed], nil
}

// Save implements CursorStore.
func (m *MemoryCursors) Save(ctx context.Context, feed string, c connector.Cursor) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]connector.Cursor)
	}
	m.m[feed] = c
	return nil
}
