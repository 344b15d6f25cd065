package flow_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/pgtest"
	"github.com/distsync/distsync/internal/sqlspy"
	"github.com/distsync/distsync/wms"
)

// BenchmarkOrderToCashSQLite measures orders through the whole flow as
// BenchmarkOrderToCash does, with the flow's durable state in one SQLite
// file (WAL): the log, consumer cursors and dead letters (eventlog.SQL),
// the order states and feed cursors (flow.SQLState) and, in sub-benchmark
// dedupe, the consumer's dedupe keys (idempotency.SQLStore), which
// nodedupe leaves out (the handlers recognise duplicates themselves from
// the stored states: TestCrashRestart/nodedupe passes; the
// dedupe store saves handling an event again after a crash). The database
// has one connection (see openSQLite). PollInterval is left at its
// default, as a deployment leaves it: the consumer polls the replay
// requests every eventlog.DefaultPollInterval. (It was 1ms, a thousand
// polls a second: since the consumer's loop no longer waits in its group
// commits it makes every one of them, and on PostgreSQL they cost both
// builds about a third of their rate.) Besides the metrics of
// BenchmarkOrderToCash (orders/s, cpu-ns/order: the PostgreSQL server's
// CPU is not in it) it reports commits/order, the transactions committed
// per order (explicit commits and writing statements outside a
// transaction, counted by a wrapper of the driver's connections,
// internal/sqlspy), stmts/order, the statements run per order, and
// state-stmts/order, those on the tables of the flow.SQLState (order
// states and cursors): the statements of the log's polls depend on how
// long a run takes, these do not.
func BenchmarkOrderToCashSQLite(b *testing.B) {
	for _, dedupe := range []bool{true, false} {
		name := map[bool]string{true: "dedupe", false: "nodedupe"}[dedupe]
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "flow.db")
			raw := openSQLite(b, path)
			b.Cleanup(func() { _ = raw.Close() })
			n := stateSpy(flow.DefaultStatePrefix)
			db, err := sqlspy.Open(raw, sqliteDSN(path), &n.Spy)
			require.NoError(b, err, "sqlspy.Open")
			b.Cleanup(func() { _ = db.Close() })
			db.SetMaxOpenConns(1)
			benchOrderToCashSQL(b, db, n, idempotency.SQLite, "", dedupe)
		})
	}
}

// BenchmarkOrderToCashPostgres is BenchmarkOrderToCashSQLite on the
// PostgreSQL test server (see pgtest.URL), under table names of its own,
// with a pool of 16 connections kept open. When the server runs on this
// machine and /proc is readable, it reports server-cpu-ns/order too: the
// CPU time (user and system, in /proc/PID/stat's clock ticks of 10ms)
// that the server's processes (those named postgres) spent during the run,
// per order, the server's part of the cost that cpu-ns/order leaves out.
// The backends of other clients of the benchmark's user (other
// application_name, read from pg_stat_activity at the end) are left out;
// the server's shared processes (WAL writer, checkpointer, autovacuum,
// postmaster) serve every client and count whole.
func BenchmarkOrderToCashPostgres(b *testing.B) {
	for _, dedupe := range []bool{true, false} {
		name := map[bool]string{true: "dedupe", false: "nodedupe"}[dedupe]
		b.Run(name, func(b *testing.B) {
			var r [6]byte
			_, _ = rand.Read(r[:])
			prefix := "bench_" + hex.EncodeToString(r[:]) + "_"
			u, err := url.Parse(pgtest.URL(b))
			require.NoError(b, err, "parse the PostgreSQL URL")
			q := u.Query()
			q.Set("application_name", prefix) // its backends, for serverMeter
			u.RawQuery = q.Encode()
			raw := pgtest.Open(b, u.String())
			n := stateSpy(prefix)
			db, err := sqlspy.Open(raw, u.String(), &n.Spy)
			require.NoError(b, err, "sqlspy.Open")
			b.Cleanup(func() { _ = db.Close() })
			// database/sql keeps 2 idle connections by default: the
			// flow's 4 workers, its consumer and Drain would open a
			// connection (and prepare the statements on it again) for
			// most statements.
			db.SetMaxOpenConns(16)
			db.SetMaxIdleConns(16)
			n.server = &serverMeter{db: raw, app: prefix}
			benchOrderToCashSQL(b, db, n, idempotency.Postgres, prefix, dedupe)
		})
	}
}

// spyState is an sqlspy.Spy that also counts the statements on the
// tables of a flow.SQLState.
type spyState struct {
	sqlspy.Spy
	state  atomic.Int64
	server *serverMeter // nil: the server's CPU is not measured
}

// stateSpy returns a spyState counting the statements on the tables of
// the SQLState of table prefix p (its orders and feeds).
func stateSpy(p string) *spyState {
	n := &spyState{}
	n.OnStmt = func(q string) {
		if strings.Contains(q, " "+p+"orders ") || strings.Contains(q, " "+p+"feeds ") {
			n.state.Add(1)
		}
	}
	return n
}

