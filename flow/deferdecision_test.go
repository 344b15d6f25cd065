package flow_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/pgtest"
	"github.com/distsync/distsync/internal/sqlspy"
	"github.com/distsync/distsync/wms"
)

// statusLog is a CRM that records every status the flow publishes to it,
// shown or ignored.
type statusLog struct {
	connector.CRM
	mu  sync.Mutex
	pub map[string][]connector.OrderStatus
}

func (s *statusLog) Unwrap() any { return s.CRM }

func (s *statusLog) PublishStatus(ctx context.Context, st connector.OrderStatus) error {
	s.mu.Lock()
	s.pub[st.OrderID] = append(s.pub[st.OrderID], st)
	s.mu.Unlock()
	return s.CRM.PublishStatus(ctx, st)
}

// published returns the statuses published for the order.
func (s *statusLog) published(orderID string) []connector.OrderStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pub[orderID])
}

// checkSequences fails the test when the order's statuses use a sequence
// twice for different content (the CRM would ignore the second).
func (s *statusLog) checkSequences(t *testing.T, orderID string) {
	t.Helper()
	seen := map[int64]connector.OrderStatus{}
	for _, st := range s.published(orderID) {
		st.UpdatedAt = time.Time{}
		if was, ok := seen[st.Sequence]; ok {
			assert.Equal(t, was, st, "order %s: sequence %d published again with other content", orderID, st.Sequence)
		}
		seen[st.Sequence] = st
	}
}

// handledHook is the flow's Metrics: it calls fn for each event counted
// handled.
type handledHook struct{ fn func(t canonical.EventType) }

func (h handledHook) Count(context.Context, flow.Counter, string)    {}
func (h handledHook) SyncLag(context.Context, string, time.Duration) {}
func (h handledHook) CountEvent(_ context.Context, c flow.Counter, _ string, t canonical.EventType) {
	if c == flow.CounterHandled {
		h.fn(t)
	}
}

// deferDB is a database a decision test runs its flows over, each as a
// process of its own: SQLite in a file, or PostgreSQL under tables of a
// prefix of the test's.
type deferDB struct {
	raw     *sql.DB
	dsn     string
	dialect idempotency.Dialect
	prefix  string // of every table; "" on SQLite
}

func openDeferDB(t *testing.T, dialect idempotency.Dialect) *deferDB {
	d := &deferDB{dialect: dialect}
	if dialect == idempotency.SQLite {
		path := filepath.Join(t.TempDir(), "flow.db")
		d.dsn, d.raw = sqliteDSN(path), openSQLite(t, path)
		t.Cleanup(func() { _ = d.raw.Close() })
		return d
	}
	d.dsn = pgtest.URL(t)
	d.raw = pgtest.Open(t, d.dsn)
	var r [6]byte
	_, _ = rand.Read(r[:])
	d.prefix = "defer_" + hex.EncodeToString(r[:]) + "_"
	t.Cleanup(func() {
		ctx := context.Background()
		el, st := d.stores(t, d.raw)
		_ = el.Drop(ctx)
		_ = st.Drop(ctx)
		_, _ = d.raw.ExecContext(ctx, "DROP TABLE IF EXISTS "+d.prefix+"keys")
	})
	return d
}

// stores returns the log and the state store over db, migrated.
func (d *deferDB) stores(t *testing.T, db *sql.DB) (*eventlog.SQL, *flow.SQLState) {
	ctx := context.Background()
	// A shorter LockCheck than the default: a restarted flow takes the
	// crashed one's group lock over after 3×LockCheck. Not much shorter:
	// a check that does not answer within LockCheck (under the race
	// detector) loses the lock.
	el, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: d.dialect, Prefix: d.prefix, LockCheck: 300 * time.Millisecond})
	require.NoError(t, err, "eventlog.NewSQL")
	require.NoError(t, el.Migrate(ctx), "eventlog Migrate")
	st, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: d.dialect, Prefix: d.prefix})
	require.NoError(t, err, "NewSQLState")
	require.NoError(t, st.Migrate(ctx), "SQLState Migrate")
	return el, st
}

