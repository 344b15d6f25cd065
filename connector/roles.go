package connector

import (
	"context"
	"time"

	"github.com/distsync/distsync/canonical"
)

// Cursor is an opaque position in a feed. The zero Cursor is the start of
// the feed. Only the feed that returned a cursor interprets it; callers
// store it and pass it back. A Cursor is safe for concurrent use as a value.
type Cursor string

// Page is one page of a feed. The zero value is an empty page. A Page is a
// plain value, safe for concurrent reads.
type Page struct {
	// Events are the events after the cursor, oldest first, at most the
	// requested limit.
	Events []canonical.Event
	// Next is the cursor to pass to get the events after this page. It is
	// the given cursor when the page is empty.
	Next Cursor
	// More reports that more events were available when the page was
	// read: the caller may poll again at once.
	More bool
}

// DefaultPageSize is the page size a feed uses when the caller passes a
// limit ≤ 0. Feeds cap larger limits at a size of their own, never
// returning more events than asked for.
const DefaultPageSize = 100

// LineQuantity is a quantity of one document line. The zero value is a zero
// quantity of no line. A LineQuantity is a plain value, safe for concurrent
// reads.
type LineQuantity struct {
	// LineID is the line's canonical ID (a fulfilment line ID when the
	// request is about a fulfilment order).
	LineID   string             `json:"lineId"`
	Quantity canonical.Quantity `json:"quantity"`
}

// ---- ERP roles ----------------------------------------------------------

// OrderValidator validates an order in the ERP: pricing, credit, tax and
// terms.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type OrderValidator interface {
	// ValidateOrder returns the ERP's verdict on the order without any
	// side effect: the ack's outcome says whether the ERP would accept,
	// accept with changes, hold or reject it, with per-line results and
	// messages. A rejection is an ack, not an error; an error means the
	// ERP could not judge (CodeInvalid for a malformed order, with the
	// fields named). Calling it any number of times is safe.
	ValidateOrder(ctx context.Context, order *canonical.Order) (canonical.OrderAck, error)
}

// OrderAccepter accepts an order into the ERP, which becomes its system of
// record.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type OrderAccepter interface {
	// AcceptOrder creates (or, for a later version, updates) the order in
	// the ERP and returns the ack with the ERP's refs, prices, holds and
	// promised dates. It is idempotent by key: a second call with the same
	// key returns the first call's ack and creates nothing; the same key
	// with another order is a CodeConflict error.
	AcceptOrder(ctx context.Context, key string, order *canonical.Order) (canonical.OrderAck, error)
}

// OrderReader reads an order as the ERP sees it.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type OrderReader interface {
	// GetOrder returns the ERP's view of the order with the given
	// canonical ID: its lines with the ERP's buckets (confirmed, shipped,
	// invoiced, ...), holds and refs. CodeNotFound when the ERP does not
	// know it.
	GetOrder(ctx context.Context, orderID string) (canonical.Order, error)
}

// ShipmentPoster posts shipments (delivery and goods issue) and invoices
// them.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type ShipmentPoster interface {
	// PostShipment records the shipment against the order in the ERP and
	// returns the invoice produced for it. It is idempotent by key: a
	// second call returns the same invoice and posts nothing. CodeNotFound
	// when the ERP does not know the shipment's order.
	PostShipment(ctx context.Context, key string, shipment canonical.Shipment) (canonical.Invoice, error)
}

// ReturnPoster posts received returns and credits them.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type ReturnPoster interface {
	// PostReturn records what a warehouse received for a return and
	// returns the credit memo. It is idempotent by key. CodeNotFound when
	// the ERP does not know the return's order.
	PostReturn(ctx context.Context, key string, ret canonical.Return) (canonical.Invoice, error)
}

// InventoryApplier keeps the ERP's inventory ledger in step with the
// warehouses.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type InventoryApplier interface {
	// ApplyInventory applies positions (snapshots or deltas) to the ERP's
	// ledger. It is idempotent by key; besides, the ERP ignores a position
	// older (by Sequence, then AsOf) than the one it holds for the same
	// item, location, lot and status.
	ApplyInventory(ctx context.Context, key string, positions []canonical.InventoryPosition) error
}

// OrderCancellation tells an ERP what was cancelled of an order's open
// remainder, so that it no longer expects to ship or invoice it. The zero
// value names no order and is not a valid request. An OrderCancellation is a
// plain value, safe for concurrent reads.
type OrderCancellation struct {
	OrderID string `json:"orderId"`
	// Lines are the order lines (order line IDs) and the quantities
	// cancelled now, in the lines' units, on top of what was cancelled
	// before.
	Lines []LineQuantity `json:"lines"`
	// Reason is a short text for people.
	Reason string `json:"reason,omitempty"`
}

