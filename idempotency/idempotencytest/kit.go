package idempotencytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/kit"
)

// Config is what [Run] asks of each store it creates. It is a plain value;
// its Now is safe for concurrent use. [Run] fills it in; its zero value is
// not what Run asks for.
type Config struct {
	// Now is the clock the store must use for leases and retention.
	Now func() time.Time
	// Retention is the retention the store must be configured with.
	Retention time.Duration
}

// Retention is the retention [Run] configures.
const Retention = time.Hour

// Goroutines is how many goroutines race for one key in the concurrency
// check.
const Goroutines = 32

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Run runs the conformance checks against stores made by newStore, each as
// a subtest named for its contract; a failure quotes the contract sentence
// it broke. newStore returns a fresh, empty store configured with cfg; it
// takes a [Config] beside t because the checks drive the store's clock.
// Run calls it once per subtest, from one goroutine at a time, with the
// subtest's t: register clean-up (closing the store, dropping its table)
// with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T, cfg Config) idempotency.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := NewClock(start)
			s := newStore(t, Config{Now: clock.Now, Retention: Retention})
			require.NotNil(kit.Contract(t, c.contract), s, "factory returned a nil store")
			c.run(kit.Contract(t, c.contract), &env{s: s, clock: clock})
		})
	}
}

// Check runs the checks of [Run] outside a test, each against a fresh
// store from newStore, and returns their failures joined into one error,
// each prefixed with the name of its check and the contract sentence it
// broke; nil means the store passed.
// When a store has a Close method (an [io.Closer]), Check closes it at the
// end of its check.
func Check(newStore func(cfg Config) (idempotency.Store, error)) error {
	var errs []error
	for _, c := range cases {
		errs = append(errs, kit.Run(c.name, func(t kit.T) {
			t = kit.Contract(t, c.contract)
			clock := NewClock(start)
			s, err := newStore(Config{Now: clock.Now, Retention: Retention})
			require.NoError(t, err, "creating the store")
			require.NotNil(t, s, "factory returned a nil store")
			if closer, ok := s.(io.Closer); ok {
				t.Cleanup(func() { _ = closer.Close() })
			}
			c.run(kit.Contract(t, c.contract), &env{s: s, clock: clock})
		}))
	}
	return errors.Join(errs...)
}

type env struct {
	s     idempotency.Store
	clock *Clock
	n     int
}

// key returns a key unique within the subtest.
func (e *env) key(t kit.T) idempotency.Key {
	e.n++
	return idempotency.Derive("idempotencytest", t.Name(), fmt.Sprint(e.n))
}

func (e *env) claim(t kit.T, k idempotency.Key, fp idempotency.Fingerprint, lease time.Duration) idempotency.Claim {
	t.Helper()
	c, err := e.s.Claim(context.Background(), k, fp, lease)
	require.NoError(t, err, "Claim(%s, lease %v)", k, lease)
	return c
}

func (e *env) mustClaim(t kit.T, k idempotency.Key, fp idempotency.Fingerprint, lease time.Duration) idempotency.Lease {
	t.Helper()
	c := e.claim(t, k, fp, lease)
	require.Equal(t, idempotency.Claimed, c.Status, "Claim(%s) status", k)
	require.Equal(t, k, c.Lease.Key, "Claim(%s) lease key", k)
	require.NotZero(t, c.Lease.Token, "Claim(%s) lease token", k)
	return c.Lease
}

var (
	fpA = idempotency.FingerprintBytes([]byte("request A"))
	fpB = idempotency.FingerprintBytes([]byte("request B"))
)

