package jetstream_test

// The cadence of the cursor writes of a partitioned group's quiet
// partitions, whose cursors follow the stream so that TrimEvents over the
// partitions' groups trims (the group kit, TestGroups, checks the trim).

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
)

// trimParts is the partitions of the stream of the cadence test; its
// events go to partition 0 only.
const trimParts = 4

// trimBackend opens a backend of trimParts partitions with its own
// stream and buckets on srv.
func trimBackend(t *testing.T, srv *natstest.Server) (*jetstream.Backend, jetstream.Config) {
	t.Helper()
	n := strconv.FormatInt(storeN.Add(1), 10)
	cfg := jetstream.Config{URL: srv.URL(), Stream: "TRIM" + n, Subject: "trim" + n, BucketPrefix: "trim" + n,
		Partitions: trimParts}
	return open(t, cfg), cfg
}

// keysOf returns n keys whose events go to partition part of b.
func keysOf(t *testing.T, b *jetstream.Backend, part, n int) []string {
	t.Helper()
	var keys []string
	for i := 0; len(keys) < n; i++ {
		require.Less(t, i, 10000, "keys of partition %d", part)
		if k := fmt.Sprintf("order-%d", i); b.PartitionOf(k) == part {
			keys = append(keys, k)
		}
	}
	return keys
}

// startTrimGroup runs one member of the group "orders" over b (polling
// every 10ms) with handler h until the end of the test, and waits until
// it owns every partition.
func startTrimGroup(t *testing.T, b *jetstream.Backend, h eventlog.Handler) *jetstream.Group {
	t.Helper()
	g, err := b.NewGroup(jetstream.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: h,
		PollInterval: 10 * time.Millisecond, DrainTimeout: time.Second, Logger: debugLogger("m")},
		Member: "m", LeaseTTL: leaseTTL, Renew: renew})
	require.NoError(t, err, "NewGroup")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	require.Eventually(t, func() bool { return len(g.Owned()) == trimParts }, 10*time.Second, 5*time.Millisecond,
		"the lone member owns every partition")
	return g
}

// cursorOf returns the committed cursor of group.
func cursorOf(t *testing.T, b *jetstream.Backend, group string) uint64 {
	t.Helper()
	st, err := b.Group(t.Context(), group)
	require.NoError(t, err, "Group %s", group)
	return st.Cursor
}

// TestGroupQuietCursorCadence counts the writes of the group states (a
// watch of the groups bucket): none while the stream is idle, and while
// events come to partition 0 only, each quiet partition writes its
// cursor at most once per probe interval, probes replacing reads at most
// every jetstream.TailCheck. It runs in real time: the embedded server
// and its buckets are outside any synctest bubble.
func TestGroupQuietCursorCadence(t *testing.T) {
	srv := natstest.Start(t)
	b, cfg := trimBackend(t, srv)
	writes := watchGroupWrites(t, srv, cfg.BucketPrefix+"_groups")
	chk := eventlogtest.NewKeyChecker(0)
	g := startTrimGroup(t, b, chk.Handle)
	keys := keysOf(t, b, 0, 5)
	require.NoError(t, b.Append(t.Context(), eventlogtest.Event(keys[0], 1)), "Append the first event")
	const last = 1 // the stream's first offset
	require.NoError(t, g.WaitIdle(t.Context()), "WaitIdle")
	for n := 1; n < trimParts; n++ {
		grp := eventlog.PartitionGroup("orders", n)
		require.Eventually(t, func() bool { return cursorOf(t, b, grp) == last }, 10*time.Second, 5*time.Millisecond,
			"the cursor of quiet partition %d follows the stream to %d", n, last)
	}
	time.Sleep(2 * jetstream.TailCheck) // a write under way lands
	writes.reset()
	// Idle: the polls of every partition (100 of them each in 1s) write
	// nothing.
	time.Sleep(time.Second)
	assert.Empty(t, writes.reset(), "group writes while the stream is idle")
	// 100 events of partition 0 over 1s.
	start := time.Now()
	for i := range 100 {
		require.NoError(t, b.Append(t.Context(), eventlogtest.Event(keys[i%len(keys)], 2+i/len(keys))), "Append %d", i)
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, g.WaitIdle(t.Context()), "WaitIdle after the appends")
	elapsed := time.Since(start)
	got := writes.reset()
	bound := int(elapsed/jetstream.TailCheck) + 2
	for n := 1; n < trimParts; n++ {
		grp := eventlog.PartitionGroup("orders", n)
		assert.LessOrEqual(t, got[grp], bound, "cursor writes of quiet partition %d in %v", n, elapsed)
		assert.Positive(t, got[grp], "quiet partition %d follows the stream", n)
	}
	t.Logf("group writes while 100 events came in %v: %v", elapsed, got)
}

// groupWrites counts the writes of each group's state.
type groupWrites struct {
	mu sync.Mutex
	n  map[string]int
}

// reset returns the writes counted since the last reset.
func (w *groupWrites) reset() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.n
	w.n = map[string]int{}
	return n
}

// watchGroupWrites counts the writes of the group states in bucket
// (keys g_ and the group's name in base64), watching it on a connection
// of its own until the end of the test.
func watchGroupWrites(t *testing.T, srv *natstest.Server, bucket string) *groupWrites {
	t.Helper()
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err, "connect the watch")
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err, "JetStream of the watch")
	kv, err := js.KeyValue(t.Context(), bucket)
	require.NoError(t, err, "bucket %s", bucket)
	wt, err := kv.WatchAll(t.Context(), natsjs.UpdatesOnly())
	require.NoError(t, err, "watch %s", bucket)
	t.Cleanup(func() { _ = wt.Stop() })
	w := &groupWrites{n: map[string]int{}}
	go func() {
		for e := range wt.Updates() {
			if e == nil {
				continue
			}
			name, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(e.Key(), "g_"))
			if err != nil {
				continue
			}
			w.mu.Lock()
			w.n[string(name)]++
			w.mu.Unlock()
		}
	}()
	return w
}
