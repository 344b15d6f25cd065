// Package shipbob is a connector.WMS over ShipBob's REST API (a 3PL):
// fulfilment orders become ShipBob orders, cancellations cancel them,
// returns become ShipBob returns, inventory is read per fulfilment center,
// and what happens in the warehouses arrives as canonical events, polled
// from orders and returns or pushed by signed webhooks.
//
// Create a [Client] with [New]; package shipbobemu beside it emulates the
// API for tests and examples.
//
// # Requests
//
// Paths carry the dated version ([Config.Version], "/2026-07/order"),
// requests a bearer token (a personal access token) and the
// shipbob_channel_id header. ShipBob's error bodies, the short
// {"statusCode","message"} and the validation body with its errors per
// field, become the message of the *connector.Error ([DecodeError]); HTTP
// statuses map to codes as package httpkit does it.
//
// # Idempotency
//
// ShipBob has no idempotency header. An order's reference_id is unique per
// account, so [Client.Release] sends the fulfilment order's ID as
// reference_id: a second create is refused (409), and the connector reads
// the order by reference_id and returns the first result, or CodeConflict
// when that order was created with another warehouse, order or lines. The
// canonical fulfilment order travels in the order's tag
// distsync_fulfillment_order, so that a read (and the feed) can give back
// line IDs ShipBob does not keep. [Client.AuthorizeReturn] does the same
// with the return's ID and the tag distsync_return. [Client.CancelRelease]
// reads before it writes: an order with nothing left open is not cancelled
// again, and its result is what the order has cancelled in all.
//
// # Rate limits
//
// ShipBob allows 150 requests a minute per user. A 429 carries
// x-retry-after (seconds), which becomes the error's retry-after and
// pauses the client; an answer whose x-remaining-calls is at or below
// [Config.LowRemaining] makes the next call wait one call's share of the
// minute, so the last calls are spread out rather than spent at once.
//
// # Events
//
// [Client.PollEvents] lists orders and returns by last update and maps
// them: fulfilment released for each order; per shipment, backordered
// (Exception), allocated (Processing again after a change), shipped
// (Completed, with carrier and tracking number) and cancelled (Cancelled);
// return received for a Completed return. Event IDs come from ShipBob's
// IDs and statuses, so the same change read twice has one key.
//
// The webhooks (topics order.shipped, order.shipment.exception,
// order.shipment.cancelled, return.completed; Standard Webhooks
// signatures) are mapped by [Client.MapWebhook], which [Client.Mapper]
// adapts to webhook.Handler. A webhook gives the same event, with the same
// key, as polling gives for that change, so polling is the fallback when
// webhooks stop, and consumers deduplicate what arrives both ways.
//
// # Calls
//
// Release is one POST (and one GET /location, once per Client, when
// Config.Locations is nil; one GET more to resolve a duplicate).
// CancelRelease reads the order and, when something is open, cancels it:
// two calls, one on a replay. AuthorizeReturn is one POST. Inventory is one
// GET per 250 items. PollEvents lists orders, then returns: at least two
// GETs. MapWebhook makes one GET for an order topic and none for a return.
//
// # Assumptions
//
// Where ShipBob's public documentation is silent, the connector assumes
// what package shipbobemu emulates: a duplicate reference_id is answered
// 409; lists take ReferenceIds, LastUpdateStartDate, SortOrder=Oldest, Page
// and Limit (at most 250); shipments list their products with quantities;
// tags on orders and returns hold any text; inventory is GET /inventory
// with quantities per fulfilment center; fulfilment centers are matched to
// warehouses by name unless [Config.Locations] maps them. ShipBob cancels
// whole orders, so a cancellation of part of the open quantity is refused
// (CodeInvalid); lines are whole quantities, one per SKU.
//
// # Extension attributes
//
// A fulfilment order's extension attributes ([canonical.Extensions])
// travel inside the fulfilment-order tag with the rest of the document,
// so Release returns them and a re-read release keeps them; none is
// mapped to a ShipBob field (gift message, order notes), and shipments
// read from ShipBob carry none.
package shipbob
