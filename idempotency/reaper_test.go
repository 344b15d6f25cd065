package idempotency_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/idempotency"
)

// countingReaper records when it was called and fails on chosen calls.
type countingReaper struct {
	mu     sync.Mutex
	calls  []time.Time
	failOn map[int]bool
}

func (r *countingReaper) Reap(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, time.Now())
	if r.failOn[len(r.calls)] {
		return 0, errors.New("database is restarting")
	}
	return 1, nil
}

func (r *countingReaper) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func TestRunReaper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &countingReaper{failOn: map[int]bool{2: true}}
		ctx, cancel := context.WithCancelCause(context.Background())
		done := make(chan error, 1)
		go func() { done <- idempotency.RunReaper(ctx, r, time.Minute, nil) }()

		time.Sleep(time.Minute - time.Nanosecond)
		synctest.Wait()
		assert.Zero(t, r.count(), "Reap calls before the first interval")
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		assert.Equal(t, 4, r.count(), "Reap calls after 4m59s at 1m intervals, the second failing")

		stop := errors.New("shutting down")
		cancel(stop)
		synctest.Wait()
		assert.ErrorIs(t, <-done, stop, "RunReaper returns the context's cause")
		assert.Equal(t, 4, r.count(), "no Reap after cancellation")
	})
	err := idempotency.RunReaper(context.Background(), &countingReaper{}, 0, nil)
	require.ErrorIs(t, err, idempotency.ErrInvalidConfig, "RunReaper with interval 0")
}

func TestRunReaperWithSQLStore(t *testing.T) {
	// The real thing, end to end: rows of an SQLite or PostgreSQL store
	// whose retention passed are deleted by RunReaper, and the others are
	// kept. The clock is injected; the ticker is real but short, and the
	// test waits for the rows to go, not for a duration.
	dbs := map[string]func(t *testing.T) (*sql.DB, idempotency.Dialect){
		"SQLite":     func(t *testing.T) (*sql.DB, idempotency.Dialect) { return openSQLite(t), idempotency.SQLite },
		"PostgreSQL": func(t *testing.T) (*sql.DB, idempotency.Dialect) { return openPostgres(t), idempotency.Postgres },
	}
	for name, open := range dbs {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var mu sync.Mutex
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
			db, dialect := open(t)
			s := newSQLStore(t, db, idempotency.SQLConfig{Dialect: dialect, Retention: time.Hour, Now: clock})
			claim := func(k string) idempotency.Lease {
				c, err := s.Claim(ctx, idempotency.MustParse(k), idempotency.Fingerprint{}, time.Minute)
				require.NoError(t, err, "Claim(%s)", k)
				return c.Lease
			}
			require.NoError(t, s.Complete(ctx, claim("completed-old"), idempotency.Result{Data: []byte("v")}), "Complete(completed-old)")
			claim("abandoned-old")
			advance(50 * time.Minute)
			require.NoError(t, s.Complete(ctx, claim("completed-young"), idempotency.Result{Data: []byte("v")}), "Complete(completed-young)")
			advance(11 * time.Minute) // the old ones are 61 minutes old, the young one 11

			done := make(chan error, 1)
			go func() { done <- idempotency.RunReaper(ctx, s, time.Millisecond, nil) }()
			keys := func() []string {
				rows, err := db.QueryContext(ctx, "SELECT k FROM "+s.Table()+" ORDER BY k")
				require.NoError(t, err, "list rows")
				defer rows.Close()
				var ks []string
				for rows.Next() {
					var k string
					require.NoError(t, rows.Scan(&k), "scan")
					ks = append(ks, k)
				}
				return ks
			}
			require.Eventually(t, func() bool { return len(keys()) == 1 }, 10*time.Second, time.Millisecond, "rows older than the retention reaped by RunReaper")
			assert.Equal(t, []string{"completed-young"}, keys(), "rows left: the one within its retention")
			cancel()
			assert.ErrorIs(t, <-done, context.Canceled, "RunReaper after cancel")
		})
	}
}
