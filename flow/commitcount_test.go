package flow_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// commitCounter counts what reaches a database through a countingDB: the
// transactions committed (explicit commits, and statements that write
// outside a transaction, each its own commit) and the statements run. It
// is what the SQL benchmarks report per order: durable paths are bound by
// their commits (a WAL append on SQLite, a round trip and a WAL flush on
// PostgreSQL).
type commitCounter struct {
	commits atomic.Int64
	stmts   atomic.Int64
}

// countingDB returns a *sql.DB over db's driver, opened with dsn, whose
// connections count into n. It is closed at the end of the test.
func countingDB(tb testing.TB, db *sql.DB, dsn string, n *commitCounter) *sql.DB {
	tb.Helper()
	var c driver.Connector = dsnConnector{d: db.Driver(), dsn: dsn}
	if dc, ok := db.Driver().(driver.DriverContext); ok {
		var err error
		c, err = dc.OpenConnector(dsn)
		require.NoError(tb, err, "OpenConnector")
	}
	cdb := sql.OpenDB(countConnector{c: c, n: n})
	tb.Cleanup(func() { _ = cdb.Close() })
	return cdb
}

// dsnConnector is the connector of a driver without one of its own.
type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

type countConnector struct {
	c driver.Connector
	n *commitCounter
}

func (c countConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countConn{Conn: conn, n: c.n}, nil
}

func (c countConnector) Driver() driver.Driver { return c.c.Driver() }

// isWrite reports whether query writes: everything but a SELECT (the
// PostgreSQL cursor commit is a WITH ... INSERT).
func isWrite(query string) bool {
	q := strings.ToUpper(strings.TrimSpace(query))
	return !strings.HasPrefix(q, "SELECT") && !strings.HasPrefix(q, "PRAGMA")
}

// countConn wraps a driver connection; database/sql uses a connection
// from one goroutine at a time, so inTx needs no lock.
type countConn struct {
	driver.Conn
	n    *commitCounter
	inTx bool
}

func (c *countConn) count(query string) {
	c.n.stmts.Add(1)
	if !c.inTx && isWrite(query) {
		c.n.commits.Add(1)
	}
}

func (c *countConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *countConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countStmt{Stmt: st, c: c, query: query}, nil
}

func (c *countConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var tx driver.Tx
	var err error
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = c.Conn.Begin() //nolint:staticcheck // the fallback of a driver without BeginTx
	}
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return countTx{tx: tx, c: c}, nil
}

func (c *countConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := e.ExecContext(ctx, query, args)
	if err != driver.ErrSkip {
		c.count(query)
	}
	return r, err
}

func (c *countConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := q.QueryContext(ctx, query, args)
	if err != driver.ErrSkip {
		c.count(query)
	}
	return r, err
}

func (c *countConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *countConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type countTx struct {
	tx driver.Tx
	c  *countConn
}

func (t countTx) Commit() error {
	t.c.inTx = false
	err := t.tx.Commit()
	if err == nil {
		t.c.n.commits.Add(1)
	}
	return err
}

func (t countTx) Rollback() error {
	t.c.inTx = false
	return t.tx.Rollback()
}

type countStmt struct {
	driver.Stmt
	c     *countConn
	query string
}

func (s *countStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.c.count(s.query)
	return s.Stmt.Exec(args) //nolint:staticcheck // the fallback of a driver without StmtExecContext
}

func (s *countStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.c.count(s.query)
	return s.Stmt.Query(args) //nolint:staticcheck // the fallback of a driver without StmtQueryContext
}

func (s *countStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		vs := make([]driver.Value, len(args))
		for i, a := range args {
			vs[i] = a.Value
		}
		return s.Exec(vs)
	}
	s.c.count(s.query)
	return e.ExecContext(ctx, args)
}

func (s *countStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		vs := make([]driver.Value, len(args))
		for i, a := range args {
			vs[i] = a.Value
		}
		return s.Query(vs)
	}
	s.c.count(s.query)
	return q.QueryContext(ctx, args)
}

func (s *countStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	if ch, ok := s.c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
