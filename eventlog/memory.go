package eventlog

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/distsync/distsync/canonical"
)

// MemoryConfig configures a [Memory] backend. The zero value is valid.
// Now is called concurrently and must be safe for concurrent use.
type MemoryConfig struct {
	// Now is the clock of audit entries. Nil means time.Now.
	Now func() time.Time
	// TrimGroups, when not empty, bounds the memory of a long run: the log
	// drops the events that every one of these consumer groups has
	// committed, a chunk of 4,096 events at a time, once the chunk is
	// full. A read that starts before the first event held fails with
	// [ErrTrimmed], so a group left out of TrimGroups finds out rather
	// than missing events. Dead letters keep their own copy of the event
	// and are not trimmed. Empty means the log keeps every event until
	// [Memory.TrimEvents] deletes them.
	TrimGroups []string
}

// Memory is a [Backend] held in process memory: the log, the group cursors
// and the dead letters. It suits one process and tests; everything is lost
// when the process ends. A consumer reopened over the same Memory finds
// its cursor, retry states and dead letters as they were.
//
// Append keeps the events it is given: do not modify their Data,
// BinaryData or Extensions afterwards. Read returns events that share that
// memory.
//
// A Memory is safe for concurrent use. Create it with [NewMemory]. The zero
// value is not usable.
type Memory struct {
	now  func() time.Time
	trim []string

	mu      sync.Mutex
	chunks  [][]canonical.Event // offset i+1 is chunks[i/chunk][i%chunk]; nil when trimmed
	n       int                 // events appended
	trimmed uint64              // offsets up to this one are trimmed
	notify  chan struct{}
	groups  map[string]*GroupState
	epochs  map[string]uint64 // the current epoch of each claimed group
	dead    []*DeadLetter     // ID i+1; nil when purged
	deadKey map[string]int64
}

var (
	_ Backend  = (*Memory)(nil)
	_ Notifier = (*Memory)(nil)
	_ Pruner   = (*Memory)(nil)
)

// NewMemory returns an empty Memory.
func NewMemory(cfg MemoryConfig) *Memory {
	m := &Memory{now: cfg.Now, trim: slices.Clone(cfg.TrimGroups), notify: make(chan struct{}),
		groups: make(map[string]*GroupState), epochs: make(map[string]uint64), deadKey: make(map[string]int64)}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// Append implements [Log.Append].
func (m *Memory) Append(ctx context.Context, events ...canonical.Event) error {
	if err := validate(events); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	appended := len(events) > 0
	m.mu.Lock()
	for len(events) > 0 {
		if m.n%chunk == 0 {
			m.chunks = append(m.chunks, make([]canonical.Event, 0, chunk))
		}
		last := &m.chunks[len(m.chunks)-1]
		k := min(len(events), chunk-len(*last))
		*last = append(*last, events[:k]...)
		events, m.n = events[k:], m.n+k
	}
	ch := m.notify
	if appended {
		m.notify = make(chan struct{})
	}
	m.mu.Unlock()
	if appended {
		close(ch)
	}
	return nil
}

// chunk is the number of events per chunk of a Memory: appending never
// copies the events already held.
const chunk = 4096

// validate checks every event of a batch to be appended.
func validate(events []canonical.Event) error {
	if i, err := canonical.ValidateEvents(events); err != nil {
		return fmt.Errorf("eventlog: event %d of %d (id %q): %w: %w", i, len(events), events[i].ID, ErrInvalidEvent, err)
	}
	return nil
}

// Appended implements [Notifier].
func (m *Memory) Appended() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.notify
}

// Len returns the number of events appended to the log, trimmed ones
// included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

// Read implements [Log.Read].
func (m *Memory) Read(ctx context.Context, after uint64, limit int) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if after < m.trimmed {
		return nil, fmt.Errorf("eventlog: read after offset %d: offsets through %d are trimmed: %w", after, m.trimmed, ErrTrimmed)
	}
	if after >= uint64(m.n) || limit <= 0 {
		return nil, nil
	}
	end := min(uint64(m.n), after+uint64(limit))
	out := make([]Entry, 0, end-after)
	for off := after + 1; off <= end; off++ {
		out = append(out, Entry{Offset: off, Event: m.chunks[(off-1)/chunk][(off-1)%chunk]})
	}
	return out, nil
}

