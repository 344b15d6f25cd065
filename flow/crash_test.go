package flow_test

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/connector/faults"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/sqlspy"
)

var (
	crashSeed   = flag.Uint64("crash.seed", 1, "seed of TestCrashRestart")
	crashOrders = flag.Int("crash.orders", 300, "orders of TestCrashRestart")
)

// sqliteDSN opens path in WAL mode with a busy timeout and immediate
// transactions, as eventlog.Dialect's documentation recommends.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// openSQLite opens path (see sqliteDSN) with one connection: SQLite has
// one writer at a time, and writers on several connections of one process
// wait for each other in SQLite's busy handler, which sleeps 1ms, 2ms,
// 5ms... between tries; on one connection they wait in database/sql's
// pool, which hands the connection over as soon as it is free. The caller
// closes the database.
func openSQLite(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", sqliteDSN(path))
	require.NoError(tb, err, "open SQLite %s", path)
	db.SetMaxOpenConns(1)
	return db
}

// errCrash is the error of every call a crashed run makes.
var errCrash = errors.New("the process crashed")

// crasher stops a run of the flow at random points: after a random number
// of handled events (it is the flow's Metrics), right after an effect
// succeeded in a system and before the flow learnt of it (it wraps the
// systems' effectful calls), or at a random moment. A crash cancels the
// run's context, and every wrapped call of the run after it fails with
// errCrash without reaching the system, as calls of a dead process would
// never be made. It is safe for concurrent use.
type crasher struct {
	mu      sync.Mutex
	rng     *rand.Rand
	cancel  context.CancelCauseFunc // the armed run's, nil when disarmed
	dead    bool                    // the run crashed
	after   int                     // crash when handled reaches it; 0: never
	handled int
	p       float64 // probability of a crash after each effect
	crashes int
	points  map[string]int // crashes per point, for the log
}

// arm makes the next crash cancel the run whose context cancel cancels.
func (c *crasher) arm(cancel context.CancelCauseFunc, after int, p float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancel, c.dead, c.after, c.handled, c.p = cancel, false, after, 0, p
}

// disarm ends the run: the next one starts alive and unarmed.
func (c *crasher) disarm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancel, c.dead = nil, false
}

// crashLocked cancels the armed run, once, and names the point.
func (c *crasher) crashLocked(point string) {
	if c.cancel == nil || c.dead {
		return
	}
	c.cancel(nil)
	c.dead = true
	c.crashes++
	c.points[point]++
}

// Count implements flow.Metrics.
func (c *crasher) Count(_ context.Context, k flow.Counter, _ string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handled++
	if c.after > 0 && c.handled >= c.after {
		c.crashLocked("after handled " + string(k))
	}
}

// SyncLag implements flow.Metrics.
func (c *crasher) SyncLag(context.Context, string, time.Duration) {}

