// Package wire holds the JSON shapes of ShipBob's REST API that the
// connector (package shipbob) and its emulator (package shipbobemu) share,
// so that one definition says what travels on the wire.
package wire

import "time"

// Header names ShipBob uses.
const (
	// HeaderChannel carries the channel ID; required on order creation.
	HeaderChannel = "shipbob_channel_id"
	// HeaderRetryAfter is the seconds to wait after a 429.
	HeaderRetryAfter = "x-retry-after"
	// HeaderRemaining is the calls left in the rate-limit window.
	HeaderRemaining = "x-remaining-calls"
	// HeaderTopic names a webhook's topic.
	HeaderTopic = "x-webhook-topic"
)

// Shipment statuses.
const (
	StatusProcessing = "Processing"
	StatusCompleted  = "Completed"
	StatusException  = "Exception"
	StatusOnHold     = "OnHold"
	StatusCancelled  = "Cancelled"
)

// Webhook topics the emulator sends and the connector maps.
const (
	TopicOrderShipped     = "order.shipped"
	TopicShipmentExcept   = "order.shipment.exception"
	TopicShipmentOnHold   = "order.shipment.on_hold"
	TopicShipmentCancel   = "order.shipment.cancelled"
	TopicShipmentRestored = "order.shipment.status.processing"
	TopicReturnCreated    = "return.created"
	TopicReturnCompleted  = "return.completed"
)

// TagFulfillmentOrder is the order tag that carries the canonical
// fulfilment order the connector released, as JSON.
const TagFulfillmentOrder = "distsync_fulfillment_order"

// TagReturn is the return tag that carries the canonical return the
// connector authorized, as JSON.
const TagReturn = "distsync_return"

// Address is a recipient's address.
type Address struct {
	Address1    string `json:"address1"`
	Address2    string `json:"address2,omitempty"`
	CompanyName string `json:"company_name,omitempty"`
	City        string `json:"city"`
	State       string `json:"state,omitempty"`
	Country     string `json:"country"`
	ZipCode     string `json:"zip_code,omitempty"`
}

// Recipient is who receives an order.
type Recipient struct {
	Name        string  `json:"name"`
	Address     Address `json:"address"`
	Email       string  `json:"email,omitempty"`
	PhoneNumber string  `json:"phone_number,omitempty"`
}

// Tag is a name/value pair on an order or return.
type Tag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Product is a line of an order: a product by reference ID (SKU).
type Product struct {
	ID            int64  `json:"id,omitempty"`
	ReferenceID   string `json:"reference_id"`
	Name          string `json:"name,omitempty"`
	Quantity      int64  `json:"quantity"`
	UnitOfMeasure string `json:"quantity_unit_of_measure_code,omitempty"`
}

// CreateOrder is the body of POST /{version}/order.
type CreateOrder struct {
	ReferenceID    string    `json:"reference_id"`
	OrderNumber    string    `json:"order_number,omitempty"`
	ShippingMethod string    `json:"shipping_method"`
	Recipient      Recipient `json:"recipient"`
	Products       []Product `json:"products"`
	Type           string    `json:"type"`
	LocationID     int64     `json:"location_id,omitempty"`
	Tags           []Tag     `json:"tags,omitempty"`
}

// Channel names the channel an order came from.
type Channel struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Location is a fulfilment center.
type Location struct {
	ID           int64  `json:"id"`
	Name         string `json:"name,omitempty"`
	Abbreviation string `json:"abbreviation,omitempty"`
}

// StatusDetail explains a shipment status.
type StatusDetail struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Tracking is a shipment's carrier and tracking number.
type Tracking struct {
	Carrier        string    `json:"carrier"`
	CarrierService string    `json:"carrier_service,omitempty"`
	TrackingNumber string    `json:"tracking_number"`
	TrackingURL    string    `json:"tracking_url,omitempty"`
	ShippingDate   time.Time `json:"shipping_date,omitzero"`
}

// ShipmentProduct is what one shipment holds of one product.
type ShipmentProduct struct {
	ID            int64  `json:"id"`
	ReferenceID   string `json:"reference_id"`
	SKU           string `json:"sku"`
	Quantity      int64  `json:"quantity"`
	UnitOfMeasure string `json:"quantity_unit_of_measure_code,omitempty"`
}

// Shipment is one shipment of an order.
type Shipment struct {
	ID                    int64             `json:"id"`
	OrderID               int64             `json:"order_id"`
	ReferenceID           string            `json:"reference_id"`
	Status                string            `json:"status"`
	StatusDetails         []StatusDetail    `json:"status_details,omitempty"`
	CreatedDate           time.Time         `json:"created_date"`
	LastUpdateAt          time.Time         `json:"last_update_at"`
	ActualFulfillmentDate time.Time         `json:"actual_fulfillment_date,omitzero"`
	Location              Location          `json:"location"`
	Tracking              *Tracking         `json:"tracking,omitempty"`
	Products              []ShipmentProduct `json:"products"`
}

