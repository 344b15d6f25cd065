package erp

import (
	"context"
	"slices"
	"strconv"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
)

// Source is the CloudEvents source of the events on the ERP's event feed.
const Source = "urn:distsync:erp:memory"

// maxPageSize caps the events of one page of the event feed.
const maxPageSize = 1000

// eventFeed is the ERP's feed of events that start in the ERP: an
// append-only list whose cursors are positions in it, with a per-subject
// sequence. It is guarded by core.mu.
type eventFeed struct {
	events []canonical.Event
	seq    map[string]uint64 // last sequence per subject
}

// Compile-time check of the optional capabilities.
var (
	_ connector.EventFeed      = (*Memory)(nil)
	_ connector.OrderCanceller = (*Memory)(nil)
	_ connector.HealthChecker  = (*Memory)(nil)
)

// emitLocked appends an event of type t carrying doc about subject (an
// order ID, its partition key) to the feed and returns it. The caller
// holds m.mu for writing.
func (m *Memory) emitLocked(t canonical.EventType, subject string, doc canonical.Document) (canonical.Event, error) {
	e, err := canonical.NewEvent(t, doc)
	if err != nil {
		return canonical.Event{}, err
	}
	fd := &m.feed
	if fd.seq == nil {
		fd.seq = map[string]uint64{}
	}
	fd.seq[subject]++
	e.ID = padded("erp-evt-", int64(len(fd.events)+1), 6)
	e.Source = Source
	e.Subject = subject
	e.PartitionKey = subject
	e.Time = m.now()
	e.Sequence = fd.seq[subject]
	fd.events = append(fd.events, e)
	return e, nil
}

// Source returns [Source], the CloudEvents source of the events on the
// ERP's event feed, so that a consumer such as flow can tell them from
// events of other origins.
func (m *Memory) Source() string { return Source }

// PollEvents returns the events of the ERP's feed after cursor, oldest
// first, at most limit of them ([connector.DefaultPageSize] when limit ≤
// 0, capped at 1000): today the cancellation requests made with
// [Memory.RequestCancellation] and the returns authorized with
// [Memory.RequestReturn]. The cursor is the position in the feed;
// cursors stay valid across [Memory.Reopen]. An unknown cursor is
// CodeInvalid.
func (m *Memory) PollEvents(ctx context.Context, cursor connector.Cursor, limit int) (connector.Page, error) {
	const op = "PollEvents"
	if err := ctxErr(ctx); err != nil {
		return connector.Page{}, err
	}
	if limit <= 0 {
		limit = connector.DefaultPageSize
	}
	limit = min(limit, maxPageSize)
	m.mu.RLock()
	defer m.mu.RUnlock()
	evs := m.feed.events
	pos := 0
	if cursor != "" {
		n, err := strconv.Atoi(string(cursor))
		if err != nil || n < 0 || n > len(evs) || strconv.Itoa(n) != string(cursor) {
			return connector.Page{}, invalid(op, "request", canonical.FieldError{Field: "cursor", Message: "unknown cursor " + strconv.Quote(string(cursor))})
		}
		pos = n
	}
	end := min(pos+limit, len(evs))
	p := connector.Page{Next: cursor, More: end < len(evs)}
	if end > pos {
		p.Events = slices.Clone(evs[pos:end])
		p.Next = connector.Cursor(strconv.Itoa(end))
	}
	return p, nil
}
