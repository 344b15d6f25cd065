package idempotency

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file owns SQLStore's batch claims (BatchClaimer): the claims of many
// keys in one transaction, in one statement on PostgreSQL; and its batch
// completions (TxBatchCompleter): the completions of many claims in one
// statement.

var _ BatchClaimer = (*SQLStore)(nil)

// batchRow is the claim of one distinct key of a batch.
type batchRow struct {
	key   Key
	fp    Fingerprint // of the key's first request
	token uint64      // offered by the claim
	first int         // the index of the key's first request
	rec   Record      // the key's record once claimed or read
	made  bool        // the batch claimed it: rec is its claim
}

// ClaimBatch implements [BatchClaimer]. The claims are offered by one
// statement, in its own transaction, which takes the rows in the order of
// their keys (so that two batches over the same keys do not deadlock on
// PostgreSQL): on PostgreSQL for any number of keys, on SQLite for up to
// maxClaimRows. That is all it takes when it claims every key, as it
// usually does: one round trip, where a transaction of its own took three
// on PostgreSQL (BEGIN, the statement, COMMIT). The keys whose records
// were in the way are then claimed again in one transaction (more on
// SQLite), which reads each record still in the way after its claim's
// statement locked it, so that its answer is final (Completed,
// InProgress or Mismatch) without trying again. When that transaction
// fails, the claims the first statement made are released before the
// error is returned, so that no key is left claimed (a release that
// fails too leaves its claim to end with its lease, as after a crash).
func (s *SQLStore) ClaimBatch(ctx context.Context, reqs []ClaimRequest, lease time.Duration) ([]Claim, error) {
	for _, r := range reqs {
		if err := checkClaim(ctx, r.Key, lease); err != nil {
			return nil, err
		}
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	st, err := s.statements(ctx)
	if err != nil {
		return nil, s.dbErr(ctx, "claim batch of", reqs[0].Key, err)
	}
	// The distinct keys, in key order.
	rows := make([]batchRow, 0, len(reqs))
	byKey := make(map[string]int, len(reqs))
	for i, r := range reqs {
		if _, dup := byKey[r.Key.s]; dup {
			continue
		}
		byKey[r.Key.s] = -1
		rows = append(rows, batchRow{key: r.Key, fp: r.Fingerprint, token: newToken(), first: i})
	}
	slices.SortFunc(rows, func(a, b batchRow) int { return strings.Compare(a.key.s, b.key.s) })
	for i := range rows {
		byKey[rows[i].key.s] = i
	}
	now := s.now().UnixNano()
	end := now + int64(lease)
	expires := max(end, now+int64(s.retention))
	claimed := make([]bool, len(rows))
	var rest []batchRow // the rows the transaction below claims
	if s.dialect == Postgres || len(rows) <= maxClaimRows {
		if err := s.claimRows(ctx, nil, st, rows, claimed, now, end, expires); err != nil {
			// One statement: it claimed all or nothing.
			return nil, s.dbErr(ctx, "claim batch of", rows[0].key, err)
		}
		for i := range rows {
			if claimed[i] {
				rows[i].rec = Record{Key: rows[i].key, Fingerprint: rows[i].fp, Status: Claimed, Token: rows[i].token, LeaseExpires: time.Unix(0, end)}
				rows[i].made = true
			} else {
				rest = append(rest, rows[i])
			}
		}
	} else {
		rest = slices.Clone(rows)
	}
	if len(rest) > 0 {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			claimed := make([]bool, len(rest))
			if err := s.claimRows(ctx, tx, st, rest, claimed, now, end, expires); err != nil {
				return err
			}
			var sel *sql.Stmt
			for i := range rest {
				r := &rest[i]
				if claimed[i] {
					r.rec = Record{Key: r.key, Fingerprint: r.fp, Status: Claimed, Token: r.token, LeaseExpires: time.Unix(0, end)}
					r.made = true
					continue
				}
				// The claim's statement left a live record in place and
				// locked it: it cannot change before the commit.
				if sel == nil {
					sel = tx.StmtContext(ctx, st.sel)
				}
				rec, found, err := s.readWith(ctx, sel, r.key)
				if err != nil {
					return err
				}
				if !found || rec.Expires.UnixNano() <= now ||
					(rec.Status == Claimed && rec.LeaseExpires.UnixNano() <= now && rec.Fingerprint == r.fp) {
					return fmt.Errorf("the record of %q is one the claim should have taken", r.key.s)
				}
				r.rec = rec
			}
			return nil
		})
		if err != nil {
			s.releaseMade(ctx, st, rows)
			return nil, s.dbErr(ctx, "claim batch of", rows[0].key, err)
		}
		for _, r := range rest {
			rows[byKey[r.key.s]] = r
		}
	}
	out := make([]Claim, len(reqs))
	for i, req := range reqs {
		r := &rows[byKey[req.Key.s]]
		out[i] = answer(r.rec, r.made && i == r.first, req.Fingerprint, now)
	}
	return out, nil
}

