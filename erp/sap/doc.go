// Package sap is a connector.ERP for SAP S/4HANA over its OData v2 APIs:
// API_SALES_ORDER_SRV and the APIs order-to-cash needs beside it. It has
// the optional roles of the erp simulator: connector.EventFeed,
// connector.OrderCanceller and connector.HealthChecker. Package
// [github.com/distsync/distsync/erp/sap/sapemu] emulates the system for
// tests and examples.
//
//	client, err := sap.New(sap.Config{BaseURL: "https://my-s4.example.com", User: "U", Password: "P"})
//	erp, err := connector.WrapERP(client, connector.Options{}) // retry, breaker, timeouts
//
// # Protocol
//
//   - CSRF: before the first write the Client sends GET on the sales order
//     service root with X-CSRF-Token: Fetch and keeps the token and the
//     session cookie; every POST and PATCH carries both. A 403 with
//     X-CSRF-Token: Required (an expired session) refetches the token and
//     sends the write once more.
//   - Authentication is Basic; a 401 is answered by sending the request once
//     more (httpkit's Authorizer contract), then it is CodeUnauthorized.
//   - JSON is OData v2: {"d":{...}} and {"d":{"results":[...]}}, decimals as
//     strings decoded exactly (a JSON number is refused, never a float64),
//     dates as /Date(ms)/ or /Date(ms±mmmm)/ parsed strictly. Collections
//     follow __next links (httpkit.PagesByLink); see Client.Orders.
//   - Errors: the SAP Gateway body {"error":{"code","message":{"value"},
//     "innererror":{"errordetails":[...]}}} becomes an *Error inside the
//     *connector.Error (code by HTTP status as httpkit maps it); details whose
//     propertyref names a property the Client sent, such as
//     to_Item/1/RequestedQuantity, are also a *canonical.ValidationError
//     naming the canonical field (lines[1].quantity).
//   - Concurrency: updates send __metadata.etag as If-Match. A 412 (the
//     entity changed since it was read) is resolved by reading it again and
//     sending the update once more with the fresh ETag when the update still
//     applies (every line is still on the order); a second 412 is
//     CodeConflict.
//
// # Roles and the SAP documents behind them
//
//   - ValidateOrder: POST A_SalesOrderSimulation (API_SALES_ORDER_SIMULATION_SRV)
//     with the same payload as the deep insert; nothing is saved.
//   - AcceptOrder: deep insert, POST A_SalesOrder with to_Item (and
//     to_Partner for the ship-to, SH). PurchaseOrderByCustomer carries the
//     canonical order ID; each item's RequestedQuantityISOUnit carries the
//     canonical unit (UN/ECE Rec 20 codes are ISO units); the CRM's price
//     travels as the EDI1 condition (customer expected price). The ack is read
//     from the order the system returns: an item with SalesDocumentRjcnReason
//     is rejected, a PPR0 price unlike EDI1 is price_changed, a schedule line
//     (to_ScheduleLine) confirming less than requested
//     (ConfdOrderQtyByMatlAvailCheck) is backordered by the difference,
//     TotalCreditCheckStatus B is a credit hold, DeliveryBlockReason another
//     hold, OverallSDDocumentRejectionSts C a rejection.
//   - GetOrder: A_SalesOrder filtered on PurchaseOrderByCustomer, expanded
//     to items, schedule lines, pricing elements and partners; the buckets
//     come from RequestedQuantity (ordered), the schedule lines (confirmed,
//     backordered, DeliveredQtyInOrderQtyUnit as shipped) and the rejection
//     reason.
//   - PostShipment: an outbound delivery with reference to the sales order
//     (POST A_OutbDeliveryHeader with to_DeliveryDocumentItem,
//     API_OUTBOUND_DELIVERY_SRV;v=0002), its goods issue (function import
//     PostGoodsIssue), and the billing document read back
//     (A_BillingDocument with to_Item, API_BILLING_DOCUMENT_SRV): F2 is an
//     invoice. Five calls per shipment.
//   - PostReturn: a customer return with reference to the sales order
//     (POST A_CustomerReturn with to_Item, API_CUSTOMER_RETURN_SRV), and its
//     credit memo read back (billing document G2).
//   - ApplyInventory: one material document (POST A_MaterialDocumentHeader
//     with to_MaterialDocumentItem, API_MATERIAL_DOCUMENT_SRV), one item per
//     position: Material, Plant (the location), Batch (the lot),
//     InventoryStockType (01 available, 02 quality hold, 07 other),
//     QuantityInEntryUnit (on hand), goods movement type 701.
//   - CancelOrderLines: PATCH A_SalesOrder('N') with If-Match.
//   - PollEvents: YY1_SalesOrderEvent of the custom service
//     YY1_SALESORDEREVENT_CDS, paged by $top and $skiptoken.
//   - Health: GET on the sales order service root.
//
// # Idempotency
//
// SAP has no idempotency header. Every write puts the contract's key into a
// custom field of the document it creates (YY1_IdempotencyKey_SDH on the
// sales order and the customer return, YY1_IdempotencyKey_DLH on the
// delivery, YY1_IdempotencyKey_MDH on the material document) and first reads
// with $filter on that field: a document found is the earlier call's, and its
// result is returned without a second write (after checking it is the same
// request: the sales order's YY1_RequestHash_SDH, the delivery's shipment and
// lines, the return's ID and RMA; another request is CodeConflict). A
// shipment whose delivery exists but whose goods issue did not happen yet
// resumes at the goods issue.
//
// The read and the write are two calls, so two writers with one key can
// both read nothing and both create. The system must close that window: we
// assume a uniqueness check of the key field at save (a BAdI such as
// SD_SLS_CHECK_HEAD for sales documents, or a key-user validation), which
// refuses the second document with the message YY1/DUPLICATE_REFERENCE; the
// Client then reads again and returns the first document. The emulator makes
// that check under the lock that saves the document. Without such a check a
// real system may hold two documents for one key in that window.
//
// A key of an older version of an order, replayed after a newer version
// was accepted with another key, finds the order (the emulator keeps every
// key an order was saved with, as a multi-valued reference would) and is
// answered with the ack read from the order's current state, not the first
// call's ack: SAP keeps no copy of earlier answers.
//
// # What is assumed
//
// Where the public API descriptions say nothing, or an S/4HANA system needs
// configuration, this package and its emulator assume:
//
//   - Custom fields (key-user extensibility, YY1_ prefix) carry what the
//     standard APIs have no field for: the keys above, the canonical line ID
//     of an item (YY1_CanonicalLineID_SDI), the order version, the shipment,
//     fulfilment order, carrier and tracking numbers of a delivery, the
//     return's line IDs, received quantities, condition and disposition, the
//     inventory position's allocated, available and inbound quantities,
//     sequence and as-of time, the tax and charge totals of an order, the
//     billing document of a delivery (document flow, in a real system), the
//     invoice a credit memo credits, and the cancelled, invoiced and returned
//     quantities of an item.
//   - Billing runs at goods issue (as a billing job right after it would),
//     and a customer return posted with its received quantities is credited
//     at once: the emulator collapses the returns delivery, goods receipt and
//     credit memo request into the return.
//   - Cancellation of open quantities is a PATCH of the sales order header
//     with YY1_CancellationKey_SDH and YY1_CancellationRequest_SDH
//     ("10:1,20:2": item and quantity), as a custom determination would apply
//     them; a line cancelled in full shows SalesDocumentRjcnReason Z2.
//   - The ERP's own events (cancellation requests) come from a custom CDS view
//     exposed as OData (YY1_SALESORDEREVENT_CDS) whose entities carry the
//     canonical event as JSON and the feed position after it; SAP Event Mesh
//     was not modelled.
//   - Codes: TotalCreditCheckStatus A passed and B blocked (the code list is
//     unverified); DeliveryBlockReason 01 delivery block, Z2 pricing, Z3 tax,
//     Z4 approval; SalesDocumentRjcnReason Z1 rejected by the checks.
//   - The ship-to's address is master data of the ship-to party in SAP and is
//     not sent; the order's customer PO number (Order.CustomerPO) is not sent
//     either, since PurchaseOrderByCustomer carries the canonical order ID.
//   - Ack messages (the ERP's explanations) have no place in the sales order
//     entity and are not returned.
//   - The CSRF token of one service is accepted by the others of the system
//     (one session), and HEAD is not used for the fetch.
//
// # Extension attributes
//
// Config.Extensions maps YY1_ custom fields of A_SalesOrder and
// A_SalesOrderItem (see [ExtensionField]) to extension attributes
// ([canonical.Extensions]) of the order and of its lines: AcceptOrder and
// ValidateOrder write them, GetOrder and Orders read them back.
// Extensions of unmapped names are not sent. The invoices the connector
// reads carry none; the flow keeps the order's extensions on the invoices
// it records for the order, so they still reach the CRM and the events.
package sap
