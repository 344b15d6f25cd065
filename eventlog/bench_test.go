package eventlog_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/idempotency"
)

// benchEvents returns n events over 64 keys.
func benchEvents(n int) []canonical.Event {
	evs := make([]canonical.Event, n)
	for i := range evs {
		evs[i] = eventlogtest.Event("order-"+strconv.Itoa(i%64), i/64+1)
	}
	return evs
}

// benchDispatch measures append → handle → ack through a consumer with
// the error policy and, when withDedupe, consumer dedupe in an
// idempotency.MemoryStore, batch events per Append. It reports
// ns/event and events/s, and CPU per event three ways: cpu-ns/event, the
// whole process (producer included); producer-cpu-ns/event, the
// benchmark's own goroutine, which builds the events and appends them
// (event IDs, Append's validation and copy, the GC assists of its
// allocations), measured as the CPU time of the OS thread it is locked
// to; and dispatch-cpu-ns/event, the difference: reading, dedupe,
// handling, acknowledging, and the background GC of the whole process.
func benchDispatch(b *testing.B, backend eventlog.Backend, batch int, withDedupe bool) {
	var dedupe idempotency.Store
	if withDedupe {
		s, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1, MaxKeys: -1, MaxBytes: -1})
		require.NoError(b, err, "NewMemoryStore")
		defer s.Close()
		dedupe = s
	}
	var handled atomic.Int64
	done := make(chan struct{}, 1)
	var target atomic.Int64
	target.Store(-1)
	c, err := eventlog.NewConsumer(backend, eventlog.ConsumerConfig{Group: "bench", Dedupe: dedupe,
		Workers: 4, PollInterval: time.Millisecond,
		Handler: func(context.Context, canonical.Event) error {
			if handled.Add(1) == target.Load() {
				done <- struct{}{}
			}
			return nil
		}})
	require.NoError(b, err, "NewConsumer")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	defer func() { cancel(); <-errc }()

	pool := benchEvents(1 << 16)
	// The producer's CPU is told apart from the consumer's by locking it
	// to its OS thread: no other goroutine runs there.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prod0, split := threadCPUTime()
	cpu0 := cpuTime()
	seq := 0
	appended := int64(0)
	start := time.Now()
	for b.Loop() {
		evs := make([]canonical.Event, batch)
		for i := range evs {
			ev := pool[seq%len(pool)]
			ev.ID += "-" + strconv.Itoa(seq) // unique, so dedupe never suppresses
			evs[i] = ev
			seq++
		}
		if err := backend.Append(ctx, evs...); err != nil {
			b.Fatalf("Append: %v", err)
		}
		appended += int64(batch)
	}
	prod1, _ := threadCPUTime()
	prod := prod1 - prod0
	target.Store(appended)
	if handled.Load() < appended {
		select {
		case <-done:
		case <-time.After(time.Minute):
			b.Fatalf("handled %d of %d events", handled.Load(), appended)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(appended), "ns/event")
	// CPU time of the whole process (producer, consumer, dedupe store,
	// database driver; not a database server) per event: on a shared
	// machine it says more than the wall time.
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(appended), "cpu-ns/event")
	if split {
		b.ReportMetric(float64(prod.Nanoseconds())/float64(appended), "producer-cpu-ns/event")
		b.ReportMetric(float64((cpu-prod).Nanoseconds())/float64(appended), "dispatch-cpu-ns/event")
	}
	b.ReportMetric(float64(appended)/elapsed.Seconds(), "events/s")
}

func BenchmarkDispatch(b *testing.B) {
	b.Run("memory/batch=1", func(b *testing.B) {
		b.ReportAllocs()
		benchDispatch(b, eventlog.NewMemory(eventlog.MemoryConfig{}), 1, true)
	})
	b.Run("memory/batch=100", func(b *testing.B) {
		b.ReportAllocs()
		benchDispatch(b, eventlog.NewMemory(eventlog.MemoryConfig{}), 100, true)
	})
	// A log that drops what the group committed (TrimGroups), as a long
	// run keeps its memory bounded: the other memory cases keep every
	// event, and much of their cost is the kernel handing the process
	// fresh pages for them.
	b.Run("memory/trimmed/batch=100", func(b *testing.B) {
		b.ReportAllocs()
		benchDispatch(b, eventlog.NewMemory(eventlog.MemoryConfig{TrimGroups: []string{"bench"}}), 100, true)
	})
	// Without consumer dedupe: the consumer's own cost.
	b.Run("memory/nodedupe/batch=100", func(b *testing.B) {
		b.ReportAllocs()
		benchDispatch(b, eventlog.NewMemory(eventlog.MemoryConfig{}), 100, false)
	})
	b.Run("sqlite/batch=100", func(b *testing.B) {
		b.ReportAllocs()
		db := openSQLite(b, filepath.Join(b.TempDir(), "events.db"))
		benchDispatch(b, newSQL(b, db, eventlog.SQLite, ""), 100, true)
	})
	b.Run("postgres/batch=100", func(b *testing.B) {
		b.ReportAllocs()
		db := openPostgres(b, postgresURL(b))
		s := newSQL(b, db, eventlog.Postgres, uniquePrefix())
		b.Cleanup(func() { _ = s.Drop(context.Background()) })
		benchDispatch(b, s, 100, true)
	})
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAppendParallel measures concurrent appenders of batches of 10
// events: ns/op is per batch.
func BenchmarkAppendParallel(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) eventlog.Backend
	}{
		{"memory", func(*testing.B) eventlog.Backend { return eventlog.NewMemory(eventlog.MemoryConfig{}) }},
		{"sqlite", func(b *testing.B) eventlog.Backend {
			return newSQL(b, openSQLite(b, filepath.Join(b.TempDir(), "events.db")), eventlog.SQLite, "")
		}},
	}
	for _, bk := range backends {
		b.Run(bk.name, func(b *testing.B) {
			log := bk.open(b)
			pool := benchEvents(1 << 12)
			var seq atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				evs := make([]canonical.Event, 10)
				for pb.Next() {
					n := int(seq.Add(10))
					for i := range evs {
						evs[i] = pool[(n+i)%len(pool)]
					}
					if err := log.Append(context.Background(), evs...); err != nil {
						b.Errorf("Append: %v", err)
						return
					}
				}
			})
		})
	}
}
