package idempotencytest_test

import (
	"context"
	"fmt"
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
