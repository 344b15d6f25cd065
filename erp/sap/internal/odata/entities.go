package odata

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/distsync/distsync/erp/internal/extcode"
)

// The entity shapes below follow the S/4HANA Cloud APIs' property names.
// Properties named YY1_... are custom fields (key-user extensibility) that
// carry the canonical IDs SAP has no standard field for; see package sap's
// documentation.

// SalesOrder is A_SalesOrder (API_SALES_ORDER_SRV), also the payload of
// A_SalesOrderSimulation (API_SALES_ORDER_SIMULATION_SRV).
type SalesOrder struct {
	Metadata                      *Metadata             `json:"__metadata,omitempty"`
	SalesOrder                    string                `json:"SalesOrder,omitempty"`
	SalesOrderType                string                `json:"SalesOrderType"`
	SalesOrganization             string                `json:"SalesOrganization"`
	DistributionChannel           string                `json:"DistributionChannel"`
	OrganizationDivision          string                `json:"OrganizationDivision"`
	SoldToParty                   string                `json:"SoldToParty"`
	PurchaseOrderByCustomer       string                `json:"PurchaseOrderByCustomer"`
	TransactionCurrency           string                `json:"TransactionCurrency"`
	CustomerPaymentTerms          string                `json:"CustomerPaymentTerms,omitempty"`
	RequestedDeliveryDate         Date                  `json:"RequestedDeliveryDate"`
	CompleteDeliveryIsDefined     bool                  `json:"CompleteDeliveryIsDefined"`
	CreationDate                  Date                  `json:"CreationDate"`
	LastChangeDateTime            Date                  `json:"LastChangeDateTime"`
	TotalNetAmount                *Decimal              `json:"TotalNetAmount,omitempty"`
	OverallSDProcessStatus        string                `json:"OverallSDProcessStatus,omitempty"`
	TotalCreditCheckStatus        string                `json:"TotalCreditCheckStatus,omitempty"`
	DeliveryBlockReason           string                `json:"DeliveryBlockReason,omitempty"`
	OverallSDDocumentRejectionSts string                `json:"OverallSDDocumentRejectionSts,omitempty"`
	IdempotencyKey                string                `json:"YY1_IdempotencyKey_SDH,omitempty"`
	OrderVersion                  string                `json:"YY1_OrderVersion_SDH,omitempty"`
	RequestHash                   string                `json:"YY1_RequestHash_SDH,omitempty"`
	TotalTaxAmount                *Decimal              `json:"YY1_TotalTaxAmount_SDH,omitempty"`
	TotalChargeAmount             *Decimal              `json:"YY1_TotalChargeAmount_SDH,omitempty"`
	Partners                      *List[Partner]        `json:"to_Partner,omitempty"`
	Items                         *List[SalesOrderItem] `json:"to_Item,omitempty"`
	// Custom are the YY1_ properties of the entity that no field above
	// holds (key-user custom fields a configuration maps), by name.
	Custom map[string]json.RawMessage `json:"-"`
}

// Partner is A_SalesOrderHeaderPartner.
type Partner struct {
	PartnerFunction string `json:"PartnerFunction"`
	Customer        string `json:"Customer"`
}

// SalesOrderItem is A_SalesOrderItem.
type SalesOrderItem struct {
	Metadata                 *Metadata             `json:"__metadata,omitempty"`
	SalesOrder               string                `json:"SalesOrder,omitempty"`
	SalesOrderItem           string                `json:"SalesOrderItem"`
	Material                 string                `json:"Material"`
	RequestedQuantity        Decimal               `json:"RequestedQuantity"`
	RequestedQuantityUnit    string                `json:"RequestedQuantityUnit"`
	RequestedQuantityISOUnit string                `json:"RequestedQuantityISOUnit"`
	NetAmount                *Decimal              `json:"NetAmount,omitempty"`
	TaxAmount                *Decimal              `json:"TaxAmount,omitempty"`
	SalesDocumentRjcnReason  string                `json:"SalesDocumentRjcnReason,omitempty"`
	SDProcessStatus          string                `json:"SDProcessStatus,omitempty"`
	LineID                   string                `json:"YY1_CanonicalLineID_SDI"`
	CancelledQty             *Decimal              `json:"YY1_CancelledQty_SDI,omitempty"`
	InvoicedQty              *Decimal              `json:"YY1_InvoicedQty_SDI,omitempty"`
	ReturnedQty              *Decimal              `json:"YY1_ReturnedQty_SDI,omitempty"`
	PricingElements          *List[PricingElement] `json:"to_PricingElement,omitempty"`
	ScheduleLines            *List[ScheduleLine]   `json:"to_ScheduleLine,omitempty"`
	// Custom are the YY1_ properties no field above holds, by name.
	Custom map[string]json.RawMessage `json:"-"`
}