// lend is Read for a [Consumer] in this package: it appends to buf
// pointers to the events after offset after (at most limit of them, in
// order; the first has offset after+1) rather than copies. The events are
// never written again once appended (a chunk is never reallocated, and
// trimming drops a chunk without touching its events), so the pointers
// stay valid and may be read without the lock.
func (m *Memory) lend(ctx context.Context, after uint64, limit int, buf []*canonical.Event) ([]*canonical.Event, error) {
	if err := ctx.Err(); err != nil {
		return buf, context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if after < m.trimmed {
		return buf, fmt.Errorf("eventlog: read after offset %d: offsets through %d are trimmed: %w", after, m.trimmed, ErrTrimmed)
	}
	if after >= uint64(m.n) || limit <= 0 {
		return buf, nil
	}
	end := min(uint64(m.n), after+uint64(limit))
	for off := after; off < end; {
		c := m.chunks[off/chunk]
		k := min(end-off, chunk-off%chunk)
		for i := range k {
			buf = append(buf, &c[off%chunk+i])
		}
		off += k
	}
	return buf, nil
}

// Group implements [Cursors.Group].
func (m *Memory) Group(ctx context.Context, group string) (GroupState, error) {
	if err := ctx.Err(); err != nil {
		return GroupState{}, context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.groups[group]
	if g == nil {
		return GroupState{}, nil
	}
	return GroupState{Cursor: g.Cursor, Retries: slices.Clone(g.Retries)}, nil
}

// Claim implements [Cursors.Claim].
func (m *Memory) Claim(ctx context.Context, group string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.epochs[group]++
	return m.epochs[group], nil
}

// fencedLocked returns an error matching [ErrFenced] when epoch is neither
// 0 nor the current epoch of group.
func (m *Memory) fencedLocked(group string, epoch uint64) error {
	if epoch != 0 && epoch != m.epochs[group] {
		return fenced(group, epoch)
	}
	return nil
}

// fenced returns the error of a write of group refused for its epoch.
func fenced(group string, epoch uint64) error {
	return fmt.Errorf("eventlog: write of group %q with epoch %d: %w", group, epoch, ErrFenced)
}

// Commit implements [Cursors.Commit].
func (m *Memory) Commit(ctx context.Context, group string, epoch, cursor uint64) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fencedLocked(group, epoch); err != nil {
		return err
	}
	g := m.group(group)
	if cursor > g.Cursor {
		g.Cursor = cursor
	}
	if len(g.Retries) > 0 {
		g.Retries = slices.DeleteFunc(g.Retries, func(r Retry) bool { return r.Offset <= g.Cursor })
	}
	m.trimLocked()
	return nil
}

// trimLocked drops the full chunks that every group of TrimGroups has
// committed.
func (m *Memory) trimLocked() {
	if len(m.trim) == 0 {
		return
	}
	upTo := m.committedLocked(m.trim)
	m.trimThroughLocked(upTo - upTo%chunk)
}

// committedLocked returns the lowest cursor of groups, at most the number
// of events: zero when one of them has never committed or there are none.
func (m *Memory) committedLocked(groups []string) uint64 {
	if len(groups) == 0 {
		return 0
	}
	upTo := uint64(m.n)
	for _, name := range groups {
		g := m.groups[name]
		if g == nil {
			return 0
		}
		upTo = min(upTo, g.Cursor)
	}
	return upTo
}

// trimThroughLocked makes reads before offset through fail and drops the
// chunks that hold only offsets at or before it.
func (m *Memory) trimThroughLocked(through uint64) {
	if through <= m.trimmed {
		return
	}
	for k := m.trimmed / chunk; (k+1)*chunk <= through; k++ {
		m.chunks[k] = nil
	}
	m.trimmed = through
}

// TrimEvents implements [Pruner.TrimEvents]. Memory is freed a chunk of
// 4,096 events at a time, once every event of the chunk is trimmed.
func (m *Memory) TrimEvents(ctx context.Context, groups ...string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n > 0 {
		m.trimThroughLocked(min(m.committedLocked(groups), uint64(m.n)-1))
	}
	return m.trimmed, nil
}

// PurgeDeadLetters implements [Pruner.PurgeDeadLetters].
func (m *Memory) PurgeDeadLetters(ctx context.Context, olderThan time.Time, states ...State) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	if len(states) == 0 {
		states = []State{StateResolved, StateDiscarded}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i, d := range m.dead {
		if d != nil && d.LastFailure.Before(olderThan) && slices.Contains(states, d.State) {
			delete(m.deadKey, d.Consumer+"\x00"+d.key())
			m.dead[i] = nil
			n++
		}
	}
	return n, nil
}

// SaveRetry implements [Cursors.SaveRetry].
func (m *Memory) SaveRetry(ctx context.Context, group string, epoch uint64, r Retry) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fencedLocked(group, epoch); err != nil {
		return err
	}
	g := m.group(group)
	i, found := slices.BinarySearchFunc(g.Retries, r.Offset, func(a Retry, off uint64) int {
		switch {
		case a.Offset < off:
			return -1
		case a.Offset > off:
			return 1
		}
		return 0
	})
	if found {
		g.Retries[i] = r
	} else {
		g.Retries = slices.Insert(g.Retries, i, r)
	}
	return nil
}

