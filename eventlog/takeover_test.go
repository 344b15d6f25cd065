package eventlog_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
)

// The environment of a takeover child process: its name and the table
// prefix of the parent's test. Set, it makes TestTakeoverChild run a
// consumer; unset, TestTakeoverChild does nothing.
const (
	takeoverNameEnv   = "EVENTLOG_TAKEOVER_CHILD"
	takeoverPrefixEnv = "EVENTLOG_TAKEOVER_PREFIX"
)

// Figures of TestPostgresLockTakeover.
const (
	takeoverEvents  = 6000
	takeoverKeys    = 20
	takeoverWorkers = 4
	takeoverWork    = 2 * time.Millisecond // each handling's duration
)

// takeoverAppName is the application_name of a child's sessions, by which
// the parent finds the backend holding its group lock.
func takeoverAppName(prefix, name string) string { return prefix + "takeover_" + name }

// TestTakeoverChild is one process of TestPostgresLockTakeover: it runs
// the consumer group "g" over the parent's tables until its Run returns
// (on SIGINT, or when it loses its lock), records every handling in the
// PREFIXhandled table, and prints Run's error.
func TestTakeoverChild(t *testing.T) {
	name := os.Getenv(takeoverNameEnv)
	if name == "" {
		return
	}
	prefix := os.Getenv(takeoverPrefixEnv)
	u, err := url.Parse(postgresURL(t))
	require.NoError(t, err, "parse the PostgreSQL URL")
	q := u.Query()
	q.Set("application_name", takeoverAppName(prefix, name))
	u.RawQuery = q.Encode()
	db := openPostgres(t, u.String())
	db.SetMaxIdleConns(2 * takeoverWorkers)
	s, err := eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.Postgres, Prefix: prefix,
		LockCheck: 500 * time.Millisecond})
	require.NoError(t, err, "NewSQL")
	record := "INSERT INTO " + prefix + "handled (proc, pkey, off, start_ns, end_ns, ok) VALUES ($1, $2, $3, $4, $5, $6)"
	c, err := eventlog.NewConsumer(s, eventlog.ConsumerConfig{Group: "g", Workers: takeoverWorkers,
		PollInterval: 10 * time.Millisecond,
		Handler: func(ctx context.Context, ev canonical.Event) error {
			start := time.Now()
			var err error
			select {
			case <-time.After(takeoverWork):
			case <-ctx.Done():
				err = ctx.Err()
			}
			end := time.Now()
			// Every attempt is recorded, a cancelled one too (ok false),
			// so that overlaps count whatever ran.
			_, rerr := db.ExecContext(context.WithoutCancel(ctx), record, name, ev.Subject, takeoverOffset(ev.ID),
				start.UnixNano(), end.UnixNano(), err == nil)
			if err != nil {
				return err
			}
			return rerr
		}})
	require.NoError(t, err, "NewConsumer")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Printf("RUN-ERROR: %v\n", c.Run(ctx))
}

// takeoverChild is a running child process.
type takeoverChild struct {
	name   string
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan struct{} // closed when the process exited
	err    error         // its exit error, set before exited is closed
}

func startTakeoverChild(t *testing.T, prefix, name string) *takeoverChild {
	t.Helper()
	c := &takeoverChild{name: name, exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestTakeoverChild$", "-test.count=1")
	c.cmd.Env = append(os.Environ(), takeoverNameEnv+"="+name, takeoverPrefixEnv+"="+prefix)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	require.NoError(t, c.cmd.Start(), "start child %s", name)
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	})
	return c
}

