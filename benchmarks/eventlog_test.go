package benchmarks_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/idempotency"
)

// The workload: a stream of events over 64 keys (orders), each with a
// distinct dedupe key, handled once each by a handler that succeeds, through
// the full delivery stack: consumer dedupe (claim before, complete after),
// the error policy (retries with backoff) and correlation. An iteration
// appends (publishes) a batch of events; the benchmark ends when the last
// one was handled, and reports wall and CPU time per event.
//
//   - distsync: eventlog.Memory + eventlog.Consumer with an
//     idempotency.MemoryStore as Dedupe, the default ErrorPolicy, the
//     correlation ID put into the handler's context; Workers=1 (one event at
//     a time, as Watermill's GoChannel subscriber) and Workers=4 (keys in
//     parallel, order kept per key).
//   - watermill: Router on GoChannel with the Deduplicator (keyed by the
//     message UUID, the event's id), Retry (3 retries, 1 ms) and
//     CorrelationID middlewares. Its messages carry the event's JSON
//     pre-encoded outside the timed loop; its handler does not decode it.

const wlKeys = 64

// wlEvent returns the i-th event of the workload.
func wlEvent(i int) canonical.Event {
	ev := eventlogtest.Event("order-"+strconv.Itoa(i%wlKeys), i/wlKeys+1)
	ev.ID += "-" + strconv.Itoa(i)
	return ev
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitHandled waits until handled reaches n.
func waitHandled(b *testing.B, handled *atomic.Int64, signal <-chan struct{}, n int64) {
	deadline := time.After(2 * time.Minute)
	for handled.Load() < n {
		select {
		case <-signal:
		case <-deadline:
			b.Fatalf("handled %d of %d", handled.Load(), n)
		}
	}
}

// producerClock measures the CPU time of the benchmark's goroutine, the
// producer, locked to its OS thread from start to stop, when split is set;
// otherwise it measures nothing and leaves the goroutine to the scheduler.
type producerClock struct {
	split   bool
	t0, cpu time.Duration
	ok      bool
}

func (p *producerClock) start() {
	if !p.split {
		return
	}
	runtime.LockOSThread()
	p.t0, p.ok = threadCPUTime()
}

func (p *producerClock) stop() {
	if !p.split {
		return
	}
	t1, _ := threadCPUTime()
	p.cpu = t1 - p.t0
	runtime.UnlockOSThread()
}

// report reports wall and CPU time per event: cpu-ns/event is the whole
// process; producer-cpu-ns/event the producer's goroutine (building and
// publishing the events, with its GC assists); dispatch-cpu-ns/event the
// difference (delivery, dedupe, handling, and the background GC).
func report(b *testing.B, start time.Time, cpu0 time.Duration, prod producerClock, n int64) {
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/event")
	if prod.ok {
		b.ReportMetric(float64(prod.cpu.Nanoseconds())/float64(n), "producer-cpu-ns/event")
		b.ReportMetric(float64((cpu-prod.cpu).Nanoseconds())/float64(n), "dispatch-cpu-ns/event")
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
}

func benchDistsync(b *testing.B, workers, batch int, split bool) {
	b.ReportAllocs()
	log := eventlog.NewMemory(eventlog.MemoryConfig{})
	dedupe, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{ReapInterval: -1, MaxKeys: -1, MaxBytes: -1})
	require.NoError(b, err, "NewMemoryStore")
	defer dedupe.Close()
	var handled atomic.Int64
	signal := make(chan struct{}, 1)
	c, err := eventlog.NewConsumer(log, eventlog.ConsumerConfig{Group: "bench", Dedupe: dedupe, Workers: workers,
		Handler: func(ctx context.Context, ev canonical.Event) error {
			handled.Add(1)
			select {
			case signal <- struct{}{}:
			default:
			}
			return nil
		}})
	require.NoError(b, err, "NewConsumer")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	defer func() { cancel(); <-errc }()

	var n int64
	prod := producerClock{split: split}
	prod.start()
	cpu0, start := cpuTime(), time.Now()
	for b.Loop() {
		evs := make([]canonical.Event, batch)
		for i := range evs {
			evs[i] = wlEvent(int(n) + i)
		}
		if err := log.Append(ctx, evs...); err != nil {
			b.Fatal(err)
		}
		n += int64(batch)
	}
	prod.stop()
	waitHandled(b, &handled, signal, n)
	report(b, start, cpu0, prod, n)
}

func benchWatermill(b *testing.B, batch int, split bool) {
	b.ReportAllocs()
	wlog := watermill.NopLogger{}
	pubSub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 4096}, wlog)
	router, err := message.NewRouter(message.RouterConfig{}, wlog)
	require.NoError(b, err, "NewRouter")
	repo, err := middleware.NewMapExpiringKeyRepository(time.Hour)
	require.NoError(b, err, "NewMapExpiringKeyRepository")
	dedup := &middleware.Deduplicator{
		KeyFactory: func(m *message.Message) (string, error) { return m.UUID, nil },
		Repository: repo,
	}
	router.AddMiddleware(
		middleware.CorrelationID,
		middleware.Retry{MaxRetries: 3, InitialInterval: time.Millisecond, Logger: wlog}.Middleware,
		dedup.Middleware,
	)
	var handled atomic.Int64
	signal := make(chan struct{}, 1)
	router.AddNoPublisherHandler("bench", "events", pubSub, func(msg *message.Message) error {
		handled.Add(1)
		select {
		case signal <- struct{}{}:
		default:
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- router.Run(ctx) }()
	<-router.Running()
	defer func() { cancel(); <-errc; _ = pubSub.Close() }()

	// Payloads are encoded outside the timed loop.
	payloads := make([][]byte, 1<<14)
	for i := range payloads {
		p, err := wlEvent(i).MarshalJSON()
		require.NoError(b, err, "MarshalJSON")
		payloads[i] = p
	}
	var n int64
	prod := producerClock{split: split}
	prod.start()
	cpu0, start := cpuTime(), time.Now()
	for b.Loop() {
		msgs := make([]*message.Message, batch)
		for i := range msgs {
			k := int(n) + i
			ev := wlEvent(k)
			m := message.NewMessage(ev.ID, payloads[k%len(payloads)])
			middleware.SetCorrelationID(ev.CorrelationID, m)
			msgs[i] = m
		}
		if err := pubSub.Publish("events", msgs...); err != nil {
			b.Fatal(err)
		}
		n += int64(batch)
	}
	prod.stop()
	waitHandled(b, &handled, signal, n)
	report(b, start, cpu0, prod, n)
}

// BenchmarkEventDispatch runs the workload on both implementations, for
// batches of 1 and 100 events, in two ways: producer=locked locks the
// producer to its OS thread, so that its CPU is told apart from the
// dispatch's (producer-cpu-ns/event, dispatch-cpu-ns/event); producer=free
// leaves it to the scheduler and reports the process's CPU only. The lock
// costs an implementation whose publish blocks until a subscriber takes
// the message, as Watermill's GoChannel does, extra hand-offs between OS
// threads: compare the implementations' cpu-ns/event under producer=free.
func BenchmarkEventDispatch(b *testing.B) {
	for _, batch := range []int{1, 100} {
		for _, split := range []bool{true, false} {
			bs := "batch=" + strconv.Itoa(batch) + map[bool]string{true: "/producer=locked", false: "/producer=free"}[split]
			b.Run("impl=distsync/workers=1/"+bs, func(b *testing.B) { benchDistsync(b, 1, batch, split) })
			b.Run("impl=distsync/workers=4/"+bs, func(b *testing.B) { benchDistsync(b, 4, batch, split) })
			b.Run("impl=watermill/"+bs, func(b *testing.B) { benchWatermill(b, batch, split) })
		}
	}
}
