package flow_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/pgtest"
)

// sqliteState returns a new migrated SQLState in a new SQLite file.
func sqliteState(t *testing.T) *flow.SQLState { return sqliteStateB(t) }

// sqliteStateB is sqliteState for tests and benchmarks.
func sqliteStateB(t testing.TB) *flow.SQLState {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "state.db")))
	require.NoError(t, err, "open SQLite")
	t.Cleanup(func() { _ = db.Close() })
	s, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.SQLite})
	require.NoError(t, err, "NewSQLState SQLite")
	require.NoError(t, s.Migrate(context.Background()), "Migrate SQLite")
	require.NoError(t, s.Migrate(context.Background()), "Migrate SQLite again")
	return s
}

// postgresState returns a new migrated SQLState on the test server under
// a prefix of its own, dropped at the end (see pgtest.URL for when it
// skips).
func postgresState(t *testing.T) *flow.SQLState {
	t.Helper()
	db := pgtest.Open(t, pgtest.URL(t))
	var b [6]byte
	_, _ = rand.Read(b[:])
	s, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.Postgres, Prefix: "flowt_" + hex.EncodeToString(b[:]) + "_"})
	require.NoError(t, err, "NewSQLState PostgreSQL")
	require.NoError(t, s.Migrate(context.Background()), "Migrate PostgreSQL")
	t.Cleanup(func() { _ = s.Drop(context.Background()) })
	return s
}

// sqlStates open the SQL stores by dialect.
var sqlStates = map[string]func(*testing.T) *flow.SQLState{"sqlite": sqliteState, "postgres": postgresState}

// TestStateStores checks the StateStore contract on every store: an
// absent order, save and load, replace, the held list, and a cancelled
// context.
func TestStateStores(t *testing.T) {
	ctx := context.Background()
	stores := map[string]func(*testing.T) flow.StateStore{"memory": func(*testing.T) flow.StateStore { return &flow.MemoryState{} }}
	for name, open := range sqlStates {
		stores[name] = func(t *testing.T) flow.StateStore { return open(t) }
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			_, ok, err := s.LoadState(ctx, "ORD-1")
			require.NoError(t, err, "%s: load absent", name)
			assert.False(t, ok, "%s: absent order found", name)
			steps := []flow.StoredState{
				{OrderID: "ORD-1", Data: []byte(`{"a":1}`), Held: true, Version: 1},
				{OrderID: "ORD-2", Data: []byte(`{"b":2}`), Held: true, Version: 1},
				{OrderID: "ORD-3", Data: []byte(`{"c":3}`), Version: 1},
				{OrderID: "ORD-1", Data: []byte(`{"a":2}`), Final: true, Version: 2},
			}
			for _, st := range steps {
				require.NoError(t, s.SaveState(ctx, st), "%s: save %s", name, st.OrderID)
			}
			for _, want := range steps[1:] {
				got, ok, err := s.LoadState(ctx, want.OrderID)
				require.NoError(t, err, "%s: load %s", name, want.OrderID)
				require.True(t, ok, "%s: %s found", name, want.OrderID)
				assert.Equal(t, want, got, "%s: state of %s", name, want.OrderID)
			}
			held, err := s.HeldOrders(ctx)
			require.NoError(t, err, "%s: held", name)
			assert.Equal(t, []string{"ORD-2"}, held, "%s: held orders after ORD-1 was saved final", name)
			assert.Error(t, s.SaveState(ctx, flow.StoredState{Data: []byte(`{}`), Version: 1}), "%s: save without an order ID", name)
			for _, bad := range []flow.StoredState{
				{OrderID: "ORD-1", Data: []byte(`{"a":3}`), Version: 2}, // another flow saved version 2 first
				{OrderID: "ORD-1", Data: []byte(`{"a":3}`), Version: 4},
				{OrderID: "ORD-1", Data: []byte(`{"a":3}`), Version: 1},
				{OrderID: "ORD-1", Data: []byte(`{"a":3}`)},
				{OrderID: "ORD-9", Data: []byte(`{"z":1}`), Version: 2},
			} {
				assert.ErrorIs(t, s.SaveState(ctx, bad), flow.ErrStateConflict, "%s: save %s at version %d", name, bad.OrderID, bad.Version)
			}
			got, _, err := s.LoadState(ctx, "ORD-1")
			require.NoError(t, err, "%s: load after the conflicts", name)
			assert.Equal(t, steps[3], got, "%s: state of ORD-1 after the conflicts", name)
			_, ok, err = s.LoadState(ctx, "ORD-9")
			require.NoError(t, err, "%s: load ORD-9", name)
			assert.False(t, ok, "%s: ORD-9 saved at version 2 over none", name)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, _, err = s.LoadState(cctx, "ORD-1")
			assert.ErrorIs(t, err, context.Canceled, "%s: load with a cancelled context", name)
		})
	}
}