// cases are the checks of the kit, in the order they run, each with the
// sentence of the contract it checks.
var cases = []struct {
	name, contract string
	run            func(t kit.T, e *env)
}{
	{"ClaimNewKey", "A new key is claimed, with a lease that expires after its TTL.", testClaimNew},
	{"ConcurrentClaimsOneWinner", "Of many goroutines claiming one key at once, exactly one sees Claimed.", testConcurrentClaims},
	{"CompleteThenReplay", "A completed key replays its result, and a second Complete changes nothing.", testCompleteReplay},
	{"ReplayStoredFailure", "A completed key replays a stored failure as it was stored.", testReplayFailure},
	{"ReplayedDataIsACopy", "The stored result is a copy: neither the caller's slice nor a replay's changes it.", testReplayCopy},
	{"Mismatch", "A different fingerprint is a Mismatch that reports the stored fingerprint.", testMismatch},
	{"InProgress", "A live lease answers InProgress with the time it has left.", testInProgress},
	{"LeaseExpiryFencedTakeover", "An expired lease is taken over with a new token, and the old holder's Complete and Release fail with ErrLeaseLost without overwriting.", testTakeover},
	{"ExpiredLeaseOtherFingerprintIsMismatch", "A different fingerprint is a Mismatch even when the lease has expired.", testTakeoverMismatch},
	{"ReleaseThenReclaim", "A released key can be claimed again.", testReleaseReclaim},
	{"ForeignLease", "Complete and Release with a lease the store did not grant fail with ErrLeaseLost and leave the holder unaffected.", testForeignLease},
	{"RetentionExpiry", "A record whose retention has passed counts as absent and, with a Reaper, is reaped.", testRetention},
	{"ContextCancelled", "A cancelled context fails every method and changes nothing.", testCancelled},
	{"InvalidArguments", "Invalid arguments are rejected.", testInvalid},
	{"BatchClaim", "A BatchClaimer answers each request of a batch as Claim would one after the other, and claims nothing when it fails.", testBatchClaim},
}

func testClaimNew(t kit.T, e *env) {
	k := e.key(t)
	l := e.mustClaim(t, k, fpA, time.Minute)
	assert.True(t, l.Expires.Equal(start.Add(time.Minute)), "lease of %s expires %v, want now+1m = %v", k, l.Expires, start.Add(time.Minute))
	if lk, ok := e.s.(idempotency.Looker); ok {
		rec, err := lk.Lookup(context.Background(), k)
		require.NoError(t, err, "Lookup(%s) after claim", k)
		assert.Equal(t, idempotency.Claimed, rec.Status, "Lookup(%s) status", k)
		assert.Equal(t, fpA, rec.Fingerprint, "Lookup(%s) fingerprint", k)
		assert.Equal(t, l.Token, rec.Token, "Lookup(%s) token", k)
		assert.True(t, rec.LeaseExpires.Equal(l.Expires), "Lookup(%s) lease expiry %v, want %v", k, rec.LeaseExpires, l.Expires)
		_, err = lk.Lookup(context.Background(), e.key(t))
		assert.ErrorIs(t, err, idempotency.ErrNotFound, "Lookup of a never-claimed key")
	}
}

func testConcurrentClaims(t kit.T, e *env) {
	for round := range 3 {
		k := e.key(t)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			count   = map[idempotency.Status]int{}
			errs    []error
			release = make(chan struct{})
		)
		for range Goroutines {
			wg.Go(func() {
				<-release
				c, err := e.s.Claim(context.Background(), k, fpA, time.Minute)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				count[c.Status]++
			})
		}
		close(release)
		wg.Wait()
		require.Empty(t, errs, "round %d: errors from concurrent Claim(%s)", round, k)
		assert.Equal(t, 1, count[idempotency.Claimed], "round %d: %d goroutines claiming %s: winners", round, Goroutines, k)
		assert.Equal(t, Goroutines-1, count[idempotency.InProgress], "round %d: %d goroutines claiming %s: in progress", round, Goroutines, k)
	}
}

