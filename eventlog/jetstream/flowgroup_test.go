package jetstream_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/internal/flowgrouptest"
	"github.com/distsync/distsync/internal/natstest"
)

// openParts opens a backend with its own stream and buckets on srv and
// parts partitions.
func openParts(t *testing.T, srv *natstest.Server, parts int) (*jetstream.Backend, jetstream.Config) {
	t.Helper()
	n := strconv.FormatInt(storeN.Add(1), 10)
	cfg := jetstream.Config{URL: srv.URL(), Stream: "EV" + n, Subject: "ev" + n, BucketPrefix: "b" + n, Partitions: parts}
	return open(t, cfg), cfg
}

// TestFlowOnGroup runs the order-to-cash flow as two members of one
// partitioned group, as two processes would (each its own connection),
// over one FlowState and one dedupe store, with the check of
// internal/flowgrouptest.
func TestFlowOnGroup(t *testing.T) {
	srv := natstest.Start(t)
	_, cfg := openParts(t, srv, 4)
	state, _ := newFlowState(t, srv, nil)
	idem, err := jetstream.NewIdempotencyStore(t.Context(), jetstream.IdempotencyConfig{URL: srv.URL(), Bucket: "flowidem"})
	require.NoError(t, err, "NewIdempotencyStore")
	t.Cleanup(func() { _ = idem.Close() })
	flowgrouptest.Run(t, 4, func(t *testing.T, name string) flowgrouptest.Process {
		b := open(t, cfg)
		return flowgrouptest.Process{
			Config: flow.Config{Log: b, State: state, Cursors: state, Dedupe: idem},
			Member: func(member string, renew time.Duration) func(eventlog.ConsumerConfig) (flow.Consumer, error) {
				return b.GroupConsumer(jetstream.GroupConfig{Member: member, Renew: renew})
			},
			Watcher: func() (flow.Consumer, error) {
				return b.NewGroup(jetstream.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: flow.DefaultGroup,
					Handler: func(context.Context, canonical.Event) error { return nil }}})
			},
		}
	})
}
