package idempotencytest_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/idempotency/idempotencytest"
)

// A manual clock drives a store's lease expiry without sleeping.
func ExampleClock() {
	clock := idempotencytest.NewClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{Now: clock.Now})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	ctx := context.Background()
	key := idempotency.MustParse("order-42")

	first, _ := store.Claim(ctx, key, idempotency.Fingerprint{}, time.Minute)
	second, _ := store.Claim(ctx, key, idempotency.Fingerprint{}, time.Minute)
	fmt.Println(first.Status, "/", second.Status, "retry after", second.RetryAfter)

	clock.Advance(time.Minute)
	third, _ := store.Claim(ctx, key, idempotency.Fingerprint{}, time.Minute)
	fmt.Println("after the lease:", third.Status)
	fmt.Println("old holder:", store.Complete(ctx, first.Lease, idempotency.Result{}))
	// Output:
	// claimed / in progress retry after 1m0s
	// after the lease: claimed
	// old holder: idempotency: key "order-42", token 1: idempotency: lease lost
}

// forgetsFingerprints is a broken store: it never reports a mismatch,
// so a key reused for another request replays the first one's result.
type forgetsFingerprints struct{ *idempotency.MemoryStore }

func (s forgetsFingerprints) Claim(ctx context.Context, k idempotency.Key, _ idempotency.Fingerprint, lease time.Duration) (idempotency.Claim, error) {
	return s.MemoryStore.Claim(ctx, k, idempotency.Fingerprint{}, lease)
}

// Run the kit against a store: a test calls Run with its t; Check runs the
// same checks anywhere and returns what failed, each failure prefixed with
// its check's name.
func ExampleCheck() {
	newMemory := func(cfg idempotencytest.Config) (*idempotency.MemoryStore, error) {
		return idempotency.NewMemoryStore(idempotency.MemoryConfig{Retention: cfg.Retention, Now: cfg.Now, ReapInterval: -1})
	}
	err := idempotencytest.Check(func(cfg idempotencytest.Config) (idempotency.Store, error) {
		return newMemory(cfg)
	})
	fmt.Println("MemoryStore passes:", err == nil)

	err = idempotencytest.Check(func(cfg idempotencytest.Config) (idempotency.Store, error) {
		m, err := newMemory(cfg)
		return forgetsFingerprints{m}, err
	})
	fmt.Println("forgetsFingerprints passes:", err == nil)
	seen := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		check, _, _ := strings.Cut(e.Error(), ": ")
		if !seen[check] {
			seen[check] = true
			fmt.Println("  failed:", check)
		}
	}
	// Output:
	// MemoryStore passes: true
	// forgetsFingerprints passes: false
	//   failed: ClaimNewKey
	//   failed: Mismatch
	//   failed: ExpiredLeaseOtherFingerprintIsMismatch
}
