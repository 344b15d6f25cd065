package canonical

// EventType names a business event, such as "distsync.order.accepted.v1".
// It is the CloudEvents type attribute of an [Event].
//
// The names are versioned: a change to the meaning of an event, or an
// incompatible change to the document its data carries, gets a new name
// ("...v2") and both are emitted while consumers move over. The type
// constants below are the events distsync's flows emit; [EventKind] tells
// which document kind each carries. Other types may appear on the wire
// (an Event is a general CloudEvents envelope), but [NewEvent] and
// [DecodeData] accept only the known ones.
//
// An EventType is a string; it is safe for concurrent use. The zero value
// is not a known type.
type EventType string

// Order events. Their data is the [KindOrder] document as the system of
// record holds it after the change, except [EventOrderValidated], whose data
// is the ERP's [KindOrderAck] validation result. The ERP's reasons for a
// rejection or a hold travel in that acknowledgement; the rejected or held
// event carries the order itself, with its holds, so that consumers see one
// order shape for every commercial state.
const (
	// EventOrderSubmitted is emitted when the CRM submits an order for
	// validation.
	EventOrderSubmitted EventType = "distsync.order.submitted.v1"
	// EventOrderValidated is emitted when the ERP has answered a validation
	// request; its data is the [KindOrderAck].
	EventOrderValidated EventType = "distsync.order.validated.v1"
	// EventOrderAccepted is emitted when the ERP has accepted the order and
	// become its system of record.
	EventOrderAccepted EventType = "distsync.order.accepted.v1"
	// EventOrderRejected is emitted when the ERP has rejected the order.
	EventOrderRejected EventType = "distsync.order.rejected.v1"
	// EventOrderHeld is emitted when the ERP has put the order on hold
	// (credit, pricing, tax, approval or delivery block).
	EventOrderHeld EventType = "distsync.order.held.v1"
	// EventOrderCancelled is emitted when the order, or what was open of it,
	// has been cancelled.
	EventOrderCancelled EventType = "distsync.order.cancelled.v1"
	// EventOrderCancelRequested is emitted when the CRM or the ERP asks to
	// cancel the open remainder of an order; its data is a
	// [KindCancelRequest]. What was actually cancelled shows in the order's
	// cancelled bucket.
	EventOrderCancelRequested EventType = "distsync.order.cancel_requested.v1"
	// EventOrderAmended is emitted when the ERP changes on its own an
	// order it has accepted (a price correction, a line rejected later, a
	// reduced confirmed quantity, a new promised date); its data is a
	// [KindOrderAmendment].
	EventOrderAmended EventType = "distsync.order.amended.v1"
)

// Fulfilment events, one stream per fulfilment order (one per warehouse).
const (
	// EventFulfillmentReleased is emitted when a [KindFulfillmentOrder] has
	// been released to a warehouse.
	EventFulfillmentReleased EventType = "distsync.fulfillment.released.v1"
	// EventFulfillmentAllocated is emitted when the WMS has allocated stock;
	// its data is a [KindAllocationUpdate].
	EventFulfillmentAllocated EventType = "distsync.fulfillment.allocated.v1"
	// EventFulfillmentBackordered is emitted when the WMS could not allocate
	// some quantity; its data is a [KindAllocationUpdate].
	EventFulfillmentBackordered EventType = "distsync.fulfillment.backordered.v1"
	// EventFulfillmentPicked is emitted when the WMS has picked stock; its
	// data is a [KindAllocationUpdate] with the picked quantities.
	EventFulfillmentPicked EventType = "distsync.fulfillment.picked.v1"
	// EventFulfillmentShipped is emitted when the WMS reports a (possibly
	// partial) shipment of a fulfilment order; its data is a [KindShipment].
	EventFulfillmentShipped EventType = "distsync.fulfillment.shipped.v1"
	// EventFulfillmentCancelled is emitted when a [KindFulfillmentOrder], or
	// what was open of it, has been cancelled at the warehouse.
	EventFulfillmentCancelled EventType = "distsync.fulfillment.cancelled.v1"
)

