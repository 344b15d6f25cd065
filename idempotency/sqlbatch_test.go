package idempotency_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/idempotency"
)

// TestSQLStoreConcurrentClaimBatches races batches over the same keys,
// each in its own order, with claims alone: every key is claimed exactly
// once, and no batch fails (on PostgreSQL the batches take the rows in key
// order, so they do not deadlock).
func TestSQLStoreConcurrentClaimBatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *idempotency.SQLStore
	}{
		{"sqlite", func(t *testing.T) *idempotency.SQLStore {
			db := openSQLite(t)
			db.SetMaxOpenConns(1)
			return newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
		}},
		{"postgres", func(t *testing.T) *idempotency.SQLStore {
			db := openPostgres(t)
			db.SetMaxIdleConns(8)
			return newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.Postgres})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			const keys, batches = 40, 6
			var all []idempotency.ClaimRequest
			for i := range keys {
				all = append(all, idempotency.ClaimRequest{Key: idempotency.Derive("test", "batch", fmt.Sprint(i)),
					Fingerprint: idempotency.FingerprintBytes([]byte("same"))})
			}
			var mu sync.Mutex
			won := map[idempotency.Key]int{}
			var wg sync.WaitGroup
			for b := range batches {
				reqs := make([]idempotency.ClaimRequest, keys)
				for i := range keys {
					reqs[i] = all[(i*(2*b+1)+b)%keys] // each batch in its own order
				}
				wg.Go(func() {
					got, err := s.ClaimBatch(context.Background(), reqs, time.Minute)
					if !assert.NoError(t, err, "ClaimBatch %d", b) {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					for i, c := range got {
						if c.Status == idempotency.Claimed {
							won[reqs[i].Key]++
						} else {
							assert.Equal(t, idempotency.InProgress, c.Status, "answer of batch %d to %s", b, reqs[i].Key)
						}
					}
				})
			}
			for i := range keys {
				wg.Go(func() {
					c, err := s.Claim(context.Background(), all[i].Key, all[i].Fingerprint, time.Minute)
					if !assert.NoError(t, err, "Claim %s", all[i].Key) {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if c.Status == idempotency.Claimed {
						won[all[i].Key]++
					}
				})
			}
			wg.Wait()
			for _, r := range all {
				assert.Equal(t, 1, won[r.Key], "claims of %s that won", r.Key)
			}
		})
	}
}