// stop interrupts the child (unless it exited) and returns its output.
func (c *takeoverChild) stop(t *testing.T) string {
	t.Helper()
	select {
	case <-c.exited:
	default:
		require.NoError(t, c.cmd.Process.Signal(os.Interrupt), "interrupt child %s", c.name)
	}
	select {
	case <-c.exited:
		assert.NoError(t, c.err, "child %s's exit:\n%s", c.name, c.out.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("child %s did not exit", c.name)
	}
	return c.out.String()
}

// TestPostgresLockTakeover runs one consumer group in two OS processes, A
// and B, over PostgreSQL. A runs the group, B waits as a standby; midway,
// the session holding A's group lock is terminated (pg_terminate_backend),
// and B takes over. Every handling is recorded in a table. Afterwards:
// every event was handled successfully; no key was handled in both
// processes at once; A's Run stopped with ErrLockLost; and the only events
// handled twice are those at-least-once allows after a takeover: events A
// handled after the oldest one it did not finish (an event in flight when
// it stopped, whose handler was cancelled, or one queued behind a key),
// which are above A's last cursor. A's committed work (everything before
// that oldest unfinished event) is never handled again, and no process
// handles an event twice.
func TestPostgresLockTakeover(t *testing.T) {
	if os.Getenv(takeoverNameEnv) != "" {
		return
	}
	pgURL := postgresURL(t)
	db := openPostgres(t, pgURL)
	prefix := uniquePrefix()
	s := newSQL(t, db, eventlog.Postgres, prefix)
	ctx := t.Context()
	_, err := db.ExecContext(ctx, "CREATE TABLE "+prefix+"handled (proc TEXT NOT NULL, pkey TEXT NOT NULL, off INTEGER NOT NULL, "+
		"start_ns BIGINT NOT NULL, end_ns BIGINT NOT NULL, ok BOOLEAN NOT NULL)")
	require.NoError(t, err, "create the handled table")
	t.Cleanup(func() {
		_ = s.Drop(context.Background())
		_, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+prefix+"handled")
	})
	evs := make([]canonical.Event, 0, takeoverEvents)
	for i := range takeoverEvents {
		evs = append(evs, eventlogtest.Event("key"+strconv.Itoa(i%takeoverKeys), i/takeoverKeys+1))
	}
	for i := 0; i < len(evs); i += 200 {
		require.NoError(t, s.Append(ctx, evs[i:i+200]...), "Append events %d-%d", i, i+199)
	}
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, db.QueryRowContext(ctx, query, args...).Scan(&n), "query %s", query)
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(120 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	handledOK := "SELECT COUNT(*) FROM " + prefix + "handled WHERE ok"

	a := startTakeoverChild(t, prefix, "A")
	waitFor("A to handle 300 events", func() bool { return count(handledOK) >= 300 })
	b := startTakeoverChild(t, prefix, "B")
	waitFor("B to connect", func() bool {
		return count("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1", takeoverAppName(prefix, "B")) > 0
	})
	waitFor("A to handle 1,500 events", func() bool { return count(handledOK) >= 1500 })

	// The backend holding A's group lock: A's only advisory lock.
	var pid int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "+
		"WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1", takeoverAppName(prefix, "A")).Scan(&pid),
		"find the backend holding A's group lock")
	atKill := count(handledOK)
	var killed bool
	require.NoError(t, db.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&killed), "pg_terminate_backend")
	require.True(t, killed, "the lock's backend was terminated")

	waitFor("every event to be handled", func() bool {
		return count("SELECT COUNT(DISTINCT off) FROM "+prefix+"handled WHERE ok") == takeoverEvents
	})
	outA, outB := a.stop(t), b.stop(t)

	// Every handling, in the order they started.
	rows, err := db.QueryContext(ctx, "SELECT proc, off, ok FROM "+prefix+"handled ORDER BY start_ns")
	require.NoError(t, err, "read the handlings")
	type handling struct {
		proc string
		off  int
		ok   bool
	}
	var hs []handling
	for rows.Next() {
		var h handling
		require.NoError(t, rows.Scan(&h.proc, &h.off, &h.ok), "scan a handling")
		hs = append(hs, h)
	}
	require.NoError(t, rows.Err(), "read the handlings")
	okBy := map[string]map[int]int{"A": {}, "B": {}}
	cancelled := 0
	for _, h := range hs {
		if h.ok {
			okBy[h.proc][h.off]++
		} else {
			cancelled++
		}
	}
	// gap is the oldest offset A did not handle successfully: A's cursor
	// can be no later than gap-1, and at-least-once allows the events A
	// handled after it to be handled again by B, no others.
	gap := takeoverEvents + 1
	for off := 1; off <= takeoverEvents; off++ {
		if okBy["A"][off] == 0 {
			gap = off
			break
		}
	}
	allowed := 0
	for off, n := range okBy["A"] {
		if off > gap {
			allowed += n
		}
	}
	duplicates, belowGap, sameProc := 0, 0, 0
	for off := 1; off <= takeoverEvents; off++ {
		a, b := okBy["A"][off], okBy["B"][off]
		if a+b > 1 {
			duplicates += a + b - 1
			if off < gap {
				belowGap++
			}
		}
		if a > 1 || b > 1 {
			sameProc++
		}
	}
	overlaps := count("SELECT COUNT(*) FROM " + prefix + "handled x JOIN " + prefix + "handled y ON x.pkey = y.pkey " +
		"AND x.proc = 'A' AND y.proc = 'B' AND x.start_ns < y.end_ns AND y.start_ns < x.end_ns")
	t.Logf("events %d: handled successfully by A %d (%d when its lock was killed), by B %d; handled twice %d "+
		"(allowed: the %d events A handled after offset %d, the oldest it did not finish); cancelled attempts %d; "+
		"A/B overlaps on one key %d", takeoverEvents, len(okBy["A"]), atKill, len(okBy["B"]), duplicates, allowed, gap,
		cancelled, overlaps)
	t.Logf("A: %s", lastLine(outA))
	t.Logf("B: %s", lastLine(outB))

	assert.Contains(t, outA, eventlog.ErrLockLost.Error(), "A's Run stops when its lock connection is killed:\n%s", outA)
	assert.Positive(t, len(okBy["B"]), "B took over")
	for off := 1; off <= takeoverEvents; off++ {
		if okBy["A"][off]+okBy["B"][off] == 0 {
			t.Errorf("event at offset %d was never handled", off)
		}
	}
	assert.Zero(t, belowGap, "events at or below A's last cursor handled again (A's final commit was lost)")
	assert.Zero(t, sameProc, "events handled twice by one process")
	assert.LessOrEqual(t, duplicates, allowed, "events handled twice: at most those A handled after its oldest unfinished event")
	assert.Zero(t, overlaps, "handlings of one key running in A and B at the same time")
}

// takeoverOffset returns the offset of the event with the given ID in the
// log of TestPostgresLockTakeover ("keyK-N", appended round-robin).
func takeoverOffset(id string) int {
	var k, n int
	_, _ = fmt.Sscanf(id, "key%d-%d", &k, &n)
	return (n-1)*takeoverKeys + k + 1
}

// lastLine returns the RUN-ERROR line of a child's output, or all of it.
func lastLine(out string) string {
	if i := bytes.LastIndex([]byte(out), []byte("RUN-ERROR: ")); i >= 0 {
		if j := bytes.IndexByte([]byte(out[i:]), '\n'); j >= 0 {
			return out[i : i+j]
		}
		return out[i:]
	}
	return out
}