func testCompleteReplay(t kit.T, e *env) {
	ctx := context.Background()
	k := e.key(t)
	l := e.mustClaim(t, k, fpA, time.Minute)
	require.NoError(t, e.s.Complete(ctx, l, idempotency.Result{Data: []byte(`{"charge":"ch_1"}`)}), "Complete(%s)", k)
	for i := range 2 {
		c := e.claim(t, k, fpA, time.Minute)
		require.Equal(t, idempotency.Completed, c.Status, "claim %d of completed %s", i, k)
		assert.Equal(t, `{"charge":"ch_1"}`, string(c.Result.Data), "claim %d of completed %s: data", i, k)
		assert.False(t, c.Result.Failed, "claim %d of completed %s: failed", i, k)
	}
	assert.ErrorIs(t, e.s.Complete(ctx, l, idempotency.Result{Data: []byte("again")}), idempotency.ErrLeaseLost, "second Complete(%s)", k)
	assert.ErrorIs(t, e.s.Release(ctx, l), idempotency.ErrLeaseLost, "Release(%s) after Complete", k)
	c := e.claim(t, k, fpA, time.Minute)
	assert.Equal(t, `{"charge":"ch_1"}`, string(c.Result.Data), "data of %s after rejected second Complete", k)
	if lk, ok := e.s.(idempotency.Looker); ok {
		rec, err := lk.Lookup(ctx, k)
		require.NoError(t, err, "Lookup(%s) after complete", k)
		assert.Equal(t, idempotency.Completed, rec.Status, "Lookup(%s) status", k)
		assert.Equal(t, `{"charge":"ch_1"}`, string(rec.Result.Data), "Lookup(%s) data", k)
		assert.True(t, rec.Expires.Equal(start.Add(Retention)), "Lookup(%s) expires %v, want %v", k, rec.Expires, start.Add(Retention))
	}

	// An empty result is a result too.
	k2 := e.key(t)
	l2 := e.mustClaim(t, k2, fpA, time.Minute)
	require.NoError(t, e.s.Complete(ctx, l2, idempotency.Result{}), "Complete(%s) with empty result", k2)
	c2 := e.claim(t, k2, fpA, time.Minute)
	assert.Equal(t, idempotency.Completed, c2.Status, "claim of %s completed with empty result", k2)
	assert.Empty(t, c2.Result.Data, "data of %s completed with empty result", k2)
}

func testReplayFailure(t kit.T, e *env) {
	k := e.key(t)
	l := e.mustClaim(t, k, fpA, time.Minute)
	require.NoError(t, e.s.Complete(context.Background(), l, idempotency.Result{Data: []byte("card declined"), Failed: true}), "Complete(%s) with failure", k)
	c := e.claim(t, k, fpA, time.Minute)
	require.Equal(t, idempotency.Completed, c.Status, "claim of %s completed with failure", k)
	assert.True(t, c.Result.Failed, "claim of %s: Failed", k)
	assert.Equal(t, "card declined", string(c.Result.Data), "claim of %s: data", k)
}

func testReplayCopy(t kit.T, e *env) {
	k := e.key(t)
	l := e.mustClaim(t, k, fpA, time.Minute)
	data := []byte("original")
	require.NoError(t, e.s.Complete(context.Background(), l, idempotency.Result{Data: data}), "Complete(%s)", k)
	copy(data, "XXXXXXXX")
	c := e.claim(t, k, fpA, time.Minute)
	require.Equal(t, "original", string(c.Result.Data), "stored data of %s after the caller changed its slice", k)
	copy(c.Result.Data, "YYYYYYYY")
	c = e.claim(t, k, fpA, time.Minute)
	assert.Equal(t, "original", string(c.Result.Data), "stored data of %s after a replay's slice was changed", k)
}

func testMismatch(t kit.T, e *env) {
	k := e.key(t)
	l := e.mustClaim(t, k, fpA, time.Minute)
	c := e.claim(t, k, fpB, time.Minute)
	assert.Equal(t, idempotency.Mismatch, c.Status, "claim of in-progress %s with another fingerprint", k)
	assert.Equal(t, fpA, c.Fingerprint, "Claim.Fingerprint of a mismatch on in-progress %s: the stored fingerprint", k)
	require.NoError(t, e.s.Complete(context.Background(), l, idempotency.Result{Data: []byte("ok")}), "Complete(%s)", k)
	c = e.claim(t, k, fpB, time.Minute)
	assert.Equal(t, idempotency.Mismatch, c.Status, "claim of completed %s with another fingerprint", k)
	assert.Equal(t, fpA, c.Fingerprint, "Claim.Fingerprint of a mismatch on completed %s: the stored fingerprint", k)
	assert.Equal(t, idempotency.Completed, e.claim(t, k, fpA, time.Minute).Status, "claim of completed %s with its own fingerprint", k)
	// The zero fingerprint is a fingerprint like any other.
	k2 := e.key(t)
	e.mustClaim(t, k2, idempotency.Fingerprint{}, time.Minute)
	assert.Equal(t, idempotency.Mismatch, e.claim(t, k2, fpA, time.Minute).Status, "claim of %s held with zero fingerprint, with fingerprint A", k2)
	assert.Equal(t, idempotency.InProgress, e.claim(t, k2, idempotency.Fingerprint{}, time.Minute).Status, "claim of %s held with zero fingerprint, with zero fingerprint", k2)
}

