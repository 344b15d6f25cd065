package eventlog_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/retry"
)

// openPostgresAs opens the test database with the given application_name.
func openPostgresAs(t *testing.T, name string) *sql.DB {
	t.Helper()
	u, err := url.Parse(postgresURL(t))
	require.NoError(t, err, "parse the PostgreSQL URL")
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return openPostgres(t, u.String())
}

// killLockBeforePut is a backend whose first dead-letter Put first has the
// session holding its group lock terminated and waits until another
// process claimed the group, as when the lock's connection dies while the
// Put is on its way and the standby takes over before it lands.
type killLockBeforePut struct {
	*eventlog.SQL
	kill    func()
	claimed func() bool
	once    sync.Once
	putErr  chan error // the first Put's error
}

func (k *killLockBeforePut) Put(ctx context.Context, d eventlog.DeadLetter) (int64, error) {
	first := false
	k.once.Do(func() { first = true })
	if !first {
		return k.SQL.Put(ctx, d)
	}
	k.kill()
	for deadline := time.Now().Add(30 * time.Second); !k.claimed() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	id, err := k.SQL.Put(ctx, d)
	k.putErr <- err
	return id, err
}

// TestPostgresLockKilledAtDeadLetterPut: process A's group lock session is
// terminated while A stores a dead letter, and B, the standby, claims the
// group before A's Put lands. A's Put is refused (ErrFenced) and writes
// nothing; A stops; B dead-letters the event itself, once.
func TestPostgresLockKilledAtDeadLetterPut(t *testing.T) {
	prefix := uniquePrefix()
	ctl := openPostgres(t, postgresURL(t))
	admin := newSQL(t, ctl, eventlog.Postgres, prefix)
	t.Cleanup(func() { _ = admin.Drop(context.Background()) })
	ctx := t.Context()
	require.NoError(t, admin.Append(ctx, eventlogtest.Event("a", 1)), "Append")
	cfg := eventlog.SQLConfig{Dialect: eventlog.Postgres, Prefix: prefix, LockCheck: 200 * time.Millisecond}
	epoch := func() int64 {
		var e int64
		_ = ctl.QueryRowContext(ctx, "SELECT epoch FROM "+prefix+"groups WHERE grp = 'g'").Scan(&e)
		return e
	}

	sa, err := eventlog.NewSQL(openPostgresAs(t, prefix+"A"), cfg)
	require.NoError(t, err, "NewSQL A")
	var claimedBy int64 // A's epoch, set before A's first Put
	a := &killLockBeforePut{SQL: sa, putErr: make(chan error, 1),
		kill: func() {
			claimedBy = epoch()
			var killed bool
			require.NoError(t, ctl.QueryRowContext(ctx, "SELECT pg_terminate_backend(l.pid) FROM pg_locks l "+
				"JOIN pg_stat_activity s ON s.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND s.application_name = $1",
				prefix+"A").Scan(&killed), "terminate A's lock session")
			require.True(t, killed, "A's lock session terminated")
		},
		claimed: func() bool { return epoch() > claimedBy }}
	sb, err := eventlog.NewSQL(openPostgresAs(t, prefix+"B"), cfg)
	require.NoError(t, err, "NewSQL B")

	var mu sync.Mutex
	handledBy := map[string]int{}
	newConsumer := func(name string, b eventlog.Backend) *eventlog.Consumer {
		c, err := eventlog.NewConsumer(b, eventlog.ConsumerConfig{Group: "g", PollInterval: 10 * time.Millisecond,
			Handler: func(context.Context, canonical.Event) error {
				mu.Lock()
				handledBy[name]++
				mu.Unlock()
				return retry.Permanent(errors.New("refused by " + name))
			}})
		require.NoError(t, err, "NewConsumer %s", name)
		return c
	}
	errA := make(chan error, 1)
	go func() { errA <- newConsumer("A", a).Run(ctx) }()
	require.Eventually(t, func() bool { return epoch() > 0 }, 20*time.Second, 5*time.Millisecond, "A claims the group")
	bctx, stopB := context.WithCancel(ctx)
	defer stopB()
	errB := make(chan error, 1)
	go func() { errB <- newConsumer("B", sb).Run(bctx) }()

	select {
	case err := <-a.putErr:
		assert.ErrorIs(t, err, eventlog.ErrFenced, "A's Put after B claimed the group")
	case <-time.After(60 * time.Second):
		t.Fatal("A never stored its dead letter")
	}
	select {
	case err := <-errA:
		assert.True(t, errors.Is(err, eventlog.ErrLockLost) || errors.Is(err, eventlog.ErrFenced),
			"A's Run stops with ErrLockLost or ErrFenced: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("A's Run did not stop")
	}
	require.Eventually(t, func() bool {
		dls, err := admin.List(ctx, eventlog.Filter{Consumer: "g"})
		return err == nil && len(dls) == 1
	}, 30*time.Second, 10*time.Millisecond, "B dead-letters the event")
	stopB()
	require.ErrorIs(t, <-errB, context.Canceled, "B's Run")
	dls, err := admin.List(ctx, eventlog.Filter{Consumer: "g"})
	require.NoError(t, err, "List")
	require.Len(t, dls, 1, "one dead letter")
	assert.Equal(t, "refused by B", dls[0].Error, "the dead letter is B's")
	assert.Len(t, dls[0].Audit, 1, "dead-lettered once: A's fenced Put wrote nothing")
	mu.Lock()
	assert.Equal(t, map[string]int{"A": 1, "B": 1}, handledBy, "handled by A, then again by B after the takeover")
	mu.Unlock()
}
