// Package idempotencytest checks that an [idempotency.Store] implementation
// keeps the contract, in the manner of [testing/slogtest]: call [Run] from a
// test with a function that creates a fresh, empty store on a given clock.
//
//	func TestConformance(t *testing.T) {
//		idempotencytest.Run(t, func(t *testing.T, cfg idempotencytest.Config) idempotency.Store {
//			s, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{
//				Retention: cfg.Retention, Now: cfg.Now, ReapInterval: -1,
//			})
//			require.NoError(t, err)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The kit checks: a new key is claimed; many goroutines claiming one key at
// once see exactly one [idempotency.Claimed] (run it with -race); a
// completed key replays its result, including a stored failure; a different
// fingerprint is an [idempotency.Mismatch] that reports the stored
// fingerprint in the Fingerprint field of [idempotency.Claim]; a live lease answers
// [idempotency.InProgress] with the time it has left; an expired lease is
// taken over with a new token and the old holder's Complete and Release fail
// with [idempotency.ErrLeaseLost] without overwriting; a released key can be
// claimed again; a record whose retention has passed counts as absent and,
// if the store implements [idempotency.Reaper], is reaped; a cancelled
// context fails every method and changes nothing; invalid arguments are
// rejected. The optional [idempotency.Looker] is checked when present, and
// so is [idempotency.BatchClaimer]: each request of a batch is answered as
// a claim of it alone would be (a key given twice is held by its first
// request), the claims made are durable and fence their keys, and a batch
// that fails (a cancelled context, an invalid request) claims nothing.
//
// [Check] runs the same checks outside a test (from a program, or an
// example) and returns what failed as an error.
package idempotencytest
