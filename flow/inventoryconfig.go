//lint:file-ignore ST1005 Validate's errors start with the Go name of the InventoryConfig field they are about.

// This file owns the inventory-only flow: InventoryConfig, the roles it
// takes, and NewInventorySync.

package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/tracing"
)

// DefaultInventoryGroup is the consumer group of a flow made by
// NewInventorySync.
const DefaultInventoryGroup = "inventorysync"

// InventoryFeed is what inventory sync needs of a warehouse: its event
// feed, on which inventory adjustments and snapshots appear, and its
// inventory, read for the positions an event names. A connector.WMS is
// one. Implementations must be safe for concurrent use: the flow calls
// them from several workers at once.
// The zero value, nil, is no implementation.
type InventoryFeed interface {
	connector.InventoryReader
	connector.EventFeed
}

// InventoryConfig configures a Flow that runs inventory sync only (see
// NewInventorySync). WMS, ERP, CRM and Log are required; the zero value of
// every other field is its documented default. NewInventorySync reads it
// once; the interfaces it holds are called concurrently and must be safe
// for concurrent use. Each field means what the Config field of the same
// name means, except where said.
type InventoryConfig struct {
	// WMS is the warehouse's inventory and event feed.
	WMS InventoryFeed
	// ERP is the ERP's inventory ledger.
	ERP connector.InventoryApplier
	// CRM is the CRM's availability.
	CRM connector.AvailabilityPublisher
	// Log is the event log and its consumer state. Required.
	Log eventlog.Backend
	// Cursors keeps the WMS feed's cursor; nil means a new MemoryCursors.
	Cursors CursorStore
	// WMSSources are the CloudEvents sources whose inventory events the
	// flow accepts. Nil means the source the WMS connector reports through
	// a Source() string method, found with connector.As through decorators;
	// Validate requires WMSSources when it has none.
	WMSSources []string
	// Group is the consumer group; "" means DefaultInventoryGroup.
	Group string
	// Scope scopes the idempotency keys; "" means DefaultScope, the scope
	// of a flow made by New, so that either flow recognises the other's
	// pushes to the ERP.
	Scope        string
	Policy       eventlog.ErrorPolicy
	Workers      int
	Dedupe       idempotency.Store
	DedupeLease  time.Duration
	MaxEventSize int
	MaxLines     int
	PageSize     int
	PollInterval time.Duration
	Recorder     tracing.Recorder
	Metrics      Metrics
	Logger       *slog.Logger
	Now          func() time.Time
	// Unhandled is called with each event of a type other than the
	// inventory events, as Config.Unhandled is; nil dead-letters it with
	// ErrUnhandledEvent. The flow appends only the WMS feed's inventory
	// events to the log, so such events are those others append.
	Unhandled func(ctx context.Context, ev canonical.Event) error
	// Middleware wraps the flow's event handler, as Config.Middleware does.
	Middleware func(eventlog.Handler) eventlog.Handler
}

// config returns the Config of c's common fields, and c's roles.
func (c InventoryConfig) config() (Config, inventoryRoles) {
	return Config{Log: c.Log, Cursors: c.Cursors, WMSSources: c.WMSSources,
			Group: orDefault(c.Group, DefaultInventoryGroup), Scope: c.Scope, Policy: c.Policy, Workers: c.Workers,
			Dedupe: c.Dedupe, DedupeLease: c.DedupeLease, MaxEventSize: c.MaxEventSize, MaxLines: c.MaxLines,
			PageSize: c.PageSize, PollInterval: c.PollInterval, Recorder: c.Recorder, Metrics: c.Metrics,
			Logger: c.Logger, Now: c.Now, Unhandled: c.Unhandled, Middleware: c.Middleware},
		inventoryRoles{feed: c.WMS, stock: c.WMS, ledger: c.ERP, avail: c.CRM}
}

// Validate reports whether c is usable. The error matches ErrInvalidConfig
// and names the field, and for a missing role the connector interface it
// takes.
func (c InventoryConfig) Validate() error {
	var errs []error
	if c.WMS == nil {
		errs = append(errs, errors.New("WMS is required: the warehouse's inventory and event feed (flow.InventoryFeed)"))
	}
	if c.ERP == nil {
		errs = append(errs, errors.New("ERP is required: the ERP's inventory ledger (connector.InventoryApplier)"))
	}
	if c.CRM == nil {
		errs = append(errs, errors.New("CRM is required: the CRM's availability (connector.AvailabilityPublisher)"))
	}
	cfg, roles := c.config()
	if err := cfg.validateCommon(roles); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// NewInventorySync returns a Flow that runs inventory sync only: it polls
// the WMS's event feed, appends its inventory events to the log (and no
// other of its events) and pushes each item's positions per warehouse to
// the ERP's ledger and its availability to the CRM, as a Flow made by New
// does (see the package documentation, section Inventory sync). It has no
// orders: PollOrders, PollERP and CheckHolds find nothing and return 0,
// Where returns ErrUnknownOrder, AuthorizeReturn returns an error matching
// ErrInvalidConfig, and the events of order-to-cash are handled as types
// the flow does not handle (InventoryConfig.Unhandled). The error matches
// ErrInvalidConfig.
func NewInventorySync(cfg InventoryConfig) (*Flow, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, roles := cfg.config()
	return build(c, roles)
}