// open builds a flow (a new process) over the database through spy, with
// the systems and m as its Metrics; with dedupe, a dedupe store whose
// claims a crashed run leaves to expire soon. It returns the flow and the
// database it opened (through spy), closed at the test's end.
func (d *deferDB) open(t *testing.T, spy *sqlspy.Spy, sys deferSystems, m flow.Metrics, dedupe bool) (*flow.Flow, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlspy.Open(d.raw, d.dsn, spy)
	require.NoError(t, err, "sqlspy.Open")
	t.Cleanup(func() { _ = db.Close() })
	if d.dialect == idempotency.SQLite {
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
	}
	el, st := d.stores(t, db)
	var w connector.WMS = sys.wms
	if sys.wrapWMS != nil {
		w = sys.wrapWMS(w)
	}
	cfg := flow.Config{ERP: sys.erp, WMS: w, CRM: sys.crm, Log: el, State: st, Cursors: st, Metrics: m,
		PollInterval: time.Millisecond}
	if dedupe {
		table := ""
		if d.prefix != "" {
			table = d.prefix + "keys"
		}
		dd, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: d.dialect, Table: table})
		require.NoError(t, err, "idempotency.NewSQLStore")
		require.NoError(t, dd.Migrate(ctx), "idempotency Migrate")
		t.Cleanup(func() { _ = dd.Close() })
		cfg.Dedupe, cfg.DedupeLease = dd, 200*time.Millisecond
	}
	f, err := flow.New(cfg)
	require.NoError(t, err, "flow.New")
	return f, db
}

// decisions returns the decision events (accepted, held, rejected) of the
// order in the log.
func (d *deferDB) decisions(t *testing.T, orderID string) []canonical.Event {
	t.Helper()
	el, _ := d.stores(t, d.raw)
	var out []canonical.Event
	for after := uint64(0); ; {
		es, err := el.Read(context.Background(), after, 500)
		require.NoError(t, err, "Read")
		if len(es) == 0 {
			return out
		}
		for _, e := range es {
			switch e.Event.Type {
			case canonical.EventOrderAccepted, canonical.EventOrderHeld, canonical.EventOrderRejected:
				if e.Event.Subject == orderID {
					out = append(out, e.Event)
				}
			}
			after = e.Offset
		}
	}
}

// deferSystems are the systems of a decision test, which outlive its
// flows.
type deferSystems struct {
	erp *erp.Memory
	wms *wms.Memory
	crm *statusLog
	raw *crm.Memory
	// wrapWMS, when set, wraps the WMS the flows are given.
	wrapWMS func(connector.WMS) connector.WMS
}

func newDeferSystems(t *testing.T) deferSystems {
	e, err := erp.New(erp.Config{})
	require.NoError(t, err, "erp.New")
	w, err := wms.New(wms.Config{})
	require.NoError(t, err, "wms.New")
	c, err := crm.New(crm.Config{})
	require.NoError(t, err, "crm.New")
	return deferSystems{erp: e, wms: w, crm: &statusLog{CRM: c, pub: map[string][]connector.OrderStatus{}}, raw: c}
}

// submit submits an order in the CRM, of account with one line of qty
// units of sku at 89.00.
func (s deferSystems) submit(t *testing.T, account, sku, qty string) string {
	ctx := context.Background()
	opp, err := s.raw.OpenOpportunity(ctx, crm.Opportunity{AccountID: account, Lines: []crm.OpportunityLine{{SKU: sku,
		Quantity: canonical.MustParseQuantity(qty, "EA"), UnitPrice: canonical.MustParseMoney("89.00", "USD")}}})
	require.NoError(t, err, "OpenOpportunity")
	o, err := s.raw.ConvertOpportunity(ctx, opp.ID)
	require.NoError(t, err, "ConvertOpportunity")
	return o.ID
}

// settle drains f and steps the warehouse until neither has anything to
// do.
func (s deferSystems) settle(t *testing.T, f *flow.Flow) {
	t.Helper()
	ctx := context.Background()
	for range 100 {
		require.NoError(t, f.Drain(ctx), "Drain")
		n, err := s.wms.Step(ctx)
		require.NoError(t, err, "wms.Step")
		if n == 0 {
			return
		}
	}
	t.Fatal("the world did not settle")
}

