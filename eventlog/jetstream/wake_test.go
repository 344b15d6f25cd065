package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
)

// TestOtherProcessAppendWakes appends through one Backend and consumes
// through another on its own connection, as two processes do, with a
// PollInterval of an hour: each event is handled well within the test's
// deadline only because the append's notice woke the reader. Both a plain
// consumer of the whole log and a partitioned group are checked.
func TestOtherProcessAppendWakes(t *testing.T) {
	const (
		poll     = time.Hour
		deadline = 30 * time.Second // generous on a loaded machine; far below poll
		rounds   = 5
	)
	tests := []struct {
		name string
		run  func(t *testing.T, reader *jetstream.Backend, h eventlog.Handler) (stop func())
	}{
		{"consumer", func(t *testing.T, reader *jetstream.Backend, h eventlog.Handler) func() {
			c, err := eventlog.NewConsumer(reader, eventlog.ConsumerConfig{Group: "wake", Handler: h, PollInterval: poll})
			require.NoError(t, err, "NewConsumer")
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			wctx, wcancel := context.WithTimeout(t.Context(), deadline)
			defer wcancel()
			require.NoError(t, c.WaitIdle(wctx), "the consumer is idle at the log's end")
			return func() { cancel(); <-done }
		}},
		{"group", func(t *testing.T, reader *jetstream.Backend, h eventlog.Handler) func() {
			g, err := reader.NewGroup(jetstream.GroupConfig{Member: "reader", LeaseTTL: leaseTTL, Renew: renew,
				Consumer: eventlog.ConsumerConfig{Group: "wake", Handler: h, PollInterval: poll}})
			require.NoError(t, err, "NewGroup")
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- g.Run(ctx) }()
			for start := time.Now(); len(g.Owned()) < reader.Partitions(); {
				require.Less(t, time.Since(start), deadline, "the member takes every partition")
				time.Sleep(10 * time.Millisecond) // leases are taken in real time
			}
			return func() { cancel(); <-done }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := natstest.Start(t)
			writer, cfg := openFresh(t, srv)
			reader := open(t, cfg)
			handled := make(chan string, rounds)
			stop := tt.run(t, reader, func(_ context.Context, ev canonical.Event) error {
				handled <- ev.ID
				return nil
			})
			defer stop()
			var slowest time.Duration
			for i := range rounds {
				ev := eventlogtest.Event("order-wake", i+1)
				start := time.Now()
				require.NoError(t, writer.Append(t.Context(), ev), "Append %d", i)
				select {
				case id := <-handled:
					require.Equal(t, ev.ID, id, "round %d handles the event appended", i)
				case <-time.After(deadline):
					t.Fatalf("round %d: the event appended by the other Backend was not handled within %v (PollInterval %v)", i, deadline, poll)
				}
				slowest = max(slowest, time.Since(start))
			}
			t.Logf("%s: slowest of %d appends handled by the other Backend after %v (PollInterval %v)", tt.name, rounds, slowest, poll)
		})
	}
}