// TestSQLState checks what the SQL store adds: feed cursors, deleting final
// orders before a time, the not-migrated error and configuration errors.
func TestSQLState(t *testing.T) {
	ctx := context.Background()
	for name, open := range sqlStates {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			cur, err := s.Load(ctx, flow.FeedCRMOrders)
			require.NoError(t, err, "%s: load absent cursor", name)
			assert.Empty(t, cur, "%s: absent cursor", name)
			for _, c := range []connector.Cursor{"10", "25"} {
				require.NoError(t, s.Save(ctx, flow.FeedCRMOrders, c), "%s: save cursor %s", name, c)
			}
			cur, err = s.Load(ctx, flow.FeedCRMOrders)
			require.NoError(t, err, "%s: load cursor", name)
			assert.Equal(t, connector.Cursor("25"), cur, "%s: cursor", name)

			require.NoError(t, s.SaveState(ctx, flow.StoredState{OrderID: "ORD-F", Data: []byte(`{}`), Final: true, Version: 1}), "%s: save final", name)
			require.NoError(t, s.SaveState(ctx, flow.StoredState{OrderID: "ORD-O", Data: []byte(`{}`), Version: 1}), "%s: save open", name)
			n, err := s.DeleteFinal(ctx, time.Now().Add(-time.Hour))
			require.NoError(t, err, "%s: delete final an hour ago", name)
			assert.Zero(t, n, "%s: deleted final orders saved within the hour", name)
			n, err = s.DeleteFinal(ctx, time.Now().Add(time.Second))
			require.NoError(t, err, "%s: delete final", name)
			assert.Equal(t, 1, n, "%s: final orders deleted", name)
			_, ok, err := s.LoadState(ctx, "ORD-O")
			require.NoError(t, err, "%s: load open", name)
			assert.True(t, ok, "%s: the open order is kept", name)
			require.NoError(t, s.Drop(ctx), "%s: drop", name)
			_, _, err = s.LoadState(ctx, "ORD-O")
			assert.ErrorIs(t, err, flow.ErrStateNotMigrated, "%s: load after drop", name)
			require.NoError(t, s.Migrate(ctx), "%s: migrate again", name)
		})
	}
	for _, cfg := range []flow.SQLStateConfig{{}, {Dialect: idempotency.SQLite, Prefix: "bad-prefix"}} {
		_, err := flow.NewSQLState(&sql.DB{}, cfg)
		assert.ErrorIs(t, err, flow.ErrInvalidConfig, "NewSQLState %+v", cfg)
	}
	_, err := flow.NewSQLState(nil, flow.SQLStateConfig{Dialect: idempotency.SQLite})
	assert.ErrorIs(t, err, flow.ErrInvalidConfig, "NewSQLState with a nil *sql.DB")
}

