package wms

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/internal/feedevent"
)

// emit appends an event of type t about subject carrying doc to the feed.
// The caller holds the lock.
func (m *Memory) emit(t canonical.EventType, subject, partition string, doc canonical.Document) error {
	w := m.w
	e, err := canonical.NewEvent(t, doc)
	if err != nil {
		return err
	}
	seq := w.subjSeq[subject] + 1
	e.ID, e.Source, e.Subject, e.Time, e.Sequence = seqID("EV-", int64(w.events.len()+1), 10), w.source, subject, m.now(), seq
	if partition != subject {
		e.PartitionKey = partition
	}
	fe, err := feedevent.Keep(e, w.source)
	if err != nil {
		return err
	}
	w.subjSeq[subject] = seq
	w.events.append(fe)
	if w.grew != nil {
		close(w.grew)
		w.grew = nil
	}
	return nil
}

// feedChunk is the number of events per chunk of an [eventFeed].
const feedChunk = 1024

// eventFeed is the append-only list of the feed's events, held in chunks
// of feedChunk so that appending never copies the events already held. A
// chunk's array never moves and its events never change once appended, so
// a sub-slice of the held events stays valid after the lock is released.
type eventFeed struct {
	chunks [][]feedevent.Event
	n      int
}

func (f *eventFeed) len() int { return f.n }

func (f *eventFeed) append(e feedevent.Event) {
	if f.n%feedChunk == 0 {
		f.chunks = append(f.chunks, make([]feedevent.Event, 0, feedChunk))
	}
	c := &f.chunks[len(f.chunks)-1]
	*c = append(*c, e)
	f.n++
}

// at returns the event at position pos (the events before it).
func (f *eventFeed) at(pos int) *feedevent.Event { return &f.chunks[pos/feedChunk][pos%feedChunk] }

// run returns the held events from position pos (the events before it) up
// to end, or to the end of pos's chunk if that comes first; its capacity
// is its length.
func (f *eventFeed) run(pos, end int) []feedevent.Event {
	if pos >= end {
		return nil
	}
	c := f.chunks[pos/feedChunk]
	k := pos % feedChunk
	m := min(end-pos, len(c)-k)
	return c[k : k+m : k+m]
}

// inventorySubject is the subject and partition key of the inventory
// events of one item in one warehouse: "SKU@WAREHOUSE".
func inventorySubject(sku, wh string) string { return sku + "@" + wh }

// FormatCursor returns the cursor of the feed position pos (the number of
// events before it). Position 0 is the zero Cursor.
func FormatCursor(pos uint64) connector.Cursor {
	if pos == 0 {
		return ""
	}
	return connector.Cursor("p" + strconv.FormatUint(pos, 10))
}

// ParseCursor returns the feed position of a cursor FormatCursor returned.
// The error matches ErrCursor and quotes the cursor.
func ParseCursor(c connector.Cursor) (uint64, error) {
	s := string(c)
	if s == "" {
		return 0, nil
	}
	if len(s) < 2 || len(s) > 21 || s[0] != 'p' || s[1] == '0' {
		return 0, fmt.Errorf("%w %q: not a cursor of this feed", ErrCursor, s)
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w %q: not a cursor of this feed", ErrCursor, s)
		}
	}
	n, err := strconv.ParseUint(s[1:], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %q: position out of range", ErrCursor, s)
	}
	return n, nil
}

// PollEvents returns the events after cursor, oldest first, at most limit
// of them (connector.DefaultPageSize when limit ≤ 0, and never more than
// Config.MaxPageSize). The feed is an append-only list and the cursor a
// position in it, so pages never skip or repeat an event, and a cursor
// stays valid for any instance opened over the same [State]. A cursor
// this feed did not return, or one past its end, is a CodeInvalid error
// matching ErrCursor.
//
// Every event has a unique ID within the source "wms://NAME", the time of
// the simulator's clock, a subject with a per-subject sequence from 1, and
// a partition key: the fulfilment order ID as subject with the order ID as
// partition key for fulfilment events, "SKU@WAREHOUSE" for inventory
// events, the return ID for returns.
func (m *Memory) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	const op = "PollEvents"
	if err := ctxErr(ctx, op); err != nil {
		return connector.Page{}, err
	}
	pos, err := ParseCursor(cursor)
	if err != nil {
		return connector.Page{}, connector.NewError(connector.CodeInvalid, System, op, err)
	}
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	limit = min(limit, m.maxPage)
	w := m.w
	w.mu.Lock()
	n := uint64(w.events.len())
	if pos > n {
		w.mu.Unlock()
		return connector.Page{}, connector.NewError(connector.CodeInvalid, System, op,
			fmt.Errorf("%w %q: past the end of the feed (%d events)", ErrCursor, cursor, n))
	}
	end := min(pos+uint64(limit), n)
	evs := make([]canonical.Event, 0, end-pos)
	for p := int(pos); p < int(end); {
		r := w.events.run(p, int(end))
		for i := range r {
			evs = append(evs, r[i].Event(w.source))
		}
		p += len(r)
	}
	w.mu.Unlock()
	return connector.Page{Events: evs, Next: FormatCursor(end), More: end < n}, nil
}

// Subscribe calls fn for each event after cursor, in feed order, with the
// cursor after that event, and then for each new event as it is appended,
// until ctx is done (it returns context.Cause(ctx)) or fn returns an
// error, which it returns. fn is called without any lock held, so it may
// call the simulator. A cursor this feed did not return is a CodeInvalid
// error matching ErrCursor.
func (m *Memory) Subscribe(ctx context.Context, cursor connector.Cursor, fn func(ctx context.Context, e canonical.Event, next connector.Cursor) error) error {
	const op = "Subscribe"
	pos, err := ParseCursor(cursor)
	if err != nil {
		return connector.NewError(connector.CodeInvalid, System, op, err)
	}
	w := m.w
	for {
		if err := ctxErr(ctx, op); err != nil {
			return err
		}
		w.mu.Lock()
		n := uint64(w.events.len())
		if pos > n {
			w.mu.Unlock()
			return connector.NewError(connector.CodeInvalid, System, op,
				fmt.Errorf("%w %q: past the end of the feed (%d events)", ErrCursor, cursor, n))
		}
		// The events before n never change, so the run can be read
		// after the lock is released.
		batch := w.events.run(int(pos), int(n))
		var grew chan struct{}
		if len(batch) == 0 { // it waits for the next event
			if w.grew == nil {
				w.grew = make(chan struct{})
			}
			grew = w.grew
		}
		w.mu.Unlock()
		for i := range batch {
			pos++
			if err := fn(ctx, batch[i].Event(w.source), FormatCursor(pos)); err != nil {
				return err
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-grew:
		}
	}
}

// seqID returns prefix and n in decimal, zero-padded to width digits, as
// fmt.Sprintf(prefix+"%0*d", width, n) does for n >= 0, in one allocation.
func seqID(prefix string, n int64, width int) string {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	var b strings.Builder
	b.Grow(len(prefix) + max(width, len(d)))
	b.WriteString(prefix)
	for range width - len(d) {
		b.WriteByte('0')
	}
	b.Write(d)
	return b.String()
}
