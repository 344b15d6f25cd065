// Package d365 is a connector.ERP for Microsoft Dynamics 365 Finance &
// Operations (F&O) over its OData v4 data entities under /data/. It has
// the optional roles of the erp simulator: connector.EventFeed,
// connector.OrderCanceller and connector.HealthChecker. Package
// [github.com/distsync/distsync/erp/d365/d365emu] emulates the system for
// tests and examples.
//
//	client, err := d365.New(d365.Config{BaseURL: "https://contoso.operations.dynamics.com",
//		Company: "usmf", Tenant: "contoso.onmicrosoft.com", ClientID: "…", ClientSecret: "…"})
//	erp, err := connector.WrapERP(client, connector.Options{}) // retry, breaker, timeouts
//
// # Protocol
//
//   - Authentication is Entra ID OAuth2 client credentials: the token comes
//     from https://login.microsoftonline.com/{Tenant}/oauth2/v2.0/token (or
//     Config.TokenURL) with scope BaseURL + "/.default", is kept while it
//     lives (about an hour), and a 401 drops it, fetches a new one and sends
//     the request once more (httpkit's OAuth2); a second 401 is
//     CodeUnauthorized.
//   - The company: every URL names the legal entity. Single entities are
//     read and updated by their compound key with dataAreaId first,
//     SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='SO-001000');
//     queries filter on dataAreaId eq Config.Company and carry
//     cross-company=true, because without it F&O silently covers only the
//     caller's default company. Writes put Config.Company in dataAreaId.
//   - JSON is OData v4: {"value":[...],"@odata.nextLink":...}; collections
//     follow @odata.nextLink (httpkit.PagesByLink), whatever $top and $skip
//     the server put in it. Amounts, prices and quantities are JSON
//     numbers and are decoded exactly into canonical decimals, never
//     through a float64 (the raw number token is parsed; bodies are decoded
//     with UseNumber); booleans are NoYes strings ("Yes"/"No"); enum
//     filters use the type-qualified literal
//     (SalesOrderStatus eq Microsoft.Dynamics.DataEntities.SalesStatus'Backorder'),
//     which Client.Orders shows.
//   - Writes of a document with lines (a sales order header and its
//     SalesOrderLines, a packing slip, a return order, a counting journal)
//     go as one $batch request holding one changeset: the header with
//     Content-ID 1 first, then each line POSTed to $1/<lines navigation>.
//     The changeset is saved all or nothing, so a lost answer never leaves
//     a header without its lines, and it costs one call instead of 1+n.
//     A failed changeset answers one part with the error of the request
//     that failed; it is coded by its status as a whole answer would be
//     (httpkit.Client.StatusError).
//   - Errors: F&O leaves error.code empty and writes "An error has
//     occurred." as the message; the useful text is the Infolog in
//     innererror.message ("Write failed for table row of type
//     'SalesOrderHeaderV2Entity'. Infolog: Error: …"). It becomes an *Error
//     inside the *connector.Error whose text is "ENTITY: INFOLOG", so the
//     connector's error names the Infolog message and the entity; the code
//     comes from the HTTP status as httpkit maps it.
//   - Concurrency: entities carry @odata.etag; CancelOrderLines PATCHes the
//     header with If-Match. A 412 (changed since read) is resolved by
//     reading the order again and sending the update once more with the
//     fresh ETag when every line is still on the order; a second 412 is
//     CodeConflict.
//   - Throttling: a 429 with Retry-After (the service protection limits,
//     evaluated per user over a five-minute sliding window) pauses the
//     Client for that long, capped at Config.MaxRetryAfter, and the error
//     carries it for retry.Do.
//
// # Roles and the F&O entities behind them
//
//   - ValidateOrder: POST the header with its lines to the bound action
//     SalesOrderHeadersV2/Microsoft.Dynamics.DataEntities.DSyncSimulate,
//     which prices and checks without saving.
//   - AcceptOrder: SalesOrderHeadersV2 (OrderingCustomerAccountNumber,
//     InvoiceCustomerAccountNumber, CurrencyCode, CustomersOrderReference =
//     the canonical order ID, CustomerRequisitionNumber = the idempotency
//     key, PaymentTermsName, RequestedReceiptDate, DeliveryAddressLocationId
//     = the ship-to) and SalesOrderLines (ItemNumber, OrderedSalesQuantity,
//     SalesUnitSymbol, SalesPrice = the price the customer expects). The
//     ack is read from the order the system returns: a line with
//     DSyncRejected Yes is rejected, a SalesPrice unlike DSyncExpectedPrice
//     is price_changed, DSyncConfirmedQuantity below the ordered quantity is
//     backordered by the difference, DSyncCreditHold Yes is a credit hold
//     and DSyncHoldCode another hold.
//   - GetOrder: SalesOrderHeadersV2 filtered on CustomersOrderReference,
//     $expand=SalesOrderLines; SalesOrderStatus (SalesStatus: Backorder =
//     open, Delivered, Invoiced, Canceled), ReleaseStatus (WHSReleaseStatus)
//     and SalesOrderLineStatus are read; the buckets come from the DSync
//     quantities, and where an environment lacks them from the line status
//     (Delivered: all shipped; Invoiced: all shipped and invoiced;
//     Canceled: all cancelled); ShippingWarehouseId shows the warehouse
//     that shipped a line. Each line's ref is its InventoryLotId, the
//     order's ref carries the @odata.etag as its version.
//   - PostShipment: a packing slip, SalesPackingSlipHeaders with
//     SalesPackingSlipLines (InventoryLotId of the order line,
//     DeliveredQuantity, SalesUnitSymbol, ShippingWarehouseId), then the
//     invoice SalesInvoiceHeadersV2(dataAreaId,InvoiceNumber) with
//     $expand=SalesInvoiceLines. Four calls per new shipment.
//   - PostReturn: ReturnOrderHeaders (RMANumber, the original sales order)
//     with ReturnOrderLines (ReturnQuantity negative, as F&O writes return
//     quantities; ReturnInventoryLotId of the order line), then the credit
//     note: an invoice of SalesInvoiceHeadersV2 with negative amounts.
//   - ApplyInventory: InventoryCountingJournalHeaders with one
//     InventoryCountingJournalEntries entry per position (ItemNumber,
//     InventoryWarehouseId = the location, ItemBatchNumber = the lot,
//     InventoryStatusId = the canonical status, CountedQuantity = on hand).
//   - CancelOrderLines: PATCH of the header with If-Match (see above).
//   - PollEvents: the extension entity DSyncSalesOrderEvents, $top,
//     $skiptoken and $select.
//   - Health: GET on /data/ (the service document).
//
// # Idempotency
//
// F&O has no idempotency header. Every write puts the contract's key into
// a field of the document it creates (CustomerRequisitionNumber on the
// sales order; DSyncIdempotencyKey on packing slips, return orders and
// counting journals) and first reads with $filter on that field (in the
// configured company, cross-company): a document found is the earlier
// call's, and its result is returned without a second write, after
// checking it is the same request (the order's CustomersOrderReference
// and DSyncRequestHash, the packing slip's shipment and lines, the return
// order's return ID and RMA number; another request is CodeConflict). A
// packing slip whose invoice read failed is completed by the retry, which
// finds the slip and reads its invoice.
//
// The window: the read and the write are two calls, so two writers with
// one key can both read nothing and both write. The system must close it:
// we assume a uniqueness validation of the reference field at save (an
// extension of validateWrite on SalesTable and the posting entities),
// whose Infolog reads "… is already used on …"; the Client then reads
// again and returns the first document. The emulator makes that check
// under the lock that saves the document. Without such a validation a
// real environment may hold two orders for one key when two writers race
// in that window (the length of one round trip); retries of one writer
// never race, since each attempt reads first.
//
// A key of an older version of an order, replayed after a newer version
// was accepted with another key, finds the order (the emulator keeps every
// key an order was saved with) and is answered with the ack read from the
// order's current state.
//
// # What is assumed
//
// Where the public entity descriptions are silent, or an F&O environment
// needs configuration, this package and its emulator assume:
//
//   - Extension fields (prefix DSync) carry what the standard entities have
//     no field for: the order version and request hash, the acceptance
//     time, credit hold and hold code, the order totals, each line's
//     canonical line ID, the price the customer expected, the confirmed,
//     shipped, cancelled, invoiced and returned quantities, the keys of
//     the posting documents, the shipment, fulfilment order, tracking and
//     line IDs of a packing slip, the return's IDs, received quantities,
//     condition and disposition, and the inventory position's allocated,
//     available and inbound quantities, sequence, kind and as-of time.
//   - The names of the posting entities and their navigations
//     (SalesPackingSlipHeaders/SalesPackingSlipLines, ReturnOrderHeaders/
//     ReturnOrderLines, InventoryCountingJournalHeaders/
//     InventoryCountingJournalEntries, SalesInvoiceHeadersV2/
//     SalesInvoiceLines, SalesOrderHeadersV2/SalesOrderLines) and that the
//     posting entities post on create: a standard environment posts packing
//     slips and invoices in batch jobs or from the form, not from OData.
//     Invoicing runs right after the packing slip, and a return posted with
//     its received quantities is credited at once.
//   - Sales unit symbols are the canonical UN/ECE Rec 20 codes (EA, XCS),
//     as a unit conversion mapping would make them.
//   - The DSyncSimulate action (F&O has no sales order simulation over
//     OData) and the DSyncSalesOrderEvents entity (Business Events were not
//     modelled). Cancellation is a PATCH of extension fields on the header
//     (DSyncCancellationKey, DSyncCancellationRequest "LOT:qty,…"), applied
//     by a custom handler; a line cancelled in full shows Canceled.
//   - The service answers 428 to a PATCH without If-Match, and 412 to a
//     stale one (OData v4; unverified for F&O).
//   - Hold codes DLV (delivery block), PRICE, TAX, APPROVAL.
//   - Ack messages have no place in the entities and are not returned.
//
// # Extension attributes
//
// Config.Extensions maps custom fields of SalesOrderHeadersV2 and
// SalesOrderLines (see [ExtensionField]) to extension attributes
// ([canonical.Extensions]) of the order and of its lines: AcceptOrder and
// ValidateOrder write them, GetOrder and Orders read them back. The
// research notes say nothing of how F&O names the fields a table and
// entity extension adds; the connector takes the publisher-suffix
// convention, a name with an underscore before the publisher's suffix
// (CostCentre_Custom, DockDate_Contoso), and keeps only such properties
// of the entities it reads; standard fields and the DSync fields have no
// underscore. Values are coded as F&O writes them: decimals and integers
// as JSON numbers, bools as NoYes ("Yes"/"No"), dates and timestamps as
// Edm.DateTimeOffset, 1900-01-01 being no date. An extension whose type
// is not the field's is CodeInvalid before anything is sent; a field that
// does not read as its type is CodeInternal. Extensions of unmapped names
// are not sent. The invoices the connector reads carry none; the flow
// keeps the order's extensions on the invoices it records for the order.
package d365
