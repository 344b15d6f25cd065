package eventlog_test

import (
	"context"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
)

// benchGroupDispatch measures append → handle → ack of batches of 100
// events through one member of a partitioned group of parts partitions
// (it owns them all), or through a plain Consumer when parts is 0,
// without dedupe: the cost of reading the log per partition. It reports
// ns/event, cpu-ns/event (the whole process: producer, consumers,
// driver; not the database server) and events/s.
func benchGroupDispatch(b *testing.B, s *eventlog.SQL, parts int) {
	const batch = 100
	var handled, target atomic.Int64
	target.Store(-1)
	done := make(chan struct{}, 1)
	cfg := eventlog.ConsumerConfig{Group: "bench", Workers: 4, PollInterval: 10 * time.Millisecond,
		Handler: func(context.Context, canonical.Event) error {
			if handled.Add(1) == target.Load() {
				done <- struct{}{}
			}
			return nil
		}}
	var run func(context.Context) error
	if parts == 0 {
		c, err := eventlog.NewConsumer(s, cfg)
		require.NoError(b, err, "NewConsumer")
		run = c.Run
	} else {
		g, err := s.NewGroup(eventlog.GroupConfig{Consumer: cfg, Partitions: parts})
		require.NoError(b, err, "NewGroup")
		run = g.Run
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx) }()
	defer func() { cancel(); <-errc }()

	pool := benchEvents(1 << 16)
	cpu0 := cpuTime()
	seq := 0
	appended := int64(0)
	start := time.Now()
	for b.Loop() {
		evs := make([]canonical.Event, batch)
		for i := range evs {
			ev := pool[seq%len(pool)]
			ev.ID += "-" + strconv.Itoa(seq)
			evs[i] = ev
			seq++
		}
		if err := s.Append(ctx, evs...); err != nil {
			b.Fatalf("Append: %v", err)
		}
		appended += batch
	}
	target.Store(appended)
	if handled.Load() < appended {
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			b.Fatalf("handled %d of %d events", handled.Load(), appended)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(appended), "ns/event")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(appended), "cpu-ns/event")
	b.ReportMetric(float64(appended)/elapsed.Seconds(), "events/s")
}

// BenchmarkGroupDispatch compares a plain Consumer with one member of a
// partitioned group owning 1, 4 and 16 partitions.
func BenchmarkGroupDispatch(b *testing.B) {
	for _, parts := range []int{0, 1, 4, 16} {
		name := "consumer"
		if parts > 0 {
			name = "group/P=" + strconv.Itoa(parts)
		}
		b.Run("sqlite/"+name, func(b *testing.B) {
			db := openSQLite(b, filepath.Join(b.TempDir(), "events.db"))
			db.SetMaxOpenConns(1)
			benchGroupDispatch(b, newSQL(b, db, eventlog.SQLite, ""), parts)
		})
		b.Run("postgres/"+name, func(b *testing.B) {
			db := openPostgres(b, postgresURL(b))
			db.SetMaxIdleConns(32)
			s := newSQL(b, db, eventlog.Postgres, uniquePrefix())
			b.Cleanup(func() { _ = s.Drop(context.Background()) })
			benchGroupDispatch(b, s, parts)
		})
	}
}
