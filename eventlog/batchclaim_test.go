package eventlog_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/retry"
)

// countingStore is an SQLStore that counts its claims, alone and in
// batches.
type countingStore struct {
	*idempotency.SQLStore
	alone, batches, batched atomic.Int64
}

func (s *countingStore) Claim(ctx context.Context, k idempotency.Key, fp idempotency.Fingerprint, lease time.Duration) (idempotency.Claim, error) {
	s.alone.Add(1)
	return s.SQLStore.Claim(ctx, k, fp, lease)
}

func (s *countingStore) ClaimBatch(ctx context.Context, reqs []idempotency.ClaimRequest, lease time.Duration) ([]idempotency.Claim, error) {
	s.batches.Add(1)
	s.batched.Add(int64(len(reqs)))
	return s.SQLStore.ClaimBatch(ctx, reqs, lease)
}

// newCountingStore returns a migrated SQLStore over db in a table named
// after prefix.
func newCountingStore(t *testing.T, db *sql.DB, d idempotency.Dialect, prefix string) *countingStore {
	t.Helper()
	st, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: d, Table: prefix + "keys"})
	require.NoError(t, err, "NewSQLStore")
	require.NoError(t, st.Migrate(context.Background()), "idempotency Migrate")
	t.Cleanup(func() {
		_ = st.Close()
		if d == idempotency.Postgres {
			_, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+st.Table())
		}
	})
	return &countingStore{SQLStore: st}
}

// TestConsumerClaimsReadyEventsTogether runs a consumer over an SQL
// backend whose dedupe store is an idempotency.BatchClaimer: the events it
// reads at once are claimed in one batch, no handler claims alone, every
// event is handled once and its key completed, and an event whose key was
// completed before is skipped.
func TestConsumerClaimsReadyEventsTogether(t *testing.T) {
	sqlBackends(t, func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string) {
		ctx := t.Context()
		d := idempotency.SQLite
		if strings.HasPrefix(s.String(), "postgres") {
			d = idempotency.Postgres
		}
		st := newCountingStore(t, db, d, prefix)
		const events = 60
		var evs []canonical.Event
		for i := range events {
			evs = append(evs, eventlogtest.Event("key"+strconv.Itoa(i), 1))
		}
		// The first event was handled before: its key is completed.
		c0, err := st.SQLStore.Claim(ctx, idempotency.EventKey("g", evs[0].Source, evs[0].ID), fingerprintOf(t, evs[0]), time.Minute)
		require.NoError(t, err, "claim the key of %s", evs[0].ID)
		require.Equal(t, idempotency.Claimed, c0.Status, "claim the key of %s", evs[0].ID)
		require.NoError(t, st.SQLStore.Complete(ctx, c0.Lease, idempotency.Result{}), "complete the key of %s", evs[0].ID)
		require.NoError(t, s.Append(ctx, evs...), "Append")

		var mu sync.Mutex
		handled := map[string]int{}
		c, err := eventlog.NewConsumer(s, eventlog.ConsumerConfig{Group: "g", Workers: 4, Dedupe: st, PollInterval: time.Millisecond,
			Handler: func(ctx context.Context, ev canonical.Event) error {
				mu.Lock()
				defer mu.Unlock()
				handled[ev.ID]++
				return nil
			}})
		require.NoError(t, err, "NewConsumer")
		runConsumerUntilIdle(t, c)

		assert.Zero(t, handled[evs[0].ID], "handlings of %s, whose key was completed before", evs[0].ID)
		for _, ev := range evs[1:] {
			assert.Equal(t, 1, handled[ev.ID], "handlings of %s", ev.ID)
		}
		for _, ev := range evs {
			rec, err := st.Lookup(ctx, idempotency.EventKey("g", ev.Source, ev.ID))
			if assert.NoError(t, err, "dedupe record of %s", ev.ID) {
				assert.Equal(t, idempotency.Completed, rec.Status, "dedupe record of %s", ev.ID)
			}
		}
		assert.Zero(t, st.alone.Load(), "claims made alone")
		assert.Equal(t, int64(events), st.batched.Load(), "claims made in batches")
		assert.Positive(t, st.batches.Load(), "batch claims")
		assert.Less(t, st.batches.Load(), int64(events/2), "batch claims for %d events", events)
	})
}

// fingerprintOf returns the content fingerprint a consumer over a durable
// store claims ev with (SHA-256),
// read back from the record of a consumer that handled it.
func fingerprintOf(t *testing.T, ev canonical.Event) idempotency.Fingerprint {
	t.Helper()
	m := eventlog.NewMemory(eventlog.MemoryConfig{})
	st, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1})
	require.NoError(t, err, "NewMemoryStore")
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, m.Append(t.Context(), ev), "Append %s", ev.ID)
	// Behind a wrapper, the consumer fingerprints as it does for any
	// store but a MemoryStore, which gets a per-process hash.
	c, err := eventlog.NewConsumer(m, eventlog.ConsumerConfig{Group: "fp", Dedupe: struct{ idempotency.Store }{st},
		Handler: func(context.Context, canonical.Event) error { return nil }})
	require.NoError(t, err, "NewConsumer")
	runConsumerUntilIdle(t, c)
	rec, err := st.Lookup(t.Context(), idempotency.EventKey("fp", ev.Source, ev.ID))
	require.NoError(t, err, "dedupe record of %s", ev.ID)
	return rec.Fingerprint
}