// releaseMade releases the claims of rows that the batch made (made),
// after the batch failed, so that their keys are free again at once
// rather than when their leases end; a failed release is left to its
// lease.
func (s *SQLStore) releaseMade(ctx context.Context, st *statements, rows []batchRow) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, r := range rows {
		if r.made {
			_, _ = st.release.ExecContext(ctx, r.key.s, int64(r.token))
		}
	}
}

// claimRows offers the claims of rows, in tx or, when tx is nil, by one
// statement on its own (rows are then at most maxClaimRows on SQLite), and
// marks those it made in claimed.
func (s *SQLStore) claimRows(ctx context.Context, tx *sql.Tx, st *statements, rows []batchRow, claimed []bool, now, end, expires int64) error {
	if s.dialect == Postgres {
		return s.claimRowsPostgres(ctx, tx, rows, claimed, now, end, expires)
	}
	return s.claimRowsSQLite(ctx, tx, st, rows, claimed, now, end, expires)
}

// answer returns the answer to a claim with fingerprint fp of a key whose
// record is rec, live at now; mine reports that the claim made rec.
func answer(rec Record, mine bool, fp Fingerprint, now int64) Claim {
	switch {
	case mine:
		return Claim{Status: Claimed, Lease: Lease{Key: rec.Key, Token: rec.Token, Expires: rec.LeaseExpires}}
	case rec.Fingerprint != fp:
		return Claim{Status: Mismatch, Fingerprint: rec.Fingerprint}
	case rec.Status == Completed:
		return Claim{Status: Completed, Result: Result{Data: clone(rec.Result.Data), Failed: rec.Result.Failed}}
	}
	return Claim{Status: InProgress, RetryAfter: time.Duration(rec.LeaseExpires.UnixNano() - now)}
}

// claimRowsPostgres offers the claims of rows in one statement, which
// reads them from a JSON array, in tx or, when tx is nil, on its own, and
// marks those it made in claimed.
func (s *SQLStore) claimRowsPostgres(ctx context.Context, tx *sql.Tx, rows []batchRow, claimed []bool, now, end, expires int64) error {
	// The keys are printable ASCII (see Parse), safe in a JSON string
	// once quotes and backslashes are escaped.
	b := make([]byte, 0, len(rows)*(len(rows[0].key.s)+100))
	b = append(b, '[')
	for i := range rows {
		r := &rows[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"k":"`...)
		for j := 0; j < len(r.key.s); j++ {
			if c := r.key.s[j]; c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, r.key.s[j])
		}
		b = append(b, `","f":"`...)
		b = hex.AppendEncode(b, r.fp[:])
		b = append(b, `","t":`...)
		b = strconv.AppendUint(b, r.token, 10)
		b = append(b, '}')
	}
	b = append(b, ']')
	var res *sql.Rows
	var err error
	if tx != nil {
		res, err = tx.QueryContext(ctx, s.qClaimBatch, string(b), end, expires, now)
	} else {
		res, err = s.db.QueryContext(ctx, s.qClaimBatch, string(b), end, expires, now)
	}
	if err != nil {
		return err
	}
	return s.markClaimed(res, rows, claimed)
}

// maxClaimRows is the most rows one statement of claimRowsSQLite offers:
// its prepared statements offer 2, 4, ..., maxClaimRows rows. It is an
// event log consumer's default batch (eventlog.DefaultBatchSize).
const maxClaimRows = 256

