package idempotency

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file owns SQLStore's batch claims (BatchClaimer): the claims of many
// keys in one transaction, in one statement on PostgreSQL.

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
