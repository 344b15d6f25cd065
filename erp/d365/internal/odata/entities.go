package odata

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/distsync/distsync/erp/internal/extcode"
)

// The entity shapes below follow the F&O data entities' public property
// names. Properties named DSync... are extension fields (a table and
// entity extension of the distsync integration) that carry what the
// standard entities have no field for; see package d365's documentation.

// nullDate is how F&O writes an empty date: 1900-01-01.
var nullDate = time.Date(1900, 1, 1, 12, 0, 0, 0, time.UTC)

// Date is an Edm.DateTimeOffset in OData v4 JSON form (RFC 3339). F&O
// writes an empty date as 1900-01-01T12:00:00Z, which decodes as the zero
// time; the zero value encodes as that date.
type Date struct{ time.Time }

// MarshalJSON encodes d in RFC 3339, the empty date for the zero time.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return json.Marshal(nullDate)
	}
	return json.Marshal(d.UTC())
}

// UnmarshalJSON decodes an RFC 3339 string; null and any date before 1901
// (F&O's empty date) are the zero time.
func (d *Date) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		d.Time = time.Time{}
		return nil
	}
	var t time.Time
	if err := json.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("%w: date %s is not RFC 3339: %v", ErrFormat, data, err)
	}
	if t.Year() <= 1900 {
		t = time.Time{}
	}
	d.Time = t
	return nil
}

// The values of SalesStatus (SalesOrderStatus, SalesOrderLineStatus).
const (
	StatusBackorder = "Backorder" // open order
	StatusDelivered = "Delivered"
	StatusInvoiced  = "Invoiced"
	StatusCanceled  = "Canceled"
)

// The values of WHSReleaseStatus (ReleaseStatus).
const (
	ReleaseNone      = "None"
	ReleasePartially = "PartiallyReleased"
	ReleaseReleased  = "Released"
)

// SalesOrderHeader is SalesOrderHeadersV2 (SalesOrderHeaderV2Entity).
type SalesOrderHeader struct {
	ETag                          string           `json:"@odata.etag,omitempty"`
	DataAreaID                    string           `json:"dataAreaId"`
	SalesOrderNumber              string           `json:"SalesOrderNumber,omitempty"`
	SalesOrderStatus              string           `json:"SalesOrderStatus,omitempty"`
	ReleaseStatus                 string           `json:"ReleaseStatus,omitempty"`
	OrderingCustomerAccountNumber string           `json:"OrderingCustomerAccountNumber"`
	InvoiceCustomerAccountNumber  string           `json:"InvoiceCustomerAccountNumber"`
	CurrencyCode                  string           `json:"CurrencyCode"`
	CustomersOrderReference       string           `json:"CustomersOrderReference"`
	CustomerRequisitionNumber     string           `json:"CustomerRequisitionNumber"`
	PaymentTermsName              string           `json:"PaymentTermsName,omitempty"`
	RequestedReceiptDate          Date             `json:"RequestedReceiptDate"`
	DeliveryAddressLocationID     string           `json:"DeliveryAddressLocationId,omitempty"`
	ShipComplete                  NoYes            `json:"DSyncShipComplete"`
	OrderVersion                  int64            `json:"DSyncOrderVersion"`
	RequestHash                   string           `json:"DSyncRequestHash,omitempty"`
	AcceptedAt                    Date             `json:"DSyncAcceptedDateTime"`
	CreditHold                    NoYes            `json:"DSyncCreditHold"`
	HoldCode                      string           `json:"DSyncHoldCode,omitempty"`
	NetAmount                     *Decimal         `json:"DSyncNetAmount,omitempty"`
	TaxAmount                     *Decimal         `json:"DSyncTaxAmount,omitempty"`
	ChargeAmount                  *Decimal         `json:"DSyncChargeAmount,omitempty"`
	Lines                         []SalesOrderLine `json:"SalesOrderLines,omitempty"`
	// Custom are the custom fields of the header (see IsCustom) that no
	// field above holds, by name.
	Custom map[string]json.RawMessage `json:"-"`
}

