package idempotency_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/distsync/distsync/idempotency"
)

// BenchmarkMemoryStoreClaimCompleteFresh claims and completes a new key
// (derived in the loop) each time in a store without limits, as a consumer's dedupe does for a
// stream of distinct events: the store grows for the whole run (its
// tables, its arena of records), unlike the working sets above.
func BenchmarkMemoryStoreClaimCompleteFresh(b *testing.B) {
	s := newMemoryStore(b, idempotency.MemoryConfig{ReapInterval: -1, MaxKeys: -1, MaxBytes: -1})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		claimComplete(b, ctx, s, idempotency.Derive("bench", "fresh", strconv.Itoa(i)))
		i++
	}
}
