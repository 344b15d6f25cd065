package canonical

// Document is implemented by every canonical document that can travel as
// the data of an [Event]. DocumentKind returns one of the Kind constants; it
// lets [DecodeData] check that an event's type carries the requested
// document.
// The zero value, nil, is no document. Implementations must be safe for
// concurrent use: events are decoded and validated on several goroutines at
// once.
type Document interface {
	DocumentKind() string
	Validate() error
}

// Document kinds, as returned by [Document.DocumentKind].
const (
	KindOrder               = "order"
	KindOrderAck            = "order_ack"
	KindFulfillmentOrder    = "fulfillment_order"
	KindAllocationUpdate    = "allocation_update"
	KindShipment            = "shipment"
	KindInvoice             = "invoice"
	KindInventoryPosition   = "inventory_position"
	KindInventoryAdjustment = "inventory_adjustment"
	KindReturn              = "return"
	KindCustomer            = "customer"
	KindItem                = "item"
	KindCancelRequest       = "cancel_request"
	KindOrderAmendment      = "order_amendment"
)