func testInProgress(t kit.T, e *env) {
	k := e.key(t)
	e.mustClaim(t, k, fpA, time.Minute)
	e.clock.Advance(20 * time.Second)
	c := e.claim(t, k, fpA, time.Minute)
	require.Equal(t, idempotency.InProgress, c.Status, "second claim of %s within the lease", k)
	assert.Equal(t, 40*time.Second, c.RetryAfter, "RetryAfter of %s 20s into a 1m lease", k)
}

func testTakeover(t kit.T, e *env) {
	ctx := context.Background()
	k := e.key(t)
	old := e.mustClaim(t, k, fpA, time.Minute)
	e.clock.Advance(time.Minute) // the lease ends exactly now
	nw := e.mustClaim(t, k, fpA, 2*time.Minute)
	assert.NotEqual(t, old.Token, nw.Token, "token of the takeover of %s", k)
	assert.True(t, nw.Expires.Equal(e.clock.Now().Add(2*time.Minute)), "takeover lease of %s expires %v", k, nw.Expires)

	assert.ErrorIs(t, e.s.Complete(ctx, old, idempotency.Result{Data: []byte("stale")}), idempotency.ErrLeaseLost, "Complete(%s) by the old holder", k)
	assert.ErrorIs(t, e.s.Release(ctx, old), idempotency.ErrLeaseLost, "Release(%s) by the old holder", k)
	assert.Equal(t, idempotency.InProgress, e.claim(t, k, fpA, time.Minute).Status, "claim of %s held by the new holder", k)

	require.NoError(t, e.s.Complete(ctx, nw, idempotency.Result{Data: []byte("fresh")}), "Complete(%s) by the new holder", k)
	c := e.claim(t, k, fpA, time.Minute)
	require.Equal(t, idempotency.Completed, c.Status, "claim of %s after takeover and complete", k)
	assert.Equal(t, "fresh", string(c.Result.Data), "data of %s after takeover", k)
	assert.ErrorIs(t, e.s.Complete(ctx, old, idempotency.Result{Data: []byte("stale")}), idempotency.ErrLeaseLost, "Complete(%s) by the old holder after the new one completed", k)

	// An expired but not taken-over lease may still finish its work.
	k2 := e.key(t)
	l2 := e.mustClaim(t, k2, fpA, time.Minute)
	e.clock.Advance(5 * time.Minute)
	require.NoError(t, e.s.Complete(ctx, l2, idempotency.Result{Data: []byte("late")}), "Complete(%s) after the lease expired without takeover", k2)
	assert.Equal(t, idempotency.Completed, e.claim(t, k2, fpA, time.Minute).Status, "claim of %s completed late", k2)
}

func testTakeoverMismatch(t kit.T, e *env) {
	k := e.key(t)
	e.mustClaim(t, k, fpA, time.Minute)
	e.clock.Advance(2 * time.Minute)
	assert.Equal(t, idempotency.Mismatch, e.claim(t, k, fpB, time.Minute).Status, "claim of %s (expired lease) with another fingerprint", k)
}