// OrderCanceller is an optional capability of an ERP, found with [As]:
// it records cancelled quantities of an order.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type OrderCanceller interface {
	// CancelOrderLines adds the quantities of c to the cancelled bucket of
	// the order's lines and returns the ERP's view of the order after it.
	// It is idempotent by key: a second call with the same key cancels
	// nothing more; the same key with another cancellation is a
	// CodeConflict error. CodeNotFound for an unknown order; CodeInvalid
	// for an unknown line, a quantity that is not positive or not in the
	// line's unit; CodeConflict when a quantity exceeds what is open and
	// unshipped.
	CancelOrderLines(ctx context.Context, key string, c OrderCancellation) (canonical.Order, error)
}

// OrderChanger is an optional capability of an ERP, found with [As]: it
// changes an order it has accepted, as the customer asks after the ERP's
// decision (a quantity up or down, a line added or removed, a new
// requested date, another ship-to, ship-complete switched on).
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type OrderChanger interface {
	// ChangeOrder asks the ERP to take change, computed with
	// [canonical.DiffOrders] against the version the ERP holds
	// (change.FromVersion), and returns its decision per line and field:
	// applied, partially applied, held or refused, with the reason. The
	// ERP prices what is added, checks the customer's credit for the
	// added value and the available-to-promise for the added quantity; a
	// decrease is applied up to what is open and not shipped. What was
	// applied is in the order's buckets afterwards ([OrderReader]): a
	// decrease in the cancelled bucket, an increase in ordered and
	// confirmed. A refusal is a result, not an error.
	//
	// It is idempotent by key: a second call with the same key returns
	// the first call's ack and changes nothing; the same key with another
	// change is a CodeConflict error. Versions are ordered: a change whose
	// ToVersion the ERP already holds (or has passed) changes nothing and
	// returns an ack with every part refused for
	// [canonical.ChangeReasonStale]. CodeInvalid for a malformed change
	// (naming the field); CodeNotFound for an unknown order; CodeConflict
	// when FromVersion is not the version the ERP holds, or for an
	// unknown line that is not added.
	ChangeOrder(ctx context.Context, key string, change canonical.OrderChange) (canonical.ChangeAck, error)
}

// AmendmentReport tells an ERP what the warehouses kept of one of its
// amendments ([canonical.OrderAmendment]): rejected quantities that were
// picked or shipped before the amendment reached them, and so will ship
// after all. The zero value names no order and is not a valid report. An
// AmendmentReport is a plain value, safe for concurrent reads.
type AmendmentReport struct {
	OrderID string `json:"orderId"`
	// AmendmentID and Revision name the amendment.
	AmendmentID string `json:"amendmentId"`
	Revision    int64  `json:"revision"`
	// Kept are the order lines (order line IDs) and the quantities of
	// their amended rejected total that the warehouses did not take away,
	// in the lines' units.
	Kept []LineQuantity `json:"kept"`
	// Reason is a short text for people, such as "picked".
	Reason string `json:"reason,omitempty"`
}

// AmendmentReporter is an optional capability of an ERP whose event feed
// carries amendments ([canonical.EventOrderAmended]), found with [As]: it
// takes back the part of a rejection the warehouses could not honour.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type AmendmentReporter interface {
	// ReportAmendment takes the kept quantities of r out of the rejected
	// bucket of the order's lines, so that the ERP expects to ship and
	// invoice them, and returns the ERP's view of the order after it. It
	// is idempotent by key: a second call with the same key changes
	// nothing more; the same key with another report is a CodeConflict
	// error. CodeNotFound for an unknown order; CodeInvalid for an unknown
	// line, a quantity that is not positive or not in the line's unit;
	// CodeConflict when a quantity exceeds the line's rejected bucket.
	ReportAmendment(ctx context.Context, key string, r AmendmentReport) (canonical.Order, error)
}

// ERP is what the flows need of an ERP. An ERP may also have an event feed
// of its own ([EventFeed], found with [As]) on which ERP-side requests
// appear, such as cancellations of an order's open remainder. The flows call
// an ERP from several workers at once: implementations must be safe for
// concurrent use.
// The zero value, nil, is no implementation.
type ERP interface {
	OrderValidator
	OrderAccepter
	OrderReader
	ShipmentPoster
	ReturnPoster
	InventoryApplier
}