// call makes an effectful call unless the run crashed, and may crash the
// run right after the effect succeeded: the flow then never learns of it.
func (c *crasher) call(op string, effect func() error) error {
	c.mu.Lock()
	dead := c.dead
	c.mu.Unlock()
	if dead {
		return errCrash
	}
	if err := effect(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil && c.rng.Float64() < c.p {
		c.crashLocked("after " + op)
	}
	if c.dead {
		return errCrash
	}
	return nil
}

type crashERP struct {
	connector.ERP
	c *crasher
}

func (e crashERP) AcceptOrder(ctx context.Context, key string, o *canonical.Order) (ack canonical.OrderAck, err error) {
	err = e.c.call("AcceptOrder", func() error { ack, err = e.ERP.AcceptOrder(ctx, key, o); return err })
	return ack, err
}

// Unwrap lets connector.As find the optional capabilities under it.
func (e crashERP) Unwrap() any { return e.ERP }

func (e crashERP) CancelOrderLines(ctx context.Context, key string, c connector.OrderCancellation) (o canonical.Order, err error) {
	oc, ok := connector.As[connector.OrderCanceller](e.ERP)
	if !ok {
		return canonical.Order{}, errors.New("the ERP cannot cancel order lines")
	}
	err = e.c.call("CancelOrderLines", func() error { o, err = oc.CancelOrderLines(ctx, key, c); return err })
	return o, err
}

func (e crashERP) ChangeOrder(ctx context.Context, key string, c canonical.OrderChange) (ack canonical.ChangeAck, err error) {
	oc, ok := connector.As[connector.OrderChanger](e.ERP)
	if !ok {
		return canonical.ChangeAck{}, errors.New("the ERP cannot change orders")
	}
	err = e.c.call("ChangeOrder", func() error { ack, err = oc.ChangeOrder(ctx, key, c); return err })
	return ack, err
}

func (e crashERP) PostReturn(ctx context.Context, key string, r canonical.Return) (inv canonical.Invoice, err error) {
	err = e.c.call("PostReturn", func() error { inv, err = e.ERP.PostReturn(ctx, key, r); return err })
	return inv, err
}

func (e crashERP) PostShipment(ctx context.Context, key string, s canonical.Shipment) (inv canonical.Invoice, err error) {
	err = e.c.call("PostShipment", func() error { inv, err = e.ERP.PostShipment(ctx, key, s); return err })
	return inv, err
}

type crashWMS struct {
	connector.WMS
	c *crasher
}

// Unwrap lets connector.As find the optional capabilities under it.
func (w crashWMS) Unwrap() any { return w.WMS }

func (w crashWMS) Release(ctx context.Context, fo canonical.FulfillmentOrder) (r canonical.FulfillmentOrder, err error) {
	err = w.c.call("Release", func() error { r, err = w.WMS.Release(ctx, fo); return err })
	return r, err
}

func (w crashWMS) CancelRelease(ctx context.Context, key string, req connector.CancelRequest) (r connector.CancelResult, err error) {
	err = w.c.call("CancelRelease", func() error { r, err = w.WMS.CancelRelease(ctx, key, req); return err })
	return r, err
}

func (w crashWMS) ChangeRelease(ctx context.Context, key string, req connector.ReleaseChange) (r connector.ReleaseChangeResult, err error) {
	rc, ok := connector.As[connector.ReleaseChanger](w.WMS)
	if !ok {
		return connector.ReleaseChangeResult{}, errors.New("the WMS cannot change releases")
	}
	err = w.c.call("ChangeRelease", func() error { r, err = rc.ChangeRelease(ctx, key, req); return err })
	return r, err
}

func (w crashWMS) AuthorizeReturn(ctx context.Context, ret canonical.Return) (r canonical.Return, err error) {
	err = w.c.call("AuthorizeReturn", func() error { r, err = w.WMS.AuthorizeReturn(ctx, ret); return err })
	return r, err
}

type crashCRM struct {
	connector.CRM
	c *crasher
}

func (m crashCRM) Unwrap() any { return m.CRM }

func (m crashCRM) PublishStatus(ctx context.Context, s connector.OrderStatus) error {
	return m.c.call("PublishStatus", func() error { return m.CRM.PublishStatus(ctx, s) })
}

// processSourcer plans as a process of the given number would if the stock
// had moved since the last one: even processes plan with the inventory,
// odd ones send each order whole to one warehouse, a different one per
// process. A re-plan after a restart would therefore often choose other
// warehouses than the plan it replaces.
type processSourcer struct {
	inv     *flow.InventorySourcer
	process int
}

func (s processSourcer) Plan(ctx context.Context, o canonical.Order) ([]canonical.FulfillmentOrder, error) {
	p, err := s.inv.Plan(ctx, o)
	if err != nil || s.process%2 == 0 || len(p) == 0 {
		return p, err
	}
	wh := []string{"WH-EAST", "WH-SOUTH", "WH-WEST"}[s.process/2%3]
	fo := p[0]
	fo.ID, fo.Warehouse, fo.Lines = o.ID+"-"+wh, wh, nil
	for _, q := range p {
		for _, l := range q.Lines {
			i := slices.IndexFunc(fo.Lines, func(m canonical.FulfillmentLine) bool { return m.OrderLineID == l.OrderLineID })
			if i < 0 {
				l.ID = fo.ID + ":" + l.OrderLineID
				fo.Lines = append(fo.Lines, l)
				continue
			}
			if fo.Lines[i].Quantity.Value, err = fo.Lines[i].Quantity.Value.Add(l.Quantity.Value); err != nil {
				return nil, err
			}
		}
	}
	return []canonical.FulfillmentOrder{fo}, nil
}

// durableWorld is a world whose flow keeps everything in one SQLite file
// and is stopped, dropped and rebuilt from that file many times, while the
// systems (the world outside the process) live on.
type durableWorld struct {
	*world
	path string
	fc   faults.Config
	rng  *rand.Rand
	c    *crasher
	max  int // crashes to make at most
	// after is the most handled events after which an armed drain
	// crashes (drawn from 1 to it); 0 means 60.
	after int
	// crashBy: until the world has crashed this many times, every drain
	// is armed to crash at its first handled event.
	crashBy int
	// dedupe gives the flow the dedupe store (else the order states
	// alone recognise events handled again).
	dedupe bool

	db    *sql.DB
	raw   *sql.DB // under db, which fails every call of a crashed run
	dedup *idempotency.SQLStore
}

// open opens the database and builds a new flow over it.
func (d *durableWorld) open(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	// A crashed run reaches the database no more than the systems: its
	// consumer's last group commit, dead letters and cursor commits fail
	// as a killed process would never make them, so the events handled
	// but not committed when it crashed are delivered again.
	raw := openSQLite(t, d.path)
	db, err := sqlspy.Open(raw, sqliteDSN(d.path), &sqlspy.Spy{Fail: func() error {
		d.c.mu.Lock()
		defer d.c.mu.Unlock()
		if d.c.dead {
			return errCrash
		}
		return nil
	}})
	require.NoError(t, err, "sqlspy.Open")
	db.SetMaxOpenConns(1)
	el, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
	require.NoError(t, err, "eventlog.NewSQL")
	require.NoError(t, el.Migrate(ctx), "eventlog Migrate")
	dedup, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite})
	require.NoError(t, err, "idempotency.NewSQLStore")
	require.NoError(t, dedup.Migrate(ctx), "idempotency Migrate")
	st, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.SQLite})
	require.NoError(t, err, "NewSQLState")
	require.NoError(t, st.Migrate(ctx), "SQLState Migrate")
	fc := d.fc
	fc.Seed += uint64(d.c.crashes) * 10 // another process sees other faults
	d.db, d.raw, d.dedup = db, raw, dedup
	src := processSourcer{inv: &flow.InventorySourcer{Inventory: d.wms}, process: d.c.crashes}
	cfg := flow.Config{Log: el, State: st, Cursors: st, Metrics: d.c, Workers: 4, Sourcer: src}
	if d.tpl != nil {
		cfg.Sourcer = nil // the default, over both systems' stock
	}
	if d.dedupe {
		cfg.Dedupe = dedup
	}
	d.connect(t, &fc, cfg,
		func(e connector.ERP) connector.ERP { return crashERP{e, d.c} })
}

