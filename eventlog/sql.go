package eventlog

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/internal/sqlq"
)

// Dialect is the SQL dialect an [SQL] backend speaks. It is the
// idempotency package's type, so one value configures both an event log and
// an idempotency store over the same database.
//
// With SQLite there is one writer at a time:
// [github.com/distsync/distsync/sqlite.Open] opens a file with the settings
// below, for the event log and an idempotency store alike. Opening it
// yourself (for example with the pure-Go driver modernc.org/sqlite, driver
// name "sqlite"), use WAL mode with a busy_timeout, as in
// "file:events.db?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate",
// and give the *sql.DB one connection (db.SetMaxOpenConns(1)) when one
// process writes through it from several goroutines, as a consumer's
// workers do: writers on several connections wait for each other in
// SQLite's busy handler, which sleeps (1ms, 2ms, 5ms...) between tries,
// while on one connection they queue in database/sql's pool.
// With PostgreSQL use, for example, github.com/jackc/pgx/v5/stdlib (driver
// name "pgx"), and keep as many idle connections as the goroutines that
// use the database at once (db.SetMaxIdleConns; database/sql keeps 2 by
// default): a consumer with 4 workers otherwise opens a new connection for
// most of its statements.
// It is a plain value, safe for concurrent use; its zero value is not a
// valid Dialect (SQLConfig requires one).
type Dialect = idempotency.Dialect

// The supported dialects.
const (
	SQLite   = idempotency.SQLite
	Postgres = idempotency.Postgres
)

// DefaultPrefix is the table name prefix of an [SQL] backend when
// SQLConfig.Prefix is empty.
const DefaultPrefix = "eventlog_"

