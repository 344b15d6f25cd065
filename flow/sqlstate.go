package flow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/sqlq"
)

// DefaultStatePrefix is the table name prefix of an [SQLState] when
// SQLStateConfig.Prefix is empty.
const DefaultStatePrefix = "flow_"

// ErrStateNotMigrated is matched by the error of an [SQLState] whose
// tables do not exist: call [SQLState.Migrate] first.
var ErrStateNotMigrated = errors.New("flow: state tables not migrated")

var statePrefix = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,40}$`)

// SQLStateConfig configures an [SQLState]. Dialect is required; the zero
// values of the other fields are their documented defaults. NewSQLState
// reads it once; Now is called concurrently and must be safe for
// concurrent use.
type SQLStateConfig struct {
	// Dialect is the database's dialect (idempotency.SQLite or
	// idempotency.Postgres, the values eventlog.SQLite and
	// eventlog.Postgres also name). Required.
	Dialect idempotency.Dialect
	// Prefix starts the names of the tables: PREFIXorders and
	// PREFIXfeeds. A letter or underscore followed by up to 40 letters,
	// digits or underscores (it is not quoted). Empty means
	// DefaultStatePrefix.
	Prefix string
	// Now is the clock that stamps each saved state, for DeleteFinal.
	// Nil means time.Now.
	Now func() time.Time
}

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (c SQLStateConfig) Validate() error {
	switch {
	case c.Dialect != idempotency.SQLite && c.Dialect != idempotency.Postgres:
		return fmt.Errorf("%w: SQLStateConfig.Dialect %v is not SQLite or Postgres", ErrInvalidConfig, c.Dialect)
	case c.Prefix != "" && !statePrefix.MatchString(c.Prefix):
		return fmt.Errorf("%w: SQLStateConfig.Prefix %q is not a plain identifier of at most 41 bytes", ErrInvalidConfig, c.Prefix)
	}
	return nil
}

// SQLState keeps the flow's durable state in tables of an SQL database
// reached through database/sql: each order's encoded state (a
// [StateStore]) and the feeds' cursors (a [CursorStore]). With the
// eventlog.SQL backend and an idempotency.SQLStore over the same database,
// everything a restarted flow needs is in that database.
//
// It does not register or open drivers: it uses the *sql.DB it is given
// (for SQLite, open it as the eventlog package's Dialect documentation
// says, on one connection; for PostgreSQL, keep at least Config.Workers+3
// idle connections). Create the tables with [SQLState.Migrate]. Final orders are kept
// until [SQLState.DeleteFinal] deletes them.
//
// With an SQLState the handlers recognise an event handled again after a
// crash from the order's stored state, so Config.Dedupe is optional. Over
// the database of the flow's eventlog.SQL log, an order's state is saved
// after each handler in the consumer's group commit, and the ERP's
// decision on a new order is appended to the log in that commit too (see
// the package documentation, section Durable state and crashes).
//
// It prepares its statements on first use; [SQLState.Close] releases them.
// An SQLState is safe for concurrent use. The zero value is not usable;
// create it with [NewSQLState].
type SQLState struct {
	db                             *sql.DB
	dialect                        idempotency.Dialect
	p                              string
	now                            func() time.Time
	qLoad, qInsert, qUpdate, qHeld string
	qCurLoad, qCurSave             string
	qDeleteFinal                   string

	// saves writes the saves deferred to a consumer's group commit
	// (Flow.deferSave), many in one statement.
	saves *eventlog.TxBatch[stateSave]

	prepMu sync.Mutex                      // serialises preparing
	prep   atomic.Pointer[stateStatements] // nil until prepared
}

// stateStatements are the prepared statements of an SQLState. *sql.Stmt is
// safe for concurrent use and prepares itself again on each connection.
type stateStatements struct {
	load, insert, update, curLoad, curSave *sql.Stmt
	// insertRows[i] and updateRows[i] save 2<<i orders (saveRows), on
	// SQLite; on PostgreSQL saveRows[i] saves 2<<i orders, inserts and
	// updates together.
	insertRows, updateRows, saveRows []*sql.Stmt
}

// stmts returns the prepared statements, preparing them on first use.
func (s *SQLState) stmts(ctx context.Context) (*stateStatements, error) {
	if st := s.prep.Load(); st != nil {
		return st, nil
	}
	s.prepMu.Lock()
	defer s.prepMu.Unlock()
	if st := s.prep.Load(); st != nil {
		return st, nil
	}
	st := &stateStatements{}
	for _, p := range []struct {
		dst *(*sql.Stmt)
		q   string
	}{{&st.load, s.qLoad}, {&st.insert, s.qInsert}, {&st.update, s.qUpdate}, {&st.curLoad, s.qCurLoad}, {&st.curSave, s.qCurSave}} {
		stmt, err := s.db.PrepareContext(ctx, p.q)
		if err != nil {
			_ = st.close()
			return nil, s.wrap("prepare", err)
		}
		*p.dst = stmt
	}
	for n := 2; n <= maxSaveRows; n *= 2 {
		type prep struct {
			dst *[]*sql.Stmt
			q   string
		}
		ps := []prep{{&st.insertRows, s.rowsQuery(false, n)}, {&st.updateRows, s.rowsQuery(true, n)}}
		if s.dialect == idempotency.Postgres {
			ps = []prep{{&st.saveRows, s.saveRowsQuery(n)}}
		}
		for _, p := range ps {
			stmt, err := s.db.PrepareContext(ctx, p.q)
			if err != nil {
				_ = st.close()
				return nil, s.wrap("prepare", err)
			}
			*p.dst = append(*p.dst, stmt)
		}
	}
	s.prep.Store(st)
	return st, nil
}

func (st *stateStatements) close() error {
	var errs []error
	all := append([]*sql.Stmt{st.load, st.insert, st.update, st.curLoad, st.curSave}, st.insertRows...)
	all = append(all, st.saveRows...)
	for _, s := range append(all, st.updateRows...) {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// Close releases the prepared statements; the SQLState prepares them again
// if it is used after. It does not close the *sql.DB.
func (s *SQLState) Close() error {
	s.prepMu.Lock()
	defer s.prepMu.Unlock()
	if st := s.prep.Swap(nil); st != nil {
		return st.close()
	}
	return nil
}

var (
	_ StateStore  = (*SQLState)(nil)
	_ CursorStore = (*SQLState)(nil)
)

// NewSQLState returns an SQLState over db. The error matches
// [ErrInvalidConfig].
func NewSQLState(db *sql.DB, cfg SQLStateConfig) (*SQLState, error) {
	// Config.Dedupe is optional with an SQLState: TestCrashRestart/nodedupe
	// holds its invariants without it (-crash.seed 1 to 100), and a dedupe
	// store costs a claim per event (its completion joins the consumer's
	// group commit over an eventlog.SQL log on the same database;
	// BenchmarkOrderToCashSQLite measures the rate and the commits per
	// order with and without one).
	if db == nil {
		return nil, fmt.Errorf("%w: NewSQLState: nil *sql.DB", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &SQLState{db: db, dialect: cfg.Dialect, p: cfg.Prefix, now: cfg.Now}
	if s.p == "" {
		s.p = DefaultStatePrefix
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.qLoad = s.q("SELECT state, held, final, version FROM {p}orders WHERE id = ?")
	s.qInsert = s.q(`INSERT INTO {p}orders (state, held, final, saved_ns, version, id) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`)
	s.qUpdate = s.q(`UPDATE {p}orders SET state = ?, held = ?, final = ?, saved_ns = ?, version = ? WHERE id = ? AND version = ?`)
	s.qHeld = s.q("SELECT id FROM {p}orders WHERE held = 1 ORDER BY id")
	s.qCurLoad = s.q("SELECT cur FROM {p}feeds WHERE feed = ?")
	s.qCurSave = s.q("INSERT INTO {p}feeds (feed, cur) VALUES (?, ?) ON CONFLICT (feed) DO UPDATE SET cur = excluded.cur")
	s.qDeleteFinal = s.q("DELETE FROM {p}orders WHERE final = 1 AND saved_ns < ?")
	s.saves = eventlog.NewTxBatch(s.writeSaves)
	return s, nil
}

// q rewrites a query written with ? placeholders and {p} for the prefix
// into the dialect.
func (s *SQLState) q(query string) string {
	return sqlq.Rebind(s.dialect == idempotency.Postgres, strings.ReplaceAll(query, "{p}", s.p))
}

// Migrate creates the tables that do not exist yet. It is explicit: no
// other method creates anything.
func (s *SQLState) Migrate(ctx context.Context) error {
	blob, big := "BLOB", "INTEGER"
	if s.dialect == idempotency.Postgres {
		blob, big = "BYTEA", "BIGINT"
	}
	for _, st := range []string{
		`CREATE TABLE IF NOT EXISTS {p}orders (id TEXT PRIMARY KEY, state ` + blob + ` NOT NULL,
			held INTEGER NOT NULL, final INTEGER NOT NULL, saved_ns ` + big + ` NOT NULL, version ` + big + ` NOT NULL)`,
		// Partial indexes: a save of an open order, which changes
		// saved_ns, writes no index page; only held and final orders
		// are indexed. They replace the full indexes of earlier
		// versions, dropped here.
		`CREATE INDEX IF NOT EXISTS {p}orders_held1 ON {p}orders (id) WHERE held = 1`,
		`CREATE INDEX IF NOT EXISTS {p}orders_final1 ON {p}orders (saved_ns) WHERE final = 1`,
		`DROP INDEX IF EXISTS {p}orders_held`,
		`DROP INDEX IF EXISTS {p}orders_final`,
		`CREATE TABLE IF NOT EXISTS {p}feeds (feed TEXT PRIMARY KEY, cur TEXT NOT NULL)`,
	} {
		if _, err := s.db.ExecContext(ctx, s.q(st)); err != nil {
			return fmt.Errorf("flow: migrate state tables: %w", err)
		}
	}
	return nil
}

// Drop drops the tables, for tests and tear-down.
func (s *SQLState) Drop(ctx context.Context) error {
	if err := s.Close(); err != nil {
		return fmt.Errorf("flow: drop: %w", err)
	}
	for _, t := range []string{"orders", "feeds"} {
		if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+s.p+t); err != nil {
			return fmt.Errorf("flow: drop %s%s: %w", s.p, t, err)
		}
	}
	return nil
}

// wrap turns a missing-table error into one matching ErrStateNotMigrated.
func (s *SQLState) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist") && strings.Contains(msg, "relation") {
		return fmt.Errorf("flow: %s: %w: %w", op, ErrStateNotMigrated, err)
	}
	return fmt.Errorf("flow: %s: %w", op, err)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// LoadState implements [StateStore].
func (s *SQLState) LoadState(ctx context.Context, orderID string) (StoredState, bool, error) {
	st := StoredState{OrderID: orderID}
	var held, final int
	stmts, err := s.stmts(ctx)
	if err != nil {
		return StoredState{}, false, err
	}
	err = stmts.load.QueryRowContext(ctx, orderID).Scan(&st.Data, &held, &final, &st.Version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return StoredState{}, false, nil
	case err != nil:
		return StoredState{}, false, s.wrap("load state of order "+strconv.Quote(orderID), err)
	}
	st.Held, st.Final = held == 1, final == 1
	return st, true, nil
}

// SaveState implements [StateStore] with one statement: an insert for
// version 1, else an update of the row at the version before.
func (s *SQLState) SaveState(ctx context.Context, st StoredState) error {
	return s.saveIn(ctx, nil, st)
}

// saveIn is SaveState in tx when it is not nil.
func (s *SQLState) saveIn(ctx context.Context, tx *sql.Tx, st StoredState) error {
	if st.OrderID == "" {
		return fmt.Errorf("flow: save state: %w: empty order ID", ErrBadState)
	}
	op := "save state of order " + strconv.Quote(st.OrderID)
	if st.Version < 1 {
		return fmt.Errorf("flow: %s: %w: version %d", op, ErrStateConflict, st.Version)
	}
	stmts, err := s.stmts(ctx)
	if err != nil {
		return err
	}
	args := []any{st.Data, boolInt(st.Held), boolInt(st.Final), s.now().UnixNano(), st.Version, st.OrderID}
	insert, update := stmts.insert, stmts.update
	if tx != nil {
		if st.Version == 1 {
			insert = tx.StmtContext(ctx, insert)
		} else {
			update = tx.StmtContext(ctx, update)
		}
	}
	var r sql.Result
	if st.Version == 1 {
		r, err = insert.ExecContext(ctx, args...)
	} else {
		r, err = update.ExecContext(ctx, append(args, st.Version-1)...)
	}
	if err != nil {
		return s.wrap(op, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return s.wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("flow: %s: %w: it is not at version %d", op, ErrStateConflict, st.Version-1)
	}
	return nil
}

// stateSave is a save of an order's state deferred to a consumer's group
// commit (Flow.deferSave).
type stateSave struct {
	st StoredState
	// failed, when not nil, is called with the error of the save written
	// alone (in a transaction that then rolls back).
	failed func(ctx context.Context, err error)
}

// writeSaves writes saves in tx: the write of the SQLState's TxBatch. A
// save alone is written as SaveState writes it, with its error; many are
// written by saveRows, whose error does not say which failed.
func (s *SQLState) writeSaves(ctx context.Context, tx *sql.Tx, saves []stateSave) error {
	if len(saves) == 1 {
		err := s.saveIn(ctx, tx, saves[0].st)
		if err != nil && saves[0].failed != nil {
			saves[0].failed(ctx, err)
		}
		return err
	}
	return s.saveRows(ctx, tx, saves)
}

// maxSaveRows is the most orders one statement of saveRows saves: its
// prepared statements save 2, 4, ..., maxSaveRows orders.
const maxSaveRows = 32

// rowsQuery returns the statement that inserts the version-1 states of n
// orders, or, when update is set, updates the states of n orders from
// their versions before, reading them from a VALUES list of parameters
// (id, state, held, final, version for each; a row of NULLs matches no
// order), saved at its first parameter. PostgreSQL gets the bytes of the
// states as they are, where a JSON document would need them encoded and
// cost the server more to read (BenchmarkSQLStateWriteSaves).
func (s *SQLState) rowsQuery(update bool, n int) string {
	pg := s.dialect == idempotency.Postgres
	param := func(b *strings.Builder, i int, typ string) {
		if pg {
			b.WriteString("$" + strconv.Itoa(i) + "::" + typ)
		} else {
			b.WriteString("?" + strconv.Itoa(i))
		}
	}
	types := []string{"text", "bytea", "integer", "integer", "bigint"}
	var b strings.Builder
	// On SQLite, OR FAIL spares a statement journal (see orFail).
	if update {
		b.WriteString("UPDATE " + s.orFail() + s.p + "orders AS o SET state = v.column2, held = v.column3, final = v.column4, version = v.column5, saved_ns = ")
		param(&b, 1, "bigint")
		b.WriteString(" FROM (VALUES ")
	} else {
		b.WriteString("INSERT " + s.orFail() + "INTO " + s.p + "orders (id, state, held, final, version, saved_ns) VALUES ")
	}
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for j, typ := range types {
			if j > 0 {
				b.WriteString(", ")
			}
			param(&b, 2+5*i+j, typ)
		}
		if !update {
			b.WriteString(", ")
			param(&b, 1, "bigint")
		}
		b.WriteString(")")
	}
	if update {
		b.WriteString(") AS v WHERE o.id = v.column1 AND o.version = v.column5 - 1")
	} else {
		b.WriteString(" ON CONFLICT (id) DO NOTHING")
	}
	return b.String()
}

// saveRowsQuery returns the PostgreSQL statement that saves the states of
// n orders, inserting those at version 1 and updating the others from
// their versions before, reading them from a VALUES list of parameters
// (id, state, held, final, version for each; a row of NULLs saves
// nothing), saved at its first parameter, and returns how many rows it
// wrote: one statement, one round trip, where an update and an insert
// took two. Its two parts see the table as it was before the statement,
// so a group that saves one order twice, first at version 1, finds the
// second save in conflict (and its saves are then written one by one).
func (s *SQLState) saveRowsQuery(n int) string {
	var b strings.Builder
	b.WriteString("WITH v AS MATERIALIZED (SELECT * FROM (VALUES ")
	types := []string{"text", "bytea", "integer", "integer", "bigint"}
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for j, typ := range types {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(2+5*i+j) + "::" + typ)
		}
		b.WriteString(")")
	}
	b.WriteString(") AS t (id, state, held, final, version) WHERE id IS NOT NULL), " +
		"u AS (UPDATE " + s.p + "orders AS o SET state = v.state, held = v.held, final = v.final, version = v.version, saved_ns = $1::bigint " +
		"FROM v WHERE v.version > 1 AND o.id = v.id AND o.version = v.version - 1 RETURNING 1), " +
		"i AS (INSERT INTO " + s.p + "orders (id, state, held, final, version, saved_ns) " +
		"SELECT id, state, held, final, version, $1::bigint FROM v WHERE version = 1 ON CONFLICT (id) DO NOTHING RETURNING 1) " +
		"SELECT (SELECT COUNT(*) FROM u) + (SELECT COUNT(*) FROM i)")
	return b.String()
}

// orFail returns "OR FAIL " on SQLite, "" on PostgreSQL: the conflict
// clause of the statements that save many orders. Within a transaction,
// SQLite keeps a statement journal for a statement that writes many rows
// and may abort (the default, OR ABORT, of a NOT NULL column), so that it
// can undo the statement alone: it copies there every page the statement
// changes, and opens a temporary file when the copies pass 64 KB, which
// a group commit's states do. A statement that fails with OR FAIL keeps
// what it wrote before the failure; that is no loss here, since the
// transaction is then rolled back whole (an error of a TxBatch's write
// rolls the group's transaction back), and the statements bind no NULL to
// a NOT NULL column anyway.
func (s *SQLState) orFail() string {
	if s.dialect == idempotency.Postgres {
		return ""
	}
	return "OR FAIL "
}

// saveRows saves the states of many orders in tx: the updates with one
// statement for up to maxSaveRows of them (its VALUES list filled up with
// rows of NULLs), the inserts of version-1 states (rare: a handler saves
// an order's first state at once, before its effects) with one statement
// per bit of their count. It fails, matching [ErrStateConflict], when
// fewer rows were written than saves (an order not at the version before,
// or one saved twice), without saying which: saved alone, each save
// reports its own error.
func (s *SQLState) saveRows(ctx context.Context, tx *sql.Tx, saves []stateSave) error {
	var ins, upd []*StoredState
	for i := range saves {
		st := &saves[i].st
		switch {
		case st.OrderID == "":
			return fmt.Errorf("flow: save state: %w: empty order ID", ErrBadState)
		case st.Version < 1:
			return fmt.Errorf("flow: save state of order %q: %w: version %d", st.OrderID, ErrStateConflict, st.Version)
		case st.Version == 1:
			ins = append(ins, st)
		default:
			upd = append(upd, st)
		}
	}
	op := fmt.Sprintf("save states of %d orders (the first %q)", len(saves), saves[0].st.OrderID)
	stmts, err := s.stmts(ctx)
	if err != nil {
		return err
	}
	now := s.now().UnixNano()
	if s.dialect == idempotency.Postgres {
		n, err := saveMixedRows(ctx, tx, saves, stmts.saveRows, now)
		if err != nil {
			return s.wrap(op, err)
		}
		if n != int64(len(saves)) {
			return fmt.Errorf("flow: %s: %w: %d saved, the others not at the version before theirs", op, ErrStateConflict, n)
		}
		return nil
	}
	n, err := saveRowsIn(ctx, tx, ins, stmts.insert, stmts.insertRows, now, false)
	if err == nil {
		var m int64
		m, err = saveRowsIn(ctx, tx, upd, stmts.update, stmts.updateRows, now, true)
		n += m
	}
	if err != nil {
		return s.wrap(op, err)
	}
	if n != int64(len(saves)) {
		return fmt.Errorf("flow: %s: %w: %d saved, the others not at the version before theirs", op, ErrStateConflict, n)
	}
	return nil
}

// execRows returns the rows an Exec changed.
func execRows(r sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// saveRowsIn saves rows in tx, saved at now, with the statements one (of
// one row, as saveIn uses it) and many (of 2<<i rows), and returns the
// rows they changed. For updates (update set; one then takes the version
// before as its last argument), a statement of the next size up takes up
// to maxSaveRows rows, the rest of its VALUES list NULLs; for inserts,
// the largest statement that they fill, until none is left.
func saveRowsIn(ctx context.Context, tx *sql.Tx, rows []*StoredState, one *sql.Stmt, many []*sql.Stmt, now int64, update bool) (int64, error) {
	var total int64
	args := make([]any, 0, 1+5*maxSaveRows)
	for len(rows) > 0 {
		k := min(1<<(bits.Len(uint(len(rows)))-1), maxSaveRows) // rows taken
		size := k                                               // rows of the statement
		if update && k < len(rows) && k < maxSaveRows {
			k, size = len(rows), 2*k
		}
		args = args[:0]
		stmt := one
		if size == 1 {
			st := rows[0]
			args = append(args, st.Data, boolInt(st.Held), boolInt(st.Final), now, st.Version, st.OrderID)
			if update {
				args = append(args, st.Version-1)
			}
		} else {
			stmt = many[bits.Len(uint(size))-2]
			args = append(args, now)
			for _, st := range rows[:k] {
				args = append(args, st.OrderID, st.Data, boolInt(st.Held), boolInt(st.Final), st.Version)
			}
			for range size - k {
				args = append(args, nil, nil, nil, nil, nil)
			}
		}
		m, err := execRows(tx.StmtContext(ctx, stmt).ExecContext(ctx, args...))
		if err != nil {
			return total, err
		}
		total += m
		rows = rows[k:]
	}
	return total, nil
}

// saveMixedRows saves saves, more than one, in tx on PostgreSQL with the
// statements many (of 2<<i rows, saveRowsQuery), up to maxSaveRows at a
// time, and returns the rows they wrote.
func saveMixedRows(ctx context.Context, tx *sql.Tx, saves []stateSave, many []*sql.Stmt, now int64) (int64, error) {
	var total int64
	args := make([]any, 0, 1+5*maxSaveRows)
	for len(saves) > 0 {
		k := min(len(saves), maxSaveRows)
		size := 2 // the last of more than maxSaveRows: a row of NULLs beside it
		if k > 1 {
			size = 2 << (bits.Len(uint(k-1)) - 1) // the next size up
		}
		args = append(args[:0], now)
		for i := range saves[:k] {
			st := &saves[i].st
			args = append(args, st.OrderID, st.Data, boolInt(st.Held), boolInt(st.Final), st.Version)
		}
		for range size - k {
			args = append(args, nil, nil, nil, nil, nil)
		}
		var n int64
		if err := tx.StmtContext(ctx, many[bits.Len(uint(size))-2]).QueryRowContext(ctx, args...).Scan(&n); err != nil {
			return total, err
		}
		total += n
		saves = saves[k:]
	}
	return total, nil
}

// HeldOrders implements [StateStore]; the IDs are sorted.
func (s *SQLState) HeldOrders(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.qHeld)
	if err != nil {
		return nil, s.wrap("list held orders", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap("list held orders", err)
		}
		ids = append(ids, id)
	}
	return ids, s.wrap("list held orders", rows.Err())
}

// DeleteFinal deletes the states of the final orders last saved before
// t, and returns how many it deleted: the retention of completed orders is
// the caller's choice. An event that names a deleted order later is
// dead-lettered with [ErrUnknownOrder]; an order.submitted event of a
// deleted order would be taken for a new order, so keep final orders for
// longer than the feeds may deliver an event again.
func (s *SQLState) DeleteFinal(ctx context.Context, t time.Time) (int, error) {
	r, err := s.db.ExecContext(ctx, s.qDeleteFinal, t.UnixNano())
	if err != nil {
		return 0, s.wrap("delete final orders", err)
	}
	n, err := r.RowsAffected()
	return int(n), s.wrap("delete final orders", err)
}

// Load implements [CursorStore].
func (s *SQLState) Load(ctx context.Context, feed string) (connector.Cursor, error) {
	var c string
	stmts, err := s.stmts(ctx)
	if err != nil {
		return "", err
	}
	err = stmts.curLoad.QueryRowContext(ctx, feed).Scan(&c)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", s.wrap("load cursor of "+feed, err)
	}
	return connector.Cursor(c), nil
}

// Save implements [CursorStore].
func (s *SQLState) Save(ctx context.Context, feed string, c connector.Cursor) error {
	stmts, err := s.stmts(ctx)
	if err != nil {
		return err
	}
	_, err = stmts.curSave.ExecContext(ctx, feed, string(c))
	return s.wrap("save cursor of "+feed, err)
}