// drop drops the flow and every object over the database, and closes it.
func (d *durableWorld) drop(t testing.TB) {
	t.Helper()
	d.flow = nil
	require.NoError(t, d.dedup.Close(), "close idempotency store")
	require.NoError(t, d.db.Close(), "close SQLite")
	require.NoError(t, d.raw.Close(), "close SQLite")
	d.db, d.raw, d.dedup = nil, nil, nil
}

// settle drains the flow and steps the warehouses until neither has
// anything left to do; two drains in three are armed to crash, until
// the world has crashed d.max times. After a crash the flow is dropped and
// rebuilt from the database.
func (d *durableWorld) settle(t testing.TB) {
	t.Helper()
	for range 2000 {
		ctx, cancel := context.WithCancelCause(context.Background())
		var timer *time.Timer
		if d.c.crashes < d.crashBy {
			d.c.arm(cancel, 1, 0.05)
		} else if d.c.crashes < d.max && d.rng.IntN(3) > 0 {
			d.c.arm(cancel, 1+d.rng.IntN(cmp.Or(d.after, 60)), 0.05)
			if d.rng.IntN(4) == 0 {
				// Or at a random moment: inside a backoff or a poll wait.
				timer = time.AfterFunc(time.Duration(d.rng.IntN(30))*time.Millisecond, func() {
					d.c.mu.Lock()
					defer d.c.mu.Unlock()
					d.c.crashLocked("at a random moment")
				})
			}
		}
		err := d.flow.Drain(ctx)
		crashed := ctx.Err() != nil
		d.c.disarm()
		if timer != nil {
			timer.Stop()
		}
		cancel(nil)
		if crashed {
			d.drop(t)
			d.open(t)
			continue
		}
		require.NoError(t, err, "Drain")
		if n := d.step(t); n == 0 {
			require.NoError(t, d.flow.Drain(context.Background()), "Drain")
			return
		}
	}
	t.Fatal("the world did not settle in 2000 rounds")
}

// TestCrashRestart runs generated orders through a flow whose log,
// consumer cursors, dead letters, dedupe keys, order states and feed
// cursors are in one SQLite file, with faults on every connector, and
// stops it at random points many times (after a random number of handled
// events, right after an effect in a system, or at a random moment),
// dropping every object of the flow and reopening the database each time.
// About one order in ten is cancelled in part or in full, and some shipped
// orders are returned in part. The invariants of order-to-cash and of
// returns hold at the end, with the consumer's dedupe store (dedupe) and
// without it (nodedupe: the handlers recognise replays from the stored
// order states alone).
func TestCrashRestart(t *testing.T) {
	for _, dedupe := range []bool{true, false} {
		name := map[bool]string{true: "dedupe", false: "nodedupe"}[dedupe]
		t.Run(name, func(t *testing.T) { crashRestart(t, dedupe, false) })
	}
}

// TestCrashRestartTwoWMS is TestCrashRestart (with the dedupe store) for a
// flow over two WMS (Config.Warehouses), whose feeds' cursors are kept
// apart in the SQLite file: every crash and restart resumes both feeds.
func TestCrashRestartTwoWMS(t *testing.T) {
	crashRestart(t, true, true)
}

