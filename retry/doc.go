// Package retry is distsync's one way to retry: [Do] with a [Policy], error
// classification through small interfaces, and a circuit [Breaker].
//
// # Retrying
//
// [Do] calls an operation until it succeeds, as its [Policy] says: a
// maximum number of attempts, an optional elapsed-time budget and
// per-attempt timeout, an exponential [Backoff] with jitter between
// attempts, and an OnRetry hook for logs, metrics and timelines. Like every
// configuration in distsync, a Policy is a struct whose zero value is the
// documented defaults, checked by Validate:
//
//	v, err := retry.Do(ctx, retry.Policy{MaxAttempts: 3}, op)
//
// # Classification
//
// Do retries only what is safe to retry, deciding with errors.Is and
// errors.As, never by an error's text:
//
//   - the caller's cancellation or deadline is never retried;
//   - an error wrapped with [Permanent] stops at once;
//   - an error implementing [MayHaveApplied] that reports the remote may
//     already have applied the operation stops, unless the operation is
//     declared idempotent ([Policy.Idempotent]);
//   - an error implementing [RetryAfterer] (a server's Retry-After; see
//     [ParseRetryAfter] and [WithRetryAfter]) is waited for at least that
//     long;
//   - [ErrCircuitOpen] stops, so that the caller can park the work.
//
// Connector errors implement these interfaces; nothing here imports the
// connector package.
//
// # Waiting without holding
//
// A caller that holds a resource while it calls, such as a place in a
// bounded set of concurrent calls or a lock that orders the calls of one
// key, passes the call a context of [ReleaseWhileWaiting]: the Do under it
// (a connector decorator's, say) gives the resource up while it waits
// between attempts and takes it back before the next one, so that a
// failing call costs its own time, not the time of everyone queued for
// the resource.
//
// # Circuit breaker
//
// A [Breaker] protects a dependency: it opens after a number of consecutive
// failures or a failure ratio over a sliding window, rejects calls with
// [ErrCircuitOpen] while open, and after a timeout lets probe calls decide
// whether to close again. Its state-change callback is never called while a
// lock is held, and its clock can be injected.
package retry