var prefixName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,40}$`)

// SQLConfig configures an [SQL] backend. Dialect is required; the other zero
// values are the documented defaults. Now is called concurrently and must
// be safe for concurrent use.
type SQLConfig struct {
	// Dialect is the database's dialect. Required.
	Dialect Dialect
	// Prefix starts the names of the tables: PREFIXevents, PREFIXcursors,
	// PREFIXgroups, PREFIXretries, PREFIXdead, PREFIXoutbox, PREFIXtrim,
	// and PREFIXleases and PREFIXmembers of partitioned groups ([Group]). A letter or
	// underscore followed by up to 40 letters, digits or underscores (it
	// is not quoted). Empty means [DefaultPrefix].
	//
	// The prefix is folded to lower case: both dialects treat unquoted
	// names without regard to case, so "App_" and "app_" name the same
	// tables, and they must then also share the locks that keep those
	// tables consistent (the append lock and the group locks are derived
	// from the prefix). [SQL.String] shows the folded prefix.
	Prefix string
	// Now is the clock of audit entries. Nil means time.Now.
	Now func() time.Time
	// LockCheck is how often, on PostgreSQL, a held group lock (see
	// [SQL.TryLockGroup]) is checked on its connection; a check that
	// fails or does not answer within LockCheck marks the lock lost, so
	// its holder notices a lost lock within 2×LockCheck. A process that
	// takes over a lock its previous holder did not release waits
	// 3×LockCheck first. Zero means [DefaultLockCheck].
	LockCheck time.Duration
}

// DefaultLockCheck is the default of SQLConfig.LockCheck.
const DefaultLockCheck = 2 * time.Second

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (c SQLConfig) Validate() error {
	switch {
	case c.LockCheck < 0:
		return fmt.Errorf("eventlog: SQLConfig.LockCheck %v is negative: %w", c.LockCheck, ErrInvalidConfig)
	case c.Dialect != SQLite && c.Dialect != Postgres:
		return fmt.Errorf("eventlog: SQLConfig.Dialect %v is not SQLite or Postgres: %w", c.Dialect, ErrInvalidConfig)
	case c.Prefix != "" && !prefixName.MatchString(c.Prefix):
		return fmt.Errorf("eventlog: SQLConfig.Prefix %q is not a plain identifier of at most 41 bytes: %w", c.Prefix, ErrInvalidConfig)
	}
	return nil
}

// SQL is a [Backend] in tables of an SQL database reached through
// database/sql: SQLite for one process, PostgreSQL when several processes
// share the log. It also holds a transactional outbox: [SQL.AppendTx]
// writes events in the application's own transaction and [SQL.Relay]
// publishes them.
//
// The backend does not register or open drivers: it uses the *sql.DB it is
// given. Create the tables with [SQL.Migrate]. Events are stored as their
// CloudEvents JSON; a row that does not decode is read as an [Entry] with a
// [DecodeError], which a consumer dead-letters.
//
// On PostgreSQL, appends to the log take a transaction-scoped advisory
// lock, so that offsets become visible in order and a reader never skips
// an offset committed late; appends are thereby serialised, as they are
// on SQLite. Writes to the outbox ([SQL.AppendTx]) take no such lock: the
// application's transaction never holds the log's append lock, and the
// relay takes it in its own short transactions. Times are stored as Unix
// nanoseconds.
//
// It prepares the statements of its frequent operations on first use
// (SQLite compiles a statement afresh for every unprepared query);
// [SQL.Close] releases them.
//
// An SQL backend is safe for concurrent use. On PostgreSQL it is a
// [GroupLocker]: a consumer group runs in one process at a time. The zero
// value is not usable; create it with [NewSQL].
type SQL struct {
	db      *sql.DB
	dialect Dialect
	p       string
	now     func() time.Time
	lockKey int64
	check   time.Duration // SQLConfig.LockCheck

	mu     sync.Mutex
	notify chan struct{}

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared statements by query template
}

var (
	_ Backend     = (*SQL)(nil)
	_ Notifier    = (*SQL)(nil)
	_ GroupLocker = (*SQL)(nil)
	_ Pruner      = (*SQL)(nil)
)

// TryLockGroup implements [GroupLocker]. On PostgreSQL it takes a
// session-level advisory lock on a connection of db's pool that it keeps
// until Unlock, so that a consumer group runs in one process at a time.
//
// The lock is only as good as its connection: a server restart, a
// failover, pg_terminate_backend, an idle-session timeout or a pooler
// that hands the session to someone else ends it without telling the
// holder. So the lock's connection is checked every SQLConfig.LockCheck
// (the session must still hold the advisory lock, answered within
// LockCheck); when a check fails, the lock's Lost channel is closed and
// the connection is discarded. The holder thus notices within
// 2×LockCheck, and a [Consumer] then stops (see [ErrLockLost]). Because
// the lock may already have been taken by then, TryLockGroup, when it
// takes a lock whose previous holder did not release it by Unlock (its
// connection died), waits 3×LockCheck before it returns, so that the
// previous holder has noticed and stopped, provided its handlers return
// within LockCheck once their context is cancelled. The group's epoch
// (see [Cursors]) refuses whatever a previous holder writes after that.
// The lock needs a real session: behind a pooler in transaction mode
// (PgBouncer's default) it fails its first check. It keeps its
// connection out of db's pool while it is held, so a pool capped with
// db.SetMaxOpenConns needs one connection per group running in the
// process beyond those its statements use (with a cap of 1, a [Consumer]
// waits for ever for a connection to claim its group).
//
// On SQLite, which one process uses, it always succeeds, locks nothing
// and is never lost.
func (s *SQL) TryLockGroup(ctx context.Context, group string) (GroupLock, bool, error) {
	if s.dialect != Postgres {
		return noLock{}, true, nil
	}
	h := fnv.New64a()
	h.Write([]byte("distsync/eventlog/group/" + s.p + "/" + group))
	key := int64(h.Sum64())
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, s.wrap("lock group", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		discard(conn)
		return nil, false, s.wrap("lock group", err)
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	l := &pgLock{s: s, conn: conn, group: group, key: key, stop: make(chan struct{}), done: make(chan struct{}),
		lost: make(chan struct{})}
	var released bool
	// FOR SHARE: a previous holder's Unlock marks the group released and
	// releases the lock in one statement, which may not have committed
	// yet; this read waits for it.
	err = conn.QueryRowContext(ctx, s.q("SELECT released <> 0 FROM {p}groups WHERE grp = ? FOR SHARE"), group).Scan(&released)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		released = true // never claimed: nobody ran the group
	case err != nil:
		close(l.done)
		l.release(false) // whether the previous holder released it is unknown
		return nil, false, s.wrap("lock group", err)
	}
	go l.watch()
	if released {
		return l, true, nil
	}
	t := time.NewTimer(3 * s.check)
	defer t.Stop()
	select {
	case <-t.C:
		return l, true, nil
	case <-l.lost:
		err = l.Err()
	case <-ctx.Done():
		err = context.Cause(ctx)
	}
	// Given up before the previous holder surely stopped: the group is
	// not marked released, so that the next taker waits in turn.
	l.release(false)
	return nil, false, err
}

// noLock is the lock of a backend that one process uses.
type noLock struct{}

func (noLock) Lost() <-chan struct{} { return nil }
func (noLock) Err() error            { return nil }
func (noLock) Unlock()               {}

// pgLock is a held session-level advisory lock on PostgreSQL.
type pgLock struct {
	s     *SQL
	conn  *sql.Conn
	group string
	key   int64

	stop chan struct{} // closed by Unlock
	done chan struct{} // closed when watch returned
	lost chan struct{} // closed when a check failed
	err  error         // why it was lost, set before lost is closed
	once sync.Once
}

// watch checks the lock every LockCheck until Unlock or a failed check.
func (l *pgLock) watch() {
	defer close(l.done)
	hi, lo := int64(uint32(uint64(l.key)>>32)), int64(uint32(uint64(l.key)))
	t := time.NewTicker(l.s.check)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.s.check)
		var held bool
		// A bigint advisory key shows as classid (high half), objid (low
		// half) and objsubid 1.
		err := l.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "+
			"AND pid = pg_backend_pid() AND granted AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1)", hi, lo).Scan(&held)
		cancel()
		if err == nil && held {
			continue
		}
		if err == nil {
			err = errors.New("the session no longer holds the advisory lock")
		}
		l.err = fmt.Errorf("eventlog: group %q: lock connection check failed: %w", l.group, err)
		close(l.lost)
		return
	}
}

// Lost implements [GroupLock].
func (l *pgLock) Lost() <-chan struct{} { return l.lost }

// Err implements [GroupLock].
func (l *pgLock) Err() error {
	select {
	case <-l.lost:
		return l.err
	default:
		return nil
	}
}

// Unlock implements [GroupLock]: it stops the checks, records that the
// group was released cleanly (so that the next holder need not wait) and
// releases the lock. A connection that fails any of it, or whose lock was
// lost, is discarded rather than returned to the pool.
func (l *pgLock) Unlock() { l.release(true) }

// release releases the lock, first recording that the group was released
// cleanly when clean is true.
func (l *pgLock) release(clean bool) {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		if l.Err() != nil {
			discard(l.conn)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.s.check)
		defer cancel()
		var ok bool
		var err error
		if clean {
			// One statement, one round trip: the unlock reads the
			// count of the rows updated, so the row is updated (and
			// locked until the statement commits) before the lock is
			// released; a next holder's read of released (FOR SHARE, see
			// TryLockGroup) waits for that commit.
			err = l.conn.QueryRowContext(ctx, l.s.q("WITH u AS (UPDATE {p}groups SET released = 1 WHERE grp = ? RETURNING 1) "+
				"SELECT pg_advisory_unlock(CAST(? AS BIGINT)) FROM (SELECT COUNT(*) FROM u) AS n"), l.group, l.key).Scan(&ok)
		} else {
			err = l.conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", l.key).Scan(&ok)
		}
		if err != nil || !ok {
			discard(l.conn)
			return
		}
		_ = l.conn.Close()
	})
}

// discard closes conn and keeps database/sql from reusing its session,
// which may hold a session-level lock.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// NewSQL returns an SQL backend over db. The error matches
// [ErrInvalidConfig].
func NewSQL(db *sql.DB, cfg SQLConfig) (*SQL, error) {
	if db == nil {
		return nil, fmt.Errorf("eventlog: NewSQL: nil *sql.DB: %w", ErrInvalidConfig)
	}
	// Cost note behind Dialect's advice on idle connections: opening a
	// PostgreSQL connection costs milliseconds, more than most of the
	// statements run on it.
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Folded so that the lock keys derived from it agree with the tables,
	// whose unquoted names the database folds (see SQLConfig.Prefix).
	s := &SQL{db: db, dialect: cfg.Dialect, p: strings.ToLower(cfg.Prefix), now: cfg.Now, notify: make(chan struct{})}
	if s.p == "" {
		s.p = DefaultPrefix
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.check = cfg.LockCheck
	if s.check == 0 {
		s.check = DefaultLockCheck
	}
	h := fnv.New64a()
	h.Write([]byte("distsync/eventlog/" + s.p))
	s.lockKey = int64(h.Sum64())
	return s, nil
}

// q rewrites a query written with ? placeholders and {p} for the prefix
// into the dialect.
func (s *SQL) q(query string) string {
	return sqlq.Rebind(s.dialect == Postgres, strings.ReplaceAll(query, "{p}", s.p))
}

// Migrate creates the tables and indexes that do not exist yet. It is
// explicit: no other method creates anything. On PostgreSQL, two
// processes migrating the same prefix at the same moment may see one of
// them fail with a duplicate-object error; migrate from one process, or
// retry.
func (s *SQL) Migrate(ctx context.Context) error {
	serial, blob, big := "INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB", "INTEGER"
	if s.dialect == Postgres {
		serial, blob, big = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BYTEA", "BIGINT"
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS {p}events (off ` + serial + `, pkey TEXT NOT NULL, payload ` + blob + ` NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS {p}cursors (grp TEXT PRIMARY KEY, cur ` + big + ` NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS {p}groups (grp TEXT PRIMARY KEY, epoch ` + big + ` NOT NULL, released INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS {p}retries (grp TEXT NOT NULL, off ` + big + ` NOT NULL, attempts INTEGER NOT NULL,
			first_ns ` + big + ` NOT NULL, last_ns ` + big + ` NOT NULL, due_ns ` + big + ` NOT NULL, PRIMARY KEY (grp, off))`,
		`CREATE TABLE IF NOT EXISTS {p}dead (id ` + serial + `, consumer TEXT NOT NULL, ekey TEXT NOT NULL,
			off ` + big + ` NOT NULL, event ` + blob + `, raw ` + blob + `, reason TEXT NOT NULL, error TEXT NOT NULL,
			error_class TEXT NOT NULL, attempts INTEGER NOT NULL, first_ns ` + big + ` NOT NULL, last_ns ` + big + ` NOT NULL,
			correlation_id TEXT NOT NULL, state TEXT NOT NULL, replays INTEGER NOT NULL, audit TEXT NOT NULL,
			UNIQUE (consumer, ekey))`,
		`CREATE INDEX IF NOT EXISTS {p}dead_state ON {p}dead (consumer, state)`,
		`CREATE TABLE IF NOT EXISTS {p}outbox (id ` + serial + `, pkey TEXT NOT NULL, payload ` + blob + ` NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS {p}trim (id INTEGER PRIMARY KEY, thru ` + big + ` NOT NULL)`,
	}
	stmts = append(stmts, groupTables(big)...)
	for _, st := range stmts {
		if _, err := s.db.ExecContext(ctx, s.q(st)); err != nil {
			return fmt.Errorf("eventlog: migrate: %w", err)
		}
	}
	return nil
}