func testReleaseReclaim(t kit.T, e *env) {
	ctx := context.Background()
	k := e.key(t)
	l := e.mustClaim(t, k, fpA, time.Minute)
	require.NoError(t, e.s.Release(ctx, l), "Release(%s)", k)
	assert.ErrorIs(t, e.s.Release(ctx, l), idempotency.ErrLeaseLost, "second Release(%s)", k)
	assert.ErrorIs(t, e.s.Complete(ctx, l, idempotency.Result{}), idempotency.ErrLeaseLost, "Complete(%s) after Release", k)
	if lk, ok := e.s.(idempotency.Looker); ok {
		_, err := lk.Lookup(ctx, k)
		assert.ErrorIs(t, err, idempotency.ErrNotFound, "Lookup(%s) after Release", k)
	}
	// A released key is free: even for another fingerprint.
	l2 := e.mustClaim(t, k, fpB, time.Minute)
	assert.NotEqual(t, l.Token, l2.Token, "token of the re-claim of %s", k)
	assert.ErrorIs(t, e.s.Release(ctx, l), idempotency.ErrLeaseLost, "Release(%s) with the first lease after re-claim", k)
	require.NoError(t, e.s.Complete(ctx, l2, idempotency.Result{Data: []byte("second try")}), "Complete(%s) after re-claim", k)
	c := e.claim(t, k, fpB, time.Minute)
	assert.Equal(t, "second try", string(c.Result.Data), "data of %s after release and re-claim", k)
}

func testForeignLease(t kit.T, e *env) {
	ctx := context.Background()
	k := e.key(t)
	l := e.mustClaim(t, k, fpA, time.Minute)
	forged := idempotency.Lease{Key: k, Token: l.Token + 1, Expires: l.Expires}
	assert.ErrorIs(t, e.s.Complete(ctx, forged, idempotency.Result{}), idempotency.ErrLeaseLost, "Complete(%s) with a wrong token", k)
	assert.ErrorIs(t, e.s.Release(ctx, forged), idempotency.ErrLeaseLost, "Release(%s) with a wrong token", k)
	unknown := idempotency.Lease{Key: e.key(t), Token: 1, Expires: l.Expires}
	assert.ErrorIs(t, e.s.Complete(ctx, unknown, idempotency.Result{}), idempotency.ErrLeaseLost, "Complete of a never-claimed key")
	assert.ErrorIs(t, e.s.Release(ctx, unknown), idempotency.ErrLeaseLost, "Release of a never-claimed key")
	assert.ErrorIs(t, e.s.Release(ctx, idempotency.Lease{}), idempotency.ErrLeaseLost, "Release of the zero Lease")
	// The real holder is unaffected.
	require.NoError(t, e.s.Complete(ctx, l, idempotency.Result{Data: []byte("mine")}), "Complete(%s) by its holder", k)
}

func testRetention(t kit.T, e *env) {
	ctx := context.Background()
	done, held := e.key(t), e.key(t)
	l := e.mustClaim(t, done, fpA, time.Minute)
	e.clock.Advance(10 * time.Minute)
	require.NoError(t, e.s.Complete(ctx, l, idempotency.Result{Data: []byte("v")}), "Complete(%s)", done)
	e.mustClaim(t, held, fpA, time.Minute)

	e.clock.Advance(Retention - time.Second)
	assert.Equal(t, idempotency.Completed, e.claim(t, done, fpA, time.Minute).Status, "claim of %s 1s before its retention ends", done)

	e.clock.Advance(time.Second)
	if lk, ok := e.s.(idempotency.Looker); ok {
		_, err := lk.Lookup(ctx, done)
		assert.ErrorIs(t, err, idempotency.ErrNotFound, "Lookup(%s) once its retention ended", done)
		_, err = lk.Lookup(ctx, held)
		assert.ErrorIs(t, err, idempotency.ErrNotFound, "Lookup(%s) (abandoned claim) once its retention ended", held)
	}
	if r, ok := e.s.(idempotency.Reaper); ok {
		n, err := r.Reap(ctx)
		require.NoError(t, err, "Reap")
		assert.Equal(t, 2, n, "records reaped once the retention of %s and %s ended", done, held)
		n, err = r.Reap(ctx)
		require.NoError(t, err, "second Reap")
		assert.Zero(t, n, "records reaped by a second Reap")
	}
	// Expired records count as absent, reaped or not, whatever the
	// fingerprint.
	e.mustClaim(t, done, fpB, time.Minute)
	e.mustClaim(t, held, fpB, time.Minute)
}

