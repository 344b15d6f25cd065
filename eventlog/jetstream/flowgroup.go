package jetstream

// This file owns a Group as the consumer of a flow (flow.Config.NewConsumer):
// the constructor the flow calls, WaitIdle over the whole group, and the
// consumer groups under which its dead letters are kept.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
)

var (
	_ flow.Consumer       = (*Group)(nil)
	_ flow.ConsumerGroups = (*Group)(nil)
)

// GroupConsumer returns a constructor for flow.Config.NewConsumer: the
// flow's handler then runs on a member of the partitioned group
// cfg.Consumer.Group (the flow's Config.Group, when cfg.Consumer.Group is
// empty), configured by cfg with cfg.Consumer replaced by the flow's
// consumer configuration. Every process that runs the flow over b runs
// such a member; each order (partition key: its order ID) is handled by
// the member that owns its partition. See the package documentation,
// section Flows across processes.
func (b *Backend) GroupConsumer(cfg GroupConfig) func(eventlog.ConsumerConfig) (flow.Consumer, error) {
	return func(cc eventlog.ConsumerConfig) (flow.Consumer, error) {
		gc := cfg
		if gc.Consumer.Group != "" {
			cc.Group = gc.Consumer.Group
		}
		gc.Consumer = cc
		return b.NewGroup(gc)
	}
}

// ConsumerGroups returns the eventlog consumer groups of the partitions,
// [eventlog.PartitionGroup](group, n) for each n: the groups under which the
// partitions' cursors and dead letters are kept. It implements
// flow.ConsumerGroups.
func (g *Group) ConsumerGroups() []string {
	gs := make([]string, g.b.cfg.Partitions)
	for n := range gs {
		gs[n] = eventlog.PartitionGroup(g.cfg.Consumer.Group, n)
	}
	return gs
}

// idlePoll is how often WaitIdle reads the group's state.
const idlePoll = 20 * time.Millisecond

// WaitIdle waits until the whole partitioned group is idle, whichever
// members own its partitions, and returns nil: for every partition, the
// committed cursor of its consumer group is at or after the partition's
// last event with no retry pending, no dead letter of the group waits for
// a replay, and a second reading of the partitions' last events, made
// after the cursors were read, finds nothing new (an event a handler
// appended meanwhile). It reads the state from JetStream every 20ms and
// needs no running member, so a coordinator that runs none may wait for
// the members of other processes; a partition that no member consumes
// keeps it waiting. It returns context.Cause(ctx) when ctx is done first.
// It implements flow.Consumer.WaitIdle.
func (g *Group) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(idlePoll)
	defer t.Stop()
	for {
		idle, err := g.idle(ctx)
		if err != nil && ctx.Err() == nil {
			g.log.DebugContext(ctx, "jetstream: reading the group's state failed; trying again",
				"group", g.cfg.Consumer.Group, "err", err)
		}
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

// idle reads the group's state once and reports whether it is idle.
func (g *Group) idle(ctx context.Context) (bool, error) {
	before, err := g.lastSeqs(ctx)
	if err != nil {
		return false, err
	}
	for n, last := range before {
		rec, _, err := g.b.group(ctx, eventlog.PartitionGroup(g.cfg.Consumer.Group, n))
		if err != nil {
			return false, err
		}
		if rec.Cursor < last || len(rec.Retries) > 0 {
			return false, nil
		}
	}
	dls, err := g.b.List(ctx, eventlog.Filter{State: eventlog.StateReplaying})
	if err != nil {
		return false, err
	}
	prefix := g.cfg.Consumer.Group + "/p"
	for _, d := range dls {
		if strings.HasPrefix(d.Consumer, prefix) {
			return false, nil
		}
	}
	after, err := g.lastSeqs(ctx)
	if err != nil {
		return false, err
	}
	for n := range after {
		if after[n] != before[n] {
			return false, nil
		}
	}
	return true, nil
}

// lastSeqs returns the offset of each partition's last event, 0 for a
// partition with none.
func (g *Group) lastSeqs(ctx context.Context) ([]uint64, error) {
	out := make([]uint64, g.b.cfg.Partitions)
	for n := range out {
		rctx, cancel := requestCtx(ctx)
		m, err := g.b.stream.GetLastMsgForSubject(rctx, g.b.partSubject(n))
		cancel()
		switch {
		case errors.Is(err, natsjs.ErrMsgNotFound):
		case err != nil:
			return nil, fmt.Errorf("jetstream: last event of partition %d: %w", n, err)
		default:
			out[n] = m.Sequence
		}
	}
	return out, nil
}