// prepared returns the prepared statement of query (a template for q),
// preparing it on first use. A failed preparation is not kept.
func (s *SQL) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	st := s.stmts[query]
	s.stmtMu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if cur := s.stmts[query]; cur != nil {
		_ = st.Close()
		return cur, nil
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[query] = st
	return st, nil
}

// Close releases the prepared statements; the backend prepares them again
// if it is used after. Call it when no operation is in progress. It does
// not close the *sql.DB.
func (s *SQL) Close() error {
	s.stmtMu.Lock()
	stmts := s.stmts
	s.stmts = nil
	s.stmtMu.Unlock()
	var errs []error
	for _, st := range stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// Drop drops the backend's tables, for tests and tear-down, after closing
// the prepared statements.
func (s *SQL) Drop(ctx context.Context) error {
	if err := s.Close(); err != nil {
		return fmt.Errorf("eventlog: drop: %w", err)
	}
	for _, t := range []string{"events", "cursors", "groups", "retries", "dead", "outbox", "trim", "leases", "members"} {
		if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+s.p+t); err != nil {
			return fmt.Errorf("eventlog: drop %s%s: %w", s.p, t, err)
		}
	}
	return nil
}

// wrap turns a missing-table error into one matching [ErrNotMigrated].
func (s *SQL) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist") && strings.Contains(msg, "relation") {
		return fmt.Errorf("eventlog: %s: %w: %w", op, ErrNotMigrated, err)
	}
	return fmt.Errorf("eventlog: %s: %w", op, err)
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *SQL) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrState) || errors.Is(err, ErrFenced) {
			return err
		}
		return s.wrap(op, err)
	}
	return s.wrap(op, tx.Commit())
}

// encode validates and encodes events for insertion.
func encode(events []canonical.Event) ([][]byte, error) {
	if err := validate(events); err != nil {
		return nil, err
	}
	out := make([][]byte, len(events))
	for i := range events {
		b, err := events[i].MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("eventlog: event %d of %d (id %q): %w: %w", i, len(events), events[i].ID, ErrInvalidEvent, err)
		}
		out[i] = b
	}
	return out, nil
}

// insertQuery returns the template of an insert of n rows into table.
func insertQuery(table string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO {p}" + table + " (pkey, payload) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?)")
	}
	return b.String()
}