// ---- WMS roles ----------------------------------------------------------

// Releaser releases fulfilment orders to warehouses.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type Releaser interface {
	// Release hands the fulfilment order to its warehouse and returns it
	// with the WMS's refs and release time. It is idempotent by the
	// fulfilment order's ID: releasing the same ID again returns the first
	// result; the same ID with different lines is a CodeConflict error.
	Release(ctx context.Context, fo canonical.FulfillmentOrder) (canonical.FulfillmentOrder, error)
}

// CancelRequest asks a warehouse to cancel what it has not shipped of a
// fulfilment order. The zero value names no fulfilment order and is not a
// valid request. A CancelRequest is a plain value, safe for concurrent
// reads.
type CancelRequest struct {
	FulfillmentOrderID string `json:"fulfillmentOrderId"`
	// Lines limits the cancellation to these fulfilment lines and at most
	// these quantities; nil cancels every open quantity.
	Lines []LineQuantity `json:"lines,omitempty"`
	// Reason is a short text for people.
	Reason string `json:"reason,omitempty"`
}

// CancelResult is what a warehouse actually cancelled: never more than was
// open (released and not shipped). The zero value is "nothing cancelled". A
// CancelResult is a plain value, safe for concurrent reads.
type CancelResult struct {
	FulfillmentOrderID string         `json:"fulfillmentOrderId"`
	Cancelled          []LineQuantity `json:"cancelled"`
}

// ReleaseCanceller cancels released quantities.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type ReleaseCanceller interface {
	// CancelRelease cancels the open (unshipped) quantities asked for and
	// returns what was cancelled, which may be less than asked when goods
	// already shipped. It is idempotent by key. CodeNotFound for an unknown
	// fulfilment order.
	CancelRelease(ctx context.Context, key string, req CancelRequest) (CancelResult, error)
}

// ReleaseLineChange changes the quantity of one released fulfilment line
// by Delta, in the line's unit: positive for more, negative for less. The
// zero value names no line and is not valid. A ReleaseLineChange is a
// plain value, safe for concurrent reads.
type ReleaseLineChange struct {
	// LineID is the fulfilment line's ID.
	LineID string             `json:"lineId"`
	Delta  canonical.Quantity `json:"delta"`
}

// ReleaseChange asks a warehouse to change a released fulfilment order:
// line quantities and, when not nil, the ship-to party, ship-complete and
// the requested ship date. Lines new to the order are released in a
// fulfilment order of their own ([Releaser]). The zero value names no
// fulfilment order and is not a valid request. A ReleaseChange is a plain
// value, safe for concurrent reads.
type ReleaseChange struct {
	FulfillmentOrderID string              `json:"fulfillmentOrderId"`
	Lines              []ReleaseLineChange `json:"lines,omitempty"`
	ShipTo             *canonical.PartyRef `json:"shipTo,omitempty"`
	ShipComplete       *bool               `json:"shipComplete,omitempty"`
	RequestedShipDate  *time.Time          `json:"requestedShipDate,omitempty"`
	// Reason is a short text for people.
	Reason string `json:"reason,omitempty"`
}

// ReleaseChangeResult is what a warehouse did with a [ReleaseChange]: per
// line and field, applied, partially applied or refused with the reason
// (picked, packed, shipped, closed); a quantity result's LineID is the
// fulfilment line's. The zero value is "nothing changed". A
// ReleaseChangeResult is a plain value, safe for concurrent reads.
type ReleaseChangeResult struct {
	FulfillmentOrderID string `json:"fulfillmentOrderId"`
	// Version is the fulfilment order's version after the change.
	Version int64                    `json:"version"`
	Results []canonical.ChangeResult `json:"results"`
}

// ReleaseChanger is an optional capability of a WMS, found with [As]: it
// changes a released fulfilment order as far as the warehouse's work
// allows.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type ReleaseChanger interface {
	// ChangeRelease applies what it can of req and returns, per line and
	// field, what it applied and what it refused. A warehouse changes
	// what is neither picked nor shipped: a decrease takes away
	// unallocated, then allocated quantity and is refused
	// ([canonical.ChangeReasonPicked], [canonical.ChangeReasonPacked] or
	// [canonical.ChangeReasonShipped]) for the rest; an increase, a new
	// ship-to, ship-complete or requested date is refused once picking has
	// started. The race between a change and a shipment is decided by the
	// warehouse: what it reports is the truth. What changed appears on
	// the feed ([EventFeed]) as quantity events: a decrease as a
	// fulfilment cancellation, an increase in the next allocation update.
	//
	// It is idempotent by key: the same key returns the first result and
	// changes nothing; the same key with another request is CodeConflict.
	// CodeNotFound for an unknown fulfilment order; CodeInvalid (naming
	// the field) for an unknown line, a zero delta or one not in the
	// line's unit, or a repeated line.
	ChangeRelease(ctx context.Context, key string, req ReleaseChange) (ReleaseChangeResult, error)
}

