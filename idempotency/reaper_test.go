package idempotency_test

import (
	"context"
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
	// The real thing, end to end: expired rows of an SQLite store are
	// deleted by RunReaper. The clock is injected; the ticker is real but
	// short, and the test waits for the rows to go, not for a duration.
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db := openSQLite(t)
	s := newSQLStore(t, db, idempotency.SQLConfig{Dialect: idempotency.SQLite, Retention: time.Hour, Now: clock})
	k := idempotency.MustParse("reap-me")
	_, err := s.Claim(ctx, k, idempotency.Fingerprint{}, time.Minute)
	require.NoError(t, err, "Claim")
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()

	done := make(chan error, 1)
	go func() { done <- idempotency.RunReaper(ctx, s, time.Millisecond, nil) }()
	rows := func() int {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM "+s.Table()).Scan(&n), "count rows")
		return n
	}
	require.Equal(t, 1, rows(), "rows before reaping")
	require.Eventually(t, func() bool { return rows() == 0 }, 10*time.Second, time.Millisecond, "expired row of %s reaped by RunReaper", k)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "RunReaper after cancel")
}
