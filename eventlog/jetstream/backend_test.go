package jetstream_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
	"github.com/distsync/distsync/sqlite"
)

// openFresh opens a backend with its own stream and buckets on srv.
func openFresh(t *testing.T, srv *natstest.Server) (*jetstream.Backend, jetstream.Config) {
	t.Helper()
	n := strconv.FormatInt(storeN.Add(1), 10)
	cfg := jetstream.Config{URL: srv.URL(), Stream: "EV" + n, Subject: "ev" + n, BucketPrefix: "b" + n}
	b, err := jetstream.Open(t.Context(), cfg)
	require.NoError(t, err, "Open")
	t.Cleanup(func() { _ = b.Close() })
	return b, cfg
}

// open opens another Backend (its own connection) over cfg.
func open(t *testing.T, cfg jetstream.Config) *jetstream.Backend {
	t.Helper()
	b, err := jetstream.Open(t.Context(), cfg)
	require.NoError(t, err, "Open")
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func ids(t *testing.T, b eventlog.Log) []string {
	t.Helper()
	entries, err := b.Read(t.Context(), 0, 10000)
	require.NoError(t, err, "Read")
	var out []string
	for i, e := range entries {
		require.NoError(t, e.Err, "entry %d", e.Offset)
		require.Equal(t, uint64(i+1), e.Offset, "offsets are contiguous from 1")
		out = append(out, e.Event.ID)
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  jetstream.Config
		ok   bool
	}{
		{"URL only", jetstream.Config{URL: "nats://127.0.0.1:4222"}, true},
		{"all set", jetstream.Config{URL: "nats://x", Stream: "S-1", Subject: "a.b_c", BucketPrefix: "p", Replicas: 3, MaxAge: time.Hour}, true},
		{"no URL", jetstream.Config{}, false},
		{"stream with a dot", jetstream.Config{URL: "nats://x", Stream: "a.b"}, false},
		{"subject with a wildcard", jetstream.Config{URL: "nats://x", Subject: "a.*"}, false},
		{"subject ending in a dot", jetstream.Config{URL: "nats://x", Subject: "a."}, false},
		{"bucket prefix with a space", jetstream.Config{URL: "nats://x", BucketPrefix: "a b"}, false},
		{"replicas 7", jetstream.Config{URL: "nats://x", Replicas: 7}, false},
		{"negative max age", jetstream.Config{URL: "nats://x", MaxAge: -time.Second}, false},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.ok {
			assert.NoError(t, err, "Validate of %s", tt.name)
		} else {
			assert.ErrorIs(t, err, eventlog.ErrInvalidConfig, "Validate of %s", tt.name)
		}
	}
	_, err := jetstream.Open(t.Context(), jetstream.Config{})
	assert.ErrorIs(t, err, eventlog.ErrInvalidConfig, "Open without URL")
}

func TestAppendDeduplicates(t *testing.T) {
	srv := natstest.Start(t)
	b, _ := openFresh(t, srv)
	ctx := t.Context()
	ev := func(n int) canonical.Event { return eventlogtest.Event("k", n) }
	steps := []struct {
		name   string
		append []canonical.Event
		want   []string
	}{
		{"a batch", []canonical.Event{ev(1), ev(2)}, []string{"k-1", "k-2"}},
		{"the same batch again", []canonical.Event{ev(1), ev(2)}, []string{"k-1", "k-2"}},
		{"a batch half stored", []canonical.Event{ev(2), ev(3)}, []string{"k-1", "k-2", "k-3"}},
		{"one stored event", []canonical.Event{ev(1)}, []string{"k-1", "k-2", "k-3"}},
		{"one new event", []canonical.Event{ev(4)}, []string{"k-1", "k-2", "k-3", "k-4"}},
	}
	for _, s := range steps {
		require.NoError(t, b.Append(ctx, s.append...), "Append of %s", s.name)
		assert.Equal(t, s.want, ids(t, b), "the log after %s", s.name)
	}
}

func TestAppendLargeBatch(t *testing.T) {
	srv := natstest.Start(t)
	b, _ := openFresh(t, srv)
	var evs []canonical.Event
	for i := range jetstream.MaxAtomicBatch + 5 {
		evs = append(evs, eventlogtest.Event("big", i+1))
	}
	require.NoError(t, b.Append(t.Context(), evs...), "Append of %d events", len(evs))
	got := ids(t, b)
	require.Len(t, got, len(evs), "events stored")
	assert.Equal(t, "big-1005", got[len(got)-1], "the last event")
}

// TestRestartKeepsAcknowledged restarts the server (same store directory)
// while appenders run: every append that returned nil is in the log
// afterwards, once, and the group state and dead letters survive too.
func TestRestartKeepsAcknowledged(t *testing.T) {
	srv := natstest.Start(t)
	b, cfg := openFresh(t, srv)
	ctx := t.Context()
	require.NoError(t, b.Commit(ctx, "g", 0, 0), "Commit")
	epoch, err := b.Claim(ctx, "g")
	require.NoError(t, err, "Claim")
	id, err := b.Put(ctx, eventlog.DeadLetter{Consumer: "g", Offset: 1, Event: eventlogtest.Event("dl", 1), Reason: eventlog.ReasonPermanent, Error: "boom"})
	require.NoError(t, err, "Put")

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev := eventlogtest.Event("w"+strconv.Itoa(w), i)
				actx, cancel := context.WithTimeout(ctx, time.Second)
				err := b.Append(actx, ev)
				cancel()
				if err == nil {
					mu.Lock()
					acked = append(acked, ev.ID)
					mu.Unlock()
				} else {
					time.Sleep(5 * time.Millisecond) // the server is down: try again shortly
				}
			}
		})
	}
	waitAcked := func(n int) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			require.True(t, time.Now().Before(deadline), "appends go on (%d of %d acknowledged)", got, n)
			time.Sleep(time.Millisecond)
		}
	}
	waitAcked(50)
	require.NoError(t, srv.Restart(), "restart the server")
	mu.Lock()
	atRestart := len(acked)
	mu.Unlock()
	waitAcked(atRestart + 50)
	close(stop)
	wg.Wait()

	b2, err := jetstream.Open(ctx, cfg)
	require.NoError(t, err, "reopen after the restart")
	defer b2.Close()
	stored := map[string]int{}
	for _, id := range ids(t, b2) {
		stored[id]++
	}
	for _, id := range acked {
		assert.Equal(t, 1, stored[id], "acknowledged event %s is stored once", id)
	}
	e2, err := b2.Claim(ctx, "g")
	require.NoError(t, err, "Claim after the restart")
	assert.Equal(t, epoch+1, e2, "the epoch survives the restart")
	d, err := b2.Get(ctx, id)
	require.NoError(t, err, "Get the dead letter after the restart")
	assert.Equal(t, "dl-1", d.Event.ID, "the dead letter survives the restart")
}