// TestMemoryStateRetention checks that a MemoryState forgets a final order
// once its retention has passed since it was last saved, and keeps open
// ones.
func TestMemoryStateRetention(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	m := &flow.MemoryState{Retention: time.Hour, Now: clock}
	require.NoError(t, m.SaveState(ctx, flow.StoredState{OrderID: "FINAL", Data: []byte("f"), Final: true, Version: 1}), "save FINAL")
	require.NoError(t, m.SaveState(ctx, flow.StoredState{OrderID: "OPEN", Data: []byte("o"), Version: 1}), "save OPEN")
	advance(30 * time.Minute)
	require.NoError(t, m.SaveState(ctx, flow.StoredState{OrderID: "LATE", Data: []byte("l"), Final: true, Version: 1}), "save LATE")
	tests := []struct {
		after time.Duration
		want  map[string]bool
	}{
		{0, map[string]bool{"FINAL": true, "OPEN": true, "LATE": true}},
		{30 * time.Minute, map[string]bool{"FINAL": false, "OPEN": true, "LATE": true}},
		{30 * time.Minute, map[string]bool{"FINAL": false, "OPEN": true, "LATE": false}},
		{24 * time.Hour, map[string]bool{"FINAL": false, "OPEN": true, "LATE": false}},
	}
	for i, tt := range tests {
		advance(tt.after)
		for id, want := range tt.want {
			_, ok, err := m.LoadState(ctx, id)
			require.NoError(t, err, "step %d: load %s", i, id)
			assert.Equal(t, want, ok, "step %d: %s kept", i, id)
		}
	}
	assert.Equal(t, 1, m.Len(), "orders kept at the end")
}

// TestBadStoredState stores bytes that are not an order's state under the
// ID the CRM gives the first order: its event is dead-lettered with a
// reason naming the order and ErrBadState, while the next order completes.
func TestBadStoredState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		state := &flow.MemoryState{}
		require.NoError(t, state.SaveState(ctx, flow.StoredState{OrderID: "ORD-000001", Data: []byte(`{"v":1,"order":`), Version: 1}), "save")
		w := newSystems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, nil, flow.Config{Log: w.log, State: state})
		bad := w.submit(t, "ACC-0002", "SKU-100:3")
		require.Equal(t, "ORD-000001", bad, "ID of the first order")
		good := w.submit(t, "ACC-0002", "SKU-100:3")
		w.settle(t)
		v := w.agree(t, good)
		assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "the good order next to the bad state")
		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 1, "dead letters")
		assert.Equal(t, eventlog.ReasonPermanent, dls[0].Reason, "reason")
		assert.Contains(t, dls[0].Error, flow.ErrBadState.Error(), "error")
		assert.Contains(t, dls[0].Error, `order "ORD-000001"`, "error names the order")
		_, err = w.flow.Where(ctx, bad)
		assert.ErrorIs(t, err, flow.ErrBadState, "Where of the order with a bad state")
	})
}

// TestCompaction checks that completed orders leave memory: a late
// duplicate event reloads the order from the store and changes nothing,
// and an event naming an order forgotten after the store's retention is
// dead-lettered with ErrUnknownOrder.
func TestCompaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		state := &loadCounter{MemoryState: &flow.MemoryState{Retention: time.Hour}}
		w := newSystems(t)
		w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
		w.connect(t, nil, flow.Config{Log: w.log, State: state})
		id := w.submit(t, "ACC-0002", "SKU-100:3")
		w.settle(t)
		v := w.agree(t, id)
		require.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "billing of %s", id)
		assert.Empty(t, w.flow.Orders(), "orders in memory (Orders lists only them: the store is not a *MemoryState)")
		assert.Equal(t, 1, state.Len(), "orders in the store")
		shipped := lastShipped(t, w, id)

		// A late duplicate of the shipment: reloaded, a duplicate.
		dup := shipped
		dup.ID = "late-dup"
		require.NoError(t, w.log.Append(ctx, dup), "append the duplicate")
		before, loads := w.metrics.get(flow.CounterDuplicate), state.loads.Load()
		w.settle(t)
		assert.Equal(t, before+1, w.metrics.get(flow.CounterDuplicate), "the late duplicate is counted as one")
		assert.Greater(t, state.loads.Load(), loads, "the order is loaded from the store")
		assert.Equal(t, 1, w.erp.InvoiceCount(id), "invoices of %s after the late duplicate", id)
		assert.Empty(t, w.flow.Orders(), "orders in memory after the late duplicate")

		// After the retention the order is forgotten.
		time.Sleep(2 * time.Hour)
		assert.Zero(t, state.Len(), "orders in the store after the retention")
		late := shipped
		late.ID = "after-retention"
		require.NoError(t, w.log.Append(ctx, late), "append after the retention")
		w.settle(t)
		dls, err := w.flow.DeadLetters(ctx, eventlog.Filter{})
		require.NoError(t, err, "DeadLetters")
		require.Len(t, dls, 1, "dead letters")
		assert.Contains(t, dls[0].Error, flow.ErrUnknownOrder.Error(), "the event after the retention names an unknown order")
	})
}

