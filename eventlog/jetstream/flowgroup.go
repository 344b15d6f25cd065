package jetstream

// This file owns a Group as the consumer of a flow (flow.Config.NewConsumer):
// the constructor the flow calls, WaitIdle over the whole group, and the
// consumer groups under which its dead letters are kept.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/internal/lease"
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

// WaitIdle waits until the whole partitioned group is idle, whichever
// members own its partitions, and returns nil: for every partition, the
// committed cursor of its consumer group is at or after the partition's
// last event with no retry pending, no dead letter of the group waits for
// a replay, and a second reading of the partitions' last events, made
// after the cursors were read, finds nothing new (an event a handler
// appended meanwhile). It reads the state from JetStream every 20ms and
// needs no running member, so a coordinator that runs none may wait for
// the members of other processes; a partition that no member consumes
// keeps it waiting. When ctx is done first it returns an error naming
// what it was waiting for, wrapping context.Cause(ctx).
// It implements flow.Consumer.WaitIdle.
func (g *Group) WaitIdle(ctx context.Context) error {
	return lease.WaitIdle(ctx, "jetstream", g.cfg.Consumer.Group, g.log, g.busy)
}

// busy reads the group's state once and returns what keeps it from being
// idle, "" when it is idle.
func (g *Group) busy(ctx context.Context) (string, error) {
	before, err := g.lastSeqs(ctx)
	if err != nil {
		return "", err
	}
	for n, last := range before {
		rec, _, err := g.b.group(ctx, eventlog.PartitionGroup(g.cfg.Consumer.Group, n))
		if err != nil {
			return "", err
		}
		if rec.Cursor < last || len(rec.Retries) > 0 {
			return fmt.Sprintf("partition %d (%s): cursor %d, last event %d, %d retries pending",
				n, g.holder(ctx, n), rec.Cursor, last, len(rec.Retries)), nil
		}
	}
	dls, err := g.b.List(ctx, eventlog.Filter{State: eventlog.StateReplaying})
	if err != nil {
		return "", err
	}
	prefix := g.cfg.Consumer.Group + "/p"
	for _, d := range dls {
		if strings.HasPrefix(d.Consumer, prefix) {
			return fmt.Sprintf("dead letter %d of %s waits for its replay", d.ID, d.Consumer), nil
		}
	}
	after, err := g.lastSeqs(ctx)
	if err != nil {
		return "", err
	}
	for n := range after {
		if after[n] != before[n] {
			return fmt.Sprintf("partition %d: event %d appended meanwhile", n, after[n]), nil
		}
	}
	return "", nil
}

// holder names the member holding partition n's lease, as far as a
// reading of the lease tells.
func (g *Group) holder(ctx context.Context, n int) string {
	v, _, err := g.b.leases.get(ctx, g.leaseKey(n))
	var lv leaseVal
	switch {
	case err != nil:
		return "holder unknown: " + err.Error()
	case v == nil:
		return "no holder"
	case json.Unmarshal(v, &lv) != nil:
		return "holder unreadable"
	}
	return "held by " + lv.Member
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
