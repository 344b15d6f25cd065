package eventlog

// This file owns a Group as the consumer of a flow (flow.Config.NewConsumer
// in the flow package): the constructor the flow calls, WaitIdle over the
// whole group, read from the database, and the consumer groups under which
// its dead letters are kept.

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/distsync/distsync/internal/lease"
)

// GroupConsumer returns a constructor of members of the partitioned group
// cfg.Consumer.Group (the consumer configuration's Group, when
// cfg.Consumer.Group is empty) over s, configured by cfg with cfg.Consumer
// replaced by the consumer configuration it is given: the flow package's
// Config.NewConsumer calls such a constructor with the flow's consumer
// configuration, and the *Group it returns is a flow.Consumer and a
// flow.ConsumerGroups (pass it through flow.ConsumerOf, as Go function
// types do not convert). Every process that runs the flow over
// one database runs such a member; each order (partition key: its order
// ID) is handled by the member that owns its partition. It is the
// spelling of the eventlog/jetstream package's Backend.GroupConsumer. The
// constructor's error matches [ErrInvalidConfig].
func (s *SQL) GroupConsumer(cfg GroupConfig) func(ConsumerConfig) (*Group, error) {
	return func(cc ConsumerConfig) (*Group, error) {
		gc := cfg
		if gc.Consumer.Group != "" {
			cc.Group = gc.Consumer.Group
		}
		gc.Consumer = cc
		return s.NewGroup(gc)
	}
}

// ConsumerGroups returns the consumer groups of the partitions,
// [PartitionGroup](group, n) for each n, in partition order: the groups
// under which the partitions' cursors and dead letters are kept, and
// those to list to [Pruner.TrimEvents]. It implements the flow package's
// ConsumerGroups.
func (g *Group) ConsumerGroups() []string {
	gs := make([]string, g.cfg.Partitions)
	for n := range gs {
		gs[n] = PartitionGroup(g.cfg.Consumer.Group, n)
	}
	return gs
}

// idleScan is what WaitIdle learnt of the log: the offset of the last
// event of each partition among the events through thru. Events are
// appended in offset order (on PostgreSQL under the append lock), so what
// it learnt stays true and the next reading starts after thru.
type idleScan struct {
	mu   sync.Mutex // held by one reading at a time
	ok   bool       // thru and last are set
	thru uint64
	last []uint64
}

// WaitIdle waits until the whole partitioned group is idle, whichever
// members (of this process or others) own its partitions, and returns
// nil: for every partition, the committed cursor of its consumer group
// is at or after the partition's last event, no retry of the group is
// pending, no dead letter of the group waits for a replay, and a second
// reading of the log, made after the cursors were read, finds nothing
// new (an event a handler appended meanwhile). It reads that state from
// the database every 20ms and needs no running member, so a coordinator
// that runs none may wait for the members of other processes; a
// partition that no member consumes keeps it waiting. A failing reading
// is logged (at debug level) and tried again. When ctx is done first it
// returns an error naming what it was waiting for, wrapping
// context.Cause(ctx). It implements the flow
// package's Consumer.WaitIdle.
func (g *Group) WaitIdle(ctx context.Context) error {
	return lease.WaitIdle(ctx, "eventlog", g.cfg.Consumer.Group, g.log, g.busy)
}

// busy reads the group's state once and returns what keeps it from being
// idle, "" when it is idle.
func (g *Group) busy(ctx context.Context) (string, error) {
	sc := &g.scan
	sc.mu.Lock()
	defer sc.mu.Unlock()
	groups := g.ConsumerGroups()
	in := "(?" + strings.Repeat(", ?", len(groups)-1) + ")"
	args := make([]any, len(groups))
	for i, grp := range groups {
		args[i] = grp
	}
	if !sc.ok {
		// Every event of a partition at or before the least cursor is
		// handled, the cursors only grow: the first reading starts there.
		cur, err := g.cursors(ctx, groups, in, args)
		if err != nil {
			return "", err
		}
		sc.thru, sc.last, sc.ok = cur[0], make([]uint64, len(groups)), true
		for _, c := range cur {
			sc.thru = min(sc.thru, c)
		}
	}
	before, err := g.readLast(ctx, sc)
	if err != nil {
		return "", err
	}
	cur, err := g.cursors(ctx, groups, in, args)
	if err != nil {
		return "", err
	}
	for n, c := range cur {
		if c < sc.last[n] {
			return fmt.Sprintf("partition %d: cursor %d, last event %d", n, c, sc.last[n]), nil
		}
	}
	s := g.s
	var pending int
	if err := s.db.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM {p}retries r WHERE r.grp IN "+in+
		" AND r.off > COALESCE((SELECT c.cur FROM {p}cursors c WHERE c.grp = r.grp), 0)"), args...).Scan(&pending); err != nil {
		return "", s.wrap("read the group's retries", err)
	}
	if pending > 0 {
		return fmt.Sprintf("%d retries pending", pending), nil
	}
	if err := s.db.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM {p}dead WHERE consumer IN "+in+" AND state = ?"),
		append(args, string(StateReplaying))...).Scan(&pending); err != nil {
		return "", s.wrap("read the group's replays", err)
	}
	if pending > 0 {
		return fmt.Sprintf("%d dead letters wait for their replay", pending), nil
	}
	after, err := g.readLast(ctx, sc)
	if err != nil {
		return "", err
	}
	if after != before {
		return fmt.Sprintf("events appended meanwhile, through %d", after), nil
	}
	return "", nil
}

// cursors returns the committed cursor of each of groups, 0 for a group
// with none; in and args are the SQL list of groups and its arguments.
func (g *Group) cursors(ctx context.Context, groups []string, in string, args []any) ([]uint64, error) {
	s := g.s
	rows, err := s.db.QueryContext(ctx, s.q("SELECT grp, cur FROM {p}cursors WHERE grp IN "+in), args...)
	if err != nil {
		return nil, s.wrap("read the group's cursors", err)
	}
	defer rows.Close()
	byGroup := make(map[string]uint64, len(groups))
	for rows.Next() {
		var grp string
		var cur int64
		if err := rows.Scan(&grp, &cur); err != nil {
			return nil, s.wrap("read the group's cursors", err)
		}
		byGroup[grp] = uint64(cur)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read the group's cursors", err)
	}
	out := make([]uint64, len(groups))
	for n, grp := range groups {
		out[n] = byGroup[grp]
	}
	return out, nil
}

// readLast reads the events after sc.thru (their offsets and partition
// keys only), records the last event of each partition in sc and returns
// the offset through which sc knows the log.
func (g *Group) readLast(ctx context.Context, sc *idleScan) (uint64, error) {
	s := g.s
	st, err := s.prepared(ctx, "SELECT off, pkey FROM {p}events WHERE off > ? ORDER BY off LIMIT ?")
	if err != nil {
		return 0, s.wrap("read the partitions' last events", err)
	}
	for {
		rows, err := st.QueryContext(ctx, int64(sc.thru), scanRows)
		if err != nil {
			return 0, s.wrap("read the partitions' last events", err)
		}
		read := 0
		for rows.Next() {
			var off int64
			var pkey string
			if err := rows.Scan(&off, &pkey); err != nil {
				rows.Close()
				return 0, s.wrap("read the partitions' last events", err)
			}
			read++
			sc.last[PartitionOf(pkey, g.cfg.Partitions)] = uint64(off)
			sc.thru = uint64(off)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, s.wrap("read the partitions' last events", err)
		}
		if read < scanRows {
			return sc.thru, nil
		}
	}
}
