// Package sqlspy wraps the connections of a database/sql driver for tests
// and benchmarks: it counts the transactions committed and the statements
// run, and can make every call fail, as the calls of a process that died
// would never reach the database.
package sqlspy

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync/atomic"
)

// Spy counts what reaches a database through [Open]: the transactions
// committed (explicit commits, and statements that write outside a
// transaction, each its own commit) and the statements run. When Fail is
// set and returns an error, every call fails with it before it reaches the
// database. The zero value counts and never fails. Its counters are safe
// for concurrent use; set Fail before Open.
type Spy struct {
	// Commits counts the transactions committed.
	Commits atomic.Int64
	// Stmts counts the statements run, reads too.
	Stmts atomic.Int64
	// Fail, when not nil, is called before every call; a non-nil error
	// fails the call.
	Fail func() error
	// OnStmt, when not nil, is called with the text of each statement
	// counted in Stmts, from the goroutine that runs it: it must be safe
	// for concurrent use. Set it before Open.
	OnStmt func(query string)
	// FailCommit, when not nil, is called before each commit of a
	// transaction with the texts of the statements run in it; a non-nil
	// error rolls the transaction back and fails the commit with it, as a
	// commit the database refused. It must be safe for concurrent use.
	// Set it before Open.
	FailCommit func(stmts []string) error
}

// Open returns a *sql.DB over db's driver, opened with dsn, whose
// connections report to n. The caller closes it.
func Open(db *sql.DB, dsn string, n *Spy) (*sql.DB, error) {
	var c driver.Connector = dsnConnector{d: db.Driver(), dsn: dsn}
	if dc, ok := db.Driver().(driver.DriverContext); ok {
		var err error
		if c, err = dc.OpenConnector(dsn); err != nil {
			return nil, err
		}
	}
	return sql.OpenDB(countConnector{c: c, n: n}), nil
}

func (n *Spy) fail() error {
	if n.Fail == nil {
		return nil
	}
	return n.Fail()
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
	n *Spy
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
	n    *Spy
	inTx bool
	txq  []string // the statements of the transaction, for FailCommit
}

func (c *countConn) count(query string) error {
	if err := c.n.fail(); err != nil {
		return err
	}
	c.n.Stmts.Add(1)
	if c.inTx && c.n.FailCommit != nil {
		c.txq = append(c.txq, query)
	}
	if c.n.OnStmt != nil {
		c.n.OnStmt(query)
	}
	if !c.inTx && isWrite(query) {
		c.n.Commits.Add(1)
	}
	return nil
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
	if err := c.n.fail(); err != nil {
		return nil, err
	}
	var tx driver.Tx
	var err error
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		//lint:ignore SA1019 the fallback of a driver without BeginTx
		tx, err = c.Conn.Begin()
	}
	if err != nil {
		return nil, err
	}
	c.inTx, c.txq = true, c.txq[:0]
	return countTx{tx: tx, c: c}, nil
}

func (c *countConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	if err := c.count(query); err != nil {
		return nil, err
	}
	return e.ExecContext(ctx, query, args)
}

func (c *countConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	if err := c.count(query); err != nil {
		return nil, err
	}
	return q.QueryContext(ctx, query, args)
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
	err := t.c.n.fail()
	if err == nil && t.c.n.FailCommit != nil {
		err = t.c.n.FailCommit(t.c.txq)
	}
	if err != nil {
		_ = t.tx.Rollback()
		return err
	}
	err = t.tx.Commit()
	if err == nil {
		t.c.n.Commits.Add(1)
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
	if err := s.c.count(s.query); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the fallback of a driver without StmtExecContext
	return s.Stmt.Exec(args)
}

func (s *countStmt) Query(args []driver.Value) (driver.Rows, error) {
	if err := s.c.count(s.query); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the fallback of a driver without StmtQueryContext
	return s.Stmt.Query(args)
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
	if err := s.c.count(s.query); err != nil {
		return nil, err
	}
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
	if err := s.c.count(s.query); err != nil {
		return nil, err
	}
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