// claimRowsQuery returns the SQLite statement that offers the claims of n
// rows, reading each one's key, fingerprint and token from a VALUES list
// of parameters (a row of NULLs offers nothing), with the lease end, the
// expiry and the time now of them all as its first three parameters, and
// returns the key and token of each row it claimed, as the claim of one
// key (qClaim) does.
func (s *SQLStore) claimRowsQuery(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO ` + s.table + ` AS r (k, fingerprint, state, token, lease_until, expires_at, failed, result)
SELECT column1, column2, 1, column3, ?1, ?2, 0, NULL FROM (VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		p := 4 + 3*i
		fmt.Fprintf(&b, "(?%d, ?%d, ?%d)", p, p+1, p+2)
	}
	// The WHERE clause skips the rows of NULLs, and is required anyway:
	// without one, SQLite would read ON CONFLICT as the start of a join.
	b.WriteString(`) WHERE column1 IS NOT NULL
ON CONFLICT (k) DO UPDATE SET fingerprint = excluded.fingerprint, state = 1, token = excluded.token,
	lease_until = excluded.lease_until, expires_at = excluded.expires_at, failed = 0, result = NULL
WHERE r.expires_at <= ?3 OR (r.state = 1 AND r.lease_until <= ?3 AND r.fingerprint = excluded.fingerprint)
RETURNING k, token`)
	return b.String()
}

// claimRowsSQLite offers the claims of rows on SQLite, in tx or, when tx
// is nil (rows are then at most maxClaimRows), by one statement on its
// own: by one statement for up to maxClaimRows of them (its VALUES list
// filled up with rows of NULLs to the next of its sizes), and by the
// claim of one key for a row alone, and marks those it made in claimed.
// One statement for many rows, rather than one each, is what saves the
// time: the consumer's batch claims (about 6 keys per order in the
// order-to-cash flow) held SQLite's one connection for a statement per
// key. A statement on its own needs no statement journal either (see
// orFail).
func (s *SQLStore) claimRowsSQLite(ctx context.Context, tx *sql.Tx, st *statements, rows []batchRow, claimed []bool, now, end, expires int64) error {
	stmt := func(st *sql.Stmt) *sql.Stmt {
		if tx != nil {
			return tx.StmtContext(ctx, st)
		}
		return st
	}
	args := make([]any, 0, 3+3*maxClaimRows)
	for start := 0; start < len(rows); start += maxClaimRows {
		part := rows[start:min(start+maxClaimRows, len(rows))]
		if len(part) == 1 {
			r := &part[0]
			var got int64
			err := stmt(st.claim).QueryRowContext(ctx, r.key.s, r.fp[:], int64(r.token), end, expires, now, now).Scan(&got)
			switch {
			case err == nil:
				claimed[start] = true
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			continue
		}
		size := 2 << (bits.Len(uint(len(part)-1)) - 1) // the next size up
		args = append(args[:0], end, expires, now)
		for i := range part {
			args = append(args, part[i].key.s, part[i].fp[:], int64(part[i].token))
		}
		for range size - len(part) {
			args = append(args, nil, nil, nil)
		}
		res, err := stmt(st.claimRows[bits.Len(uint(size))-2]).QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		if err := s.markClaimed(res, rows, claimed); err != nil {
			return err
		}
	}
	return nil
}

// markClaimed reads the key and token of each row a claim statement
// returned, which claimed it, and marks it in claimed; it closes res.
func (s *SQLStore) markClaimed(res *sql.Rows, rows []batchRow, claimed []bool) error {
	defer res.Close()
	for res.Next() {
		var k string
		var token int64
		if err := res.Scan(&k, &token); err != nil {
			return err
		}
		i, ok := slices.BinarySearchFunc(rows, k, func(r batchRow, k string) int { return strings.Compare(r.key.s, k) })
		if !ok || uint64(token) != rows[i].token {
			return fmt.Errorf("the batch claim returned key %q with token %d, which it did not offer", k, token)
		}
		claimed[i] = true
	}
	return res.Err()
}

// inTx runs fn in a transaction on the store's database and commits it,
// or rolls it back when fn fails.
func (s *SQLStore) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// maxCompleteRows is the most rows one statement of CompleteTxBatch
// completes: its prepared statements complete 2, 4, ..., maxCompleteRows
// rows.
const maxCompleteRows = 32

// completeRowsQuery returns the statement that completes n rows, reading
// each one's key, token, failed and result from a VALUES list of
// parameters (a row of NULLs matches no record), after the expiry of them
// all. PostgreSQL gets the results' bytes as they are, where a JSON
// document would need them encoded and cost the server more to read.
func (s *SQLStore) completeRowsQuery(n int) string {
	var b strings.Builder
	b.WriteString(`UPDATE ` + s.orFail() + s.table + ` AS r SET state = 2, failed = v.column3, result = v.column4, lease_until = 0, expires_at = `)
	param := func(i int, typ string) {
		if s.dialect == Postgres {
			b.WriteString("$" + strconv.Itoa(i) + "::" + typ)
		} else {
			b.WriteString("?" + strconv.Itoa(i))
		}
	}
	param(1, "bigint")
	b.WriteString(" FROM (VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		for j, typ := range []string{"text", "bigint", "smallint", "bytea"} {
			if j == 0 {
				b.WriteString("(")
			} else {
				b.WriteString(", ")
			}
			param(2+4*i+j, typ)
		}
		b.WriteString(")")
	}
	b.WriteString(`) AS v WHERE r.k = v.column1 AND r.token = v.column2 AND r.state = 1`)
	return b.String()
}

