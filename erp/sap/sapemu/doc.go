// Package sapemu emulates an SAP S/4HANA system's OData v2 APIs for tests
// and examples: a Server is an http.Handler backed by an
// [github.com/distsync/distsync/erp.Memory], so pricing, credit, ATP,
// billing and the inventory ledger stay the simulator's one implementation,
// while the wire is SAP's: paths under /sap/opu/odata/sap/, {"d":...}
// envelopes, decimals as strings, /Date(ms)/ dates, SAP Gateway error
// bodies, CSRF tokens with a session cookie, ETags and If-Match.
//
//	m, _ := erp.New(erp.Config{})
//	emu, _ := sapemu.New(sapemu.Config{ERP: m, User: "U", Password: "P"})
//	srv := httptest.NewServer(emu)
//
// # What it serves
//
//   - GET (or HEAD) on any service root, with X-CSRF-Token: Fetch: the
//     token in X-CSRF-Token and a session cookie (SessionCookie). Every
//     other method needs both, else 403 with X-CSRF-Token: Required.
//     Server.ExpireSessions forgets them, as a session timeout does.
//   - API_SALES_ORDER_SRV: POST A_SalesOrder (deep insert with to_Item and
//     to_Partner), GET A_SalesOrder('N'), GET A_SalesOrder with $filter on
//     PurchaseOrderByCustomer or YY1_IdempotencyKey_SDH, or unfiltered and
//     paged by __next ($top, $skiptoken; Config.PageSize per page), PATCH
//     A_SalesOrder('N') (a cancellation; If-Match required: 428 without it,
//     412 when stale, 204 after).
//   - API_SALES_ORDER_SIMULATION_SRV: POST A_SalesOrderSimulation.
//   - API_OUTBOUND_DELIVERY_SRV;v=0002: POST A_OutbDeliveryHeader, GET it
//     filtered on YY1_IdempotencyKey_DLH, POST PostGoodsIssue?DeliveryDocument='N'.
//   - API_BILLING_DOCUMENT_SRV: GET A_BillingDocument('N').
//   - API_CUSTOMER_RETURN_SRV: POST A_CustomerReturn, GET it filtered on
//     YY1_IdempotencyKey_SDH.
//   - API_MATERIAL_DOCUMENT_SRV: POST A_MaterialDocumentHeader, GET it
//     filtered on YY1_IdempotencyKey_MDH.
//   - YY1_SALESORDEREVENT_CDS: GET YY1_SalesOrderEvent, the simulator's
//     event feed.
//
// Every create refuses a second document with the same key field
// (400, YY1/DUPLICATE_REFERENCE), as the uniqueness check package sap
// assumes of a real system. $expand is accepted and ignored: navigations
// are always returned expanded. Only the filters above are supported.
// Reject writes the SAP-shaped answers of the faults package's injected
// 503, 429 (with Retry-After) and 401.
//
// What package sap's documentation lists as assumed holds for the emulator:
// custom YY1_ fields, billing at goods issue, returns credited at once.
package sapemu
