// Package idempotency makes effects happen once although the requests and
// messages that cause them may arrive more than once.
package idempotency