// orFail returns "OR FAIL " on SQLite, "" on PostgreSQL: the conflict
// clause of the statement that completes many keys in a transaction
// (the batch claim's statement usually runs on its own, where SQLite
// keeps no statement journal, and its DO UPDATE would abort whatever the
// INSERT's conflict clause). Within a transaction, SQLite keeps a statement journal for
// a statement that writes many rows and may abort (the default, OR ABORT,
// of a NOT NULL column), so that it can undo the statement alone: it
// copies there the pages the statement changes that the transaction had
// changed before, and opens a temporary file when the copies pass 64 KB.
// A statement that fails with OR FAIL keeps what it wrote before the
// failure: the transaction is then rolled back whole (by CompleteTxBatch's
// caller, which must roll back on its error, as it must when the error
// says a lease was lost), and the statement binds no NULL to a NOT NULL
// column anyway.
func (s *SQLStore) orFail() string {
	if s.dialect == Postgres {
		return ""
	}
	return "OR FAIL "
}

// CompleteTxBatch implements [TxBatchCompleter]: the completions are made
// by one statement for up to maxCompleteRows of them (its VALUES list
// filled up with rows of NULLs to the next of its sizes), and by
// CompleteTx when there is one. The keys of cs must be distinct: a key
// given twice is completed once, and the call fails as if a lease were
// lost. On any error, roll tx back: on SQLite a statement that failed may
// have completed some of its rows in tx (see orFail).
func (s *SQLStore) CompleteTxBatch(ctx context.Context, tx *sql.Tx, cs []Completion) error {
	switch len(cs) {
	case 0:
		return nil
	case 1:
		return s.CompleteTx(ctx, tx, cs[0].Lease, cs[0].Result)
	}
	first := cs[0].Lease.Key
	if tx == nil {
		return fmt.Errorf("idempotency: CompleteTxBatch of %d keys (the first %q): nil *sql.Tx: %w", len(cs), first.s, ErrInvalidConfig)
	}
	for _, c := range cs {
		if err := checkLease(ctx, c.Lease); err != nil {
			return err
		}
	}
	st := s.prep.Load()
	if st == nil {
		// Preparing on the database inside tx would wait for ever for
		// SQLite's one connection, which tx holds.
		return s.dbErr(ctx, "complete batch from", first, errors.New("statements not prepared: claim before completing in a transaction"))
	}
	expires := s.now().UnixNano() + int64(s.retention)
	n, err := s.completeRows(ctx, tx, st, cs, expires)
	if err != nil {
		return s.dbErr(ctx, "complete batch from", first, err)
	}
	if n != int64(len(cs)) {
		return fmt.Errorf("idempotency: complete batch of %d keys (the first %q) in table %s: %d completed, the others' leases no longer hold their keys: %w",
			len(cs), first.s, s.table, n, ErrLeaseLost)
	}
	return nil
}

// completeRows completes cs, more than one, with the prepared statements
// of st, at most maxCompleteRows at a time, and returns how many rows
// they completed.
func (s *SQLStore) completeRows(ctx context.Context, tx *sql.Tx, st *statements, cs []Completion, expires int64) (int64, error) {
	var total int64
	args := make([]any, 0, 1+4*maxCompleteRows)
	for len(cs) > 0 {
		k := min(len(cs), maxCompleteRows)
		size := 2 // the last of more than maxCompleteRows: a row of NULLs beside it
		if k > 1 {
			size = 2 << (bits.Len(uint(k-1)) - 1) // the next size up
		}
		args = append(args[:0], expires)
		for _, c := range cs[:k] {
			failed := 0
			if c.Result.Failed {
				failed = 1
			}
			data := c.Result.Data
			if data == nil {
				data = []byte{}
			}
			args = append(args, c.Lease.Key.s, int64(c.Lease.Token), failed, data)
		}
		for range size - k {
			args = append(args, nil, nil, nil, nil)
		}
		res, err := tx.StmtContext(ctx, st.completeRows[bits.Len(uint(size))-2]).ExecContext(ctx, args...)
		if err != nil {
			return total, err
		}
		m, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += m
		cs = cs[k:]
	}
	return total, nil
}
