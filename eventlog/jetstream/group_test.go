package jetstream_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
)

func TestGroupConfigValidate(t *testing.T) {
	h := func(context.Context, canonical.Event) error { return nil }
	c := eventlog.ConsumerConfig{Group: "g", Handler: h}
	tests := []struct {
		name string
		cfg  jetstream.GroupConfig
		ok   bool
	}{
		{"defaults", jetstream.GroupConfig{Consumer: c}, true},
		{"short lease", jetstream.GroupConfig{Consumer: c, LeaseTTL: time.Second, Renew: 200 * time.Millisecond}, true},
		{"no handler", jetstream.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: "g"}}, false},
		{"lease below 1s", jetstream.GroupConfig{Consumer: c, LeaseTTL: 500 * time.Millisecond}, false},
		{"renew not below half the lease", jetstream.GroupConfig{Consumer: c, LeaseTTL: 2 * time.Second, Renew: time.Second}, false},
		{"negative renew", jetstream.GroupConfig{Consumer: c, Renew: -1}, false},
		{"group too long for the partition suffix", jetstream.GroupConfig{Consumer: eventlog.ConsumerConfig{Group: strings.Repeat("g", 196), Handler: h}}, false},
		{"member too long", jetstream.GroupConfig{Consumer: c, Member: strings.Repeat("m", 201)}, false},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.ok {
			assert.NoError(t, err, "Validate of %s", tt.name)
		} else {
			assert.ErrorIs(t, err, eventlog.ErrInvalidConfig, "Validate of %s", tt.name)
		}
	}
}

func TestPartitionOf(t *testing.T) {
	srv := natstest.Start(t)
	b, _ := openFresh(t, srv)
	require.Equal(t, jetstream.DefaultPartitions, b.Partitions(), "default partitions")
	seen := map[int]bool{}
	for i := range 200 {
		n := b.PartitionOf(fmt.Sprintf("order-%d", i))
		require.True(t, n >= 0 && n < b.Partitions(), "partition %d of order-%d in range", n, i)
		require.Equal(t, n, b.PartitionOf(fmt.Sprintf("order-%d", i)), "PartitionOf is deterministic")
		seen[n] = true
	}
	require.Len(t, seen, b.Partitions(), "200 keys reach every partition")
}

// The lease of the test members: short, since KV keys expire in real
// time.
const (
	leaseTTL = eventlogtest.GroupLeaseTTL
	renew    = eventlogtest.GroupRenew
)

// debugLogger logs to stderr when DISTSYNC_TEST_DEBUG is set.
func debugLogger(name string) *slog.Logger {
	if os.Getenv("DISTSYNC_TEST_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("member", name)
}

// groupConn opens the backend of cfg and an idempotency store over the
// bucket idemBucket, each over its own connection, as the process called
// name would; both are closed at the end of the test.
func groupConn(t *testing.T, cfg jetstream.Config, idemBucket, name string) eventlogtest.GroupConn {
	t.Helper()
	b, err := jetstream.Open(t.Context(), cfg)
	require.NoError(t, err, "Open for %s", name)
	idem, err := jetstream.NewIdempotencyStore(t.Context(), jetstream.IdempotencyConfig{URL: cfg.URL, Bucket: idemBucket, Replicas: cfg.Replicas})
	require.NoError(t, err, "NewIdempotencyStore for %s", name)
	t.Cleanup(func() { _ = b.Close(); _ = idem.Close() })
	return eventlogtest.GroupConn{Backend: b, Dedupe: idem,
		Cut: func() { _ = b.Close(); _ = idem.Close() },
		NewGroup: func(gc eventlogtest.GroupConfig) (eventlogtest.GroupMember, error) {
			if gc.Consumer.Logger == nil {
				gc.Consumer.Logger = debugLogger(gc.Member)
			}
			return b.NewGroup(jetstream.GroupConfig{Consumer: gc.Consumer, Member: gc.Member, LeaseTTL: gc.LeaseTTL, Renew: gc.Renew})
		}}
}

// TestGroups runs the group kit against one server, each store its own
// stream and buckets.
func TestGroups(t *testing.T) {
	// The bound of a crash, as the package documentation states it, with
	// four seconds of slack for -race on a loaded 2-core machine (the
	// leases expire in real time while the members wait for the CPU).
	const bound = leaseTTL + 3*time.Second + renew + 4*time.Second
	srv := natstest.Start(t)
	eventlogtest.RunGroups(t, func(t *testing.T, parts int) eventlogtest.GroupStore {
		n := strconv.FormatInt(storeN.Add(1), 10)
		cfg := jetstream.Config{URL: srv.URL(), Stream: "GRP" + n, Subject: "grp" + n, BucketPrefix: "grp" + n, Partitions: parts}
		return eventlogtest.GroupStore{Takeover: bound, Open: func(t *testing.T, name string) eventlogtest.GroupConn {
			return groupConn(t, cfg, "grp"+n+"_idem", name)
		}}
	})
}

// member is one member of a group over its own connections, as a process
// would be.
type member struct {
	g      *jetstream.Group
	cancel context.CancelFunc
	done   chan error
}

func startMember(t *testing.T, cfg jetstream.Config, idemBucket string, name string, h eventlog.Handler) *member {
	t.Helper()
	conn := groupConn(t, cfg, idemBucket, name)
	g, err := conn.NewGroup(eventlogtest.GroupConfig{
		Consumer: eventlog.ConsumerConfig{Group: "orders", Handler: h, Dedupe: conn.Dedupe, Lease: 2 * time.Second,
			PollInterval: 20 * time.Millisecond, DrainTimeout: 5 * time.Second,
			Policy: eventlog.ErrorPolicy{MaxAttempts: 1000}},
		Member: name, LeaseTTL: leaseTTL, Renew: renew,
	})
	require.NoError(t, err, "NewGroup for %s", name)
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{g: g.(*jetstream.Group), cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- g.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-m.done })
	return m
}
