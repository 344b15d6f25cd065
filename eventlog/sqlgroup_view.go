package eventlog

// This file owns how the consumer of one partition of a partitioned
// Group reads the log: its view of the backend, and the tail of the log
// that a member's partitions share.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/distsync/distsync/internal/lease"
)

// partView is the backend as the consumer of one partition sees it: Read
// returns that partition's events only, and the group lock is the
// partition's lease, held already.
type partView struct {
	*SQL
	n, parts int
	lock     *lease.Lease
	tail     *tail         // the member's, shared by its partitions
	poll     time.Duration // the consumer's PollInterval

	// No entry of the partition has an offset in (lo, hi]: what the
	// last Read scanned past, so that a consumer polling a partition
	// whose last event is far behind the end of the log does not scan
	// the same rows again at every poll. Only the consumer's loop reads.
	lo, hi uint64
}

var (
	_ GroupLocker = (*partView)(nil)
	_ Skipper     = (*partView)(nil)
)

// scanRows is how many rows one query of a partition's Read scans at
// least.
const scanRows = 512

// Read returns up to limit entries of the view's partition after after:
// it reads the log's rows in offset order and decodes those whose
// partition key falls in the partition, so no entry is skipped, as
// [Log.Read] requires. Rows come from the member's tail when it holds
// them, else from the database (added to the tail when they follow it).
func (v *partView) Read(ctx context.Context, after uint64, limit int) ([]Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	from := after
	if v.lo <= after && after < v.hi {
		from = v.hi
	}
	t := v.tail
	t.mu.Lock()
	if !t.ok || from > t.head+tailRows {
		// Nothing of use in the tail: it starts here.
		t.rows, t.base, t.head, t.ok, t.since = t.rows[:0], from, from, true, nil
	}
	if from < t.base { // behind the tail: read the database alone
		t.mu.Unlock()
		return v.scan(ctx, after, from, limit)
	}
	defer t.mu.Unlock()
	batch := max(limit, scanRows)
	var out []Entry
	pos := from // the rows through pos are done with
	for fetched, ended := false, false; ; {
		i, _ := slices.BinarySearchFunc(t.rows, pos, func(r tailRow, off uint64) int { return cmp.Compare(r.off, off+1) })
		for ; i < len(t.rows) && len(out) < limit; i++ {
			r := &t.rows[i]
			pos = r.off
			if PartitionOf(r.pkey, v.parts) == v.n {
				out = append(out, decodeEntry(r.off, r.payload))
			}
		}
		if len(out) == limit {
			v.lo, v.hi = pos, pos
			return out, nil
		}
		pos = max(pos, t.head)
		if ended || !fetched && t.fresh(v.poll) {
			v.lo, v.hi = after, pos
			if len(out) > 0 {
				v.lo = out[len(out)-1].Offset
			}
			return out, nil
		}
		fetched = true
		sent, since := time.Now(), v.Appended()
		rows, err := v.fetch(ctx, t.head, batch)
		if errors.Is(err, ErrTrimmed) && t.head < pos {
			// The tail is older than the trim, this partition is not:
			// the tail starts again here.
			t.rows, t.base, t.head, t.since = t.rows[:0], pos, pos, nil
			continue
		}
		if err != nil {
			return nil, err
		}
		t.add(rows)
		if len(rows) < batch {
			ended, t.polled, t.since = true, sent, since
		}
	}
}

// tailRows is how many rows a member's tail holds at most, after
// dropping the older half when it is full.
const tailRows = 8192

// tail holds the rows of the log that a member's partitions read last,
// shared by its partition views, so that while they keep up a row is
// fetched from the database once per member rather than once per
// partition, and a poll that found the end of the log serves the other
// partitions polling soon after.
type tail struct {
	mu     sync.Mutex
	rows   []tailRow // every row with base < off <= head, in offset order
	base   uint64
	head   uint64
	ok     bool            // base and head are set
	polled time.Time       // when the last fetch that reached the end of the log was sent
	since  <-chan struct{} // the backend's Appended channel before that fetch
}

type tailRow struct {
	off     uint64
	pkey    string
	payload []byte
}

// fresh reports whether the end of the log was fetched less than poll/2
// ago and nothing was appended in this process since: a partition
// polling then finds in the tail what the database would tell.
func (t *tail) fresh(poll time.Duration) bool {
	if t.since == nil || time.Since(t.polled) >= poll/2 {
		return false
	}
	select {
	case <-t.since:
		return false
	default:
		return true
	}
}