// loadCounter counts the loads of a MemoryState.
type loadCounter struct {
	*flow.MemoryState
	loads atomic.Int64
}

func (l *loadCounter) LoadState(ctx context.Context, orderID string) (flow.StoredState, bool, error) {
	l.loads.Add(1)
	return l.MemoryState.LoadState(ctx, orderID)
}

// lastShipped returns the last fulfillment.shipped event of the order in
// the world's log.
func lastShipped(t *testing.T, w *world, orderID string) canonical.Event {
	t.Helper()
	es, err := w.log.Read(context.Background(), 0, 100000)
	require.NoError(t, err, "read the log")
	var out canonical.Event
	for _, e := range es {
		if e.Event.Type == canonical.EventFulfillmentShipped && e.Event.Partition() == orderID {
			out = e.Event
		}
	}
	require.NotEmpty(t, out.ID, "a shipment of %s in the log", orderID)
	return out
}

// TestTwoFlowsOneStore runs one order with two flows over one SQLite file,
// as two processes over a shared database one after the other: the first
// keeps a copy of the order in memory that the second makes stale. The
// first's next save fails with ErrStateConflict, it drops its copy and
// handles the event again from the stored state, and the order completes
// with one release and one invoice.
func TestTwoFlowsOneStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := newSystems(t)
		db, err := sql.Open("sqlite", sqliteDSN(path))
		require.NoError(t, err, "open SQLite")
		defer db.Close()
		el, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
		require.NoError(t, err, "eventlog.NewSQL")
		require.NoError(t, el.Migrate(ctx), "eventlog Migrate")
		st, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.SQLite})
		require.NoError(t, err, "NewSQLState")
		require.NoError(t, st.Migrate(ctx), "SQLState Migrate")
		w.log = el
		cfg := flow.Config{Log: el, State: st, Cursors: st}
		w.connect(t, nil, cfg)
		first, firstMetrics := w.flow, w.metrics
		id := w.submit(t, "ACC-0002", "SKU-100:3")
		require.NoError(t, first.Drain(ctx), "first Drain")
		w.metrics = &countMetrics{}
		w.connect(t, nil, cfg)
		second := w.flow
		_, err = w.wms.Step(ctx)
		require.NoError(t, err, "Step")
		require.NoError(t, second.Drain(ctx), "second Drain")
		retried := firstMetrics.get(flow.CounterRetried)
		w.flow = first
		w.settle(t)
		assert.Greater(t, firstMetrics.get(flow.CounterRetried), retried, "the first flow retried after the conflict")
		v := w.agree(t, id)
		assert.Equal(t, canonical.BillingInvoiced, v.Status.Billing, "billing of %s", id)
		assert.Equal(t, 1, w.wms.Counts().Releases, "releases")
		assert.Equal(t, 1, w.erp.InvoiceCount(id), "invoices of %s", id)
	})
}
