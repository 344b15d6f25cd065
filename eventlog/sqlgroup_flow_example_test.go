package eventlog_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

// GroupConsumer builds a member of a partitioned group from the consumer
// configuration a flow passes to flow.Config.NewConsumer (here given by
// hand); WaitIdle then returns once the whole group has handled the log.
func ExampleSQL_GroupConsumer() {
	ctx := context.Background()
	log, closeLog := openExampleLog(ctx)
	defer closeLog()

	// In a flow: flow.Config{..., NewConsumer: flow.ConsumerOf(mk)}.
	mk := log.GroupConsumer(eventlog.GroupConfig{Partitions: 4, Member: "worker-1"})
	var handled atomic.Int64
	g, err := mk(eventlog.ConsumerConfig{Group: "order-to-cash", Handler: func(context.Context, canonical.Event) error {
		handled.Add(1)
		return nil
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(g.ConsumerGroups())

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- g.Run(runCtx) }()
	for _, key := range []string{"order-1", "order-2", "order-3"} {
		if err := log.Append(ctx, eventlogtest.Event(key, 1)); err != nil {
			panic(err)
		}
	}
	if err := g.WaitIdle(ctx); err != nil {
		panic(err)
	}
	fmt.Println("handled", handled.Load())
	stop()
	fmt.Println(<-done)
	// Output:
	// [order-to-cash/p0 order-to-cash/p1 order-to-cash/p2 order-to-cash/p3]
	// handled 3
	// context canceled
}