// InventoryQuery selects inventory positions. Empty fields select all. The
// zero value selects all positions. An InventoryQuery is a plain value, safe
// for concurrent reads.
type InventoryQuery struct {
	SKUs      []string `json:"skus,omitempty"`
	Locations []string `json:"locations,omitempty"`
}

// InventoryReader reads stock.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type InventoryReader interface {
	// Inventory returns the current positions (snapshots) matching q,
	// sorted by SKU, then location, lot and status.
	Inventory(ctx context.Context, q InventoryQuery) ([]canonical.InventoryPosition, error)
}

// ReturnAuthorizer tells a warehouse to expect a return.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type ReturnAuthorizer interface {
	// AuthorizeReturn registers the RMA with the warehouse and returns it
	// with the WMS's refs. It is idempotent by the return's ID.
	AuthorizeReturn(ctx context.Context, ret canonical.Return) (canonical.Return, error)
}

// EventFeed is the feed of what happens in the warehouses: allocation
// updates, backorders, picks, shipments, inventory adjustments and
// snapshots, returns received. An ERP may implement it too, as an optional
// capability, for the events that start in the ERP (such as
// [canonical.EventOrderCancelRequested]).
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type EventFeed interface {
	// PollEvents returns the events after cursor, at most limit of them
	// (DefaultPageSize when limit ≤ 0). It never skips an event; it may
	// repeat events, which consumers deduplicate by their key.
	PollEvents(ctx context.Context, cursor Cursor, limit int) (Page, error)
}

// WMS is what the flows need of a warehouse management system. The flows
// call a WMS from several workers at once: implementations must be safe for
// concurrent use.
// The zero value, nil, is no implementation.
type WMS interface {
	Releaser
	ReleaseCanceller
	InventoryReader
	ReturnAuthorizer
	EventFeed
}

// ---- CRM roles ----------------------------------------------------------

// OrderFeed is the CRM's feed of orders converted from opportunities.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type OrderFeed interface {
	// PollOrders returns order events (type [canonical.EventOrderSubmitted]
	// with an Order as data, and [canonical.EventOrderCancelRequested] with
	// a CancelRequest as data when a user asks to cancel an order's open
	// remainder) after cursor, at most limit of them, with the guarantees
	// of [EventFeed.PollEvents]. A CRM where returns are authorized also
	// puts [canonical.EventReturnAuthorized] events (a Return as data,
	// partition key its order ID) on this feed; consumers skip types they
	// do not handle.
	PollOrders(ctx context.Context, cursor Cursor, limit int) (Page, error)
}

// LineStatus is the customer-visible state of one order line. The zero value
// is an empty status. A LineStatus is a plain value, safe for concurrent
// reads.
type LineStatus struct {
	LineID      string             `json:"lineId"`
	Ordered     canonical.Quantity `json:"ordered"`
	Shipped     canonical.Quantity `json:"shipped"`
	Backordered canonical.Quantity `json:"backordered"`
	Cancelled   canonical.Quantity `json:"cancelled"`
	Returned    canonical.Quantity `json:"returned"`
}

