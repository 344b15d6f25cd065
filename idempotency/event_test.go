package idempotency_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/retry"
)

// eventStores are the stores the event tests run on.
var eventStores = map[string]func(t *testing.T) idempotency.Store{
	"memory": func(t *testing.T) idempotency.Store {
		return newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})
	},
	// The memory store behind the Store interface alone: HandleEvent takes
	// its general path, where a *MemoryStore takes one of its own.
	"memory/interface": func(t *testing.T) idempotency.Store {
		return struct{ idempotency.Store }{newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1})}
	},
	"SQLite": func(t *testing.T) idempotency.Store {
		return newSQLStore(t, openSQLite(t), idempotency.SQLConfig{Dialect: idempotency.SQLite})
	},
	"PostgreSQL": func(t *testing.T) idempotency.Store {
		return newSQLStore(t, openPostgres(t), idempotency.SQLConfig{Dialect: idempotency.Postgres})
	},
}

// TestHandleEventContentReused checks that an event whose source and id
// were already seen but whose content differs is not dropped as a
// duplicate: it is refused with a permanent error naming both
// fingerprints, which a consumer dead-letters.
func TestHandleEventContentReused(t *testing.T) {
	const source = "//wms.example/warehouse/7"
	five := idempotency.FingerprintBytes([]byte(`{"type":"shipment.confirmed","qty":"5"}`))
	seven := idempotency.FingerprintBytes([]byte(`{"type":"shipment.confirmed","qty":"7"}`))
	for name, newStore := range eventStores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			g := idempotency.Guard{Store: newStore(t), Lease: time.Minute}
			var effects []string
			post := func(what string) func(context.Context) error {
				return func(context.Context) error { effects = append(effects, what); return nil }
			}

			dup, err := g.HandleEvent(ctx, "erp", idempotency.EventRef{Source: source, ID: "evt-1", Fingerprint: five}, post("post 5"))
			require.NoError(t, err, "first delivery")
			assert.False(t, dup, "first delivery")
			dup, err = g.HandleEvent(ctx, "erp", idempotency.EventRef{Source: source, ID: "evt-1", Fingerprint: five}, post("post 5 again"))
			require.NoError(t, err, "redelivery with the same content")
			assert.True(t, dup, "redelivery with the same content is a duplicate")

			dup, err = g.HandleEvent(ctx, "erp", idempotency.EventRef{Source: source, ID: "evt-1", Fingerprint: seven}, post("post 7"))
			assert.False(t, dup, "an event reusing a seen id with other content is not a duplicate")
			require.ErrorIs(t, err, idempotency.ErrMismatch, "an event reusing a seen id with other content")
			var me *idempotency.MismatchError
			require.ErrorAs(t, err, &me, "an event reusing a seen id with other content")
			assert.Equal(t, five, me.Stored, "MismatchError.Stored")
			assert.Equal(t, seven, me.Got, "MismatchError.Got")
			assert.Equal(t, source, me.Source, "MismatchError.Source")
			assert.Equal(t, "evt-1", me.ID, "MismatchError.ID")
			assert.ErrorContains(t, err, five.String(), "the error names the stored fingerprint")
			assert.ErrorContains(t, err, seven.String(), "the error names this delivery's fingerprint")
			assert.True(t, retry.IsPermanent(err), "the error is permanent, so the consumer dead-letters the event: %v", err)

			// Another content while the first delivery is still in flight
			// is refused the same way, not answered "in progress".
			var inner error
			_, err = g.HandleEvent(ctx, "erp", idempotency.EventRef{Source: source, ID: "evt-2", Fingerprint: five}, func(ctx context.Context) error {
				_, inner = g.HandleEvent(ctx, "erp", idempotency.EventRef{Source: source, ID: "evt-2", Fingerprint: seven}, post("post 7 for evt-2"))
				effects = append(effects, "post 5 for evt-2")
				return nil
			})
			require.NoError(t, err, "evt-2 with content 5")
			assert.ErrorIs(t, inner, idempotency.ErrMismatch, "evt-2 with content 7 while content 5 is in flight")
			assert.False(t, errors.Is(inner, idempotency.ErrInProgress), "evt-2 with other content while in flight is not 'in progress'")

			// Unknown content on one side: the source and id alone decide.
			dup, err = g.HandleEvent(ctx, "erp", idempotency.EventRef{Source: source, ID: "evt-1"}, post("post unknown"))
			require.NoError(t, err, "unfingerprinted delivery of a fingerprinted event")
			assert.True(t, dup, "unfingerprinted delivery of a fingerprinted event is a duplicate")
			_, err = g.HandleEvent(ctx, "erp", idempotency.EventRef{Source: source, ID: "evt-3"}, post("post evt-3"))
			require.NoError(t, err, "evt-3 without a fingerprint")
			dup, err = g.HandleEvent(ctx, "erp", idempotency.EventRef{Source: source, ID: "evt-3", Fingerprint: seven}, post("post evt-3 again"))
			require.NoError(t, err, "fingerprinted redelivery of evt-3, stored without one")
			assert.True(t, dup, "fingerprinted redelivery of an event stored without a fingerprint is a duplicate")

			assert.Equal(t, []string{"post 5", "post 5 for evt-2", "post evt-3"}, effects, "effects")
		})
	}
}

// TestHandleEventAllocations checks that HandleEvent on a MemoryStore
// allocates nothing per new event handled successfully: the event's key is
// derived on the stack and the record keeps its own copy. (The store's
// table and records grow now and then; that is less than one allocation
// per event.)
func TestHandleEventAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's allocations vary")
	}
	g := idempotency.Guard{Store: newMemoryStore(t, idempotency.MemoryConfig{ReapInterval: -1}), Lease: time.Minute}
	const runs = 4000
	refs := make([]idempotency.EventRef, runs+1)
	for i := range refs {
		refs[i] = idempotency.EventRef{Source: "//wms.example/warehouse/7", ID: "evt-" + strconv.Itoa(i),
			Fingerprint: idempotency.FingerprintBytes([]byte(strconv.Itoa(i)))}
	}
	ctx := context.Background()
	ran := 0
	fn := func(context.Context) error { ran++; return nil }
	n := 0
	allocs := testing.AllocsPerRun(runs, func() {
		dup, err := g.HandleEvent(ctx, "erp", refs[n], fn)
		if err != nil || dup {
			t.Errorf("HandleEvent(%s) = %v, %v; want a first handling", refs[n].ID, dup, err)
		}
		n++
	})
	assert.Equal(t, n, ran, "handler runs")
	assert.Zero(t, allocs, "allocations per new event")
	// The keys were stored: a redelivery is a duplicate.
	dup, err := g.HandleEvent(ctx, "erp", refs[7], fn)
	require.NoError(t, err, "redelivery")
	assert.True(t, dup, "redelivery is a duplicate")
}
