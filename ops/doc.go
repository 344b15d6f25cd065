// Package ops serves the operator pages and their JSON API as one
// http.Handler: where every order is, what is stuck and why, and the replay
// or discard of dead letters once the cause is fixed.
//
// # Pages
//
// Server-rendered with html/template from embedded files: no build step, no
// script, no external asset; every page has a viewport and a narrow layout,
// so it reads on a phone.
//
//   - GET / — the overview: each consumer group's cursor, how many events
//     of the log are pending behind it and how old the oldest is, the events
//     waiting for a retry; the circuit breakers' states (Config.Breakers);
//     the dead letters by consumer and reason; the drift and business
//     exceptions a reconciliation found (Config.Findings), each subject
//     linked to its order or inventory page.
//   - GET /orders, GET /orders/{id} — "where is order X": its status as the
//     flow derives it and as the ERP, the CRM and each warehouse show it,
//     the quantity buckets of each line, its dead letters, and its timeline
//     (every attempt of every step, retries and outages marked).
//   - GET /deadletters — the dead letters, filtered by state, reason,
//     consumer, error class, correlation ID and failure time; with a form
//     that replays every dead one the filter selects (all of them only when
//     no filter is set, and then explicitly).
//   - GET /deadletters/{id} — one dead letter: its event with the data
//     pretty-printed, the error, the attempts and the audit trail, with
//     the forms that replay it and discard it (a reason is required).
//   - GET /inventory?key=SKU@WAREHOUSE — the WMS sequence of the last
//     position the flow pushed for the key (Config.Inventory).
//
// # JSON API
//
// The same content under /api: GET /api/overview, /api/orders,
// /api/orders/{id}, /api/deadletters (the same query parameters),
// /api/deadletters/{id}, /api/inventory?key=; and the actions POST
// /api/deadletters/{id}/replay, /api/deadletters/{id}/discard and
// /api/deadletters/replay, each with a JSON body: {"why": "..."} and, for
// the last, {"filter": {...}} or {"all": true}. Errors are RFC 9457
// problem documents (application/problem+json) whose detail says what is
// wrong and whose param names the parameter or field at fault.
//
// # Actions, authentication and CSRF
//
// Replay and discard change state, so they need a principal:
// Config.Authenticate names who makes the request (from the embedding
// service's session, a proxy's header, a token); without it every action is
// refused (403), and a request it does not authenticate gets 401. The
// principal and the operator's reason are written to the dead letter's audit
// trail (eventlog.Audit By and Why).
//
// The HTML forms are protected against cross-site requests twice: a
// double-submit token (the cookie CSRFCookie, SameSite=Strict and
// HttpOnly, must equal the form field CSRFField) and
// http.CrossOriginProtection, which refuses a request whose Sec-Fetch-Site
// or Origin shows another origin. The API takes only application/json
// bodies, which a cross-site form cannot send, and applies the same origin
// check.
//
// # Personal data
//
// Config.Redact is applied to every event before it is shown or returned;
// the stored bytes of an undecodable event are then withheld, since they
// cannot be redacted. The order pages show no parties at all: an order's
// fulfilment orders, shipments, invoices, returns and credit memos are summed
// up by number, warehouse, time, lines, tracking numbers and totals.
//
// # What it reads
//
// Config holds small interfaces that the flow and the event log already
// satisfy: an eventlog.Backend is a DeadLetterStore, a GroupReader and an
// eventlog.Log; a *flow.Flow is an OrderReader and an InventoryReader. Over
// a backend alone (a tool without the flow) the overview and the dead letters
// pages work and the order and inventory pages answer 404. Circuit breaker
// states come from a BreakerBoard given as the OnStateChange of the
// connectors' breakers; drift from whatever reconciliation the service runs,
// through Config.Findings.
package ops