// runConsumerUntilIdle runs c until it is idle, then stops it.
func runConsumerUntilIdle(t *testing.T, c *eventlog.Consumer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	require.NoError(t, c.WaitIdle(ctx), "WaitIdle")
	cancel()
	require.ErrorIs(t, <-runErr, context.Canceled, "Run")
}

// openSQLiteClaims opens, inside a synctest bubble, an SQLite backend and
// dedupe store sharing one connection, as the flow's SQLite setup does.
func openSQLiteClaims(t *testing.T) (*sql.DB, *eventlog.SQL, *countingStore) {
	t.Helper()
	db := openSQLite(t, filepath.Join(t.TempDir(), "log.db"))
	db.SetMaxOpenConns(1)
	return db, newSQL(t, db, eventlog.SQLite, ""), newCountingStore(t, db, idempotency.SQLite, "")
}

// TestConsumerBatchClaimInProgressParks: an event whose key another holder
// has under a live lease when the batch claims it is parked, as a claim
// alone would have it, and handled once that lease has ended.
func TestConsumerBatchClaimInProgressParks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		_, s, st := openSQLiteClaims(t)
		evs := []canonical.Event{eventlogtest.Event("a", 1), eventlogtest.Event("b", 1)}
		held := 10 * time.Minute
		other, err := st.SQLStore.Claim(ctx, idempotency.EventKey("g", evs[0].Source, evs[0].ID), fingerprintOf(t, evs[0]), held)
		require.NoError(t, err, "claim of %s by another holder", evs[0].ID)
		require.Equal(t, idempotency.Claimed, other.Status, "claim of %s by another holder", evs[0].ID)
		require.NoError(t, s.Append(ctx, evs...), "Append")

		start := time.Now()
		var mu sync.Mutex
		at := map[string][]time.Duration{}
		c, err := eventlog.NewConsumer(s, eventlog.ConsumerConfig{Group: "g", Dedupe: st, Lease: time.Minute, PollInterval: time.Second,
			Handler: func(ctx context.Context, ev canonical.Event) error {
				mu.Lock()
				defer mu.Unlock()
				at[ev.ID] = append(at[ev.ID], time.Since(start))
				return nil
			}})
		require.NoError(t, err, "NewConsumer")
		runConsumerUntilIdle(t, c)
		require.Len(t, at[evs[1].ID], 1, "handlings of %s", evs[1].ID)
		require.Len(t, at[evs[0].ID], 1, "handlings of %s, held by another lease at first", evs[0].ID)
		assert.GreaterOrEqual(t, at[evs[0].ID][0], held, "when %s was handled, its key held by another for %v", evs[0].ID, held)
		assert.Less(t, at[evs[1].ID][0], time.Second, "when %s was handled", evs[1].ID)
	})
}

// TestConsumerReleasesClaimsOfUnhandledEvents stops a consumer while its
// one worker handles the first of the events it claimed together: the
// claims of the events it took back unhandled are released when Run
// returns, so the next Run handles them at once rather than finding them
// in progress until their leases end.
func TestConsumerReleasesClaimsOfUnhandledEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		_, s, st := openSQLiteClaims(t)
		var evs []canonical.Event
		for i := range 10 {
			evs = append(evs, eventlogtest.Event("key"+strconv.Itoa(i), 1))
		}
		require.NoError(t, s.Append(ctx, evs...), "Append")
		started := make(chan struct{})
		cfg := eventlog.ConsumerConfig{Group: "g", Workers: 1, Dedupe: st, Lease: time.Hour, DrainTimeout: time.Second, PollInterval: time.Second,
			Handler: func(ctx context.Context, ev canonical.Event) error {
				close(started) // one call only: it blocks until the drain ends
				<-ctx.Done()
				return context.Cause(ctx)
			}}
		c, err := eventlog.NewConsumer(s, cfg)
		require.NoError(t, err, "NewConsumer")
		runCtx, cancel := context.WithCancel(ctx)
		runErr := make(chan error, 1)
		go func() { runErr <- c.Run(runCtx) }()
		<-started
		cancel()
		require.ErrorIs(t, <-runErr, context.Canceled, "Run")
		require.Equal(t, int64(len(evs)), st.batched.Load(), "events claimed in batches")
		for _, ev := range evs {
			_, err := st.Lookup(ctx, idempotency.EventKey("g", ev.Source, ev.ID))
			assert.ErrorIs(t, err, idempotency.ErrNotFound, "dedupe record of %s after the run stopped", ev.ID)
		}

		start := time.Now()
		var mu sync.Mutex
		handled := map[string]int{}
		cfg.Handler = func(ctx context.Context, ev canonical.Event) error {
			mu.Lock()
			defer mu.Unlock()
			handled[ev.ID]++
			return nil
		}
		c, err = eventlog.NewConsumer(s, cfg)
		require.NoError(t, err, "NewConsumer")
		runConsumerUntilIdle(t, c)
		for _, ev := range evs {
			assert.Equal(t, 1, handled[ev.ID], "handlings of %s by the next run", ev.ID)
		}
		assert.Less(t, time.Since(start), time.Second, "time the next run took to handle them all")
	})
}

