// Package shipbobemu emulates ShipBob's REST API over the wms package's
// warehouse simulator, for tests and examples of package shipbob: an
// [Emulator] is an http.Handler to serve on loopback (httptest).
//
// # What it serves
//
// Under the dated version ([Config.Version], default "2026-07"):
//
//	POST   /order               create; reference_id unique (409 on a second create)
//	GET    /order               list: ReferenceIds, LastUpdateStartDate, SortOrder, Page, Limit
//	GET    /order/{id}          one order with its shipments
//	POST   /order/{id}/cancel   cancel the shipments not yet shipped
//	GET    /inventory           on-hand, committed and fulfillable per fulfilment center
//	GET    /location            the fulfilment centers
//	POST   /return, GET /return returns by reference_id
//	POST   /webhook, GET /webhook, DELETE /webhook/{id}   subscriptions
//
// Requests need a bearer token ([Config.Token]) and order creation the
// shipbob_channel_id header. Errors are ShipBob's short body
// {"statusCode","message"} or, for validation, a problem body with the
// offending fields under errors.
//
// # Behaviour
//
// An order becomes a fulfilment order of the wms.Memory behind the
// emulator (warehouse: the fulfilment center, one per simulator warehouse,
// [Emulator.Locations]); [Emulator.Step] moves the simulator and applies its
// events to the order's shipments: Processing at creation, Exception
// (status detail OutOfStock) when stock is short, Completed with tracking
// when shipped (a partial shipment splits off the rest into a new
// shipment), Cancelled when cancelled. Returns are authorized in the
// simulator and completed by [Emulator.ReceiveReturn]. Every change gets
// a timestamp strictly after the previous one, so (last_update_at, id)
// orders all changes.
//
// # Rate limit
//
// Each user (bearer token) may make [Config.RateLimit] requests (default
// 150) in a sliding window of [Config.Window] (default a minute) by
// [Config.Clock]. Every answer carries x-remaining-calls; a request over
// the limit is answered 429 with x-retry-after (the whole seconds, rounded
// up, until the oldest request leaves the window), x-remaining-calls: 0 and
// {"statusCode":429,"message":"Rate limit is exceeded. Try again in N
// seconds."}. [Emulator.Reject] writes the same answers for
// faults.HTTPConfig.Reject.
//
// # Webhooks
//
// A change queues a message for each subscription to its topic:
// order.shipped and order.shipment.cancelled (the shipment as body),
// order.shipment.exception, return.created and return.completed (the
// return). [Emulator.DeliverWebhooks] sends what is due, signed with
// Standard Webhooks headers under [Config.WebhookSecret] and the topic in
// x-webhook-topic, and retries a message not acknowledged 2xx with
// exponential backoff ([RetryBase] doubling to [RetryMax], for [RetryFor]).
// The emulator starts no goroutine: deliveries happen when called.
//
// # Assumptions
//
// Where ShipBob's public documentation is silent or was not checked, the
// emulator assumes: 409 for a duplicate reference_id; Page/Limit paging
// with total-count and total-pages headers; shipments list their products
// with a quantity each; inventory per fulfilment center counts only
// available stock (held or damaged stock is not on hand); returns take
// tags and report received_quantity, action_taken and condition per line;
// order.shipment.on_hold is never sent (the simulator has no hold); a
// shipment back in Processing after an exception sends no webhook.
package shipbobemu