func testCancelled(t kit.T, e *env) {
	k := e.key(t)
	cause := errors.New("test cancelled the context")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)

	_, err := e.s.Claim(ctx, k, fpA, time.Minute)
	assert.ErrorIs(t, err, cause, "Claim(%s) with a cancelled context", k)
	l := e.mustClaim(t, k, fpA, time.Minute)
	assert.ErrorIs(t, e.s.Complete(ctx, l, idempotency.Result{Data: []byte("x")}), cause, "Complete(%s) with a cancelled context", k)
	assert.ErrorIs(t, e.s.Release(ctx, l), cause, "Release(%s) with a cancelled context", k)
	if lk, ok := e.s.(idempotency.Looker); ok {
		_, err := lk.Lookup(ctx, k)
		assert.ErrorIs(t, err, cause, "Lookup(%s) with a cancelled context", k)
	}
	if r, ok := e.s.(idempotency.Reaper); ok {
		_, err := r.Reap(ctx)
		assert.ErrorIs(t, err, cause, "Reap with a cancelled context")
	}
	// Nothing changed: the lease still holds the key.
	assert.Equal(t, idempotency.InProgress, e.claim(t, k, fpA, time.Minute).Status, "claim of %s after cancelled calls", k)
	require.NoError(t, e.s.Complete(context.Background(), l, idempotency.Result{Data: []byte("y")}), "Complete(%s) after cancelled calls", k)
	assert.Equal(t, "y", string(e.claim(t, k, fpA, time.Minute).Result.Data), "data of %s", k)
}

func testInvalid(t kit.T, e *env) {
	ctx := context.Background()
	_, err := e.s.Claim(ctx, idempotency.Key{}, fpA, time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrInvalidKey, "Claim of the zero Key")
	k := e.key(t)
	for _, lease := range []time.Duration{0, -time.Second} {
		_, err := e.s.Claim(ctx, k, fpA, lease)
		assert.Error(t, err, "Claim(%s) with lease %v", k, lease)
	}
	e.mustClaim(t, k, fpA, time.Minute) // the rejected claims left nothing behind
}