// OrderStatus is what a CRM shows of an order: its status on the three axes,
// quantities per line, tracking numbers and promised dates. The zero value
// is an empty status. An OrderStatus is a plain value, safe for concurrent
// reads.
type OrderStatus struct {
	OrderID string `json:"orderId"`
	// Sequence orders the status updates of one order: the CRM keeps the
	// one with the highest sequence and ignores older or repeated ones.
	Sequence int64            `json:"sequence"`
	Status   canonical.Status `json:"status"`
	Lines    []LineStatus     `json:"lines,omitempty"`
	// Holds are the active holds, for a status on hold.
	Holds           []canonical.Hold `json:"holds,omitempty"`
	TrackingNumbers []string         `json:"trackingNumbers,omitempty"`
	PromisedDate    time.Time        `json:"promisedDate,omitzero"`
	// Messages explain a rejection or hold to the sales rep.
	Messages  []string  `json:"messages,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Returns are the order's authorized returns (RMAs), in the order
	// they were authorized, with what came back and the credit memos.
	Returns []ReturnStatus `json:"returns,omitempty"`
	// Changes are the results of the latest change of the order after the
	// ERP's decision, per order line and field: what was applied and what
	// was refused, with the reason.
	Changes []canonical.ChangeResult `json:"changes,omitempty"`
	// Extensions are the order's extension attributes, for a CRM that
	// shows or writes some of them back (a connector maps them by its
	// configuration); nil when the order has none.
	Extensions canonical.Extensions `json:"extensions,omitempty"`
}

// ReturnStatus is what a CRM shows of one return (RMA) of an order. It is a
// plain value, safe for concurrent reads. The zero value is an empty status.
type ReturnStatus struct {
	ReturnID  string `json:"returnId"`
	RMANumber string `json:"rmaNumber"`
	// Lines are the return's lines: authorized, and received so far.
	Lines []ReturnLineStatus `json:"lines"`
	// Credits are the credit memos the ERP posted for what was received,
	// one per receipt.
	Credits []Credit `json:"credits,omitempty"`
}

// ReturnLineStatus is the customer-visible state of one return line. It is a
// plain value, safe for concurrent reads. The zero value is an empty status.
type ReturnLineStatus struct {
	LineID      string             `json:"lineId"`
	OrderLineID string             `json:"orderLineId"`
	Authorized  canonical.Quantity `json:"authorized"`
	Received    canonical.Quantity `json:"received"`
}

// Credit is a credit memo as a CRM shows it: its number and total. It is a
// plain value, safe for concurrent reads. The zero value is an empty credit.
type Credit struct {
	Number string          `json:"number"`
	Total  canonical.Money `json:"total"`
}

// StatusPublisher shows order status in the CRM.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type StatusPublisher interface {
	// PublishStatus shows s in the CRM. It is idempotent by (OrderID,
	// Sequence): an update with a sequence at or below the one shown is
	// ignored without error. CodeNotFound for an order the CRM does not
	// know.
	PublishStatus(ctx context.Context, s OrderStatus) error
}

// Availability is the available quantity of one item at one location, as a
// CRM shows it to sales. The zero value is a zero quantity of no item. An
// Availability is a plain value, safe for concurrent reads.
type Availability struct {
	SKU       string             `json:"sku"`
	Location  string             `json:"location"`
	Available canonical.Quantity `json:"available"`
	AsOf      time.Time          `json:"asOf"`
	// Sequence orders updates for the same SKU and location; older or
	// repeated ones are ignored.
	Sequence int64 `json:"sequence"`
}

// AvailabilityPublisher shows availability in the CRM.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type AvailabilityPublisher interface {
	// PublishAvailability shows the given availabilities. It is idempotent
	// by (SKU, Location, Sequence).
	PublishAvailability(ctx context.Context, items []Availability) error
}

// CRM is what the flows need of a CRM. The flows call a CRM from several
// workers at once: implementations must be safe for concurrent use.
// The zero value, nil, is no implementation.
type CRM interface {
	OrderFeed
	StatusPublisher
	AvailabilityPublisher
}

// ---- Optional capabilities ---------------------------------------------

// Subscriber is implemented by feeds that can push events instead of being
// polled. Subscribe calls fn for each event after cursor, in feed order,
// until ctx is done or fn returns an error, which Subscribe returns. An
// event is delivered again after a restart unless its cursor was stored.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use; Subscribe calls fn from one goroutine at a time, so fn
// need not be.
type Subscriber interface {
	Subscribe(ctx context.Context, cursor Cursor, fn func(ctx context.Context, e canonical.Event, next Cursor) error) error
}

// StatusBatchPublisher is implemented by CRMs that take many status
// updates in one call, with the contract of [StatusPublisher.PublishStatus]
// for each. The returned slice has one error (or nil) per update.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: the flows call them from several workers at once.
type StatusBatchPublisher interface {
	PublishStatuses(ctx context.Context, updates []OrderStatus) ([]error, error)
}

// HealthChecker is implemented by connectors that can tell whether their
// remote is reachable. Health returns nil when it is, else an *Error with
// CodeUnavailable or CodeUnauthorized.
// The zero value, nil, is no implementation. Implementations must be safe
// for concurrent use: Health may be called while the connector serves other
// calls.
type HealthChecker interface {
	Health(ctx context.Context) error
}
