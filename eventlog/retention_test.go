package eventlog_test

import (
	"context"
	"database/sql"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

// TestSQLReadGapIsNotTrim: a gap in the offsets that is not a trim (on
// PostgreSQL, offsets an aborted append drew) is read over, not reported
// as ErrTrimmed; a gap below the trim mark is.
func TestSQLReadGapIsNotTrim(t *testing.T) {
	sqlBackends(t, func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string) {
		ctx := t.Context()
		require.NoError(t, s.Append(ctx, eventlogtest.Event("a", 1)), "Append a-1")
		if strings.HasPrefix(s.String(), "postgres") {
			// Offsets 2-4 drawn by a transaction that rolls back.
			tx, err := db.BeginTx(ctx, nil)
			require.NoError(t, err, "begin")
			_, err = tx.ExecContext(ctx, "INSERT INTO "+prefix+"events (pkey, payload) VALUES ('a', 'x'), ('a', 'x'), ('a', 'x')")
			require.NoError(t, err, "insert three rows")
			require.NoError(t, tx.Rollback(), "rollback")
			require.NoError(t, s.Append(ctx, eventlogtest.Event("a", 2)), "Append a-2")
		} else {
			ev := eventlogtest.Event("a", 2)
			payload, err := ev.MarshalJSON()
			require.NoError(t, err, "MarshalJSON")
			_, err = db.ExecContext(ctx, "INSERT INTO "+prefix+"events (off, pkey, payload) VALUES (5, 'a', ?)", payload)
			require.NoError(t, err, "insert a row at offset 5")
		}

		for _, after := range []uint64{0, 1, 2, 4} {
			entries, err := s.Read(ctx, after, 10)
			require.NoError(t, err, "Read after %d over the gap 2-4", after)
			require.NotEmpty(t, entries, "Read after %d", after)
			assert.Equal(t, uint64(5), entries[len(entries)-1].Offset, "last offset read after %d", after)
		}

		require.NoError(t, s.Commit(ctx, "g", 0, 5), "Commit")
		require.NoError(t, s.Append(ctx, eventlogtest.Event("a", 3)), "Append a-3")
		through, err := s.TrimEvents(ctx, "g")
		require.NoError(t, err, "TrimEvents")
		require.Equal(t, uint64(5), through, "trim mark")
		for _, after := range []uint64{0, 1, 4} {
			_, err := s.Read(ctx, after, 10)
			assert.ErrorIs(t, err, eventlog.ErrTrimmed, "Read after %d, below the trim mark", after)
		}
	})
}

// errorCount is a slog handler counting the records at Error.
type errorCount struct {
	mu   sync.Mutex
	msgs []string
}

func (h *errorCount) Enabled(context.Context, slog.Level) bool { return true }
func (h *errorCount) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.mu.Lock()
		h.msgs = append(h.msgs, r.Message)
		h.mu.Unlock()
	}
	return nil
}
func (h *errorCount) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorCount) WithGroup(string) slog.Handler      { return h }

// TestSQLTrimUnderConsumerAndAppend trims the log in a loop while events
// are appended and a consumer of the trimmed group reads them: every
// event is handled once, the consumer never fails a read (a trim never
// passes what the group committed), and the trim mark ends below the
// last event.
func TestSQLTrimUnderConsumerAndAppend(t *testing.T) {
	const events = 1500
	sqlBackends(t, func(t *testing.T, s *eventlog.SQL, db *sql.DB, prefix string) {
		ctx := t.Context()
		var mu sync.Mutex
		handled := map[string]int{}
		logs := &errorCount{}
		c, err := eventlog.NewConsumer(s, eventlog.ConsumerConfig{Group: "g", BatchSize: 16, PollInterval: time.Millisecond,
			Logger: slog.New(logs),
			Handler: func(_ context.Context, ev canonical.Event) error {
				mu.Lock()
				handled[ev.ID]++
				mu.Unlock()
				return nil
			}})
		require.NoError(t, err, "NewConsumer")
		rctx, stop := context.WithCancel(ctx)
		runErr := make(chan error, 1)
		go func() { runErr <- c.Run(rctx) }()
		trimErr := make(chan error, 1)
		var trims atomic.Int64
		go func() {
			for rctx.Err() == nil {
				if _, err := s.TrimEvents(rctx, "g"); err != nil && rctx.Err() == nil {
					trimErr <- err
					return
				}
				trims.Add(1)
				time.Sleep(time.Millisecond) // pacing: SQLite has one writer
			}
			trimErr <- nil
		}()
		for i := 0; i < events; i += 10 {
			batch := make([]canonical.Event, 0, 10)
			for j := i; j < i+10; j++ {
				batch = append(batch, eventlogtest.Event("k"+strconv.Itoa(j%7), j/7+1))
			}
			require.NoError(t, s.Append(ctx, batch...), "Append %d", i)
		}
		require.NoError(t, c.WaitIdle(ctx), "WaitIdle")
		stop()
		require.ErrorIs(t, <-runErr, context.Canceled, "Run")
		require.NoError(t, <-trimErr, "TrimEvents")
		through, err := s.TrimEvents(ctx, "g")
		require.NoError(t, err, "TrimEvents at the end")
		t.Logf("trims %d, trim mark %d", trims.Load(), through)
		assert.Equal(t, uint64(events-1), through, "trimmed all but the last event")
		assert.Len(t, handled, events, "every event handled")
		for id, n := range handled {
			if n != 1 {
				t.Errorf("%s handled %d times", id, n)
			}
		}
		logs.mu.Lock()
		assert.Empty(t, logs.msgs, "errors logged by the consumer")
		logs.mu.Unlock()
	})
}
