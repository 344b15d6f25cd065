// Package sfemu emulates the part of a Salesforce org's REST API that
// package salesforce uses, as an http.Handler backed by the crm
// simulator's business logic (package crm): the orders converted there,
// their cancellation requests and returns appear as Order records, and the
// statuses and availability written to the emulator show in the simulator.
//
// # Starting it
//
//	sim, _ := crm.New(crm.Config{})
//	emu, _ := sfemu.New(sfemu.Config{CRM: sim, ClientID: "app", ClientSecret: "secret"})
//	srv := httptest.NewServer(emu)
//
// Tests wrap it in faults.NewHTTP with [Server.Reject] (Salesforce-shaped
// refusals) and a Match sparing [IsTokenRequest] and [Server.FirstUse].
//
// # Resources
//
//   - POST /services/oauth2/token: the client credentials grant (form
//     fields, or HTTP Basic for the client). It answers access_token,
//     instance_url (Config.InstanceURL, else the URL the request came
//     to), id (.../id/ORG/USER, the integration user), token_type Bearer,
//     issued_at, signature and scope; a refusal is the OAuth2 object
//     {"error","error_description"} with 400.
//   - Every other resource needs "Authorization: Bearer TOKEN"; an unknown
//     or revoked token ([Server.RevokeTokens]) is 401
//     [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}].
//     Each admitted request counts against Config.APILimit in a window of
//     Config.LimitWindow of the injected clock; the answer carries
//     Sforce-Limit-Info: api-usage=N/M, and past the limit the request is
//     refused with 403 REQUEST_LIMIT_EXCEEDED.
//   - GET /services/data/vXX.X/limits: DailyApiRequests Max and Remaining.
//   - GET /services/data/vXX.X/query?q=SOQL: the query subset below, in
//     batches of Config.BatchSize records, the rest behind nextRecordsUrl
//     (/services/data/vXX.X/query/01g...-N) until done is true.
//   - PATCH /services/data/vXX.X/sobjects/Order/ID: the fields
//     DistSync_Sequence__c, DistSync_Status__c (a connector.OrderStatus as
//     JSON) and DistSync_Tracking__c, and the Order fields of
//     Config.CustomFields (a string, number, boolean or null each); 204. The record's
//     LastModifiedDate and LastModifiedById (the integration user) change.
//   - PATCH /services/data/vXX.X/sobjects/Product_Availability__c/DistSync_Key__c/SKU@LOC:
//     an upsert; 201 {"id","success","errors","created":true} when it
//     creates, 200 with created false when it updates.
//   - POST /services/data/vXX.X/composite: {"allOrNone","compositeRequest":
//     [{"method","url","referenceId","body"}]}, 1 to 25 sub-requests on
//     the resources above; 200 with {"compositeResponse":[{"body",
//     "httpHeaders","httpStatusCode","referenceId"}]}. With allOrNone a
//     failure applies nothing and answers the others 400
//     PROCESSING_HALTED. References between sub-requests (@{ref.id}) are
//     not supported.
//
// Errors are the JSON array [{"message","errorCode","fields"}]:
// MALFORMED_QUERY, INVALID_TYPE and INVALID_FIELD (400) for queries,
// INVALID_FIELD, JSON_PARSER_ERROR, INVALID_TYPE_ON_FIELD_IN_RECORD and
// FIELD_INTEGRITY_EXCEPTION (400) for writes, NOT_FOUND (404). A status or
// availability whose DistSync_Sequence__c is not above the one shown is
// refused with 400 FIELD_CUSTOM_VALIDATION_EXCEPTION on that field: the
// validation rule the connector assumes in a real org.
//
// # Custom fields
//
// Config.CustomFields declares custom fields of Order and OrderItem
// ([CustomField]). A query may select them; on the records made from a
// simulator order each holds the value of the simulator's extension it
// names (of the order, or of the line), typed by the extension, and null
// otherwise. [Server.Field] reads what a record holds, for tests.
//
// # The SOQL subset
//
//	query     = SELECT field {"," field} ["," "(" SELECT field {"," field} FROM OrderItems ")"]
//	            FROM Order [WHERE condition] [ORDER BY field [ASC|DESC] {"," field [ASC|DESC]}]
//	            [LIMIT integer]
//	condition = conjunct {OR conjunct}
//	conjunct  = atom {AND atom}
//	atom      = "(" condition ")" | field ("=" | "!=" | "<" | "<=" | ">" | ">=") literal
//	literal   = 'string' (with \' and \\) | true | false | null | number
//	            | datetime (2026-07-09T10:00:00.000Z or with an offset)
//
// Keywords and field names are case-insensitive; a relation field is
// dotted (Account.AccountNumber, Product2.ProductCode). Anything else
// (other objects, functions, GROUP BY, OFFSET, LIKE, IN, bind variables)
// is refused with 400 MALFORMED_QUERY, an unknown object with
// INVALID_TYPE and an unknown field with INVALID_FIELD. Comparisons with
// null are false, but != null is true, as in SOQL.
//
// # How the simulator's records look
//
// Before answering, the emulator reads what is new on the simulator's order
// feed: a converted order becomes an activated Order (Id 801..., OrderNumber,
// AccountId, Account.AccountNumber = the ERP customer, OpportunityId,
// Pricebook2Id, EffectiveDate, ActivatedDate, PoNumber, CurrencyIsoCode,
// ShippingAddress, TotalAmount) with an OrderItem (802...) per line
// (PricebookEntryId, Product2.ProductCode = SKU,
// Product2.QuantityUnitOfMeasure = unit, Quantity, UnitPrice);
// a cancellation request becomes a reduction order of Type "Cancellation"
// and a return one of Type "Return" (IsReductionOrder, OriginalOrderId,
// items with negative quantities and OriginalOrderItemId; a request for
// every open quantity reduces every line by its ordered quantity).
// LastModifiedDate comes from Config.Clock in milliseconds and never goes
// back; records are last modified by a sales rep user until the connector
// writes to them. [Server.OrderID] and [Server.SimulatorID] translate
// between the two sets of IDs.
//
// A Server is safe for concurrent use; it starts no goroutine.
package sfemu