// Shipment, billing, inventory and return events.
const (
	// EventShipmentConfirmed is emitted when a [KindShipment] has been posted
	// in the ERP (goods issue); it is the trigger for invoicing.
	EventShipmentConfirmed EventType = "distsync.shipment.confirmed.v1"
	// EventInvoicePosted is emitted when the ERP has posted a [KindInvoice].
	EventInvoicePosted EventType = "distsync.invoice.posted.v1"
	// EventInventoryAdjusted is emitted for a signed stock movement; its data
	// is a [KindInventoryAdjustment].
	EventInventoryAdjusted EventType = "distsync.inventory.adjusted.v1"
	// EventInventorySnapshot is emitted for an absolute stock position as of
	// a time; its data is a [KindInventoryPosition].
	EventInventorySnapshot EventType = "distsync.inventory.snapshot.v1"
	// EventReturnAuthorized is emitted when a [KindReturn] (RMA) has been
	// authorized.
	EventReturnAuthorized EventType = "distsync.return.authorized.v1"
	// EventReturnReceived is emitted when the warehouse has received
	// returned goods; its data is the [KindReturn] with received quantities.
	EventReturnReceived EventType = "distsync.return.received.v1"
	// EventReturnCredited is emitted when the ERP has posted the credit memo
	// for a return; its data is that credit memo, a [KindInvoice].
	EventReturnCredited EventType = "distsync.return.credited.v1"
)

// EventTypes returns every known event type, in the order they are declared.
// The slice is new on every call; the caller may modify it.
func EventTypes() []EventType {
	return []EventType{
		EventOrderSubmitted,
		EventOrderValidated,
		EventOrderAccepted,
		EventOrderRejected,
		EventOrderHeld,
		EventOrderCancelled,
		EventOrderCancelRequested,
		EventOrderAmended,
		EventFulfillmentReleased,
		EventFulfillmentAllocated,
		EventFulfillmentBackordered,
		EventFulfillmentPicked,
		EventFulfillmentShipped,
		EventFulfillmentCancelled,
		EventShipmentConfirmed,
		EventInvoicePosted,
		EventInventoryAdjusted,
		EventInventorySnapshot,
		EventReturnAuthorized,
		EventReturnReceived,
		EventReturnCredited,
	}
}

// EventKind returns the document kind (one of the Kind constants) that the
// data of an event of type t carries, and whether t is a known type. The
// mapping is:
//
//	order.submitted, accepted, rejected, held, cancelled  order
//	order.validated                                       order_ack
//	order.cancel_requested                                cancel_request
//	order.amended                                         order_amendment
//	fulfillment.released, cancelled                       fulfillment_order
//	fulfillment.allocated, backordered, picked            allocation_update
//	fulfillment.shipped, shipment.confirmed               shipment
//	invoice.posted                                        invoice
//	inventory.adjusted                                    inventory_adjustment
//	inventory.snapshot                                    inventory_position
//	return.authorized, received                           return
//	return.credited                                       invoice (credit memo)
func EventKind(t EventType) (kind string, ok bool) {
	switch t {
	case EventOrderSubmitted, EventOrderAccepted, EventOrderRejected,
		EventOrderHeld, EventOrderCancelled:
		return KindOrder, true
	case EventOrderValidated:
		return KindOrderAck, true
	case EventOrderCancelRequested:
		return KindCancelRequest, true
	case EventOrderAmended:
		return KindOrderAmendment, true
	case EventFulfillmentReleased, EventFulfillmentCancelled:
		return KindFulfillmentOrder, true
	case EventFulfillmentAllocated, EventFulfillmentBackordered, EventFulfillmentPicked:
		return KindAllocationUpdate, true
	case EventFulfillmentShipped, EventShipmentConfirmed:
		return KindShipment, true
	case EventInvoicePosted, EventReturnCredited:
		return KindInvoice, true
	case EventInventoryAdjusted:
		return KindInventoryAdjustment, true
	case EventInventorySnapshot:
		return KindInventoryPosition, true
	case EventReturnAuthorized, EventReturnReceived:
		return KindReturn, true
	}
	return "", false
}

// Known reports whether t is one of the event types declared in this
// package.
func (t EventType) Known() bool {
	_, ok := EventKind(t)
	return ok
}
