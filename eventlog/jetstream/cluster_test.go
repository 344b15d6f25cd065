package jetstream_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
)

// TestClusterNodeDown runs a partitioned group of two members on a 3-node
// cluster with R3 stream and buckets while an appender appends; mid-run
// the node leading the event stream is shut down, and later restarted.
// Every append that was acknowledged is in the log, and the group
// handles every one of them (it goes on past the failure), in order per
// key, no key twice at once.
func TestClusterNodeDown(t *testing.T) {
	if testing.Short() {
		t.Skip("a cluster test takes several seconds")
	}
	c := natstest.StartCluster(t, 3)
	cfg := jetstream.Config{URL: c.URL(), Replicas: 3, Partitions: 4}
	appender := open(t, cfg)
	const keys, perKey = 8, 40
	chk := eventlogtest.NewKeyChecker(keys * perKey)
	var ms []*member
	for j := range 2 {
		ms = append(ms, startMember(t, cfg, "cluster_idem", fmt.Sprintf("m%d", j), chk.Handle))
	}
	ctx := t.Context()

	// The appender: one key's events in order, every key in turn; an
	// append that failed (a node down, a leader being elected) is tried
	// again until acknowledged, and is stored once (Nats-Msg-Id).
	var mu sync.Mutex
	acked := 0
	appended := make(chan error, 1)
	go func() {
		for n := 1; n <= perKey; n++ {
			for k := range keys {
				ev := eventlogtest.Event(fmt.Sprintf("k%d", k), n)
				for {
					actx, cancel := context.WithTimeout(ctx, 3*time.Second)
					err := appender.Append(actx, ev)
					cancel()
					if err == nil {
						break
					}
					if ctx.Err() != nil {
						appended <- err
						return
					}
				}
				mu.Lock()
				acked++
				mu.Unlock()
			}
		}
		appended <- nil
	}()

	// Shut down the stream's leader once a third is acknowledged.
	for {
		mu.Lock()
		n := acked
		mu.Unlock()
		if n >= keys*perKey/3 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	leader := streamLeader(t, appender)
	var down *natstest.Server
	for i, s := range c.Nodes {
		if fmt.Sprintf("n%d", i) == leader {
			down = s
		}
	}
	require.NotNil(t, down, "the stream leader %q is a node", leader)
	down.Shutdown()
	t.Logf("shut down the stream leader %s after %d acknowledged appends", leader, keys*perKey/3)

	require.NoError(t, <-appended, "every append acknowledged in the end")
	select {
	case <-chk.All():
	case <-time.After(60 * time.Second):
	}
	handled, violations := chk.State()
	assert.Empty(t, violations, "no key handled twice at once, none out of order")
	if !assert.Equal(t, keys*perKey, handled, "every acknowledged event handled with a node down") {
		for _, m := range ms {
			t.Logf("member %s owns %v", m.g.Member(), m.g.Owned())
		}
		for n := range appender.Partitions() {
			st, err := appender.Group(ctx, eventlog.PartitionGroup("orders", n))
			t.Logf("partition %d: %+v %v", n, st, err)
		}
	}

	require.NoError(t, down.Restart(), "restart the node")
	require.NoError(t, c.WaitReady(30*time.Second), "the cluster is whole again")
	entries, err := appender.Read(ctx, 0, 10*keys*perKey)
	require.NoError(t, err, "Read")
	ids := map[string]bool{}
	for _, e := range entries {
		ids[e.Event.ID] = true
	}
	assert.Len(t, entries, keys*perKey, "the log holds each acknowledged event once")
	assert.Len(t, ids, keys*perKey, "the log holds every acknowledged event")
}

// streamLeader returns the name of the node leading the event stream.
func streamLeader(t *testing.T, b *jetstream.Backend) string {
	t.Helper()
	name, err := jetstream.StreamLeader(t.Context(), b)
	require.NoError(t, err, "stream leader")
	return name
}

// TestClusterQuietPartitionsTrim runs a partitioned group of two members
// on a 3-node cluster with R3 stream and buckets, direct gets answered by
// any replica, while events go to partitions 0 and 1 only: the quiet
// partitions' cursors follow the stream without passing any event (every
// event handled, in order per key), and TrimEvents over the partitions'
// groups trims through the stream but its last event.
func TestClusterQuietPartitionsTrim(t *testing.T) {
	if testing.Short() {
		t.Skip("a cluster test takes several seconds")
	}
	c := natstest.StartCluster(t, 3)
	cfg := jetstream.Config{URL: c.URL(), Replicas: 3, Partitions: trimParts}
	appender := open(t, cfg)
	keys := append(keysOf(t, appender, 0, 4), keysOf(t, appender, 1, 4)...)
	const rounds = 25
	chk := eventlogtest.NewKeyChecker(len(keys) * rounds)
	var ms []*member
	for j := range 2 {
		ms = append(ms, startMember(t, cfg, "cluster_trim_idem", fmt.Sprintf("m%d", j), chk.Handle))
	}
	ctx := t.Context()
	for n := 1; n <= rounds; n++ {
		for _, k := range keys {
			require.NoError(t, appender.Append(ctx, eventlogtest.Event(k, n)), "Append %s #%d", k, n)
		}
		time.Sleep(5 * time.Millisecond) // the quiet partitions probe between rounds
	}
	require.NoError(t, ms[0].g.WaitIdle(ctx), "WaitIdle")
	handled, violations := chk.State()
	assert.Empty(t, violations, "no key handled twice at once, none out of order")
	assert.Equal(t, len(keys)*rounds, handled, "every event handled")
	last := uint64(len(keys) * rounds) // offsets 1 to last, nothing trimmed yet
	require.Eventually(t, func() bool {
		through, err := appender.TrimEvents(ctx, ms[0].g.ConsumerGroups()...)
		require.NoError(t, err, "TrimEvents")
		return through == last-1
	}, 20*time.Second, 20*time.Millisecond, "TrimEvents over the partitions' groups trims through %d", last-1)
}
