package flow_test

import (
	"cmp"
	"context"
	"path/filepath"
	"sync"
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
)

// stuckERP is an ERP whose AcceptOrder never comes back to its caller
// until unstuck, and then fails without reaching the ERP: the handler of a
// process that died in the call.
type stuckERP struct {
	connector.ERP
	entered chan struct{} // closed at the first call
	once    sync.Once
	unstuck chan struct{}
}

func (e *stuckERP) AcceptOrder(context.Context, string, *canonical.Order) (canonical.OrderAck, error) {
	e.once.Do(func() { close(e.entered) })
	<-e.unstuck // deaf to its context, as a dead process is to everything
	return canonical.OrderAck{}, errCrash
}

func (e *stuckERP) Unwrap() any { return e.ERP }

// TestDedupeLeaseAfterCrash crashes a flow, in real time, while its
// consumer holds the dedupe claim of an order's event (its handler is stuck
// in the ERP and never returns or releases the claim), then starts a new
// flow on the same SQLite file: with Config.DedupeLease of 2 s, the new
// flow handles the event once the lease has run out, within a bounded real
// time, rather than after idempotency.DefaultLease (5 minutes).
func TestDedupeLeaseAfterCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: waits for a 2 s lease")
	}
	const lease = 2 * time.Second
	path := filepath.Join(t.TempDir(), "flow.db")
	w := newSystems(t)
	build := func(wrap ...func(connector.ERP) connector.ERP) *flow.Flow {
		ctx := context.Background()
		db := openSQLite(t, path)
		t.Cleanup(func() { _ = db.Close() })
		el, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
		require.NoError(t, err, "eventlog.NewSQL")
		require.NoError(t, el.Migrate(ctx), "eventlog Migrate")
		dedup, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
		require.NoError(t, err, "idempotency.NewSQLStore")
		require.NoError(t, dedup.Migrate(ctx), "idempotency Migrate")
		t.Cleanup(func() { _ = dedup.Close() })
		st, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.SQLite})
		require.NoError(t, err, "NewSQLState")
		require.NoError(t, st.Migrate(ctx), "SQLState Migrate")
		w.log = el
		w.connect(t, nil, flow.Config{Log: el, State: st, Cursors: st, Dedupe: dedup, DedupeLease: lease}, wrap...)
		return w.flow
	}

	stuck := &stuckERP{entered: make(chan struct{}), unstuck: make(chan struct{})}
	crashed := build(func(e connector.ERP) connector.ERP { stuck.ERP = e; return stuck })
	id := w.submit(t, "ACC-0002", "SKU-100:3")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- crashed.Run(ctx) }()
	select {
	case <-stuck.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the first flow did not call AcceptOrder within 30 s")
	}
	// The crash: the first flow stops polling and reading the log, but its
	// handler never returns, so its claim is neither completed nor
	// released. The handler is let go only at the end.
	cancel()
	t.Cleanup(func() {
		close(stuck.unstuck)
		<-done
	})

	start := time.Now()
	w.flow = build()
	dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer dcancel()
	require.NoError(t, w.flow.Drain(dctx), "Drain of the restarted flow")
	took := time.Since(start)
	v, err := w.flow.Where(context.Background(), id)
	require.NoError(t, err, "Where %s", id)
	assert.Equal(t, "released", v.Phase, "phase after the restart (took %v)", took)
	assert.Less(t, took, 15*time.Second, "the restarted flow waited for the lease of %v, not more", lease)
	assert.Empty(t, v.DeadLetters, "dead letters of %s", id)
	t.Logf("the restarted flow released %s %v after the crash (lease %v)", id, took.Round(time.Millisecond), lease)
	w.settle(t)
	v = w.agree(t, id)
	assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "fulfilment of %s", id)
	assert.Equal(t, 1, w.erp.Counts().Orders, "accepted in the ERP once")
}

// slowERP is an ERP whose AcceptOrder takes d before it reaches the ERP,
// counting the calls and the most that ran at once.
type slowERP struct {
	connector.ERP
	d                time.Duration
	mu               sync.Mutex
	calls, now, most int
}

func (e *slowERP) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (canonical.OrderAck, error) {
	e.mu.Lock()
	e.calls++
	e.now++
	e.most = max(e.most, e.now)
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.now--
		e.mu.Unlock()
	}()
	time.Sleep(e.d)
	return e.ERP.AcceptOrder(ctx, key, o)
}

func (e *slowERP) Unwrap() any { return e.ERP }

// TestDedupeLeaseSlowHandler: a handler that runs ten times longer than
// Config.DedupeLease keeps its claim within one flow. The order's event is
// in the log twice (a feed page read twice; the CRM's feed gives a third)
// and the flow has four workers. In the order's partition, the consumer
// hands the copies to one handler at a time: each waits for the first and
// finds its claim completed. A copy in another partition would be handled
// beside the first and take its expired claim over (two AcceptOrder calls
// at once, before the flow checked partitions): it is dead-lettered with
// ErrBadEvent instead. Either way the ERP is asked to accept the order
// once, never twice at once.
func TestDedupeLeaseSlowHandler(t *testing.T) {
	for _, tt := range []struct {
		name      string
		partition string // of the second copy; "" means the order's
		dead      int
	}{{name: "same partition"}, {name: "another partition", partition: "other", dead: 1}} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newSystems(t)
				w.log = eventlog.NewMemory(eventlog.MemoryConfig{})
				dedup, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
				require.NoError(t, err, "NewMemoryStore")
				defer func() { _ = dedup.Close() }()
				slow := &slowERP{d: time.Second}
				w.connect(t, nil, flow.Config{Log: w.log, Dedupe: dedup, DedupeLease: 100 * time.Millisecond, Workers: 4},
					func(e connector.ERP) connector.ERP { slow.ERP = e; return slow })
				ctx := context.Background()
				id := w.submit(t, "ACC-0002", "SKU-100:3")
				ev := crmOrderEvent(t, w, id)
				ev.PartitionKey, ev.CorrelationID = id, "corr-"+id
				copy2 := ev
				copy2.PartitionKey = cmp.Or(tt.partition, id)
				require.NoError(t, w.log.Append(ctx, ev, copy2), "Append the order twice")
				w.settle(t)
				v := w.agree(t, id)
				assert.Equal(t, canonical.FulfillmentShipped, v.Status.Fulfillment, "fulfilment of %s", id)
				require.Len(t, v.DeadLetters, tt.dead, "dead letters of %s", id)
				for _, d := range v.DeadLetters {
					assert.Contains(t, d.Error, flow.ErrBadEvent.Error(), "error of the copy in another partition")
					assert.Contains(t, d.Error, `is in partition "other", not the order's`, "error of the copy in another partition")
				}
				assert.Equal(t, 1, slow.calls, "AcceptOrder calls")
				assert.Equal(t, 1, slow.most, "AcceptOrder calls at once")
				assert.Equal(t, 1, w.erp.Counts().Orders, "ERP orders")
			})
		})
	}
}