func (m *Memory) group(name string) *GroupState {
	g := m.groups[name]
	if g == nil {
		g = &GroupState{}
		m.groups[name] = g
	}
	return g
}

// Put implements [DeadLetters.Put].
func (m *Memory) Put(ctx context.Context, d DeadLetter) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fencedLocked(d.Consumer, d.Epoch); err != nil {
		return 0, err
	}
	d.Epoch = 0
	k := d.Consumer + "\x00" + d.key()
	audit := Audit{At: m.now(), Action: ActionDeadLettered, By: d.Consumer, Why: d.Error}
	id, ok := m.deadKey[k]
	if d.ID != 0 {
		if d.ID < 1 || d.ID > int64(len(m.dead)) || m.dead[d.ID-1] == nil || m.dead[d.ID-1].Consumer != d.Consumer {
			return 0, fmt.Errorf("eventlog: dead letter %d of %q: %w", d.ID, d.Consumer, ErrNotFound)
		}
		id, ok = d.ID, true
	}
	if ok {
		old := m.dead[id-1]
		d.ID, d.FirstFailure, d.Replays = id, old.FirstFailure, old.Replays
		d.Audit = append(slices.Clip(old.Audit), audit)
		d.State = StateDead
		m.dead[id-1] = &d
		return id, nil
	}
	d.ID = int64(len(m.dead)) + 1
	d.State = StateDead
	d.Replays = 0
	d.Audit = []Audit{audit}
	m.dead = append(m.dead, &d)
	m.deadKey[k] = d.ID
	return d.ID, nil
}

// List implements [DeadLetters.List].
func (m *Memory) List(ctx context.Context, f Filter) ([]DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []DeadLetter
	for _, d := range m.dead {
		if d != nil && f.Match(d) {
			c := *d
			c.Audit = slices.Clone(d.Audit)
			out = append(out, c)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
	}
	return out, nil
}

// Get implements [DeadLetters.Get].
func (m *Memory) Get(ctx context.Context, id int64) (DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return DeadLetter{}, context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.dead)) || m.dead[id-1] == nil {
		return DeadLetter{}, fmt.Errorf("eventlog: dead letter %d: %w", id, ErrNotFound)
	}
	c := *m.dead[id-1]
	c.Audit = slices.Clone(c.Audit)
	return c, nil
}

// Replay implements [DeadLetters.Replay].
func (m *Memory) Replay(ctx context.Context, f Filter, a Audit) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	f.State, f.Limit = StateDead, 0
	a.Action = ActionReplay
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.At.IsZero() {
		a.At = m.now()
	}
	n := 0
	for _, d := range m.dead {
		if d != nil && f.Match(d) {
			d.State = StateReplaying
			d.Replays++
			d.Audit = append(d.Audit, a)
			n++
		}
	}
	return n, nil
}

// Discard implements [DeadLetters.Discard].
func (m *Memory) Discard(ctx context.Context, id int64, a Audit) error {
	return m.transition(ctx, id, StateDead, StateDiscarded, a, ActionDiscard)
}

// Resolve implements [DeadLetters.Resolve].
func (m *Memory) Resolve(ctx context.Context, id int64) error {
	return m.transition(ctx, id, StateReplaying, StateResolved, Audit{}, ActionResolved)
}

func (m *Memory) transition(ctx context.Context, id int64, from, to State, a Audit, action string) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.dead)) || m.dead[id-1] == nil {
		return fmt.Errorf("eventlog: dead letter %d: %w", id, ErrNotFound)
	}
	d := m.dead[id-1]
	if d.State != from {
		return fmt.Errorf("eventlog: dead letter %d is %s, not %s: %w", id, d.State, from, ErrState)
	}
	a.Action = action
	if a.At.IsZero() {
		a.At = m.now()
	}
	d.State = to
	d.Audit = append(d.Audit, a)
	return nil
}