// insert writes encoded events into table within tx, in order. prep, when
// not nil, is the prepared insertQuery of all the events, which are at
// most insertRows: it is prepared before the transaction begins, as
// preparing takes a connection from the pool, which may have no other
// than the one tx holds.
func (s *SQL) insert(ctx context.Context, tx *sql.Tx, table string, events []canonical.Event, payloads [][]byte, prep *sql.Stmt) error {
	// Only the log needs its offsets to become visible in order. The
	// outbox is drained by deleting what was moved, so a row committed
	// late is moved by a later round and never skipped: an insert into the
	// outbox, made in the application's transaction, takes no lock that
	// an Append would wait for.
	if s.dialect == Postgres && table == "events" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey); err != nil {
			return err
		}
	}
	for start := 0; start < len(events); start += insertRows {
		end := min(start+insertRows, len(events))
		args := make([]any, 0, 2*(end-start))
		for i := start; i < end; i++ {
			args = append(args, events[i].Partition(), payloads[i])
		}
		var err error
		if prep != nil && start == 0 && end == len(events) {
			_, err = tx.StmtContext(ctx, prep).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, s.q(insertQuery(table, end-start)), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// insertRows is how many rows one INSERT statement writes at most.
const insertRows = 200

// insertLocked writes at most insertRows encoded events into the log on
// PostgreSQL in one statement, outside any transaction, which takes the
// append lock before it draws the first offset and holds it until it
// commits: a CTE calling a volatile function is evaluated once, before
// the join that feeds the insert yields a row, and the rows are inserted
// (their offsets drawn) in the order of the events.
func (s *SQL) insertLocked(ctx context.Context, events []canonical.Event, payloads [][]byte) error {
	query, args := s.lockedInsert(events, payloads)
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// lockedInsert returns the template and arguments of insertLocked's
// statement.
func (s *SQL) lockedInsert(events []canonical.Event, payloads [][]byte) (string, []any) {
	var b strings.Builder
	b.WriteString("WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock($1)) INSERT INTO {p}events (pkey, payload) " +
		"SELECT v.pkey, v.payload FROM l, (VALUES ")
	args := make([]any, 0, 1+2*len(events))
	args = append(args, s.lockKey)
	for i := range events {
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "(%d, $%d::text, $%d::bytea)", i, n+1, n+2)
		args = append(args, events[i].Partition(), payloads[i])
	}
	b.WriteString(") AS v(n, pkey, payload) ORDER BY v.n")
	return b.String(), args
}

// insertIn writes encoded events into the log within tx, in order, as
// Append does: on PostgreSQL by statements of at most insertRows events
// that take the append lock themselves (held until tx ends), on SQLite
// with prep, when not nil, the prepared insertQuery of all the events
// (see insert).
func (s *SQL) insertIn(ctx context.Context, tx *sql.Tx, events []canonical.Event, payloads [][]byte, prep *sql.Stmt) error {
	if s.dialect != Postgres {
		return s.insert(ctx, tx, "events", events, payloads, prep)
	}
	for start := 0; start < len(events); start += insertRows {
		end := min(start+insertRows, len(events))
		// Not prepared on the database: preparing there would take
		// another connection; the driver keeps the statement of each
		// text it runs on its connection.
		query, args := s.lockedInsert(events[start:end], payloads[start:end])
		if _, err := tx.ExecContext(ctx, s.q(query), args...); err != nil {
			return err
		}
	}
	return nil
}

// Append implements [Log.Append], in one transaction (on PostgreSQL, one
// statement for up to 200 events).
func (s *SQL) Append(ctx context.Context, events ...canonical.Event) error {
	payloads, err := encode(events)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	if s.dialect == Postgres && len(events) <= insertRows {
		// One statement, one round trip: the lock is the statement's own
		// (implicit) transaction's.
		err = s.wrap("append", s.insertLocked(ctx, events, payloads))
	} else {
		var prep *sql.Stmt
		if len(events) <= insertRows {
			if prep, err = s.prepared(ctx, insertQuery("events", len(events))); err != nil {
				return s.wrap("append", err)
			}
		}
		err = s.inTx(ctx, "append", func(tx *sql.Tx) error { return s.insert(ctx, tx, "events", events, payloads, prep) })
	}
	if err == nil {
		s.appended()
	}
	return err
}

func (s *SQL) appended() {
	s.mu.Lock()
	ch := s.notify
	s.notify = make(chan struct{})
	s.mu.Unlock()
	close(ch)
}

// Appended implements [Notifier] for the appends made through s (not
// those of other processes, which consumers find by polling).
func (s *SQL) Appended() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify
}

// AppendTx appends events to the outbox within tx, the application's own
// transaction: they are published (by [SQL.Relay]) if and only if tx
// commits. The error matches [ErrInvalidEvent] for an invalid event.
//
// AppendTx only inserts into the outbox table: on PostgreSQL it takes no
// lock that outlives the insert's row, so an open application
// transaction never delays an [SQL.Append] or another AppendTx; the relay
// moves committed rows into the log under the append lock in
// transactions of its own. The relay moves rows in outbox order (the
// order AppendTx calls drew their rows): the events of one transaction
// keep their order, and so do those of transactions that serialise on
// the entity they belong to (an UPDATE of its row, or SELECT ... FOR
// UPDATE, before AppendTx). Events of one key appended by concurrent
// transactions that do not serialise may be published in either order.
//
// On SQLite, which has one writer at a time, an application transaction
// that has written holds the database's write lock until it ends, so an
// Append waits for it (up to the busy_timeout) whatever AppendTx does;
// keep such transactions short.
func (s *SQL) AppendTx(ctx context.Context, tx *sql.Tx, events ...canonical.Event) error {
	if tx == nil {
		return fmt.Errorf("eventlog: AppendTx: nil *sql.Tx: %w", ErrInvalidConfig)
	}
	payloads, err := encode(events)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	return s.wrap("append to outbox", s.insert(ctx, tx, "outbox", events, payloads, nil))
}

// decodeEntry decodes a stored payload.
func decodeEntry(off uint64, payload []byte) Entry {
	e := Entry{Offset: off}
	if err := e.Event.UnmarshalJSON(payload); err != nil {
		e.Event = canonical.Event{}
		e.Raw = payload
		e.Err = &DecodeError{Offset: off, Err: err}
	}
	return e
}

// Read implements [Log.Read].
func (s *SQL) Read(ctx context.Context, after uint64, limit int) ([]Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	st, err := s.prepared(ctx, "SELECT off, payload FROM {p}events WHERE off > ? ORDER BY off LIMIT ?")
	if err != nil {
		return nil, s.wrap("read", err)
	}
	rows, err := st.QueryContext(ctx, int64(after), limit)
	if err != nil {
		return nil, s.wrap("read", err)
	}
	// The payloads are decoded once the rows are closed: the rows hold a
	// connection, SQLite's only one, which the consumer's workers and its
	// group commit wait for, and decoding took about as long as reading
	// (BenchmarkOrderToCashSQLite's profile). Scan copies each payload.
	type raw struct {
		off     int64
		payload []byte
	}
	var raws []raw
	for rows.Next() {
		var r raw
		if err := rows.Scan(&r.off, &r.payload); err != nil {
			rows.Close()
			return nil, s.wrap("read", err)
		}
		raws = append(raws, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, s.wrap("read", err)
	}
	out := make([]Entry, 0, len(raws))
	for _, r := range raws {
		out = append(out, decodeEntry(uint64(r.off), r.payload))
	}
	if len(out) == 0 {
		out = nil
	}
	if len(out) > 0 && out[0].Offset > after+1 {
		// A gap: trimmed events, or offsets an aborted append drew on
		// PostgreSQL. TrimEvents keeps the last event, so a read that
		// starts before the trim always finds one.
		through, err := s.trimmed(ctx, s.db)
		if err != nil {
			return nil, s.wrap("read", err)
		}
		if after < through {
			return nil, fmt.Errorf("eventlog: read after offset %d: offsets through %d are trimmed: %w", after, through, ErrTrimmed)
		}
	}
	return out, nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// trimmed returns the offset through which the log is trimmed.
func (s *SQL) trimmed(ctx context.Context, q querier) (uint64, error) {
	var through int64
	err := q.QueryRowContext(ctx, s.q("SELECT thru FROM {p}trim WHERE id = 1")).Scan(&through)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return uint64(through), err
}

// TrimEvents implements [Pruner.TrimEvents], in one transaction. The
// events are deleted in one statement: trimming a long log for the first
// time takes as long as deleting its rows.
func (s *SQL) TrimEvents(ctx context.Context, groups ...string) (uint64, error) {
	var through uint64
	err := s.inTx(ctx, "trim events", func(tx *sql.Tx) error {
		cur, err := s.trimmed(ctx, tx)
		if err != nil {
			return err
		}
		through = cur
		distinct := slices.Compact(slices.Sorted(slices.Values(groups)))
		if len(distinct) == 0 {
			return nil
		}
		args := make([]any, len(distinct))
		for i, g := range distinct {
			args[i] = g
		}
		var n, lowest, last int64
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*), COALESCE(MIN(cur), 0) FROM {p}cursors WHERE grp IN (?"+
			strings.Repeat(", ?", len(distinct)-1)+")"), args...).Scan(&n, &lowest); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, s.q("SELECT COALESCE(MAX(off), 0) FROM {p}events")).Scan(&last); err != nil {
			return err
		}
		if n < int64(len(distinct)) || last == 0 {
			return nil
		}
		want := uint64(min(lowest, last-1))
		if want <= cur {
			return nil
		}
		greatest := "max"
		if s.dialect == Postgres {
			greatest = "GREATEST"
		}
		// The mark never goes back, even under a concurrent trim.
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO {p}trim (id, thru) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET thru = "+
			greatest+"({p}trim.thru, excluded.thru)"), int64(want)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM {p}events WHERE off <= ?"), int64(want)); err != nil {
			return err
		}
		through = want
		return nil
	})
	if err != nil {
		return 0, err
	}
	return through, nil
}