// PricingElement is A_SalesOrderItemPrElement (and the billing document
// item's): PPR0 is the ERP's price, EDI1 the price the customer expects.
type PricingElement struct {
	ConditionType      string  `json:"ConditionType"`
	ConditionRateValue Decimal `json:"ConditionRateValue"`
	ConditionCurrency  string  `json:"ConditionCurrency"`
}

// ScheduleLine is A_SalesOrderScheduleLine.
type ScheduleLine struct {
	ScheduleLine                  string  `json:"ScheduleLine"`
	ConfirmedDeliveryDate         Date    `json:"ConfirmedDeliveryDate"`
	ScheduleLineOrderQuantity     Decimal `json:"ScheduleLineOrderQuantity"`
	ConfdOrderQtyByMatlAvailCheck Decimal `json:"ConfdOrderQtyByMatlAvailCheck"`
	DeliveredQtyInOrderQtyUnit    Decimal `json:"DeliveredQtyInOrderQtyUnit"`
	OpenConfdDelivQtyInOrdQtyUnit Decimal `json:"OpenConfdDelivQtyInOrdQtyUnit"`
	DelivBlockReasonForSchedLine  string  `json:"DelivBlockReasonForSchedLine,omitempty"`
}

// OutbDelivery is A_OutbDeliveryHeader (API_OUTBOUND_DELIVERY_SRV).
type OutbDelivery struct {
	Metadata                   *Metadata               `json:"__metadata,omitempty"`
	DeliveryDocument           string                  `json:"DeliveryDocument,omitempty"`
	ShippingPoint              string                  `json:"ShippingPoint"`
	ActualGoodsMovementDate    Date                    `json:"ActualGoodsMovementDate"`
	OverallGoodsMovementStatus string                  `json:"OverallGoodsMovementStatus,omitempty"`
	IdempotencyKey             string                  `json:"YY1_IdempotencyKey_DLH"`
	ShipmentID                 string                  `json:"YY1_ShipmentID_DLH"`
	FulfillmentOrderID         string                  `json:"YY1_FulfillmentOrder_DLH"`
	Carrier                    string                  `json:"YY1_CarrierSCAC_DLH"`
	TrackingNumbers            string                  `json:"YY1_TrackingNumbers_DLH,omitempty"`
	Final                      bool                    `json:"YY1_FinalForFulfillment_DLH,omitempty"`
	BillingDocument            string                  `json:"YY1_BillingDocument_DLH,omitempty"`
	Items                      *List[OutbDeliveryItem] `json:"to_DeliveryDocumentItem,omitempty"`
}

// OutbDeliveryItem is A_OutbDeliveryItem.
type OutbDeliveryItem struct {
	DeliveryDocumentItem    string  `json:"DeliveryDocumentItem"`
	ReferenceSDDocument     string  `json:"ReferenceSDDocument"`
	ReferenceSDDocumentItem string  `json:"ReferenceSDDocumentItem"`
	Material                string  `json:"Material"`
	ActualDeliveryQuantity  Decimal `json:"ActualDeliveryQuantity"`
	DeliveryQuantityUnit    string  `json:"DeliveryQuantityUnit"`
	ShipmentLineID          string  `json:"YY1_ShipmentLineID_DLI"`
	FulfillmentLineID       string  `json:"YY1_FulfillmentLineID_DLI"`
}

