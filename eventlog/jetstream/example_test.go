package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/internal/natstest"
)

// An event log on an embedded NATS server: an append stored once although
// appended twice, and a consumer group's cursor.
func Example() {
	dir, err := os.MkdirTemp("", "jetstream-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	srv, err := natstest.New(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown()

	ctx := context.Background()
	b, err := jetstream.Open(ctx, jetstream.Config{URL: srv.URL()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	ev := eventlogtest.Event("order-1", 1)
	_ = b.Append(ctx, ev)
	_ = b.Append(ctx, ev) // a retry: deduplicated by the stream
	entries, _ := b.Read(ctx, 0, 10)
	fmt.Println("entries:", len(entries), entries[0].Event.ID)

	epoch, _ := b.Claim(ctx, "billing")
	_ = b.Commit(ctx, "billing", epoch, 1)
	st, _ := b.Group(ctx, "billing")
	fmt.Println("cursor:", st.Cursor)
	err = b.Commit(ctx, "billing", epoch+1, 1) // an epoch not the group's
	fmt.Println("fenced:", errors.Is(err, eventlog.ErrFenced))
	// Output:
	// entries: 1 order-1-1
	// cursor: 1
	// fenced: true
}

// A partitioned group of one member: it owns every partition until
// another member (another process running the same group) joins.
func ExampleBackend_NewGroup() {
	dir, err := os.MkdirTemp("", "jetstream-group")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	srv, err := natstest.New(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := jetstream.Open(ctx, jetstream.Config{URL: srv.URL(), Partitions: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	handled := make(chan string, 1)
	g, err := b.NewGroup(jetstream.GroupConfig{Member: "worker-1", Consumer: eventlog.ConsumerConfig{
		Group: "billing",
		Handler: func(_ context.Context, ev canonical.Event) error {
			handled <- ev.ID
			return nil
		}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	_ = b.Append(ctx, eventlogtest.Event("order-1", 1))
	fmt.Println("handled:", <-handled)
	fmt.Println("partition of order-1:", b.PartitionOf("order-1"), "of", b.Partitions())
	cancel()
	<-done
	// Output:
	// handled: order-1-1
	// partition of order-1: 1 of 4
}

// The constructor a flow takes as flow.Config.NewConsumer, called here as
// the flow calls it: a member of the partitioned group, waited for with
// WaitIdle, its dead letters kept under a consumer group per partition.
func ExampleBackend_GroupConsumer() {
	dir, err := os.MkdirTemp("", "jetstream-flow")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	srv, err := natstest.New(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := jetstream.Open(ctx, jetstream.Config{URL: srv.URL(), Partitions: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	var handled atomic.Int64
	newConsumer := b.GroupConsumer(jetstream.GroupConfig{Member: "worker-1"})
	c, err := newConsumer(eventlog.ConsumerConfig{Group: "ordertocash",
		Handler: func(context.Context, canonical.Event) error {
			handled.Add(1)
			return nil
		}})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for i := range 3 {
		_ = b.Append(ctx, eventlogtest.Event(fmt.Sprintf("order-%d", i), 1))
	}
	if err := c.WaitIdle(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("handled:", handled.Load())
	fmt.Println("dead letters under:", c.(flow.ConsumerGroups).ConsumerGroups())
	cancel()
	<-done
	// Output:
	// handled: 3
	// dead letters under: [ordertocash/p0 ordertocash/p1 ordertocash/p2 ordertocash/p3]
}