// PurgeDeadLetters implements [Pruner.PurgeDeadLetters], in one
// statement.
func (s *SQL) PurgeDeadLetters(ctx context.Context, olderThan time.Time, states ...State) (int, error) {
	if len(states) == 0 {
		states = []State{StateResolved, StateDiscarded}
	}
	args := make([]any, 0, len(states)+1)
	for _, st := range states {
		args = append(args, string(st))
	}
	args = append(args, nanos(olderThan))
	query := "DELETE FROM {p}dead WHERE state IN (?" + strings.Repeat(", ?", len(states)-1) + ") AND last_ns < ?"
	if s.dialect == Postgres {
		// Rows locked in ID order, as Replay locks them, so that the two
		// never deadlock; a row whose state changed meanwhile is checked
		// again.
		query = "DELETE FROM {p}dead WHERE id IN (SELECT id FROM {p}dead WHERE state IN (?" + strings.Repeat(", ?", len(states)-1) +
			") AND last_ns < ? ORDER BY id FOR UPDATE)"
	}
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, s.wrap("purge dead letters", err)
	}
	n, err := res.RowsAffected()
	return int(n), s.wrap("purge dead letters", err)
}

// Group implements [Cursors.Group], with one query (one round trip on
// PostgreSQL), which reads the cursor and the retries after it in one
// snapshot.
func (s *SQL) Group(ctx context.Context, group string) (GroupState, error) {
	var st GroupState
	q, err := s.prepared(ctx, "SELECT 0, cur, 0, 0, 0, 0 FROM {p}cursors WHERE grp = ? UNION ALL "+
		"SELECT 1, r.off, r.attempts, r.first_ns, r.last_ns, r.due_ns FROM {p}retries r "+
		"WHERE r.grp = ? AND r.off > COALESCE((SELECT c.cur FROM {p}cursors c WHERE c.grp = ?), 0) ORDER BY 1, 2")
	if err != nil {
		return st, s.wrap("load group", err)
	}
	rows, err := q.QueryContext(ctx, group, group, group)
	if err != nil {
		return st, s.wrap("load group", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Retry
		var kind, off, first, last, due int64
		if err := rows.Scan(&kind, &off, &r.Attempts, &first, &last, &due); err != nil {
			return st, s.wrap("load group", err)
		}
		if kind == 0 {
			st.Cursor = uint64(off)
			continue
		}
		r.Offset, r.FirstFailure, r.LastFailure, r.Due = uint64(off), fromNanos(first), fromNanos(last), fromNanos(due)
		st.Retries = append(st.Retries, r)
	}
	return st, s.wrap("load group", rows.Err())
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Claim implements [Cursors.Claim].
func (s *SQL) Claim(ctx context.Context, group string) (uint64, error) {
	var epoch int64
	err := s.db.QueryRowContext(ctx, s.q("INSERT INTO {p}groups (grp, epoch, released) VALUES (?, 1, 0) ON CONFLICT (grp) DO UPDATE "+
		"SET epoch = {p}groups.epoch + 1, released = 0 RETURNING epoch"), group).Scan(&epoch)
	return uint64(epoch), s.wrap("claim group", err)
}

// epochCTE selects the group's epoch row; on PostgreSQL it is locked
// (FOR SHARE) until the statement's transaction ends, so that a Claim
// waits for a write it overtakes, and a write that waited for a Claim
// sees the new epoch. SQLite serialises writers anyway.
func (s *SQL) epochCTE() string {
	if s.dialect == Postgres {
		return "WITH f AS MATERIALIZED (SELECT epoch FROM {p}groups WHERE grp = ? FOR SHARE) "
	}
	return "WITH f AS (SELECT epoch FROM {p}groups WHERE grp = ?) "
}

// fenceCond is the condition of a write with epoch ? (given twice).
const fenceCond = "CAST(? AS BIGINT) = 0 OR EXISTS (SELECT 1 FROM f WHERE epoch = ?)"

// Commit implements [Cursors.Commit].
func (s *SQL) Commit(ctx context.Context, group string, epoch, cursor uint64) error {
	cs, err := s.cursorStmts(ctx)
	if err != nil {
		return s.wrap("commit", err)
	}
	if s.dialect == Postgres {
		// One statement, one round trip.
		return s.commitIn(ctx, nil, cs, group, epoch, cursor)
	}
	return s.inTx(ctx, "commit", func(tx *sql.Tx) error { return s.commitIn(ctx, tx, cs, group, epoch, cursor) })
}

// cursorStatements are the prepared statements of a cursor commit.
type cursorStatements struct {
	upsert, trim *sql.Stmt // trim is nil on PostgreSQL: upsert trims
}

// cursorStmts returns the statements of a cursor commit, prepared. It is
// called before a transaction begins: on SQLite, with one connection,
// preparing waits for the connection a transaction holds.
func (s *SQL) cursorStmts(ctx context.Context) (cursorStatements, error) {
	if s.dialect == Postgres {
		st, err := s.prepared(ctx, s.epochCTE()+", c AS (INSERT INTO {p}cursors (grp, cur) SELECT CAST(? AS TEXT), CAST(? AS BIGINT) WHERE "+
			fenceCond+" ON CONFLICT (grp) DO UPDATE SET cur = GREATEST({p}cursors.cur, excluded.cur) RETURNING cur), "+
			"d AS (DELETE FROM {p}retries WHERE grp = ? AND off <= (SELECT cur FROM c)) SELECT COUNT(*) FROM c")
		return cursorStatements{upsert: st}, err
	}
	upsert, err := s.prepared(ctx, s.epochCTE()+"INSERT INTO {p}cursors (grp, cur) SELECT ?, ? WHERE "+fenceCond+
		" ON CONFLICT (grp) DO UPDATE SET cur = max({p}cursors.cur, excluded.cur)")
	if err != nil {
		return cursorStatements{}, err
	}
	trim, err := s.prepared(ctx, "DELETE FROM {p}retries WHERE grp = ? AND off <= (SELECT cur FROM {p}cursors WHERE grp = ?)")
	return cursorStatements{upsert: upsert, trim: trim}, err
}

// commitIn commits the group's cursor with the statements cs in tx, which
// on SQLite must not be nil; on PostgreSQL a nil tx commits it in a
// statement of its own. The error is not wrapped on SQLite (inTx wraps
// it).
func (s *SQL) commitIn(ctx context.Context, tx *sql.Tx, cs cursorStatements, group string, epoch, cursor uint64) error {
	if s.dialect == Postgres {
		st := cs.upsert
		if tx != nil {
			st = tx.StmtContext(ctx, st)
		}
		var n int
		err := st.QueryRowContext(ctx, group, group, int64(cursor), int64(epoch), int64(epoch), group).Scan(&n)
		if err == nil && n == 0 {
			return fenced(group, epoch)
		}
		return s.wrap("commit", err)
	}
	res, err := tx.StmtContext(ctx, cs.upsert).ExecContext(ctx, group, group, int64(cursor), int64(epoch), int64(epoch))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return err
		}
		return fenced(group, epoch)
	}
	_, err = tx.StmtContext(ctx, cs.trim).ExecContext(ctx, group, group)
	return err
}

