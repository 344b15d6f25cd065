// Package faults wraps connectors to inject the failures real systems
// have, by seeded probabilities, so that chaos tests are reproducible: a
// failing run is replayed with its seed.
//
// [WrapERP], [WrapWMS] and [WrapCRM] return a connector that, on each call,
// may:
//
//   - fail before reaching the wrapped system with [connector.CodeUnavailable],
//     or with [connector.CodeRateLimited] carrying a Retry-After
//     ([Config.Unavailable], [Config.RateLimited]);
//   - fail after the wrapped system applied the call, with a
//     [connector.CodeTimeout] error whose MayHaveApplied reports true: the ambiguous
//     case that idempotency keys exist for ([Config.AmbiguousTimeout]);
//   - wait before the call, through an injected sleep function so that tests
//     do not sleep ([Config.Latency], [Config.Sleep]);
//   - fail with [connector.CodeUnavailable] during an outage: between two
//     instants of an injected clock, or for a range of call numbers
//     ([Config.Outage]).
//
// Feeds (a WMS's or an ERP's PollEvents, a CRM's PollOrders) may besides:
//
//   - deliver a page again: the next poll from the page's cursor returns
//     the same events and the same next cursor, as when an acknowledgement
//     is lost ([Config.Duplicate]);
//   - shuffle the events within a page ([Config.Reorder]). Events are only
//     ever reordered within one page, whose cursor covers them all, so a
//     consumer that stores the cursor after handling the whole page never
//     loses one: a restart resumes after the page, not in its middle.
//
// A cancelled context always wins: the wrapper returns its cause and
// injects nothing, as a real client would not even send the request.
//
// # Determinism
//
// The faults come from one random source per wrapper, seeded by
// [Config.Seed] and guarded by a mutex, and every call draws the same number
// of values from it. A sequence of calls made one after another therefore
// gets the same faults for the same seed; concurrent calls get the faults
// in the order they take the lock.
//
// # Optional roles
//
// The wrappers forward the optional roles of their system, with faults:
// an ERP's event feed ([connector.EventFeed], with the faults of feeds)
// and [connector.OrderCanceller], a CRM's [connector.StatusBatchPublisher],
// and the [connector.HealthChecker] of each. They draw from the same
// random source and count as calls (for [Outage] by call number), so a
// seed reproduces the faults of every role. A wrapper always has these
// methods; when the wrapped connector lacks a role, its method returns an
// error matching errors.ErrUnsupported and injects nothing (it draws no
// value, so the faults of the other calls do not change).
// [connector.As] reports a role on a wrapper only when the wrapped
// connector has it. [connector.Subscriber] is not forwarded: [connector.As]
// finds it on the wrapped connector, without faults.
//
// # On the wire
//
// [NewHTTP] injects the same kinds of failure one layer down, into the
// requests an HTTP server answers, for connectors that speak a vendor's API
// to an emulator: 503 and 429 (in the vendor's shape, through
// [HTTPConfig.Reject]) and 401 before the request is handled, and, after
// it was handled, an answer withheld until the client times out or a
// connection closed without an answer. Those last two are what makes a
// client mark an error "may have applied".
package faults