// Order is an order as ShipBob answers it.
type Order struct {
	ID             int64      `json:"id"`
	CreatedDate    time.Time  `json:"created_date"`
	LastUpdateAt   time.Time  `json:"last_update_at"`
	ReferenceID    string     `json:"reference_id"`
	OrderNumber    string     `json:"order_number"`
	Status         string     `json:"status"`
	Type           string     `json:"type"`
	Channel        Channel    `json:"channel"`
	ShippingMethod string     `json:"shipping_method"`
	Recipient      Recipient  `json:"recipient"`
	Products       []Product  `json:"products"`
	Tags           []Tag      `json:"tags"`
	Shipments      []Shipment `json:"shipments"`
}

// CanceledShipment is the outcome of cancelling one shipment.
type CanceledShipment struct {
	Action     string `json:"action"`
	ShipmentID int64  `json:"shipment_id"`
	IsSuccess  bool   `json:"is_success"`
	Reason     string `json:"reason,omitempty"`
}

// CancelOrder is the answer of POST /{version}/order/{id}/cancel.
type CancelOrder struct {
	OrderID                 int64              `json:"order_id"`
	ReferenceID             string             `json:"reference_id"`
	Order                   Order              `json:"order"`
	CanceledShipmentResults []CanceledShipment `json:"canceled_shipment_results"`
}

// FCQuantity is the stock of an item at one fulfilment center.
type FCQuantity struct {
	ID                  int64  `json:"id"`
	Name                string `json:"name"`
	FulfillableQuantity int64  `json:"fulfillable_quantity"`
	OnhandQuantity      int64  `json:"onhand_quantity"`
	CommittedQuantity   int64  `json:"committed_quantity"`
	AwaitingQuantity    int64  `json:"awaiting_quantity"`
}

// InventoryItem is the stock of one item, network-wide and per center.
type InventoryItem struct {
	ID                  int64        `json:"id"`
	Name                string       `json:"name"`
	SKU                 string       `json:"sku"`
	IsActive            bool         `json:"is_active"`
	TotalFulfillable    int64        `json:"total_fulfillable_quantity"`
	TotalOnHand         int64        `json:"total_onhand_quantity"`
	TotalCommitted      int64        `json:"total_committed_quantity"`
	TotalSellable       int64        `json:"total_sellable_quantity"`
	TotalAwaiting       int64        `json:"total_awaiting_quantity"`
	ByFulfillmentCenter []FCQuantity `json:"fulfillable_quantity_by_fulfillment_center"`
}

// ReturnInventory is one line of a return.
type ReturnInventory struct {
	SKU             string `json:"sku"`
	Quantity        int64  `json:"quantity"`
	RequestedAction string `json:"requested_action"`
	ReceivedQty     int64  `json:"received_quantity,omitempty"`
	// ActionTaken is what the warehouse did with the received goods:
	// Restock, Quarantine, Refurbish, Dispose or ReturnToVendor.
	ActionTaken string `json:"action_taken,omitempty"`
	// Condition is the goods' condition as received: new, opened, damaged
	// or defective (an assumed field; see the emulator's package doc).
	Condition string `json:"condition,omitempty"`
}

// CreateReturn is the body of POST /{version}/return.
type CreateReturn struct {
	ReferenceID        string            `json:"reference_id"`
	FulfillmentCenter  Location          `json:"fulfillment_center"`
	OriginalShipmentID int64             `json:"original_shipment_id,omitempty"`
	Inventory          []ReturnInventory `json:"inventory"`
	Tags               []Tag             `json:"tags,omitempty"`
}

// Return is a return as ShipBob answers it.
type Return struct {
	ID                int64             `json:"id"`
	ReferenceID       string            `json:"reference_id"`
	Status            string            `json:"status"`
	InsertDate        time.Time         `json:"insert_date"`
	CompletedDate     time.Time         `json:"completed_date,omitzero"`
	LastUpdateAt      time.Time         `json:"last_update_at"`
	FulfillmentCenter Location          `json:"fulfillment_center"`
	Inventory         []ReturnInventory `json:"inventory"`
	Tags              []Tag             `json:"tags,omitempty"`
}

// Subscription is a webhook subscription: the body of POST
// /{version}/webhook (without ID and CreatedAt) and its answer.
type Subscription struct {
	ID          int64     `json:"id,omitempty"`
	Topics      []string  `json:"topics"`
	URL         string    `json:"url"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
}

// Message is ShipBob's short error body, as on a 429.
type Message struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

// Problem is ShipBob's validation error body (RFC 9457 style), with the
// offending fields under errors.
type Problem struct {
	Type   string              `json:"type,omitempty"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Errors map[string][]string `json:"errors,omitempty"`
}

// TagValue returns the value of the first tag named name.
func TagValue(tags []Tag, name string) (string, bool) {
	for _, t := range tags {
		if t.Name == name {
			return t.Value, true
		}
	}
	return "", false
}