// commitAppendIn commits the group's cursor and appends events (at most
// insertRows, encoded as payloads) to the log in tx on PostgreSQL, with one
// statement: commitIn's, whose upsert and trim of the retries are
// followed by insertLocked's append, which takes the append lock (held
// until tx ends) and draws the offsets in the order of the events. It
// fails, matching [ErrFenced], when the epoch is not the group's: the
// events are inserted anyway, and tx must then be rolled back, as commitIn's
// caller rolls back its other writes.
func (s *SQL) commitAppendIn(ctx context.Context, tx *sql.Tx, group string, epoch, cursor uint64, events []canonical.Event, payloads [][]byte) error {
	var b strings.Builder
	b.WriteString(s.epochCTE() + ", c AS (INSERT INTO {p}cursors (grp, cur) SELECT CAST(? AS TEXT), CAST(? AS BIGINT) WHERE " +
		fenceCond + " ON CONFLICT (grp) DO UPDATE SET cur = GREATEST({p}cursors.cur, excluded.cur) RETURNING cur), " +
		"d AS (DELETE FROM {p}retries WHERE grp = ? AND off <= (SELECT cur FROM c)), " +
		"l AS MATERIALIZED (SELECT pg_advisory_xact_lock(CAST(? AS BIGINT))), " +
		"e AS (INSERT INTO {p}events (pkey, payload) SELECT v.pkey, v.payload FROM l, (VALUES ")
	args := make([]any, 0, 7+2*len(events))
	args = append(args, group, group, int64(cursor), int64(epoch), int64(epoch), group, s.lockKey)
	for i := range events {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + strconv.Itoa(i) + ", CAST(? AS TEXT), CAST(? AS BYTEA))")
		args = append(args, events[i].Partition(), payloads[i])
	}
	b.WriteString(") AS v(n, pkey, payload) ORDER BY v.n) SELECT COUNT(*) FROM c")
	// Not prepared on the database (see insertIn): the driver keeps the
	// statement of each text it runs on its connection.
	var n int
	if err := tx.QueryRowContext(ctx, s.q(b.String()), args...).Scan(&n); err != nil {
		return s.wrap("commit", err)
	}
	if n == 0 {
		return fenced(group, epoch)
	}
	return nil
}

