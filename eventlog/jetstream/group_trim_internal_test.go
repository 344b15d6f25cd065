package jetstream

import (
	"strconv"
	"testing"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/internal/natstest"
)

// TestPartViewProbe: a quiet partition's probe reports how far the
// stream holds none of its events, and does not skip over events the
// stream deleted: the read fails with ErrTrimmed as a read would.
func TestPartViewProbe(t *testing.T) {
	srv := natstest.Start(t)
	b, err := Open(t.Context(), Config{URL: srv.URL(), Stream: "PROBE", Subject: "probe", BucketPrefix: "probe", Partitions: 4})
	require.NoError(t, err, "Open")
	t.Cleanup(func() { _ = b.Close() })
	keyOf := func(n int) string {
		for i := 0; ; i++ {
			if k := "order-" + strconv.Itoa(i); b.PartitionOf(k) == n {
				return k
			}
		}
	}
	k0, k1 := keyOf(0), keyOf(1)
	for i := 1; i <= 3; i++ {
		require.NoError(t, b.Append(t.Context(), eventlogtest.Event(k0, i)), "Append %s #%d", k0, i)
	}
	for i := 1; i <= 2; i++ {
		require.NoError(t, b.Append(t.Context(), eventlogtest.Event(k1, i)), "Append %s #%d", k1, i)
	}
	// Offsets 1 to 3 are partition 0's, 4 and 5 partition 1's.

	quiet := func(n int) *partView { return &partView{Backend: b, n: n, quiet: true} }
	v := quiet(2)
	got, err := v.Read(t.Context(), 0, 10)
	require.NoError(t, err, "Read of quiet partition 2")
	assert.Empty(t, got, "partition 2 has no events")
	assert.Equal(t, uint64(5), v.SkippedTo(0), "partition 2 has none through the stream's last offset")
	assert.Equal(t, uint64(5), v.SkippedTo(3), "nor after 3")
	assert.Equal(t, uint64(5), v.SkippedTo(5), "SkippedTo at the stream's end")

	v = quiet(0)
	got, err = v.Read(t.Context(), 1, 10)
	require.NoError(t, err, "Read of partition 0 after its probe found its events")
	assert.Len(t, got, 2, "the probe found events of partition 0 after 1: the read returns them")
	assert.Equal(t, uint64(3), v.SkippedTo(3), "no skip past a partition's own events")

	// The stream deletes offsets 1 to 4: a quiet partition 0 at 1 must
	// not skip over its events 2 and 3.
	require.NoError(t, b.stream.Purge(t.Context(), natsjs.WithPurgeSequence(5)), "Purge through 4")
	v = quiet(0)
	_, err = v.Read(t.Context(), 1, 10)
	require.ErrorIs(t, err, eventlog.ErrTrimmed, "a probe past deleted events of the partition")
	assert.Equal(t, uint64(1), v.SkippedTo(1), "no skip over deleted events")
}