// BillingDocument is A_BillingDocument (API_BILLING_DOCUMENT_SRV).
type BillingDocument struct {
	Metadata             *Metadata                  `json:"__metadata,omitempty"`
	BillingDocument      string                     `json:"BillingDocument"`
	BillingDocumentType  string                     `json:"BillingDocumentType"`
	SDDocumentCategory   string                     `json:"SDDocumentCategory"`
	BillingDocumentDate  Date                       `json:"BillingDocumentDate"`
	SoldToParty          string                     `json:"SoldToParty"`
	PayerParty           string                     `json:"PayerParty"`
	CustomerPaymentTerms string                     `json:"CustomerPaymentTerms,omitempty"`
	TransactionCurrency  string                     `json:"TransactionCurrency"`
	TotalNetAmount       Decimal                    `json:"TotalNetAmount"`
	TotalTaxAmount       Decimal                    `json:"TotalTaxAmount"`
	TotalChargeAmount    Decimal                    `json:"YY1_TotalChargeAmount_BDH"`
	NetDueDate           Date                       `json:"YY1_NetDueDate_BDH"`
	ReferenceDocument    string                     `json:"YY1_ReferenceDocument_BDH"`
	CreditedInvoice      string                     `json:"YY1_CreditedInvoice_BDH,omitempty"`
	Taxes                string                     `json:"YY1_TaxJurisdiction_BDH,omitempty"`
	Items                *List[BillingDocumentItem] `json:"to_Item,omitempty"`
}

// BillingDocumentItem is A_BillingDocumentItem.
type BillingDocumentItem struct {
	BillingDocumentItem string                `json:"BillingDocumentItem"`
	Material            string                `json:"Material"`
	BillingQuantity     Decimal               `json:"BillingQuantity"`
	BillingQuantityUnit string                `json:"BillingQuantityUnit"`
	NetAmount           Decimal               `json:"NetAmount"`
	SalesDocument       string                `json:"SalesDocument"`
	ReferenceSDDocument string                `json:"ReferenceSDDocument"`
	OrderLineID         string                `json:"YY1_OrderLineID_BDI"`
	PricingElements     *List[PricingElement] `json:"to_PricingElement,omitempty"`
}

// CustomerReturn is A_CustomerReturn (API_CUSTOMER_RETURN_SRV).
type CustomerReturn struct {
	Metadata                *Metadata                 `json:"__metadata,omitempty"`
	CustomerReturn          string                    `json:"CustomerReturn,omitempty"`
	CustomerReturnType      string                    `json:"CustomerReturnType"`
	SoldToParty             string                    `json:"SoldToParty"`
	PurchaseOrderByCustomer string                    `json:"PurchaseOrderByCustomer"`
	ReferenceSDDocument     string                    `json:"ReferenceSDDocument"`
	IdempotencyKey          string                    `json:"YY1_IdempotencyKey_SDH"`
	ReturnID                string                    `json:"YY1_ReturnID_SDH"`
	Warehouse               string                    `json:"YY1_ReceivingPlant_SDH"`
	AuthorizedAt            Date                      `json:"YY1_AuthorizedAt_SDH"`
	ReceivedAt              Date                      `json:"YY1_ReceivedAt_SDH"`
	CreditMemo              string                    `json:"YY1_CreditMemo_SDH,omitempty"`
	Items                   *List[CustomerReturnItem] `json:"to_Item,omitempty"`
}

// CustomerReturnItem is A_CustomerReturnItem.
type CustomerReturnItem struct {
	CustomerReturnItem      string  `json:"CustomerReturnItem"`
	Material                string  `json:"Material"`
	RequestedQuantity       Decimal `json:"RequestedQuantity"`
	RequestedQuantityUnit   string  `json:"RequestedQuantityUnit"`
	ReferenceSDDocumentItem string  `json:"ReferenceSDDocumentItem"`
	ReturnReason            string  `json:"ReturnReason,omitempty"`
	LineID                  string  `json:"YY1_ReturnLineID_SDI"`
	ReceivedQuantity        Decimal `json:"YY1_ReceivedQuantity_SDI"`
	Condition               string  `json:"YY1_Condition_SDI,omitempty"`
	Disposition             string  `json:"YY1_Disposition_SDI,omitempty"`
}