// SaveRetry implements [Cursors.SaveRetry].
func (s *SQL) SaveRetry(ctx context.Context, group string, epoch uint64, r Retry) error {
	st, err := s.prepared(ctx, s.epochCTE()+`INSERT INTO {p}retries (grp, off, attempts, first_ns, last_ns, due_ns)
		SELECT CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT) WHERE `+fenceCond+`
		ON CONFLICT (grp, off) DO UPDATE SET attempts = excluded.attempts, first_ns = excluded.first_ns,
		last_ns = excluded.last_ns, due_ns = excluded.due_ns`)
	if err != nil {
		return s.wrap("save retry", err)
	}
	res, err := st.ExecContext(ctx, group, group, int64(r.Offset), r.Attempts, nanos(r.FirstFailure), nanos(r.LastFailure), nanos(r.Due),
		int64(epoch), int64(epoch))
	if err != nil {
		return s.wrap("save retry", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return s.wrap("save retry", err)
		}
		return fenced(group, epoch)
	}
	return nil
}

// Put implements [DeadLetters.Put].
func (s *SQL) Put(ctx context.Context, d DeadLetter) (int64, error) {
	var evJSON []byte
	if d.Event.ID != "" {
		b, err := d.Event.MarshalJSON()
		if err != nil {
			// An invalid event (an application dead-letters what it
			// could not append) is kept as it is, in the same JSON form
			// but unvalidated, so that it can be read, corrected and
			// replayed.
			evJSON = nil
			d.Raw = rawEventJSON(d.Event)
		} else {
			evJSON = b
		}
	}
	audit := Audit{At: s.now(), Action: ActionDeadLettered, By: d.Consumer, Why: d.Error}
	var id int64
	err := s.inTx(ctx, "put dead letter", func(tx *sql.Tx) error {
		if d.Epoch != 0 {
			q := "SELECT epoch FROM {p}groups WHERE grp = ?"
			if s.dialect == Postgres {
				q += " FOR SHARE"
			}
			var cur int64
			err := tx.QueryRowContext(ctx, s.q(q), d.Consumer).Scan(&cur)
			if errors.Is(err, sql.ErrNoRows) || err == nil && uint64(cur) != d.Epoch {
				return fenced(d.Consumer, d.Epoch)
			}
			if err != nil {
				return err
			}
		}
		var first int64
		var err error
		if d.ID != 0 {
			err = tx.QueryRowContext(ctx, s.q("SELECT id, first_ns FROM {p}dead WHERE consumer = ? AND id = ?"), d.Consumer, d.ID).
				Scan(&id, &first)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("eventlog: dead letter %d of %q: %w", d.ID, d.Consumer, ErrNotFound)
			}
		} else {
			err = tx.QueryRowContext(ctx, s.q("SELECT id, first_ns FROM {p}dead WHERE consumer = ? AND ekey = ?"), d.Consumer, d.key()).
				Scan(&id, &first)
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			a, _ := json.Marshal([]Audit{audit})
			return tx.QueryRowContext(ctx, s.q(`INSERT INTO {p}dead (consumer, ekey, off, event, raw, reason, error, error_class, attempts,
				first_ns, last_ns, correlation_id, state, replays, audit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) RETURNING id`),
				d.Consumer, d.key(), int64(d.Offset), evJSON, d.Raw, string(d.Reason), d.Error, d.ErrorClass, d.Attempts,
				nanos(d.FirstFailure), nanos(d.LastFailure), d.CorrelationID, string(StateDead), string(a)).Scan(&id)
		case err != nil:
			return err
		}
		// The audit entry is appended in the statement itself, not read
		// and written back, so that an action committed by another
		// transaction since the SELECT keeps its entry; a row purged
		// since is reported, not silently updated to nothing.
		entry, _ := json.Marshal(audit)
		res, err := tx.ExecContext(ctx, s.q(`UPDATE {p}dead SET off = ?, event = ?, raw = ?, reason = ?, error = ?, error_class = ?,
			attempts = ?, last_ns = ?, correlation_id = ?, state = ?, audit = `+s.appendAudit()+` WHERE id = ?`),
			int64(d.Offset), evJSON, d.Raw, string(d.Reason), d.Error, d.ErrorClass, d.Attempts, nanos(d.LastFailure),
			d.CorrelationID, string(StateDead), string(entry), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("eventlog: dead letter %d of %q: %w", id, d.Consumer, ErrNotFound)
		}
		return nil
	})
	return id, err
}

// rawEventJSON writes e in the CloudEvents JSON form of
// [canonical.Event.MarshalJSON] without validating it: the attributes
// that are set, the extensions, and data (as JSON when it is valid JSON,
// else as a string) or data_base64.
func rawEventJSON(e canonical.Event) []byte {
	m := map[string]any{}
	set := func(name, v string) {
		if v != "" {
			m[name] = v
		}
	}
	for name, v := range e.Extensions {
		m[name] = v
	}
	set("specversion", e.SpecVersion)
	set("id", e.ID)
	set("source", e.Source)
	set("type", string(e.Type))
	set("subject", e.Subject)
	if !e.Time.IsZero() {
		m["time"] = e.Time.Format(time.RFC3339Nano)
	}
	set("datacontenttype", e.DataContentType)
	set("dataschema", e.DataSchema)
	set("correlationid", e.CorrelationID)
	set("causationid", e.CausationID)
	set("traceparent", e.TraceParent)
	if e.Sequence != 0 {
		m[canonical.SubjectSequenceExtension] = fmt.Sprintf("%020d", e.Sequence)
	}
	set("partitionkey", e.PartitionKey)
	switch {
	case e.Data != nil && json.Valid(e.Data):
		m["data"] = e.Data
	case e.Data != nil:
		m["data"] = string(e.Data)
	case e.BinaryData != nil:
		m["data_base64"] = e.BinaryData
	}
	b, err := json.Marshal(m)
	if err != nil { // an extension value JSON cannot encode
		for name := range e.Extensions {
			m[name] = fmt.Sprint(e.Extensions[name])
		}
		b, _ = json.Marshal(m)
	}
	return b
}

const deadCols = "id, consumer, off, event, raw, reason, error, error_class, attempts, first_ns, last_ns, correlation_id, state, replays, audit"