func benchOrderToCashSQL(b *testing.B, db *sql.DB, n *spyState, d idempotency.Dialect, prefix string, dedupe bool) {
	const batch = 100
	ctx := context.Background()
	el, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: d, Prefix: prefix})
	require.NoError(b, err, "eventlog.NewSQL")
	require.NoError(b, el.Migrate(ctx), "eventlog Migrate")
	table := ""
	if prefix != "" {
		table = prefix + "keys"
	}
	dedup, err := idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: d, Table: table})
	require.NoError(b, err, "idempotency.NewSQLStore")
	require.NoError(b, dedup.Migrate(ctx), "idempotency Migrate")
	st, err := flow.NewSQLState(db, flow.SQLStateConfig{Dialect: d, Prefix: prefix})
	require.NoError(b, err, "NewSQLState")
	require.NoError(b, st.Migrate(ctx), "SQLState Migrate")
	b.Cleanup(func() {
		_ = dedup.Close()
		if prefix != "" {
			_ = el.Drop(ctx)
			_ = st.Drop(ctx)
			_, _ = db.ExecContext(ctx, "DROP TABLE IF EXISTS "+table)
		}
	})
	accounts := erp.DemoAccounts()
	for i := range accounts {
		accounts[i].Customer.CreditLimit = nil
	}
	e, err := erp.New(erp.Config{Accounts: accounts})
	require.NoError(b, err, "erp.New")
	w, err := wms.New(wms.Config{})
	require.NoError(b, err, "wms.New")
	c, err := crm.New(crm.Config{})
	require.NoError(b, err, "crm.New")
	cfg := flow.Config{ERP: e, WMS: w, CRM: c, Log: el, State: st, Cursors: st}
	if dedupe {
		cfg.Dedupe = dedup
	}
	f, err := flow.New(cfg)
	require.NoError(b, err, "flow.New")
	b.ReportAllocs()
	adj := 0
	orders := 0
	if n.server != nil {
		n.server.start()
	}
	m := startMeter()
	commits, stmts, state := n.Commits.Load(), n.Stmts.Load(), n.state.Load()
	for b.Loop() {
		for _, wh := range []string{"WH-EAST", "WH-SOUTH", "WH-WEST"} {
			adj++
			_, err := w.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprint("B", adj), Item: canonical.ItemRef{SKU: "SKU-100"},
				Location: wh, Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1000", "EA"),
				Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
			require.NoError(b, err, "Adjust")
		}
		for range batch {
			opp, err := c.OpenOpportunity(ctx, crm.Opportunity{AccountID: "ACC-0002", Lines: []crm.OpportunityLine{{SKU: "SKU-100",
				Quantity: canonical.MustParseQuantity("3", "EA"), UnitPrice: canonical.MustParseMoney("12.50", "USD")}}})
			require.NoError(b, err, "OpenOpportunity")
			_, err = c.ConvertOpportunity(ctx, opp.ID)
			require.NoError(b, err, "ConvertOpportunity")
		}
		for {
			require.NoError(b, f.Drain(ctx), "Drain")
			n, err := w.Step(ctx)
			require.NoError(b, err, "Step")
			if n == 0 {
				break
			}
		}
		orders += batch
	}
	m.report(b, orders, "order")
	if orders > 0 {
		b.ReportMetric(float64(n.Commits.Load()-commits)/float64(orders), "commits/order")
		b.ReportMetric(float64(n.Stmts.Load()-stmts)/float64(orders), "stmts/order")
		b.ReportMetric(float64(n.state.Load()-state)/float64(orders), "state-stmts/order")
		if n.server != nil {
			n.server.report(b, orders)
		}
	}
	require.Equal(b, orders, e.Counts().Invoices, "one invoice per order")
}

// serverMeter measures the CPU time the PostgreSQL server spends for a
// benchmark whose connections set application_name to app.
type serverMeter struct {
	db    *sql.DB // a connection to the server outside the benchmark's counts
	app   string
	begin map[int]time.Duration // nil: not readable
}

// start takes the processes' CPU times at the start of the run.
func (m *serverMeter) start() { m.begin = serverCPU() }

// report reports server-cpu-ns/order: the CPU time spent since start by
// the server's processes, but for the backends of other applications, per
// order; nothing when /proc did not show the server's processes.
func (m *serverMeter) report(b *testing.B, orders int) {
	if len(m.begin) == 0 || orders == 0 {
		return
	}
	end := serverCPU()
	rows, err := m.db.QueryContext(context.Background(),
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name <> $1", m.app)
	require.NoError(b, err, "list the server's other backends")
	defer rows.Close()
	for rows.Next() {
		var pid int
		require.NoError(b, rows.Scan(&pid), "list the server's other backends")
		delete(end, pid)
	}
	require.NoError(b, rows.Err(), "list the server's other backends")
	var spent time.Duration
	for pid, t := range end {
		spent += t - m.begin[pid] // a process started during the run counts from 0
	}
	b.ReportMetric(float64(spent.Nanoseconds())/float64(orders), "server-cpu-ns/order")
}

// serverCPU returns the CPU time, user and system, that each process whose
// command is postgres has spent, by process ID, read from /proc/PID/stat;
// nil when none is readable (another operating system, a remote server).
func serverCPU() map[int]time.Duration {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out map[int]time.Duration
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue // ended, or not ours to read
		}
		// pid (comm) state ppid ...: utime and stime are the 14th and
		// 15th fields, the 11th and 12th after the command's ")".
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open || string(stat[open+1:end]) != "postgres" {
			continue
		}
		f := strings.Fields(string(stat[end+1:]))
		if len(f) < 13 {
			continue
		}
		utime, err1 := strconv.ParseInt(f[11], 10, 64)
		stime, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if out == nil {
			out = map[int]time.Duration{}
		}
		// Linux reports these in USER_HZ ticks, 100 a second.
		out[pid] = time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return out
}