// MaterialDocument is A_MaterialDocumentHeader (API_MATERIAL_DOCUMENT_SRV).
type MaterialDocument struct {
	Metadata                   *Metadata                   `json:"__metadata,omitempty"`
	MaterialDocument           string                      `json:"MaterialDocument,omitempty"`
	MaterialDocumentYear       string                      `json:"MaterialDocumentYear,omitempty"`
	DocumentDate               Date                        `json:"DocumentDate"`
	PostingDate                Date                        `json:"PostingDate"`
	GoodsMovementCode          string                      `json:"GoodsMovementCode"`
	MaterialDocumentHeaderText string                      `json:"MaterialDocumentHeaderText,omitempty"`
	IdempotencyKey             string                      `json:"YY1_IdempotencyKey_MDH"`
	Items                      *List[MaterialDocumentItem] `json:"to_MaterialDocumentItem,omitempty"`
}

// MaterialDocumentItem is A_MaterialDocumentItem.
type MaterialDocumentItem struct {
	Material            string  `json:"Material"`
	Plant               string  `json:"Plant"`
	StorageLocation     string  `json:"StorageLocation,omitempty"`
	Batch               string  `json:"Batch,omitempty"`
	GoodsMovementType   string  `json:"GoodsMovementType"`
	InventoryStockType  string  `json:"InventoryStockType"`
	QuantityInEntryUnit Decimal `json:"QuantityInEntryUnit"`
	EntryUnit           string  `json:"EntryUnit"`
	Allocated           Decimal `json:"YY1_AllocatedQty_MDI"`
	Available           Decimal `json:"YY1_AvailableQty_MDI"`
	Inbound             Decimal `json:"YY1_InboundQty_MDI"`
	AsOf                Date    `json:"YY1_AsOf_MDI"`
	Sequence            string  `json:"YY1_Sequence_MDI"`
	Status              string  `json:"YY1_InventoryStatus_MDI"`
	Kind                string  `json:"YY1_PositionKind_MDI"`
}

// Event is YY1_SalesOrderEvent, an entity of a custom CDS view that serves
// the ERP's events: the CloudEvents-shaped canonical event as a JSON
// string, and the feed position after it.
type Event struct {
	EventID   string `json:"EventID"`
	EventType string `json:"EventType"`
	Cursor    string `json:"Cursor"`
	Payload   string `json:"Payload"`
}

// MarshalJSON encodes e with its Custom properties.
func (e SalesOrder) MarshalJSON() ([]byte, error) {
	type plain SalesOrder
	return extcode.Marshal(plain(e), e.Custom)
}

// UnmarshalJSON decodes e and keeps its unknown YY1_ properties in Custom.
func (e *SalesOrder) UnmarshalJSON(data []byte) error {
	type plain SalesOrder
	if err := json.Unmarshal(data, (*plain)(e)); err != nil {
		return err
	}
	var err error
	e.Custom, err = extcode.Unknown(data, reflect.TypeFor[plain](), "YY1_", custom)
	return err
}

// MarshalJSON encodes it with its Custom properties.
func (it SalesOrderItem) MarshalJSON() ([]byte, error) {
	type plain SalesOrderItem
	return extcode.Marshal(plain(it), it.Custom)
}

// UnmarshalJSON decodes it and keeps its unknown YY1_ properties in
// Custom.
func (it *SalesOrderItem) UnmarshalJSON(data []byte) error {
	type plain SalesOrderItem
	if err := json.Unmarshal(data, (*plain)(it)); err != nil {
		return err
	}
	var err error
	it.Custom, err = extcode.Unknown(data, reflect.TypeFor[plain](), "YY1_", custom)
	return err
}

// custom reports whether name is a key-user custom field.
func custom(name string) bool { return strings.HasPrefix(name, "YY1_") }