// where builds the WHERE clause of f.
func (s *SQL) where(f Filter) (string, []any) {
	var conds []string
	var args []any
	add := func(c string, a any) { conds = append(conds, c); args = append(args, a) }
	if f.ID != 0 {
		add("id = ?", f.ID)
	}
	if f.Consumer != "" {
		add("consumer = ?", f.Consumer)
	}
	if f.Reason != "" {
		add("reason = ?", string(f.Reason))
	}
	if f.ErrorClass != "" {
		add("error_class = ?", f.ErrorClass)
	}
	if f.CorrelationID != "" {
		add("correlation_id = ?", f.CorrelationID)
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if !f.Since.IsZero() {
		add("last_ns >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("last_ns < ?", f.Until.UnixNano())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

type scanner interface{ Scan(dest ...any) error }

func scanDead(sc scanner) (DeadLetter, error) {
	var d DeadLetter
	var off, first, last int64
	var ev, raw []byte
	var reason, state, audit string
	if err := sc.Scan(&d.ID, &d.Consumer, &off, &ev, &raw, &reason, &d.Error, &d.ErrorClass, &d.Attempts,
		&first, &last, &d.CorrelationID, &state, &d.Replays, &audit); err != nil {
		return d, err
	}
	d.Offset, d.FirstFailure, d.LastFailure = uint64(off), fromNanos(first), fromNanos(last)
	d.Reason, d.State, d.Raw = Reason(reason), State(state), raw
	if len(ev) > 0 {
		if err := d.Event.UnmarshalJSON(ev); err != nil {
			d.Event, d.Raw = canonical.Event{}, ev // shown as stored
		}
	}
	_ = json.Unmarshal([]byte(audit), &d.Audit)
	return d, nil
}

// List implements [DeadLetters.List].
func (s *SQL) List(ctx context.Context, f Filter) ([]DeadLetter, error) {
	w, args := s.where(f)
	query := "SELECT " + deadCols + " FROM {p}dead" + w + " ORDER BY id"
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	// One statement per combination of the filter's fields: consumers
	// poll with the same filter.
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, s.wrap("list dead letters", err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, s.wrap("list dead letters", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		d, err := scanDead(rows)
		if err != nil {
			return nil, s.wrap("list dead letters", err)
		}
		out = append(out, d)
	}
	return out, s.wrap("list dead letters", rows.Err())
}

// Get implements [DeadLetters.Get].
func (s *SQL) Get(ctx context.Context, id int64) (DeadLetter, error) {
	d, err := scanDead(s.db.QueryRowContext(ctx, s.q("SELECT "+deadCols+" FROM {p}dead WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("eventlog: dead letter %d: %w", id, ErrNotFound)
	}
	return d, s.wrap("get dead letter", err)
}

// appendAudit returns the SQL expression of the audit column with one
// more entry, the JSON of an [Audit] given as its placeholder: the trail
// grows in the statement that changes the state, so that no concurrent
// action's entry is lost (reading the trail and writing it back would
// lose the one written in between). A trail that is not a JSON array
// fails the statement rather than being overwritten.
func (s *SQL) appendAudit() string {
	if s.dialect == Postgres {
		return "(audit::jsonb || jsonb_build_array(?::jsonb))::text"
	}
	return "json_insert(audit, '$[#]', json(?))"
}

// Replay implements [DeadLetters.Replay] in one statement that moves
// only the dead letters still in [StateDead] when it runs: of two
// concurrent replays, or a replay and a discard, of the same dead letter,
// one moves it and the other finds it in another state and skips it.
func (s *SQL) Replay(ctx context.Context, f Filter, a Audit) (int, error) {
	f.State, f.Limit = StateDead, 0
	a.Action = ActionReplay
	if a.At.IsZero() {
		a.At = s.now()
	}
	entry, err := json.Marshal(a)
	if err != nil {
		return 0, fmt.Errorf("eventlog: replay: %w", err)
	}
	w, wargs := s.where(f)
	query := "UPDATE {p}dead SET state = ?, replays = replays + 1, audit = " + s.appendAudit() + w
	if s.dialect == Postgres {
		// The rows are locked in ID order, so that concurrent replays of
		// overlapping selections wait for each other instead of
		// deadlocking; a row changed meanwhile is checked again against
		// the selection (READ COMMITTED re-reads it) and skipped when it
		// is no longer dead.
		query = "UPDATE {p}dead SET state = ?, replays = replays + 1, audit = " + s.appendAudit() +
			" WHERE state = 'dead' AND id IN (SELECT id FROM {p}dead" + w + " ORDER BY id FOR UPDATE)"
	}
	args := append([]any{string(StateReplaying), string(entry)}, wargs...)
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, s.wrap("replay", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap("replay", err)
	}
	return int(n), nil
}

// Discard implements [DeadLetters.Discard].
func (s *SQL) Discard(ctx context.Context, id int64, a Audit) error {
	return s.transition(ctx, id, StateDead, StateDiscarded, a, ActionDiscard)
}

// Resolve implements [DeadLetters.Resolve].
func (s *SQL) Resolve(ctx context.Context, id int64) error {
	return s.transition(ctx, id, StateReplaying, StateResolved, Audit{}, ActionResolved)
}

// transition moves dead letter id from state from to state to, recording
// a, in one statement that changes the row only when it is in from (a
// compare-and-set): the audit entry is written if and only if the state
// changed.
func (s *SQL) transition(ctx context.Context, id int64, from, to State, a Audit, action string) error {
	a.Action = action
	if a.At.IsZero() {
		a.At = s.now()
	}
	entry, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("eventlog: %s: %w", action, err)
	}
	res, err := s.db.ExecContext(ctx, s.q("UPDATE {p}dead SET state = ?, audit = "+s.appendAudit()+" WHERE id = ? AND state = ?"),
		string(to), string(entry), id, string(from))
	if err != nil {
		return s.wrap(action, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(action, err)
	}
	if n == 1 {
		return nil
	}
	// Nothing changed: say why. The state read here may have changed
	// again since; it is only the error's text.
	var state string
	err = s.db.QueryRowContext(ctx, s.q("SELECT state FROM {p}dead WHERE id = ?"), id).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("eventlog: dead letter %d: %w", id, ErrNotFound)
	case err != nil:
		return s.wrap(action, err)
	}
	return fmt.Errorf("eventlog: dead letter %d is %s, not %s: %w", id, state, from, ErrState)
}

// String returns the dialect's name and the table prefix, as
// "postgres:eventlog_".
func (s *SQL) String() string { return s.dialect.String() + ":" + s.p }