// deferCases are the orders of the decision tests: one accepted, one
// held (ACC-0003 goes on credit hold for 1,335.00), one rejected (an
// unknown item).
var deferCases = []struct {
	name, account, sku, qty string
	phase                   string
	decision                canonical.EventType
}{
	{"accepted", "ACC-0002", "SKU-100", "2", "released", canonical.EventOrderAccepted},
	{"held", "ACC-0003", "SKU-103", "15", "on_hold", canonical.EventOrderHeld},
	{"rejected", "ACC-0002", "SKU-999", "1", "rejected", canonical.EventOrderRejected},
}

// forDeferCases runs fn for each case, over SQLite and PostgreSQL, with
// and without the dedupe store.
func forDeferCases(t *testing.T, fn func(t *testing.T, d *deferDB, dedupe bool, i int)) {
	for _, dialect := range []idempotency.Dialect{idempotency.SQLite, idempotency.Postgres} {
		t.Run(dialect.String(), func(t *testing.T) {
			for _, dedupe := range []bool{true, false} {
				t.Run(map[bool]string{true: "dedupe", false: "nodedupe"}[dedupe], func(t *testing.T) {
					for i, tc := range deferCases {
						t.Run(tc.name, func(t *testing.T) { fn(t, openDeferDB(t, dialect), dedupe, i) })
					}
				})
			}
		})
	}
}

// TestDecisionCrashBeforeGroupCommit crashes a flow on SQL whose state
// joins the consumer's group commit right after the handler of a new
// order's order.submitted returned, before that group commit: the decision
// is appended by that commit with the decided state, so the crash leaves
// neither in the database and nothing was shown to the CRM. The order's
// event is handled again by the restarted flow, which decides again: in
// the end the log holds one decision, and the CRM was never given a
// sequence twice with different content.
func TestDecisionCrashBeforeGroupCommit(t *testing.T) {
	forDeferCases(t, func(t *testing.T, d *deferDB, dedupe bool, i int) {
		tc := deferCases[i]
		ctx := context.Background()
		sys := newDeferSystems(t)
		var dead atomic.Bool
		spy := &sqlspy.Spy{Fail: func() error {
			if dead.Load() {
				return errCrash
			}
			return nil
		}}
		rctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		f, db := d.open(t, spy, sys, handledHook{fn: func(et canonical.EventType) {
			if et == canonical.EventOrderSubmitted && dead.CompareAndSwap(false, true) {
				cancel(errCrash) // nothing reaches the database any more
			}
		}}, dedupe)
		id := sys.submit(t, tc.account, tc.sku, tc.qty)
		_ = f.Drain(rctx)
		require.True(t, dead.Load(), "the run crashed after handling order.submitted")
		// The process is gone: so are its connections (on PostgreSQL,
		// the consumer group's lock with them).
		_ = db.Close()

		assert.Empty(t, d.decisions(t, id), "a decision in the log after a crash before the group commit")
		_, st := d.stores(t, d.raw)
		_, err := flow.StoredOrder(ctx, st, id)
		assert.ErrorIs(t, err, flow.ErrUnknownOrder, "the order's state saved before the group commit")
		assert.Empty(t, sys.crm.published(id), "statuses published before the group commit")

		f, _ = d.open(t, &sqlspy.Spy{}, sys, nil, dedupe)
		sys.settle(t, f)
		ds := d.decisions(t, id)
		require.Len(t, ds, 1, "decisions in the log after the restart")
		assert.Equal(t, tc.decision, ds[0].Type, "decision")
		v, err := f.Where(ctx, id)
		require.NoError(t, err, "Where")
		assert.Equal(t, tc.phase, v.Phase, "phase")
		sys.crm.checkSequences(t, id)
		shown, ok := sys.raw.ShownStatus(id)
		require.True(t, ok, "the CRM shows the order")
		assert.Equal(t, v.Status, shown.Status, "the CRM shows the order's status")
	})
}

