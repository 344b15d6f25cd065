package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/idempotency"
	"github.com/distsync/distsync/sqlite"
)

// store is where the flow keeps its state: in memory (path "") or in a
// SQLite file.
type store struct {
	path string
}

// parseStore parses the -store flag: "memory" or "sqlite:PATH".
func parseStore(s string) (store, error) {
	switch {
	case s == "" || s == "memory":
		return store{}, nil
	case strings.HasPrefix(s, "sqlite:") && len(s) > len("sqlite:"):
		return store{path: strings.TrimPrefix(s, "sqlite:")}, nil
	}
	return store{}, fmt.Errorf("-store %q: want memory or sqlite:PATH", s)
}

// durable is the flow's state in a SQLite file: the event log with the
// consumer's cursors and dead letters, the dedupe keys, the order states
// and the feed cursors. It is what a restarted process reopens.
type durable struct {
	db    *sql.DB
	log   *eventlog.SQL
	dedup *idempotency.SQLStore
	state *flow.SQLState
}

// openDurable opens (and migrates) the SQLite file at path.
func openDurable(ctx context.Context, path string) (*durable, error) {
	// WAL, a busy timeout and one connection: the flow's workers queue
	// for it in the pool rather than in SQLite's busy handler.
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	d := &durable{db: db}
	if d.log, err = eventlog.NewSQL(db, eventlog.SQLConfig{Dialect: eventlog.SQLite}); err == nil {
		err = d.log.Migrate(ctx)
	}
	if err == nil {
		if d.dedup, err = idempotency.NewSQLStore(db, idempotency.SQLConfig{Dialect: idempotency.SQLite}); err == nil {
			err = d.dedup.Migrate(ctx)
		}
	}
	if err == nil {
		if d.state, err = flow.NewSQLState(db, flow.SQLStateConfig{Dialect: idempotency.SQLite}); err == nil {
			err = d.state.Migrate(ctx)
		}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), d.close())
	}
	return d, nil
}

// close releases everything over the database and closes it.
func (d *durable) close() error {
	var errs []error
	if d.dedup != nil {
		errs = append(errs, d.dedup.Close())
	}
	if d.state != nil {
		errs = append(errs, d.state.Close())
	}
	return errors.Join(append(errs, d.db.Close())...)
}

// checkNew refuses a file that exists: the simulated systems start empty
// on every run, so the flow's state must too.
func (s store) checkNew() error {
	if s.path == "" {
		return nil
	}
	if _, err := os.Stat(s.path); err == nil {
		return fmt.Errorf("-store sqlite:%s: the file exists; the simulated systems start empty on every run, "+
			"so the flow's state must too: remove it or choose another path", s.path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("-store sqlite:%s: %w", s.path, err)
	}
	return nil
}

// stopper stops a run of the flow after a random number of handled
// events, as a process killed at a random point would stop; it is the
// flow's Metrics, and counts what the flow reports for the run's summary.
// It is safe for concurrent use.
type stopper struct {
	mu      sync.Mutex
	rng     *rand.Rand
	cancel  context.CancelFunc // nil when disarmed
	after   int
	handled int
	counts  map[flow.Counter]map[string]int // per counter and entity
}

// count returns how many times the flow reported c, in all and per
// entity ("order", "shipment", "inventory_update", ...).
func (s *stopper) count(c flow.Counter) (int, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.counts[c] {
		n += v
	}
	return n, maps.Clone(s.counts[c])
}

// arm makes the run whose context cancel cancels stop after 1 to max
// handled events.
func (s *stopper) arm(cancel context.CancelFunc, max int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel, s.after, s.handled = cancel, 1+s.rng.IntN(max), 0
}

// disarm ends the run and returns how many events it handled.
func (s *stopper) disarm() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel = nil
	return s.handled
}

// Count implements flow.Metrics.
func (s *stopper) Count(_ context.Context, c flow.Counter, entity string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[flow.Counter]map[string]int{}
	}
	if s.counts[c] == nil {
		s.counts[c] = map[string]int{}
	}
	s.counts[c][entity]++
	s.handled++
	if s.cancel != nil && s.handled >= s.after {
		s.cancel()
		s.cancel = nil
	}
}

// SyncLag implements flow.Metrics.
func (s *stopper) SyncLag(context.Context, string, time.Duration) {}