func testBatchClaim(t kit.T, e *env) {
	bc, ok := e.s.(idempotency.BatchClaimer)
	if !ok {
		return // the optional interface is checked when present
	}
	ctx := context.Background()
	fresh, done, held, other, expired, stale := e.key(t), e.key(t), e.key(t), e.key(t), e.key(t), e.key(t)
	l := e.mustClaim(t, done, fpA, time.Minute)
	require.NoError(t, e.s.Complete(ctx, l, idempotency.Result{Data: []byte("done")}), "Complete(%s)", done)
	e.mustClaim(t, stale, fpB, time.Minute) // its retention ends below
	e.clock.Advance(Retention)
	l = e.mustClaim(t, done, fpA, time.Minute)
	require.NoError(t, e.s.Complete(ctx, l, idempotency.Result{Data: []byte("done")}), "Complete(%s) again", done)
	e.mustClaim(t, other, fpB, time.Minute)
	oldExpired := e.mustClaim(t, expired, fpA, time.Minute)
	e.clock.Advance(time.Minute) // the lease of expired ends exactly now
	e.mustClaim(t, held, fpA, time.Minute)
	e.clock.Advance(20 * time.Second)

	reqs := []idempotency.ClaimRequest{
		{Key: fresh, Fingerprint: fpA},
		{Key: done, Fingerprint: fpA},
		{Key: held, Fingerprint: fpA},
		{Key: other, Fingerprint: fpA},
		{Key: expired, Fingerprint: fpA},
		{Key: stale, Fingerprint: fpA},
		{Key: fresh, Fingerprint: fpA}, // given twice: held by the first
		{Key: fresh, Fingerprint: fpB},
		{Key: done, Fingerprint: fpB},
	}
	got, err := bc.ClaimBatch(ctx, reqs, 2*time.Minute)
	require.NoError(t, err, "ClaimBatch")
	require.Len(t, got, len(reqs), "answers of ClaimBatch")
	now := e.clock.Now()
	for _, tc := range []struct {
		i      int
		status idempotency.Status
		name   string
	}{
		{0, idempotency.Claimed, "new key"},
		{1, idempotency.Completed, "completed key"},
		{2, idempotency.InProgress, "key held by a live lease"},
		{3, idempotency.Mismatch, "key held with another fingerprint"},
		{4, idempotency.Claimed, "key whose lease ended"},
		{5, idempotency.Claimed, "key whose retention ended"},
		{6, idempotency.InProgress, "key claimed earlier in the batch"},
		{7, idempotency.Mismatch, "key claimed earlier in the batch, another fingerprint"},
		{8, idempotency.Mismatch, "completed key, another fingerprint"},
	} {
		c := got[tc.i]
		require.Equal(t, tc.status, c.Status, "ClaimBatch answer %d (%s, %s)", tc.i, tc.name, reqs[tc.i].Key)
		switch c.Status {
		case idempotency.Claimed:
			assert.Equal(t, reqs[tc.i].Key, c.Lease.Key, "lease key of answer %d (%s)", tc.i, tc.name)
			assert.NotZero(t, c.Lease.Token, "lease token of answer %d (%s)", tc.i, tc.name)
			assert.True(t, c.Lease.Expires.Equal(now.Add(2*time.Minute)), "lease of answer %d (%s) expires %v", tc.i, tc.name, c.Lease.Expires)
		case idempotency.Completed:
			assert.Equal(t, "done", string(c.Result.Data), "result of answer %d (%s)", tc.i, tc.name)
		case idempotency.InProgress:
			assert.Positive(t, c.RetryAfter, "RetryAfter of answer %d (%s)", tc.i, tc.name)
		case idempotency.Mismatch:
			stored := fpB
			if tc.i >= 7 {
				stored = fpA
			}
			assert.Equal(t, stored, c.Fingerprint, "stored fingerprint of answer %d (%s)", tc.i, tc.name)
		}
	}
	assert.Equal(t, 40*time.Second, got[2].RetryAfter, "RetryAfter of %s 20s into a 1m lease", held)
	assert.Equal(t, 2*time.Minute, got[6].RetryAfter, "RetryAfter of %s claimed by the batch for 2m", fresh)
	assert.NotEqual(t, oldExpired.Token, got[4].Lease.Token, "token of the takeover of %s", expired)

	// The claims are durable and fence their keys like any other.
	assert.Equal(t, idempotency.InProgress, e.claim(t, fresh, fpA, time.Minute).Status, "claim of %s after the batch claimed it", fresh)
	assert.ErrorIs(t, e.s.Complete(ctx, oldExpired, idempotency.Result{}), idempotency.ErrLeaseLost, "Complete(%s) by the holder the batch took over from", expired)
	require.NoError(t, e.s.Complete(ctx, got[0].Lease, idempotency.Result{Data: []byte("batch")}), "Complete(%s) with the batch's lease", fresh)
	assert.Equal(t, "batch", string(e.claim(t, fresh, fpA, time.Minute).Result.Data), "data of %s completed with the batch's lease", fresh)
	require.NoError(t, e.s.Release(ctx, got[4].Lease), "Release(%s) with the batch's lease", expired)
	e.mustClaim(t, expired, fpB, time.Minute)

	// An empty batch answers nothing.
	got, err = bc.ClaimBatch(ctx, nil, time.Minute)
	require.NoError(t, err, "ClaimBatch of no request")
	assert.Empty(t, got, "answers of ClaimBatch of no request")

	// A failing batch claims nothing.
	free := e.key(t)
	cause := errors.New("test cancelled the context")
	cctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	_, err = bc.ClaimBatch(cctx, []idempotency.ClaimRequest{{Key: free, Fingerprint: fpA}}, time.Minute)
	assert.ErrorIs(t, err, cause, "ClaimBatch(%s) with a cancelled context", free)
	_, err = bc.ClaimBatch(ctx, []idempotency.ClaimRequest{{Key: free, Fingerprint: fpA}, {}}, time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrInvalidKey, "ClaimBatch of %s and the zero Key", free)
	_, err = bc.ClaimBatch(ctx, []idempotency.ClaimRequest{{Key: free, Fingerprint: fpA}}, 0)
	assert.Error(t, err, "ClaimBatch(%s) with lease 0", free)
	e.mustClaim(t, free, fpA, time.Minute) // the failed batches left nothing behind
}