// add appends rows, which follow the head, and drops the older half of
// the tail when it holds more than tailRows.
func (t *tail) add(rows []tailRow) {
	if len(rows) == 0 {
		return
	}
	t.rows = append(t.rows, rows...)
	t.head = rows[len(rows)-1].off
	if len(t.rows) > tailRows {
		drop := len(t.rows) - tailRows/2
		t.base = t.rows[drop-1].off
		t.rows = append(t.rows[:0], t.rows[drop:]...)
	}
}

// fetch returns up to batch rows after from, failing with [ErrTrimmed]
// when rows after from were trimmed.
func (v *partView) fetch(ctx context.Context, from uint64, batch int) ([]tailRow, error) {
	st, err := v.prepared(ctx, "SELECT off, pkey, payload FROM {p}events WHERE off > ? ORDER BY off LIMIT ?")
	if err != nil {
		return nil, v.wrap("read partition", err)
	}
	rows, err := st.QueryContext(ctx, int64(from), batch)
	if err != nil {
		return nil, v.wrap("read partition", err)
	}
	defer rows.Close()
	var out []tailRow
	for rows.Next() {
		var r tailRow
		var off int64
		if err := rows.Scan(&off, &r.pkey, &r.payload); err != nil {
			return nil, v.wrap("read partition", err)
		}
		r.off = uint64(off)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, v.wrap("read partition", err)
	}
	if len(out) > 0 && out[0].off > from+1 {
		if err := v.checkTrim(ctx, from); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkTrim returns an error matching [ErrTrimmed] when rows after from
// were trimmed, the cause of a gap after from (else offsets an aborted
// append drew on PostgreSQL, see SQL.Read).
func (v *partView) checkTrim(ctx context.Context, from uint64) error {
	through, err := v.trimmed(ctx, v.db)
	if err != nil {
		return v.wrap("read partition", err)
	}
	if from < through {
		return fmt.Errorf("eventlog: read partition %d after offset %d: offsets through %d are trimmed: %w",
			v.n, from, through, ErrTrimmed)
	}
	return nil
}

// scan is Read from the database alone, for a partition behind the
// member's tail: it scans from from (after, or past rows known to hold
// none of the partition's entries).
func (v *partView) scan(ctx context.Context, after, from uint64, limit int) ([]Entry, error) {
	batch := max(limit, scanRows)
	st, err := v.prepared(ctx, "SELECT off, pkey, payload FROM {p}events WHERE off > ? ORDER BY off LIMIT ?")
	if err != nil {
		return nil, v.wrap("read partition", err)
	}
	var out []Entry
	for first := true; ; first = false {
		rows, err := st.QueryContext(ctx, int64(from), batch)
		if err != nil {
			return nil, v.wrap("read partition", err)
		}
		scanned, last := 0, from
		for rows.Next() && len(out) < limit {
			var off int64
			var pkey string
			var payload []byte
			if err := rows.Scan(&off, &pkey, &payload); err != nil {
				rows.Close()
				return nil, v.wrap("read partition", err)
			}
			if first && scanned == 0 && uint64(off) > from+1 {
				if err := v.checkTrim(ctx, from); err != nil {
					rows.Close()
					return nil, err
				}
			}
			scanned++
			last = uint64(off)
			if PartitionOf(pkey, v.parts) == v.n {
				out = append(out, decodeEntry(uint64(off), payload))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, v.wrap("read partition", err)
		}
		if len(out) == limit {
			v.lo, v.hi = out[len(out)-1].Offset, out[len(out)-1].Offset
			return out, nil
		}
		if scanned < batch { // the end of the log
			v.lo, v.hi = after, last
			if len(out) > 0 {
				v.lo = out[len(out)-1].Offset
			}
			return out, nil
		}
		from = last
	}
}

// SkippedTo implements [Skipper]: the rows the last Read scanned past
// after after (the offset of the last entry it returned, or the offset
// it read after) hold no entry of the partition. Every event at or
// before the returned offset is visible to the reads made since: the
// view scans the log in offset order, and appends take offsets in the
// order they commit (on PostgreSQL under the append lock, on SQLite
// as its one writer), so no event can appear below a row a read saw.
func (v *partView) SkippedTo(after uint64) uint64 {
	if v.lo <= after && after < v.hi {
		return v.hi
	}
	return after
}

// TryLockGroup implements [GroupLocker]: the partition's lease, held
// already.
func (v *partView) TryLockGroup(context.Context, string) (GroupLock, bool, error) {
	return v.lock, true, nil
}
