package eventlog_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/internal/sqlspy"
)

// TestDeferAppend has handlers defer an append (SQL.DeferAppend) of an
// event derived from theirs to the consumer's group commit, over SQLite and
// PostgreSQL, while the first commits that carry an append fail (the
// group's, then the event's alone): those handlers are handled as failed
// and run again. In the end each derived event is in the log once, after
// its source event, in its key's order; consumers waiting on Appended
// were woken; the consumer handled the derived events too.
func TestDeferAppend(t *testing.T) {
	for _, d := range []eventlog.Dialect{eventlog.SQLite, eventlog.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			ctx := context.Background()
			raw, dsn, prefix := openDialect(t, d)
			var armed atomic.Bool
			var fails atomic.Int32
			spy := &sqlspy.Spy{FailCommit: func(stmts []string) error {
				if armed.Load() && slices.ContainsFunc(stmts, func(q string) bool { return strings.Contains(q, "events (pkey, payload)") }) &&
					fails.Add(1) <= 3 {
					return errors.New("injected: the commit failed")
				}
				return nil
			}}
			db, err := sqlspy.Open(raw, dsn, spy)
			require.NoError(t, err, "sqlspy.Open")
			t.Cleanup(func() { _ = db.Close() })
			if d == eventlog.SQLite {
				db.SetMaxOpenConns(1)
			}
			b := newSQL(t, db, d, prefix)
			if prefix != "" {
				t.Cleanup(func() { _ = b.Drop(context.Background()) })
			}
			const keys, per = 4, 5
			var evs []canonical.Event
			for n := 1; n <= per; n++ {
				for k := range keys {
					evs = append(evs, eventlogtest.Event("k"+string(rune('a'+k)), n))
				}
			}
			require.NoError(t, b.Append(ctx, evs...), "Append")
			armed.Store(true)
			woken := b.Appended()
			var mu sync.Mutex
			handled := map[string]int{}
			c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", Workers: 2,
				Handler: func(hctx context.Context, ev canonical.Event) error {
					mu.Lock()
					handled[ev.ID]++
					mu.Unlock()
					if strings.HasPrefix(ev.ID, "derived-") {
						return nil
					}
					de := ev
					de.ID = "derived-" + ev.ID
					ok, err := b.DeferAppend(hctx, nil, de)
					if err == nil && !ok {
						err = errors.New("DeferAppend did not defer")
					}
					return err
				}})
			require.NoError(t, err, "NewConsumer")
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- c.Run(rctx) }()
			for round := 0; ; round++ {
				require.NoError(t, c.WaitIdle(ctx), "WaitIdle")
				mu.Lock()
				n := len(handled)
				mu.Unlock()
				if n == 2*len(evs) {
					break
				}
				// Idle with derived events missing: they were lost.
				require.Less(t, round, 100, "events handled (of %d, half of them derived)", 2*len(evs))
			}
			cancel()
			<-done
			assert.GreaterOrEqual(t, fails.Load(), int32(3), "commits failed")
			select {
			case <-woken:
			default:
				t.Error("Appended not closed after the deferred appends committed")
			}

			es, err := b.Read(ctx, 0, 1000)
			require.NoError(t, err, "Read")
			at := map[string]int{}
			last := map[string]int{} // the last derived event's position, by key
			for i, e := range es {
				_, seen := at[e.Event.ID]
				assert.False(t, seen, "%s appended twice", e.Event.ID)
				at[e.Event.ID] = i
				if src, ok := strings.CutPrefix(e.Event.ID, "derived-"); ok {
					j, ok := at[src]
					assert.True(t, ok && j < i, "%s appended before its source", e.Event.ID)
					if p, ok := last[e.Event.Subject]; ok {
						assert.Less(t, at[strings.TrimPrefix(es[p].Event.ID, "derived-")], j,
							"derived events of key %s out of their sources' order", e.Event.Subject)
					}
					last[e.Event.Subject] = i
				}
			}
			assert.Len(t, es, 2*len(evs), "events in the log")
			for _, ev := range evs {
				_, ok := at["derived-"+ev.ID]
				assert.True(t, ok, "derived event of %s in the log", ev.ID)
			}
		})
	}
}
