package idempotency_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/distsync/distsync/idempotency"
)

// BenchmarkHandleEventMemory measures HandleEvent on a MemoryStore for
// events seen for the first time (claim, handler, complete), as a
// consumer's dedupe does for each new event: ns/op is per event. The
// store grows by one record per event.
func BenchmarkHandleEventMemory(b *testing.B) {
	g := idempotency.Guard{Store: newMemoryStore(b, idempotency.MemoryConfig{ReapInterval: -1, MaxKeys: -1, MaxBytes: -1}), Lease: time.Minute}
	const pool = 1 << 18
	refs := make([]idempotency.EventRef, pool)
	for i := range refs {
		refs[i] = idempotency.EventRef{Source: "//wms.example/warehouse/7", ID: "evt-" + strconv.Itoa(i),
			Fingerprint: idempotency.FingerprintBytes([]byte(strconv.Itoa(i)))}
	}
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// A pool's worth of events per consumer name, so that every
		// event is new.
		consumer := "c" + strconv.Itoa(i/pool)
		if _, err := g.HandleEvent(ctx, consumer, refs[i%pool], fn); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
