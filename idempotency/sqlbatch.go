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

// ClaimBatch implements [BatchClaimer]: the claims are made in one
// transaction (on PostgreSQL in one statement, which takes the rows in the
// order of their keys, so that two batches over the same keys do not
// deadlock). A key whose record is in the way is read in the same
// transaction, which the claim's statement locked it for, so that its
// answer is final (Completed, InProgress or Mismatch) without trying again.
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
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		claimed := make([]bool, len(rows))
		if s.dialect == Postgres {
			if err := s.claimRowsPostgres(ctx, tx, rows, claimed, now, end, expires); err != nil {
				return err
			}
		} else {
			stmt := tx.StmtContext(ctx, st.claim)
			for i := range rows {
				r := &rows[i]
				var got int64
				err := stmt.QueryRowContext(ctx, r.key.s, r.fp[:], int64(r.token), end, expires, now, now).Scan(&got)
				switch {
				case err == nil:
					claimed[i] = true
				case !errors.Is(err, sql.ErrNoRows):
					return err
				}
			}
		}
		var sel *sql.Stmt
		for i := range rows {
			r := &rows[i]
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
		return nil, s.dbErr(ctx, "claim batch of", rows[0].key, err)
	}
	out := make([]Claim, len(reqs))
	for i, req := range reqs {
		r := &rows[byKey[req.Key.s]]
		out[i] = answer(r.rec, r.made && i == r.first, req.Fingerprint, now)
	}
	return out, nil
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
// reads them from a JSON array, and marks those it made in claimed.
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
	res, err := tx.QueryContext(ctx, s.qClaimBatch, string(b), end, expires, now)
	if err != nil {
		return err
	}
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
	b.WriteString(`UPDATE ` + s.table + ` AS r SET state = 2, failed = v.column3, result = v.column4, lease_until = 0, expires_at = `)
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

// CompleteTxBatch implements [TxBatchCompleter]: the completions are made
// by one statement for up to maxCompleteRows of them (its VALUES list
// filled up with rows of NULLs to the next of its sizes), and by
// CompleteTx when there is one. The keys of cs must be distinct: a key
// given twice is completed once, and the call fails as if a lease were
// lost.
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