// SalesOrderLine is SalesOrderLines (SalesOrderLineV2Entity), keyed by
// dataAreaId and InventoryLotId.
type SalesOrderLine struct {
	ETag                       string   `json:"@odata.etag,omitempty"`
	DataAreaID                 string   `json:"dataAreaId"`
	SalesOrderNumber           string   `json:"SalesOrderNumber,omitempty"`
	InventoryLotID             string   `json:"InventoryLotId,omitempty"`
	LineCreationSequenceNumber int      `json:"LineCreationSequenceNumber"`
	ItemNumber                 string   `json:"ItemNumber"`
	OrderedSalesQuantity       Decimal  `json:"OrderedSalesQuantity"`
	SalesUnitSymbol            string   `json:"SalesUnitSymbol"`
	SalesPrice                 Decimal  `json:"SalesPrice"`
	LineAmount                 *Decimal `json:"LineAmount,omitempty"`
	ShippingWarehouseID        string   `json:"ShippingWarehouseId,omitempty"`
	SalesOrderLineStatus       string   `json:"SalesOrderLineStatus,omitempty"`
	ConfirmedShippingDate      Date     `json:"ConfirmedShippingDate"`
	LineID                     string   `json:"DSyncLineId"`
	ExpectedPrice              *Decimal `json:"DSyncExpectedPrice,omitempty"`
	Rejected                   NoYes    `json:"DSyncRejected"`
	ConfirmedQuantity          *Decimal `json:"DSyncConfirmedQuantity,omitempty"`
	ShippedQuantity            *Decimal `json:"DSyncShippedQuantity,omitempty"`
	CancelledQuantity          *Decimal `json:"DSyncCancelledQuantity,omitempty"`
	InvoicedQuantity           *Decimal `json:"DSyncInvoicedQuantity,omitempty"`
	ReturnedQuantity           *Decimal `json:"DSyncReturnedQuantity,omitempty"`
	// Custom are the custom fields of the line (see IsCustom) that no
	// field above holds, by name.
	Custom map[string]json.RawMessage `json:"-"`
}

// Cancellation is the body of a PATCH of a sales order header that
// cancels open quantities (extension fields; see package d365).
type Cancellation struct {
	Key     string `json:"DSyncCancellationKey"`
	Request string `json:"DSyncCancellationRequest"` // "LOT1:1,LOT2:2.5": InventoryLotId and quantity
	Reason  string `json:"DSyncCancellationReason,omitempty"`
}

// PackingSlipHeader is SalesPackingSlipHeaders: a packing slip to post for
// a sales order (an assumed writable posting entity; see package d365).
type PackingSlipHeader struct {
	DataAreaID         string            `json:"dataAreaId"`
	PackingSlipID      string            `json:"PackingSlipId,omitempty"`
	SalesOrderNumber   string            `json:"SalesOrderNumber"`
	DeliveryDate       Date              `json:"DeliveryDate"`
	IdempotencyKey     string            `json:"DSyncIdempotencyKey"`
	ShipmentID         string            `json:"DSyncShipmentId"`
	FulfillmentOrderID string            `json:"DSyncFulfillmentOrderId"`
	CarrierCode        string            `json:"ShippingCarrierId,omitempty"`
	TrackingNumbers    string            `json:"DSyncTrackingNumbers,omitempty"`
	Final              NoYes             `json:"DSyncFinalForFulfillment"`
	InvoiceNumber      string            `json:"DSyncInvoiceNumber,omitempty"`
	Lines              []PackingSlipLine `json:"SalesPackingSlipLines,omitempty"`
}