// TestDecisionGroupCommitFails makes the group commit that carries a new
// order's decision fail, and its retry alone too: the handler is handled
// as failed and runs again. The flow must then not take the order for
// decided from the copy in memory (the decision was never appended): it
// decides again, the log holds the decision once, and the order goes on.
func TestDecisionGroupCommitFails(t *testing.T) {
	forDeferCases(t, func(t *testing.T, d *deferDB, dedupe bool, i int) {
		tc := deferCases[i]
		ctx := context.Background()
		sys := newDeferSystems(t)
		var armed atomic.Bool
		var fails atomic.Int32
		table := flow.DefaultStatePrefix + "orders"
		if d.prefix != "" {
			table = d.prefix + "orders"
		}
		spy := &sqlspy.Spy{FailCommit: func(stmts []string) error {
			if !armed.Load() || !slices.ContainsFunc(stmts, func(q string) bool { return strings.Contains(q, table) }) {
				return nil
			}
			if fails.Add(1) <= 2 { // the group's commit, then the event's alone
				return errors.New("injected: the commit failed")
			}
			return nil
		}}
		f, _ := d.open(t, spy, sys, handledHook{fn: func(et canonical.EventType) {
			if et == canonical.EventOrderSubmitted {
				armed.Store(true)
			}
		}}, dedupe)
		id := sys.submit(t, tc.account, tc.sku, tc.qty)
		sys.settle(t, f)
		require.GreaterOrEqual(t, fails.Load(), int32(2), "commits failed")

		ds := d.decisions(t, id)
		require.Len(t, ds, 1, "decisions in the log")
		assert.Equal(t, tc.decision, ds[0].Type, "decision")
		v, err := f.Where(ctx, id)
		require.NoError(t, err, "Where")
		assert.Equal(t, tc.phase, v.Phase, "phase")
		_, st := d.stores(t, d.raw)
		stored, err := flow.StoredOrder(ctx, st, id)
		require.NoError(t, err, "StoredOrder")
		assert.Equal(t, tc.phase, stored.Phase, "stored phase")
		sys.crm.checkSequences(t, id)
		shown, ok := sys.raw.ShownStatus(id)
		require.True(t, ok, "the CRM shows the order")
		assert.Equal(t, v.Status, shown.Status, "the CRM shows the order's status")
	})
}

// releaseWatch is a WMS that calls before ahead of each release.
type releaseWatch struct {
	connector.WMS
	before func(fo canonical.FulfillmentOrder)
}

func (w releaseWatch) Unwrap() any { return w.WMS }

func (w releaseWatch) Release(ctx context.Context, fo canonical.FulfillmentOrder) (canonical.FulfillmentOrder, error) {
	w.before(fo)
	return w.WMS.Release(ctx, fo)
}

// TestAcceptedShownBeforeRelease: the CRM is shown an order the ERP
// accepted before its fulfilment orders are released, on SQL as in
// memory, although the decision is appended in the group commit and not
// published before it: a WMS that fails its releases for a while does not
// keep the acceptance from the CRM.
func TestAcceptedShownBeforeRelease(t *testing.T) {
	for _, dialect := range []idempotency.Dialect{idempotency.SQLite, idempotency.Postgres} {
		t.Run(dialect.String(), func(t *testing.T) {
			d := openDeferDB(t, dialect)
			sys := newDeferSystems(t)
			var mu sync.Mutex
			var shown []connector.OrderStatus // what the CRM showed at each release
			var releases int
			sys.wrapWMS = func(w connector.WMS) connector.WMS {
				return releaseWatch{WMS: w, before: func(fo canonical.FulfillmentOrder) {
					st, _ := sys.raw.ShownStatus(fo.OrderID)
					mu.Lock()
					defer mu.Unlock()
					releases++
					shown = append(shown, st)
				}}
			}
			f, _ := d.open(t, &sqlspy.Spy{}, sys, nil, true)
			id := sys.submit(t, "ACC-0002", "SKU-100", "2")
			sys.settle(t, f)
			mu.Lock()
			defer mu.Unlock()
			require.Positive(t, releases, "releases")
			assert.Equal(t, id, shown[0].OrderID, "the CRM shows the order at its first release")
			assert.Equal(t, canonical.CommercialAccepted, shown[0].Status.Commercial, "the CRM shows the order accepted at its first release")
		})
	}
}
