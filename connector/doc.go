// Package connector holds the contracts that a CRM, ERP or WMS connector
// implements, the error every connector returns, and the decorators that
// add retry, timeouts, a circuit breaker and tracing around any
// implementation.
//
// # Roles
//
// A contract is a set of small role interfaces, in the spirit of
// database/sql/driver: [OrderValidator], [OrderAccepter], [Releaser],
// [EventFeed] and so on. [ERP], [WMS] and [CRM] compose the roles the
// flows need. Optional roles (an ERP's [EventFeed], [OrderCanceller] and
// [OrderChanger], a WMS's [ReleaseChanger],
// [Subscriber], [StatusBatchPublisher], [HealthChecker]) are separate
// interfaces found with [As], never new methods on an existing interface.
// The decorators of [WrapERP], [WrapWMS] and [WrapCRM] forward the
// optional roles of their system through retry, breaker, timeouts and
// tracing, and [As] reports a role on them only when the implementation
// under them has it.
//
// Every method takes a context first and honours its cancellation. Every
// implementation must be safe for concurrent use.
//
// # Idempotency
//
// Each method documents its idempotency contract. Methods with a side
// effect take an idempotency key (a string derived by the caller from the
// flow, the step and the entity version; an HTTP connector sends it as the
// Idempotency-Key header) or are idempotent by the document's own ID. A
// repeated call with the same key returns the first call's result and has
// no second effect; the same key with a different document is a
// [CodeConflict] error.
//
// # Errors
//
// Implementations return [*Error], built with [NewError], with a [Code]
// from a closed set, the system and operation, whether the remote may have
// applied the operation, and the server's Retry-After. [CodeOf] reads the code of any error. The
// retry package classifies *Error through small interfaces, so a
// connector never decides retry policy itself.
//
// # Feeds
//
// Feeds ([EventFeed], [OrderFeed]) return pages of canonical events after an
// opaque [Cursor]. Events are delivered at least once: a consumer keeps the
// cursor of the last page it handled and resumes from it after a restart;
// a page never skips an event, and a feed may repeat events, which
// consumers deduplicate by [canonical.Event.Key].
package connector
