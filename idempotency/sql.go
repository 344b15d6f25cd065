package idempotency

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsync/distsync/internal/sqlq"
)

// Dialect is the SQL dialect an [SQLStore] speaks. It is a plain value,
// safe for concurrent use. The zero value is not a valid Dialect:
// [SQLConfig] requires one.
type Dialect int

// The supported dialects.
const (
	// SQLite. [github.com/distsync/distsync/sqlite.Open] opens a file
	// with the settings the store needs (the pure-Go driver
	// modernc.org/sqlite, WAL, a busy timeout, one connection). Opening it
	// yourself, use the WAL journal with a busy_timeout so that concurrent
	// claims wait instead of failing, as in
	// "file:keys.db?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	// ([github.com/distsync/distsync/sqlite.DSN]), and when one process
	// claims from several goroutines give the *sql.DB one connection
	// (db.SetMaxOpenConns(1)): claims on several connections wait for each
	// other in SQLite's busy handler, which sleeps between tries, while on
	// one they queue in the pool.
	SQLite Dialect = iota + 1
	// Postgres, for example through github.com/jackc/pgx/v5/stdlib (driver
	// name "pgx"). Keep as many idle connections as goroutines claim at
	// once (db.SetMaxIdleConns; database/sql keeps 2 by default), so that
	// claims do not open a connection and prepare the statements again.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// DefaultTable is the table an [SQLStore] uses when SQLConfig.Table is empty.
const DefaultTable = "idempotency_keys"

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// SQLConfig configures an [SQLStore]. Dialect is required; the other zero
// values are the documented defaults. Now is called concurrently and must
// be safe for concurrent use.
type SQLConfig struct {
	// Dialect is the database's dialect. Required.
	Dialect Dialect
	// Table is the table name: a letter or underscore followed by up to 62
	// letters, digits or underscores (it is not quoted). Empty means
	// [DefaultTable].
	Table string
	// Retention is how long a record is kept after it was claimed or
	// completed. Zero means [DefaultRetention].
	Retention time.Duration
	// Now returns the current time. Nil means [time.Now]. Leases and
	// retention are computed from this clock, not the database's: the
	// processes sharing a database must keep their clocks in sync (to
	// well within the lease duration).
	Now func() time.Time
}

// Validate reports a configuration error, matching [ErrInvalidConfig].
func (c SQLConfig) Validate() error {
	switch {
	case c.Dialect != SQLite && c.Dialect != Postgres:
		return fmt.Errorf("idempotency: SQLConfig.Dialect %v is not SQLite or Postgres: %w", c.Dialect, ErrInvalidConfig)
	case c.Table != "" && !tableName.MatchString(c.Table):
		return fmt.Errorf("idempotency: SQLConfig.Table %q is not a plain identifier of at most 63 bytes: %w", c.Table, ErrInvalidConfig)
	case c.Retention < 0:
		return fmt.Errorf("idempotency: SQLConfig.Retention %v is negative: %w", c.Retention, ErrInvalidConfig)
	}
	return nil
}

// SQLStore is a [Store] in a table of an SQL database reached through
// [database/sql]: SQLite for a single process, PostgreSQL when several
// processes share the keys. A claim is one INSERT ... ON CONFLICT DO UPDATE
// statement that inserts a new record or takes over an expired one, so
// concurrent claims of a key are decided by the database.
//
// The store does not register or open drivers: it uses the *sql.DB it is
// given, preparing its statements on first use; [SQLStore.Close] releases
// them. Create the table with [SQLStore.Migrate]. Expired rows are treated
// as absent; delete them with [SQLStore.Reap], or run [RunReaper] to do so
// periodically.
//
// An SQLStore is safe for concurrent use by goroutines and processes. The
// zero value is not usable; create it with [NewSQLStore].
type SQLStore struct {
	db        *sql.DB
	dialect   Dialect
	table     string
	retention time.Duration
	now       func() time.Time

	qClaim, qSelect, qComplete, qRelease, qReap string
	qClaimBatch                                 string // PostgreSQL only

	prepMu sync.Mutex                 // serialises preparing
	prep   atomic.Pointer[statements] // nil until prepared

	// Group commit of concurrent claims (claimGrouped).
	cmu     sync.Mutex
	cqueue  []*claimReq // claims waiting for the leader
	leading bool        // a Claim commits the queued claims
}

// statements are the store's prepared statements. *sql.Stmt is safe for
// concurrent use and re-prepares itself on each connection it runs on.
type statements struct {
	claim, sel, complete, release, reap *sql.Stmt
	// completeRows[i] completes 2<<i rows (CompleteTxBatch).
	completeRows []*sql.Stmt
	// claimRows[i] offers the claims of 2<<i rows (ClaimBatch); SQLite
	// only.
	claimRows []*sql.Stmt
}

func (st *statements) close() error {
	var errs []error
	all := append([]*sql.Stmt{st.claim, st.sel, st.complete, st.release, st.reap}, st.completeRows...)
	for _, s := range append(all, st.claimRows...) {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// statements returns the prepared statements, preparing them on first use
// (after Migrate has created the table). A failed preparation is not
// cached: the next call tries again.
func (s *SQLStore) statements(ctx context.Context) (*statements, error) {
	if st := s.prep.Load(); st != nil {
		return st, nil
	}
	s.prepMu.Lock()
	defer s.prepMu.Unlock()
	if st := s.prep.Load(); st != nil {
		return st, nil
	}
	st := &statements{}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{{&st.claim, s.qClaim}, {&st.sel, s.qSelect}, {&st.complete, s.qComplete}, {&st.release, s.qRelease}, {&st.reap, s.qReap}} {
		stmt, err := s.db.PrepareContext(ctx, p.q)
		if err != nil {
			_ = st.close()
			return nil, fmt.Errorf("prepare statements (has Migrate run?): %w", err)
		}
		*p.dst = stmt
	}
	for n := 2; n <= maxCompleteRows; n *= 2 {
		stmt, err := s.db.PrepareContext(ctx, s.completeRowsQuery(n))
		if err != nil {
			_ = st.close()
			return nil, fmt.Errorf("prepare statements (has Migrate run?): %w", err)
		}
		st.completeRows = append(st.completeRows, stmt)
	}
	for n := 2; n <= maxClaimRows && s.dialect == SQLite; n *= 2 {
		stmt, err := s.db.PrepareContext(ctx, s.claimRowsQuery(n))
		if err != nil {
			_ = st.close()
			return nil, fmt.Errorf("prepare statements (has Migrate run?): %w", err)
		}
		st.claimRows = append(st.claimRows, stmt)
	}
	s.prep.Store(st)
	return st, nil
}

// Close releases the store's prepared statements. It does not close the
// *sql.DB, which belongs to the caller. A store used after Close prepares
// its statements again. Close it before dropping its table.
func (s *SQLStore) Close() error {
	s.prepMu.Lock()
	defer s.prepMu.Unlock()
	st := s.prep.Swap(nil)
	if st == nil {
		return nil
	}
	return st.close()
}

var (
	_ Store       = (*SQLStore)(nil)
	_ Looker      = (*SQLStore)(nil)
	_ Reaper      = (*SQLStore)(nil)
	_ TxCompleter = (*SQLStore)(nil)

	_ TxBatchCompleter = (*SQLStore)(nil)
)

// Record states in the state column.
const (
	stateClaimed   = 1
	stateCompleted = 2
)

// NewSQLStore returns a store over db configured by cfg. It does not touch
// the database; call Migrate to create the table. The error matches
// [ErrInvalidConfig].
func NewSQLStore(db *sql.DB, cfg SQLConfig) (*SQLStore, error) {
	if db == nil {
		return nil, fmt.Errorf("idempotency: NewSQLStore: nil *sql.DB: %w", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &SQLStore{db: db, dialect: cfg.Dialect, table: cfg.Table, retention: cfg.Retention, now: cfg.Now}
	if s.table == "" {
		s.table = DefaultTable
	}
	if s.retention == 0 {
		s.retention = DefaultRetention
	}
	if s.now == nil {
		s.now = time.Now
	}
	t := s.table
	// The claim inserts, or takes over a row whose retention has passed,
	// or one still in progress whose lease has expired and whose
	// fingerprint matches. When the WHERE clause rejects the update, no
	// row is returned and the caller reads the row to learn why.
	s.qClaim = s.rebind(`INSERT INTO ` + t + ` AS r (k, fingerprint, state, token, lease_until, expires_at, failed, result)
VALUES (?, ?, 1, ?, ?, ?, 0, NULL)
ON CONFLICT (k) DO UPDATE SET fingerprint = excluded.fingerprint, state = 1, token = excluded.token,
	lease_until = excluded.lease_until, expires_at = excluded.expires_at, failed = 0, result = NULL
WHERE r.expires_at <= ? OR (r.state = 1 AND r.lease_until <= ? AND r.fingerprint = excluded.fingerprint)
RETURNING token`)
	s.qSelect = s.rebind(`SELECT fingerprint, state, token, lease_until, expires_at, failed, result FROM ` + t + ` WHERE k = ?`)
	s.qComplete = s.rebind(`UPDATE ` + t + ` SET state = 2, failed = ?, result = ?, lease_until = 0, expires_at = ? WHERE k = ? AND token = ? AND state = 1`)
	s.qRelease = s.rebind(`DELETE FROM ` + t + ` WHERE k = ? AND token = ? AND state = 1`)
	s.qReap = s.rebind(`DELETE FROM ` + t + ` WHERE expires_at <= ?`)
	// The batch claim (ClaimBatch) reads its rows, key, hex fingerprint
	// and token, from a JSON array.
	s.qClaimBatch = `INSERT INTO ` + t + ` AS r (k, fingerprint, state, token, lease_until, expires_at, failed, result)
SELECT u.k, decode(u.f, 'hex'), 1, u.t, $2, $3, 0, NULL FROM json_to_recordset($1::json) AS u(k text, f text, t bigint)
ON CONFLICT (k) DO UPDATE SET fingerprint = excluded.fingerprint, state = 1, token = excluded.token,
	lease_until = excluded.lease_until, expires_at = excluded.expires_at, failed = 0, result = NULL
WHERE r.expires_at <= $4 OR (r.state = 1 AND r.lease_until <= $4 AND r.fingerprint = excluded.fingerprint)
RETURNING k, token`
	return s, nil
}

// rebind turns ? placeholders into $n for PostgreSQL.
func (s *SQLStore) rebind(q string) string {
	return sqlq.Rebind(s.dialect == Postgres, q)
}

// Migrate creates the table and its index if they do not exist. It is safe
// to call on every start. On PostgreSQL, CREATE TABLE IF NOT EXISTS is not
// race-free: if several processes may migrate at once, retry a failed
// Migrate.
func (s *SQLStore) Migrate(ctx context.Context) error {
	blob := "BLOB"
	if s.dialect == Postgres {
		blob = "BYTEA"
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + s.table + ` (
	k TEXT PRIMARY KEY,
	fingerprint ` + blob + ` NOT NULL,
	state SMALLINT NOT NULL,
	token BIGINT NOT NULL,
	lease_until BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	failed SMALLINT NOT NULL,
	result ` + blob + `
)`,
		`CREATE INDEX IF NOT EXISTS ` + s.table + `_expires_at ON ` + s.table + ` (expires_at)`,
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("idempotency: migrate table %s: %w", s.table, err)
		}
	}
	return nil
}

// newToken returns a random non-zero token that fits a BIGINT.
func newToken() uint64 {
	var b [8]byte
	for {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		if t := binary.LittleEndian.Uint64(b[:]) >> 1; t != 0 {
			return t
		}
	}
}

// Claim implements [Store.Claim].
func (s *SQLStore) Claim(ctx context.Context, key Key, fp Fingerprint, lease time.Duration) (Claim, error) {
	if err := checkClaim(ctx, key, lease); err != nil {
		return Claim{}, err
	}
	// A row can change between the failed upsert and the read (released,
	// completed, expired); then try again. Each round makes progress, so
	// a few rounds suffice in practice.
	st, err := s.statements(ctx)
	if err != nil {
		return Claim{}, s.dbErr(ctx, "claim", key, err)
	}
	if c, ok := s.claimGrouped(ctx, st, key, fp, lease); ok {
		return c, nil
	}
	for range 8 {
		now := s.now().UnixNano()
		end := now + int64(lease)
		token := newToken()
		var got int64
		err := st.claim.QueryRowContext(ctx, key.s, fp[:], int64(token), end, max(end, now+int64(s.retention)), now, now).Scan(&got)
		switch {
		case err == nil:
			return Claim{Status: Claimed, Lease: Lease{Key: key, Token: token, Expires: time.Unix(0, end)}}, nil
		case !errors.Is(err, sql.ErrNoRows):
			return Claim{}, s.dbErr(ctx, "claim", key, err)
		}
		rec, found, err := s.read(ctx, st, key)
		if err != nil {
			return Claim{}, s.dbErr(ctx, "claim", key, err)
		}
		if !found || rec.Expires.UnixNano() <= now {
			continue
		}
		switch {
		case rec.Fingerprint != fp:
			return Claim{Status: Mismatch, Fingerprint: rec.Fingerprint}, nil
		case rec.Status == Completed:
			return Claim{Status: Completed, Result: rec.Result}, nil
		case rec.LeaseExpires.UnixNano() > now:
			return Claim{Status: InProgress, RetryAfter: time.Duration(rec.LeaseExpires.UnixNano() - now)}, nil
		}
	}
	return Claim{}, fmt.Errorf("idempotency: claim %q: the record kept changing under the claim; try again", key.s)
}

// claimReq is a claim waiting in an SQLStore's queue.
type claimReq struct {
	key   Key
	fp    Fingerprint
	lease time.Duration
	claim Claim // the claim made, when ok
	ok    bool
	done  chan struct{}
}

// claimGrouped claims key with the claims other goroutines make at the
// same time, in one transaction: the first to come commits those queued
// while it runs, and each returns once its claim is committed. It reports
// false when the key was not claimed so (a record is in the way, or the
// transaction failed): Claim then goes the way of a claim alone, which
// reads the record to tell why.
func (s *SQLStore) claimGrouped(ctx context.Context, st *statements, key Key, fp Fingerprint, lease time.Duration) (Claim, bool) {
	req := &claimReq{key: key, fp: fp, lease: lease, done: make(chan struct{})}
	s.cmu.Lock()
	s.cqueue = append(s.cqueue, req)
	if s.leading {
		s.cmu.Unlock()
		<-req.done // the leader's statements end with its context at most
		return req.claim, req.ok
	}
	s.leading = true
	for len(s.cqueue) > 0 {
		batch := s.cqueue
		s.cqueue = nil
		s.cmu.Unlock()
		s.claimBatch(ctx, st, batch)
		s.cmu.Lock()
	}
	s.leading = false
	s.cmu.Unlock()
	return req.claim, req.ok
}

// claimBatch makes the claims of batch, one statement each, in one
// transaction when there are several, and closes their done channels.
func (s *SQLStore) claimBatch(ctx context.Context, st *statements, batch []*claimReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	claim := func(stmt *sql.Stmt, r *claimReq) error {
		now := s.now().UnixNano()
		end := now + int64(r.lease)
		token := newToken()
		var got int64
		err := stmt.QueryRowContext(ctx, r.key.s, r.fp[:], int64(token), end, max(end, now+int64(s.retention)), now, now).Scan(&got)
		if err == nil {
			r.claim, r.ok = Claim{Status: Claimed, Lease: Lease{Key: r.key, Token: token, Expires: time.Unix(0, end)}}, true
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil // in the way of a record: Claim reads it
		}
		return err
	}
	if len(batch) == 1 {
		_ = claim(st.claim, batch[0]) // a failure is met again by Claim
		return
	}
	// In key order, as ClaimBatch takes its rows: two transactions that
	// take rows in opposite orders would deadlock on PostgreSQL.
	slices.SortFunc(batch, func(a, b *claimReq) int { return strings.Compare(a.key.s, b.key.s) })
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return
	}
	stmt := tx.StmtContext(ctx, st.claim)
	for _, r := range batch {
		if err = claim(stmt, r); err != nil {
			break
		}
	}
	if err == nil {
		err = tx.Commit()
	} else {
		_ = tx.Rollback()
	}
	if err != nil {
		for _, r := range batch {
			r.claim, r.ok = Claim{}, false
		}
	}
}

// dbErr wraps a database error, preferring the context's cause when the
// context ended.
func (s *SQLStore) dbErr(ctx context.Context, op string, key Key, err error) error {
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	return fmt.Errorf("idempotency: %s %q in table %s: %w", op, key.s, s.table, err)
}

// read returns the row of key, expired or not.
func (s *SQLStore) read(ctx context.Context, st *statements, key Key) (Record, bool, error) {
	return s.readWith(ctx, st.sel, key)
}

// readWith is read with sel, the select statement (of a transaction).
func (s *SQLStore) readWith(ctx context.Context, sel *sql.Stmt, key Key) (Record, bool, error) {
	var (
		fp                           []byte
		state, failed                int
		token, leaseUntil, expiresAt int64
		result                       []byte
	)
	err := sel.QueryRowContext(ctx, key.s).Scan(&fp, &state, &token, &leaseUntil, &expiresAt, &failed, &result)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	rec := Record{Key: key, Token: uint64(token), Expires: time.Unix(0, expiresAt)}
	if len(fp) != len(rec.Fingerprint) {
		return Record{}, false, fmt.Errorf("fingerprint column holds %d bytes, want %d", len(fp), len(rec.Fingerprint))
	}
	copy(rec.Fingerprint[:], fp)
	switch state {
	case stateClaimed:
		rec.Status = Claimed
		rec.LeaseExpires = time.Unix(0, leaseUntil)
	case stateCompleted:
		rec.Status = Completed
		rec.Result = Result{Data: clone(result), Failed: failed != 0}
	default:
		return Record{}, false, fmt.Errorf("state column holds %d, want 1 or 2", state)
	}
	return rec, true, nil
}

// Complete implements [Store.Complete].
func (s *SQLStore) Complete(ctx context.Context, l Lease, result Result) error {
	return s.complete(ctx, nil, l, result)
}

// Uses implements [TxCompleter]: it reports whether db is the *sql.DB the
// store was made with.
func (s *SQLStore) Uses(db *sql.DB) bool { return db != nil && db == s.db }

// CompleteTx implements [TxCompleter]: Complete in tx, a transaction on
// the store's database, so that the completion commits or rolls back with
// the caller's other writes.
func (s *SQLStore) CompleteTx(ctx context.Context, tx *sql.Tx, l Lease, result Result) error {
	if tx == nil {
		return fmt.Errorf("idempotency: CompleteTx %q: nil *sql.Tx: %w", l.Key.s, ErrInvalidConfig)
	}
	return s.complete(ctx, tx, l, result)
}

// complete completes l's claim, in tx when it is not nil.
func (s *SQLStore) complete(ctx context.Context, tx *sql.Tx, l Lease, result Result) error {
	if err := checkLease(ctx, l); err != nil {
		return err
	}
	failed := 0
	if result.Failed {
		failed = 1
	}
	data := result.Data
	if data == nil {
		data = []byte{}
	}
	var st *statements
	var err error
	if tx == nil {
		st, err = s.statements(ctx)
	} else if st = s.prep.Load(); st == nil {
		// Preparing on the database inside tx would wait for ever for
		// SQLite's one connection, which tx holds.
		err = errors.New("statements not prepared: claim before completing in a transaction")
	}
	if err != nil {
		return s.dbErr(ctx, "complete", l.Key, err)
	}
	stmt := st.complete
	if tx != nil {
		stmt = tx.StmtContext(ctx, stmt)
	}
	expires := s.now().UnixNano() + int64(s.retention)
	res, err := stmt.ExecContext(ctx, failed, data, expires, l.Key.s, int64(l.Token))
	return s.affected(ctx, "complete", l, res, err)
}

// Release implements [Store.Release].
func (s *SQLStore) Release(ctx context.Context, l Lease) error {
	if err := checkLease(ctx, l); err != nil {
		return err
	}
	st, err := s.statements(ctx)
	if err != nil {
		return s.dbErr(ctx, "release", l.Key, err)
	}
	res, err := st.release.ExecContext(ctx, l.Key.s, int64(l.Token))
	return s.affected(ctx, "release", l, res, err)
}

func (s *SQLStore) affected(ctx context.Context, op string, l Lease, res sql.Result, err error) error {
	if err != nil {
		return s.dbErr(ctx, op, l.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.dbErr(ctx, op, l.Key, err)
	}
	if n == 0 {
		return leaseLost(l)
	}
	return nil
}

// Lookup implements [Looker.Lookup].
func (s *SQLStore) Lookup(ctx context.Context, key Key) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, context.Cause(ctx)
	}
	st, err := s.statements(ctx)
	if err != nil {
		return Record{}, s.dbErr(ctx, "lookup", key, err)
	}
	rec, found, err := s.read(ctx, st, key)
	if err != nil {
		return Record{}, s.dbErr(ctx, "lookup", key, err)
	}
	if !found || rec.Expires.UnixNano() <= s.now().UnixNano() {
		return Record{}, fmt.Errorf("idempotency: lookup %q: %w", key.s, ErrNotFound)
	}
	return rec, nil
}

// Reap implements [Reaper.Reap]: it deletes every row whose retention has
// passed, in one statement.
func (s *SQLStore) Reap(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	st, err := s.statements(ctx)
	if err != nil {
		return 0, s.dbErr(ctx, "reap", Key{}, err)
	}
	res, err := st.reap.ExecContext(ctx, s.now().UnixNano())
	if err != nil {
		return 0, s.dbErr(ctx, "reap", Key{}, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.dbErr(ctx, "reap", Key{}, err)
	}
	return int(n), nil
}

// Table returns the name of the store's table.
func (s *SQLStore) Table() string { return s.table }
