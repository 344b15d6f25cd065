// Package webhook is the intake for events that systems push: an
// http.Handler that verifies a webhook's signature, refuses replays, maps
// the payload to canonical events with a function the connector supplies,
// and appends them to the event log before it acknowledges, so that an
// acknowledged webhook is never lost.
//
// # Signatures
//
// A Verifier checks a request. Standard implements the Standard Webhooks
// scheme (webhook-id, webhook-timestamp, webhook-signature with one or more
// "v1,<base64 HMAC-SHA256>" signatures over "id.timestamp.body"), with
// several active secrets for a rotation and a timestamp tolerance of five
// minutes either way by default. BodyHMAC implements vendor schemes that
// sign the body alone in a header of their own, as ShipHero does. Secrets
// are read by ParseSecret ("whsec_" base64, or raw bytes) and never printed
// or logged; comparisons run in constant time. Sign and SetHeaders produce
// Standard Webhooks signatures for senders and tests, SignBody a body HMAC.
//
// # Recording
//
// Handler claims each delivery ID in an idempotency.Store before the append
// and completes it after: a redelivery of a recorded webhook is acknowledged
// without a second append, a concurrent duplicate is told to come back
// (409) rather than acknowledged before the first one is recorded, and a
// failed append releases the key and answers 503 so that the sender
// retries. Mapped events get IDs derived from the delivery ID, so that even
// the redelivery that follows a crash between the append and the completion
// appends the same event keys, which consumers deduplicate.
//
// A payload the Mapper cannot map is answered 422 and not recorded; its key
// is released, so the sender's retries are recorded once the mapper is
// fixed, and Config.OnMapError lets the application keep the payload.
//
// Refusals are RFC 9457 problem documents (application/problem+json) whose
// type is one of the Problem constants.
package webhook
