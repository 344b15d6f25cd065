package flow_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/crm"
	"github.com/distsync/distsync/erp"
	"github.com/distsync/distsync/eventlog"
	"github.com/distsync/distsync/flow"
	"github.com/distsync/distsync/wms"
)

// BenchmarkInventorySync measures WMS adjustments through the flow to the
// ERP and the CRM on the in-memory systems with the memory log, without
// decorators or faults, in batches of 18 adjustments. With one event per
// key every event is pushed; with a burst on one key the batch is
// coalesced into one push. It reports events/s (wall time), CPU
// nanoseconds, bytes and allocations per event, and pushes to the ERP per
// event. Two shapes:
//
//   - "18 keys", "burst on 1 key": each iteration adjusts a batch and calls
//     Drain, which starts the consumer, polls, waits until it is idle and
//     stops it, once per 18 events. This is how tests drive the flow.
//   - "run, ...": the flow runs as a service does, with Run, and the
//     benchmark adjusts while it runs, never more than two batches ahead of
//     the events the flow has handled (so a key has at most two events
//     waiting, and the backlog, which the flow would coalesce, stays
//     bounded). This is how inventory sync runs in production.
//
// Every shape polls every 100 µs (Config.PollInterval) but "run, 18 keys,
// default interval", which polls every DefaultPollInterval, as a service
// does unless told otherwise: there the WMS feed's push
// (connector.Subscriber) is what keeps the events flowing.
func BenchmarkInventorySync(b *testing.B) {
	const fast = 100 * time.Microsecond
	for _, bc := range []struct {
		name  string
		keys  int // the batch is 18 events over that many keys
		run   bool
		every time.Duration
	}{{"18 keys", 18, false, fast}, {"burst on 1 key", 1, false, fast}, {"run, 18 keys", 18, true, fast},
		{"run, burst on 1 key", 1, true, fast}, {"run, 18 keys, default interval", 18, true, 0}} {
		b.Run(bc.name, func(b *testing.B) { benchInventorySync(b, bc.keys, bc.run, bc.every) })
	}
}

// handledCounter counts the events the flow is done with (handled,
// recognised as duplicates or dead-lettered, so that a dead letter fails
// the benchmark rather than hanging it), and signals each count on tick
// without blocking.
type handledCounter struct {
	n, dead atomic.Int64
	tick    chan struct{}
}

func (c *handledCounter) Count(_ context.Context, k flow.Counter, _ string) {
	switch k {
	case flow.CounterHandled, flow.CounterDuplicate:
	case flow.CounterDeadLettered:
		c.dead.Add(1)
	default:
		return
	}
	c.n.Add(1)
	select {
	case c.tick <- struct{}{}:
	default:
	}
}

func (c *handledCounter) SyncLag(context.Context, string, time.Duration) {}

// waitHandled waits until at least n events are handled.
func (c *handledCounter) waitHandled(n int64) {
	for c.n.Load() < n {
		<-c.tick
	}
}

func benchInventorySync(b *testing.B, keys int, run bool, every time.Duration) {
	const batch = 18
	skus := []string{"SKU-100", "SKU-101", "SKU-102", "SKU-103", "SKU-104", "SKU-105"}
	whs := []string{"WH-EAST", "WH-SOUTH", "WH-WEST"}
	ctx := context.Background()
	e, err := erp.New(erp.Config{})
	require.NoError(b, err, "erp.New")
	w, err := wms.New(wms.Config{Clock: time.Now})
	require.NoError(b, err, "wms.New")
	c, err := crm.New(crm.Config{})
	require.NoError(b, err, "crm.New")
	handled := &handledCounter{tick: make(chan struct{}, 1)}
	f, err := flow.New(flow.Config{ERP: e, WMS: w, CRM: c, Log: eventlog.NewMemory(eventlog.MemoryConfig{}),
		PollInterval: every, Metrics: handled})
	require.NoError(b, err, "flow.New")
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	if run {
		go func() { done <- f.Run(rctx) }()
	}
	b.ReportAllocs()
	n := 0
	pushed := e.Counts().InventoryApplications
	m := startMeter()
	for b.Loop() {
		if run {
			handled.waitHandled(int64(n - batch)) // at most two batches ahead
		}
		for i := range batch {
			k := i % keys
			n++
			_, err := w.Adjust(ctx, canonical.InventoryAdjustment{ID: fmt.Sprint("B", n), Item: canonical.ItemRef{SKU: skus[k/3]},
				Location: whs[k%3], Status: canonical.InventoryAvailable, Delta: canonical.MustParseQuantity("1", "EA"),
				Reason: canonical.AdjustFound, AdjustedAt: time.Now()})
			require.NoError(b, err, "Adjust")
		}
		if !run {
			require.NoError(b, f.Drain(ctx), "Drain")
		}
	}
	if run {
		handled.waitHandled(int64(n))
	}
	m.report(b, n, "event")
	b.ReportMetric(float64(e.Counts().InventoryApplications-pushed)/float64(n), "pushes/event")
	if run {
		stop()
		require.True(b, errors.Is(<-done, context.Canceled), "Run ends with the cancellation")
	}
	require.Zero(b, handled.dead.Load(), "events dead-lettered")
	seq, ok := f.InventorySeq("SKU-100", "WH-EAST")
	require.True(b, ok, "SKU-100@WH-EAST pushed")
	require.Equal(b, int64(n/keys), seq, "the last event of SKU-100@WH-EAST is pushed")
}
