// Package salesforce is a [connector.CRM] for a Salesforce org over its
// REST API: the order feed is read with SOQL, status and availability are
// written back onto sObjects. Package sfemu beside it is an emulator of
// the same API over the crm simulator, for tests and examples.
//
// # Session
//
// [New] makes no call. The first call fetches a token with the OAuth2
// client credentials grant (POST LoginURL/services/oauth2/token with
// client_id and client_secret) and sends every API call to the
// instance_url of the answer, with the token as bearer. The integration
// user is the last segment of the answer's id URL. A 401
// INVALID_SESSION_ID (an expired or revoked session) drops the token, and
// the call is sent once more with a new one; a refused token request is
// CodeUnauthorized naming the OAuth2 error (invalid_client, ...). The
// instance_url of the first token is kept for the connector's lifetime.
//
// # Order feed
//
// [CRM.PollOrders] sends one query to /services/data/vXX.X/query and
// follows nextRecordsUrl until done is true:
//
//	SELECT Id, OrderNumber, AccountId, Account.AccountNumber, ..., LastModifiedDate,
//	       (SELECT Id, PricebookEntryId, Product2.ProductCode, ..., OriginalOrderItemId FROM OrderItems)
//	FROM Order
//	WHERE StatusCode = 'Activated' AND LastModifiedById != '<integration user>'
//	  AND (LastModifiedDate > T OR (LastModifiedDate = T AND Id > 'ID'))
//	ORDER BY LastModifiedDate, Id LIMIT n
//
// The cursor ([connector.Cursor]) is the last record's (LastModifiedDate,
// Id), "2026-07-09T10:00:00.000Z/801...": a reader restarted with a stored
// cursor reads each record after it once, without skipping one that has
// the same LastModifiedDate and without reading one again.
//
// Salesforce stamps LastModifiedDate when a transaction starts, so a
// record committed late by a long transaction can carry a time before a
// cursor already stored, and such a record is missed; the connector does
// not re-read an overlap window (which would repeat events). The emulator
// has no such transactions.
//
// Each record becomes one event, with the record's Id as event ID and
// [Source] as source:
//
//   - an Order (IsReductionOrder false): [canonical.EventOrderSubmitted]
//     carrying a [canonical.Order] whose ID and line IDs are the Order and
//     OrderItem IDs; sold-to is Account.AccountNumber (the ERP customer),
//     ship-to DistSync_Ship_To__c (else the sold-to) with the
//     ShippingAddress; lines are Product2.ProductCode,
//     Quantity in Product2.QuantityUnitOfMeasure, and UnitPrice in
//     CurrencyIsoCode, exact decimals as Salesforce sent them.
//   - a reduction order of Type "Return": [canonical.EventReturnAuthorized]
//     carrying a [canonical.Return] for OriginalOrderId, its lines the
//     negated quantities of its items, each pointing at its original line
//     by OriginalOrderItemId, the warehouse DistSync_Warehouse__c and the
//     RMA number DistSync_RMA_Number__c (else the OrderNumber).
//   - any other reduction order: [canonical.EventOrderCancelRequested]
//     carrying a [canonical.CancelRequest] of its items the same way.
//
// A record the connector cannot map (no products, no product code, a
// reduction without its original) fails the poll with CodeInvalid naming
// the record and field; once someone fixes it in Salesforce its
// LastModifiedDate moves it later in the feed and the feed goes on.
//
// # Custom fields
//
// [Config].Extensions maps fields of Order and OrderItem, usually custom
// fields, to canonical extension attributes ([ExtensionField]). The feed
// adds the mapped fields to its query and sets the extension of the order
// (an Order field) or of each line (an OrderItem field); a null field
// sets nothing, and a value that does not read as the extension's type
// fails the poll with CodeInvalid naming the record and field, as any
// unmappable record does. An Order field marked WriteBack is written by
// [CRM.PublishStatus] and [CRM.PublishStatuses], in the same PATCH as the
// status, from the extension of that name in
// [connector.OrderStatus].Extensions (the flow puts the order's
// extensions there); a status without it leaves the field alone. The
// status document in DistSync_Status__c does not repeat the extensions.
// Fields of other objects (Account, Product2) are not mapped.
//
// # Writing back, idempotency and the echo
//
// [CRM.PublishStatus] PATCHes the Order's DistSync_Sequence__c,
// DistSync_Status__c (the [connector.OrderStatus] as JSON) and
// DistSync_Tracking__c. [CRM.PublishStatuses] sends the same PATCHes as
// composite requests of up to 25 (allOrNone false: each update succeeds or
// fails alone, and each sub-response's status is read under the 200).
// [CRM.PublishAvailability] upserts Product_Availability__c records by the
// external ID DistSync_Key__c ("SKU@Location"), PATCH
// /sobjects/Product_Availability__c/DistSync_Key__c/SKU@Location.
//
// Salesforce has no idempotency key header. Writes are idempotent instead
// by the record they land on (the order, the external ID) and by the
// sequence: the org is assumed to have a validation rule refusing a
// DistSync_Sequence__c not above the one held, and the connector takes
// that refusal (FIELD_CUSTOM_VALIDATION_EXCEPTION on DistSync_Sequence__c)
// as done. A retried write after a lost answer is therefore harmless.
//
// A status write changes the Order's LastModifiedDate. The feed query
// leaves out records last modified by the integration user, so the
// connector's own writes are not read back as new changes.
//
// # Errors and limits
//
// Errors are Salesforce's JSON array [{"message","errorCode","fields"}],
// decoded by [DecodeError] into an [APIError] that the connector's
// [connector.Error] wraps, so its message names the errorCode and fields.
// Status codes map as in httpkit (400 invalid, 401 unauthorized, 404 not
// found, 5xx unavailable), except 403 REQUEST_LIMIT_EXCEEDED, which is
// CodeRateLimited. Every answer's Sforce-Limit-Info api-usage=N/M is read:
// past Config.SlowDownAt of the limit each answer pauses the connector,
// longer as N nears M, up to Config.LimitPause at the limit, which a
// rate-limit error carries as its retry-after.
//
// # Assumed of the org
//
// The custom fields named above (DistSync_Ship_To__c,
// DistSync_Warehouse__c, DistSync_RMA_Number__c, DistSync_Sequence__c,
// DistSync_Status__c as a long text area, DistSync_Tracking__c), the
// custom object Product_Availability__c with its external ID, the
// sequence validation rules, the Type values "Return" and "Cancellation"
// on reduction orders, and an integration user allowed to edit activated
// orders. The connector is safe for concurrent use.
package salesforce