// TestConsumerReleasesClaimWhenDeferredWritesFail: when the writes an
// event's handler deferred fail, in the group's transaction and alone, the
// completion of its dedupe claim, deferred with them, rolls back; the
// claim is released, so the event's retry claims its key again at once
// instead of finding it in progress until the lease ends.
func TestConsumerReleasesClaimWhenDeferredWritesFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db, s, st := openSQLiteClaims(t)
		_, err := db.ExecContext(ctx, "CREATE TABLE applied (id TEXT PRIMARY KEY)")
		require.NoError(t, err, "create applied")
		evs := []canonical.Event{eventlogtest.Event("a", 1), eventlogtest.Event("b", 1)}
		require.NoError(t, s.Append(ctx, evs...), "Append")
		const lease = time.Hour
		start := time.Now()
		var mu sync.Mutex
		at := map[string][]time.Duration{}
		failures := 2 // the group's transaction and the event's own
		c, err := eventlog.NewConsumer(s, eventlog.ConsumerConfig{Group: "g", Dedupe: st, Lease: lease, PollInterval: time.Second,
			Policy: eventlog.ErrorPolicy{Backoff: retry.Backoff{InitialInterval: time.Second, Jitter: retry.NoJitter}},
			Handler: func(hctx context.Context, ev canonical.Event) error {
				mu.Lock()
				defer mu.Unlock()
				at[ev.ID] = append(at[ev.ID], time.Since(start))
				id := ev.ID
				ok := eventlog.Defer(hctx, db, func(ctx context.Context, tx *sql.Tx) error {
					if id == evs[0].ID {
						mu.Lock()
						fail := failures > 0
						failures--
						mu.Unlock()
						if fail {
							return errors.New("test: the deferred write fails")
						}
					}
					_, err := tx.ExecContext(ctx, "INSERT INTO applied (id) VALUES (?)", id)
					return err
				}, nil)
				if !ok {
					return errors.New("Defer did not defer")
				}
				return nil
			}})
		require.NoError(t, err, "NewConsumer")
		runConsumerUntilIdle(t, c)

		require.Len(t, at[evs[1].ID], 1, "handlings of %s", evs[1].ID)
		require.Len(t, at[evs[0].ID], 2, "handlings of %s, whose writes failed the first time", evs[0].ID)
		assert.Less(t, at[evs[0].ID][1], time.Minute, "when %s was handled again (its claim's lease is %v)", evs[0].ID, lease)
		committed := appliedIDs(t, db)
		for _, ev := range evs {
			assert.True(t, committed[ev.ID], "write of %s stored", ev.ID)
			rec, err := st.Lookup(ctx, idempotency.EventKey("g", ev.Source, ev.ID))
			if assert.NoError(t, err, "dedupe record of %s", ev.ID) {
				assert.Equal(t, idempotency.Completed, rec.Status, "dedupe record of %s", ev.ID)
			}
		}
	})
}

// TestDeferAfterRunsBeforeTheKeysNextEvent defers a write for each of
// three events of one key with an after function that records the write
// as applied, in a plain variable, as the flow records a saved state's
// version: each event's handler must find the previous event's after
// done. Run under -race, an after called once the next event had started
// is a data race as well as a wrong count.
func TestDeferAfterRunsBeforeTheKeysNextEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db, s, _ := openSQLiteClaims(t)
		_, err := db.ExecContext(ctx, "CREATE TABLE applied (id TEXT PRIMARY KEY)")
		require.NoError(t, err, "create applied")
		evs := []canonical.Event{eventlogtest.Event("k", 1), eventlogtest.Event("k", 2), eventlogtest.Event("k", 3)}
		require.NoError(t, s.Append(ctx, evs...), "Append")
		applied := 0 // written by the after functions, read by the handlers: no lock
		var seen []int
		c, err := eventlog.NewConsumer(s, eventlog.ConsumerConfig{Group: "g", PollInterval: time.Second,
			Handler: func(hctx context.Context, ev canonical.Event) error {
				seen = append(seen, applied)
				id := ev.ID
				if !eventlog.Defer(hctx, db, func(ctx context.Context, tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, "INSERT INTO applied (id) VALUES (?)", id)
					return err
				}, func() { applied++ }) {
					return errors.New("Defer did not defer")
				}
				return nil
			}})
		require.NoError(t, err, "NewConsumer")
		runConsumerUntilIdle(t, c)
		assert.Equal(t, []int{0, 1, 2}, seen, "writes recorded as applied when each of the key's events started")
		assert.Equal(t, 3, applied, "after functions called")
	})
}
