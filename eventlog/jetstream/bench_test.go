package jetstream_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/eventlog/eventlogtest"
	"github.com/distsync/distsync/eventlog/jetstream"
	"github.com/distsync/distsync/internal/natstest"
)

// cpuTime returns the user and system CPU time of the process so far: the
// embedded server's, the producer's and the consumer's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// produce appends b.N events (unique IDs over 64 keys) in batches of 100
// through the backend's Append, the same in both arms, and waits until
// handled reaches the count; it reports ns/event, cpu-ns/event and
// events/s over the whole run.
func produce(b *testing.B, be *jetstream.Backend, handled *atomic.Int64) {
	const batch = 100
	cpu0 := cpuTime()
	start := time.Now()
	seq := 0
	for b.Loop() {
		evs := make([]canonical.Event, batch)
		for i := range evs {
			evs[i] = eventlogtest.Event("order-"+strconv.Itoa(seq%64), seq)
			seq++
		}
		if err := be.Append(context.Background(), evs...); err != nil {
			b.Fatalf("Append: %v", err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for handled.Load() < int64(seq) {
		if time.Now().After(deadline) {
			b.Fatalf("handled %d of %d events", handled.Load(), seq)
		}
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(seq), "ns/event")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(seq), "cpu-ns/event")
	b.ReportMetric(float64(seq)/elapsed.Seconds(), "events/s")
}

// BenchmarkDispatch measures append → handle → acknowledge on one embedded
// server (file storage, R1): through an eventlog.Consumer over the
// Backend (1 and 4 workers, cursor committed to the KV bucket), and
// through a bare nats.go pull consumer (durable, explicit acks) acking
// each message, the broker's own floor; and through a partitioned Group
// (4 partitions, 4 workers per partition) of 1 and 2 members in this
// process, each on its own connection. Producer and server run in the
// process, so cpu-ns/event counts them in every arm. The consumers run
// with the default PollInterval: appends wake them, the members on other
// connections too (the append notices).
func BenchmarkDispatch(b *testing.B) {
	for _, workers := range []int{1, 4} {
		b.Run("eventlog/workers="+strconv.Itoa(workers), func(b *testing.B) {
			srv := natstest.Start(b)
			be, err := jetstream.Open(context.Background(), jetstream.Config{URL: srv.URL()})
			require.NoError(b, err, "Open")
			defer be.Close()
			var handled atomic.Int64
			c, err := eventlog.NewConsumer(be, eventlog.ConsumerConfig{Group: "bench", Workers: workers,
				Handler: func(context.Context, canonical.Event) error { handled.Add(1); return nil }})
			require.NoError(b, err, "NewConsumer")
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- c.Run(ctx) }()
			defer func() { cancel(); <-errc }()
			b.ReportAllocs()
			produce(b, be, &handled)
		})
	}
	for _, members := range []int{1, 2} {
		b.Run("group/members="+strconv.Itoa(members), func(b *testing.B) {
			srv := natstest.Start(b)
			cfg := jetstream.Config{URL: srv.URL(), Partitions: 4}
			be, err := jetstream.Open(context.Background(), cfg)
			require.NoError(b, err, "Open")
			defer be.Close()
			var handled atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			var groups []*jetstream.Group
			errc := make(chan error, members)
			for i := range members {
				mb, err := jetstream.Open(context.Background(), cfg)
				require.NoError(b, err, "Open")
				defer mb.Close()
				g, err := mb.NewGroup(jetstream.GroupConfig{Member: "m" + strconv.Itoa(i), LeaseTTL: 2 * time.Second,
					Consumer: eventlog.ConsumerConfig{Group: "bench", Workers: 4,
						Handler: func(context.Context, canonical.Event) error { handled.Add(1); return nil }}})
				require.NoError(b, err, "NewGroup")
				groups = append(groups, g)
				go func() { errc <- g.Run(ctx) }()
			}
			defer func() {
				cancel()
				for range members {
					<-errc
				}
			}()
			for deadline := time.Now().Add(10 * time.Second); ; {
				owned := 0
				for _, g := range groups {
					owned += len(g.Owned())
				}
				if owned == cfg.Partitions {
					break
				}
				require.True(b, time.Now().Before(deadline), "partitions owned within 10s")
				time.Sleep(10 * time.Millisecond)
			}
			b.ReportAllocs()
			produce(b, be, &handled)
		})
	}
	b.Run("bare-pull-consumer", func(b *testing.B) {
		srv := natstest.Start(b)
		be, err := jetstream.Open(context.Background(), jetstream.Config{URL: srv.URL()})
		require.NoError(b, err, "Open")
		defer be.Close()
		nc, err := nats.Connect(srv.URL())
		require.NoError(b, err, "connect")
		defer nc.Close()
		js, err := natsjs.New(nc)
		require.NoError(b, err, "jetstream")
		cons, err := js.CreateOrUpdateConsumer(context.Background(), jetstream.DefaultStream, natsjs.ConsumerConfig{
			Durable: "bare", AckPolicy: natsjs.AckExplicitPolicy})
		require.NoError(b, err, "create consumer")
		var handled atomic.Int64
		cc, err := cons.Consume(func(m natsjs.Msg) {
			var ev canonical.Event
			if err := ev.UnmarshalJSON(m.Data()); err != nil {
				b.Errorf("decode: %v", err)
			}
			if err := m.Ack(); err != nil {
				b.Errorf("ack: %v", err)
			}
			handled.Add(1)
		})
		require.NoError(b, err, "consume")
		defer cc.Stop()
		b.ReportAllocs()
		produce(b, be, &handled)
	})
}

// BenchmarkAppend measures Append alone (embedded server, file storage,
// R1): one event per Append, and batches of 100 (one atomic batch). ns/op
// is per Append.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			srv := natstest.Start(b)
			be, err := jetstream.Open(context.Background(), jetstream.Config{URL: srv.URL()})
			require.NoError(b, err, "Open")
			defer be.Close()
			seq := 0
			b.ReportAllocs()
			for b.Loop() {
				evs := make([]canonical.Event, batch)
				for i := range evs {
					evs[i] = eventlogtest.Event("order-"+strconv.Itoa(seq%64), seq)
					seq++
				}
				if err := be.Append(context.Background(), evs...); err != nil {
					b.Fatalf("Append: %v", err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(seq), "ns/event")
		})
	}
}
