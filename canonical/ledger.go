package canonical

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrLedgerConflict is returned by [Ledger.Fold] when two quantity events
// share a source message ID, line and bucket but say different things: a
// redelivered message must carry the same quantities. It matches
// [ErrInvalid].
var ErrLedgerConflict = fmt.Errorf("%w: conflicting quantity events", ErrInvalid)

// QuantityEventKind says whether a [QuantityEvent] moves a bucket by a
// signed amount or states its absolute value. It is a comparable value,
// safe for concurrent use. The zero value is not a valid kind.
type QuantityEventKind uint8

// Kinds of quantity events.
const (
	// QuantityDelta adds its (signed) value to the bucket.
	QuantityDelta QuantityEventKind = iota + 1
	// QuantitySnapshot states the bucket's absolute value as of its time.
	QuantitySnapshot
)

// String returns "delta" or "snapshot".
func (k QuantityEventKind) String() string {
	switch k {
	case QuantityDelta:
		return "delta"
	case QuantitySnapshot:
		return "snapshot"
	}
	return fmt.Sprintf("QuantityEventKind(%d)", int(k))
}

// MarshalText returns "delta" or "snapshot"; any other value is an error.
func (k QuantityEventKind) MarshalText() ([]byte, error) {
	if k != QuantityDelta && k != QuantitySnapshot {
		return nil, fmt.Errorf("%w quantity event kind %d", ErrInvalid, int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText accepts "delta" or "snapshot".
func (k *QuantityEventKind) UnmarshalText(text []byte) error {
	switch string(text) {
	case "delta":
		*k = QuantityDelta
	case "snapshot":
		*k = QuantitySnapshot
	default:
		return fmt.Errorf("%w quantity event kind %q: want delta or snapshot", ErrInvalid, text)
	}
	return nil
}

// QuantityEvent is one entry of an order's quantity ledger: it moves
// (delta) or states (snapshot) one bucket of one line, and is tagged with
// the ID of the source message that carried it. A QuantityEvent is a plain
// value, safe for concurrent reads. The zero value is not valid
// ([QuantityEvent.Validate] reports the missing fields).
type QuantityEvent struct {
	// LineID is the canonical ID of the order line.
	LineID string `json:"lineId"`
	// Bucket is the bucket the event moves or states.
	Bucket Bucket `json:"bucket"`
	// Kind says whether Value is a delta or a snapshot.
	Kind QuantityEventKind `json:"kind"`
	// Value is the signed change (delta) or the absolute value (snapshot,
	// never negative), in the unit of the line's ordered quantity.
	Value Decimal `json:"value"`
	// AsOf is when the source system made the change or took the snapshot.
	// It is required.
	AsOf time.Time `json:"asOf"`
	// SourceMessageID identifies the message that carried the event (for
	// an [Event], its source and id). It is the deduplication key together
	// with LineID and Bucket.
	SourceMessageID string `json:"sourceMessageId"`
}

// Validate checks the line ID, bucket, kind, time and source message ID,
// and that a snapshot is not negative.
func (e QuantityEvent) Validate() error {
	v := violations{kind: "quantity event"}
	e.check(&v)
	return v.err()
}

func (e *QuantityEvent) check(v *violations) {
	if e.LineID == "" {
		v.add("lineId", "is required")
	}
	if !e.Bucket.Valid() {
		v.add("bucket", "is required (one of ordered, confirmed, rejected, cancelled, allocated, backordered, picked, shipped, delivered, invoiced, returned)")
	}
	switch e.Kind {
	case QuantityDelta:
	case QuantitySnapshot:
		if e.Value.IsNeg() {
			v.add("value", "a snapshot must not be negative, is "+e.Value.String())
		}
	default:
		v.add("kind", "must be delta or snapshot")
	}
	if e.AsOf.IsZero() {
		v.add("asOf", "is required")
	}
	if e.SourceMessageID == "" {
		v.add("sourceMessageId", "is required")
	}
}

// Ledger folds an order's quantity events into the buckets of its lines.
//
// # Semantics
//
// The buckets are a pure function of the set of events, so applying the
// same event twice, or the events in any order, gives the same buckets:
//
//   - Deduplication: events with the same (SourceMessageID, LineID, Bucket)
//     are one event; a redelivered message counts once. If such duplicates
//     differ in kind, time or (numerically) value, Fold returns an error
//     matching [ErrLedgerConflict] and [ErrInvalid].
//   - Snapshots: the bucket's latest snapshot is the one with the greatest
//     AsOf; between snapshots with the same AsOf, the one with the greatest
//     SourceMessageID (byte-wise) wins. A stale snapshot therefore never
//     overwrites a newer one, whatever order they arrive in.
//   - Deltas: a snapshot as of T already includes every change made at or
//     before T. The bucket's value is the latest snapshot plus every delta
//     whose AsOf is strictly after the snapshot's AsOf; a delta at or before
//     it is ignored. With no snapshot, the value is the base plus every
//     delta.
//   - Base: every bucket starts at zero, except ordered, whose base is the
//     line's Quantity.Value, as if it were a snapshot older than any event.
//     Ordered events (a quantity change sent by the source) apply on top.
//   - Exactness: deltas are summed exactly in a canonical order (by source
//     message ID), so the result, and an [ErrOverflow] error, do not depend
//     on input order.
//
// A Ledger holds scratch space that it reuses across calls. The zero value
// is ready to use. A Ledger is not safe for concurrent use; use one per
// goroutine.
type Ledger struct {
	// A Ledger kept across calls folds without allocating once the scratch
	// has grown to the number of events (BenchmarkFoldAndStatus).
	entries []ledgerEntry
	sorted  []ledgerEntry
	counts  []int32
	results []ledgerResult
	// lineIndex maps a line ID to the index of its first line, built by a
	// Fold of a long order whose events are not in line order.
	lineIndex map[string]int
}

// indexLines fills l.lineIndex with the lines' IDs, each mapped to its
// first line, as the scan it replaces finds them.
func (l *Ledger) indexLines(lines []OrderLine) {
	if l.lineIndex == nil {
		l.lineIndex = make(map[string]int, len(lines))
	}
	clear(l.lineIndex)
	for i := range lines {
		if _, ok := l.lineIndex[lines[i].ID]; !ok {
			l.lineIndex[lines[i].ID] = i
		}
	}
}

// ledgerEntry is a sort key for one event: slot is line index << 4 |
// bucket, i the event's index.
type ledgerEntry struct {
	slot uint32
	i    int32
}

// ledgerResult is the folded value of one slot.
type ledgerResult struct {
	slot uint32
	val  Decimal
}

// Fold recomputes the buckets of every line from events, as described on
// [Ledger]. Every line's Buckets is overwritten; lines without events get
// their base (ordered = Quantity.Value, the rest zero). events is not
// modified.
//
// Fold returns an error matching [ErrInvalid] naming the event index when
// an event is invalid or names a line that is not in lines, and
// [ErrLedgerConflict] for conflicting duplicates; lines are then left
// unchanged.
func (l *Ledger) Fold(lines []OrderLine, events []QuantityEvent) error {
	if len(lines) > 1<<24 || len(events) > 1<<31-1 {
		return fmt.Errorf("%w: too many lines or events to fold", ErrInvalid)
	}
	l.entries = slices.Grow(l.entries[:0], len(events))
	// Slot counts for the counting sort, gathered on the way.
	nslots := len(lines) << 4
	counting := nslots <= 16*len(events)+256
	if counting {
		l.counts = slices.Grow(l.counts[:0], nslots+1)[:nslots+1]
		clear(l.counts)
	}
	last, maxSlot, indexed := 0, uint32(0), false
	for i := range events {
		e := &events[i]
		if !e.Bucket.Valid() || (e.Kind != QuantityDelta && e.Kind != QuantitySnapshot) ||
			e.AsOf.IsZero() || e.SourceMessageID == "" || e.LineID == "" ||
			(e.Kind == QuantitySnapshot && e.Value.IsNeg()) {
			return eventError(i, e)
		}
		li := last
		if li >= len(lines) || lines[li].ID != e.LineID {
			// Events usually come grouped by line, in line order: try the
			// next line before scanning.
			li = -1
			if n := last + 1; n < len(lines) && lines[n].ID == e.LineID {
				li = n
			}
			switch {
			case li >= 0:
			case len(lines) > smallList:
				// Out of line order on a long order: look the line up
				// by ID rather than scan for every event.
				if !indexed {
					l.indexLines(lines)
					indexed = true
				}
				if j, ok := l.lineIndex[e.LineID]; ok {
					li = j
				}
			default:
				for j := range lines {
					if lines[j].ID == e.LineID {
						li = j
						break
					}
				}
			}
			if li < 0 {
				return fmt.Errorf("%w quantity event [%d]: line %q is not in the order", ErrInvalid, i, e.LineID)
			}
			last = li
		}
		slot := uint32(li)<<4 | uint32(e.Bucket)
		maxSlot = max(maxSlot, slot)
		if counting {
			l.counts[slot+1]++
		}
		l.entries = append(l.entries, ledgerEntry{slot: slot, i: int32(i)})
	}
	es := l.sortEntries(counting, int(maxSlot), events)

	l.results = l.results[:0]
	for start := 0; start < len(es); {
		slot := es[start].slot
		end := start + 1
		for end < len(es) && es[end].slot == slot {
			end++
		}
		if counting {
			sortRun(es[start:end], events)
		}
		val, err := foldSlot(lines, events, es[start:end])
		if err != nil {
			return err
		}
		l.results = append(l.results, ledgerResult{slot: slot, val: val})
		start = end
	}

	for i := range lines {
		lines[i].Buckets = Buckets{}
		lines[i].Buckets.v[BucketOrdered-1] = lines[i].Quantity.Value
	}
	for _, r := range l.results {
		lines[r.slot>>4].Buckets.v[r.slot&0xf-1] = r.val
	}
	return nil
}

// sortEntries orders the entries by slot (and, with a comparison sort,
// by source message ID within a slot). It uses a counting sort over the
// slots when their number is small next to the number of events (the
// usual case; Fold then orders each slot's run with sortRun), and a
// comparison sort otherwise.
func (l *Ledger) sortEntries(counting bool, maxSlot int, events []QuantityEvent) []ledgerEntry {
	bySource := func(a, b ledgerEntry) int {
		if c := cmp.Compare(a.slot, b.slot); c != 0 {
			return c
		}
		return strings.Compare(events[a.i].SourceMessageID, events[b.i].SourceMessageID)
	}
	if !counting {
		slices.SortFunc(l.entries, bySource)
		return l.entries
	}
	for i := 1; i <= maxSlot; i++ {
		l.counts[i] += l.counts[i-1]
	}
	l.sorted = slices.Grow(l.sorted[:0], len(l.entries))[:len(l.entries)]
	for _, e := range l.entries {
		l.sorted[l.counts[e.slot]] = e
		l.counts[e.slot]++
	}
	return l.sorted
}

// sortRun orders one slot's entries by source message ID; runs are short.
func sortRun(run []ledgerEntry, events []QuantityEvent) {
	if len(run) > 12 {
		slices.SortFunc(run, func(a, b ledgerEntry) int {
			return strings.Compare(events[a.i].SourceMessageID, events[b.i].SourceMessageID)
		})
		return
	}
	for k := 1; k < len(run); k++ {
		for j := k; j > 0 && events[run[j].i].SourceMessageID < events[run[j-1].i].SourceMessageID; j-- {
			run[j], run[j-1] = run[j-1], run[j]
		}
	}
}

// foldSlot folds the events of one (line, bucket) slot, sorted by source
// message ID.
func foldSlot(lines []OrderLine, events []QuantityEvent, run []ledgerEntry) (Decimal, error) {
	li, b := int(run[0].slot>>4), Bucket(run[0].slot&0xf)
	if len(run) == 1 {
		e := &events[run[0].i]
		if e.Kind == QuantitySnapshot {
			return e.Value, nil
		}
		if b != BucketOrdered {
			return e.Value, nil // 0 + delta, exactly and at the delta's scale
		}
		v, err := lines[li].Quantity.Value.Add(e.Value)
		if err != nil {
			return Decimal{}, fmt.Errorf("%w: line %q, bucket %s: %w", ErrInvalid, e.LineID, b, err)
		}
		return v, nil
	}
	// Pass 1: duplicates and the latest snapshot.
	var snap *QuantityEvent
	for k := range run {
		e := &events[run[k].i]
		if k > 0 {
			if p := &events[run[k-1].i]; p.SourceMessageID == e.SourceMessageID {
				if p.Kind != e.Kind || !p.AsOf.Equal(e.AsOf) || !p.Value.Equal(e.Value) {
					return Decimal{}, fmt.Errorf("%w: message %q, line %q, bucket %s: %s %s as of %s and %s %s as of %s",
						ErrLedgerConflict, e.SourceMessageID, e.LineID, b,
						p.Kind, p.Value, p.AsOf.Format(time.RFC3339Nano), e.Kind, e.Value, e.AsOf.Format(time.RFC3339Nano))
				}
				continue
			}
		}
		if e.Kind != QuantitySnapshot {
			continue
		}
		// Sorted by source ID, so on equal AsOf the later one wins.
		if snap == nil || !e.AsOf.Before(snap.AsOf) {
			snap = e
		}
	}
	// Pass 2: value = snapshot (or base) + later deltas.
	var val Decimal
	switch {
	case snap != nil:
		val = snap.Value
	case b == BucketOrdered:
		val = lines[li].Quantity.Value
	}
	for k := range run {
		e := &events[run[k].i]
		if e.Kind != QuantityDelta || (k > 0 && events[run[k-1].i].SourceMessageID == e.SourceMessageID) {
			continue
		}
		if snap != nil && !e.AsOf.After(snap.AsOf) {
			continue
		}
		var err error
		if val, err = val.Add(e.Value); err != nil {
			return Decimal{}, fmt.Errorf("%w: line %q, bucket %s: %w", ErrInvalid, e.LineID, b, err)
		}
	}
	return val, nil
}

func eventError(i int, e *QuantityEvent) error {
	v := violations{kind: "quantity event"}
	e.check(&v)
	err := v.err()
	if err == nil { // unreachable: Fold only calls it for an invalid event
		return fmt.Errorf("%w quantity event [%d]", ErrInvalid, i)
	}
	return fmt.Errorf("canonical: quantity event [%d]: %w", i, err)
}
