package eventlog_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

// TestPostgresRestartUnderConsumers runs one consumer group in two
// "processes" (two *sql.DB, each with its own application_name), each
// under a supervisor that calls Run again whenever it returns, and
// terminates every session of both three times while they run, as a
// server restart or failover does (the sessions of other tests sharing
// the database are left alone). The group must stop or recover each
// time, never run a key's handler in both processes at once, and handle
// every event.
func TestPostgresRestartUnderConsumers(t *testing.T) {
	const (
		events = 3000
		keys   = 20
	)
	pgURL := postgresURL(t)
	ctl := openPostgres(t, pgURL)
	prefix := uniquePrefix()
	admin := newSQL(t, ctl, eventlog.Postgres, prefix)
	t.Cleanup(func() { _ = admin.Drop(context.Background()) })
	ctx := t.Context()
	evs := make([]canonical.Event, 0, events)
	for i := range events {
		evs = append(evs, eventlogtest.Event("key"+strconv.Itoa(i%keys), i/keys+1))
	}
	for i := 0; i < events; i += 200 {
		require.NoError(t, admin.Append(ctx, evs[i:i+200]...), "Append")
	}

	var mu sync.Mutex
	active := map[string]string{} // key -> process handling it
	overlaps := 0
	handled := map[string]int{}
	runErrs := map[string][]error{}
	handler := func(proc string) eventlog.Handler {
		return func(ctx context.Context, ev canonical.Event) error {
			key := ev.Partition()
			mu.Lock()
			if other, ok := active[key]; ok {
				overlaps++
				t.Errorf("key %s handled by %s while %s handles it", key, proc, other)
			}
			active[key] = proc
			mu.Unlock()
			var err error
			select {
			case <-time.After(time.Millisecond):
			case <-ctx.Done():
				err = ctx.Err()
			}
			mu.Lock()
			delete(active, key)
			if err == nil {
				handled[ev.ID]++
			}
			mu.Unlock()
			return err
		}
	}
	appName := func(proc string) string { return prefix + "restart_" + proc }
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, proc := range []string{"A", "B"} {
		u, err := url.Parse(pgURL)
		require.NoError(t, err, "parse the PostgreSQL URL")
		q := u.Query()
		q.Set("application_name", appName(proc))
		u.RawQuery = q.Encode()
		db := openPostgres(t, u.String())
		db.SetMaxIdleConns(8)
		s, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.Postgres, Prefix: prefix, LockCheck: 200 * time.Millisecond})
		require.NoError(t, err, "NewSQL")
		c, err := eventlog.NewConsumer(s, eventlog.ConsumerConfig{Group: "g", Workers: 4, PollInterval: 10 * time.Millisecond,
			Handler: handler(proc)})
		require.NoError(t, err, "NewConsumer")
		wg.Go(func() {
			for runCtx.Err() == nil {
				err := c.Run(runCtx)
				mu.Lock()
				runErrs[proc] = append(runErrs[proc], err)
				mu.Unlock()
				if runCtx.Err() == nil {
					time.Sleep(10 * time.Millisecond) // a supervisor's restart delay
				}
			}
		})
	}
	done := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(handled)
	}
	waitFor := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(120 * time.Second)
		for done() < n {
			if time.Now().After(deadline) {
				stop()
				wg.Wait()
				t.Fatalf("timed out waiting for %s (%d handled)", what, done())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	kills := 0
	for _, at := range []int{300, 1200, 2100} {
		waitFor(strconv.Itoa(at)+" events handled", at)
		var n int
		require.NoError(t, ctl.QueryRowContext(ctx, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "+
			"WHERE application_name IN ($1, $2)", appName("A"), appName("B")).Scan(&n), "terminate the sessions")
		require.Positive(t, n, "sessions terminated")
		kills += n
	}
	waitFor("every event handled", events)
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	twice := 0
	for _, n := range handled {
		twice += n - 1
	}
	lockLost := 0
	for proc, errs := range runErrs {
		for _, err := range errs {
			if errors.Is(err, eventlog.ErrLockLost) {
				lockLost++
			}
			t.Logf("%s: Run: %v", proc, err)
		}
	}
	t.Logf("events %d, sessions terminated %d, handled twice %d, runs stopped by a lost lock %d", events, kills, twice, lockLost)
	assert.Zero(t, overlaps, "handlings of one key in both processes at once")
	assert.Len(t, handled, events, "every event handled")
	assert.Positive(t, lockLost, "a run noticed its lost lock")
	st, err := admin.Group(ctx, "g")
	require.NoError(t, err, "Group")
	assert.Equal(t, uint64(events), st.Cursor, "the group's cursor covers every event")
}