// PackingSlipLine is SalesPackingSlipLines.
type PackingSlipLine struct {
	DataAreaID          string  `json:"dataAreaId"`
	InventoryLotID      string  `json:"InventoryLotId"`
	ItemNumber          string  `json:"ItemNumber"`
	DeliveredQuantity   Decimal `json:"DeliveredQuantity"`
	SalesUnitSymbol     string  `json:"SalesUnitSymbol"`
	ShippingWarehouseID string  `json:"ShippingWarehouseId"`
	ShipmentLineID      string  `json:"DSyncShipmentLineId"`
	FulfillmentLineID   string  `json:"DSyncFulfillmentLineId"`
}

// InvoiceHeader is SalesInvoiceHeadersV2 (a posted customer invoice or,
// with negative amounts, a credit note).
type InvoiceHeader struct {
	DataAreaID                   string        `json:"dataAreaId"`
	InvoiceNumber                string        `json:"InvoiceNumber"`
	InvoiceDate                  Date          `json:"InvoiceDate"`
	SalesOrderNumber             string        `json:"SalesOrderNumber"`
	InvoiceCustomerAccountNumber string        `json:"InvoiceCustomerAccountNumber"`
	CurrencyCode                 string        `json:"CurrencyCode"`
	PaymentTermsName             string        `json:"PaymentTermsName,omitempty"`
	TotalInvoiceAmount           Decimal       `json:"TotalInvoiceAmount"`
	TotalTaxAmount               Decimal       `json:"TotalTaxAmount"`
	TotalChargeAmount            Decimal       `json:"TotalChargeAmount"`
	DueDate                      Date          `json:"DSyncDueDate"`
	TaxJurisdiction              string        `json:"DSyncTaxJurisdiction,omitempty"`
	CreditedInvoiceNumber        string        `json:"DSyncCreditedInvoiceNumber,omitempty"`
	Lines                        []InvoiceLine `json:"SalesInvoiceLines,omitempty"`
}

// InvoiceLine is SalesInvoiceLines.
type InvoiceLine struct {
	LineNumber       int     `json:"LineNumber"`
	ItemNumber       string  `json:"ItemNumber"`
	InvoicedQuantity Decimal `json:"InvoicedQuantity"`
	SalesUnitSymbol  string  `json:"SalesUnitSymbol"`
	SalesPrice       Decimal `json:"SalesPrice"`
	LineAmount       Decimal `json:"LineAmount"`
	InventoryLotID   string  `json:"InventoryLotId"`
	OrderLineID      string  `json:"DSyncOrderLineId"`
}

// ReturnOrderHeader is ReturnOrderHeaders: a return order (RMA) of a
// customer.
type ReturnOrderHeader struct {
	DataAreaID            string            `json:"dataAreaId"`
	ReturnOrderNumber     string            `json:"ReturnOrderNumber,omitempty"`
	RMANumber             string            `json:"RMANumber"`
	CustomerAccountNumber string            `json:"CustomerAccountNumber"`
	OriginalSalesOrder    string            `json:"DSyncOriginalSalesOrderNumber"`
	IdempotencyKey        string            `json:"DSyncIdempotencyKey"`
	ReturnID              string            `json:"DSyncReturnId"`
	WarehouseID           string            `json:"ReturnWarehouseId"`
	AuthorizedAt          Date              `json:"DSyncAuthorizedDateTime"`
	ReceivedAt            Date              `json:"DSyncReceivedDateTime"`
	CreditNoteNumber      string            `json:"DSyncCreditNoteNumber,omitempty"`
	Lines                 []ReturnOrderLine `json:"ReturnOrderLines,omitempty"`
}

// ReturnOrderLine is ReturnOrderLines. F&O writes return quantities as
// negative numbers.
type ReturnOrderLine struct {
	DataAreaID           string  `json:"dataAreaId"`
	ItemNumber           string  `json:"ItemNumber"`
	ReturnQuantity       Decimal `json:"ReturnQuantity"`
	SalesUnitSymbol      string  `json:"SalesUnitSymbol"`
	ReturnReasonCodeID   string  `json:"ReturnReasonCodeId,omitempty"`
	ReturnInventoryLotID string  `json:"ReturnInventoryLotId"`
	LineID               string  `json:"DSyncLineId"`
	ReceivedQuantity     Decimal `json:"DSyncReceivedQuantity"`
	Condition            string  `json:"DSyncCondition,omitempty"`
	Disposition          string  `json:"DSyncDisposition,omitempty"`
}