func crashRestart(t *testing.T, dedupe, two bool) {
	seed, n := *crashSeed, *crashOrders
	if testing.Short() {
		n = 100
	}
	systems := newSystems
	if two {
		systems = newTwoWMSSystems
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s failed with -crash.seed=%d -crash.orders=%d", t.Name(), seed, n)
		}
	})
	path := filepath.Join(t.TempDir(), "flow.db")
	synctest.Test(t, func(t *testing.T) {
		d := &durableWorld{world: systems(t), path: path, rng: rand.New(rand.NewPCG(seed, 11)), max: 30, dedupe: dedupe,
			fc: faults.Config{Seed: seed, Unavailable: 0.1, RateLimited: 0.02, AmbiguousTimeout: 0.05,
				Duplicate: 0.1, Reorder: 0.1, RetryAfter: 20 * time.Millisecond}}
		d.c = &crasher{rng: rand.New(rand.NewPCG(seed, 13)), points: map[string]int{}}
		d.wrapWMS = func(w connector.WMS) connector.WMS { return crashWMS{w, d.c} }
		d.wrapCRM = func(c connector.CRM) connector.CRM { return crashCRM{c, d.c} }
		d.open(t)
		defer func() {
			if d.db != nil {
				d.drop(t)
			}
		}()
		gen := rand.New(rand.NewPCG(seed, 7))
		cg := rand.New(rand.NewPCG(seed, 17))
		chg := rand.New(rand.NewPCG(seed, 23))
		d.changed = map[string]bool{}
		var ids, later, midway []string
		for i := range n {
			id := d.submitGenerated(t, gen)
			ids = append(ids, id)
			switch cg.IntN(20) {
			case 0:
				d.requestCancel(t, cg, id)
			case 1:
				later = append(later, id)
			}
			// About one order in eight is changed after the ERP's
			// decision: at once, or while the warehouse works on it.
			switch chg.IntN(16) {
			case 0:
				d.reviseRandom(t, chg, id)
			case 1:
				midway = append(midway, id)
			}
			if i%25 == 24 {
				require.NoError(t, d.flow.Drain(context.Background()), "Drain")
				d.step(t)
				for _, id := range midway {
					d.reviseRandom(t, chg, id)
				}
				midway = midway[:0]
				d.settle(t)
				for _, id := range later {
					d.requestCancel(t, cg, id)
				}
				later = later[:0]
			}
		}
		d.settle(t)
		d.finish(t, ids, func() { d.settle(t) })
		tl := d.invariants(t, ids)

		// Returns of one unit of the first line of some shipped orders,
		// authorized in the CRM and received (restocked) in the WMS,
		// with crashes during them too: the first drain that handles an
		// event crashes, and later armed drains crash after 1 to 3
		// handled events, as a return's settle handles only a few (the
		// authorization, the receipt, their echoes). Drawn from up to
		// 60, as for the orders, a seed (3) drew no crash at all.
		var returned []string
		before := d.c.crashes
		d.max, d.after, d.crashBy = before+10, 3, before+1
		for _, id := range ids {
			v, err := d.flow.Where(context.Background(), id)
			require.NoError(t, err, "Where %s", id)
			if v.Status.Fulfillment != canonical.FulfillmentShipped || len(returned) == 20 ||
				v.Order.Lines[0].ID != "L1" || v.Order.Lines[0].Buckets.Get(canonical.BucketShipped).IsZero() {
				continue // nothing of line L1 shipped (it was cancelled) to return
			}
			r := d.authorize(t, id, "L1:1")
			d.settle(t)
			d.receive(t, r.ID, "R1:1:opened:restock")
			returned = append(returned, id)
		}
		d.settle(t)
		for _, id := range returned {
			v := checkReturns(t, d.world, id)
			assert.Len(t, v.CreditMemos, 1, "one credit memo for the return of %s", id)
		}
		dls, err := d.flow.DeadLetters(context.Background(), eventlogFilter())
		require.NoError(t, err, "DeadLetters")
		require.Empty(t, dls, "dead letters after the returns")
		t.Logf("%d orders (%d accepted, %d fulfilment orders, %d with cancelled quantity, %d returned, %d changed), %d crashes %v; %s",
			n, tl.accepted, tl.fos, tl.cancelled, len(returned), len(d.changed), d.c.crashes, d.c.points, d.world)
		assert.GreaterOrEqual(t, d.c.crashes, 20, "crashes made")
		assert.Less(t, tl.accepted, n, "some orders rejected")
		assert.Positive(t, tl.cancelled, "orders with cancelled quantity")
		assert.Positive(t, d.erp.Counts().Changes, "changes in the ERP")
		assert.Positive(t, len(d.changed), "orders changed")
		assert.Len(t, returned, 20, "orders returned")
		assert.Greater(t, d.c.crashes, before, "crashes during the returns")
		if two {
			checkTwoFeeds(t, d.db, d.world)
		}
	})
}
