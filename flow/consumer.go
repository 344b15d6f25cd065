// This file owns what runs the flow's handler over the log: the Consumer
// interface behind Config.NewConsumer, and the consumer groups whose dead
// letters the flow shows and replays.

package flow

import (
	"context"
	"slices"

	"github.com/distsync/distsync/eventlog"
)

// Consumer runs the flow's handler over the log: an [*eventlog.Consumer]
// (the flow's own, by default) or a member of a partitioned consumer group
// spread over several processes (Config.NewConsumer). Implementations must
// be safe for concurrent use. The zero value, nil, is no implementation.
type Consumer interface {
	// Run handles the log until ctx is done, then lets the handlers in
	// flight finish and returns context.Cause(ctx), as
	// [eventlog.Consumer.Run] does.
	Run(ctx context.Context) error
	// WaitIdle returns nil once every event appended before the call is
	// done (handled or dead-lettered) and no retry or replay is pending,
	// as [eventlog.Consumer.WaitIdle] does; Drain waits with it.
	WaitIdle(ctx context.Context) error
}

// ConsumerGroups is an optional capability of a Consumer: the eventlog
// consumer groups under which it keeps its dead letters, when they are not
// the flow's Config.Group alone, as a partitioned group's consumer keeps
// them under a group per partition. Flow.DeadLetters, Flow.Replay and
// Flow.Where then cover every one of them (and Config.Group, under which
// the pollers dead-letter an event the log refuses). Implementations must
// be safe for concurrent use.
type ConsumerGroups interface {
	ConsumerGroups() []string
}

var _ Consumer = (*eventlog.Consumer)(nil)

// deadLetterGroups returns the consumer groups of the flow's dead letters:
// its Group, and the Consumer's groups when it reports them.
func (f *Flow) deadLetterGroups() []string {
	gs := []string{f.group}
	if cg, ok := f.consumer.(ConsumerGroups); ok {
		for _, g := range cg.ConsumerGroups() {
			if !slices.Contains(gs, g) {
				gs = append(gs, g)
			}
		}
	}
	return gs
}

// listDeadLetters lists the dead letters of the flow's groups that filter
// selects (its Consumer is ignored), reading the log's dead letters once.
func (f *Flow) listDeadLetters(ctx context.Context, filter eventlog.Filter) ([]eventlog.DeadLetter, error) {
	gs := f.deadLetterGroups()
	if len(gs) == 1 {
		filter.Consumer = gs[0]
		return f.log.List(ctx, filter)
	}
	limit := filter.Limit
	filter.Consumer, filter.Limit = "", 0
	all, err := f.log.List(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, d := range all {
		if slices.Contains(gs, d.Consumer) {
			out = append(out, d)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// ConsumerOf adapts a constructor of any Consumer type, such as the one
// (*eventlog.SQL).GroupConsumer returns (package eventlog cannot name this
// interface), to Config.NewConsumer:
//
//	NewConsumer: flow.ConsumerOf(log.GroupConsumer(eventlog.GroupConfig{Partitions: 16}))
//
// Go's function types do not convert from one result type to another;
// ConsumerOf returns a func that calls mk and returns its value as a
// Consumer. A nil mk gives nil, which Config reads as no NewConsumer.
func ConsumerOf[C Consumer](mk func(eventlog.ConsumerConfig) (C, error)) func(eventlog.ConsumerConfig) (Consumer, error) {
	if mk == nil {
		return nil
	}
	return func(cc eventlog.ConsumerConfig) (Consumer, error) {
		c, err := mk(cc)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}
