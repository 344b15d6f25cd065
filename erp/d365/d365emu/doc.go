// Package d365emu emulates a Dynamics 365 Finance & Operations
// environment's OData v4 service, and its Entra ID token endpoint, for
// tests and examples: a Server is an http.Handler backed by an
// [github.com/distsync/distsync/erp.Memory], so pricing, credit, ATP,
// billing and the inventory ledger stay the simulator's one
// implementation, while the wire is F&O's: data entities under /data/,
// compound keys with dataAreaId, cross-company queries, decimals as JSON
// numbers, NoYes booleans, type-qualified enum literals, @odata.nextLink
// paging, @odata.etag and If-Match, $batch changesets, error bodies with
// an empty code and the Infolog in innererror.message, and 429 with
// Retry-After under a per-user sliding window.
//
//	m, _ := erp.New(erp.Config{})
//	emu, _ := d365emu.New(d365emu.Config{ERP: m, ClientID: "app", ClientSecret: "secret"})
//	srv := httptest.NewServer(emu) // token endpoint: srv.URL + d365emu.TokenPath("tenant")
//
// # What it serves
//
//   - POST /{tenant}/oauth2/v2.0/token: the client credentials grant
//     (client_id and client_secret in the form or Basic), scope
//     "<environment>/.default" (Config.Environment, or the URL the request
//     reached); the token lives Config.TokenLifetime (3599 s) by
//     Config.Now. Server.ExpireTokens ends them early. Without a valid
//     token every other request is 401 with WWW-Authenticate: Bearer.
//   - Every data request counts against its user's Config.RequestLimit
//     within Config.ThrottleWindow (five minutes, sliding, by Config.Now);
//     over it the answer is 429 with Retry-After in seconds until the
//     oldest request leaves the window.
//   - GET /data/: the service document.
//   - POST /data/$batch: changesets of a header POST (Content-ID n) and its
//     lines POSTed to $n/<navigation>, for SalesOrderHeadersV2
//     (SalesOrderLines), SalesPackingSlipHeaders (SalesPackingSlipLines),
//     ReturnOrderHeaders (ReturnOrderLines) and
//     InventoryCountingJournalHeaders (InventoryCountingJournalEntries).
//     Each is saved all or nothing; the answer has one 201 part per
//     request, or one part with the error.
//   - SalesOrderHeadersV2: GET by key (with ETag), GET the set with $filter
//     on dataAreaId, CustomersOrderReference, CustomerRequisitionNumber,
//     SalesOrderStatus and ReleaseStatus (enums only as type-qualified
//     literals: a bare string is 400 as in F&O), $expand=SalesOrderLines,
//     $select, $top, $skip and paging by @odata.nextLink (Config.PageSize);
//     PATCH by key (a cancellation; If-Match required: 428 without it, 412
//     when stale, 204 with the new ETag); POST
//     SalesOrderHeadersV2/Microsoft.Dynamics.DataEntities.DSyncSimulate.
//   - SalesPackingSlipHeaders, ReturnOrderHeaders and
//     InventoryCountingJournalHeaders: GET filtered on DSyncIdempotencyKey.
//   - SalesInvoiceHeadersV2: GET by key, $expand=SalesInvoiceLines; credit
//     notes have negative amounts and quantities.
//   - DSyncSalesOrderEvents: the simulator's event feed by $top and
//     $skiptoken.
//
// A query without cross-company=true sees only Config.DefaultCompany
// ("dat"), as F&O covers only the caller's default company. Every create
// refuses a second document with the same reference (the customer
// requisition of a sales order, DSyncIdempotencyKey of the others) with an
// Infolog "… is already used on …", the uniqueness validation package d365
// assumes of a real environment. Reject writes the F&O-shaped answers of
// the faults package's injected 503, 429 (with Retry-After) and 401, and
// IsTokenRequest lets faults spare the token endpoint (Entra ID is another
// service).
//
// What package d365's documentation lists as assumed holds for the
// emulator: DSync extension fields, posting entities that post on create,
// invoicing at the packing slip, returns credited at once. The custom
// fields (Name_Suffix) a sales order header and its lines are created
// with are kept as they came and served back on every read.
package d365emu