// CountingJournalHeader is InventoryCountingJournalHeaders.
type CountingJournalHeader struct {
	DataAreaID     string                 `json:"dataAreaId"`
	JournalNumber  string                 `json:"JournalNumber,omitempty"`
	JournalNameID  string                 `json:"JournalNameId"`
	Description    string                 `json:"Description,omitempty"`
	IdempotencyKey string                 `json:"DSyncIdempotencyKey"`
	Lines          []CountingJournalEntry `json:"InventoryCountingJournalEntries,omitempty"`
}

// CountingJournalEntry is InventoryCountingJournalEntries: one counted
// position.
type CountingJournalEntry struct {
	DataAreaID           string  `json:"dataAreaId"`
	ItemNumber           string  `json:"ItemNumber"`
	InventoryWarehouseID string  `json:"InventoryWarehouseId"`
	ItemBatchNumber      string  `json:"ItemBatchNumber,omitempty"`
	InventoryStatusID    string  `json:"InventoryStatusId"`
	CountedQuantity      Decimal `json:"CountedQuantity"`
	UnitSymbol           string  `json:"DSyncUnitSymbol"`
	Allocated            Decimal `json:"DSyncAllocatedQuantity"`
	Available            Decimal `json:"DSyncAvailableQuantity"`
	Inbound              Decimal `json:"DSyncInboundQuantity"`
	AsOf                 Date    `json:"DSyncAsOfDateTime"`
	Sequence             int64   `json:"DSyncSequence"`
	Kind                 string  `json:"DSyncPositionKind"`
}

// Event is DSyncSalesOrderEvents, an extension entity that serves the
// ERP's own events: the canonical event as JSON and the feed position
// after it.
type Event struct {
	EventID   string `json:"EventId"`
	EventType string `json:"EventType"`
	Cursor    string `json:"Cursor"`
	Payload   string `json:"Payload"`
}

// IsCustom reports whether name is the name of a custom field as package
// d365 recognises one: a property added by an extension, named with an
// underscore before the publisher's suffix (CostCentre_Custom,
// DockDate_Contoso). Standard properties and the DSync fields have no
// underscore.
func IsCustom(name string) bool {
	i := strings.IndexByte(name, '_')
	return i > 0 && i < len(name)-1 && !strings.HasPrefix(name, "@")
}

// MarshalJSON encodes h with its Custom properties.
func (h SalesOrderHeader) MarshalJSON() ([]byte, error) {
	type plain SalesOrderHeader
	return extcode.Marshal(plain(h), h.Custom)
}

// UnmarshalJSON decodes h and keeps its unknown custom properties in
// Custom.
func (h *SalesOrderHeader) UnmarshalJSON(data []byte) error {
	type plain SalesOrderHeader
	if err := json.Unmarshal(data, (*plain)(h)); err != nil {
		return err
	}
	var err error
	h.Custom, err = extcode.Unknown(data, reflect.TypeFor[plain](), "_", IsCustom)
	return err
}

// MarshalJSON encodes l with its Custom properties.
func (l SalesOrderLine) MarshalJSON() ([]byte, error) {
	type plain SalesOrderLine
	return extcode.Marshal(plain(l), l.Custom)
}

// UnmarshalJSON decodes l and keeps its unknown custom properties in
// Custom.
func (l *SalesOrderLine) UnmarshalJSON(data []byte) error {
	type plain SalesOrderLine
	if err := json.Unmarshal(data, (*plain)(l)); err != nil {
		return err
	}
	var err error
	l.Custom, err = extcode.Unknown(data, reflect.TypeFor[plain](), "_", IsCustom)
	return err
}