// TestOutboxRelay publishes a SQLite outbox into the JetStream log; a
// publisher that fails after appending (a crash before the outbox rows
// are removed) makes the relay publish the batch again, and the stream's
// deduplication stores each event once.
func TestOutboxRelay(t *testing.T) {
	srv := natstest.Start(t)
	b, _ := openFresh(t, srv)
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err, "open SQLite")
	defer db.Close()
	s, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite})
	require.NoError(t, err, "NewSQL")
	require.NoError(t, s.Migrate(ctx), "Migrate")
	for _, order := range []string{"o1", "o2"} {
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err, "begin")
		require.NoError(t, s.AppendTx(ctx, tx, eventlogtest.Event(order, 1), eventlogtest.Event(order, 2)), "AppendTx %s", order)
		require.NoError(t, tx.Commit(), "commit %s", order)
	}
	crash := errors.New("crashed after publishing")
	_, err = s.RelayOnce(ctx, eventlog.RelayConfig{Publish: func(ctx context.Context, evs []canonical.Event) error {
		if err := b.Append(ctx, evs...); err != nil {
			return err
		}
		return crash
	}})
	require.ErrorIs(t, err, crash, "RelayOnce with a publisher that crashes")
	n, err := s.RelayOnce(ctx, eventlog.RelayConfig{Publish: b.Publish})
	require.NoError(t, err, "RelayOnce again")
	assert.Equal(t, 4, n, "events relayed")
	assert.Equal(t, []string{"o1-1", "o1-2", "o2-1", "o2-2"}, ids(t, b), "the log holds each outbox event once, in outbox order")
}

// TestRetentionLimits checks that the stream's MaxMsgs limit deletes the
// oldest events and a read before them reports ErrTrimmed.
func TestRetentionLimits(t *testing.T) {
	srv := natstest.Start(t)
	cfg := jetstream.Config{URL: srv.URL(), Stream: "LIMITED", Subject: "limited", BucketPrefix: "limited", MaxMsgs: 3}
	b, err := jetstream.Open(t.Context(), cfg)
	require.NoError(t, err, "Open")
	defer b.Close()
	for i := 1; i <= 5; i++ {
		require.NoError(t, b.Append(t.Context(), eventlogtest.Event("r", i)), "Append %d", i)
	}
	_, err = b.Read(t.Context(), 0, 10)
	assert.ErrorIs(t, err, eventlog.ErrTrimmed, "Read from the start after the limit deleted events")
	entries, err := b.Read(t.Context(), 2, 10)
	require.NoError(t, err, "Read after the trimmed offsets")
	require.Len(t, entries, 3, "the events kept")
	assert.Equal(t, "r-3", entries[0].Event.ID, "the first event kept")
}
