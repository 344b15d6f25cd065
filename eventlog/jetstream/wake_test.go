package jetstream_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/logtest"
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
				start := time.Now()
				appendHandled(t, writer, eventlogtest.Event("order-wake", i+1), handled, deadline)
				slowest = max(slowest, time.Since(start))
			}
			t.Logf("%s: slowest of %d appends handled by the other Backend after %v (PollInterval %v)", tt.name, rounds, slowest, poll)
		})
	}
}

// appendHandled appends ev through writer and waits until its ID comes
// on handled, from the handler of another Backend's consumer, failing t
// after deadline.
func appendHandled(t *testing.T, writer *jetstream.Backend, ev canonical.Event, handled <-chan string, deadline time.Duration) {
	t.Helper()
	require.NoError(t, writer.Append(t.Context(), ev), "Append %s", ev.ID)
	select {
	case id := <-handled:
		require.Equal(t, ev.ID, id, "the event handled after appending %s", ev.ID)
	case <-time.After(deadline):
		t.Fatalf("the event %s appended by one Backend was not handled by the other within %v", ev.ID, deadline)
	}
}

// startWithUsers starts an embedded NATS server with JetStream whose
// users, all with password "pw", are those of perms: nil permissions
// allow everything. It returns the client URL of each user.
func startWithUsers(t *testing.T, perms map[string]*server.Permissions) map[string]string {
	t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true}
	for name, p := range perms {
		opts.Users = append(opts.Users, &server.User{Username: name, Password: "pw", Permissions: p})
	}
	srv, err := server.NewServer(opts)
	require.NoError(t, err, "new NATS server")
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	require.True(t, srv.ReadyForConnections(10*time.Second), "NATS server ready")
	port := srv.Addr().(*net.TCPAddr).Port
	urls := make(map[string]string, len(perms))
	for name := range perms {
		urls[name] = fmt.Sprintf("nats://%s:pw@127.0.0.1:%d", name, port)
	}
	return urls
}

// TestWakeDenied appends through one Backend and consumes through another,
// as two processes do, with NATS users that may not subscribe to, or may
// not publish on, the subject of the append notices: the Backend refused
// logs that once, with the subject and the server's error, and every
// append is still handled, at the consumer's poll. With every permission
// nothing is logged.
func TestWakeDenied(t *testing.T) {
	const (
		poll     = 100 * time.Millisecond
		deadline = 30 * time.Second
		appends  = 3
	)
	deny := []string{"_DISTSYNC.>"}
	urls := startWithUsers(t, map[string]*server.Permissions{
		"all":    nil,
		"no-sub": {Subscribe: &server.SubjectPermission{Deny: deny}},
		"no-pub": {Publish: &server.SubjectPermission{Deny: deny}},
	})
	subDenied := "jetstream: the NATS user may not subscribe to the append notices; " +
		"this Backend's consumers wake for other processes' appends only on their poll interval"
	pubDenied := "jetstream: the NATS user may not publish the append notices; " +
		"other processes' consumers wake for this Backend's appends only on their poll interval"
	for i, tc := range []struct {
		name                 string
		writer, reader       string // users
		wantWriter, wantRead string // message logged, if any
	}{
		{"subscribe denied", "all", "no-sub", "", subDenied},
		{"publish denied", "no-pub", "all", pubDenied, ""},
		{"allowed", "all", "all", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream := "WD" + strconv.Itoa(i)
			cfg := jetstream.Config{Stream: stream, Subject: "wd" + strconv.Itoa(i), BucketPrefix: "wd" + strconv.Itoa(i)}
			wlogs, rlogs := &logtest.Recorder{Level: slog.LevelWarn}, &logtest.Recorder{Level: slog.LevelWarn}
			wcfg, rcfg := cfg, cfg
			wcfg.URL, wcfg.Logger = urls[tc.writer], slog.New(wlogs)
			rcfg.URL, rcfg.Logger = urls[tc.reader], slog.New(rlogs)
			writer, reader := open(t, wcfg), open(t, rcfg)
			handled := make(chan string, appends)
			c, err := eventlog.NewConsumer(reader, eventlog.ConsumerConfig{Group: "wake", PollInterval: poll,
				Handler: func(_ context.Context, ev canonical.Event) error {
					handled <- ev.ID
					return nil
				}})
			require.NoError(t, err, "NewConsumer")
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			defer func() { cancel(); <-done }()
			for n := range appends {
				appendHandled(t, writer, eventlogtest.Event("order-denied", n+1), handled, deadline)
			}
			// Every refusal was sent before the server's reply to a
			// flush of each connection; the handler runs right after.
			for _, b := range []*jetstream.Backend{writer, reader} {
				require.NoError(t, jetstream.Flush(b), "flush")
			}
			for _, side := range []struct {
				name string
				logs *logtest.Recorder
				want string
			}{{"writer", wlogs, tc.wantWriter}, {"reader", rlogs, tc.wantRead}} {
				var want []string
				if side.want != "" {
					want = []string{side.want + " stream=" + stream + " subject=_DISTSYNC.appended." + stream}
				}
				if !assert.Eventually(t, func() bool { return len(side.logs.Lines()) >= len(want) }, deadline, 10*time.Millisecond,
					"the %s logs the refusal", side.name) {
					continue
				}
				var got []string
				for _, l := range side.logs.Lines() {
					if i := strings.Index(l, " err="); i >= 0 {
						assert.Contains(t, l[i:], "Permissions Violation", "the %s's error", side.name)
						l = l[:i]
					}
					got = append(got, l)
				}
				assert.Equal(t, want, got, "warnings of the %s", side.name)
			}
		})
	}
}
